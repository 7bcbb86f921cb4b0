"""Calendar (ACT-2, ACT-4, ACT-5, CUS-11): the JSON feed within the data scope, the conflict
warning on create, edit, API and drag, recurrence, refused bad input, the private iCalendar
feed parsed back with `icalendar`, reminders and birthdays sent once on a controlled clock."""

from datetime import date, datetime, timedelta

import icalendar
import pytest
from django.urls import reverse
from django.utils import timezone

from crm.activities import reminders
from crm.activities.models import Appointment, CalendarFeed
from crm.core.dictionary.models import ParameterValue
from crm.core.entities import services
from crm.core.notifications.models import Notification
from crm.core.testing.clients import api_as, browser
from crm.core.testing.org import Scope, make_user
from crm.customers.models import Contact, Customer
from crm.activities.testing import WORK, work_user

pytestmark = pytest.mark.django_db



@pytest.fixture
def alice(depts):
    return work_user("alice", depts["sales1"])


@pytest.fixture
def bob(depts):
    return work_user("bob", depts["sales1"])


@pytest.fixture
def gina(depts):
    return work_user("gina", depts["guangzhou"], grants={**WORK, ("employees", "view"): Scope.ALL})


def at(days, hour, minute=0):
    """A local wall-clock time `days` from today."""
    day = timezone.localdate() + timedelta(days=days)
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour, minute))


def local(dt):
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


def appt(user, title, start, hours=1, invitees=(), **data):
    return services.create(user, Appointment, {"title": title, "start_at": start,
                                               "end_at": start + timedelta(hours=hours), **data},
                           {"invitees": list(invitees)})


def appt_post(**over):
    data = {"title": "Visit Acme", "start_at": local(at(2, 10)), "end_at": local(at(2, 11)), "location": "Acme",
            "remind_before": "", "repeat": "", "repeat_interval": "1", "repeat_count": "", "repeat_until": "",
            "record_type": "", "record_id": "", "description": "", "tags": ""}
    data.update(over)
    return data


def feed(client, start, end, **params):
    response = client.get(reverse("calendar-events"), {"start": start.isoformat(), "end": end.isoformat(), **params})
    assert response.status_code == 200, response.content
    return response.json()


def test_calendar_feed_is_scoped(alice, bob, gina):
    mine = appt(alice, "Alice's meeting", at(1, 9))
    bobs = appt(bob, "Bob's meeting", at(1, 11))
    invited = appt(gina, "Guangzhou, Alice invited", at(1, 14), invitees=[alice])
    secret = appt(gina, "Guangzhou internal", at(1, 16))
    page = browser(alice)
    start, end = at(0, 0), at(7, 0)
    ids = lambda events: {e["extendedProps"]["pk"] for e in events}  # noqa: E731
    assert ids(feed(page, start, end)) == {mine.pk, invited.pk}
    assert ids(feed(page, start, end, who="team")) == {mine.pk, bobs.pk, invited.pk}
    assert ids(feed(page, start, end, who="team", person=bob.pk)) == {bobs.pk}
    assert ids(feed(page, start, end, who="team", person=gina.pk)) == {invited.pk}  # never her own calendar
    assert secret.pk not in ids(feed(page, start, end, who="team", person=gina.pk))
    # The invitation is readable (an invitee sees it) but only its owner's side may move it.
    events = {e["extendedProps"]["pk"]: e for e in feed(page, start, end)}
    assert events[mine.pk]["editable"] and not events[invited.pk]["editable"]
    assert page.get(reverse("appointments-detail", args=[invited.pk])).status_code == 200
    assert page.get(reverse("appointments-detail", args=[secret.pk])).status_code == 404
    assert page.get(reverse("calendar-events"), {"start": "x", "end": "y"}).status_code == 400
    calendar = page.get(reverse("calendar")).content.decode()
    assert "vendor/fullcalendar/fullcalendar.min.js" in calendar and "activities/calendar.js" in calendar


