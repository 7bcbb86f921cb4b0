"""The public pool (公海, CUS-9): which records may be pooled, who may use which pool, and the
services that move records in and out — claim, release, assign, move, and the reclaim job.

A record is *in* a pool when its `pool` is set and it has no owner (and no owning department);
an owned record keeps `pool` as its home pool, where reclaim returns it. Apps register their
poolable models with `register_poolable` (customers here, leads in crm.sales), which also
extends the one scope predicate (pool users see the pool's records) and the masking rules
(numbers stay masked until claimed) through the kernel's extension points.

Concurrency: a claim is one conditional UPDATE (`WHERE pk = … AND owner IS NULL AND pool = …`),
so of many people claiming one record at once exactly one wins. The hold and daily limits are
counted after taking the claimer's lock — their user row (`SELECT … FOR UPDATE` on PostgreSQL;
SQLite's IMMEDIATE transactions already serialise every writer) — so one person's parallel
claims cannot pass a limit either.
"""

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Callable

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce, Greatest
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.core.access.masking import guard_reveal
from crm.core.access.scope import (can, department_path, get_for_user_or_404, has_special, register_visibility, scope_cache,
                                   scope_q)
from crm.core.audit import log
from crm.core.audit.models import AuditEntry
from crm.core.dictionary.models import DictionaryItem
from crm.core.entities.registry import get_spec
from crm.core.events.bus import emit
from crm.core.notifications import notify

from .pool_models import Pool, PoolEvent, PoolReason, PoolRule

MANAGE = "manage_pool"  # special permission: assign from and move between pools, put records in
RELEASE_REASONS = "pool_release_reason"  # data dictionary kind (seeded by a customers migration)

LOST_RACE = gettext_lazy("Someone else claimed this record a moment ago.")


class PoolConflict(Exception):
    """The record left the pool between the user's read and their claim (a lost race): 409."""


# --- the registry of poolable models ------------------------------------------------------------

@dataclass
class Poolable:
    model: type
    level_field: str | None = None  # per-level rules (customers); None: only the rule without level
    follow_up_field: str = "last_activity_at"
    held_q: Q = field(default_factory=Q)  # which owned records count towards the hold limit
    won_at: Callable | None = None  # () -> expression: the time of the record's last won deal
    followers: list = field(default_factory=list)  # callables (record ids, owner or None) moving dependants

    @property
    def spec(self):
        return get_spec(self.model)

    @property
    def key(self):
        return self.spec.key


POOLABLE: dict[str, Poolable] = {}


def register_poolable(model, **options):
    p = POOLABLE[get_spec(model).key] = Poolable(model, **options)
    register_visibility(pool_visibility, Pool)  # pools and their departments: the rule's lookups
    guard_reveal(p.key, lambda obj: obj.in_pool)
    return p


def poolable(key) -> Poolable:
    try:
        return POOLABLE[key]
    except KeyError:
        raise Http404 from None


def add_follower(model, fn):
    """`fn(ids, owner)` moves records that belong to pooled ones along (a customer's contacts)."""
    POOLABLE[get_spec(model).key].followers.append(fn)


def set_won_deal(model, fn):
    """`fn()` returns an expression of the last won deal's time per record (registered by sales)."""
    POOLABLE[get_spec(model).key].won_at = fn


# --- who uses which pool ---------------------------------------------------------------------

def _ancestor_ids(user):
    return [int(x) for x in department_path(user).strip("/").split("/") if x.isdigit()]


def pool_ids_for(user) -> list[int]:
    """The active pools the user may use: those open to a department on the user's path up the
    tree (or to everyone), all of them with the special permission manage_pool. Cached with the
    user's grants (`scope_cache`), reloaded when a pool or a department changes."""
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    cache = scope_cache(user)
    if "pools" not in cache:
        pools = Pool.objects.filter(is_active=True)
        if not has_special(user, MANAGE):
            ancestors = _ancestor_ids(user) if user.department_id else []
            pools = pools.filter(Q(departments__isnull=True) | Q(departments__in=ancestors))
        cache["pools"] = sorted(set(pools.values_list("pk", flat=True)))
    return cache["pools"]


def pools_for(user):
    return Pool.objects.filter(pk__in=pool_ids_for(user)).order_by("name")


