"""Bad input on the work and sales services and on custom field definitions: each refusal names
its field, says why in English, and writes nothing."""

import datetime
import re
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.utils import translation

from crm.activities.models import Activity, Task
from crm.activities.testing import work_user
from crm.core.customfields import services as cf
from crm.core.customfields.models import CustomField
from crm.core.entities import services as kernel
from crm.core.testing.clients import api_as, browser
from crm.core.testing.org import Scope, make_user
from crm.customers.models import Contact, Customer
from crm.sales import services
from crm.sales.models import Lead, Opportunity, Stage, StageKind
from crm.sales.testing import make_pipeline, open_stages

pytestmark = pytest.mark.django_db
SALES = ("leads", "opportunities", "customers", "contacts", "opportunity-products")
SOON = datetime.date.today() + datetime.timedelta(days=30)


def seller(name, dept):
    return make_user(name, dept, {**{k: Scope.OWN for k in SALES}, ("pipelines", "view"): Scope.ALL,
                                  ("pipeline-stages", "view"): Scope.ALL})


@pytest.fixture
def alice(depts):
    return seller("alice", depts["sales1"])


@pytest.fixture
def worker(depts):
    return work_user("walt", depts["sales1"])


@pytest.fixture
def pipeline(db):
    return make_pipeline("Standard", default=True)


def customer_of(owner, name):
    return Customer.objects.create(name=name, owner=owner, department=owner.department)


def opp_of(owner, pipeline):
    return kernel.create(owner, Opportunity, {
        "name": "Deal", "customer": customer_of(owner, "Deal Co"), "pipeline": pipeline,
        "stage": open_stages(pipeline)[0], "amount": Decimal("1000"), "expected_close_date": SOON}, owner=owner)


def messages(exc, field):
    return exc.value.message_dict[field]


# --- sales ---------------------------------------------------------------------------------

def test_converting_with_a_contact_of_another_customer_is_refused(alice, pipeline):
    chosen = customer_of(alice, "Chosen Ltd")
    other = customer_of(alice, "Other Ltd")
    stranger = Contact.objects.create(customer=other, name="Zhang", owner=alice, department=alice.department)
    lead = Lead.objects.create(name="王小明", company="Chosen Ltd", owner=alice, department=alice.department)
    response = api_as(alice, lang="en").post(f"/api/v1/leads/{lead.pk}/convert/", {
        "customer": chosen.pk, "contact": stranger.pk, "version": lead.version})
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["fields"]["contact"] == ["The contact must belong to the customer."]
    lead.refresh_from_db()
    assert lead.status == "new" and lead.converted_at is None and lead.converted_contact is None
    assert Customer.objects.count() == 2 and Contact.objects.count() == 1 and not Opportunity.objects.exists()


def test_converting_with_a_contact_of_another_customer_is_refused_in_the_service(alice, pipeline):
    chosen = customer_of(alice, "Chosen Ltd")
    other = customer_of(alice, "Other Ltd")
    stranger = Contact.objects.create(customer=other, name="Zhang", owner=alice, department=alice.department)
    lead = Lead.objects.create(name="王小明", company="Chosen Ltd", owner=alice, department=alice.department)
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        services.convert(alice, lead.pk, customer=chosen.pk, contact=stranger.pk,
                         opportunity={"amount": Decimal("10"), "expected_close_date": SOON},
                         expected_version=lead.version)
    assert messages(exc, "contact") == ["The contact must belong to the customer."]
    lead.refresh_from_db()
    assert lead.status == "new" and lead.converted_opportunity is None
    assert Contact.objects.count() == 1 and not Opportunity.objects.exists()


@pytest.mark.parametrize("action", ["win", "lose"])
def test_win_or_lose_without_a_version_is_refused(alice, pipeline, action):
    opp = opp_of(alice, pipeline)
    before = (opp.stage_id, opp.version)
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        if action == "win":
            services.win(alice, opp.pk, None)
        else:
            services.lose(alice, opp.pk, None, "Too expensive")
    assert messages(exc, "version") == ["The version of the record is missing; reload the page."]
    opp.refresh_from_db()
    assert (opp.stage_id, opp.version) == before and opp.lost_reason == ""


