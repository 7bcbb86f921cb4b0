"""Issuing numbers (SYS-5): gap-free and unique under concurrency, on SQLite and PostgreSQL.

A number is one conditional `UPDATE sequence SET last = max(last + 1, start)` followed by a read
of the row, inside the caller's transaction. The UPDATE takes the row's write lock (PostgreSQL)
or the database's (SQLite, whose connections begin IMMEDIATE transactions), so concurrent
creators queue; the number is consumed only if the record's transaction commits — a rolled-back
create rolls the UPDATE back too, and the number is issued again.
"""

from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from .models import NumberingRule, NumberingSequence


def active_rule(entity_key):
    return NumberingRule.objects.filter(entity=entity_key, is_active=True).first()


def issue(rule, today=None) -> str:
    """Consume and return the rule's next number. Call it inside the transaction that saves the
    numbered record (it opens one itself otherwise)."""
    today = today or timezone.localdate()
    period = rule.period(today)
    with transaction.atomic():
        seq = NumberingSequence.objects.filter(rule=rule, period=period)
        bump = {"last": Greatest(F("last") + 1, Value(rule.start_number))}
        for _attempt in range(5):
            if seq.update(**bump):
                break
            try:  # first number of the period: insert the row, then bump it like everyone else
                NumberingSequence.objects.get_or_create(rule=rule, period=period)
            except IntegrityError:  # inserted concurrently (and get_or_create lost the race): retry
                continue
        else:  # pragma: no cover - five lost insert races in a row
            raise IntegrityError(f"numbering rule {rule.pk}: no sequence row for period {period!r}")
        number = seq.values_list("last", flat=True).get()
    return rule.format(number, today)


def next_number(entity_key, today=None) -> str | None:
    """The next number for a record of `entity_key`, or None when it has no active rule."""
    rule = active_rule(entity_key)
    return issue(rule, today) if rule is not None else None


def preview(rule, today=None) -> str:
    """The number the rule would issue now, without consuming it."""
    return previews([rule], today)[rule.pk]


def previews(rules, today=None) -> dict:
    """{rule id: the number it would issue now} for many rules, in one query."""
    today = today or timezone.localdate()
    saved = [r for r in rules if r.pk is not None]
    rows = NumberingSequence.objects.filter(
        rule__in=saved, period__in={r.period(today) for r in saved}
    ).values_list("rule_id", "period", "last") if saved else []
    last = {(rule_id, period): n for rule_id, period, n in rows}
    return {r.pk: r.format(max(last.get((r.pk, r.period(today)), 0) + 1, r.start_number), today) for r in rules}