def pool_visibility(user, model, action):
    """The scope predicate's extension (scope.register_visibility): the members of a pool see its
    unowned records, and the contacts of its customers, until someone claims them."""
    if action != "view":
        return None
    key = getattr(getattr(model, "entity_spec", None), "key", None)  # registered models carry their spec
    if key in POOLABLE:
        ids = pool_ids_for(user)
        return Q(owner__isnull=True, pool_id__in=ids) if ids else None
    if key == "contacts":
        ids = pool_ids_for(user)
        return Q(customer__owner__isnull=True, customer__pool_id__in=ids) if ids else None
    return None


# --- limits ----------------------------------------------------------------------------------

def _midnight(day):
    return timezone.make_aware(datetime.combine(day, time.min))


def held_count(p: Poolable, user) -> int:
    return p.model.objects.filter(p.held_q, owner=user).count()


def claims_today(user, pool, now) -> int:
    start = _midnight(timezone.localdate(now))
    return PoolEvent.objects.filter(actor=user, action=PoolEvent.Action.CLAIM, pool=pool, at__gte=start).count()


def _lock(user):
    """Serialise one person's claims (PostgreSQL row lock; a no-op under SQLite's write lock)."""
    get_user_model()._default_manager.select_for_update().filter(pk=user.pk).values_list("pk", flat=True).first()


def check_limits(p: Poolable, pool, user, now, *, daily=True):
    if pool.hold_limit and held_count(p, user) >= pool.hold_limit:
        raise ValidationError({"owner": _(
            "%(user)s already holds %(count)d %(records)s, the most this pool allows. Release one first."
        ) % {"user": user, "count": pool.hold_limit, "records": p.spec.label_plural.lower()}})
    if daily and pool.daily_claim_limit and claims_today(user, pool, now) >= pool.daily_claim_limit:
        raise ValidationError({"pool": _(
            "You have claimed %(count)d records from this pool today, the most it allows per day. Try again tomorrow."
        ) % {"count": pool.daily_claim_limit}})


def cooldown_until(rec, pool, user):
    """The time until which `user` may not claim `rec` back, or None."""
    if rec.previous_owner_id != user.pk or not rec.pool_entered_at or not pool.cooldown_days:
        return None
    return rec.pool_entered_at + timedelta(days=pool.cooldown_days)


# --- writes ----------------------------------------------------------------------------------

def _event(pool, rec, action, actor=None, owner=None, reason="", note="", key="", at=None):
    return PoolEvent.objects.create(
        pool=pool, content_type=ContentType.objects.get_for_model(rec, for_concrete_model=True), object_id=rec.pk,
        action=action, actor=actor if getattr(actor, "is_authenticated", False) else None, owner=owner,
        reason=reason[:200], note=note[:500], key=key, at=at or timezone.now())


def _follow(p, ids, owner):
    for fn in p.followers:
        fn(ids, owner)


def _find_for_claim(user, p, pk):
    """The record as the claimer may see it; a record another person took a moment ago is a lost race."""
    try:
        return get_for_user_or_404(user, p.model, pk)
    except Http404:
        if p.model._base_manager.filter(pk=pk, pool_id__in=pool_ids_for(user), owner__isnull=False,
                                        deleted_at__isnull=True).exists():
            raise PoolConflict(str(LOST_RACE))
        raise


def _take(user, p, rec, pool, new_owner, now):
    """The conditional UPDATE that takes `rec` out of `pool` for `new_owner`; False if it lost."""
    return p.model._base_manager.filter(
        pk=rec.pk, owner__isnull=True, pool_id=pool.pk, deleted_at__isnull=True,
    ).update(owner=new_owner, department=new_owner.department_id, owned_since=now, pool_entered_at=None,
             pool_reason="", version=F("version") + 1, updated_at=now, updated_by=user) == 1


def _taken(user, p, rec, pool, new_owner, action, now):
    _follow(p, [rec.pk], new_owner)
    rec.owner, rec.department_id, rec.owned_since, rec.pool_entered_at, rec.pool_reason = (
        new_owner, new_owner.department_id, now, None, "")
    rec.version += 1
    _event(pool, rec, action, actor=user, owner=new_owner, at=now)
    log.record(user, AuditEntry.Action.TRANSFER, rec, changes={"owner": [None, str(new_owner)]},
               extra={"pool": pool.pk, "pool_action": action})
    emit(f"{p.key}.{'claimed' if action == PoolEvent.Action.CLAIM else 'assigned_from_pool'}", rec, user,
         {"pool": pool.pk, "owner": new_owner.pk})
    return rec


