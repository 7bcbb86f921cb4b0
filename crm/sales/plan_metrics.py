"""The plan metric registry (SAL-7): what a sales plan can measure and how its actual is counted.

`register_plan_metric(key, label, actual_fn)`; `actual_fn(user, start, end, by)` returns
{id: value} for the period [start, end) (dates), grouped `by` "owner" or "department", read through
the scope predicate for `user`. Sales registers "won amount" and "won count" from opportunities
(`crm.sales.plans`); orders, collections and gross margin register theirs the same way when those
modules land, and every plan page, form, the API and the roll-up take them without change."""

from dataclasses import dataclass


@dataclass(frozen=True)
class PlanMetric:
    key: str
    label: object  # lazy translation
    actual: object  # callable(user, start, end, by) -> {owner or department id: Decimal}
    money: bool = True  # an amount (2 decimals) or a count


_metrics: dict[str, PlanMetric] = {}


def register_plan_metric(key, label, actual_fn, money=True):
    _metrics[key] = PlanMetric(key, label, actual_fn, money)
    return _metrics[key]


def metric(key):
    return _metrics.get(key)


def all_metrics():
    return list(_metrics.values())


def metric_choices():
    """Choices of SalesPlan.metric (a callable, so metrics registered later join)."""
    return [(m.key, m.label) for m in _metrics.values()]
