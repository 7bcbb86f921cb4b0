"""Periodic and background jobs of sales (crm.core.jobs)."""

from datetime import timedelta

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


@periodic("sales-funnel-compact", every=timedelta(minutes=10), label=_("Merge the funnel summary's changes"))
@task()
def compact_funnel_summary():
    """SAL-3: every write to an opportunity adds its change to the funnel's summary as new rows
    (PostgreSQL triggers); merging them keeps the dashboard's read small."""
    from .funnel_summary import compact

    return compact()
