"""One occurrence of a recurring appointment (ACT-2, RFC 5545): edit or cancel this occurrence
(EXDATE, a detached appointment with RECURRENCE-ID), this and the following ones (the series
ends the day before, a new one starts), or the whole series; drag one occurrence in the
calendar; the calendar feed, conflicts, reminders and the iCalendar export honour it all."""

from datetime import datetime, timedelta

import icalendar
import pytest
from django.urls import reverse
from django.utils import timezone

from crm.activities import reminders
from crm.activities import services as work
from crm.activities.models import Appointment
from crm.activities.testing import work_user
from crm.core.entities import services
from crm.core.entities.services import ConflictError
from crm.core.notifications.models import Notification
from crm.core.testing.clients import browser

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


def at(days, hour, minute=0):
    day = timezone.localdate() + timedelta(days=days)
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour, minute))


def daily(user, title="Stand-up", days=1, count=5, invitees=(), **data):
    start = at(days, 9)
    return services.create(user, Appointment, {"title": title, "start_at": start, "end_at": start + timedelta(
        minutes=30), "repeat": "DAILY", "repeat_count": count, "location": "Room 1", **data},
                           {"invitees": list(invitees)})


def feed(page, days=(0, 14)):
    r = page.get(reverse("calendar-events"), {"start": at(days[0], 0).isoformat(), "end": at(days[1], 0).isoformat()})
    assert r.status_code == 200
    return r.json()


def starts(events, title):
    return sorted(timezone.localtime(datetime.fromisoformat(e["start"])).strftime("%d %H:%M") for e in events
                  if e["title"] == title)


def hm(dt):
    return timezone.localtime(dt).strftime("%d %H:%M")


def test_edit_this_occurrence_only_detaches_it(alice, bob):
    series = daily(alice, invitees=[bob])
    third = at(3, 9)
    moved = work.edit_occurrence(alice, series.pk, third, "this",
                                 {"start_at": at(3, 15), "title": "Stand-up (afternoon)"}, version=series.version)
    series.refresh_from_db()
    assert series.exdates == [Appointment.exdate_key(third)]
    assert moved.series == series and moved.recurrence_id == third and not moved.repeat
    assert (moved.start_at, moved.end_at) == (at(3, 15), at(3, 15, 30))  # the length is kept
    assert moved.owner == alice and list(moved.invitees.all()) == [bob] and moved.location == "Room 1"
    events = feed(browser(alice))
    assert starts(events, "Stand-up") == [hm(at(d, 9)) for d in (1, 2, 4, 5)]
    assert starts(events, "Stand-up (afternoon)") == [hm(at(3, 15))]
    # The occurrence is gone from the series: editing it through the series again is refused.
    with pytest.raises(Exception) as exc:
        work.edit_occurrence(alice, series.pk, third, "this", {"title": "x"})
    assert "no occurrence" in str(exc.value)
    # A stale version of the series is refused, nothing written.
    with pytest.raises(ConflictError):
        work.edit_occurrence(alice, series.pk, at(4, 9), "this", {"title": "late"}, version=series.version - 1)
    assert not Appointment.objects.filter(title="late").exists()


def test_cancel_one_occurrence_and_this_and_following(alice):
    series = daily(alice, count=6)
    work.cancel_occurrence(alice, series.pk, at(2, 9), "this")
    page = browser(alice)
    assert starts(feed(page), "Stand-up") == [hm(at(d, 9)) for d in (1, 3, 4, 5, 6)]
    work.cancel_occurrence(alice, series.pk, at(5, 9), "following")
    series.refresh_from_db()
    assert series.repeat_count is None and series.repeat_until == timezone.localdate() + timedelta(days=4)
    assert starts(feed(page), "Stand-up") == [hm(at(d, 9)) for d in (1, 3, 4)]
    work.cancel_occurrence(alice, series.pk, at(3, 9), "all")
    assert not Appointment.objects.filter(pk=series.pk).exists()  # the whole series to the recycle bin
    assert Appointment.all_objects.filter(pk=series.pk, deleted_at__isnull=False).exists()


