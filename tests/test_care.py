"""Care rules (CUS-11): customer anniversaries, customers without follow-up for N days and fixed
yearly dates notify the customer's owner (optionally with a task to log a return visit) — each
for the right customers only, once per occurrence, on a controlled clock; validation; the form."""

from datetime import date, datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from crm.activities import care
from crm.activities.models import CareRule, Task
from crm.core.entities import services
from crm.core.notifications.models import Notification
from crm.core.testing.clients import api_as, browser
from crm.core.testing.org import Scope, make_user
from crm.customers.models import Customer

pytestmark = pytest.mark.django_db

WORK = {"activities": Scope.DEPARTMENT, "tasks": Scope.DEPARTMENT, "customers": Scope.OWN,
        "contacts": Scope.OWN, ("employees", "view"): Scope.DEPARTMENT}


@pytest.fixture
def alice(depts):
    return make_user("alice", depts["sales1"], WORK, email="alice@example.com", language="en")


@pytest.fixture
def bob(depts):
    return make_user("bob", depts["sales1"], WORK, email="bob@example.com", language="en")


@pytest.fixture
def admin(depts):
    return make_user("carol", depts["sales1"], {**WORK, "care-rules": Scope.ALL}, language="en")


def when(y, m, d, hour=10):
    return timezone.make_aware(datetime(y, m, d, hour))


def customer(owner, name, registered=None, last_activity=None):
    c = services.create(owner, Customer, {"name": name})
    Customer.all_objects.filter(pk=c.pk).update(registered_at=registered or when(2020, 1, 15),
                                                last_activity_at=last_activity)
    return c


def titles(user):
    return sorted(Notification.objects.filter(recipient=user, kind="care").values_list("title", flat=True))


def test_anniversary_rule_fires_within_the_lead_days_once_a_year(alice, bob):
    CareRule.objects.create(name="Anniversary", trigger="anniversary", days=3, message="Send a card")
    customer(alice, "Acme", registered=when(2020, 5, 10))
    customer(bob, "Bolt", registered=when(2019, 5, 9))
    customer(alice, "New this year", registered=when(2026, 5, 9))
    customer(alice, "Other day", registered=when(2021, 8, 1))
    customer(alice, "Leap", registered=when(2024, 2, 29))
    assert care.run_care_rules(date(2026, 5, 5)) == 0  # four days ahead: too early
    assert care.run_care_rules(date(2026, 5, 6)) == 1  # Bolt (9 May)
    assert care.run_care_rules(date(2026, 5, 7)) == 1  # Acme (10 May)
    assert care.run_care_rules(date(2026, 5, 8)) == 0  # already done this year
    assert care.run_care_rules(date(2026, 5, 10)) == 0
    assert titles(alice) == ["Anniversary: Acme (2026-05-10)"]
    assert titles(bob) == ["Anniversary: Bolt (2026-05-09)"]  # each owner hears of their own customers only
    assert Notification.objects.get(recipient=alice, kind="care").body == "Send a card"
    assert care.run_care_rules(date(2027, 5, 9)) == 3  # next year again, with last year's new customer
    # 29 February is remembered on 28 February in other years.
    assert care.run_care_rules(date(2027, 2, 26)) == 1
    assert care.run_care_rules(date(2027, 2, 28)) == 0
    assert not Task.objects.exists()  # no task asked for


def test_no_follow_up_rule_fires_once_per_quiet_spell_with_a_return_visit_task(alice, bob):
    CareRule.objects.create(name="Dormant", trigger="no_follow_up", days=30, message="Call them",
                            create_task=True)
    acme = customer(alice, "Acme", last_activity=when(2026, 4, 1))
    customer(alice, "Busy", last_activity=when(2026, 4, 25))
    customer(bob, "Never", registered=when(2026, 4, 2))  # no follow-up at all: since registration
    assert care.run_care_rules(date(2026, 4, 30)) == 0  # 29 days
    assert care.run_care_rules(date(2026, 5, 1)) == 1  # Acme: 30 days
    assert care.run_care_rules(date(2026, 5, 1)) == 0  # run twice: nothing more
    assert care.run_care_rules(date(2026, 5, 2)) == 1  # Never (bob)
    assert titles(alice) == ["Dormant: Acme (2026-05-01)"]
    assert titles(bob) == ["Dormant: Never (2026-05-02)"]
    task = Task.objects.get(record_id=acme.pk)
    assert task.owner == alice and list(task.assignees.all()) == [alice]
    assert task.record == acme and "Return visit" in task.description and "Call them" in task.description
    assert Task.objects.count() == 2
    # A run missed by a day still catches up (grace), once.
    assert care.run_care_rules(date(2026, 5, 26)) == 1  # Busy: 25 April + 30 = 25 May
    assert care.run_care_rules(date(2026, 5, 27)) == 0
    # A new follow-up starts a new quiet spell.
    Customer.all_objects.filter(pk=acme.pk).update(last_activity_at=when(2026, 5, 10))
    assert care.run_care_rules(date(2026, 6, 9)) == 1
    assert len(titles(alice)) == 3


