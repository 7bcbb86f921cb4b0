"""Activities and follow-ups (ACT-1, CUS-10, ACT-6): logged on a customer they appear on its
timeline and set its last follow-up; the link, participants and contacts respect the data
scope; check-in with a position (files: tests/test_attachments.py)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.activities.models import Activity
from crm.core.entities import services
from crm.core.testing.clients import api_as, browser
from crm.core.testing.org import Scope, make_user
from crm.customers.models import Contact, Customer
from crm.activities.testing import work_user

pytestmark = pytest.mark.django_db



@pytest.fixture
def alice(depts):
    return work_user("alice", depts["sales1"])


@pytest.fixture
def gina(depts):
    return work_user("gina", depts["guangzhou"])


def customer_of(user, name="Acme Trading"):
    return services.create(user, Customer, {"name": name})


def activity_post(**over):
    data = {"kind": "call", "subject": "Called about the offer", "occurred_at": "2026-03-02T10:15",
            "duration_minutes": "20", "record_type": "", "record_id": "", "outcome": "Wants a quote",
            "next_step": "Send the quote", "address": "", "tags": "", "latitude": "", "longitude": "",
            "accuracy_m": ""}
    data.update(over)
    return data


def test_logging_an_activity_on_a_customer_shows_on_its_timeline_and_sets_last_follow_up(alice):
    customer = customer_of(alice)
    assert customer.last_activity_at is None
    page = browser(alice)
    detail = page.get(reverse("customers-detail", args=[customer.pk])).content.decode()
    log_url = reverse("customers-log-activity", args=[customer.pk])
    assert log_url in detail  # the "Log activity" button on the customer's page
    form = page.get(page.get(log_url).url)
    assert form.status_code == 200 and 'value="customers" selected' in form.content.decode()

    response = page.post(reverse("activities-create"), activity_post(record_type="customers", record_id=customer.pk))
    assert response.status_code == 302, response.content.decode()[:2000]
    activity = Activity.objects.get(subject="Called about the offer")
    assert activity.record == customer
    customer.refresh_from_db()
    assert customer.last_activity_at == activity.occurred_at

    html = page.get(reverse("customers-detail", args=[customer.pk])).content.decode()
    assert "Called about the offer" in html and "Send the quote" in html
    assert reverse("activities-detail", args=[activity.pk]) in html

    # An older activity logged later does not move the last follow-up back.
    page.post(reverse("activities-create"), activity_post(subject="Old visit", occurred_at="2025-01-01T09:00",
                                                           record_type="customers", record_id=customer.pk))
    customer.refresh_from_db()
    assert customer.last_activity_at == activity.occurred_at


def test_contacts_met_get_their_last_follow_up(alice, django_capture_on_commit_callbacks):
    customer = customer_of(alice)
    contact = services.create(alice, Contact, {"customer": customer, "name": "Li Lei"})
    with django_capture_on_commit_callbacks(execute=True):
        response = browser(alice).post(reverse("activities-create"), activity_post(
            record_type="customers", record_id=customer.pk, contacts=[contact.pk]))
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.last_activity_at is not None
    assert "Called about the offer" in browser(alice).get(reverse("contacts-detail", args=[contact.pk])).content.decode()


def test_a_record_outside_the_scope_cannot_be_linked_and_nothing_is_saved(alice, gina):
    theirs = customer_of(gina, "Far Away Ltd")
    response = browser(alice).post(reverse("activities-create"),
                                   activity_post(record_type="customers", record_id=theirs.pk))
    assert response.status_code == 400
    assert "outside your data scope" in response.content.decode()
    assert not Activity.all_objects.exists()
    theirs.refresh_from_db()
    assert theirs.last_activity_at is None

    api = api_as(alice)
    refused = api.post("/api/v1/activities/", {"subject": "x", "kind": "call", "record_type": "customers",
                                               "record_id": theirs.pk})
    assert refused.status_code == 400 and "record_id" in refused.json()["error"]["fields"]
    bad_kind = api.post("/api/v1/activities/", {"subject": "x", "kind": "call", "record_type": "employees",
                                                "record_id": alice.pk})
    assert bad_kind.status_code == 400 and "record_type" in bad_kind.json()["error"]["fields"]
    assert not Activity.all_objects.exists()


def test_the_timeline_shows_only_activities_the_viewer_may_see(depts, alice):
    boss = make_user("boss", depts["sales1"], {"customers": Scope.ALL, "activities": Scope.OWN})
    customer = customer_of(alice)
    services.create(alice, Activity, {"subject": "Private call by Alice", "kind": "call",
                                      "record_type": customer_ct(), "record_id": customer.pk})
    html = browser(boss).get(reverse("customers-detail", args=[customer.pk])).content.decode()
    assert "Private call by Alice" not in html  # the boss sees the customer, not Alice's activities
    assert "Private call by Alice" in browser(alice).get(reverse("customers-detail", args=[customer.pk])).content.decode()


def test_the_api_timeline_lists_activities_within_the_scope(depts, alice):
    boss = make_user("boss", depts["sales1"], {"customers": Scope.ALL, "activities": Scope.OWN})
    customer = customer_of(alice)
    services.create(alice, Activity, {"subject": "Private call by Alice", "kind": "call",
                                      "record_type": customer_ct(), "record_id": customer.pk})
    url = f"/api/v1/customers/{customer.pk}/notes/"
    mine = api_as(alice).get(url).json()
    activity = [i for i in mine if i["kind"] == "activity"]
    assert len(activity) == 1 and "Private call by Alice" in activity[0]["title"] and activity[0]["url"]
    assert not [i for i in api_as(boss).get(url).json() if i["kind"] == "activity"]


def customer_ct():
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(Customer)


def test_participants_outside_the_scope_are_refused(alice, gina):
    response = browser(alice).post(reverse("activities-create"), activity_post(participants=[gina.pk]))
    assert response.status_code == 400
    assert "outside your data scope" in response.content.decode()
    assert not Activity.all_objects.exists()
    refused = api_as(alice).post("/api/v1/activities/", {"subject": "x", "kind": "call", "participants": [gina.pk]})
    assert refused.status_code == 400 and "participants" in refused.json()["error"]["fields"]
    assert not Activity.all_objects.exists()


def test_check_in_records_a_visit_with_the_position(alice):
    customer = customer_of(alice)
    page = browser(alice)
    form = page.get(reverse("check-in") + f"?record_type=customers&record_id={customer.pk}")
    assert form.status_code == 200 and "check_in.js" in form.content.decode()
    missing = page.post(reverse("check-in"), activity_post(subject="Visit", record_type="customers",
                                                           record_id=customer.pk))
    assert missing.status_code == 400 and "position is missing" in missing.content.decode()
    assert not Activity.all_objects.exists()

    ok = page.post(reverse("check-in"), activity_post(
        kind="call", subject="Visit at the plant", record_type="customers", record_id=customer.pk,
        latitude="31.230416", longitude="121.473701", accuracy_m="12", address="Shanghai, Huangpu"))
    assert ok.status_code == 302
    visit = Activity.objects.get(subject="Visit at the plant")
    assert visit.kind == "visit" and visit.checked_in_at is not None
    assert str(visit.latitude) == "31.230416" and visit.accuracy_m == 12
    detail = page.get(ok.url).content.decode()
    assert "Shanghai, Huangpu" in detail and "31.230416" in detail

    bad = page.post(reverse("check-in"), activity_post(subject="Nowhere", latitude="123", longitude="10"))
    assert bad.status_code == 400 and not Activity.objects.filter(subject="Nowhere").exists()


def test_activity_list_is_scoped_and_sorted_by_time(alice, gina):
    mine = services.create(alice, Activity, {"subject": "Mine", "kind": "call",
                                             "occurred_at": timezone.now() - timedelta(days=1)})
    theirs = services.create(gina, Activity, {"subject": "Theirs", "kind": "call"})
    html = browser(alice).get(reverse("activities-list")).content.decode()
    assert reverse("activities-detail", args=[mine.pk]) in html
    assert reverse("activities-detail", args=[theirs.pk]) not in html
