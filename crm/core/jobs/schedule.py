"""Periodic system jobs, declared in one registry (reminders, birthday and care rules, recycle-bin
retention, later pool reclaim, dunning, scheduled reports).

    @periodic("purge-recycle-bin", daily="03:30", label=_("Purge the recycle bin"))
    @task()
    def purge_recycle_bin(): ...

    @periodic("due-reminders", every=timedelta(minutes=1), label=_("Send due reminders"))
    @task()
    def send_due_reminders(): ...

Time is cut into slots: `every=` slots are aligned on the Unix epoch (UTC); `daily="HH:MM"` has
one slot a day at that wall-clock time in settings.TIME_ZONE. `tick(now)` enqueues each job
whose current slot has not run yet. The claim is the INSERT of a unique (name, slot) row in the
same transaction as the job row, so two schedulers never enqueue a slot twice; the job reaches
the worker after commit. A scheduler that was down runs a missed job once when it comes back
(the current slot), never once per missed slot.
"""

import logging
import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from datetime import timezone as dt_timezone

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks import task
from django_tasks.base import Task

from .engine import enqueue_job, maintain
from .models import Job, PeriodicRun

log = logging.getLogger(__name__)
EPOCH = datetime(2000, 1, 1, tzinfo=dt_timezone.utc)


@dataclass
class PeriodicJob:
    name: str
    task: Task
    every: timedelta | None = None
    daily: time | None = None
    label: object = ""
    kwargs: dict = field(default_factory=dict)

    def slot(self, now):
        """The start of the slot `now` falls in."""
        if self.every is not None:
            n = (now - EPOCH) // self.every
            return EPOCH + n * self.every
        tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        local = now.astimezone(tz)
        start = datetime.combine(local.date(), self.daily, tzinfo=tz)
        if start > local:
            start = datetime.combine(local.date() - timedelta(days=1), self.daily, tzinfo=tz)
        return start.astimezone(dt_timezone.utc)

    def next_slot(self, now):
        if self.every is not None:
            return self.slot(now) + self.every
        tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        start = self.slot(now).astimezone(tz)
        return datetime.combine(start.date() + timedelta(days=1), self.daily, tzinfo=tz).astimezone(dt_timezone.utc)

    @property
    def schedule_text(self):
        from django.utils.translation import gettext as _

        if self.daily is not None:
            return _("daily at %(time)s") % {"time": self.daily.strftime("%H:%M")}
        seconds = int(self.every.total_seconds())
        if seconds % 86400 == 0:
            return _("every %(n)d day(s)") % {"n": seconds // 86400}
        if seconds % 3600 == 0:
            return _("every %(n)d hour(s)") % {"n": seconds // 3600}
        if seconds % 60 == 0:
            return _("every %(n)d minute(s)") % {"n": seconds // 60}
        return _("every %(n)d second(s)") % {"n": seconds}


PERIODIC: dict[str, PeriodicJob] = {}


def periodic(name, *, every=None, daily=None, label="", kwargs=None):
    """Declare a periodic job: exactly one of `every` (a timedelta) or `daily` ("HH:MM" in the
    CRM's time zone). Put it above `@task()` (a plain function is made a task)."""
    if (every is None) == (daily is None):
        raise ValueError("periodic(): give exactly one of every= or daily=")
    if every is not None and every < timedelta(seconds=1):
        raise ValueError("periodic(): every= must be at least a second")
    if isinstance(daily, str):
        daily = time.fromisoformat(daily)

    def deco(t):
        if not isinstance(t, Task):
            t = task()(t)
        existing = PERIODIC.get(name)
        if existing is not None and existing.task.module_path != t.module_path:
            raise ValueError(f"periodic job {name!r} is already declared by {existing.task.module_path}")
        PERIODIC[name] = PeriodicJob(name, t, every, daily, label or name, dict(kwargs or {}))
        return t

    return deco


def tick(now=None, names=None):
    """Enqueue every periodic job whose current slot has not been claimed; then the engine's
    housekeeping (due retries, lost hand-overs, dead workers). Returns the names enqueued."""
    now = now or timezone.now()
    enqueued = []
    for job in list(PERIODIC.values()):
        if names is not None and job.name not in names:
            continue
        slot = job.slot(now)
        try:
            with transaction.atomic():
                run = PeriodicRun.objects.create(name=job.name, slot=slot, claimed_at=now)
                created = enqueue_job(job.task, kwargs=job.kwargs, periodic=job.name)
                PeriodicRun.objects.filter(pk=run.pk).update(job=created)
        except IntegrityError:
            continue  # another scheduler (or an earlier tick) has this slot
        enqueued.append(job.name)
    maintain(now)
    return enqueued


def run_now(name):
    """Enqueue a periodic job at once, outside its schedule ("run now" on the jobs page)."""
    job = PERIODIC[name]
    return enqueue_job(job.task, kwargs=job.kwargs, periodic=job.name)


def overview(now=None):
    """The registry with the last run and the next slot of each job."""
    now = now or timezone.now()
    rows = []
    for name in sorted(PERIODIC):  # one indexed query per job: the registry is short
        p = PERIODIC[name]
        last = Job.objects.filter(periodic=name).order_by("-created_at", "-id").first()
        rows.append({"name": name, "label": p.label, "schedule": p.schedule_text, "task": p.task.module_path,
                     "last": last, "next": p.next_slot(now)})
    return rows
