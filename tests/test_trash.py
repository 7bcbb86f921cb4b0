"""The recycle bin across entities (CUS-3, SEC-2): scope, restore, purge with its permission,
dependants and audit, retention."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from crm.core.audit.models import AuditEntry
from crm.core.entities import services
from crm.core.entities.trash import purge_expired
from crm.core.testing.org import Scope, make_user
from crm.customers.models import Contact, Customer
from crm.core.testing.clients import api_as, browser




@pytest.fixture
def purger(depts):
    """Sales1 department scope on customers and contacts, with the purge permission."""
    return make_user("purger", depts["sales1"], {"customers": Scope.DEPARTMENT, "contacts": Scope.DEPARTMENT},
                     specials=["purge"])


def binned_customer(user, name, contacts=()):
    obj = services.create(user, Customer, {"name": name})
    for c in contacts:
        services.create(user, Contact, {"customer": obj, "name": c})
    services.delete(user, Customer, obj.pk)
    return obj


def test_one_bin_for_all_entities_in_scope(rep, manager, depts):
    mine = binned_customer(rep, "Mine Co", ["Mine Person"])
    lone = services.create(rep, Contact, {"customer": services.create(rep, Customer, {"name": "Alive Co"}),
                                          "name": "Lone Contact"})
    services.delete(rep, Contact, lone.pk)
    binned_customer(manager, "Theirs Co", ["Their Person"])
    page = browser(rep).get("/trash/")
    assert page.status_code == 200
    text = page.content.decode()
    for name in ("Mine Co", "Mine Person", "Lone Contact"):
        assert name in text
    assert "Theirs Co" not in text and "Their Person" not in text
    assert 'data-entity="customers"' in text and 'data-entity="contacts"' in text
    # newest first within an entity
    assert text.index("Lone Contact") < text.index("Mine Person")
    # The manager (subtree) sees both customers.
    text = browser(manager).get("/trash/").content.decode()
    assert "Theirs Co" in text and "Mine Co" in text
    assert mine.pk


def test_bin_is_capped_with_a_more_link(rep):
    for i in range(21):
        binned_customer(rep, f"Bulk {i:02d}")
    text = browser(rep).get("/trash/").content.decode()
    assert "Bulk 20" in text and "Bulk 00" not in text
    assert 'data-testid="more-customers"' in text


def test_entity_bin_pages_by_keyset(rep):
    for i in range(102):
        binned_customer(rep, f"Paged {i:03d}")
    client = browser(rep)
    first = client.get("/customers/trash/").content.decode()
    assert "Paged 101" in first and "Paged 001" not in first
    import re

    cursor = re.search(r'href="\?before=([^"]+)"', first).group(1)
    second = client.get(f"/customers/trash/?before={cursor}").content.decode()
    assert "Paged 001" in second and "Paged 000" in second and "Paged 101" not in second


def test_restore_from_the_bin(rep):
    obj = binned_customer(rep, "Back Co", ["Back Person"])
    assert browser(rep).post(f"/customers/{obj.pk}/restore/").status_code == 302
    assert Customer.objects.filter(pk=obj.pk).exists()
    assert Contact.objects.filter(customer=obj).count() == 1


def test_purge_needs_the_permission(rep):
    obj = binned_customer(rep, "Kept Co")
    client = browser(rep)
    assert client.get(f"/customers/{obj.pk}/purge/").status_code == 403
    assert client.post(f"/customers/{obj.pk}/purge/").status_code == 403
    assert "Delete permanently" not in client.get("/trash/").content.decode()
    assert api_as(rep).post(f"/api/v1/customers/{obj.pk}/purge/").status_code == 403
    assert Customer.all_objects.filter(pk=obj.pk).exists()


def test_purge_with_dependants_is_audited(purger):
    obj = binned_customer(purger, "Gone Co", ["Gone Person", "Gone Too"])
    client = browser(purger)
    assert "Delete permanently" in client.get("/trash/").content.decode()
    confirm = client.get(f"/customers/{obj.pk}/purge/?next=trash")
    assert confirm.status_code == 200 and "cannot be undone" in confirm.content.decode()
    response = client.post(f"/customers/{obj.pk}/purge/", {"next": "trash"})
    assert response.status_code == 302 and response["Location"] == "/trash/"
    assert not Customer.all_objects.filter(pk=obj.pk).exists()
    assert not Contact.all_objects.filter(customer_id=obj.pk).exists()
    entries = AuditEntry.objects.filter(action="purge")
    assert sorted(entries.values_list("object_repr", flat=True)) == ["Gone Co", "Gone Person", "Gone Too"]
    assert all(e.actor_id == purger.pk for e in entries)


def test_purge_only_binned_records_in_scope(purger, manager):
    alive = services.create(purger, Customer, {"name": "Alive"})
    theirs = binned_customer(manager, "Elsewhere")
    client = browser(purger)
    assert client.post(f"/customers/{alive.pk}/purge/").status_code == 404
    assert client.post(f"/customers/{theirs.pk}/purge/").status_code == 404
    assert Customer.all_objects.filter(pk__in=[alive.pk, theirs.pk]).count() == 2


def test_purge_refused_while_referenced(purger):
    parent = services.create(purger, Customer, {"name": "Parent Group"})
    services.create(purger, Customer, {"name": "Child Ltd", "parent": parent})
    services.delete(purger, Customer, parent.pk)
    response = browser(purger).post(f"/customers/{parent.pk}/purge/", follow=True)
    text = response.content.decode()
    assert "still referenced by “Child Ltd”" in text
    assert Customer.all_objects.filter(pk=parent.pk).exists()
    assert not AuditEntry.objects.filter(action="purge").exists()
    zh = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    zh.force_login(purger)
    assert "“Child Ltd”" in zh.post(f"/customers/{parent.pk}/purge/", follow=True).content.decode()


def test_purge_through_the_api(purger):
    obj = binned_customer(purger, "Api Gone")
    client = api_as(purger)
    assert client.post(f"/api/v1/customers/{obj.pk}/purge/").status_code == 204
    assert client.post(f"/api/v1/customers/{obj.pk}/purge/").status_code == 404
    parent = services.create(purger, Customer, {"name": "Api Parent"})
    services.create(purger, Customer, {"name": "Api Child", "parent": parent})
    services.delete(purger, Customer, parent.pk)
    response = client.post(f"/api/v1/customers/{parent.pk}/purge/")
    assert response.status_code == 400


def test_retention_purges_only_old_records(rep):
    old = binned_customer(rep, "Old Co", ["Old Person"])
    recent = binned_customer(rep, "Recent Co")
    Customer.all_objects.filter(pk=old.pk).update(deleted_at=timezone.now() - timedelta(days=91))
    Contact.all_objects.filter(customer=old).update(deleted_at=timezone.now() - timedelta(days=91))
    alive = services.create(rep, Customer, {"name": "Alive Co"})
    call_command("purge_recycle_bin", batch_size=1)
    assert not Customer.all_objects.filter(pk=old.pk).exists()
    assert not Contact.all_objects.filter(customer_id=old.pk).exists()
    assert Customer.all_objects.filter(pk__in=[recent.pk, alive.pk]).count() == 2
    entries = AuditEntry.objects.filter(action="purge")
    assert sorted(entries.values_list("object_repr", flat=True)) == ["Old Co", "Old Person"]
    assert all(e.actor_id is None and e.extra["retention_days"] == 90 for e in entries)


def test_retention_zero_keeps_forever_and_referenced_are_skipped(rep):
    from crm.core.dictionary import parameters

    parent = services.create(rep, Customer, {"name": "Old Parent"})
    services.create(rep, Customer, {"name": "Live Child", "parent": parent})
    services.delete(rep, Customer, parent.pk)
    Customer.all_objects.filter(pk=parent.pk).update(deleted_at=timezone.now() - timedelta(days=400))
    parameters.save(None, {"recycle_bin_retention_days": 0})
    assert purge_expired() == {}
    assert purge_expired(days=30) == {"customers": {"purged": 0, "skipped": 1}}
    assert Customer.all_objects.filter(pk=parent.pk).exists()


def test_retention_task(rep):
    from crm.core.tasks import purge_recycle_bin

    old = binned_customer(rep, "Task Old")
    Customer.all_objects.filter(pk=old.pk).update(deleted_at=timezone.now() - timedelta(days=10))
    assert purge_recycle_bin.call(days=5) == {"customers": {"purged": 1, "skipped": 0}}


def test_menu_has_the_recycle_bin(rep):
    assert 'href="/trash/"' in browser(rep).get("/").content.decode()
