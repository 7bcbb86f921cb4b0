"""Tasks (ACT-3, WF-1, ACT-4, UX-2): several assignees each with their own status, splitting
into sub-tasks, my / team / overdue lists within the data scope, reminders ahead of time sent
once (controlled clock), refused bad input, and the home page blocks."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm.activities import reminders
from crm.activities.models import Task, TaskAssignment
from crm.core.entities import services
from crm.core.notifications.models import Notification
from crm.core.testing.clients import api_as, browser
from crm.core.testing.org import Scope, make_user
from crm.activities.testing import work_user

pytestmark = pytest.mark.django_db



@pytest.fixture
def alice(depts):
    return work_user("alice", depts["sales1"])


@pytest.fixture
def bob(depts):
    return work_user("bob", depts["sales1"])


@pytest.fixture
def gina(depts):
    return work_user("gina", depts["guangzhou"])


def local(dt):
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


def task_post(**over):
    data = {"title": "Prepare the offer", "priority": "high", "due_at": "", "remind_before": "",
            "record_type": "", "record_id": "", "parent": "", "description": "", "tags": ""}
    data.update(over)
    return data


def new_task(user, title, assignees=None, **data):
    return services.create(user, Task, {"title": title, **data}, {"assignees": assignees or [user]})


def notified(user, kind):
    return list(Notification.objects.filter(recipient=user, kind=kind).values_list("title", flat=True))


def test_several_assignees_each_complete_their_own_part(depts, alice, bob, django_capture_on_commit_callbacks):
    carol = make_user("carol", depts["sales1"], {"tasks": Scope.OWN})  # may change only her own tasks
    page = browser(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = page.post(reverse("tasks-create"), task_post(assignees=[alice.pk, bob.pk]))
    assert response.status_code == 302, response.content.decode()[:3000]
    task = Task.objects.get(title="Prepare the offer")
    assert set(task.assignments.values_list("user__username", "status")) == {("alice", "open"), ("bob", "open")}
    # Bob hears about it; Alice gave it to herself and is not told.
    assert notified(bob, "task_assigned") == ["New task for you: Prepare the offer"]
    assert notified(alice, "task_assigned") == []

    services.update(alice, Task, task.pk, {}, {"assignees": [alice, bob, carol]})
    page.post(reverse("task-status", args=[task.pk]), {"status": "done"})
    task.refresh_from_db()
    assert task.status == "open"  # Bob and Carol have not finished
    assert TaskAssignment.objects.get(task=task, user=alice).completed_at is not None
    detail = browser(bob).get(reverse("tasks-detail", args=[task.pk])).content.decode()
    assert "Mark my part done" in detail

    # Carol (no right to edit others' tasks) cannot tick Alice's part back open for her.
    refused = browser(carol).post(reverse("task-status", args=[task.pk]), {"status": "open", "user": alice.pk})
    assert refused.status_code == 403
    assert TaskAssignment.objects.get(task=task, user=alice).status == "done"
    assert browser(carol).get(reverse("tasks-tab", args=["open"])).content.decode().count(f'data-task="{task.pk}"') == 1
    browser(carol).post(reverse("task-status", args=[task.pk]), {"status": "done"})
    browser(bob).post(reverse("task-status", args=[task.pk]), {"status": "done"})
    task.refresh_from_db()
    assert task.status == "done" and task.completed_at is not None
    # Reopening one part reopens the task.
    browser(bob).post(reverse("task-status", args=[task.pk]), {"status": "open"})
    task.refresh_from_db()
    assert task.status == "open" and task.completed_at is None
    browser(bob).post(reverse("task-status", args=[task.pk]), {"status": "done"})
    task.refresh_from_db()
    assert task.status == "done"
    # So does giving it to one more person, who is told about it.
    dave = make_user("dave", alice.department, {"tasks": Scope.OWN}, email="dave@example.com", language="en")
    with django_capture_on_commit_callbacks(execute=True):
        services.update(alice, Task, task.pk, {}, {"assignees": [alice, bob, carol, dave]})
    task.refresh_from_db()
    assert task.status == "open"
    assert notified(dave, "task_assigned") == ["New task for you: Prepare the offer"]
    assert len(notified(bob, "task_assigned")) == 1  # not told twice


def test_split_into_sub_tasks_for_several_people(alice, bob):
    parent = new_task(alice, "Trade fair", due_at=timezone.now() + timedelta(days=10))
    page = browser(alice)
    assert page.get(reverse("tasks-detail", args=[parent.pk])).content.decode().count(
        reverse("task-split", args=[parent.pk])) == 1
    response = page.post(reverse("task-split", args=[parent.pk]), {
        "title": ["Book the booth", "Print brochures", ""], "assignee": [alice.pk, bob.pk, ""],
        "due_at": ["", local(timezone.now() + timedelta(days=5)), ""]})
    assert response.status_code == 302
    subs = list(Task.objects.filter(parent=parent).order_by("title"))
    assert [s.title for s in subs] == ["Book the booth", "Print brochures"]
    assert [list(s.assignees.values_list("username", flat=True)) for s in subs] == [["alice"], ["bob"]]
    assert subs[0].due_at == parent.due_at and subs[1].due_at < parent.due_at
    html = page.get(reverse("tasks-detail", args=[parent.pk])).content.decode()
    assert "Book the booth" in html and "Print brochures" in html
    # A sub-task is not split again.
    again = page.post(reverse("task-split", args=[subs[0].pk]), {"title": ["x"], "assignee": [alice.pk], "due_at": [""]})
    assert again.status_code == 400 and "cannot be split further" in again.content.decode()
    assert Task.objects.filter(parent=subs[0]).count() == 0


def test_my_team_and_overdue_lists_are_scoped(alice, bob, gina):
    now = timezone.now()
    overdue = new_task(alice, "Overdue call back", due_at=now - timedelta(days=1))
    today = new_task(alice, "Due later today", due_at=timezone.localtime(now).replace(hour=23, minute=58))
    later = new_task(alice, "Next week", due_at=now + timedelta(days=7))
    bobs = new_task(bob, "Bob's own task", due_at=now - timedelta(hours=2))
    ginas = new_task(gina, "Guangzhou task", due_at=now - timedelta(hours=2))
    page = browser(alice)

    def titles(tab, **params):
        html = page.get(reverse("tasks-tab", args=[tab]), params).content.decode()
        return {t.title for t in (overdue, today, later, bobs, ginas) if f'data-task="{t.pk}"' in html}

    assert titles("overdue") == {"Overdue call back"}
    assert titles("today") == {"Overdue call back", "Due later today"}
    assert titles("open") == {"Overdue call back", "Due later today", "Next week"}
    assert titles("team") == {"Overdue call back", "Due later today", "Next week", "Bob's own task"}
    assert titles("team", overdue=1) == {"Overdue call back", "Bob's own task"}
    assert titles("team", person=gina.pk) == set()  # never another department's tasks
    page.post(reverse("task-status", args=[later.pk]), {"status": "done"})
    assert titles("done") == {"Next week"}
    assert page.get(reverse("tasks-tab", args=["nonsense"])).status_code == 404


def test_a_reminder_in_the_past_is_refused(alice):
    past_due = timezone.now() + timedelta(minutes=30)
    response = browser(alice).post(reverse("tasks-create"), task_post(due_at=local(past_due), remind_before="1440"))
    assert response.status_code == 400
    assert "reminder would be in the past" in response.content.decode()
    no_due = browser(alice).post(reverse("tasks-create"), task_post(remind_before="60"))
    assert no_due.status_code == 400 and "A reminder needs a due date." in no_due.content.decode()
    api = api_as(alice)
    refused = api.post("/api/v1/tasks/", {"title": "x", "due_at": past_due.isoformat(), "remind_before": 1440})
    assert refused.status_code == 400 and "remind_before" in refused.json()["error"]["fields"]
    assert not Task.all_objects.exists() and not TaskAssignment.objects.exists()


def test_assignees_outside_the_scope_are_refused(alice, gina):
    response = browser(alice).post(reverse("tasks-create"), task_post(assignees=[gina.pk]))
    assert response.status_code == 400
    assert "outside your data scope" in response.content.decode()
    refused = api_as(alice).post("/api/v1/tasks/", {"title": "x", "assignees": [gina.pk]})
    assert refused.status_code == 400 and "assignees" in refused.json()["error"]["fields"]
    assert not Task.all_objects.exists() and not TaskAssignment.objects.exists()
    # Without assignees, the task is the creator's.
    made = api_as(alice).post("/api/v1/tasks/", {"title": "Mine by default"})
    assert made.status_code == 201
    assert made.json()["assignees"] == [alice.pk] and made.json()["assignments"][0]["status"] == "open"


def test_due_reminder_is_sent_once_at_its_time(alice, bob):
    bob.language = "zh-hans"  # each person reads reminders in their own language
    bob.save(update_fields=["language"])
    start = timezone.now()
    task = new_task(alice, "Call the buyer", [alice, bob], due_at=start + timedelta(hours=2), remind_before=60)
    assert task.remind_at == task.due_at - timedelta(hours=1)
    assert reminders.send_task_reminders(start) == 0  # too early
    at = start + timedelta(hours=1, minutes=1)
    assert reminders.send_task_reminders(at) == 2
    assert reminders.send_task_reminders(at + timedelta(minutes=1)) == 0  # never twice
    assert notified(alice, "task_due") == ["Task due: Call the buyer"]
    assert notified(bob, "task_due") == ["任务到期：Call the buyer"]
    # Someone who finished their part is not reminded of a changed due date; the others are.
    services.update(alice, Task, task.pk, {"due_at": start + timedelta(hours=5)})
    TaskAssignment.objects.filter(task=task, user=bob).update(status="done")
    assert reminders.send_task_reminders(start + timedelta(hours=4, minutes=1)) == 1
    assert len(notified(alice, "task_due")) == 2 and len(notified(bob, "task_due")) == 1


def test_home_page_shows_today_and_overdue_tasks_with_a_constant_query_count(alice):
    page = browser(alice)
    now = timezone.now()

    def queries():
        page.get(reverse("home"))
        with CaptureQueriesContext(connection) as ctx:
            response = page.get(reverse("home"))
        assert response.status_code == 200
        return len(ctx.captured_queries), response.content.decode()

    new_task(alice, "Overdue one", due_at=now - timedelta(days=2))
    new_task(alice, "Tomorrow's", due_at=now + timedelta(days=2))
    few, html = queries()
    block = html.split('data-testid="home-my-tasks"')[1].split("</ul>")[0]
    assert "Overdue one" in block and "Tomorrow" not in block
    assert "1 overdue" in block
    for i in range(6):
        new_task(alice, f"Overdue {i}", due_at=now - timedelta(hours=i + 1))
    many, html = queries()
    assert "Overdue 5" in html.split('data-testid="home-my-tasks"')[1].split("</ul>")[0]
    assert many == few
