"""Duplicate check (CUS-3 查重): the rules, the warning on create in the UI and the API, what
is said about records the user cannot see, and the finder page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from crm.core.entities import services
from crm.core.entities.duplicates import company_name_key, find_duplicates
from crm.core.entities.registry import get_spec
from crm.core.fields import uscc_check_char
from crm.core.testing.org import Scope, make_user
from crm.customers.models import Contact, Customer
from crm.core.testing.clients import api_as, browser

USCC_BASE = "91310000MA1FL1234"
USCC = USCC_BASE + uscc_check_char(USCC_BASE)


@pytest.fixture(autouse=True)
def english():
    """Rule labels are compared in English, whatever language an earlier test left active."""
    with translation.override("en"):
        yield




def customer_post(**over):
    data = {
        "name": "Acme Trading", "mnemonic_code": "", "customer_type": "company", "level": "normal",
        "status": "potential", "credit_limit": "0", "credit_code": "", "phone": "", "finance_phone": "",
        "email": "", "website": "", "country": "中国", "province": "", "city": "", "district": "",
        "address": "", "postcode": "", "registered_at": "2024-03-01T09:30", "tags": "", "notes": "",
        "industry": "", "source": "", "credit_rating": "", "parent": "",
    }
    data.update(over)
    return data


def new_customer(user, **data):
    return services.create(user, Customer, data)


@pytest.mark.parametrize("a,b", [
    ("上海华为技术有限公司", "上海华为技术 有限公司"),
    ("上海华为技术有限公司", "上海华为技术"),
    ("上海华为技术股份有限公司", "上海华为技术"),
    ("华为集团有限公司", "华为"),
    ("上海华为技术（有限公司）", "上海华为技术"),
    ("ＡＣＭＥ　Trading", "acme trading"),
    ("Acme Trading Co., Ltd.", "ACME TRADING"),
    ("Acme Trading Inc.", "Acme-Trading"),
    ("Acme Trading LLC", "acme trading"),
])
def test_name_variants_share_a_key(a, b):
    assert company_name_key(a) == company_name_key(b) != ""


@pytest.mark.parametrize("a,b", [("上海华为技术", "深圳华为技术"), ("Zinc Works", "Z Works"), ("Costco", "Cost")])
def test_different_names_differ(a, b):
    assert company_name_key(a) != company_name_key(b)


def test_name_key_is_stored_and_follows_edits(rep):
    obj = new_customer(rep, name="上海华为技术 有限公司")
    assert Customer.objects.get(pk=obj.pk).name_key == "上海华为技术"
    services.update(rep, Customer, obj.pk, {"name": "Acme Co., Ltd."})
    assert Customer.objects.get(pk=obj.pk).name_key == "acme"


@pytest.mark.parametrize("existing,probe,rule", [
    ({"name": "上海华为技术有限公司"}, {"name": "上海华为技术"}, "same name"),
    ({"name": "One", "phone": "13812345678"}, {"name": "Two", "phone": "138 1234 5678"}, "same phone"),
    ({"name": "One", "email": "Sales@Example.com"}, {"name": "Two", "email": "sales@example.COM"}, "same e-mail"),
    ({"name": "One", "credit_code": USCC}, {"name": "Two", "credit_code": USCC.lower()}, "same credit code"),
])
def test_each_customer_rule(rep, existing, probe, rule):
    obj = new_customer(rep, **existing)
    found = find_duplicates(rep, get_spec(Customer), Customer(**probe))
    assert [(o.pk, [str(r) for r in rules]) for o, rules in found.visible] == [(obj.pk, [rule])]
    assert found.hidden == 0


def test_contact_rules(rep):
    acme = new_customer(rep, name="Acme")
    other = new_customer(rep, name="Other")
    li = services.create(rep, Contact, {"customer": acme, "name": "Li Lei", "mobile": "13912345678",
                                        "email": "li@acme.cn"})
    spec = get_spec(Contact)

    def rules(**data):
        return [(o.pk, [str(r) for r in rs]) for o, rs in find_duplicates(rep, spec, Contact(**data)).visible]

    assert rules(customer=other, name="X", mobile="139-1234-5678") == [(li.pk, ["same mobile"])]
    assert rules(customer=other, name="X", email="LI@ACME.CN") == [(li.pk, ["same e-mail"])]
    assert rules(customer=acme, name="Li Lei") == [(li.pk, ["same name at the same customer"])]
    assert rules(customer=other, name="Li Lei") == []


def test_ui_warns_and_saves_anyway(rep):
    first = new_customer(rep, name="上海华为技术有限公司", phone="13812345678")
    client = browser(rep)
    response = client.post("/customers/new/", customer_post(name="上海华为技术 有限公司"))
    assert response.status_code == 409
    text = response.content.decode()
    assert 'data-testid="duplicates"' in text and f'href="/customers/{first.pk}/"' in text
    assert "same name" in text and 'name="save_anyway"' in text
    assert Customer.objects.count() == 1
    response = client.post("/customers/new/", customer_post(name="上海华为技术 有限公司", save_anyway="1"))
    assert response.status_code == 302
    assert Customer.objects.count() == 2
    # Nothing similar: saved at once.
    assert client.post("/customers/new/", customer_post(name="Entirely New")).status_code == 302


def test_invisible_duplicates_are_not_leaked(rep, manager, depts):
    theirs = new_customer(manager, name="Secret Holdings Ltd", phone="13700001111", email="boss@secret.cn")
    response = browser(rep).post("/customers/new/", customer_post(name="Secret Holdings", phone="13700001111"))
    assert response.status_code == 409
    text = response.content.decode()
    assert 'data-testid="hidden-duplicates"' in text and "another department" in text
    assert f"/customers/{theirs.pk}/" not in text
    assert "Secret Holdings Ltd" not in text and "boss@secret.cn" not in text and "Manager" not in text
    body = api_as(rep).post("/api/v1/customers/", {"name": "Secret Holdings"}, format="json")
    assert body.status_code == 409
    error = body.json()["error"]
    assert error["duplicates"] == [] and error["hidden_duplicates"] == 1
    assert "Secret Holdings Ltd" not in body.content.decode()


def test_api_409_with_visible_ids_and_force(rep):
    first = new_customer(rep, name="Acme Trading Co., Ltd.")
    client = api_as(rep)
    response = client.post("/api/v1/customers/", {"name": "ACME TRADING"}, format="json")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "duplicate" and error["duplicates"] == [first.pk] and error["hidden_duplicates"] == 0
    assert client.post("/api/v1/customers/?force=1", {"name": "ACME TRADING"}, format="json").status_code == 201
    assert client.post("/api/v1/customers/", {"name": "Acme Trading", "force": True}, format="json").status_code == 201
    assert Customer.objects.count() == 3


def test_api_contact_duplicate(rep):
    acme = new_customer(rep, name="Acme")
    li = services.create(rep, Contact, {"customer": acme, "name": "Li Lei", "mobile": "13912345678"})
    response = api_as(rep).post("/api/v1/contacts/", {"customer": acme.pk, "name": "Han Meimei",
                                                      "mobile": "13912345678"}, format="json")
    assert response.status_code == 409 and response.json()["error"]["duplicates"] == [li.pk]


def test_deleted_records_are_no_duplicates(rep):
    gone = new_customer(rep, name="Gone Co")
    services.delete(rep, Customer, gone.pk)
    assert not find_duplicates(rep, get_spec(Customer), Customer(name="Gone Co"))


def test_finder_lists_visible_groups_only(rep, manager):
    a = new_customer(rep, name="上海华为技术有限公司")
    b = new_customer(rep, name="上海华为技术")
    new_customer(rep, name="Lonely Co")
    c = new_customer(rep, name="Same Phone A", phone="13811112222")
    d = new_customer(rep, name="Same Phone B", phone="138 1111 2222")
    hidden = new_customer(manager, name="上海华为技术股份有限公司")
    text = browser(rep).get("/customers/duplicates/").content.decode()
    for obj in (a, b, c, d):
        assert f'href="/customers/{obj.pk}/"' in text
    assert f'href="/customers/{hidden.pk}/"' not in text and "Lonely Co" not in text
    assert "13811112222" not in text  # phones stay masked
    text = browser(manager).get("/customers/duplicates/").content.decode()
    assert f'href="/customers/{hidden.pk}/"' in text
    assert browser(rep).get("/contacts/duplicates/").status_code == 200


def test_finder_needs_the_view_permission(depts):
    nobody = make_user("nobody", depts["sales1"], {("contacts", "view"): Scope.OWN})
    assert browser(nobody).get("/customers/duplicates/").status_code == 403


def test_finder_query_count_is_constant(rep):
    client = browser(rep)
    client.get("/customers/duplicates/")

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/customers/duplicates/").status_code == 200
        return len(ctx.captured_queries)

    new_customer(rep, name="Pair One Ltd", phone="13800000001", email="one@x.cn")
    new_customer(rep, name="Pair One", phone="13800000001", email="ONE@x.cn")
    small = count()
    for i in range(2, 8):
        new_customer(rep, name=f"Pair {i} Co., Ltd", email=f"p{i}@x.cn")
        new_customer(rep, name=f"PAIR {i}", email=f"P{i}@X.CN")
        new_customer(rep, name=f"pair {i} inc", email=f"p{i}@x.cn")
    assert count() == small
