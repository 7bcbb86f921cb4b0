"""Customers and contacts through the real HTTP layer (CUS-1..5, CUS-8, INT-1): bad input on
every write channel, normalisation, mnemonic codes, copy, primary contacts, hierarchy panels,
timeline and notes, optimistic locking."""

import re

import pytest
from django.test import Client

from crm.core.audit.models import AuditEntry
from crm.core.entities import services
from crm.core.events.models import EventRecord
from crm.core.testing.org import Scope, make_user
from crm.core.timeline.models import Note
from crm.customers.models import Contact, Customer
from crm.core.testing.clients import api_as, browser
from crm.customers.testing import customer_post

VALID_USCC = "91350100M000100Y43"
BAD_USCC = "91350100M000100Y44"  # the check character of this one is 3, not 4




def edit_post(obj, **over):
    data = customer_post(
        name=obj.name, mnemonic_code=obj.mnemonic_code, customer_type=obj.customer_type, level=obj.level,
        status=obj.status, credit_limit=str(obj.credit_limit), credit_code=obj.credit_code, phone=obj.phone,
        finance_phone=obj.finance_phone, email=obj.email, city=obj.city, notes=obj.notes,
        parent=obj.parent_id or "", registered_at=obj.registered_at.strftime("%Y-%m-%dT%H:%M"),
    )
    data["version"] = obj.version
    data.update(over)
    return data


def contact_post(customer, **over):
    data = {
        "customer": customer.pk, "name": "Li Lei", "gender": "", "birthday": "", "dept": "", "title": "",
        "reports_to": "", "mobile": "", "office_phone": "", "home_phone": "", "fax": "", "email": "",
        "wechat": "", "hobbies": "", "preferences": "", "tags": "", "notes": "",
    }
    data.update(over)
    return data


def new_customer(user, **data):
    data.setdefault("name", "Acme Trading")
    return services.create(user, Customer, data)


def new_contact(user, customer, **data):
    data.setdefault("name", "Li Lei")
    return services.create(user, Contact, {"customer": customer, **data})


def field_errors(response, field):
    """Error texts rendered at `field` in a re-rendered form."""
    html = response.content.decode()
    return re.findall(rf'data-error-for="{field}">(.*?)</div>', html, re.S)


def state():
    """What a rejected write must leave untouched."""
    return (
        sorted(Customer.all_objects.values_list("pk", "name", "version", "phone", "credit_limit", "parent_id",
                                                "credit_code", "email")),
        sorted(Contact.all_objects.values_list("pk", "name", "version", "mobile", "reports_to_id", "email")),
        AuditEntry.objects.exclude(action__in=["login", "logout"]).count(),
        EventRecord.objects.count(),
    )


# --- Bad input: customers ---------------------------------------------------------------------

CUSTOMER_BAD_INPUT = [
    pytest.param("name", "", "This field (is required|may not be blank)", id="name-required"),
    pytest.param("email", "sales@@example", "valid email", id="email"),
    pytest.param("phone", "1381234567", "valid phone number", id="mainland-phone-short"),
    pytest.param("phone", "12345", "valid phone number", id="mainland-phone-garbage"),
    pytest.param("finance_phone", "+1 415 555", "valid phone number", id="international-phone"),
    pytest.param("credit_code", BAD_USCC, "check digit", id="uscc-check-digit"),
    pytest.param("credit_code", "91350100M00010", "18", id="uscc-length"),
    pytest.param("credit_limit", "-0.01", "greater than or equal to 0", id="negative-credit-limit"),
]


@pytest.mark.parametrize("field,value,message", CUSTOMER_BAD_INPUT)
def test_customer_create_form_rejects_bad_input_at_the_field(rep, field, value, message):
    client = browser(rep)
    before = state()
    response = client.post("/customers/new/", customer_post(**{field: value}))
    assert response.status_code == 400
    errors = field_errors(response, field)
    assert errors and re.search(message, " ".join(errors), re.I)
    assert state() == before


@pytest.mark.parametrize("field,value,message", CUSTOMER_BAD_INPUT)
def test_customer_edit_form_rejects_bad_input_and_changes_nothing(rep, field, value, message):
    obj = new_customer(rep, name="Keep Me", phone="13812345678", credit_limit=500)
    client = browser(rep)
    before = state()
    response = client.post(f"/customers/{obj.pk}/edit/", edit_post(obj, **{field: value}))
    assert response.status_code == 400
    assert re.search(message, " ".join(field_errors(response, field)), re.I)
    assert state() == before
    # The user's bad input is still in the form so they can correct it.
    if value:
        assert f'value="{value}"' in response.content.decode()


