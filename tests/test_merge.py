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
