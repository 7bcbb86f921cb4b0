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

from crm.core.access.scope import can, get_for_user_or_404
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
    may_edit = can(user, "tasks", "edit") and Task.objects.for_user(user, "edit").filter(pk=task.pk).exists()
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


def conflicts_for(user, appt, people, limit=20):
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