@transaction.atomic
def claim(user, key, pk, *, now=None):
    """Take a record out of its pool for oneself. Raises PoolConflict on a lost race and
    ValidationError for a rule (limit, cool-down); nothing is written then."""
    p = poolable(key)
    now = now or timezone.now()
    if not can(user, p.key, "view"):
        raise PermissionDenied(_("You do not have permission to do this."))
    _lock(user)
    rec = _find_for_claim(user, p, pk)
    if rec.owner_id == user.pk:
        raise ValidationError({"id": _("This record is already yours.")})
    if rec.owner_id is not None:
        raise PoolConflict(str(LOST_RACE))
    if rec.pool_id is None:
        raise ValidationError({"id": _("This record is not in a public pool.")})
    pool = Pool.objects.get(pk=rec.pool_id)
    if pool.pk not in pool_ids_for(user):
        raise Http404
    until = cooldown_until(rec, pool, user)
    if until and until > now:
        raise ValidationError({"id": _(
            "You gave this record back recently; you may claim it again from %(when)s."
        ) % {"when": date_format(timezone.localtime(until), "SHORT_DATETIME_FORMAT")}})
    check_limits(p, pool, user, now)
    if not _take(user, p, rec, pool, user, now):
        raise PoolConflict(str(LOST_RACE))
    return _taken(user, p, rec, pool, user, PoolEvent.Action.CLAIM, now)


@transaction.atomic
def assign(user, key, pk, new_owner, *, now=None):
    """A pool manager gives a pooled record to someone (their hold limit applies, no daily limit)."""
    p = poolable(key)
    now = now or timezone.now()
    if not has_special(user, MANAGE):
        raise PermissionDenied(_("You do not have permission to do this."))
    if new_owner is None or not new_owner.is_active:
        raise ValidationError({"owner": _("Choose an active user.")})
    _lock(new_owner)
    rec = _find_for_claim(user, p, pk)
    if rec.owner_id is not None:
        raise PoolConflict(str(LOST_RACE))
    if rec.pool_id is None:
        raise ValidationError({"id": _("This record is not in a public pool.")})
    pool = Pool.objects.get(pk=rec.pool_id)
    check_limits(p, pool, new_owner, now, daily=False)
    if not _take(user, p, rec, pool, new_owner, now):
        raise PoolConflict(str(LOST_RACE))
    rec = _taken(user, p, rec, pool, new_owner, PoolEvent.Action.ASSIGN, now)
    notify([new_owner], "pool_assigned",
           lambda u: _("%(record)s was assigned to you from the pool %(pool)s") % {"record": rec, "pool": pool},
           url=reverse(f"{p.key}-detail", kwargs={"pk": rec.pk}), obj=rec, actor=user)
    return rec


def _target_pool(user, rec, pool_id):
    if pool_id not in (None, ""):
        pool = Pool.objects.filter(pk=pool_id, is_active=True).first() if str(pool_id).isdigit() else None
        if pool is None or (pool.pk not in pool_ids_for(user) and not has_special(user, MANAGE)):
            raise ValidationError({"pool": _("Choose one of your active pools.")})
        return pool
    pool = Pool.objects.filter(pk=rec.pool_id, is_active=True).first() if rec.pool_id else None
    pool = pool or Pool.objects.filter(is_default=True, is_active=True).first()
    if pool is None:
        raise ValidationError({"pool": _("Choose a pool.")})
    return pool


def _enter(actor, p, rec, pool, reason_code, *, event_action, reason="", note="", now, guard=None):
    """Put an owned record into `pool` (owner and department cleared); False if it changed meanwhile."""
    previous = rec.owner
    qs = p.model._base_manager.filter(pk=rec.pk, owner_id=rec.owner_id, deleted_at__isnull=True)
    if guard is not None:
        qs = qs.filter(guard)
    if not qs.update(owner=None, department=None, pool=pool, pool_entered_at=now, pool_reason=reason_code,
                     previous_owner=previous, owned_since=None, version=F("version") + 1, updated_at=now,
                     updated_by=actor if getattr(actor, "is_authenticated", False) else None):
        return False
    _follow(p, [rec.pk], None)
    rec.owner, rec.department, rec.pool, rec.pool_entered_at, rec.pool_reason, rec.previous_owner = (
        None, None, pool, now, reason_code, previous)
    _event(pool, rec, event_action, actor=actor, owner=previous, reason=reason, note=note, at=now)
    log.record(actor if getattr(actor, "is_authenticated", False) else None, AuditEntry.Action.TRANSFER, rec,
               changes={"owner": [str(previous) if previous else None, None]},
               extra={"pool": pool.pk, "pool_action": event_action, "reason": reason, "note": note})
    emit(f"{p.key}.pooled", rec, actor, {"pool": pool.pk, "reason": reason_code})
    return True