def test_win_on_a_pipeline_without_a_won_stage_is_refused(alice, pipeline):
    opp = opp_of(alice, pipeline)
    Stage.objects.filter(pipeline=pipeline, kind=StageKind.WON).delete()
    before = (opp.stage_id, opp.version)
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        services.win(alice, opp.pk, opp.version)
    assert messages(exc, "stage") == ["The pipeline has no won stage."]
    opp.refresh_from_db()
    assert (opp.stage_id, opp.version) == before


# --- activities and tasks ------------------------------------------------------------------

def test_a_latitude_without_a_longitude_is_refused(worker):
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        kernel.create(worker, Activity, {"subject": "Visit", "kind": "visit", "latitude": Decimal("31.2")})
    assert messages(exc, "longitude") == ["A location needs both latitude and longitude."]
    assert not Activity.all_objects.exists()


def test_a_location_half_given_in_the_api_is_a_400(worker):
    response = api_as(worker, lang="en").post("/api/v1/activities/", {
        "subject": "Visit", "kind": "visit", "latitude": "31.200000"})
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["fields"]["longitude"] == ["A location needs both latitude and longitude."]
    assert not Activity.all_objects.exists()


def test_a_record_type_without_a_record_is_refused(worker):
    ct = ContentType.objects.get_for_model(Customer)
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        kernel.create(worker, Activity, {"subject": "Call", "kind": "call", "record_type": ct})
    assert messages(exc, "record_id") == ["Choose both the kind of record and the record."]
    assert not Activity.all_objects.exists()


def test_a_record_that_does_not_exist_is_refused(worker):
    ct = ContentType.objects.get_for_model(Customer)
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        kernel.create(worker, Task, {"title": "Follow up", "record_type": ct, "record_id": 987654321},
                      {"assignees": [worker]})
    assert messages(exc, "record_id") == ["This record does not exist."]
    assert not Task.all_objects.exists()


def test_a_task_cannot_be_its_own_sub_task(worker):
    task = kernel.create(worker, Task, {"title": "Prepare the offer"}, {"assignees": [worker]})
    version = task.version
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        kernel.update(worker, Task, task.pk, {"parent": task}, expected_version=version)
    assert messages(exc, "parent") == ["A task cannot be its own sub-task."]
    task.refresh_from_db()
    assert task.parent_id is None and task.version == version


# --- custom field definitions --------------------------------------------------------------

def test_a_pattern_on_a_non_text_field_is_refused(admin):
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        cf.create(admin, "customers", {"key": "score", "type": "number", "label_zh": "分", "label_en": "Score",
                                       "regex": r"\d+"})
    assert messages(exc, "regex") == ["Only text fields can have a pattern."]
    assert not CustomField.objects.exists()


def test_choices_on_a_non_choice_field_are_refused(admin):
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        cf.create(admin, "customers", {"key": "note", "type": "text", "label_zh": "注", "label_en": "Note",
                                       "choices": [{"code": "a", "label_zh": "甲", "label_en": "A"}]})
    assert messages(exc, "choices") == ["Only choice fields have choices."]
    assert not CustomField.objects.exists()


def test_a_default_on_a_user_field_is_refused_in_the_form(admin):
    response = browser(admin, lang="en").post("/settings/custom-fields/customers/new/", {
        "key": "manager", "type": "user", "label_zh": "经理", "label_en": "Manager", "order": "10",
        "default": "root"})
    assert response.status_code == 400
    errors = {m.group(1): m.group(2) for m in re.finditer(r'data-error-for="([^"]+)">([^<]*)<',
                                                          response.content.decode())}
    assert errors.get("default") == "A user field cannot have a default."
    assert not CustomField.objects.exists()


def test_an_unknown_dictionary_kind_is_refused(admin):
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        cf.create(admin, "customers", {"key": "sector", "type": "choice", "label_zh": "板块", "label_en": "Sector",
                                       "dictionary_kind": "no_such_kind"})
    assert messages(exc, "dictionary_kind") == ["Unknown data dictionary kind."]
    assert not CustomField.objects.exists()
