"""The job engine's own periodic job: forget old job history."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_tasks import task

from .models import IdempotencyKey, Job, PeriodicRun
from .schedule import periodic


@periodic("prune-job-history", daily="04:10", label=_("Delete old background job history"))
@task()
def prune_job_history(now=None):
    """Succeeded jobs older than JOBS_KEEP_DAYS (default 30) go, failed ones after three times
    that; so do the task backend's finished rows and old periodic slots. Idempotency keys stay
    three times as long as failed jobs, so a failed job retried by hand still finds its keys."""
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    keep = timedelta(days=getattr(settings, "JOBS_KEEP_DAYS", 30))
    counts = {
        "succeeded": Job.objects.filter(status=Job.Status.SUCCEEDED, finished_at__lt=now - keep).delete()[0],
        "failed": Job.objects.filter(status=Job.Status.FAILED, finished_at__lt=now - 3 * keep).delete()[0],
        "periodic_slots": PeriodicRun.objects.filter(slot__lt=now - 3 * keep).delete()[0],
        "task_rows": DBTaskResult.objects.filter(status__in=["SUCCESSFUL", "FAILED"],
                                                 finished_at__lt=now - keep).delete()[0],
        "keys": IdempotencyKey.objects.filter(created_at__lt=now - 9 * keep).delete()[0],
    }
    return counts