def test_this_and_following_splits_the_series(alice):
    series = daily(alice, count=6)
    work.cancel_occurrence(alice, series.pk, at(5, 9), "this")
    new = work.edit_occurrence(alice, series.pk, at(4, 9), "following", {"start_at": at(4, 10), "location": "Room 2"})
    series.refresh_from_db()
    assert series.repeat_until == timezone.localdate() + timedelta(days=3) and series.repeat_count is None
    assert series.exdates == []  # the later exception went with the new series, shifted by the move
    assert new.repeat == "DAILY" and new.repeat_count == 3 and new.location == "Room 2"
    assert new.exdates == [Appointment.exdate_key(at(5, 10))]
    events = feed(browser(alice))
    assert starts(events, "Stand-up") == [hm(at(d, 9)) for d in (1, 2, 3)] + [hm(at(d, 10)) for d in (4, 6)]


def test_whole_series_moves_every_occurrence(alice):
    series = daily(alice, count=3)
    work.cancel_occurrence(alice, series.pk, at(2, 9), "this")
    work.edit_occurrence(alice, series.pk, at(3, 9), "all", {"start_at": at(3, 11)})
    series.refresh_from_db()
    assert series.start_at == at(1, 11) and series.end_at == at(1, 11, 30)
    assert series.exdates == [Appointment.exdate_key(at(2, 11))]  # the cancelled one stays cancelled
    assert starts(feed(browser(alice)), "Stand-up") == [hm(at(1, 11)), hm(at(3, 11))]


