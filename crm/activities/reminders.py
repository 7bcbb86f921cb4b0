"""Reminder jobs (ACT-3, ACT-4, CUS-11): task assignments, due tasks, appointments, birthdays.
Each takes the current time as an argument (tests pass a controlled clock) and is idempotent: a
reminder is recorded in ReminderLog (unique per key and person) in the same transaction as its
notification, so running a job twice, or two workers at once, never notifies anyone twice."""

import calendar as pycal
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from crm.core.dictionary.parameters import param
from crm.core.entities.registry import all_specs

from .models import Appointment, ReminderLog, Task, TaskAssignment, TaskStatus
from .services import notify

GRACE = timedelta(days=2)  # reminders missed for longer than this (worker down) are skipped


def send_once(key, person, now, kind, title, body="", url="", obj=None, actor=None):
    """Notify `person` unless the reminder `key` was already sent to them. True when sent."""
    try:
        with transaction.atomic():
            ReminderLog.objects.create(key=key[:120], user=person, sent_at=now)
            notify([person], kind, title, body=body, url=url, obj=obj, actor=actor)
    except IntegrityError:
        return False
    return True


def send_task_reminders(now=None):
    """Remind every open assignee of tasks whose reminder time has come."""
    now = now or timezone.now()
    sent = 0
    tasks = Task.objects.filter(status=TaskStatus.OPEN, remind_at__lte=now, remind_at__gt=now - GRACE)
    for task in tasks.iterator(chunk_size=500):
        url = reverse("tasks-detail", kwargs={"pk": task.pk})
        due = timezone.localtime(task.due_at)
        for a in TaskAssignment.objects.filter(task=task, status=TaskStatus.OPEN).select_related("user"):
            if a.user.is_active and send_once(
                    f"task:{task.pk}:{task.remind_at:%Y%m%d%H%M}", a.user, now, "task_due",
                    lambda u: _("Task due: %(title)s") % {"title": task.title},
                    body=lambda u: _("Due %(when)s.") % {"when": date_format(due, "Y-m-d H:i")}, url=url, obj=task):
                sent += 1
    return sent


def send_appointment_reminders(now=None):
    """Remind the owner and the invitees before an appointment (each occurrence of a recurring
    one), then move a recurring appointment's reminder on to its next occurrence."""
    now = now or timezone.now()
    sent = 0
    for appt in Appointment.objects.filter(remind_at__lte=now, remind_at__gt=now - GRACE).select_related("owner"):
        start = appt.remind_at + timedelta(minutes=appt.remind_before or 0)
        local = timezone.localtime(start)
        people = {}
        if not appt.repeat or appt.has_occurrence(start):  # not an occurrence cancelled since (EXDATE)
            people = {p.pk: p for p in [appt.owner, *appt.invitees.all()] if p is not None and p.is_active}
        url = reverse("appointments-detail", kwargs={"pk": appt.pk})
        for person in people.values():
            if send_once(f"appt:{appt.pk}:{start:%Y%m%d%H%M}", person, now, "appointment_reminder",
                         lambda u: _("Appointment at %(time)s: %(title)s") % {
                             "time": date_format(local, "Y-m-d H:i"), "title": appt.title},
                         body=appt.location, url=url, obj=appt):
                sent += 1
        following = None
        if appt.repeat:
            upcoming = [o for o in appt.occurrences(start + timedelta(seconds=1), start + timedelta(days=400))
                        if o > start]
            following = upcoming[0] - timedelta(minutes=appt.remind_before or 0) if upcoming else None
        Appointment.all_objects.filter(pk=appt.pk, remind_at=appt.remind_at).update(remind_at=following)
    return sent


def birthday_cond(days):
    """Records whose birthday falls on one of `days`; 29 February birthdays are remembered on
    28 February in other years."""
    cond = Q()
    for d in days:
        cond |= Q(birthday__month=d.month, birthday__day=d.day)
        if d.month == 2 and d.day == 28 and not pycal.isleap(d.year):
            cond |= Q(birthday__month=2, birthday__day=29)
    return cond


def _birthday_in(days, birthday):
    for d in days:
        if (d.month, d.day) == (birthday.month, birthday.day):
            return d
        if (birthday.month, birthday.day) == (2, 29) and (d.month, d.day) == (2, 28) and not pycal.isleap(d.year):
            return d
    return None


def send_birthday_reminders(today=None, now=None):
    """Remind the owner of every record with a `birthday` (contacts, and any later entity with
    one) whose birthday is within the lead days of the system parameter
    `birthday_reminder_days`, once a year per record."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    days = [today + timedelta(days=n) for n in range(param("birthday_reminder_days") + 1)]
    sent = 0
    for spec in all_specs():
        if not spec.has_owner or "birthday" not in {f.name for f in spec.model._meta.concrete_fields}:
            continue
        rows = spec.model.objects.filter(birthday_cond(days), owner__is_active=True).select_related("owner")
        for obj in rows.iterator(chunk_size=500):
            day = _birthday_in(days, obj.birthday)
            if day is None:
                continue
            if send_once(f"birthday:{spec.key}:{obj.pk}:{day.year}", obj.owner, now, "birthday",
                         lambda u: _("Birthday of %(name)s on %(date)s") % {"name": obj, "date": date_format(day, "m-d")},
                         body=lambda u: _("Time for a greeting (customer care)."),
                         url=reverse(f"{spec.key}-detail", kwargs={"pk": obj.pk}), obj=obj):
                sent += 1
    return sent


def notify_new_assignments(task_ids=None, now=None):
    """Tell assignees about a task given to them, once per assignment (not the one who gave it)."""
    now = now or timezone.now()
    qs = TaskAssignment.objects.filter(notified_at__isnull=True, status=TaskStatus.OPEN).select_related("task__created_by", "user")
    if task_ids is not None:
        qs = qs.filter(task_id__in=task_ids)
    sent = 0
    for a in list(qs[:5000]):
        task = a.task
        with transaction.atomic():
            if TaskAssignment.objects.filter(pk=a.pk, notified_at__isnull=True).update(notified_at=now) != 1:
                continue
            if task.deleted_at or task.created_by_id == a.user_id:
                continue
            if notify([a.user], "task_assigned", lambda u: _("New task for you: %(title)s") % {"title": task.title},
                      body=task.description[:500], url=reverse("tasks-detail", kwargs={"pk": task.pk}), obj=task,
                      actor=task.created_by):
                sent += 1
    return sent


def run_reminders(now=None):
    now = now or timezone.now()
    return {"assignments": notify_new_assignments(now=now), "tasks": send_task_reminders(now),
            "appointments": send_appointment_reminders(now)}
