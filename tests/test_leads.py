"""Leads (LEAD-1..3): capture by form, API and the public web form (spam rejected), assignment
rules (round robin, region, load) and manual assignment, one-step conversion with reuse of
duplicates, and its bad paths (twice, partial failure, out of scope)."""

import datetime
import time

import pytest
from django.urls import reverse

from crm.core.audit.models import AuditEntry
from crm.core.testing.clients import api_as, browser
from crm.core.testing.org import Scope, make_user
from crm.customers.models import Contact, Customer
from crm.sales import services
from crm.sales.models import Lead, LeadAssignmentRule, LeadWebForm, Opportunity, WebFormSubmission
from crm.sales.testing import make_pipeline, open_stages
from crm.sales.views import WEB_FORM_RATE, form_stamp

pytestmark = pytest.mark.django_db

SALES = ("leads", "opportunities", "customers", "contacts", "opportunity-products")


def seller(name, dept, scope=Scope.OWN, assign=False):
    grants = {k: scope for k in SALES}
    if not assign:
        grants = {(k, a): scope for k in SALES for a in ("view", "create", "edit", "delete", "export")}
    return make_user(name, dept, {**grants, ("pipelines", "view"): Scope.ALL, ("pipeline-stages", "view"): Scope.ALL})


@pytest.fixture
def alice(depts):
    return seller("alice", depts["sales1"], assign=True)


@pytest.fixture
def bob(depts):
    return seller("bob", depts["sales1"])


@pytest.fixture
def carol(depts):
    return seller("carol", depts["sales1"])


def lead_of(owner, **fields):
    fields.setdefault("name", "王小明")
    return Lead.objects.create(owner=owner, department=owner.department, **fields)


# --- capture ------------------------------------------------------------------------------

def test_lead_by_form_is_numbered_and_owned_by_its_creator(alice):
    response = browser(alice).post(reverse("leads-create"), {
        "name": "李雷", "company": "华星科技", "mobile": "13800001111", "source": "exhibition",
        "campaign_code": "EXPO-26", "status": "new", "score": "40"})
    assert response.status_code == 302
    lead = Lead.objects.get(name="李雷")
    assert lead.owner == alice and lead.department == alice.department
    assert lead.code.startswith("XS") and len(lead.code) == len("XS2026110001")
    assert lead.source == "exhibition" and lead.campaign_code == "EXPO-26"


def test_lead_by_api_and_bad_input_at_the_field(alice):
    api = api_as(alice)
    created = api.post("/api/v1/leads/", {"name": "Han Meimei", "email": "han@example.com", "source": "api"})
    assert created.status_code == 201
    assert created.json()["code"].startswith("XS")
    for bad_input in ({"source": "nonsense"}, {"industry": "nonsense"}, {"email": "not-an-address"}):
        bad = api.post("/api/v1/leads/", {"name": "X", **bad_input})
        assert bad.status_code == 400
        assert list(bad.json()["error"]["fields"]) == list(bad_input)
    assert not Lead.objects.filter(name="X").exists()


def test_status_converted_cannot_be_typed_in(alice):
    lead = lead_of(alice)
    response = api_as(alice).patch(f"/api/v1/leads/{lead.pk}/", {"status": "converted", "version": lead.version})
    assert response.status_code == 400
    assert "status" in response.json()["error"]["fields"]
    lead.refresh_from_db()
    assert lead.status == "new"


# --- the public web form ------------------------------------------------------------------

@pytest.fixture
def web_form(alice):
    return LeadWebForm.objects.create(name="Contact us", default_owner=alice, source="website")


def post_form(client, wf, stamp_age=10, query="", **over):
    data = {"name": "张伟", "company": "远景贸易", "mobile": "13911112222", "email": "", "province": "广东",
            "city": "深圳", "message": "Please call", "stamp": form_stamp(wf, at=time.time() - stamp_age),
            "website": ""}
    data.update(over)
    return client.post(reverse("sales-web-form", kwargs={"token": wf.token}) + query, data)