def test_conflict_warning_on_the_form_and_save_anyway(depts, alice, bob):
    busy = appt(bob, "Bob at the dentist", at(2, 10, 30))
    page = browser(alice)
    response = page.post(reverse("appointments-create"), appt_post(invitees=[bob.pk]))
    assert response.status_code == 400
    html = response.content.decode()
    assert "This appointment overlaps others" in html and "Bob at the dentist" in html
    assert not Appointment.objects.filter(title="Visit Acme").exists()
    response = page.post(reverse("appointments-create"), appt_post(invitees=[bob.pk], save_anyway="on"))
    assert response.status_code == 302
    created = Appointment.objects.get(title="Visit Acme")
    assert list(created.invitees.all()) == [bob]

    # Someone who may not see Bob's appointment learns only that Bob is busy.
    carol = make_user("carol", depts["sales1"], {"appointments": Scope.OWN, ("employees", "view"): Scope.DEPARTMENT})
    response = browser(carol).post(reverse("appointments-create"), appt_post(title="Carol's", invitees=[bob.pk]))
    assert response.status_code == 400
    text = response.content.decode()
    assert "Busy" in text and "Bob at the dentist" not in text
    # A time next to it is no conflict.
    response = page.post(reverse("appointments-create"), appt_post(
        title="Later", start_at=local(at(2, 11, 30)), end_at=local(at(2, 12)), invitees=[bob.pk]))
    assert response.status_code == 302
    assert busy.pk


def test_conflict_warning_in_the_api(alice, bob):
    appt(bob, "Bob busy", at(3, 9), hours=3)
    api = api_as(alice)
    body = {"title": "Review", "start_at": at(3, 10).isoformat(), "end_at": at(3, 11).isoformat(), "invitees": [bob.pk]}
    refused = api.post("/api/v1/appointments/", body)
    assert refused.status_code == 400
    assert "Bob busy" in " ".join(refused.json()["error"]["fields"]["start_at"])
    assert not Appointment.objects.filter(title="Review").exists()
    made = api.post("/api/v1/appointments/?force=1", {**body, "force": True})
    assert made.status_code == 201 and made.json()["invitees"] == [bob.pk]