@transaction.atomic
def release(user, key, pk, reason, *, note="", pool=None, now=None):
    """The owner (or a pool manager) gives a record back, with a reason from the data dictionary."""
    p = poolable(key)
    now = now or timezone.now()
    rec = get_for_user_or_404(user, p.model, pk, "edit")
    if rec.owner_id is None:
        raise ValidationError({"id": _("This record has no owner to release it.")})
    if rec.owner_id != user.pk and not has_special(user, MANAGE):
        raise PermissionDenied(_("Only the owner or a pool manager may release this record."))
    errors = {}
    item = DictionaryItem.objects.filter(kind_id=RELEASE_REASONS, code=reason or "", is_active=True).first()
    if item is None:
        errors["reason"] = [_("Choose why you release the record.")]
    if len(note or "") > 500:
        errors["note"] = [_("At most 500 characters.")]
    try:
        target = _target_pool(user, rec, pool)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    if not _enter(user, p, rec, target, PoolReason.RELEASED, event_action=PoolEvent.Action.RELEASE,
                  reason=reason, note=note, now=now, guard=scope_q(user, p.model, "edit") & Q(version=rec.version)):
        raise PoolConflict(_("This record was changed by someone else while you were releasing it."))
    return rec


@transaction.atomic
def put_in_pool(user, key, ids, pool, reason=PoolReason.NEW, *, now=None):
    """A pool manager puts records (owned or not) into a pool: new, imported or taken-back ones."""
    p = poolable(key)
    now = now or timezone.now()
    if not has_special(user, MANAGE):
        raise PermissionDenied(_("You do not have permission to do this."))
    moved = 0
    assignable = p.model.objects.for_user(user, "assign").filter(pk__in=ids).values("pk")
    for rec in p.model.objects.filter(Q(pk__in=assignable) | Q(owner__isnull=True, pool__isnull=True), pk__in=ids):
        if rec.in_pool:
            continue
        moved += _enter(user, p, rec, pool, reason, event_action=PoolEvent.Action.ENTER, now=now)
    return moved


@transaction.atomic
def move(user, key, pk, pool_id, *, now=None):
    """A pool manager moves a pooled record to another pool."""
    p = poolable(key)
    now = now or timezone.now()
    if not has_special(user, MANAGE):
        raise PermissionDenied(_("You do not have permission to do this."))
    rec = _find_for_claim(user, p, pk)
    if not rec.in_pool:
        raise ValidationError({"id": _("This record is not in a public pool.")})
    target = Pool.objects.filter(pk=pool_id, is_active=True).first() if str(pool_id or "").isdigit() else None
    if target is None or target.pk == rec.pool_id:
        raise ValidationError({"pool": _("Choose another active pool.")})
    old = rec.pool_id
    if not p.model._base_manager.filter(pk=rec.pk, owner__isnull=True, pool_id=old).update(
            pool=target, pool_reason=PoolReason.MOVED, version=F("version") + 1, updated_at=now, updated_by=user):
        raise PoolConflict(str(LOST_RACE))
    rec.pool = target
    _event(target, rec, PoolEvent.Action.MOVE, actor=user, note=str(Pool.objects.get(pk=old)), at=now)
    log.record(user, AuditEntry.Action.UPDATE, rec, changes={"pool": [str(Pool.objects.get(pk=old)), str(target)]})
    return rec


def bulk(fn, user, key, ids, *args, **kwargs):
    """Run a per-record action on many records, each in its own transaction: [(id, ok, message)]."""
    results = []
    for pk in ids:
        try:
            fn(user, key, pk, *args, **kwargs)
        except PoolConflict as exc:
            results.append((pk, False, str(exc)))
        except ValidationError as exc:
            results.append((pk, False, " ".join(exc.messages)))
        except Http404:
            results.append((pk, False, _("Not found in your pools.")))
        except PermissionDenied as exc:
            results.append((pk, False, str(exc) or _("You do not have permission to do this.")))
        else:
            results.append((pk, True, ""))
    return results


def history(obj, limit=50):
    return list(PoolEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=True), object_id=obj.pk,
    ).select_related("pool", "actor", "owner").order_by("-at", "-pk")[:limit])


# --- reclaim (the periodic job) ------------------------------------------------------------------

def _rules_by_level(pool):
    return {r.level: r for r in pool.rules.all()}


