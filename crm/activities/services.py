"""Business operations of work and time, on top of the kernel's write services: an assignee
completes their part of a task, a task is split into sub-tasks, an appointment is moved in the
calendar (version-checked, with the conflict warning), overlaps with the invitees' calendars."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from crm.core.access.scope import get_for_user_or_404, may
from crm.core.entities import services

from .models import Appointment, Task, TaskAssignment, TaskStatus

CONFLICT_HORIZON = timedelta(days=366)  # a recurring appointment is checked over its next year


def people_in_scope(user):
    """The people `user` may choose as assignees or invitees: employees in their data scope,
    and always themself."""
    User = get_user_model()
    if user is None:
        return User.objects.none()
    return User.objects.filter(Q(pk__in=User.objects.for_user(user, "view").values("pk")) | Q(pk=user.pk),
                               is_active=True)


def check_people(user, people, field):
    allowed = set(people_in_scope(user).filter(pk__in=[p.pk for p in people]).values_list("pk", flat=True))
    outside = [p for p in people if p.pk not in allowed]
    if outside:
        raise ValidationError({field: _("%(name)s is not someone you may choose here: they are outside your data "
                                         "scope.") % {"name": outside[0]}})


# --- tasks -------------------------------------------------------------------------------------

@transaction.atomic
def set_assignment_status(user, task_pk, status, assignee=None, note=""):
    """An assignee marks their own part done (or reopens it); the task's owner or an editor of the
    task may do it for another assignee. The task is done when every part is."""
    if status not in TaskStatus.values:
        raise ValidationError({"status": _("Unknown status.")})
    task = Task.objects.filter(pk=task_pk).first()
    if task is None:
        raise Http404
    assignee = assignee or user
    mine = TaskAssignment.objects.filter(task=task, user=assignee).first()
    may_edit = may(user, task, "edit")
    if mine is None or (assignee.pk != user.pk and not may_edit):
        if not may_edit and not TaskAssignment.objects.filter(task=task, user=user).exists():
            raise Http404
        raise PermissionDenied(_("You may only change your own part of this task."))
    completed = timezone.now() if status == TaskStatus.DONE else None
    TaskAssignment.objects.filter(pk=mine.pk).update(status=status, completed_at=completed, note=note[:255])
    before = task.status
    task.refresh_status()
    from crm.core.audit import log
    from crm.core.audit.models import AuditEntry

    log.record(user, AuditEntry.Action.UPDATE, task, changes={
        "assignees": [f"{assignee}: {mine.get_status_display()}", f"{assignee}: {TaskStatus(status).label}"]})
    if before != task.status:
        from crm.core.events.bus import emit

        emit("tasks.status_changed", task, user, {"status": task.status})
    return task


@transaction.atomic
def split_task(user, parent_pk, parts):
    """Split a task into sub-tasks: `parts` is a list of (title, assignee, due_at)."""
    parent = get_for_user_or_404(user, Task, parent_pk, "edit")
    if parent.parent_id:
        raise ValidationError({"parent": _("Sub-tasks cannot be split further.")})
    if not parts:
        raise ValidationError(_("Add at least one sub-task."))
    check_people(user, [p[1] for p in parts], "assignees")
    created = []
    for title, assignee, due in parts:
        data = {"title": title, "parent": parent, "priority": parent.priority, "due_at": due or parent.due_at,
                "record_type": parent.record_type, "record_id": parent.record_id, "description": parent.description}
        created.append(services.create(user, Task, data, {"assignees": [assignee]}))
    return created


# --- appointments ------------------------------------------------------------------------------

def _windows(appt, lo, hi):
    length = appt.end_at - appt.start_at
    return [(s, s + length) for s in appt.occurrences(lo, hi)]


def conflicts_for(user, appt, people, limit=20, exclude=()):
    """Appointments of `people` (as owner or invitee) overlapping `appt` (any occurrence over the
    next year for a recurring one), other than `appt` itself. Those `user` may not see are
    listed without their title."""
    people = [p for p in people if p is not None]
    if not people or not appt.start_at or not appt.end_at:
        return []
    lo = appt.start_at
    hi = appt.end_at if not appt.repeat else appt.start_at + CONFLICT_HORIZON
    mine = _windows(appt, lo, hi) if appt.repeat else [(appt.start_at, appt.end_at)]
    if not mine:
        return []
    first, last = mine[0][0], max(e for _s, e in mine)
    ids = [p.pk for p in people]
    who = Q(owner_id__in=ids) | Q(invitees__in=ids)
    when = Q(start_at__lt=last) & (Q(end_at__gt=first) | ~Q(repeat=""))
    qs = Appointment.objects.filter(who, when).distinct().order_by("start_at")
    if appt.pk:
        qs = qs.exclude(pk=appt.pk)
    if exclude:
        qs = qs.exclude(pk__in=list(exclude))
    candidates = list(qs.select_related("owner")[:500])
    visible = set(Appointment.objects.for_user(user).filter(pk__in=[c.pk for c in candidates]).values_list("pk", flat=True))
    invited = {}
    through = Appointment.invitees.through
    for aid, uid in through.objects.filter(appointment_id__in=[c.pk for c in candidates], user_id__in=ids
                                           ).values_list("appointment_id", "user_id"):
        invited.setdefault(aid, set()).add(uid)
    names = {p.pk: str(p) for p in people}
    out = []
    for other in candidates:
        theirs = _windows(other, first, last) if other.repeat else [(other.start_at, other.end_at)]
        hit = next(((s, e) for s, e in theirs for ms, me in mine if s < me and e > ms), None)
        if hit is None:
            continue
        whose = sorted({names[u] for u in invited.get(other.pk, set()) | ({other.owner_id} & set(ids))})
        seen = other.pk in visible
        title = other.title if seen else _("Busy")
        when_text = f"{timezone.localtime(hit[0]):%Y-%m-%d %H:%M}–{timezone.localtime(hit[1]):%H:%M}"
        out.append({"id": other.pk if seen else None, "title": title, "start": hit[0].isoformat(),
                    "end": hit[1].isoformat(), "people": whose,
                    "text": f"{', '.join(whose)}: {title} ({when_text})"})
        if len(out) >= limit:
            break
    return out


class Overlaps(Exception):
    def __init__(self, conflicts):
        self.conflicts = conflicts
        super().__init__(_("This appointment overlaps others."))


@transaction.atomic
def move_appointment(user, pk, start, end, version, force=False):
    """Drag and drop in the calendar: new start/end through the update service (scope, version,
    audit), refused with the overlaps unless `force`."""
    appt = get_for_user_or_404(user, Appointment, pk, "edit")
    if end is None:
        end = start + (appt.end_at - appt.start_at)
    if not force:
        probe = Appointment(pk=appt.pk, start_at=start, end_at=end, repeat=appt.repeat,
                            repeat_interval=appt.repeat_interval, repeat_count=appt.repeat_count,
                            repeat_until=appt.repeat_until)
        found = conflicts_for(user, probe, [appt.owner, *appt.invitees.all()])
        if found:
            raise Overlaps(found)
    return services.update(user, Appointment, appt.pk, {"start_at": start, "end_at": end}, expected_version=version)


# --- notifications -----------------------------------------------------------------------------

KINDS = {
    "task_assigned": _lazy("A task was assigned to me"),
    "task_due": _lazy("A task of mine is due (reminder)"),
    "appointment_reminder": _lazy("An appointment of mine is coming up"),
    "birthday": _lazy("A contact of mine has a birthday soon"),
    "care": _lazy("A care rule fired for a customer of mine"),
}


def register_kinds():
    from crm.core.notifications import register_kind

    for order, (code, label) in enumerate(KINDS.items(), start=30):
        register_kind(code, label, order=order)


def notify(recipients, kind, title, body="", url="", obj=None, actor=None):
    """Through the notification centre (in-app in this transaction, e-mail after commit).
    `title`/`body` may be callables f(user) so each person reads them in their own language."""
    from crm.core.notifications import notify as centre_notify

    return centre_notify(recipients, kind, title, body=body, url=url, obj=obj, actor=actor)


# --- one occurrence of a series (RFC 5545: EXDATE, RECURRENCE-ID, split with UNTIL) --------------

THIS, FOLLOWING, ALL = "this", "following", "all"
SCOPES = (THIS, FOLLOWING, ALL)
SCOPE_LABELS = {THIS: _lazy("This occurrence only"), FOLLOWING: _lazy("This and the following occurrences"),
                ALL: _lazy("The whole series")}
# What an occurrence may change; the rest (recurrence, invitees, link) belongs to the series.
OCCURRENCE_FIELDS = ("title", "start_at", "end_at", "all_day", "location", "description", "remind_before")
_COPIED = ("title", "all_day", "location", "description", "remind_before", "record_type", "record_id")


def _check_scope(scope):
    if scope not in SCOPES:
        raise ValidationError({"scope": _("Choose this occurrence, this and the following ones, or the whole "
                                          "series.")})


def _series_and_occurrence(user, pk, occurrence, version):
    series = get_for_user_or_404(user, Appointment, pk, "edit")
    if not series.repeat:
        raise ValidationError({"occurrence": _("This appointment does not repeat.")})
    if occurrence is None:
        raise ValidationError({"occurrence": _("Give the start of the occurrence.")})
    occurrence = occurrence.replace(microsecond=0)
    if not series.has_occurrence(occurrence):
        raise ValidationError({"occurrence": _("This appointment has no occurrence at that time (any more).")})
    if version is not None and series.version != version:
        raise services.ConflictError(series, version)
    return series, occurrence


def _times(series, occurrence, changes):
    start = changes.get("start_at") or occurrence
    end = changes.get("end_at")
    if end is None:
        end = start + (series.end_at - series.start_at)
    return start.replace(microsecond=0), end.replace(microsecond=0)


def _check_overlaps(user, series, probe, force):
    if force:
        return
    found = [c for c in conflicts_for(user, probe, [series.owner, *series.invitees.all()], exclude=[series.pk])]
    if found:
        raise Overlaps(found)


def _detach_copy(user, series, data, recurrence_id):
    """A new appointment belonging to `series` (owned like it, with its invitees and tags)."""
    values = {f: getattr(series, f) for f in _COPIED}
    values.update(data)
    values.update(series=series if recurrence_id else None, recurrence_id=recurrence_id)
    if not values.get("repeat") and values.get("remind_before") is not None and (
            values["start_at"] - timedelta(minutes=values["remind_before"]) < timezone.now()):
        values["remind_before"] = None  # an occurrence in the past: no reminder to send any more
    m2m = {"invitees": list(series.invitees.all()), "tags": list(series.tags.all())}
    new = services.create(user, Appointment, values, m2m)
    if new.owner_id != series.owner_id:  # an occurrence stays in the series owner's calendar
        Appointment.all_objects.filter(pk=new.pk).update(owner=series.owner_id, department=series.department_id)
        new.owner_id, new.department_id = series.owner_id, series.department_id
    return new


def _shift_keys(keys, delta):
    return [Appointment.exdate_key(Appointment.parse_exdate(k) + delta) for k in keys]


@transaction.atomic
def edit_occurrence(user, pk, occurrence, scope, changes, version=None, force=False):
    """Change one occurrence of a recurring appointment (`scope` "this"), it and the following
    ones ("following": the series ends the day before, a new series starts there), or the
    whole series ("all": a moved occurrence moves every occurrence by as much). `changes` holds
    fields of OCCURRENCE_FIELDS. Version-checked against the series; overlaps refused unless
    `force`. Returns the appointment that now holds the occurrence."""
    _check_scope(scope)
    unknown = set(changes) - set(OCCURRENCE_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: _("This cannot be changed for one occurrence.")})
    series, occurrence = _series_and_occurrence(user, pk, occurrence, version)
    start, end = _times(series, occurrence, changes)
    if end < start:
        raise ValidationError({"end_at": _("The appointment cannot end before it starts.")})
    key = Appointment.exdate_key(occurrence)
    first = occurrence == series.start_at
    if scope == ALL or (scope == FOLLOWING and first):
        return _edit_series(user, series, occurrence, start, end, changes, force)
    if scope == THIS:
        data = {**{k: v for k, v in changes.items()}, "start_at": start, "end_at": end}
        probe = Appointment(start_at=start, end_at=end)
        _check_overlaps(user, series, probe, force)
        services.update(user, Appointment, series.pk, {"exdates": [*series.exdates, key]},
                        expected_version=series.version)
        return _detach_copy(user, series, data, occurrence)
    # FOLLOWING: UNTIL on the old series, a new series from this occurrence.
    delta = start - occurrence
    remaining = None
    if series.repeat_count:
        before = series.occurrence_index(occurrence)
        remaining = series.repeat_count - before
    later = [k for k in series.exdates if k >= key]
    data = {**changes, "start_at": start, "end_at": end, "repeat": series.repeat,
            "repeat_interval": series.repeat_interval, "repeat_count": remaining,
            "repeat_until": None if remaining else series.repeat_until,
            "exdates": _shift_keys(later, delta)}
    probe = Appointment(start_at=start, end_at=end, repeat=series.repeat, repeat_interval=series.repeat_interval,
                        repeat_count=remaining, repeat_until=data["repeat_until"], exdates=data["exdates"])
    _check_overlaps(user, series, probe, force)
    last_day = timezone.localtime(occurrence).date() - timedelta(days=1)
    services.update(user, Appointment, series.pk, {
        "repeat_until": last_day, "repeat_count": None, "exdates": [k for k in series.exdates if k < key]},
        expected_version=series.version)
    new = _detach_copy(user, series, data, None)
    for d in Appointment.all_objects.filter(series=series, recurrence_id__gte=occurrence):
        Appointment.all_objects.filter(pk=d.pk).update(series=new, recurrence_id=d.recurrence_id + delta)
    return new


def _edit_series(user, series, occurrence, start, end, changes, force):
    delta = start - occurrence
    length = end - start
    data = {k: v for k, v in changes.items() if k not in ("start_at", "end_at")}
    data["start_at"] = series.start_at + delta
    data["end_at"] = data["start_at"] + length
    if delta:
        data["exdates"] = _shift_keys(series.exdates, delta)
    probe = Appointment(pk=series.pk, start_at=data["start_at"], end_at=data["end_at"], repeat=series.repeat,
                        repeat_interval=series.repeat_interval, repeat_count=series.repeat_count,
                        repeat_until=series.repeat_until, exdates=data.get("exdates", series.exdates))
    _check_overlaps(user, series, probe, force)
    updated = services.update(user, Appointment, series.pk, data, expected_version=series.version)
    if delta:
        for d in Appointment.all_objects.filter(series=series, recurrence_id__isnull=False):
            Appointment.all_objects.filter(pk=d.pk).update(recurrence_id=d.recurrence_id + delta)
    return updated


@transaction.atomic
def cancel_occurrence(user, pk, occurrence, scope, version=None):
    """Delete one occurrence (EXDATE), it and the following ones (UNTIL the day before), or the
    whole series (to the recycle bin, with its detached occurrences)."""
    _check_scope(scope)
    series, occurrence = _series_and_occurrence(user, pk, occurrence, version)
    key = Appointment.exdate_key(occurrence)
    first = occurrence == series.start_at
    if scope == THIS:
        return services.update(user, Appointment, series.pk, {"exdates": [*series.exdates, key]},
                               expected_version=series.version)
    if scope == ALL or first:
        for d in Appointment.objects.filter(series=series):
            services.delete(user, Appointment, d.pk)
        services.delete(user, Appointment, series.pk)
        return None
    for d in Appointment.objects.filter(series=series, recurrence_id__gte=occurrence):
        services.delete(user, Appointment, d.pk)
    last_day = timezone.localtime(occurrence).date() - timedelta(days=1)
    return services.update(user, Appointment, series.pk, {
        "repeat_until": last_day, "repeat_count": None, "exdates": [k for k in series.exdates if k < key]},
        expected_version=series.version)
