"""Territories (SAL-9): matching records to the tree, re-territorying, and what members see.

A model takes part by having the fields `territory` (FK to Territory) and `territory_fixed`, and
a class attribute `TERRITORY_FIELDS` naming its attributes per criterion, e.g.
`{"province": "province", "city": "city", "industry": "industry", "level": "level"}`; a missing
criterion (a lead has no customer level) never meets a territory that asks for it. This module
imports no model above `crm.org`: it finds the taking-part models through the relation to
Territory, so customers and leads (and later modules) join without code here.

- `assign_territory(obj)`: the one matching function; models call it in `clean()`, so the write
  services, the API, forms and the import all use it. A record with `territory_fixed` keeps the
  territory chosen by hand.
- `reterritory()`: after a territory's criteria or the tree changed (a background job enqueued
  after commit), every record not fixed by hand is matched again, with bulk UPDATEs per distinct
  combination of criteria values, in batches; progress on the jobs page, one audit entry.
- `territory_visibility`: registered with the scope predicate (`crm.core.access.scope.
  register_visibility`): members see the records of their territory, managers of its subtree.
"""

from dataclasses import dataclass, field

from django.db.models import Q

from crm.core.access.scope import scope_cache
from crm.core.request_cache import RequestCache

from .models import Territory, TerritoryMember, TerritoryRole

BATCH = 2000
CRITERIA = ("province", "city", "industry", "level")
REGION_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市")


def region_key(name):
    """A province or city as compared: "上海市" = "上海", "江苏省" = "江苏" (stored both ways)."""
    name = (name or "").strip()
    for suffix in REGION_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


@dataclass
class Node:
    pk: int
    depth: int
    sort_order: int
    parent: "Node | None" = None
    regions: frozenset = field(default_factory=frozenset)
    industries: frozenset = field(default_factory=frozenset)
    levels: frozenset = field(default_factory=frozenset)

    def own_match(self, values):
        if self.regions and region_key(values.get("province")) not in self.regions \
                and region_key(values.get("city")) not in self.regions:
            return False
        if self.industries and values.get("industry") not in self.industries:
            return False
        if self.levels and values.get("level") not in self.levels:
            return False
        return True

    def matches(self, values):
        node = self
        while node is not None:
            if not node.own_match(values):
                return False
            node = node.parent
        return True


class Matcher:
    """The active territories (under active ancestors only), deepest first."""

    def __init__(self, rows):
        nodes = {}
        for t in sorted(rows, key=lambda t: t.depth):
            parent = nodes.get(t.parent_id)
            if t.parent_id and parent is None:
                continue  # under an inactive territory: the whole branch is off
            nodes[t.pk] = Node(t.pk, t.depth, t.sort_order, parent,
                               frozenset(region_key(r) for r in Territory.split(t.regions)),
                               frozenset(Territory.split(t.industries)), frozenset(Territory.split(t.levels)))
        self.nodes = sorted(nodes.values(), key=lambda n: (-n.depth, n.sort_order, n.pk))

    def match(self, values):
        """The id of the deepest matching territory (ties: lower order, then older), or None."""
        for node in self.nodes:
            if node.matches(values):
                return node.pk
        return None


def _load():
    return Matcher(list(Territory.objects.filter(is_active=True).only(
        "id", "parent_id", "depth", "sort_order", "regions", "industries", "levels")))


_matcher = RequestCache("territories", _load)


def matcher():
    return _matcher.get()


def values_of(obj):
    return {crit: getattr(obj, attr, None) or None for crit, attr in obj.TERRITORY_FIELDS.items()}


def assign_territory(obj):
    """Set `obj.territory` from the matching rules, unless it was fixed by hand."""
    if not obj.territory_fixed:
        obj.territory_id = matcher().match(values_of(obj))
    return obj.territory_id


def keep_hand_choice(obj, user):
    """Who may not see territories cannot choose one: their form's picker is empty, so an edit
    by them keeps a territory fixed by hand (and their new records follow the matching)."""
    from crm.core.access.scope import can

    if user is None or not user.is_authenticated or can(user, "territories", "view"):
        return
    stored = type(obj)._base_manager.filter(pk=obj.pk).values("territory_id", "territory_fixed").first() \
        if obj.pk else None
    if stored and stored["territory_fixed"]:
        obj.territory_id, obj.territory_fixed = stored["territory_id"], True
    else:
        obj.territory_fixed = False
        assign_territory(obj)