def test_yearly_date_rule_notifies_each_owner_about_their_customers_once(alice, bob, depts):
    rule = CareRule.objects.create(name="National Day", trigger="yearly_date", month=10, day=1, days=2)
    CareRule.objects.create(name="Switched off", trigger="yearly_date", month=10, day=1, is_active=False)
    customer(alice, "Acme")
    customer(alice, "Apex")
    customer(bob, "Bolt")
    gone = make_user("gone", depts["sales1"], WORK)
    customer(gone, "Orphan")
    gone.is_active = False
    gone.save()
    assert care.run_care_rules(date(2026, 9, 28)) == 0
    assert care.run_care_rules(date(2026, 9, 29)) == 3
    assert care.run_care_rules(date(2026, 9, 30)) == 0
    assert care.run_care_rules(date(2026, 10, 1)) == 0
    assert titles(alice) == ["National Day: Acme (2026-10-01)", "National Day: Apex (2026-10-01)"]
    assert titles(bob) == ["National Day: Bolt (2026-10-01)"]
    rule.refresh_from_db()
    assert rule.last_occurrence == date(2026, 10, 1)
    assert care.run_care_rules(date(2026, 10, 2)) == 0
    assert care.run_care_rules(date(2027, 9, 30)) == 3  # next year


def test_validation_errors_are_on_the_field():
    cases = [
        ({"trigger": "no_follow_up", "days": 0}, "days"),
        ({"trigger": "no_follow_up"}, "days"),
        ({"trigger": "anniversary", "days": 0}, "days"),
        ({"trigger": "yearly_date", "month": 2, "day": 30}, "day"),
        ({"trigger": "yearly_date", "month": 13, "day": 1}, "day"),
        ({"trigger": "yearly_date"}, "day"),
    ]
    for data, field in cases:
        with pytest.raises(ValidationError) as caught:
            CareRule(name="Bad", **data).full_clean()
        assert list(caught.value.message_dict) == [field], data
    CareRule(name="Leap day", trigger="yearly_date", month=2, day=29).full_clean()
    CareRule(name="On the day", trigger="anniversary").full_clean()


def test_rule_form_page_and_api(admin, alice):
    client = browser(admin)
    page = client.get(reverse("care-rules-create"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="trigger"' in html and 'name="days"' in html and 'name="create_task"' in html
    bad = client.post(reverse("care-rules-create"), {"name": "Dormant", "trigger": "no_follow_up", "days": "0",
                                                     "is_active": "on"})
    assert bad.status_code == 400 and "at least 1" in bad.content.decode()  # the form again, with the error
    ok = client.post(reverse("care-rules-create"), {"name": "Dormant", "trigger": "no_follow_up", "days": "45",
                                                    "is_active": "on", "message": "Call", "create_task": "on"})
    assert ok.status_code == 302
    rule = CareRule.objects.get(name="Dormant")
    assert rule.days == 45 and rule.create_task and rule.is_active
    assert client.get(reverse("care-rules-list")).status_code == 200
    api = api_as(admin)
    bad_api = api.post("/api/v1/care-rules/", {"name": "Holiday", "trigger": "yearly_date", "month": 2, "day": 31})
    assert bad_api.status_code == 400 and list(bad_api.json()["error"]["fields"]) == ["day"]
    # Reps without the grant do not manage the rules.
    assert browser(alice).get(reverse("care-rules-create")).status_code in (403, 404)