def test_web_form_creates_a_lead_with_source_campaign_and_the_rules_owner(client, web_form, bob, depts):
    rule = LeadAssignmentRule.objects.create(name="South", method="region", regions="广东, 广西", priority=1)
    rule.members.set([bob])
    page = client.get(reverse("sales-web-form", kwargs={"token": web_form.token}) + "?source=exhibition&campaign=EXPO26")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="stamp"' in html and 'value="EXPO26"' in html and 'value="exhibition"' in html
    # It can be embedded in another site: no DENY framing header for this page.
    assert page.get("X-Frame-Options") is None
    assert "frame-ancestors *" in page.get("Content-Security-Policy", "")

    done = post_form(client, web_form, source="exhibition", campaign="EXPO26")
    assert done.status_code == 200 and 'data-testid="web-form-done"' in done.content.decode()
    lead = Lead.objects.get(name="张伟")
    assert (lead.source, lead.campaign_code, lead.web_form_id) == ("exhibition", "EXPO26", web_form.pk)
    assert lead.owner == bob and lead.department == depts["sales1"]
    assert lead.code.startswith("XS")
    assert AuditEntry.objects.filter(object_id=lead.pk, action=AuditEntry.Action.CREATE,
                                     extra__web_form=web_form.pk).exists()


def test_web_form_without_matching_rule_goes_to_the_default_owner(client, web_form, alice):
    assert post_form(client, web_form, province="", city="").status_code == 200
    lead = Lead.objects.get(name="张伟")
    assert lead.owner == alice and lead.source == "website"  # the form's default source


@pytest.mark.parametrize("spam", [
    {"website": "http://spam.example"},  # the honeypot field is filled in
    {"stamp": "forged"},  # no valid signed stamp
    {"stamp_age": 0},  # sent faster than a person can type
])
def test_web_form_rejects_spam(client, web_form, spam):
    age = spam.pop("stamp_age", 10)
    response = post_form(client, web_form, stamp_age=age, **spam)
    assert response.status_code == 400
    assert 'data-testid="web-form-error"' in response.content.decode()
    assert not Lead.objects.exists()


def test_web_form_needs_a_way_to_reply_and_a_known_token(client, web_form):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # a visitor whose browser asks for English
    response = post_form(client, web_form, mobile="", email="")
    assert response.status_code == 400
    assert "Give a mobile number or an e-mail address." in response.content.decode()
    assert client.get("/f/not-a-token/").status_code == 404
    web_form.is_active = False
    web_form.save()
    assert post_form(client, web_form).status_code == 404
    assert not Lead.objects.exists()


def test_web_form_rate_limit(client, web_form):
    for i in range(WEB_FORM_RATE[0]):
        assert post_form(client, web_form, name=f"n{i}").status_code == 200
    blocked = post_form(client, web_form, name="one too many")
    assert blocked.status_code == 429
    assert Lead.objects.count() == WEB_FORM_RATE[0]
    assert not Lead.objects.filter(name="one too many").exists()
    assert WebFormSubmission.objects.filter(accepted=True).count() == WEB_FORM_RATE[0]


# --- assignment rules ---------------------------------------------------------------------

def test_round_robin_is_fair_and_in_turn(alice, bob, carol, depts):
    LeadAssignmentRule.objects.create(name="Team", method="round_robin", team=depts["sales1"])
    owners = [services.choose_owner(Lead(name=f"l{i}")) for i in range(9)]
    assert owners == [alice, bob, carol] * 3


def test_by_region_then_fallback(alice, bob, carol, depts):
    south = LeadAssignmentRule.objects.create(name="South", method="region", regions="广东，福建", priority=1)
    south.members.set([carol])
    rest = LeadAssignmentRule.objects.create(name="Rest", method="round_robin", priority=2)
    rest.members.set([alice, bob])
    assert services.choose_owner(Lead(name="a", province="广东")) == carol
    assert services.choose_owner(Lead(name="b", city="福建")) == carol
    assert services.choose_owner(Lead(name="c", province="北京")) in (alice, bob)
    south.is_active = rest.is_active = False
    south.save(), rest.save()
    assert services.choose_owner(Lead(name="d")) is None


def test_by_load_picks_the_person_with_fewest_open_leads(alice, bob, carol, depts):
    rule = LeadAssignmentRule.objects.create(name="Load", method="load")
    rule.members.set([alice, bob, carol])
    for _i in range(2):
        lead_of(alice)
    lead_of(bob)
    for _i in range(3):  # closed leads are no load
        lead_of(carol, status="unqualified")
    assert services.choose_owner(Lead(name="x")) == carol
    lead_of(carol)
    lead_of(carol)
    assert services.choose_owner(Lead(name="y")) == bob


