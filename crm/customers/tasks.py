"""The periodic jobs of customers, in the job engine's registry (crm.core.jobs)."""

from django.utils.translation import gettext_lazy as _
from django_tasks import task

from crm.core.jobs.schedule import periodic

from . import pool


@periodic("pool-reclaim", daily="02:30", label=_("Public pool: reclaim overdue records and warn their owners"))
@task()
def reclaim_pool_records():
    return pool.run_reclaim()