def test_drag_one_occurrence_in_the_calendar_with_conflicts_scope_and_versions(alice, bob, gina):
    series = daily(alice, invitees=[bob])
    services.create(bob, Appointment, {"title": "Bob's call", "start_at": at(2, 14), "end_at": at(2, 15)})
    page = browser(alice)
    occ = next(e for e in feed(page) if e["title"] == "Stand-up" and e["start"].startswith(str(at(2, 9).date())))
    assert occ["editable"] and occ["extendedProps"]["recurring"]
    assert occ["url"].startswith(reverse("appointment-occurrence", args=[series.pk]))
    url = reverse("calendar-move", args=[series.pk])
    body = {"start": at(2, 14).isoformat(), "end": at(2, 14, 30).isoformat(), "version": series.version,
            "occurrence": occ["extendedProps"]["occurrence"], "scope": "this"}
    clash = page.post(url, body, content_type="application/json")
    assert clash.status_code == 409 and [c["title"] for c in clash.json()["conflicts"]] == ["Bob's call"]
    series.refresh_from_db()
    assert series.exdates == [] and not Appointment.objects.filter(series=series).exists()
    ok = page.post(url, {**body, "force": 1}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["reload"]
    moved = Appointment.objects.get(series=series)
    assert moved.start_at == at(2, 14) and moved.recurrence_id == at(2, 9)
    assert starts(feed(page), "Stand-up") == sorted([hm(at(d, 9)) for d in (1, 3, 4, 5)] + [hm(at(2, 14))])
    stale = page.post(url, {**body, "occurrence": at(3, 9).isoformat(), "version": series.version, "force": 1},
                      content_type="application/json")
    assert stale.status_code == 409 and stale.json()["changed"]
    bad = page.post(url, {**body, "occurrence": at(3, 9).isoformat(), "scope": "some", "version": series.version + 1},
                    content_type="application/json")
    assert bad.status_code == 400 and "scope" in bad.json()["fields"]
    foreign = browser(gina).post(url, {**body, "occurrence": at(3, 9).isoformat()}, content_type="application/json")
    assert foreign.status_code == 404


def test_occurrence_page_edits_and_cancels(alice):
    series = daily(alice)
    page = browser(alice)
    detail = page.get(reverse("appointments-detail", args=[series.pk])).content.decode()
    assert 'data-panel="occurrences"' in detail
    assert reverse("appointment-occurrence", args=[series.pk]) + "?at=" in detail  # each occurrence: its page
    url = reverse("appointment-occurrence", args=[series.pk]) + "?at=" + at(2, 9).isoformat()
    shown = page.get(url)
    assert shown.status_code == 200 and 'data-testid="occurrence-scope"' in shown.content.decode()
    form = {"title": "Moved stand-up", "start_at": "", "end_at": "", "location": "", "description": "",
            "scope": "this", "version": series.version, "action": "save"}
    form.update(start_at=timezone.localtime(at(2, 16)).strftime("%Y-%m-%dT%H:%M"),
                end_at=timezone.localtime(at(2, 17)).strftime("%Y-%m-%dT%H:%M"))
    bad = page.post(url, {**form, "end_at": timezone.localtime(at(2, 15)).strftime("%Y-%m-%dT%H:%M")})
    assert bad.status_code == 400 and "cannot end before it starts" in bad.content.decode()
    ok = page.post(url, form)
    assert ok.status_code == 302
    moved = Appointment.objects.get(series=series)
    assert moved.title == "Moved stand-up" and moved.start_at == at(2, 16)
    assert "Moved stand-up" in page.get(reverse("appointments-detail", args=[series.pk])).content.decode()
    assert reverse("appointments-detail", args=[series.pk]) in page.get(
        reverse("appointments-detail", args=[moved.pk])).content.decode()  # the occurrence links its series
    series.refresh_from_db()
    cancel = page.post(reverse("appointment-occurrence", args=[series.pk]) + "?at=" + at(4, 9).isoformat(),
                       {**form, "version": series.version, "action": "cancel"})
    assert cancel.status_code == 302
    series.refresh_from_db()
    assert Appointment.exdate_key(at(4, 9)) in series.exdates
    assert page.get(reverse("appointment-occurrence", args=[series.pk]) + "?at=" + at(4, 9).isoformat()
                    ).status_code == 404


def test_api_edits_and_cancels_one_occurrence(alice, api):
    series = daily(alice)
    api.force_login(alice)
    base = f"/api/v1/appointments/{series.pk}/"
    r = api.post(base + "occurrence/", {"occurrence": at(2, 9).isoformat(), "scope": "this", "title": "API moved",
                                        "start_at": at(2, 12).isoformat(), "version": series.version}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["series"] == series.pk and r.json()["recurrence_id"] is not None and r.json()["title"] == "API moved"
    got = api.get(base).json()
    assert got["exdates"] == [Appointment.exdate_key(at(2, 9))]
    bad = api.post(base + "occurrence/", {"occurrence": at(2, 10).isoformat(), "scope": "this"}, format="json")
    assert bad.status_code == 400 and "occurrence" in bad.json()["error"]["fields"]
    stale = api.post(base + "cancel-occurrence/", {"occurrence": at(3, 9).isoformat(), "scope": "this",
                                                   "version": series.version}, format="json")
    assert stale.status_code == 409
    series.refresh_from_db()
    done = api.post(base + "cancel-occurrence/", {"occurrence": at(3, 9).isoformat(), "scope": "this",
                                                  "version": series.version}, format="json")
    assert done.status_code == 200 and len(done.json()["exdates"]) == 2
    gone = api.post(base + "cancel-occurrence/", {"occurrence": at(1, 9).isoformat(), "scope": "all"}, format="json")
    assert gone.status_code == 204 and not Appointment.objects.filter(pk=series.pk).exists()


def test_ical_round_trip_has_exdate_and_recurrence_id(client, alice):
    series = daily(alice)
    work.cancel_occurrence(alice, series.pk, at(2, 9), "this")
    moved = work.edit_occurrence(alice, series.pk, at(4, 9), "this", {"start_at": at(4, 13), "title": "Late stand-up"})
    page = browser(alice)
    url = page.post(reverse("calendar-subscribe"), {"action": "issue"}).context["url"]
    cal = icalendar.Calendar.from_ical(client.get(url.removeprefix("http://testserver")).content)
    events = list(cal.walk("VEVENT"))
    assert len(events) == 2
    main = next(e for e in events if "RECURRENCE-ID" not in e)
    detached = next(e for e in events if "RECURRENCE-ID" in e)
    assert str(main["uid"]) == str(detached["uid"]) == f"appointment-{series.pk}@{str(main['uid']).split('@')[1]}"
    exdates = main["exdate"] if isinstance(main["exdate"], list) else [main["exdate"]]
    excluded = [d.dt for x in exdates for d in x.dts]
    assert excluded == [at(2, 9)]  # the cancelled one only; the moved one is replaced by its RECURRENCE-ID
    assert detached.decoded("recurrence-id") == at(4, 9)
    assert detached.decoded("dtstart") == moved.start_at and str(detached["summary"]) == "Late stand-up"
    # Expanding the parsed rule with its EXDATEs gives the occurrences the calendar shows.
    from dateutil.rrule import rrulestr

    rule = rrulestr(main["rrule"].to_ical().decode(), dtstart=main.decoded("dtstart"))
    expanded = [d for d in rule if d not in excluded]
    assert [hm(d) for d in expanded] == [hm(at(d, 9)) for d in (1, 3, 4, 5)]  # 4th replaced by RECURRENCE-ID


def test_reminders_skip_cancelled_and_follow_moved_occurrences(alice, bob):
    start = timezone.now().replace(microsecond=0) + timedelta(hours=2)
    series = services.create(alice, Appointment, {
        "title": "Daily check", "start_at": start, "end_at": start + timedelta(hours=1), "repeat": "DAILY",
        "repeat_count": 3, "remind_before": 30}, {"invitees": [bob]})
    first = series.start_at - timedelta(minutes=30)
    work.cancel_occurrence(alice, series.pk, series.start_at, "this")
    series.refresh_from_db()
    assert series.remind_at == first + timedelta(days=1)  # on to the next occurrence at once
    assert reminders.send_appointment_reminders(first) == 0  # nothing for the cancelled one
    # A reminder computed before the cancellation is not sent either.
    Appointment.all_objects.filter(pk=series.pk).update(remind_at=first)
    assert reminders.send_appointment_reminders(first + timedelta(minutes=1)) == 0
    series.refresh_from_db()
    second = series.start_at + timedelta(days=1)
    moved = work.edit_occurrence(alice, series.pk, second, "this", {"start_at": second + timedelta(hours=3)})
    assert moved.remind_at == moved.start_at - timedelta(minutes=30)
    series.refresh_from_db()
    assert series.remind_at == second + timedelta(days=1) - timedelta(minutes=30)
    assert reminders.send_appointment_reminders(second - timedelta(minutes=30)) == 0
    assert reminders.send_appointment_reminders(moved.remind_at) == 2  # the moved occurrence, owner and invitee
    assert Notification.objects.filter(recipient=bob, kind="appointment_reminder").count() == 1


def test_moving_the_series_through_its_form_moves_its_exceptions(alice):
    series = daily(alice)
    work.cancel_occurrence(alice, series.pk, at(2, 9), "this")
    moved = work.edit_occurrence(alice, series.pk, at(3, 9), "this", {"title": "Special"})
    series.refresh_from_db()
    services.update(alice, Appointment, series.pk, {"start_at": at(1, 10), "end_at": at(1, 10, 30)},
                    expected_version=series.version)
    series.refresh_from_db()
    moved.refresh_from_db()
    assert sorted(series.exdates) == sorted(Appointment.exdate_key(at(d, 10)) for d in (2, 3))
    assert moved.recurrence_id == at(3, 10)
    assert starts(feed(browser(alice)), "Stand-up") == [hm(at(d, 10)) for d in (1, 4, 5)]


def test_conflicts_ignore_cancelled_occurrences(alice, bob):
    series = daily(bob, title="Bob's stand-up")
    work.cancel_occurrence(bob, series.pk, at(2, 9), "this")
    free = Appointment(start_at=at(2, 9), end_at=at(2, 10))
    busy = Appointment(start_at=at(3, 9), end_at=at(3, 10))
    assert work.conflicts_for(alice, free, [bob]) == []
    assert [c["title"] for c in work.conflicts_for(alice, busy, [bob])] == ["Bob's stand-up"]


def test_a_detached_occurrence_cannot_repeat_itself(alice, api):
    series = daily(alice)
    moved = work.edit_occurrence(alice, series.pk, at(2, 9), "this", {"title": "Special"})
    api.force_login(alice)
    r = api.patch(f"/api/v1/appointments/{moved.pk}/", {"repeat": "WEEKLY", "version": moved.version}, format="json")
    assert r.status_code == 400 and "repeat" in r.json()["error"]["fields"]
    moved.refresh_from_db()
    assert moved.repeat == ""
