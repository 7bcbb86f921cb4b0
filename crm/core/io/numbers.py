"""Numbers for many records at once (SYS-5 rules, INT-4 bulk import): one conditional UPDATE
consumes a block of `n` numbers, inside the importing transaction, gap-free like `issue()`."""

from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from ..numbering.models import NumberingSequence
from ..numbering.services import active_rule


def issue_block(entity_key, n, today=None):
    """`n` consecutive numbers of the entity's active rule, or None when it has none."""
    rule = active_rule(entity_key)
    if rule is None or n <= 0:
        return None
    today = today or timezone.localdate()
    period = rule.period(today)
    with transaction.atomic():
        seq = NumberingSequence.objects.filter(rule=rule, period=period)
        bump = {"last": Greatest(F("last") + n, Value(rule.start_number + n - 1))}
        for _attempt in range(5):
            if seq.update(**bump):
                break
            try:
                NumberingSequence.objects.get_or_create(rule=rule, period=period)
            except IntegrityError:
                continue
        else:  # pragma: no cover
            raise IntegrityError(f"numbering rule {rule.pk}: no sequence row for period {period!r}")
        last = seq.values_list("last", flat=True).get()
    return [rule.format(k, today) for k in range(last - n + 1, last + 1)]
