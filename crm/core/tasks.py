"""Kernel jobs for the task worker (django-tasks). Periodic scheduling arrives with the job
engine; until then run them with their management commands or enqueue them."""

from django_tasks import task


@task()
def purge_recycle_bin(days=None):
    """Purge recycle-bin records older than the retention (system parameter)."""
    from .entities.trash import purge_expired

    return purge_expired(days=days)