@pytest.mark.parametrize("field,value,message", CUSTOMER_BAD_INPUT)
def test_customer_api_create_rejects_bad_input_with_field_errors(rep, field, value, message):
    client = api_as(rep)
    before = state()
    body = {"name": "Acme Trading", field: value}
    response = client.post("/api/v1/customers/", body, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["status"] == 400 and error["code"] == "invalid"
    assert re.search(message, " ".join(error["fields"][field]), re.I)
    assert state() == before


@pytest.mark.parametrize("field,value,message", CUSTOMER_BAD_INPUT)
def test_customer_api_patch_rejects_bad_input_and_changes_nothing(rep, field, value, message):
    obj = new_customer(rep, name="Keep Me", phone="13812345678")
    client = api_as(rep)
    before = state()
    response = client.patch(f"/api/v1/customers/{obj.pk}/", {field: value, "version": obj.version}, format="json")
    assert response.status_code == 400, response.content
    assert re.search(message, " ".join(response.json()["error"]["fields"][field]), re.I)
    assert state() == before


def test_good_phone_numbers_are_normalised_in_form_and_api(rep):
    client = browser(rep)
    response = client.post("/customers/new/", customer_post(name="Normal Co", phone="138 1234 5678",
                                                             finance_phone="+1 415 555 0100", credit_code=VALID_USCC.lower()))
    assert response.status_code == 302, field_errors(response, "phone")
    obj = Customer.objects.get(name="Normal Co")
    assert (obj.phone, obj.finance_phone, obj.credit_code) == ("13812345678", "+14155550100", VALID_USCC)

    response = api_as(rep).post("/api/v1/customers/", {"name": "Api Co", "phone": "021-1234 5678"}, format="json")
    assert response.status_code == 201
    assert Customer.objects.get(name="Api Co").phone == "02112345678"


def test_parent_company_cycle_is_refused_in_form_and_api_as(rep):
    top = new_customer(rep, name="Group")
    middle = new_customer(rep, name="Company", parent=top)
    bottom = new_customer(rep, name="Branch", parent=middle)
    before = state()

    response = browser(rep).post(f"/customers/{top.pk}/edit/", edit_post(top, parent=bottom.pk))
    assert response.status_code == 400
    assert "cycle" in " ".join(field_errors(response, "parent"))

    response = browser(rep).post(f"/customers/{top.pk}/edit/", edit_post(top, parent=top.pk))
    assert response.status_code == 400
    assert field_errors(response, "parent")

    response = api_as(rep).patch(f"/api/v1/customers/{top.pk}/", {"parent": bottom.pk}, format="json")
    assert response.status_code == 400
    assert "cycle" in " ".join(response.json()["error"]["fields"]["parent"])
    assert state() == before
    assert Customer.objects.get(pk=top.pk).parent_id is None


def test_parent_company_out_of_scope_cannot_be_chosen(rep, manager):
    other = new_customer(manager, name="Not Yours")
    mine = new_customer(rep, name="Mine")
    before = state()
    response = browser(rep).post(f"/customers/{mine.pk}/edit/", edit_post(mine, parent=other.pk))
    assert response.status_code == 400 and field_errors(response, "parent")
    response = api_as(rep).patch(f"/api/v1/customers/{mine.pk}/", {"parent": other.pk}, format="json")
    assert response.status_code == 400 and "parent" in response.json()["error"]["fields"]
    assert state() == before


# --- Bad input: contacts ----------------------------------------------------------------------

CONTACT_BAD_INPUT = [
    pytest.param("name", "", "This field (is required|may not be blank)", id="name-required"),
    pytest.param("email", "li.lei.example.com", "valid email", id="email"),
    pytest.param("mobile", "1381234567", "valid phone number", id="mainland-mobile"),
    pytest.param("office_phone", "+44 12", "valid phone number", id="international-phone"),
    pytest.param("birthday", "2999-01-01", "future", id="birthday-in-future"),
]


@pytest.mark.parametrize("field,value,message", CONTACT_BAD_INPUT)
def test_contact_form_and_api_reject_bad_input(rep, field, value, message):
    customer = new_customer(rep)
    before = state()
    response = browser(rep).post("/contacts/new/", contact_post(customer, **{field: value}))
    assert response.status_code == 400
    assert re.search(message, " ".join(field_errors(response, field)), re.I)
    response = api_as(rep).post("/api/v1/contacts/", {"customer": customer.pk, "name": "Li Lei", field: value}, format="json")
    assert response.status_code == 400
    assert re.search(message, " ".join(response.json()["error"]["fields"][field]), re.I)
    assert state() == before


def test_contact_phones_are_normalised(rep):
    customer = new_customer(rep)
    response = browser(rep).post("/contacts/new/", contact_post(customer, mobile="138 1234 5678", office_phone="+1 415 555 0100"))
    assert response.status_code == 302
    contact = Contact.objects.get(customer=customer)
    assert (contact.mobile, contact.office_phone) == ("13812345678", "+14155550100")


def test_reports_to_cycle_is_refused(rep):
    customer = new_customer(rep)
    boss = new_contact(rep, customer, name="Boss")
    mid = new_contact(rep, customer, name="Mid", reports_to=boss)
    low = new_contact(rep, customer, name="Low", reports_to=mid)
    before = state()
    response = browser(rep).post(f"/contacts/{boss.pk}/edit/",
                                 {**contact_post(customer, name="Boss", reports_to=low.pk), "version": boss.version})
    assert response.status_code == 400
    assert "cycle" in " ".join(field_errors(response, "reports_to"))
    response = api_as(rep).patch(f"/api/v1/contacts/{boss.pk}/", {"reports_to": boss.pk}, format="json")
    assert response.status_code == 400
    assert "cycle" in " ".join(response.json()["error"]["fields"]["reports_to"])
    assert state() == before


def test_reports_to_must_be_a_contact_of_the_same_customer(rep):
    ours, theirs = new_customer(rep, name="Ours"), new_customer(rep, name="Theirs")
    stranger = new_contact(rep, theirs, name="Stranger")
    before = state()
    response = browser(rep).post("/contacts/new/", contact_post(ours, reports_to=stranger.pk))
    assert response.status_code == 400
    assert "same customer" in " ".join(field_errors(response, "reports_to"))
    response = api_as(rep).post("/api/v1/contacts/", {"customer": ours.pk, "name": "X", "reports_to": stranger.pk}, format="json")
    assert response.status_code == 400
    assert "same customer" in " ".join(response.json()["error"]["fields"]["reports_to"])
    assert state() == before


def test_error_messages_are_translated(rep):
    """zh-hans is the default language; the same error reads differently in English."""
    english = browser(rep, "en").post("/customers/new/", customer_post(name=""))
    chinese = browser(rep, "zh-hans").post("/customers/new/", customer_post(name=""))
    default = Client()
    default.force_login(rep)
    default_language = default.post("/customers/new/", customer_post(name=""))
    assert english.status_code == chinese.status_code == default_language.status_code == 400
    en, zh = field_errors(english, "name"), field_errors(chinese, "name")
    assert en == ["This field is required."]
    assert zh and zh != en
    assert re.search(r"[\u4e00-\u9fff]", zh[0])  # Chinese characters
    assert field_errors(default_language, "name") == zh

    en_api = api_as(rep, "en").post("/api/v1/customers/", {"name": ""}, format="json").json()
    zh_api = api_as(rep, "zh-hans").post("/api/v1/customers/", {"name": ""}, format="json").json()
    assert en_api["error"]["fields"]["name"] != zh_api["error"]["fields"]["name"]


# --- Mnemonic code, copy, primary contact ---------------------------------------------------

def test_mnemonic_code_defaults_to_pinyin_initials(rep):
    response = browser(rep).post("/customers/new/", customer_post(name="上海华为技术有限公司"))
    assert response.status_code == 302
    obj = Customer.objects.get(name="上海华为技术有限公司")
    assert obj.mnemonic_code == "SHHWJSYXGS"
    response = api_as(rep).post("/api/v1/customers/", {"name": "北京ABC科技"}, format="json")
    assert response.json()["mnemonic_code"] == "BJAKJ"
    # A code typed by the user is kept.
    response = browser(rep).post("/customers/new/", customer_post(name="深圳腾讯", mnemonic_code="TX"))
    assert Customer.objects.get(name="深圳腾讯").mnemonic_code == "TX"
    # Search by the initials finds the customer.
    assert "上海华为技术有限公司" in browser(rep).get("/customers/", {"q": "SHHW"}).content.decode()


def test_copy_of_a_customer_prefills_the_form_and_creates_a_new_record(rep):
    src = new_customer(rep, name="Original Ltd", city="杭州", credit_limit=5000, credit_code=VALID_USCC,
                       phone="13812345678")
    client = browser(rep)
    response = client.get(f"/customers/{src.pk}/copy/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="Original Ltd (copy)"' in html
    assert 'value="杭州"' in html
    assert "13812345678" not in html  # a user who may not reveal phones does not get them by copying
    response = client.post(f"/customers/{src.pk}/copy/", customer_post(name="Original Ltd (copy)", city="杭州",
                                                                        credit_limit="5000"))
    assert response.status_code == 302
    copy = Customer.objects.get(name="Original Ltd (copy)")
    assert copy.pk != src.pk and copy.city == "杭州" and copy.code != src.code
    assert Customer.objects.get(pk=src.pk).name == "Original Ltd"


def test_copy_of_an_invisible_customer_is_404(rep, manager):
    theirs = new_customer(manager, name="Theirs")
    assert browser(rep).get(f"/customers/{theirs.pk}/copy/").status_code == 404


def test_making_a_second_contact_primary_unprimaries_the_first(rep):
    customer = new_customer(rep)
    first = new_contact(rep, customer, name="First", is_primary=True)
    response = browser(rep).post("/contacts/new/", contact_post(customer, name="Second", is_primary="on"))
    assert response.status_code == 302
    second = Contact.objects.get(name="Second")
    assert second.is_primary
    assert not Contact.objects.get(pk=first.pk).is_primary
    # Through the API the first one takes over again.
    first.refresh_from_db()
    response = api_as(rep).patch(f"/api/v1/contacts/{first.pk}/", {"is_primary": True, "version": first.version}, format="json")
    assert response.status_code == 200, response.content
    assert list(Contact.objects.filter(customer=customer, is_primary=True).values_list("name", flat=True)) == ["First"]
    # Another customer's primary contact is not touched.
    other = new_customer(rep, name="Other")
    other_primary = new_contact(rep, other, name="Other primary", is_primary=True)
    assert Contact.objects.get(pk=other_primary.pk).is_primary


# --- Hierarchy and contacts on the detail page ---------------------------------------------

def test_detail_page_lists_children_companies_and_contacts_within_scope(rep, manager, depts):
    parent = new_customer(rep, name="Parent Group")
    child = new_customer(rep, name="Child Company", parent=parent)
    hidden_child = new_customer(manager, name="Hidden Child")
    Customer.objects.filter(pk=hidden_child.pk).update(parent=parent)
    contact = new_contact(rep, parent, name="Wang Fang", title="CFO", mobile="13812345678")
    hidden_contact = new_contact(manager, parent, name="Secret Person")

    html = browser(rep).get(f"/customers/{parent.pk}/").content.decode()
    children = _panel(html, "children")
    assert "Child Company" in children and f"/customers/{child.pk}/" in children
    assert "Hidden Child" not in children  # out of the rep's scope
    contacts = _panel(html, "contacts")
    assert "Wang Fang" in contacts and f"/contacts/{contact.pk}/" in contacts
    assert "138****5678" in contacts and "13812345678" not in html
    assert "Secret Person" not in contacts
    assert f"/contacts/new/?customer={parent.pk}" in contacts

    # The manager sees the whole subtree, including the rep's records.
    html = browser(manager).get(f"/customers/{parent.pk}/").content.decode()
    assert "Hidden Child" in _panel(html, "children") and "Child Company" in _panel(html, "children")
    assert {"Wang Fang", "Secret Person"} <= set(re.findall(r"Wang Fang|Secret Person", _panel(html, "contacts")))
    assert hidden_contact.pk

    # The child shows its parent.
    html = browser(rep).get(f"/customers/{child.pk}/").content.decode()
    assert "Parent Group" in html


def _panel(html, key):
    match = re.search(rf'data-panel="{key}".*?</table>', html, re.S)
    assert match, f"no {key} panel on the page"
    return match.group(0)


def test_new_contact_link_from_a_customer_prefills_the_customer(rep):
    customer = new_customer(rep, name="Prefill Co")
    html = browser(rep).get(f"/contacts/new/?customer={customer.pk}").content.decode()
    assert re.search(rf'<option value="{customer.pk}" selected>Prefill Co</option>', html)


# --- Timeline and notes ----------------------------------------------------------------------

def test_timeline_shows_field_changes_old_to_new_with_who(rep):
    obj = new_customer(rep, name="Before Name", credit_limit=100)
    client = browser(rep)
    response = client.post(f"/customers/{obj.pk}/edit/", edit_post(obj, name="After Name", level="strategic"))
    assert response.status_code == 302
    html = client.get(f"/customers/{obj.pk}/").content.decode()
    timeline = html[html.index('data-testid="timeline"'):]
    assert re.search(r"<del>Before Name</del>\s*→\s*<ins>After Name</ins>", timeline)
    assert re.search(r"<del>Normal</del>\s*→\s*<ins>Strategic</ins>", timeline)  # choice labels, not raw values
    assert "Rep" in timeline


def test_note_added_with_htmx_returns_the_timeline_fragment(rep):
    obj = new_customer(rep)
    client = browser(rep)
    response = client.post(f"/customers/{obj.pk}/notes/", {"body": "Called, wants a quote"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="timeline"')
    assert "<html" not in html
    assert "Called, wants a quote" in html
    assert Note.objects.filter(object_id=obj.pk, author=rep, body="Called, wants a quote").count() == 1

    response = client.post(f"/customers/{obj.pk}/notes/", {"body": "   "}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert Note.objects.filter(object_id=obj.pk).count() == 1

    # Without HTMX the browser is sent back to the record.
    response = client.post(f"/customers/{obj.pk}/notes/", {"body": "Second note"})
    assert response.status_code == 302 and response["Location"] == f"/customers/{obj.pk}/"


def test_notes_on_invisible_records_are_refused(rep, manager):
    theirs = new_customer(manager)
    assert browser(rep).post(f"/customers/{theirs.pk}/notes/", {"body": "x"}, HTTP_HX_REQUEST="true").status_code == 404
    assert api_as(rep).post(f"/api/v1/customers/{theirs.pk}/notes/", {"body": "x"}, format="json").status_code == 404
    assert not Note.objects.exists()


def test_api_notes_and_timeline(rep):
    obj = new_customer(rep, phone="13812345678")
    client = api_as(rep)
    response = client.post(f"/api/v1/customers/{obj.pk}/notes/", {"body": ""}, format="json")
    assert response.status_code == 400 and "body" in response.json()["error"]["fields"]
    response = client.post(f"/api/v1/customers/{obj.pk}/notes/", {"body": "From the API"}, format="json")
    assert response.status_code == 201
    items = response.json()
    assert items[0]["kind"] == "note" and items[0]["body"] == "From the API"
    created = [i for i in items if i["kind"] == "audit" and i["action"] == "create"][0]
    assert created["changes"]["phone"] == [None, "138****5678"]


# --- Optimistic locking ----------------------------------------------------------------------

def test_second_save_of_a_stale_form_is_a_conflict_that_keeps_input(rep, depts):
    colleague = make_user("colleague", depts["sales1"], {"customers": Scope.DEPARTMENT})
    obj = new_customer(rep, name="Shared Co", city="Beijing", phone="13812345678")
    mine, theirs = browser(rep), browser(colleague)
    form_a = mine.get(f"/customers/{obj.pk}/edit/")
    form_b = theirs.get(f"/customers/{obj.pk}/edit/")
    version = re.search(r'name="version" value="(\d+)"', form_a.content.decode()).group(1)
    assert version == re.search(r'name="version" value="(\d+)"', form_b.content.decode()).group(1)

    assert theirs.post(f"/customers/{obj.pk}/edit/", edit_post(obj, city="Shanghai", phone="13900001111")).status_code == 302
    before = state()
    response = mine.post(f"/customers/{obj.pk}/edit/", edit_post(obj, city="Guangzhou", phone=""))
    assert response.status_code == 409
    html = response.content.decode()
    assert 'data-testid="conflict"' in html
    assert 'value="Guangzhou"' in html  # the user's input is still there
    assert "13900001111" not in html  # a conflict does not leak phone numbers the user may not see
    assert state() == before
    saved = Customer.objects.get(pk=obj.pk)
    assert (saved.city, saved.phone) == ("Shanghai", "13900001111")
    # Saving again from the conflict form is a deliberate overwrite of the new version.
    new_version = re.search(r'name="version" value="(\d+)"', html).group(1)
    assert int(new_version) == saved.version
    response = mine.post(f"/customers/{obj.pk}/edit/", edit_post(saved, city="Guangzhou", phone=""))
    assert response.status_code == 302
    saved = Customer.objects.get(pk=obj.pk)
    assert (saved.city, saved.phone) == ("Guangzhou", "13900001111")


def test_api_patch_with_a_stale_version_is_a_409(rep):
    obj = new_customer(rep, name="Versioned", city="Beijing")
    client = api_as(rep)
    response = client.patch(f"/api/v1/customers/{obj.pk}/", {"city": "Shanghai", "version": obj.version}, format="json")
    assert response.status_code == 200 and response.json()["version"] == obj.version + 1
    before = state()
    response = client.patch(f"/api/v1/customers/{obj.pk}/", {"city": "Wuhan", "version": obj.version}, format="json")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["status"] == 409 and error["code"] == "conflict" and error["message"]
    assert error["current"]["city"] == "Shanghai" and error["current"]["version"] == obj.version + 1
    assert state() == before
    assert Customer.objects.get(pk=obj.pk).city == "Shanghai"


def test_edit_form_shows_the_current_choice_of_every_picker(rep):
    parent = new_customer(rep, name="Picker Parent")
    child = new_customer(rep, name="Picker Child", parent=parent)
    contact = new_contact(rep, child, name="Picker Contact")
    html = browser(rep).get(f"/customers/{child.pk}/edit/").content.decode()
    assert re.search(rf'<option value="{parent.pk}" selected>Picker Parent</option>', html)
    html = browser(rep).get(f"/contacts/{contact.pk}/edit/").content.decode()
    assert re.search(rf'<option value="{child.pk}" selected>Picker Child</option>', html)


def test_owner_department_version_and_code_cannot_be_mass_assigned(rep, manager, depts):
    response = api_as(rep).post("/api/v1/customers/", {
        "name": "Sneaky", "owner": manager.pk, "department": depts["hq"].pk, "version": 50, "code": "HACK",
        "created_by": manager.pk, "deleted_at": "2020-01-01T00:00:00Z",
    }, format="json")
    assert response.status_code == 201
    obj = Customer.objects.get(name="Sneaky")
    assert (obj.owner, obj.department, obj.version, obj.created_by) == (rep, depts["sales1"], 1, rep)
    assert obj.code != "HACK" and obj.deleted_at is None

    response = api_as(rep).patch(f"/api/v1/customers/{obj.pk}/", {"owner": manager.pk, "department": depts["hq"].pk,
                                                                    "code": "HACK", "city": "Suzhou"}, format="json")
    assert response.status_code == 200
    obj.refresh_from_db()
    assert (obj.owner, obj.department, obj.city) == (rep, depts["sales1"], "Suzhou") and obj.code != "HACK"

    response = browser(rep).post(f"/customers/{obj.pk}/edit/", edit_post(obj, owner=manager.pk, department=depts["hq"].pk,
                                                                            code="HACK", created_by=manager.pk))
    assert response.status_code == 302
    obj.refresh_from_db()
    assert (obj.owner, obj.department) == (rep, depts["sales1"]) and obj.code != "HACK"


def test_bad_version_values_are_refused(rep):
    obj = new_customer(rep, city="Beijing")
    for version in ("abc", 0, -1, None):
        response = api_as(rep).patch(f"/api/v1/customers/{obj.pk}/", {"city": "X", "version": version}, format="json")
        assert response.status_code == 400 and "version" in response.json()["error"]["fields"], version
    response = browser(rep).post(f"/customers/{obj.pk}/edit/", edit_post(obj, city="X", version="abc"))
    assert response.status_code == 400
    assert Customer.objects.get(pk=obj.pk).city == "Beijing"


def test_a_contact_cannot_be_filed_under_an_invisible_customer(rep, manager):
    theirs = new_customer(manager, name="Theirs")
    before = state()
    response = browser(rep).post("/contacts/new/", contact_post(theirs))
    assert response.status_code == 400 and field_errors(response, "customer")
    response = api_as(rep).post("/api/v1/contacts/", {"customer": theirs.pk, "name": "X"}, format="json")
    assert response.status_code == 400 and "customer" in response.json()["error"]["fields"]
    response = api_as(rep).post("/api/v1/contacts/", {"name": "No customer"}, format="json")
    assert response.status_code == 400 and "customer" in response.json()["error"]["fields"]
    assert state() == before
