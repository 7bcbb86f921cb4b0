"""Test data for the generated test kit (crm/core/testing/kit.py)."""

from datetime import timedelta

from django.utils import timezone

from crm.core.access.levels import Scope
from crm.core.testing.kit import EntityTestData, unique
from crm.core.testing.org import make_user

from .models import Activity, Appointment, CareRule, Task, TaskAssignment


class ActivityTestData(EntityTestData):
    lookup_field = "subject"

    def make(self, owner, department, **fields):
        fields.setdefault("subject", unique("act"))
        fields.setdefault("kind", "call")
        return Activity.objects.create(owner=owner, department=department, **fields)

    def create_payload(self, ctx):
        return {"subject": unique("act"), "kind": "visit", "duration_minutes": 30, "outcome": "Interested",
                "tags": ["kit"]}

    def edit_payload(self, obj):
        return {"subject": f"{obj.subject} edited"}


class TaskTestData(EntityTestData):
    lookup_field = "title"

    def make(self, owner, department, **fields):
        fields.setdefault("title", unique("task"))
        task = Task.objects.create(owner=owner, department=department, **fields)
        if owner is not None:
            TaskAssignment.objects.create(task=task, user=owner)
        return task

    def create_payload(self, ctx):
        return {"title": unique("task"), "priority": "high", "tags": ["kit"]}

    def edit_payload(self, obj):
        return {"title": f"{obj.title} edited"}


class AppointmentTestData(EntityTestData):
    lookup_field = "title"

    def make(self, owner, department, **fields):
        fields.setdefault("title", unique("appt"))
        start = fields.pop("start_at", timezone.now() + timedelta(days=1))
        fields.setdefault("end_at", start + timedelta(hours=1))
        return Appointment.objects.create(owner=owner, department=department, start_at=start, **fields)

    def create_payload(self, ctx):
        start = (timezone.localtime() + timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0)
        return {"title": unique("appt"), "start_at": start.isoformat(), "end_at": (start + timedelta(hours=1)).isoformat(),
                "location": "Room 1", "tags": ["kit"]}

    def form_data(self, payload):
        data = super().form_data(payload)
        for name in ("start_at", "end_at"):
            if name in data:
                data[name] = timezone.localtime(timezone.datetime.fromisoformat(data[name])).strftime("%Y-%m-%dT%H:%M")
        return data

    def edit_payload(self, obj):
        return {"title": f"{obj.title} edited"}


class CareRuleTestData(EntityTestData):
    def make(self, owner, department, **fields):
        fields.setdefault("name", unique("care"))
        return CareRule.objects.create(**fields)

    def create_payload(self, ctx):
        return {"name": unique("care"), "is_active": True, "trigger": "no_follow_up", "days": 30,
                "message": "Call them", "create_task": True}


# Grants of the work-and-time tests' users: their department's activities, tasks and appointments,
# their own customers and contacts.
WORK = {"activities": Scope.DEPARTMENT, "tasks": Scope.DEPARTMENT, "appointments": Scope.DEPARTMENT,
        "customers": Scope.OWN, "contacts": Scope.OWN, ("employees", "view"): Scope.DEPARTMENT}


def work_user(username, department, **fields):
    """A colleague with the WORK grants, reading in English (reminders use each user's language)."""
    return make_user(username, department, fields.pop("grants", WORK), email=f"{username}@example.com",
                     language="en", **fields)
