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

from .. import versions
from ..entities.registry import get_spec
from .levels import Scope

NOTHING = Q(pk__in=[])

@dataclass
class Grants:
    scopes: dict = field(default_factory=dict)  # (entity, action) -> Scope
    specials: set = field(default_factory=set)
    superuser: bool = False


def _snapshot(user) -> dict:
    """What the user's access depends on besides the record: grants, the department subtree and
    the visibility rules' lookups. Kept per process under the "access" configuration version
    (`crm.core.versions`, bumped by every write of roles, grants, departments, territories,
    pools) and the user's own department and flags, so a request reads them with one query for
    all tokens instead of one query each (issue #3). Held on the user object for the request."""
    cached = getattr(user, "_crm_snapshot", None)
    if cached is None:
        key = ("user", user.pk, user.department_id, user.is_active, user.is_superuser)
        cached = user._crm_snapshot = versions.cached("access", key, lambda: _load_snapshot(user))
    return cached


def _load_snapshot(user):
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
    return {"grants": grants, "rules": {}}


def grants_of(user) -> Grants:
    """Effective grants of a user over all their active roles; the widest grant wins."""
    if user is None or not user.is_authenticated:
        return Grants()
    return _snapshot(user)["grants"]


def forget_grants(user):
    """Drop what this user object holds after the user's roles changed in this request (the
    process cache reloads by itself: the change bumped the access version)."""
    for attr in [a for a in vars(user) if a.startswith("_crm_")]:
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


def department_path(user) -> str:
    """The materialised path of the user's department ("" without one), cached with the grants."""
    cache = scope_cache(user)
    if "department_path" not in cache:
        path = ""
        if user.department_id:
            Department = apps.get_model(settings.CRM_DEPARTMENT_MODEL)
            path = Department.objects.filter(pk=user.department_id).values_list("path", flat=True).first() or ""
        cache["department_path"] = path
    return cache["department_path"]


def subtree_ids(user) -> list[int]:
    cache = scope_cache(user)
    if "subtree" not in cache:
        Department = apps.get_model(settings.CRM_DEPARTMENT_MODEL)
        path = department_path(user)
        cache["subtree"] = list(Department.objects.filter(path__startswith=path).values_list("pk", flat=True)) if path else []
    return cache["subtree"]


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


def scope_q_on(user, model, action, columns) -> Q | None:
    """`scope_q(user, model, action)` restated over a summary of `model` (e.g. the funnel's
    pre-added figures) whose columns keep some of the record's fields: `columns` maps a field name
    of `model` to the summary's column. None when the predicate names anything the summary lacks
    — a share, a related record, a further visibility rule — so the caller must read the records.
    The summary thus shows exactly the rows the predicate would (its columns hold the records'
    values), and a new rule falls back instead of leaking."""
    return _restated(scope_q(user, model, action), columns)


def _restated(q, columns):
    children = []
    for child in q.children:
        if isinstance(child, Q):
            child = _restated(child, columns)
            if child is None:
                return None
        else:
            key, value = child
            field, _sep, lookup = key.partition("__")
            if key == "pk__in" and isinstance(value, (list, tuple)) and not value:
                pass  # NOTHING: means the same on any table
            elif field in columns and lookup in ("", "exact", "in", "isnull") and (
                    isinstance(value, (int, bool, type(None))) or (
                    isinstance(value, (list, tuple)) and all(isinstance(v, int) for v in value))):
                child = (f"{columns[field]}__{lookup}" if lookup else columns[field], value)
            else:
                return None
        children.append(child)
    return Q(*children, _connector=q.connector, _negated=q.negated)


# --- Extension point: further ways a record comes into a user's scope ---------------------------
# An app registers `fn(user, model, action) -> Q | None` with `register_visibility(fn, *models)`;
# `scope_q` ORs each rule's Q into the owner/department predicate. Rules run only for users who
# hold a grant for the action that is narrower than "all" (no grant still sees nothing), must
# decide from the model alone whether they apply (return None otherwise) and keep their per-user
# lookups in `scope_cache(user)`, which lives across requests: `models` are the configuration the
# lookups read (memberships, trees), whose writes must reload them (`versions.bump_on_write`).
# Territories (SAL-9) and the public pool (CUS-9) use it.
_visibility_rules = []


def register_visibility(fn, *config_models):
    if fn not in _visibility_rules:
        _visibility_rules.append(fn)
    versions.bump_on_write("access", *config_models)
    return fn


def scope_cache(user) -> dict:
    """A per-user dict for lookups that depend only on access configuration (visibility rules'
    memberships, the department subtree): kept with the grants, across requests, and reloaded
    when the access version changes. Rules must therefore derive its values from configuration
    written through models registered with `versions.bump_on_write("access", ...)` only."""
    if user is None or not user.is_authenticated:
        return {}
    return _snapshot(user)["rules"]


def visible(user, model, action="view"):
    """Queryset of `model` rows the user may `action` (recycle-bin rows excluded)."""
    return model.objects.filter(scope_q(user, model, action))


def may(user, obj, action) -> bool:
    """May `user` do `action` on this record (the function permission and the data scope)?
    Remembered on the record object, so the page and its panels ask the database once."""
    memo = obj.__dict__.setdefault("_crm_may", {})
    key = (getattr(user, "pk", None), action)
    if key not in memo:
        model = type(obj)
        memo[key] = can(user, get_spec(model).key, action) and model.objects.filter(
            scope_q(user, model, action), pk=obj.pk).exists()
    return memo[key]


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
