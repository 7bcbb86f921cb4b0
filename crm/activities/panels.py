"""Panels and buttons on detail pages: the linked record's open tasks and upcoming appointments
with "Log activity / New task / New appointment" (every linkable entity), a task's assignees
with their own status, its sub-tasks. (Files: the kernel's attachments panel.)"""

from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.core.entities.registry import DetailAction
from crm.core.ui.panels import record_panel

from . import links
from .models import Appointment, Task, TaskStatus


def _link_params(obj):
    return {"record_type": obj.entity_spec.key, "record_id": obj.pk}


def _on(model, obj):
    ct = ContentType.objects.get_for_model(obj)
    return model.objects.filter(record_type=ct, record_id=obj.pk)


def record_tasks_panel(request, obj):
    qs = _on(Task, obj).filter(status=TaskStatus.OPEN).order_by("due_at", "pk")
    return record_panel(request, "tasks", Task, qs, ["title", "due_at", "priority", "owner"], _("Open tasks"),
                        _("New task"), _link_params(obj), limit=10)


def record_appointments_panel(request, obj):
    qs = _on(Appointment, obj).filter(end_at__gte=timezone.now()).order_by("start_at", "pk")
    return record_panel(request, "appointments", Appointment, qs, ["title", "start_at", "location", "owner"],
                        _("Upcoming appointments"), _("New appointment"), _link_params(obj), limit=10)


def attach_to_linkable_entities():
    """Give every entity one can follow up (customers, contacts, …) the panels and the button."""
    for spec in links.linkable_specs():
        if record_tasks_panel not in spec.detail_panels:
            spec.detail_panels += [record_tasks_panel, record_appointments_panel]
            spec.detail_actions += [DetailAction(gettext_lazy("Log activity"), f"{spec.key}-log-activity",
                                                 "chat-left-text")]


def assignments_panel(request, task):
    rows = list(task.assignments.select_related("user").order_by("user__name", "pk"))
    body = render_to_string("activities/_assignments.html", {
        "task": task, "rows": rows, "me": request.user, "now": timezone.now()}, request=request)
    return {"key": "assignments", "title": _("Assignees"), "headers": [], "rows": [], "body": mark_safe(body),
            "add_url": None, "more": False}


def subtasks_panel(request, task):
    if task.parent_id:
        return None
    qs = Task.objects.filter(parent=task).order_by("due_at", "pk")
    return record_panel(request, "subtasks", Task, qs, ["title", "status", "due_at", "owner"], _("Sub-tasks"),
                        _("New sub-task"), {"parent": task.pk, **({"record_type": links.key_for_content_type(
                            task.record_type), "record_id": task.record_id} if task.record_type_id else {})})


OCCURRENCES_SHOWN = 10


def occurrences_panel(request, appt):
    """A series' next occurrences, each with its page to change or cancel it (ACT-2)."""
    if not appt.repeat:
        series = Appointment.objects.for_user(request.user).filter(pk=appt.series_id).first() if appt.series_id else None
        if series is None:
            return None
        body = render_to_string("activities/_occurrences.html", {"appt": appt, "series": series}, request=request)
        return {"key": "occurrences", "title": _("Series"), "headers": [], "rows": [], "count": 1,
                "body": mark_safe(body), "add_url": None, "more": False}
    now = timezone.now()
    upcoming = appt.occurrences(max(now, appt.start_at - timedelta(seconds=1)), now + timedelta(days=400))
    detached = list(Appointment.objects.for_user(request.user).filter(series=appt).order_by("start_at", "pk")[:50])
    body = render_to_string("activities/_occurrences.html", {
        "appt": appt, "upcoming": upcoming[:OCCURRENCES_SHOWN], "more": len(upcoming) > OCCURRENCES_SHOWN,
        "detached": detached, "cancelled": len(appt.exdates or ()) - len(detached)}, request=request)
    return {"key": "occurrences", "title": _("Occurrences"), "headers": [], "rows": [],
            "count": len(upcoming), "body": mark_safe(body), "add_url": None, "more": False}
