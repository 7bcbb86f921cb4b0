"""Kernel jobs for the task worker (django-tasks); periodic ones are declared with
`crm.core.jobs.periodic` and enqueued by the scheduler (`crm run_scheduler`)."""

from django.utils.translation import gettext_lazy as _
from django_tasks import task

from .jobs.schedule import periodic


@periodic("purge-recycle-bin", daily="03:30", label=_("Purge expired records from the recycle bin"))
@task()
def purge_recycle_bin(days=None):
    """Purge recycle-bin records older than the retention (system parameter)."""
    from .entities.trash import purge_expired

    return purge_expired(days=days)