def _base(p, extra=None):
    """An expression of the time a reclaim clock starts: the later of the record's creation (or
    when its owner got it) and `extra` (last follow-up, last won deal)."""
    start = Coalesce(F("owned_since"), F("created_at"))
    if extra is None:
        return start
    return Greatest(Coalesce(extra, F("created_at")), start)


def _candidates(p, pool, rule, level_q, now):
    """Owned records of this pool's rule that are due or within the warning window, with their deadline."""
    warn = timedelta(days=pool.warn_days)
    home = Q(pool=pool) | (Q(pool__isnull=True) if pool.is_default else Q(pk__in=[]))
    qs = p.model.objects.filter(home, level_q, p.held_q, owner__isnull=False, owner__is_active=True)
    cond = Q(pk__in=[])
    annotations = {}
    if rule.no_follow_up_days:
        annotations["_fu"] = _base(p, F(p.follow_up_field))
        cond |= Q(_fu__lte=now - timedelta(days=rule.no_follow_up_days) + warn)
    if rule.no_deal_days and p.won_at is not None:
        annotations["_deal"] = _base(p, p.won_at())
        cond |= Q(_deal__lte=now - timedelta(days=rule.no_deal_days) + warn)
    if not annotations:
        return []
    out = []
    for rec in qs.annotate(**annotations).filter(cond).select_related("owner").iterator(chunk_size=500):
        deadlines = []
        if "_fu" in annotations:
            deadlines.append((rec._fu + timedelta(days=rule.no_follow_up_days), "follow_up"))
        if "_deal" in annotations:
            deadlines.append((rec._deal + timedelta(days=rule.no_deal_days), "deal"))
        out.append((rec, *min(deadlines)))
    return out


def _why(kind):
    return (gettext_lazy("no follow-up") if kind == "follow_up" else gettext_lazy("no won deal"))


def run_reclaim(now=None):
    """Return overdue records to their pool and warn owners ahead; idempotent (a warning once per
    record and deadline, a reclaimed record has no owner any more). Returns the counts."""
    now = now or timezone.now()
    counts = {"reclaimed": 0, "warned": 0}
    for pool in Pool.objects.filter(is_active=True).prefetch_related("rules"):
        rules = _rules_by_level(pool)
        for p in POOLABLE.values():
            for level, rule in rules.items():
                if p.level_field is None:
                    if level:
                        continue
                    level_q = Q()
                elif level:
                    level_q = Q(**{p.level_field: level})
                else:
                    level_q = ~Q(**{f"{p.level_field}__in": [lv for lv in rules if lv]})
                for rec, deadline, kind in _candidates(p, pool, rule, level_q, now):
                    if deadline <= now:
                        counts["reclaimed"] += _reclaim_one(p, pool, rec, kind, now)
                    else:
                        counts["warned"] += _warn_one(p, pool, rec, deadline, kind, now)
    return counts


def _record_url(p, rec):
    return reverse(f"{p.key}-detail", kwargs={"pk": rec.pk})


def _reclaim_one(p, pool, rec, kind, now):
    owner = rec.owner
    with transaction.atomic():
        if not _enter(None, p, rec, pool, PoolReason.RECLAIMED, event_action=PoolEvent.Action.RECLAIM, now=now,
                      reason=kind):
            return 0
        notify([owner], "pool_reclaimed",
               lambda u: _("%(record)s went back to the pool %(pool)s (%(why)s)") % {
                   "record": rec, "pool": pool, "why": _why(kind)},
               url=_record_url(p, rec), obj=rec)
    return 1


def _warn_one(p, pool, rec, deadline, kind, now):
    key = deadline.isoformat()[:40]
    try:
        with transaction.atomic():
            _event(pool, rec, PoolEvent.Action.WARN, owner=rec.owner, reason=kind, key=key, at=now)
            notify([rec.owner], "pool_warning",
                   lambda u: _("%(record)s goes back to the pool %(pool)s on %(when)s (%(why)s)") % {
                       "record": rec, "pool": pool, "why": _why(kind),
                       "when": date_format(timezone.localtime(deadline), "SHORT_DATE_FORMAT")},
                   url=_record_url(p, rec), obj=rec)
    except IntegrityError:  # already warned for this deadline
        return 0
    return 1


def rule_for(p, pool, rec):
    rules = _rules_by_level(pool)
    level = getattr(rec, p.level_field) if p.level_field else ""
    return rules.get(level) or rules.get("")


__all__ = ["POOLABLE", "Pool", "PoolConflict", "PoolRule", "assign", "bulk", "claim", "history", "move",
           "pool_ids_for", "pools_for", "put_in_pool", "register_poolable", "release", "run_reclaim"]
