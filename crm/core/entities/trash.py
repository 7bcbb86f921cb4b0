"""The recycle bin across all entities (CUS-3, SEC-2): listing, retention and purging.

Records deleted through `services.delete` stay in their table with `deleted_at` set. They come
back with `services.restore`, or leave for good with `services.purge` (special permission
"purge") or, after `recycle_bin_retention_days`, with `purge_expired()` — run by the command
`purge_recycle_bin` or the task `crm.core.tasks.purge_recycle_bin`.
"""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..access.scope import can, scope_q
from ..access.special import register_special
from ..dictionary.parameters import GENERAL, Parameter, register_parameter
from .registry import all_specs

register_special("purge", _("Delete records in the recycle bin permanently"))

register_parameter(Parameter(
    "recycle_bin_retention_days", "int", 90, _("Recycle bin retention (days)"),
    _("Deleted records are removed for good after this many days; 0 keeps them forever."),
    min=0, max=36500, group=GENERAL,
))


def binned(spec, user):
    """The records of one entity in the user's recycle bin, newest first."""
    qs = spec.model._base_manager.filter(scope_q(user, spec.model, "delete"), deleted_at__isnull=False)
    return qs.select_related("deleted_by").order_by("-deleted_at", "-pk")


def bin_groups(user, per_entity=20):
    """One group per soft-deleting entity the user may delete in: at most `per_entity` rows each
    (one query per entity), with `more` when the entity's own bin holds more."""
    groups = []
    for spec in all_specs():
        if not spec.soft_delete or not can(user, spec.key, "delete"):
            continue
        rows = list(binned(spec, user)[: per_entity + 1])
        groups.append({"spec": spec, "rows": rows[:per_entity], "more": len(rows) > per_entity})
    return groups


def purge_expired(days=None, now=None, batch_size=500, specs=None):
    """Purge every record deleted more than `days` (default: the system parameter) ago, in
    batches of `batch_size`, each record in its own transaction with an audit entry (actor: the
    system). A record something still references stays and is counted as skipped.
    Returns {entity key: {"purged": n, "skipped": n}}."""
    from ..dictionary.parameters import param
    from . import services

    days = param("recycle_bin_retention_days") if days is None else days
    result = {}
    if not days:
        return result
    cutoff = (now or timezone.now()) - timedelta(days=days)
    for spec in specs if specs is not None else all_specs():
        if not spec.soft_delete:
            continue
        model = spec.model
        purged = skipped = 0
        last = None  # keyset over (deleted_at, pk), so skipped rows are not read again
        while True:
            qs = model._base_manager.filter(deleted_at__isnull=False, deleted_at__lt=cutoff)
            if last is not None:
                qs = qs.filter(deleted_at__gte=last[0]).exclude(deleted_at=last[0], pk__lte=last[1])
            batch = list(qs.order_by("deleted_at", "pk")[:batch_size])
            if not batch:
                break
            for obj in batch:
                try:
                    with transaction.atomic():
                        # Purged already as another record's dependant in this run?
                        if model._base_manager.filter(pk=obj.pk, deleted_at=obj.deleted_at).exists():
                            purged += len(services._purge_record(None, obj, {"retention_days": days}))
                except ValidationError:
                    skipped += 1
            last = (batch[-1].deleted_at, batch[-1].pk)
        if purged or skipped:
            result[spec.key] = {"purged": purged, "skipped": skipped}
    return result
