"""The calendar in a real browser (ACT-2): create an appointment through the form, see it in
FullCalendar, drag it onto a colleague's appointment, get the conflict warning, save anyway,
and find it moved; no CSP violations or script errors on the way."""

import re
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from crm.activities.models import Appointment
from crm.core.entities import services
from crm.core.testing.org import Scope, make_tree, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

GRANTS = {"appointments": Scope.DEPARTMENT, "tasks": Scope.DEPARTMENT, "activities": Scope.DEPARTMENT,
          ("employees", "view"): Scope.DEPARTMENT}


@pytest.fixture
def people():
    depts = make_tree()
    return (make_user("planner", depts["sales1"], GRANTS, name="Pat Planner"),
            make_user("colleague", depts["sales1"], GRANTS, name="Cory Colleague"))


def today_at(hour):
    day = timezone.localdate()
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour))


def test_create_and_drag_an_appointment(ui, people):
    planner, colleague = people
    page = ui.page
    ui.login("planner")

    ui.go("/appointments/new/")
    page.fill("#id_title", "Customer visit")
    page.fill("#id_start_at", timezone.localtime(today_at(9)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#id_end_at", timezone.localtime(today_at(10)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#id_location", "Acme, Shanghai")
    with page.expect_navigation():
        page.click("[data-testid=save]")
    assert re.search(r"/appointments/\d+/$", page.url)
    visit = Appointment.objects.get(title="Customer visit")
    services.update(planner, Appointment, visit.pk, {}, {"invitees": [colleague]})
    services.create(colleague, Appointment, {"title": "Colleague's call", "start_at": today_at(13),
                                             "end_at": today_at(14)})

    ui.go("/calendar/")
    page.wait_for_selector("#calendar[data-loaded='1']")
    event = page.locator(f"[data-appointment='{visit.pk}']").first
    event.wait_for()
    box = event.bounding_box()
    target = page.locator(".fc-timegrid-slot-lane[data-time='13:00:00']").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 5)
    page.mouse.down()
    steps = 20
    for i in range(1, steps + 1):
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 5 + (target["y"] + 3 - box["y"] - 5) * i / steps)
    page.mouse.up()

    page.wait_for_selector("#calendar[data-last-move='conflict']")
    warning = page.locator("[data-testid=cal-conflict]")
    assert warning.is_visible()
    assert "Colleague" in warning.inner_text()
    visit.refresh_from_db()
    assert timezone.localtime(visit.start_at).hour == 9  # not moved until the user decides
    page.click("[data-testid=cal-save-anyway]")
    page.wait_for_selector("#calendar[data-last-move='ok']")
    visit.refresh_from_db()
    assert timezone.localtime(visit.start_at).hour == 13
    assert visit.end_at - visit.start_at == timedelta(hours=1)
    ui.screenshot("calendar-week")
    ui.go("/")
    page.wait_for_selector("[data-testid=home-appointments]")
    ui.screenshot("home-with-work")
    ui.log.assert_clean()


def test_drag_one_occurrence_of_a_series_this_occurrence_only(ui, people):
    """A daily series: drag today's occurrence to 13:00, choose "This occurrence only"; the others
    stay at 9:00 and the moved one becomes its own appointment of the series (RECURRENCE-ID)."""
    planner, _colleague = people
    page = ui.page
    series = services.create(planner, Appointment, {"title": "Daily stand-up", "start_at": today_at(9),
                                                    "end_at": today_at(10), "repeat": "DAILY", "repeat_count": 3})
    ui.login("planner")
    ui.go("/calendar/")
    page.wait_for_selector("#calendar[data-loaded='1']")
    day = timezone.localdate().isoformat()
    event = page.locator(f"td.fc-timegrid-col[data-date='{day}'] [data-appointment='{series.pk}']").first
    event.wait_for()
    box = event.bounding_box()
    target = page.locator(".fc-timegrid-slot-lane[data-time='13:00:00']").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 5)
    page.mouse.down()
    steps = 20
    for i in range(1, steps + 1):
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 5 + (target["y"] + 3 - box["y"] - 5) * i / steps)
    page.mouse.up()

    page.wait_for_selector("#calendar[data-last-move='choose']")
    assert page.locator("[data-testid=cal-scope]").is_visible()
    assert not Appointment.objects.filter(series=series).exists()  # nothing saved before the choice
    page.click("[data-testid=cal-scope-this]")
    page.wait_for_selector("#calendar[data-last-move='ok']")
    moved = Appointment.objects.get(series=series)
    assert timezone.localtime(moved.start_at).hour == 13 and moved.recurrence_id == today_at(9)
    series.refresh_from_db()
    assert series.exdates == [Appointment.exdate_key(today_at(9))] and series.start_at == today_at(9)
    page.wait_for_selector(f"[data-appointment='{moved.pk}']")  # the calendar reloaded the moved occurrence
    ui.screenshot("calendar-occurrence-moved")
    ui.log.assert_clean()
