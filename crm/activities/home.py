"""Home page blocks (UX-2): my tasks due today and overdue, my next appointments, reminders.
A fixed number of indexed queries whatever the number of tasks."""

from datetime import datetime, timedelta

from django.db.models import Prefetch
from django.utils import timezone

from crm.core.access.scope import can
from crm.core.ui.home import register_home_block

from .models import Task, TaskAssignment, TaskStatus

ROWS = 8


def my_tasks_block(request):
    user = request.user
    if not can(user, "tasks", "view"):
        return None
    tomorrow = timezone.make_aware(datetime.combine(timezone.localdate() + timedelta(days=1), datetime.min.time()))
    mine = TaskAssignment.objects.filter(user=user, status=TaskStatus.OPEN).values("task_id")
    rows = list(Task.objects.filter(pk__in=mine, due_at__lt=tomorrow).select_related("record_type")
                .prefetch_related(Prefetch("assignments", queryset=TaskAssignment.objects.filter(user=user)))
                .order_by("due_at", "pk")[:ROWS + 1])
    now = timezone.now()
    return {"template": "activities/_home_tasks.html", "rows": rows[:ROWS], "more": len(rows) > ROWS, "now": now,
            "overdue": sum(1 for t in rows if t.due_at < now)}


def my_appointments_block(request):
    user = request.user
    if not can(user, "appointments", "view"):
        return None
    from .views import calendar_queryset

    now = timezone.now()
    horizon = now + timedelta(days=7)
    items = []
    for a in calendar_queryset(user, now, horizon)[:50]:
        for s in a.occurrences(now, horizon)[:3]:
            items.append((s, a))
    items.sort(key=lambda x: x[0])
    return {"template": "activities/_home_appointments.html", "items": items[:ROWS]}


register_home_block(my_tasks_block, order=10)
register_home_block(my_appointments_block, order=20)


def birthdays_block(request):
    """Care (CUS-11): birthdays of my contacts within the reminder lead days."""
    from crm.core.dictionary.parameters import param
    from crm.core.entities.registry import all_specs

    from .reminders import _birthday_in, birthday_cond

    user = request.user
    today = timezone.localdate()
    days = [today + timedelta(days=n) for n in range(param("birthday_reminder_days") + 1)]
    rows = []
    for spec in all_specs():
        if not spec.has_owner or not can(user, spec.key, "view") or "birthday" not in {
                f.name for f in spec.model._meta.concrete_fields}:
            continue
        for obj in spec.model.objects.filter(birthday_cond(days), owner=user)[:ROWS]:
            rows.append((_birthday_in(days, obj.birthday), spec, obj))
    if not rows:
        return None
    rows.sort(key=lambda r: (r[0], str(r[2])))
    return {"template": "activities/_home_birthdays.html", "rows": rows[:ROWS], "today": today}


register_home_block(birthdays_block, order=30)