def test_manual_and_rule_assignment_through_the_api(alice, bob, carol, depts):
    lead = lead_of(alice)
    api = api_as(alice)
    moved = api.post(f"/api/v1/leads/{lead.pk}/assign/", {"owner": bob.pk, "reason": "Knows them"})
    assert moved.status_code == 200 and moved.json()["owner"] == bob.pk
    assert AuditEntry.objects.filter(object_id=lead.pk, action=AuditEntry.Action.TRANSFER).exists()

    lead2 = lead_of(alice)
    none = api.post(f"/api/v1/leads/{lead2.pk}/assign/", {})
    assert none.status_code == 400 and "owner" in none.json()["error"]["fields"]
    rule = LeadAssignmentRule.objects.create(name="Only Carol", method="round_robin")
    rule.members.set([carol])
    by_rules = api.post(f"/api/v1/leads/{lead2.pk}/assign/", {})
    assert by_rules.status_code == 200 and by_rules.json()["owner"] == carol.pk


def test_assignment_needs_the_assign_permission(alice, bob):
    lead = lead_of(bob)
    response = api_as(bob).post(f"/api/v1/leads/{lead.pk}/assign/", {"owner": alice.pk})
    assert response.status_code == 403
    lead.refresh_from_db()
    assert lead.owner == bob


def test_manual_assignment_page(alice, bob):
    lead = lead_of(alice)
    c = browser(alice)
    assert c.get(reverse("sales-lead-assign", kwargs={"pk": lead.pk})).status_code == 200
    response = c.post(reverse("sales-lead-assign", kwargs={"pk": lead.pk}), {"owner": bob.pk})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.owner == bob


# --- conversion ---------------------------------------------------------------------------

@pytest.fixture
def pipeline(db):
    return make_pipeline("Standard", default=True)


def convert_payload(pipeline, **over):
    opp = {"name": "First order", "amount": "50000.00", "pipeline": pipeline.pk,
           "stage": open_stages(pipeline)[0].pk,
           "expected_close_date": (datetime.date.today() + datetime.timedelta(days=45)).isoformat()}
    opp.update(over)
    return {"opportunity": opp}


def test_conversion_creates_customer_contact_and_opportunity(alice, pipeline):
    lead = lead_of(alice, company="青云科技有限公司", mobile="13700001111", email="wang@qingyun.cn", title="CTO",
                   province="浙江", city="杭州")
    response = api_as(alice).post(f"/api/v1/leads/{lead.pk}/convert/", {**convert_payload(pipeline),
                                                                        "version": lead.version})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["customer_reused"] is False and body["contact_reused"] is False
    customer = Customer.objects.get(pk=body["customer"])
    contact = Contact.objects.get(pk=body["contact"])
    opp = Opportunity.objects.get(pk=body["opportunity"])
    assert customer.name == "青云科技有限公司" and customer.owner == alice and customer.city == "杭州"
    assert contact.customer == customer and contact.mobile == "13700001111" and contact.title == "CTO"
    assert opp.customer == customer and list(opp.contacts.all()) == [contact] and opp.owner == alice
    assert opp.code.startswith("SJ")
    lead.refresh_from_db()
    assert lead.status == "converted" and lead.converted_at is not None
    assert (lead.converted_customer, lead.converted_contact, lead.converted_opportunity) == (customer, contact, opp)


def test_conversion_reuses_the_existing_customer_and_contact(alice, pipeline):
    customer = Customer(name="青云科技", owner=alice, department=alice.department)
    customer.full_clean()  # fills the name key of the duplicate check, as every write does
    customer.save()
    contact = Contact.objects.create(customer=customer, name="王小明", mobile="13700001111", owner=alice,
                                     department=alice.department)
    lead = lead_of(alice, company="青云科技有限公司", mobile="137 0000 1111")
    lead.full_clean()  # normalises the phone like every write does
    lead.save()
    response = api_as(alice).post(f"/api/v1/leads/{lead.pk}/convert/", convert_payload(pipeline))
    assert response.status_code == 200, response.json()
    assert response.json()["customer"] == customer.pk and response.json()["customer_reused"] is True
    assert response.json()["contact"] == contact.pk and response.json()["contact_reused"] is True
    assert Customer.objects.count() == 1 and Contact.objects.count() == 1


def test_converting_twice_is_refused(alice, pipeline):
    lead = lead_of(alice, company="Acme")
    api = api_as(alice)
    assert api.post(f"/api/v1/leads/{lead.pk}/convert/", {}).status_code == 200
    again = api.post(f"/api/v1/leads/{lead.pk}/convert/", convert_payload(pipeline))
    assert again.status_code == 400
    assert "already converted" in again.json()["error"]["fields"]["non_field_errors"][0]
    assert Customer.objects.count() == 1 and Opportunity.objects.count() == 0
    page = browser(alice).get(reverse("sales-lead-convert", kwargs={"pk": lead.pk}))
    assert page.status_code == 302  # back to the lead, with the message


