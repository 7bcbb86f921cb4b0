"""Demo public pools (CUS-9): 华东公海 for the East region, 华南公海 for the South, with reclaim
rules per customer level and some customers and leads lying in them (released or reclaimed),
so `crm demo` shows the pool at once. Idempotent: nothing happens when the pools exist."""

from datetime import timedelta

from django.utils import timezone

from crm.customers import pool as pools
from crm.customers.models import Customer
from crm.customers.pool_models import Pool, PoolEvent, PoolReason, PoolRule
from crm.org.models import Department
from crm.sales.models import Lead

POOLS = [  # name, region code, hold limit, claims a day, cool-down days, default, description
    ("华东公海", "E", 60, 10, 7, True, "华东大区（上海、杭州）的公海客户和线索"),
    ("华南公海", "S", 50, 8, 5, False, "华南大区（广州、深圳）的公海客户和线索"),
]
RULES = [  # level, days without follow-up, days without a won deal
    ("", 30, 120), ("normal", 30, 90), ("small", 20, 60), ("important", 60, 180),
]
REASONS = ["no_need", "no_contact", "competitor", "not_mine"]


def make_pools(rng, users, per_pool=12):
    if Pool.objects.filter(name__in=[p[0] for p in POOLS]).exists():
        return
    now = timezone.now()
    for name, code, hold, daily, cooldown, default, description in POOLS:
        region = Department.objects.filter(code=code).first()
        pool = Pool.objects.create(name=name, hold_limit=hold, daily_claim_limit=daily, cooldown_days=cooldown,
                                   warn_days=3, is_default=default, description=description)
        if region is not None:
            pool.departments.set([region])
        PoolRule.objects.bulk_create([PoolRule(pool=pool, level=level, no_follow_up_days=fu, no_deal_days=deal)
                                      for level, fu, deal in RULES])
        if region is None:
            continue
        subtree = Department.objects.filter(path__startswith=region.path)
        for p, model in ((pools.POOLABLE["customers"], Customer), (pools.POOLABLE["leads"], Lead)):
            owned = list(model.objects.filter(department__in=subtree, owner__isnull=False, owner__is_superuser=False,
                                              pool__isnull=True).select_related("owner").order_by("pk"))
            rng.shuffle(owned)
            count = per_pool if model is Customer else per_pool // 2
            for i, rec in enumerate(owned[:count]):
                reclaimed = i % 3 == 0
                when = now - timedelta(days=rng.randint(1, 40), hours=rng.randint(0, 8))
                pools._enter(None if reclaimed else rec.owner, p, rec, pool,
                             PoolReason.RECLAIMED if reclaimed else PoolReason.RELEASED,
                             event_action=PoolEvent.Action.RECLAIM if reclaimed else PoolEvent.Action.RELEASE,
                             reason="follow_up" if reclaimed else rng.choice(REASONS), now=when)
        # The region's other owned customers and leads get the pool as their home (reclaim returns them there).
        for model in (Customer, Lead):
            model.objects.filter(department__in=subtree, owner__isnull=False, pool__isnull=True).update(pool=pool)
