"""Numbering rules (SYS-5): formats and resets, preview, gap-free and unique numbers under
concurrency (SQLite and PostgreSQL), administration through the UI and the API, and customers
numbered by their rule through the form and the API."""

import datetime
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.urls import reverse

from crm.core.entities import services
from crm.core.entities.registry import get_spec
from crm.core.numbering.models import NumberingRule, NumberingSequence
from crm.core.numbering.services import issue, next_number, preview
from crm.core.testing.openapi import ValidatingAPIClient
from crm.core.testing.org import Scope, make_tree, make_user
from crm.customers.models import Customer
from crm.core.testing.clients import browser

D = datetime.date


def rule(entity="kit-entity", **fields):
    fields = {"prefix": "KH", "date_part": "yyyymm", "digits": 4, "reset": "monthly", **fields}
    return NumberingRule.objects.update_or_create(entity=entity, defaults=fields)[0]


def customer_rule(**fields):
    return rule("customers", **fields)


@pytest.mark.django_db
@pytest.mark.parametrize("date_part, reset, digits, expected", [
    ("none", "never", 6, ["KH000001", "KH000002", "KH000003", "KH000004"]),
    ("yyyy", "never", 4, ["KH20260001", "KH20260002", "KH20270003", "KH20270004"]),
    ("yyyy", "yearly", 4, ["KH20260001", "KH20260002", "KH20270001", "KH20270002"]),
    ("yyyymm", "monthly", 3, ["KH202612001", "KH202612002", "KH202701001", "KH202701002"]),
    ("yyyymmdd", "daily", 2, ["KH2026123101", "KH2026123102", "KH2027010101", "KH2027010201"]),
    ("yyyymmdd", "monthly", 4, ["KH202612310001", "KH202612310002", "KH202701010001", "KH202701020002"]),
])
def test_formats_and_resets(date_part, reset, digits, expected):
    r = rule(date_part=date_part, reset=reset, digits=digits)
    days = [D(2026, 12, 31), D(2026, 12, 31), D(2027, 1, 1), D(2027, 1, 2) if date_part == "yyyymmdd" else D(2027, 1, 1)]
    assert [issue(r, day) for day in days] == expected


@pytest.mark.django_db
def test_first_number_and_no_going_back():
    r = rule(prefix="", date_part="none", reset="never", digits=5, start_number=500)
    assert issue(r, D(2026, 1, 1)) == "00500"
    r.start_number = 10  # lowered below what was issued: numbers never go back
    r.save()
    assert issue(r, D(2026, 1, 1)) == "00501"
    r.start_number = 900
    r.save()
    assert preview(r, D(2026, 1, 1)) == "00900"
    assert issue(r, D(2026, 1, 1)) == "00900"


@pytest.mark.django_db
def test_a_reset_finer_than_the_date_part_is_refused():
    bad = NumberingRule(entity="customers", prefix="KH", date_part="yyyy", reset="monthly", digits=4)
    with pytest.raises(ValidationError) as exc:
        bad.full_clean(validate_unique=False)
    assert "reset" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        NumberingRule(entity="no-such-thing", prefix="X").full_clean()
    assert "entity" in exc.value.message_dict


@pytest.mark.django_db
def test_preview_does_not_consume():
    r = rule()
    today = D(2026, 11, 23)
    assert preview(r, today) == "KH2026110001"
    assert preview(r, today) == "KH2026110001"
    assert not NumberingSequence.objects.filter(rule=r).exists()
    assert issue(r, today) == "KH2026110001"
    assert preview(r, today) == "KH2026110002"
    assert preview(r, D(2026, 12, 1)) == "KH2026120001"  # a new month starts again
    assert issue(r, today) == "KH2026110002"


@pytest.mark.django_db
def test_inactive_or_missing_rule_issues_nothing_and_customers_fall_back():
    depts = make_tree()
    user = make_user("numb", depts["sales1"], {"customers": Scope.ALL})
    NumberingRule.objects.filter(entity="customers").delete()
    assert next_number("customers") is None
    c = services.create(user, Customer, {"name": "No rule"})
    assert c.code == f"C{c.pk:07d}"  # the fallback
    customer_rule(is_active=False)
    c = services.create(user, Customer, {"name": "Inactive rule"})
    assert c.code == f"C{c.pk:07d}"


@pytest.mark.django_db
def test_a_rolled_back_create_gives_its_number_back():
    depts = make_tree()
    user = make_user("numb", depts["sales1"], {"customers": Scope.ALL})
    r = customer_rule(date_part="none", reset="never")
    assert services.create(user, Customer, {"name": "First"}).code == "KH0001"
    with pytest.raises(ValidationError):
        services.create(user, Customer, {"name": ""})  # invalid: the number was issued, then rolled back
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            services.create(user, Customer, {"name": "Rolled back"})
            raise RuntimeError
    assert preview(r) == "KH0002"
    assert services.create(user, Customer, {"name": "Second"}).code == "KH0002"


@pytest.mark.django_db
def test_a_number_given_by_the_caller_is_kept():
    assert get_spec("customers").number_field == "code"
    depts = make_tree()
    user = make_user("numb", depts["sales1"], {"customers": Scope.ALL})
    r = customer_rule(date_part="none", reset="never")
    c = services.create(user, Customer, {"name": "Imported", "code": "OLD-7"})  # e.g. an import
    assert c.code == "OLD-7"
    assert preview(r) == "KH0001"  # nothing consumed


