"""Test helpers shared by every app's tests: an organisation tree and users with exact grants.

The tree used by the scope matrix:

    HQ
    ├── East
    │   └── Shanghai            (branch)
    │       └── Sales1          (the viewer's department)
    │           └── Sales1A     (child department)
    └── South
        └── Guangzhou           (other branch)
"""

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model

from ..access.levels import Scope
from ..access.models import Role, RoleGrant
from ..entities.registry import ACTIONS

TREE = [("hq", None), ("east", "hq"), ("shanghai", "east"), ("sales1", "shanghai"), ("sales1a", "sales1"),
        ("south", "hq"), ("guangzhou", "south")]


def make_tree():
    Department = apps.get_model(settings.CRM_DEPARTMENT_MODEL)
    depts = {}
    for key, parent in TREE:
        d = Department.objects.create(name=key.title(), code=key.upper(), parent=depts.get(parent))
        d.after_create(None)
        depts[key] = d
    return depts


def make_user(username, department=None, grants=None, specials=(), password="Secret-pass-123", **fields):
    """A user with one role holding exactly `grants`: {(entity, action): Scope} or
    {entity: Scope} meaning every action at that scope."""
    User = get_user_model()
    user = User(username=username, name=fields.pop("name", username.title()), department=department, **fields)
    user.set_password(password)
    user.save()
    if grants or specials:
        role = Role.objects.create(name=f"role-{username}", special_permissions=list(specials))
        rows = []
        for key, scope in (grants or {}).items():
            if isinstance(key, tuple):
                rows.append(RoleGrant(role=role, entity=key[0], action=key[1], scope=scope))
            else:
                rows += [RoleGrant(role=role, entity=key, action=a, scope=scope) for a in ACTIONS]
        RoleGrant.objects.bulk_create(rows)
        role.members.add(user)
    return user


__all__ = ["make_tree", "make_user", "Scope"]
