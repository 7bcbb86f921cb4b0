"""The periodic jobs of work and time, in the job engine's registry (crm.core.jobs)."""

from datetime import timedelta

from django.utils.translation import gettext_lazy as _
from django_tasks import task

from crm.core.jobs import retryable
from crm.core.jobs.schedule import periodic

from . import care, reminders


@periodic("activities-reminders", every=timedelta(minutes=1), label=_("Task, assignment and appointment reminders"))
@task()
def send_reminders():
    return reminders.run_reminders()


@periodic("activities-birthdays", daily="08:00", label=_("Birthday reminders"))
@task()
def send_birthday_reminders():
    return reminders.send_birthday_reminders()


@periodic("activities-care", daily="08:05", label=_("Customer care rules"))
@task()
def run_care_rules():
    return care.run_care_rules()


@retryable(max_attempts=4, backoff=timedelta(minutes=1))
@task()
def geocode_check_in(activity_id):
    """Reverse geocoding of one check-in (ACT-6); a failing provider is retried, then shown as
    failed on the jobs page. The check-in itself never depends on it."""
    from .geocoding import fill_address

    return fill_address(activity_id)