THREADS, PER_THREAD = 8, 25


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_creators_get_unique_gap_free_numbers():
    depts = make_tree()
    user = make_user("numb", depts["sales1"], {"customers": Scope.ALL})
    customer_rule(prefix="KH", date_part="none", reset="never", digits=4)
    start = threading.Barrier(THREADS)
    errors = []

    def creator(t):
        try:
            start.wait()
            for i in range(PER_THREAD):
                services.create(user, Customer, {"name": f"Concurrent {t}-{i}"})  # its own transaction
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=creator, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors
    codes = sorted(Customer.objects.filter(name__startswith="Concurrent ").values_list("code", flat=True))
    assert codes == [f"KH{n:04d}" for n in range(1, THREADS * PER_THREAD + 1)]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_first_numbers_of_a_new_period():
    """Every thread finds no sequence row for the period and races to insert it."""
    r = rule(prefix="P", date_part="yyyymmdd", reset="daily", digits=3)
    start = threading.Barrier(THREADS)
    issued, errors = [], []

    def worker():
        try:
            start.wait()
            for _ in range(5):
                with transaction.atomic():
                    issued.append(issue(r, D(2026, 11, 23)))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors
    assert sorted(issued) == [f"P20261123{n:03d}" for n in range(1, THREADS * 5 + 1)]


# --- administration through the UI and the API ----------------------------------------------

@pytest.fixture
def admin_of_rules(depts):
    return make_user("numbering-admin", depts["hq"], {"numbering-rules": Scope.ALL, "customers": Scope.ALL})



@pytest.mark.django_db
def test_rules_in_the_ui_with_preview(admin_of_rules):
    r = customer_rule()
    ui = browser(admin_of_rules)
    page = ui.get(reverse("numbering-rules-detail", kwargs={"pk": r.pk})).content.decode()
    assert "Next number" in page and preview(r) in page
    assert "Numbering rules" in ui.get("/").content.decode()  # in the menu, under Settings
    form = ui.get(reverse("numbering-rules-create")).content.decode()
    assert 'value="customers"' in form  # the entity is picked from the registered ones
    response = ui.post(reverse("numbering-rules-edit", kwargs={"pk": r.pk}), {
        "entity": "customers", "prefix": "CU", "date_part": "yyyy", "digits": "5", "reset": "yearly",
        "start_number": "1", "is_active": "on", "version": r.version,
    })
    assert response.status_code == 302
    r.refresh_from_db()
    assert (r.prefix, r.date_part, r.digits, r.reset) == ("CU", "yyyy", 5, "yearly")
    bad = ui.post(reverse("numbering-rules-edit", kwargs={"pk": r.pk}), {
        "entity": "customers", "prefix": "CU", "date_part": "none", "digits": "5", "reset": "daily",
        "start_number": "1", "is_active": "on", "version": r.version,
    })
    assert bad.status_code == 400 and "The sequence can only restart" in bad.content.decode()


@pytest.mark.django_db
def test_rules_in_the_api_with_preview(admin_of_rules):
    r = customer_rule(date_part="none", reset="never")
    api = ValidatingAPIClient().as_user(admin_of_rules)
    one = api.get(f"/api/v1/numbering-rules/{r.pk}/")
    assert one.status_code == 200 and one.json()["preview"] == "KH0001"
    assert api.get(f"/api/v1/numbering-rules/{r.pk}/").json()["preview"] == "KH0001"  # not consumed
    changed = api.patch(f"/api/v1/numbering-rules/{r.pk}/", {"prefix": "NO", "version": r.version})
    assert changed.status_code == 200 and changed.json()["preview"] == "NO0001"
    bad = api.patch(f"/api/v1/numbering-rules/{r.pk}/", {"reset": "daily", "version": r.version + 1})
    assert bad.status_code == 400 and "reset" in bad.json()["error"]["fields"]


@pytest.mark.django_db
def test_only_users_with_a_grant_see_rules(depts, rep):
    r = customer_rule()
    assert browser(rep).get(reverse("numbering-rules-detail", kwargs={"pk": r.pk})).status_code == 403
    assert browser(rep).get(reverse("numbering-rules-list")).status_code == 403
    assert "Numbering rules" not in browser(rep).get("/").content.decode()
    api = ValidatingAPIClient().as_user(rep)
    assert api.get("/api/v1/numbering-rules/").status_code == 403
    assert api.patch(f"/api/v1/numbering-rules/{r.pk}/", {"prefix": "X", "version": 1}).status_code == 403
    viewer = make_user("rule-viewer", depts["sales1"], {("numbering-rules", "view"): Scope.OWN})
    assert browser(viewer).get(reverse("numbering-rules-detail", kwargs={"pk": r.pk})).status_code == 200
    assert ValidatingAPIClient().as_user(viewer).patch(
        f"/api/v1/numbering-rules/{r.pk}/", {"prefix": "X", "version": 1}).status_code == 403


@pytest.mark.django_db
def test_customers_created_through_form_and_api_are_numbered(admin_of_rules):
    customer_rule(date_part="none", reset="never")
    ui = browser(admin_of_rules)
    response = ui.post(reverse("customers-create"), {
        "name": "Numbered by form", "customer_type": "company", "level": "normal", "status": "potential",
        "credit_limit": "0", "country": "中国", "registered_at": "2026-11-23T09:30",
    })
    assert response.status_code == 302
    assert Customer.objects.get(name="Numbered by form").code == "KH0001"
    api = ValidatingAPIClient().as_user(admin_of_rules)
    created = api.post("/api/v1/customers/", {"name": "Numbered by API", "code": "IGNORED"})
    assert created.status_code == 201 and created.json()["code"] == "KH0002"  # code is read-only
