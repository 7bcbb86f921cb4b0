"""Who sees and moves customers (SEC-1, SEC-2, CUS-3, CUS-8, UX-2): phone masking and
reveal, CSV export, transfer (single and bulk) with history, bulk delete, recycle bin and
restore, saved views."""

import csv
import io

import pytest

from crm.core.audit.models import AuditEntry
from crm.core.entities import services
from crm.core.entities.models import SavedView
from crm.core.testing.org import Scope, make_user
from crm.customers.models import Contact, Customer
from crm.core.testing.clients import api_as, browser

PHONE, MASKED = "13812345678", "138****5678"




def new_customer(user, **data):
    data.setdefault("name", "Acme Trading")
    return services.create(user, Customer, data)


def new_contact(user, customer, **data):
    data.setdefault("name", "Li Lei")
    return services.create(user, Contact, {"customer": customer, **data})


def export_rows(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content if response.streaming else [response.content]).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def colleague(depts):
    """Another rep in the same department, with the same rights."""
    return make_user("colleague", depts["sales1"], {"customers": Scope.OWN, "contacts": Scope.OWN})


# --- Phone masking and reveal ----------------------------------------------------------------

def test_without_reveal_permission_phones_are_masked_everywhere(rep):
    obj = new_customer(rep, name="Masked Co", phone=PHONE, finance_phone="+14155550100")
    contact = new_contact(rep, obj, name="Masked Person", mobile=PHONE)
    client = browser(rep)

    for url in ("/customers/", f"/customers/{obj.pk}/", "/contacts/", f"/contacts/{contact.pk}/",
                f"/customers/{obj.pk}/edit/", "/search/?q=5678"):
        html = client.get(url).content.decode()
        assert PHONE not in html and "4155550100" not in html, url
    assert MASKED in client.get("/customers/").content.decode()
    detail = client.get(f"/customers/{obj.pk}/").content.decode()
    assert MASKED in detail and "+141****0100" in detail
    assert 'data-testid="reveal"' not in detail
    assert "Masked Co" in client.get("/search/?q=5678").content.decode()  # found by the phone tail

    data = api_as(rep).get(f"/api/v1/customers/{obj.pk}/").json()
    assert (data["phone"], data["finance_phone"]) == (MASKED, "+141****0100")
    assert api_as(rep).get("/api/v1/contacts/").json()["results"][0]["mobile"] == MASKED

    rows = export_rows(client.get("/customers/export/", {"cols": "name,phone"}))
    assert rows[1] == ["Masked Co", MASKED]