@pytest.mark.parametrize("bad, field", [
    ({"amount": "-5.00"}, "amount"),
    ({"expected_close_date": "2001-01-01"}, "expected_close_date"),
])
def test_a_failing_opportunity_rolls_back_the_whole_conversion(alice, pipeline, bad, field):
    lead = lead_of(alice, company="Rollback Ltd", mobile="13600001111")
    response = api_as(alice).post(f"/api/v1/leads/{lead.pk}/convert/", convert_payload(pipeline, **bad))
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Customer.objects.exists() and not Contact.objects.exists() and not Opportunity.objects.exists()
    lead.refresh_from_db()
    assert lead.converted_at is None and lead.status == "new"
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.CREATE, object_repr="Rollback Ltd").exists()


def test_another_pipelines_stage_is_refused_in_conversion(alice, pipeline):
    other = make_pipeline("Other")
    lead = lead_of(alice, company="Mix Co")
    response = api_as(alice).post(f"/api/v1/leads/{lead.pk}/convert/",
                                  convert_payload(pipeline, stage=open_stages(other)[1].pk))
    assert response.status_code == 400 and "stage" in response.json()["error"]["fields"]
    assert not Customer.objects.exists()


def test_conversion_outside_the_scope_is_a_404(alice, bob, pipeline):
    lead = lead_of(bob, company="Bob's")
    assert api_as(alice).post(f"/api/v1/leads/{lead.pk}/convert/", {}).status_code == 404
    assert browser(alice).get(reverse("sales-lead-convert", kwargs={"pk": lead.pk})).status_code == 404
    assert not Customer.objects.exists()


def test_conversion_wizard_offers_duplicates_and_converts(alice, pipeline):
    customer = Customer(name="星河电子", owner=alice, department=alice.department)
    customer.full_clean()
    customer.save()
    lead = lead_of(alice, company="星河电子有限公司", mobile="13500001111")
    c = browser(alice)
    url = reverse("sales-lead-convert", kwargs={"pk": lead.pk})
    page = c.get(url)
    assert page.status_code == 200
    assert f'<option value="{customer.pk}" selected>' in page.content.decode()
    stage = open_stages(pipeline)[0]
    bad = c.post(url, {"customer": customer.pk, "contact": "new", "create_opportunity": "on", "name": "Deal",
                       "amount": "-1", "stage": stage.pk, "expected_close_date": "2030-01-31",
                       "version": lead.version})
    assert bad.status_code == 400 and "Ensure this value is greater than or equal to 0." in bad.content.decode()
    assert not Opportunity.objects.exists() and not Contact.objects.exists()
    ok = c.post(url, {"customer": customer.pk, "contact": "new", "create_opportunity": "on", "name": "Deal",
                      "amount": "1200", "stage": stage.pk, "expected_close_date": "2030-01-31",
                      "version": lead.version})
    opp = Opportunity.objects.get(name="Deal")
    assert ok.status_code == 302 and ok.url == reverse("opportunities-detail", kwargs={"pk": opp.pk})
    assert opp.customer == customer and Customer.objects.count() == 1
    detail = c.get(reverse("leads-detail", kwargs={"pk": lead.pk})).content.decode()
    assert reverse("opportunities-detail", kwargs={"pk": opp.pk}) in detail  # "Converted into" panel


# --- follow-up ----------------------------------------------------------------------------

def test_an_activity_logged_on_a_lead_sets_its_last_follow_up(alice):
    from crm.activities.models import Activity
    from crm.core.access.models import RoleGrant

    RoleGrant.objects.bulk_create([RoleGrant(role=alice.roles.get(), entity="activities", action=a, scope=Scope.OWN)
                                   for a in ("view", "create")])
    lead = lead_of(alice, next_follow_up=None)
    response = browser(alice).post(reverse("activities-create"), {
        "kind": "call", "subject": "First call", "occurred_at": "2026-03-02T10:15", "duration_minutes": "10",
        "record_type": "leads", "record_id": lead.pk, "outcome": "Interested", "next_step": "", "address": "",
        "tags": "", "latitude": "", "longitude": "", "accuracy_m": ""})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.last_activity_at == Activity.objects.get(subject="First call").occurred_at
    listed = browser(alice).get(reverse("leads-list"), {"cols": "name,last_activity_at"}).content.decode()
    assert "2026-03-02 10:15" in listed
