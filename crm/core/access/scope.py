"""The one scope predicate (DESIGN.md mechanism 3).

Every read that reaches a user — page, API, search, export, report, picker, portal — filters
with `scope_q` via `Model.objects.for_user()` or `get_for_user_or_404()`. Nothing else
decides what a user may see.
"""

from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404

from ..entities.registry import get_spec
from .levels import Scope

NOTHING = Q(pk__in=[])

@dataclass
class Grants:
    scopes: dict = field(default_factory=dict)  # (entity, action) -> Scope
    specials: set = field(default_factory=set)
    superuser: bool = False


def grants_of(user) -> Grants:
    """Effective grants of a user over all their active roles; the widest grant wins."""
    if user is None or not user.is_authenticated:
        return Grants()
    cached = getattr(user, "_crm_grants", None)
    if cached is not None:
        return cached
    from .models import Role, RoleGrant

    grants = Grants(superuser=user.is_superuser and user.is_active)
    if user.is_active and not grants.superuser:
        rows = RoleGrant.objects.filter(role__members=user, role__is_active=True).values_list(
            "entity", "action", "scope"
        )
        for entity, action, scope in rows:
            key = (entity, action)
            grants.scopes[key] = max(grants.scopes.get(key, Scope.NONE), scope)
        for specials in Role.objects.filter(members=user, is_active=True).values_list(
            "special_permissions", flat=True
        ):
            grants.specials.update(specials or [])
    user._crm_grants = grants
    return grants


def forget_grants(user):
    """Drop the per-request cache after the user's roles changed."""
    for attr in [a for a in vars(user) if a.startswith("_crm_")]:  # scope extensions cache as _crm_* too
        delattr(user, attr)


def scope_level(user, entity_key, action) -> int:
    grants = grants_of(user)
    if grants.superuser:
        return Scope.ALL
    return grants.scopes.get((entity_key, action), Scope.NONE)


def can(user, entity_key, action) -> bool:
    """Function permission (功能权限): may the user do `action` on any record of the entity?"""
    return scope_level(user, entity_key, action) > Scope.NONE


def has_special(user, code) -> bool:
    grants = grants_of(user)
    return grants.superuser or code in grants.specials


def subtree_ids(user) -> list[int]:
    cached = getattr(user, "_crm_subtree", None)
    if cached is None:
        Department = apps.get_model(settings.CRM_DEPARTMENT_MODEL)
        dept = Department.objects.filter(pk=user.department_id).values_list("path", flat=True).first()
        cached = list(Department.objects.filter(path__startswith=dept).values_list("pk", flat=True)) if dept else []
        user._crm_subtree = cached
    return cached


def scope_q(user, model, action="view") -> Q:
    """The predicate limiting `model` rows to those `user` may `action`."""
    spec = get_spec(model)
    level = scope_level(user, spec.key, action)
    if level == Scope.NONE:
        return NOTHING
    if level == Scope.ALL or not spec.scoped_by_records:
        return Q()
    q = NOTHING
    if spec.owner_field:
        q |= Q(**{spec.owner_field: user.pk})
    elif level == Scope.OWN:
        level = Scope.DEPARTMENT  # no owner: "own" means the user's own department
    if level >= Scope.DEPARTMENT and spec.department_field and user.department_id:
        ids = [user.department_id] if level == Scope.DEPARTMENT else subtree_ids(user)
        q |= Q(**{f"{spec.department_field}__in": ids})
    if action == "view" and spec.shared_with:
        # People the record is shared with (a task's assignees, an appointment's invitees) see it.
        q |= Q(pk__in=model._base_manager.filter(**{spec.shared_with: user.pk}).values("pk"))
    for rule in _visibility_rules:
        extra = rule(user, model, action)
        if extra is not None:
            q |= extra
    return q


# --- Extension point: further ways a record comes into a user's scope ---------------------------
# An app registers `fn(user, model, action) -> Q | None` with `register_visibility`; `scope_q`
# ORs each rule's Q into the owner/department predicate. Rules run only for users who hold a
# grant for the action that is narrower than "all" (no grant still sees nothing), must decide
# from the model alone whether they apply (return None otherwise) and should keep their per-user
# lookups in `scope_cache(user)` (or another `_crm_*` attribute), dropped with the grants.
# Territories (SAL-9) and the public pool (CUS-9) use it.
_visibility_rules = []


def register_visibility(fn):
    if fn not in _visibility_rules:
        _visibility_rules.append(fn)
    return fn


def scope_cache(user) -> dict:
    """A per-user dict for visibility rules' lookups, forgotten by `forget_grants`."""
    cache = getattr(user, "_crm_scope_cache", None)
    if cache is None:
        cache = user._crm_scope_cache = {}
    return cache


def visible(user, model, action="view"):
    """Queryset of `model` rows the user may `action` (recycle-bin rows excluded)."""
    return model.objects.filter(scope_q(user, model, action))


def get_for_user_or_404(user, model_or_qs, pk, action="view"):
    """One record the user may `action`; unknown, malformed and out-of-scope ids are all 404."""
    qs = model_or_qs if hasattr(model_or_qs, "model") and not isinstance(model_or_qs, type) else model_or_qs.objects.all()
    spec = get_spec(qs.model)
    qs = qs.filter(scope_q(user, qs.model, action))
    if spec.select_related:
        qs = qs.select_related(*spec.select_related)
    try:
        obj = qs.filter(pk=pk).first()
    except (ValueError, TypeError, ValidationError):
        obj = None
    if obj is None:
        raise Http404
    return obj
