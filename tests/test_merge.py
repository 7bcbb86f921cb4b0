"""Merging duplicates (CUS-3 "merge"): the service, undo, scope and rights, field rules, the
merge page, the API, and the duplicate check on edit."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from crm.core.audit.models import AuditEntry
from crm.core.entities import merge as merging
from crm.core.entities import services
from crm.core.entities.models import Tag
from crm.core.events.models import EventRecord
from crm.core.merging.models import MergeRecord
from crm.core.testing.clients import api_as, browser
from crm.core.testing.org import Scope, make_user
from crm.core.timeline.models import Note
from crm.customers.models import Contact, Customer


def cust(user, **data):
    data.setdefault("name", "Acme")
    return services.create(user, Customer, data)


def contact(user, customer, **data):
    data.setdefault("name", "Li Lei")
    return services.create(user, Contact, {"customer": customer, **data})


def note(obj, body, author=None):
    return Note.objects.create(content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk, body=body,
                               author=author)


def tags(*names):
    return [Tag.objects.get_or_create(name=n)[0] for n in names]


@pytest.fixture
def trio(rep):
    """Three records of one company: a survivor and two duplicates, each with related records."""
    a = services.create(rep, Customer, {"name": "上海华为技术有限公司", "city": "", "email": "a@hw.cn",
                                        "phone": "13800000001", "level": "normal"}, m2m={"tags": tags("vip")})
    b = services.create(rep, Customer, {"name": "上海华为技术", "city": "上海", "email": "b@hw.cn",
                                        "phone": "13800000002", "level": "important"}, m2m={"tags": tags("vip", "east")})
    c = services.create(rep, Customer, {"name": "上海华为技术 有限公司", "city": "杭州", "website": "https://hw.cn",
                                        "level": "small"}, m2m={"tags": tags("old")})
    contacts = {
        "a1": contact(rep, a, name="A One", is_primary=True),
        "b1": contact(rep, b, name="B One", is_primary=True),
        "b2": contact(rep, b, name="B Two"),
        "c1": contact(rep, c, name="C One"),
    }
    child = cust(rep, name="华为南京分公司", parent=b)
    notes = [note(b, "called B"), note(c, "visited C")]
    return {"a": a, "b": b, "c": c, "contacts": contacts, "child": child, "notes": notes}


def state(trio):
    """Everything a merge touches, as plain values, for before/after comparisons."""
    ids = [trio[k].pk for k in "abc"]
    return {
        "customers": sorted(Customer.all_objects.filter(pk__in=ids).values_list(
            "pk", "name", "name_key", "city", "email", "phone", "level", "website", "deleted_at", "custom")),
        "tags": {pk: sorted(Customer.all_objects.get(pk=pk).tags.values_list("name", flat=True)) for pk in ids},
        "contacts": sorted(Contact.all_objects.filter(customer__in=ids).values_list(
            "pk", "customer_id", "is_primary", "deleted_at")),
        "child": Customer.objects.get(pk=trio["child"].pk).parent_id,
        "notes": sorted(Note.objects.filter(pk__in=[n.pk for n in trio["notes"]]).values_list("pk", "object_id")),
    }


def test_merge_three_customers_choosing_values(rep, trio):
    a, b, c = trio["a"], trio["b"], trio["c"]
    result = merging.merge(rep, Customer, a.pk, [b.pk, c.pk], {"city": c.pk, "email": b.pk, "level": b.pk})
    survivor = Customer.objects.get(pk=a.pk)
    # Chosen per field; defaults: the survivor's own non-empty value, else the first non-empty one.
    assert (survivor.city, survivor.email, survivor.level) == ("杭州", "b@hw.cn", "important")
    assert survivor.name == "上海华为技术有限公司" and survivor.phone == "13800000001"
    assert survivor.website == "https://hw.cn"
    assert sorted(survivor.tags.values_list("name", flat=True)) == ["east", "old", "vip"]
    # Contacts, child companies and notes now belong to the survivor; one primary contact.
    moved = Contact.objects.filter(customer=a)
    assert sorted(moved.values_list("name", flat=True)) == ["A One", "B One", "B Two", "C One"]
    assert list(moved.filter(is_primary=True).values_list("name", flat=True)) == ["A One"]
    assert Customer.objects.get(pk=trio["child"].pk).parent_id == a.pk
    assert sorted(Note.objects.filter(object_id=a.pk).values_list("body", flat=True)) == ["called B", "visited C"]
    # The others are in the recycle bin, marked as merged into the survivor.
    assert not Customer.objects.filter(pk__in=[b.pk, c.pk]).exists()
    assert Customer.all_objects.filter(pk__in=[b.pk, c.pk], deleted_at__isnull=False).count() == 2
    assert {k: v.pk for k, v in merging.merged_into(Customer, [b.pk, c.pk]).items()} == {
        b.pk: result.record.pk, c.pk: result.record.pk}
    # Audit: the survivor's entry lists the merged fields; the others say where they went.
    entry = AuditEntry.objects.filter(object_id=a.pk, action="update").first()
    assert entry.extra["merge"] == result.record.pk
    assert [x[0] for x in entry.extra["merged_from"]] == [b.pk, c.pk]
    assert {"city", "email", "level", "website", "tags"} <= set(entry.changes)
    assert entry.changes["city"] == ["", "杭州"]
    for loser in (b, c):
        gone = AuditEntry.objects.get(object_id=loser.pk, action="delete",
                                      content_type=ContentType.objects.get_for_model(Customer))
        assert gone.extra["merged_into"][0] == a.pk
    assert EventRecord.objects.filter(name="customers.merged", object_id=a.pk).count() == 1
    assert result.moved  # what moved, by relation, for the message


def test_undo_restores_everything_exactly(rep, trio):
    a, b, c = trio["a"], trio["b"], trio["c"]
    before = state(trio)
    version = Customer.objects.get(pk=a.pk).version
    result = merging.merge(rep, Customer, a.pk, [b.pk, c.pk], {"city": c.pk, "email": b.pk, "level": b.pk})
    assert state(trio) != before
    merging.undo(rep, Customer, result.record.pk)
    assert state(trio) == before
    assert Customer.objects.get(pk=a.pk).version > version  # a new version, not an old one
    restored = AuditEntry.objects.filter(action="restore", object_id__in=[b.pk, c.pk],
                                         content_type=ContentType.objects.get_for_model(Customer))
    assert restored.count() == 2
    assert EventRecord.objects.filter(name="customers.unmerged", object_id=a.pk).exists()
    with pytest.raises(ValidationError):
        merging.undo(rep, Customer, result.record.pk)  # once only


def test_undo_keeps_later_edits_and_rows_moved_since(rep, trio):
    a, b = trio["a"], trio["b"]
    result = merging.merge(rep, Customer, a.pk, [b.pk], {"city": b.pk, "email": b.pk})
    survivor = Customer.objects.get(pk=a.pk)
    services.update(rep, Customer, a.pk, {"email": "new@hw.cn"}, expected_version=survivor.version)
    other = cust(rep, name="Elsewhere")
    b2 = trio["contacts"]["b2"]
    services.update(rep, Contact, b2.pk, {"customer": other})
    merging.undo(rep, Customer, result.record.pk)
    survivor = Customer.objects.get(pk=a.pk)
    assert survivor.city == "" and survivor.email == "new@hw.cn"  # the later edit stands
    assert Contact.objects.get(pk=b2.pk).customer_id == other.pk
    assert Contact.objects.get(pk=trio["contacts"]["b1"].pk).customer_id == b.pk


def test_merging_contacts(rep):
    acme = cust(rep, name="Acme")
    li = contact(rep, acme, name="Li Lei", mobile="13900000001")
    li2 = contact(rep, acme, name="李雷", email="li@acme.cn")
    han = contact(rep, acme, name="Han", reports_to=li2)
    note(li2, "met at the fair")
    result = merging.merge(rep, Contact, li.pk, [li2.pk], {})
    li.refresh_from_db()
    assert li.email == "li@acme.cn" and li.mobile == "13900000001"
    assert Contact.objects.get(pk=han.pk).reports_to_id == li.pk
    assert Note.objects.filter(object_id=li.pk, content_type=ContentType.objects.get_for_model(Contact)).count() == 1
    merging.undo(rep, Contact, result.record.pk)
    assert Contact.objects.get(pk=han.pk).reports_to_id == li2.pk
    assert Contact.objects.get(pk=li.pk).email == ""


def test_bad_requests_are_clear_errors(rep, trio):
    a, b = trio["a"], trio["b"]
    with pytest.raises(ValidationError) as exc:
        merging.merge(rep, Customer, a.pk, [a.pk])
    assert "cannot be merged into itself" in str(exc.value.message_dict["others"])
    with pytest.raises(ValidationError) as exc:
        merging.merge(rep, Customer, a.pk, [])
    assert "at least two" in str(exc.value.message_dict["others"])
    services.delete(rep, Customer, trio["c"].pk)
    with pytest.raises(ValidationError) as exc:
        merging.merge(rep, Customer, a.pk, [b.pk, trio["c"].pk])
    assert "recycle bin" in str(exc.value.message_dict["others"])
    with pytest.raises(ValidationError) as exc:
        merging.merge(rep, Customer, a.pk, [b.pk], {"owner": b.pk, "city": 999999})
    assert set(exc.value.message_dict) == {"owner", "city"}
    assert Customer.objects.filter(pk=b.pk).exists() and not MergeRecord.objects.exists()


def test_scope_and_rights(rep, manager, depts, trio):
    theirs = cust(manager, name="上海华为技术股份有限公司")
    with pytest.raises(Http404):
        merging.merge(rep, Customer, trio["a"].pk, [theirs.pk])
    with pytest.raises(Http404):
        merging.merge(rep, Customer, theirs.pk, [trio["a"].pk])
    no_delete = make_user("nodel", depts["sales1"], {("customers", a): Scope.ALL for a in ("view", "edit", "create")})
    with pytest.raises(PermissionDenied):
        merging.merge(no_delete, Customer, trio["a"].pk, [trio["b"].pk])
    assert Customer.objects.filter(pk__in=[trio["a"].pk, trio["b"].pk, theirs.pk]).count() == 3
    assert not MergeRecord.objects.exists()
    # Undo needs the same rights.
    result = merging.merge(manager, Customer, theirs.pk, [trio["a"].pk])
    with pytest.raises(Http404):
        merging.undo(rep, Customer, result.record.pk)
    assert not merging.can_undo(rep, result.record) and merging.can_undo(manager, result.record)


def test_version_conflict_merges_nothing(rep, trio):
    a, b, c = trio["a"], trio["b"], trio["c"]
    before = state(trio)
    seen = {r.pk: r.version for r in (a, b, c)}
    services.update(rep, Customer, a.pk, {"city": "北京"})  # someone saved the survivor meanwhile
    before = state(trio)
    with pytest.raises(services.ConflictError):
        merging.merge(rep, Customer, a.pk, [b.pk, c.pk], {}, versions=seen)
    assert state(trio) == before and not MergeRecord.objects.exists()
    services.update(rep, Customer, c.pk, {"city": "南京"})
    seen[a.pk] += 1
    before = state(trio)
    with pytest.raises(services.ConflictError):
        merging.merge(rep, Customer, a.pk, [b.pk, c.pk], {}, versions=seen)
    assert state(trio) == before


def test_custom_values_merge_per_key(rep):
    a = cust(rep, name="Acme")
    b = cust(rep, name="Acme Ltd")
    Customer.all_objects.filter(pk=a.pk).update(custom={"region": "north", "size": ""})
    Customer.all_objects.filter(pk=b.pk).update(custom={"region": "south", "size": "big", "vip": True})
    result = merging.merge(rep, Customer, a.pk, [b.pk], {"custom.region": b.pk})
    assert Customer.objects.get(pk=a.pk).custom == {"region": "south", "size": "big", "vip": True}
    merging.undo(rep, Customer, result.record.pk)
    assert Customer.objects.get(pk=a.pk).custom == {"region": "north", "size": ""}


def test_survivor_parent_pointing_at_a_merged_record_is_cleared(rep):
    group = cust(rep, name="Acme Group")
    branch = cust(rep, name="Acme", parent=group)
    merging.merge(rep, Customer, branch.pk, [group.pk], {})
    assert Customer.objects.get(pk=branch.pk).parent_id is None


def test_relations_are_found_generically():
    rels = {(r.kind, r.model._meta.label_lower, r.column) for r in merging.relations(Customer)}
    assert ("fk", "customers.contact", "customer_id") in rels
    assert ("fk", "customers.customer", "parent_id") in rels
    assert ("generic", "core.note", "object_id") in rels
    assert not any(label == "core.auditentry" for _k, label, _c in rels)


# --------------------------------------------------------------------------- the merge page

def test_merge_page_side_by_side_then_merge_and_undo_from_the_timeline(rep, trio):
    a, b, c = trio["a"], trio["b"], trio["c"]
    client = browser(rep)
    url = f"/customers/merge/?ids={a.pk}&ids={b.pk}&ids={c.pk}"
    page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    for obj in (a, b, c):
        assert f'name="f_city" value="{obj.pk}"' in text and f'name="v_{obj.pk}"' in text
    # Defaults: the survivor's non-empty value, else the first non-empty one.
    assert f'name="f_email" value="{a.pk}" checked' in text
    assert f'name="f_city" value="{b.pk}" checked' in text
    preview = text[text.index('data-testid="merge-preview"'):]
    assert "Contacts" in preview and "<strong>3</strong>" in preview and "Notes" in preview
    post = {"ids": [a.pk, b.pk, c.pk], "survivor": a.pk, "f_city": c.pk, "f_level": b.pk,
            **{f"v_{o.pk}": o.version for o in (a, b, c)}}
    response = client.post("/customers/merge/", post)
    assert response.status_code == 302 and response["Location"] == f"/customers/{a.pk}/"
    survivor = Customer.objects.get(pk=a.pk)
    assert (survivor.city, survivor.level) == ("杭州", "important")
    detail = client.get(f"/customers/{a.pk}/").content.decode()
    assert 'data-testid="merged-from"' in detail and "上海华为技术 有限公司" in detail
    record = MergeRecord.objects.get()
    assert f'action="/customers/merge/{record.pk}/undo/"' in detail
    assert 'data-panel' in detail and "B Two" in detail  # the moved contact shows on the survivor
    # The recycle bin says where they went.
    trash = client.get("/customers/trash/").content.decode()
    assert trash.count('data-testid="merged-into"') == 2
    # Undo from the timeline.
    assert client.post(f"/customers/merge/{record.pk}/undo/").status_code == 302
    assert Customer.objects.filter(pk__in=[b.pk, c.pk]).count() == 2
    assert Customer.objects.get(pk=a.pk).city == ""
    detail = client.get(f"/customers/{a.pk}/").content.decode()
    assert 'data-testid="undo-merge"' not in detail and 'data-testid="unmerged"' in detail


def test_merge_page_errors_and_conflict(rep, trio):
    a, b = trio["a"], trio["b"]
    client = browser(rep)
    response = client.post("/customers/merge/", {"ids": [a.pk], "survivor": a.pk})
    assert response.status_code == 400 and "at least two" in response.content.decode()
    stale = {"ids": [a.pk, b.pk], "survivor": a.pk, f"v_{a.pk}": a.version, f"v_{b.pk}": b.version}
    services.update(rep, Customer, b.pk, {"city": "苏州"})  # changed by someone meanwhile
    response = client.post("/customers/merge/", {**stale, "f_city": b.pk})
    assert response.status_code == 409
    text = response.content.decode()
    assert 'data-testid="merge-conflict"' in text and "苏州" in text  # the current values are shown
    assert Customer.objects.filter(pk=b.pk).exists() and not MergeRecord.objects.exists()
    b.refresh_from_db()
    fresh = {**stale, f"v_{b.pk}": b.version, "f_city": 99999999}
    response = client.post("/customers/merge/", fresh)
    assert response.status_code == 400
    assert 'data-error-for="city"' in response.content.decode()
    assert Customer.objects.filter(pk=b.pk).exists() and not MergeRecord.objects.exists()


def test_merge_page_rights(rep, manager, depts, trio):
    theirs = cust(manager, name="上海华为技术股份有限公司")
    assert browser(rep).get(f"/customers/merge/?ids={trio['a'].pk}&ids={theirs.pk}").status_code == 404
    response = browser(rep).post("/customers/merge/", {"ids": [trio["a"].pk, theirs.pk], "survivor": trio["a"].pk})
    assert response.status_code == 404 and Customer.objects.filter(pk=theirs.pk).exists()
    viewer = make_user("viewer", depts["sales1"], {("customers", a): Scope.ALL for a in ("view", "edit")})
    assert browser(viewer).get(f"/customers/merge/?ids={trio['a'].pk}").status_code == 403
    finder = browser(viewer).get("/customers/duplicates/").content.decode()
    assert 'data-testid="merge-group"' not in finder
    finder = browser(rep).get("/customers/duplicates/").content.decode()
    assert 'data-testid="merge-group"' in finder and f'name="ids" value="{trio["b"].pk}" checked' in finder
    detail = browser(rep).get(f"/customers/{trio['a'].pk}/").content.decode()
    assert f'href="/customers/merge/?ids={trio["a"].pk}"' in detail
    assert 'data-testid="merge-with"' not in browser(viewer).get(f"/customers/{trio['a'].pk}/").content.decode()


def test_records_outside_the_scope_are_not_shown_on_the_merge_page(rep, manager, trio):
    theirs = cust(manager, name="上海华为技术股份有限公司", email="secret@hw.cn")
    response = browser(rep).get(f"/customers/merge/?ids={trio['a'].pk}&ids={theirs.pk}")
    assert response.status_code == 404
    text = response.content.decode()
    assert "secret@hw.cn" not in text and "股份" not in text
    # The picker on the page offers only records the user may see.
    lookup = browser(rep).get("/customers/lookup/?q=华为").json()["results"]
    assert theirs.pk not in [r["value"] for r in lookup] and trio["a"].pk in [r["value"] for r in lookup]


def test_bulk_merge_selected(rep, trio):
    client = browser(rep)
    a, b = trio["a"], trio["b"]
    response = client.post("/customers/bulk/", {"action": "merge", "ids": [a.pk, b.pk]})
    assert response.status_code == 302 and response["Location"] == f"/customers/merge/?ids={a.pk}&ids={b.pk}"
    response = client.post("/customers/bulk/", {"action": "merge", "ids": [a.pk]}, follow=True)
    assert "Select between 2 and 10 records" in response.content.decode()
    assert 'data-testid="bulk-merge"' in client.get("/customers/").content.decode()


def test_masked_phone_choice_does_not_reveal_the_number(rep, trio):
    a, b = trio["a"], trio["b"]
    client = browser(rep)  # the rep may not reveal phone numbers
    text = client.get(f"/customers/merge/?ids={a.pk}&ids={b.pk}").content.decode()
    assert "13800000002" not in text and "138****0002" in text
    post = {"ids": [a.pk, b.pk], "survivor": a.pk, "f_phone": b.pk}
    assert client.post("/customers/merge/", post).status_code == 302
    assert Customer.objects.get(pk=a.pk).phone == "13800000002"
    detail = client.get(f"/customers/{a.pk}/").content.decode()
    assert "13800000002" not in detail and "13800000001" not in detail and "138****0002" in detail
    body = api_as(rep).get(f"/api/v1/customers/{a.pk}/notes/").content.decode()
    assert "13800000002" not in body and "13800000001" not in body


def test_protected_fields_cannot_be_chosen(rep, trio, monkeypatch):
    """A field hidden from the user (SEC-1) shows as hidden, has no choice, and keeps the survivor's value."""
    from crm.core.entities.registry import get_spec

    a, b = trio["a"], trio["b"]
    Customer.all_objects.filter(pk=b.pk).update(credit_limit=880000)
    monkeypatch.setattr(get_spec(Customer), "protected_fields", {"credit_limit": "see_cost"})
    with pytest.raises(ValidationError) as exc:
        merging.merge(rep, Customer, a.pk, [b.pk], {"credit_limit": b.pk})
    assert "credit_limit" in exc.value.message_dict
    text = browser(rep).get(f"/customers/merge/?ids={a.pk}&ids={b.pk}").content.decode()
    assert 'name="f_credit_limit"' not in text and "880" not in text
    merging.merge(rep, Customer, a.pk, [b.pk], {})
    assert Customer.objects.get(pk=a.pk).credit_limit == 0