def test_reveal_needs_the_permission_and_is_audited(rep, manager):
    obj = new_customer(rep, name="Reveal Co", phone=PHONE)
    client = browser(manager)
    detail = client.get(f"/customers/{obj.pk}/").content.decode()
    assert MASKED in detail and PHONE not in detail  # masked by default, even for the manager
    assert 'data-testid="reveal"' in detail

    response = client.post(f"/customers/{obj.pk}/reveal/")
    assert response.status_code == 200 and response.json() == {"phone": PHONE}
    entry = AuditEntry.objects.get(action="reveal")
    assert (entry.actor, entry.object_id, entry.extra["fields"]) == (manager, obj.pk, ["phone"])

    response = client.post(f"/customers/{obj.pk}/reveal/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and PHONE in response.content.decode()

    response = api_as(manager).post(f"/api/v1/customers/{obj.pk}/reveal/")
    assert response.status_code == 200 and response.json()["phone"] == PHONE
    assert AuditEntry.objects.filter(action="reveal", actor=manager, object_id=obj.pk).count() == 3

    # A reveal is a write: GET does nothing.
    assert client.get(f"/customers/{obj.pk}/reveal/").status_code == 405

    # The rep owns the record but may not see the number.
    assert browser(rep).post(f"/customers/{obj.pk}/reveal/").status_code == 403
    response = api_as(rep).post(f"/api/v1/customers/{obj.pk}/reveal/")
    assert response.status_code == 403 and response.json()["error"]["status"] == 403
    assert not AuditEntry.objects.filter(action="reveal", actor=rep).exists()


def test_reveal_of_a_record_out_of_scope_is_404(manager, depts):
    outsider = make_user("gz", depts["guangzhou"], {"customers": Scope.OWN})
    theirs = new_customer(outsider, name="Guangzhou Co", phone=PHONE)
    assert browser(manager).post(f"/customers/{theirs.pk}/reveal/").status_code == 404
    assert api_as(manager).post(f"/api/v1/customers/{theirs.pk}/reveal/").status_code == 404
    assert not AuditEntry.objects.filter(action="reveal").exists()


def test_editing_without_reveal_keeps_the_stored_number_when_left_empty(rep):
    obj = new_customer(rep, name="Keep Phone", phone=PHONE, finance_phone="02112345678")
    client = browser(rep)
    form = client.get(f"/customers/{obj.pk}/edit/").content.decode()
    assert f'placeholder="{MASKED}"' in form
    post = {
        "name": "Keep Phone 2", "customer_type": "company", "level": "normal", "status": "potential",
        "credit_limit": "0", "registered_at": "2024-01-01T10:00", "phone": "", "finance_phone": "13900001111",
        "version": obj.version,
    }
    response = client.post(f"/customers/{obj.pk}/edit/", post)
    assert response.status_code == 302
    obj.refresh_from_db()
    assert (obj.name, obj.phone, obj.finance_phone) == ("Keep Phone 2", PHONE, "13900001111")
    # The audit trail does not record a phone change that did not happen.
    change = AuditEntry.objects.filter(action="update", object_id=obj.pk).latest("at")
    assert "phone" not in change.changes and "finance_phone" in change.changes

    # Through the API, echoing the masked value back means "unchanged".
    response = api_as(rep).patch(f"/api/v1/customers/{obj.pk}/", {"phone": MASKED, "city": "Xi'an"}, format="json")
    assert response.status_code == 200, response.content
    obj.refresh_from_db()
    assert (obj.phone, obj.city) == (PHONE, "Xi'an")


# --- Export ----------------------------------------------------------------------------------

def test_export_neutralises_formulas_respects_scope_and_is_audited(rep, manager):
    for name in ("=HYPERLINK(\"http://evil\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "Plain Co"):
        new_customer(rep, name=name)
    new_customer(manager, name="Manager's Own")
    rows = export_rows(browser(rep).get("/customers/export/", {"cols": "name,city", "sort": "name"}))
    assert rows[0] == ["Name", "City"]
    names = sorted(r[0] for r in rows[1:])
    assert names == sorted(["'=HYPERLINK(\"http://evil\")", "'+cmd|' /C calc'!A0", "'-2+3", "'@SUM(A1)", "Plain Co"])
    entry = AuditEntry.objects.get(action="export")
    assert entry.actor == rep and entry.extra["entity"] == "customers" and entry.extra["rows"] == 5


def test_export_applies_the_list_filters(rep):
    new_customer(rep, name="In Beijing", city="Beijing")
    new_customer(rep, name="In Shanghai", city="Shanghai")
    rows = export_rows(browser(rep).get("/customers/export/", {"cols": "name", "city": "Beijing"}))
    assert rows[1:] == [["In Beijing"]]
    assert AuditEntry.objects.get(action="export").extra["filters"] == {"city": "Beijing"}


def test_export_needs_the_export_permission(depts):
    viewer = make_user("viewer", depts["sales1"], {("customers", "view"): Scope.ALL})
    response = browser(viewer).get("/customers/export/")
    assert response.status_code == 403
    assert not AuditEntry.objects.filter(action="export").exists()
    assert "/customers/export/" not in browser(viewer).get("/customers/").content.decode()


# --- Transfer -------------------------------------------------------------------------------

def test_transfer_moves_owner_and_department_with_history(rep, manager, depts):
    other = make_user("other", depts["sales1a"], {"customers": Scope.OWN})
    obj = new_customer(rep, name="Moving Co")
    client = browser(rep)
    response = client.post(f"/customers/{obj.pk}/transfer/", {"owner": other.pk, "reason": "Territory change"})
    assert response.status_code == 302
    obj.refresh_from_db()
    assert (obj.owner, obj.department) == (other, depts["sales1a"])
    entry = AuditEntry.objects.get(action="transfer", object_id=obj.pk)
    assert entry.actor == rep and entry.changes["owner"] == ["Rep", "Other"] and entry.extra["reason"] == "Territory change"
    # The rep no longer owns it, so no longer sees it; the manager sees the history.
    assert client.get(f"/customers/{obj.pk}/").status_code == 404
    page = browser(manager).get(f"/customers/{obj.pk}/transfer/").content.decode()
    assert "Rep → Other" in page and "Territory change" in page
    assert "Other" in browser(other).get(f"/customers/{obj.pk}/").content.decode()


def test_transfer_to_an_inactive_or_unknown_user_is_refused(rep, depts):
    gone = make_user("gone", depts["sales1"], is_active=False)
    obj = new_customer(rep)
    for owner in (gone.pk, 999999, "", "abc"):
        response = browser(rep).post(f"/customers/{obj.pk}/transfer/", {"owner": owner})
        assert response.status_code == 400
        assert 'alert-danger' in response.content.decode()
    obj.refresh_from_db()
    assert obj.owner == rep and obj.version == 1
    assert not AuditEntry.objects.filter(action="transfer").exists()


def test_transfer_through_the_api(rep, colleague):
    obj = new_customer(rep)
    client = api_as(rep)
    response = client.post(f"/api/v1/customers/{obj.pk}/transfer/", {"owner": colleague.pk, "reason": "Holiday"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["owner"] == colleague.pk
    assert Customer.objects.get(pk=obj.pk).owner == colleague
    response = client.post(f"/api/v1/customers/{obj.pk}/transfer/", {"owner": rep.pk}, format="json")
    assert response.status_code == 404  # no longer the rep's to give away


def test_transfer_needs_the_assign_permission(depts):
    editor = make_user("editor", depts["sales1"], {("customers", a): Scope.OWN for a in ("view", "create", "edit")})
    target = make_user("target", depts["sales1"])
    obj = new_customer(editor)
    assert browser(editor).get(f"/customers/{obj.pk}/transfer/").status_code == 403
    assert browser(editor).post(f"/customers/{obj.pk}/transfer/", {"owner": target.pk}).status_code == 403
    response = browser(editor).post("/customers/bulk/", {"action": "transfer", "ids": [obj.pk], "owner": target.pk})
    assert response.status_code == 403
    assert Customer.objects.get(pk=obj.pk).owner == editor


def test_bulk_transfer_moves_only_records_in_scope(rep, colleague, manager):
    mine = [new_customer(rep, name=f"Mine {i}") for i in range(3)]
    not_mine = new_customer(manager, name="Manager's")
    ids = [c.pk for c in mine] + [not_mine.pk]
    response = browser(rep).post("/customers/bulk/", {"action": "transfer", "ids": ids, "owner": colleague.pk})
    assert response.status_code == 302
    assert set(Customer.objects.filter(owner=colleague).values_list("pk", flat=True)) == {c.pk for c in mine}
    assert Customer.objects.get(pk=not_mine.pk).owner == manager
    assert AuditEntry.objects.filter(action="transfer").count() == 3
    # Records history shows on each record's transfer page.
    assert "Rep → Colleague" in browser(manager).get(f"/customers/{mine[0].pk}/transfer/").content.decode()


def test_bulk_transfer_to_an_inactive_user_changes_nothing(rep, depts):
    gone = make_user("gone", depts["sales1"], is_active=False)
    obj = new_customer(rep)
    response = browser(rep).post("/customers/bulk/", {"action": "transfer", "ids": [obj.pk], "owner": gone.pk}, follow=True)
    assert response.status_code == 200
    assert "alert-danger" in response.content.decode()
    assert Customer.objects.get(pk=obj.pk).owner == rep


def test_bulk_delete_sends_records_in_scope_to_the_recycle_bin(rep, manager):
    a, b = new_customer(rep, name="Del A"), new_customer(rep, name="Del B")
    keep = new_customer(rep, name="Keep")
    theirs = new_customer(manager, name="Theirs")
    contact = new_contact(rep, a)
    response = browser(rep).post("/customers/bulk/", {"action": "delete", "ids": [a.pk, b.pk, theirs.pk]})
    assert response.status_code == 302
    assert set(Customer.objects.values_list("name", flat=True)) == {"Keep", "Theirs"}
    assert set(Customer.all_objects.filter(deleted_at__isnull=False).values_list("pk", flat=True)) == {a.pk, b.pk}
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert AuditEntry.objects.filter(action="delete").count() == 2
    assert keep.pk


def test_bulk_with_an_unknown_action_is_refused(rep):
    obj = new_customer(rep)
    assert browser(rep).post("/customers/bulk/", {"action": "purge", "ids": [obj.pk]}).status_code == 404
    assert Customer.objects.filter(pk=obj.pk).exists()


def test_bulk_does_not_redirect_off_site(rep):
    obj = new_customer(rep)
    response = browser(rep).post("/customers/bulk/", {"action": "delete", "ids": [obj.pk], "next": "https://evil.example/"})
    assert response["Location"] == "/customers/"
    response = browser(rep).post("/customers/bulk/", {"action": "delete", "ids": [obj.pk], "next": "//evil.example/"})
    assert response["Location"] == "/customers/"


# --- Recycle bin and restore ----------------------------------------------------------------

def test_delete_to_recycle_bin_and_restore_with_contacts(rep):
    obj = new_customer(rep, name="Binned Co")
    contact = new_contact(rep, obj, name="Binned Person")
    client = browser(rep)
    assert client.get(f"/customers/{obj.pk}/delete/").status_code == 200  # the confirmation page
    assert Customer.objects.filter(pk=obj.pk).exists()
    assert client.post(f"/customers/{obj.pk}/delete/").status_code == 302

    assert client.get(f"/customers/{obj.pk}/").status_code == 404
    assert api_as(rep).get(f"/api/v1/customers/{obj.pk}/").status_code == 404
    assert client.get(f"/contacts/{contact.pk}/").status_code == 404
    assert "Binned Co" not in client.get("/customers/").content.decode()
    trash = client.get("/customers/trash/").content.decode()
    assert "Binned Co" in trash
    assert "Binned Person" in client.get("/contacts/trash/").content.decode()

    # A contact cannot come back before its customer.
    response = client.post(f"/contacts/{contact.pk}/restore/", follow=True)
    assert "Restore the customer" in response.content.decode()
    assert not Contact.objects.filter(pk=contact.pk).exists()

    assert client.post(f"/customers/{obj.pk}/restore/").status_code == 302
    assert Customer.objects.filter(pk=obj.pk).exists()
    assert Contact.objects.filter(pk=contact.pk).exists()
    assert list(AuditEntry.objects.filter(object_id=obj.pk, content_type__model="customer")
                .values_list("action", flat=True).order_by("at", "id")) == ["create", "delete", "restore"]


def test_restore_needs_post_and_scope(rep, manager):
    theirs = new_customer(manager, name="Theirs")
    services.delete(manager, Customer, theirs.pk)
    assert "Theirs" not in browser(rep).get("/customers/trash/").content.decode()
    assert browser(rep).post(f"/customers/{theirs.pk}/restore/").status_code == 404
    assert browser(manager).get(f"/customers/{theirs.pk}/restore/").status_code == 405
    assert not Customer.objects.filter(pk=theirs.pk).exists()


def test_a_contact_deleted_before_its_customer_stays_in_the_bin(rep):
    obj = new_customer(rep)
    early = new_contact(rep, obj, name="Deleted Earlier")
    late = new_contact(rep, obj, name="Deleted With Customer")
    services.delete(rep, Contact, early.pk)
    services.delete(rep, Customer, obj.pk)
    services.restore(rep, Customer, obj.pk)
    assert list(Contact.objects.filter(customer=obj).values_list("name", flat=True)) == ["Deleted With Customer"]
    assert late.pk


def test_api_delete_and_restore(rep):
    obj = new_customer(rep)
    client = api_as(rep)
    assert client.delete(f"/api/v1/customers/{obj.pk}/").status_code == 204
    assert client.get(f"/api/v1/customers/{obj.pk}/").status_code == 404
    response = client.post(f"/api/v1/customers/{obj.pk}/restore/")
    assert response.status_code == 200 and response.json()["id"] == obj.pk
    assert client.get(f"/api/v1/customers/{obj.pk}/").status_code == 200


# --- Saved views ----------------------------------------------------------------------------

def test_private_saved_views_are_invisible_to_others_and_shared_ones_visible(rep, colleague, depts):
    boss = make_user("boss", depts["sales1"], {"customers": Scope.DEPARTMENT})
    new_customer(rep, name="Beijing Co", city="Beijing")
    new_customer(colleague, name="Shanghai Co", city="Shanghai")
    client = browser(boss)
    response = client.post("/customers/views/", {"name": "My Beijing", "p_city": "Beijing"})
    assert response.status_code == 302
    private = SavedView.objects.get(name="My Beijing")
    assert not private.shared and private.params == {"city": "Beijing"}
    html = client.get(f"/customers/?view={private.pk}").content.decode()
    assert "Beijing Co" in html and "Shanghai Co" not in html

    client.post("/customers/views/", {"name": "Team Shanghai", "p_city": "Shanghai", "shared": "on"})
    shared = SavedView.objects.get(name="Team Shanghai")

    other = browser(make_user("peer", depts["sales1"], {"customers": Scope.DEPARTMENT}))
    listing = other.get("/customers/").content.decode()
    assert "Team Shanghai" in listing and "My Beijing" not in listing
    # Someone else's private view id does nothing.
    html = other.get(f"/customers/?view={private.pk}").content.decode()
    assert "Beijing Co" in html and "Shanghai Co" in html
    html = other.get(f"/customers/?view={shared.pk}").content.decode()
    assert "Shanghai Co" in html and "Beijing Co" not in html
    # ... and cannot be deleted by them.
    assert other.post(f"/customers/views/{private.pk}/delete/").status_code == 404
    assert other.post(f"/customers/views/{shared.pk}/delete/").status_code == 404
    assert SavedView.objects.count() == 2
    assert client.post(f"/customers/views/{private.pk}/delete/").status_code == 302
    assert not SavedView.objects.filter(pk=private.pk).exists()


def test_a_saved_view_needs_a_name(rep):
    response = browser(rep).post("/customers/views/", {"name": "  ", "p_city": "Beijing"}, follow=True)
    assert "Give the view a name." in response.content.decode()
    assert not SavedView.objects.exists()


def test_saved_view_does_not_widen_scope(rep, manager):
    new_customer(manager, name="Manager Only")
    view = SavedView.objects.create(entity="customers", name="Everything", user=manager, shared=True,
                                    params={"owner": str(manager.pk)})
    assert "Manager Only" not in browser(rep).get(f"/customers/?view={view.pk}").content.decode()


# --- Searching does not reveal masked numbers --------------------------------------------------

def _found(client, q):
    listed = "Oracle Co" in client.get("/customers/", {"q": q}).content.decode()
    searched = "Oracle Co" in client.get("/search/", {"q": q}).content.decode()
    exported = any("Oracle Co" in row for row in export_rows(client.get("/customers/export/", {"q": q, "cols": "name"})))
    assert listed == searched == exported, (q, listed, searched, exported)
    return listed


def test_search_cannot_be_used_to_read_a_masked_number_digit_by_digit(rep, manager):
    new_customer(rep, name="Oracle Co", phone=PHONE)
    client = browser(rep)
    # What the mask shows, or the whole number someone already has, finds the customer...
    assert _found(client, "5678") and _found(client, PHONE) and _found(client, "138 1234 5678")
    # ... but longer tails or heads, which would reveal hidden digits one at a time, do not.
    for probe in ("45678", "345678", "2345678", "1381", "13812", "1381234", "81234567"):
        assert not _found(client, probe), probe
    # Someone who may reveal the number may search any part of it.
    assert _found(browser(manager), "1381234") and _found(browser(manager), "345678")


def test_bulk_delete_needs_the_delete_permission(depts):
    editor = make_user("editor", depts["sales1"], {("customers", a): Scope.OWN for a in ("view", "create", "edit", "assign")})
    obj = new_customer(editor)
    assert browser(editor).post("/customers/bulk/", {"action": "delete", "ids": [obj.pk]}).status_code == 403
    assert browser(editor).post(f"/customers/{obj.pk}/delete/").status_code == 403
    assert api_as(editor).delete(f"/api/v1/customers/{obj.pk}/").status_code == 403
    assert Customer.objects.filter(pk=obj.pk).exists()