def test_drag_to_reschedule_checks_conflicts_versions_and_scope(alice, bob, gina):
    mine = appt(alice, "Movable", at(4, 9), invitees=[bob])
    appt(bob, "Bob's call", at(4, 14))
    theirs = appt(gina, "Not yours", at(4, 9))
    page = browser(alice)
    url = reverse("calendar-move", args=[mine.pk])
    body = {"start": at(4, 14, 15).isoformat(), "end": at(4, 15, 15).isoformat(), "version": mine.version}
    clash = page.post(url, body, content_type="application/json")
    assert clash.status_code == 409
    assert [c["title"] for c in clash.json()["conflicts"]] == ["Bob's call"]
    mine.refresh_from_db()
    assert mine.start_at == at(4, 9)  # nothing moved yet
    ok = page.post(url, {**body, "force": 1}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["version"] == mine.version + 1
    mine.refresh_from_db()
    assert mine.start_at == at(4, 14, 15) and mine.end_at == at(4, 15, 15)
    stale = page.post(url, {"start": at(4, 8).isoformat(), "version": mine.version - 1, "force": 1},
                      content_type="application/json")
    assert stale.status_code == 409 and stale.json()["changed"]
    backwards = page.post(url, {"start": at(4, 8).isoformat(), "end": at(4, 7).isoformat(),
                                "version": mine.version, "force": 1}, content_type="application/json")
    assert backwards.status_code == 400 and "cannot end before it starts" in backwards.json()["error"]
    foreign = page.post(reverse("calendar-move", args=[theirs.pk]), {**body, "version": theirs.version},
                        content_type="application/json")
    assert foreign.status_code == 404
    theirs.refresh_from_db()
    assert theirs.start_at == at(4, 9)


def test_recurrence_expands_and_invalid_recurrence_is_refused(alice):
    page = browser(alice)
    response = page.post(reverse("appointments-create"), appt_post(
        title="Weekly sync", start_at=local(at(1, 9)), end_at=local(at(1, 10)), repeat="WEEKLY", repeat_count="3"))
    assert response.status_code == 302, response.content.decode()[:3000]
    weekly = Appointment.objects.get(title="Weekly sync")
    assert weekly.rrule_string() == "FREQ=WEEKLY;INTERVAL=1;COUNT=3"
    events = [e for e in feed(page, at(0, 0), at(40, 0)) if e["extendedProps"]["pk"] == weekly.pk]
    assert [e["start"][:16] for e in events] == [local(at(d, 9)) for d in (1, 8, 15)]
    # Occurrences can be dragged: each names its start in the series (tests/test_recurrence_exceptions.py).
    assert all(e["editable"] and e["extendedProps"]["occurrence"] for e in events)
    daily = appt(alice, "Stand-up", at(1, 8), repeat="DAILY", repeat_interval=2,
                 repeat_until=timezone.localdate() + timedelta(days=7))
    starts = [o for o in daily.occurrences(at(0, 0), at(30, 0))]
    assert starts == [at(d, 8) for d in (1, 3, 5, 7)]

    bad = [
        ({"repeat": "WEEKLY", "repeat_count": "3", "repeat_until": (timezone.localdate() + timedelta(days=30)).isoformat()},
         "repeat_until", "either a number of times or an end date"),
        ({"repeat": "WEEKLY", "repeat_interval": "0"}, "repeat_interval", ""),
        ({"repeat": "", "repeat_count": "5"}, "repeat", "Choose how the appointment repeats"),
        ({"repeat": "YEARLY"}, "repeat", ""),
        ({"repeat": "DAILY", "repeat_until": (timezone.localdate() - timedelta(days=1)).isoformat()}, "repeat_until",
         "cannot end before the first"),
    ]
    for over, field, message in bad:
        response = page.post(reverse("appointments-create"), appt_post(title="Bad", **over))
        assert response.status_code == 400, over
        html = response.content.decode()
        assert f'data-error-for="{field}"' in html, over
        assert message in html
    api = api_as(alice)
    refused = api.post("/api/v1/appointments/", {"title": "Bad", "start_at": at(1, 9).isoformat(),
                                                 "end_at": at(1, 10).isoformat(), "repeat": "WEEKLY",
                                                 "repeat_count": 2, "repeat_until": "2099-01-01"})
    assert refused.status_code == 400 and "repeat_until" in refused.json()["error"]["fields"]
    assert not Appointment.all_objects.filter(title="Bad").exists()


def test_end_before_start_and_reminder_in_the_past_are_refused(alice):
    page = browser(alice)
    response = page.post(reverse("appointments-create"), appt_post(start_at=local(at(2, 11)), end_at=local(at(2, 10))))
    assert response.status_code == 400
    assert "The appointment cannot end before it starts." in response.content.decode()
    soon = timezone.now() + timedelta(minutes=10)
    response = page.post(reverse("appointments-create"), appt_post(
        start_at=local(soon), end_at=local(soon + timedelta(hours=1)), remind_before="60"))
    assert response.status_code == 400 and "reminder would be in the past" in response.content.decode()
    api = api_as(alice)
    refused = api.post("/api/v1/appointments/", {"title": "x", "start_at": at(2, 11).isoformat(),
                                                 "end_at": at(2, 10).isoformat()})
    assert refused.status_code == 400 and "end_at" in refused.json()["error"]["fields"]
    assert not Appointment.all_objects.exists()


def test_ical_feed_parses_and_a_revoked_token_is_404(client, alice, bob, gina):
    weekly = appt(alice, "Weekly review", at(1, 9), repeat="WEEKLY", repeat_count=4, location="Room 5",
                  remind_before=15)
    invited = appt(gina, "Invited by Gina", at(2, 15), hours=2, invitees=[alice])
    appt(bob, "Bob only", at(2, 10))
    page = browser(alice)
    shown = page.post(reverse("calendar-subscribe"), {"action": "issue"})
    assert shown.status_code == 200
    url = shown.context["url"]
    assert url.startswith("http://testserver/calendar/feed/") and url.endswith(".ics")
    path = url.removeprefix("http://testserver")
    response = client.get(path)  # no session: the token is the key
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(response.content)
    events = {str(e["summary"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {"Weekly review", "Invited by Gina"}
    ev = events["Weekly review"]
    assert ev.decoded("dtstart") == weekly.start_at and ev.decoded("dtend") == weekly.end_at
    assert ev["rrule"]["FREQ"] == ["WEEKLY"] and ev["rrule"]["COUNT"] == [4]
    assert str(ev["location"]) == "Room 5"
    assert ev.walk("VALARM")[0].decoded("trigger") == -timedelta(minutes=15)
    assert events["Invited by Gina"].decoded("dtstart") == invited.start_at
    assert "alice@example.com" in str(events["Invited by Gina"]["attendee"])

    page.post(reverse("calendar-subscribe"), {"action": "issue"})  # reset: the old address dies
    assert client.get(path).status_code == 404
    page.post(reverse("calendar-subscribe"), {"action": "revoke"})
    assert not CalendarFeed.objects.filter(user=alice).exists()
    assert client.get("/calendar/feed/not-a-token.ics").status_code == 404


def test_appointment_reminders_are_sent_once_per_occurrence(alice, bob):
    start = timezone.now()
    series = appt(alice, "Daily check", start + timedelta(hours=2), invitees=[bob], repeat="DAILY", repeat_count=3,
                  remind_before=30)
    first = series.start_at - timedelta(minutes=30)
    assert series.remind_at == first
    assert reminders.send_appointment_reminders(first - timedelta(minutes=1)) == 0
    assert reminders.send_appointment_reminders(first) == 2  # owner and invitee
    assert reminders.send_appointment_reminders(first + timedelta(minutes=1)) == 0
    series.refresh_from_db()
    assert series.remind_at == first + timedelta(days=1)  # on to the next occurrence
    assert reminders.send_appointment_reminders(first + timedelta(days=1)) == 2
    titles = list(Notification.objects.filter(recipient=bob, kind="appointment_reminder").values_list("title", flat=True))
    assert len(titles) == 2 and all("Daily check" in t for t in titles)


def test_birthday_reminders_follow_the_lead_days_and_are_sent_once(alice):
    customer = services.create(alice, Customer, {"name": "Acme"})
    services.create(alice, Contact, {"customer": customer, "name": "Li Lei", "birthday": date(1980, 5, 10)})
    services.create(alice, Contact, {"customer": customer, "name": "Leap Day", "birthday": date(1988, 2, 29)})
    ParameterValue.objects.create(key="birthday_reminder_days", value=3)
    assert reminders.send_birthday_reminders(date(2026, 5, 6)) == 0  # four days ahead: too early
    assert reminders.send_birthday_reminders(date(2026, 5, 7)) == 1
    assert reminders.send_birthday_reminders(date(2026, 5, 8)) == 0  # already reminded this year
    titles = list(Notification.objects.filter(recipient=alice, kind="birthday").values_list("title", flat=True))
    assert titles == ["Birthday of Li Lei on 05-10"]
    assert reminders.send_birthday_reminders(date(2027, 5, 9)) == 1  # next year again
    # 29 February is remembered on 28 February in other years.
    assert reminders.send_birthday_reminders(date(2027, 2, 27)) == 1
    assert reminders.send_birthday_reminders(date(2027, 2, 28)) == 0


def test_home_page_lists_my_contacts_birthdays_within_the_lead_days(alice, bob):
    today = timezone.localdate()
    customer = services.create(alice, Customer, {"name": "Acme"})
    soon = today + timedelta(days=2)
    services.create(alice, Contact, {"customer": customer, "name": "Soon Birthday",
                                     "birthday": soon.replace(year=1985 if soon.month != 2 or soon.day != 29 else 1984)})
    far = today + timedelta(days=30)
    services.create(alice, Contact, {"customer": customer, "name": "Far Birthday",
                                     "birthday": far.replace(year=1985 if far.month != 2 or far.day != 29 else 1984)})
    html = browser(alice).get(reverse("home")).content.decode()
    block = html.split('data-testid="home-birthdays"')[1].split("</ul>")[0]
    assert "Soon Birthday" in block and "Far Birthday" not in block
    assert 'data-testid="home-birthdays"' not in browser(bob).get(reverse("home")).content.decode()