def territory_models():
    """Models with a `territory` FK to Territory and TERRITORY_FIELDS (customers, leads …)."""
    from django.apps import apps

    found = []
    for model in apps.get_models():
        if not hasattr(model, "TERRITORY_FIELDS"):
            continue
        try:
            fk = model._meta.get_field("territory")
        except Exception:
            continue
        if getattr(fk, "related_model", None) is Territory:
            found.append(model)
    return sorted(found, key=lambda m: m._meta.label)


# --- Re-territorying ----------------------------------------------------------------------------

def criteria_changed(user, territory, changes):
    """A territory was created or its criteria/position changed: forget the cached tree and
    re-territory the records after commit (a background job)."""
    from crm.core.jobs import enqueue_after_commit

    from .tasks import reterritory_job

    _matcher.clear()
    enqueue_after_commit(reterritory_job, territory.pk, user.pk if user is not None and user.is_authenticated
                         else None)


def reterritory(territory_id=None, actor=None, progress=None):
    """Match every record not fixed by hand again. Per model, the distinct combinations of the
    criteria values are matched once each and moved with bulk UPDATEs of at most BATCH rows (no
    per-row saves). Returns {model label: rows moved}; writes one audit entry."""
    from crm.core.audit import log
    from crm.core.audit.models import AuditEntry

    _matcher.clear()
    m = matcher()
    plan = []
    for model in territory_models():
        attrs = list(model.TERRITORY_FIELDS.values())
        combos = list(model._base_manager.filter(territory_fixed=False).values(*attrs).distinct())
        plan.append((model, combos))
    total = sum(len(c) for _m, c in plan) or 1
    done, moved = 0, {}
    for model, combos in plan:
        count = 0
        for combo in combos:
            values = {crit: combo[attr] or None for crit, attr in model.TERRITORY_FIELDS.items()}
            target = m.match(values)
            qs = model._base_manager.filter(territory_fixed=False, **combo)
            qs = qs.filter(territory__isnull=False) if target is None else qs.exclude(territory_id=target)
            while True:
                ids = list(qs.values_list("pk", flat=True)[:BATCH])
                if not ids:
                    break
                count += model._base_manager.filter(pk__in=ids).update(territory_id=target)
            done += 1
            if progress and done % 50 == 0:
                progress(done, total)
        moved[model._meta.label] = count
    if progress:
        progress(total, total)
    territory = Territory.objects.filter(pk=territory_id).first() if territory_id else None
    log.record(actor, AuditEntry.Action.UPDATE, territory, extra={"reterritory": moved})
    return moved


# --- Visibility ---------------------------------------------------------------------------------

def user_territory_ids(user):
    """Territories whose records `user` may see: where they are a member, and the whole subtree
    where they are a manager (active territories only). Cached with the user's grants."""
    cache = scope_cache(user)
    if "territories" not in cache:
        rows = list(TerritoryMember.objects.filter(user_id=user.pk, territory__is_active=True)
                    .values_list("territory_id", "role", "territory__path"))
        ids = {tid for tid, _role, _path in rows}
        paths = [path for _tid, role, path in rows if role == TerritoryRole.MANAGER and path]
        if paths:
            q = Q()
            for path in paths:
                q |= Q(path__startswith=path)
            ids.update(Territory.objects.filter(q).values_list("pk", flat=True))
        cache["territories"] = sorted(ids)
    return cache["territories"]


def territory_visibility(user, model, action):
    """Members may view (and, with an export grant, export) the records of their territories."""
    if action not in ("view", "export") or not hasattr(model, "TERRITORY_FIELDS"):
        return None
    ids = user_territory_ids(user)
    return Q(territory_id__in=ids) if ids else None


def subtree_ids(territory):
    return list(Territory.objects.filter(path__startswith=territory.path).values_list("pk", flat=True))

