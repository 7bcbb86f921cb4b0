"""Periodic and background jobs of sales (crm.core.jobs)."""

from django.utils.translation import gettext_lazy as _
from django_tasks import task

from crm.core.jobs.schedule import periodic


@periodic("sales-lead-scores", daily="02:30", label=_("Recompute lead scores"))
@task()
def rescore_leads():
    """LEAD-3: every lead's score and grade again (activities age out of their window)."""
    from crm.core.jobs import report_progress

    from .scoring import rescore_all

    return rescore_all(progress=report_progress)
