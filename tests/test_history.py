"""The timeline records what changed, and only that (CUS-5, SEC-2)."""

import datetime

from django.test import Client
from django.utils import timezone

from crm.core.audit.models import AuditEntry
from crm.customers.models import Customer


def _edit_form(client, customer):
    """What a user's browser submits: the edit form as rendered, with the name changed."""
    page = client.get(f"/customers/{customer.pk}/edit/").context["form"]
    data = {}
    for name, field in page.fields.items():
        value = page[name].value()
        if value is None:
            value = ""
        if isinstance(value, datetime.datetime):
            value = (timezone.localtime(value) if timezone.is_aware(value) else value).strftime("%Y-%m-%dT%H:%M")
        data[name] = value
    return data


def test_an_untouched_registration_time_is_not_a_change(rep):
    registered = timezone.now().replace(microsecond=123456) - datetime.timedelta(days=3, seconds=17)
    customer = Customer.objects.create(name="时间公司", mnemonic_code="SJGS", owner=rep, department=rep.department, registered_at=registered)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(rep)
    data = _edit_form(client, customer)
    data["name"] = "时间科技公司"
    response = client.post(f"/customers/{customer.pk}/edit/", data)
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.registered_at == registered  # seconds and microseconds survive the edit
    entry = AuditEntry.objects.get(object_id=customer.pk, action="update")
    assert set(entry.changes) == {"name"}


def test_a_changed_time_shows_in_local_time_on_the_timeline(rep):
    customer = Customer.objects.create(name="时区公司", owner=rep, department=rep.department,
                                       registered_at=timezone.make_aware(datetime.datetime(2024, 3, 1, 9, 30)))
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(rep)
    data = _edit_form(client, customer)
    data["registered_at"] = "2024-03-02T10:45"
    assert client.post(f"/customers/{customer.pk}/edit/", data).status_code == 302
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "2024-03-01 09:30" in page and "2024-03-02 10:45" in page
    assert "+00:00" not in page


def test_the_customer_page_shows_contacts_as_an_org_chart(rep):
    from crm.customers.models import Contact

    customer = Customer.objects.create(name="组织公司", owner=rep, department=rep.department)
    common = {"customer": customer, "owner": rep, "department": rep.department}
    boss = Contact.objects.create(name="甲总", is_primary=True, **common)
    middle = Contact.objects.create(name="乙经理", reports_to=boss, **common)
    Contact.objects.create(name="丙工程师", reports_to=middle, **common)
    Contact.objects.create(name="丁顾问", **common)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(rep)
    panel = next(p for p in client.get(f"/customers/{customer.pk}/").context["panels"] if p and p["key"] == "contacts")
    assert [(r["cells"][0], r["indent"]) for r in panel["rows"]] == [
        ("甲总", 0), ("乙经理", 1), ("丙工程师", 2), ("丁顾问", 0)]