# --------------------------------------------------------------------------- the API

def test_api_merge_and_undo(rep, trio):
    a, b, c = trio["a"], trio["b"], trio["c"]
    client = api_as(rep)
    response = client.post("/api/v1/customers/merge/", {
        "survivor": a.pk, "others": [b.pk, c.pk], "choices": {"city": c.pk},
        "versions": {str(o.pk): o.version for o in (a, b, c)}}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["survivor"]["city"] == "杭州" and body["merged"] == [b.pk, c.pk]
    assert body["survivor"]["phone"] != "13800000001"  # masked in the API too
    response = client.post(f"/api/v1/customers/merge/{body['merge']}/undo/", format="json")
    assert response.status_code == 200 and sorted(response.json()["restored"]) == sorted([b.pk, c.pk])
    response = client.post(f"/api/v1/customers/merge/{body['merge']}/undo/", format="json")
    assert response.status_code == 400 and "already been undone" in response.json()["error"]["fields"]["non_field_errors"][0]


def test_api_merge_errors(rep, manager, depts, trio):
    a, b = trio["a"], trio["b"]
    client = api_as(rep)
    response = client.post("/api/v1/customers/merge/", {"survivor": a.pk, "others": [a.pk]}, format="json")
    assert response.status_code == 400 and response.json()["error"]["fields"]["others"]
    theirs = cust(manager, name="Theirs")
    response = client.post("/api/v1/customers/merge/", {"survivor": a.pk, "others": [theirs.pk]}, format="json")
    assert response.status_code == 404
    nodel = make_user("nodel", depts["sales1"], {("customers", x): Scope.ALL for x in ("view", "edit")})
    response = api_as(nodel).post("/api/v1/customers/merge/", {"survivor": a.pk, "others": [b.pk]}, format="json")
    assert response.status_code == 403
    response = client.post("/api/v1/customers/merge/", {"survivor": a.pk, "others": [b.pk],
                                                        "versions": {str(a.pk): a.version - 1}}, format="json")
    assert response.status_code == 409 and response.json()["error"]["current"]["id"] == a.pk
    assert Customer.objects.filter(pk__in=[a.pk, b.pk, theirs.pk]).count() == 3
    assert not MergeRecord.objects.exists()


# --------------------------------------------------------------------------- duplicate check on edit

def edit_post(obj, **over):
    from crm.core.ui.forms import form_class
    from crm.core.entities.registry import get_spec

    spec = get_spec(Customer)
    form = form_class(spec)(instance=obj, user=None, spec=spec)
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if name == "tags":
            value = ""
        elif hasattr(value, "pk"):
            value = value.pk
        elif hasattr(value, "strftime"):
            value = value.strftime("%Y-%m-%dT%H:%M")
        data[name] = "" if value is None else value
    data.update(over)
    return data


def test_ui_edit_warns_when_a_changed_key_matches(rep, manager):
    first = cust(rep, name="Acme Trading", email="sales@acme.cn")
    other = cust(rep, name="Other Co", email="other@acme.cn")
    cust(manager, name="Hidden Co", email="boss@hidden.cn")
    client = browser(rep)
    response = client.post(f"/customers/{other.pk}/edit/", edit_post(other, email="SALES@acme.cn"))
    assert response.status_code == 409
    text = response.content.decode()
    assert 'data-testid="duplicates"' in text and f'href="/customers/{first.pk}/"' in text
    assert 'name="save_anyway"' in text and "same e-mail" in text
    assert Customer.objects.get(pk=other.pk).email == "other@acme.cn"  # nothing saved
    response = client.post(f"/customers/{other.pk}/edit/", edit_post(other, email="SALES@acme.cn", save_anyway="1"))
    assert response.status_code == 302 and Customer.objects.get(pk=other.pk).email == "SALES@acme.cn"
    # A known duplicate does not warn again when another field changes.
    other.refresh_from_db()
    response = client.post(f"/customers/{other.pk}/edit/", edit_post(other, city="上海"))
    assert response.status_code == 302
    # A match outside the scope: only that one exists.
    other.refresh_from_db()
    response = client.post(f"/customers/{other.pk}/edit/", edit_post(other, email="boss@hidden.cn"))
    assert response.status_code == 409
    text = response.content.decode()
    assert 'data-testid="hidden-duplicates"' in text and "Hidden Co" not in text


def test_api_edit_answers_409_unless_forced(rep):
    first = cust(rep, name="Acme Trading", phone="13812345678")
    other = cust(rep, name="Other Co")
    client = api_as(rep)
    response = client.patch(f"/api/v1/customers/{other.pk}/", {"phone": "138 1234 5678"}, format="json")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "duplicate" and error["duplicates"] == [first.pk]
    assert Customer.objects.get(pk=other.pk).phone == ""
    response = client.patch(f"/api/v1/customers/{other.pk}/?force=1", {"phone": "138 1234 5678"}, format="json")
    assert response.status_code == 200
    assert client.patch(f"/api/v1/customers/{other.pk}/", {"city": "上海"}, format="json").status_code == 200
    acme = cust(rep, name="Acme")
    li = contact(rep, acme, name="Li Lei", mobile="13912345678")
    han = contact(rep, acme, name="Han")
    response = client.patch(f"/api/v1/contacts/{han.pk}/", {"name": "Li Lei"}, format="json")
    assert response.status_code == 409 and response.json()["error"]["duplicates"] == [li.pk]
    response = client.patch(f"/api/v1/contacts/{han.pk}/", {"name": "Li Lei", "force": True}, format="json")
    assert response.status_code == 200


def test_search_index_follows_merge_and_undo(rep, django_capture_on_commit_callbacks):
    a = cust(rep, name="瑞丰科技有限公司")
    b = cust(rep, name="瑞丰科技 集团", email="only-on-b@rf.cn")

    def found(q):
        response = api_as(rep).get("/api/v1/search/", {"q": q})
        assert response.status_code == 200
        return [r["id"] for g in response.json()["groups"] for r in g["results"]]

    assert b.pk in found("only-on-b")
    with django_capture_on_commit_callbacks(execute=True):
        result = merging.merge(rep, Customer, a.pk, [b.pk], {"email": b.pk})
    hits = found("only-on-b")
    assert a.pk in hits and b.pk not in hits  # the survivor carries the e-mail; the merged one is gone
    with django_capture_on_commit_callbacks(execute=True):
        merging.undo(rep, Customer, result.record.pk)
    hits = found("only-on-b")
    assert b.pk in hits and a.pk not in hits
