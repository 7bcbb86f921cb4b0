"""Configuration cached across requests (issue #3, `crm.core.versions`): a page reads the grants,
the department subtree, territory and pool memberships, the dictionary and the parameters from
a per-process cache keyed by one version query, and every way of changing that configuration —
forms, services, bulk writes — shows on the very next request; a rolled-back change leaves
nothing behind."""

import re

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models, transaction
from django.test.utils import CaptureQueriesContext

from crm.core import versions
from crm.core.access.models import Role, RoleGrant
from crm.core.access.scope import grants_of
from crm.core.dictionary.models import DictionaryItem, ParameterValue
from crm.core.dictionary.parameters import param
from crm.core.entities import services
from crm.core.testing.clients import browser
from crm.core.testing.org import Scope, make_user
from crm.customers.models import Customer
from crm.customers.testing import make_pool, pooled
from crm.org.models import Department, Territory, TerritoryMember, User

CONFIG_TABLES = ("core_rolegrant", "core_role", "org_department", "org_territorymember", "customers_pool",
                 "core_dictionaryitem", "core_parametervalue", "customfields_customfield")


FROM = re.compile(r'FROM "(\w+)"')  # the table a query reads first


def config_reads(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return [q["sql"] for q in ctx.captured_queries if FROM.search(q["sql"]).group(1) in CONFIG_TABLES]


def new_customer(user, **data):
    data.setdefault("name", f"Customer of {user.username}")
    return services.create(user, Customer, data)


def test_a_second_page_reads_no_configuration_but_its_version(rep, manager):
    client = browser(manager)
    client.get("/customers/")
    assert config_reads(client, "/customers/?status=active") == []
    with CaptureQueriesContext(connection) as ctx:
        client.get("/customers/")
    assert sum('"core_configversion"' in q["sql"] for q in ctx.captured_queries) == 1


def test_bulk_grant_writes_show_on_the_next_request(depts, rep):
    other = make_user("other", depts["guangzhou"], {"customers": Scope.OWN})
    theirs = new_customer(other, name="Guangzhou Only")
    client = browser(rep)
    assert client.get(f"/customers/{theirs.pk}/").status_code == 404
    role = Role.objects.create(name="Everyone's customers")
    role.members.add(rep)
    RoleGrant.objects.bulk_create([RoleGrant(role=role, entity="customers", action="view", scope=Scope.ALL)])
    assert client.get(f"/customers/{theirs.pk}/").status_code == 200
    Role.objects.filter(pk=role.pk).update(is_active=False)
    assert client.get(f"/customers/{theirs.pk}/").status_code == 404


def test_a_department_moved_by_a_bulk_update_moves_the_scope(depts, rep, manager):
    """The services move a subtree with QuerySet.update (TreeNode.after_update): no save signal."""
    customer = new_customer(rep, name="Sales1A Customer")
    Customer.objects.filter(pk=customer.pk).update(department=depts["sales1a"])
    client = browser(manager)
    assert client.get(f"/customers/{customer.pk}/").status_code == 200
    south = Department.objects.get(pk=depts["south"].pk)
    admin = make_user("root", depts["hq"], is_superuser=True)
    sales1 = Department.objects.get(pk=depts["sales1"].pk)
    services.update(admin, Department, sales1.pk, {"parent": south}, expected_version=sales1.version)
    assert client.get(f"/customers/{customer.pk}/").status_code == 404


def test_territory_and_pool_memberships_show_on_the_next_request(depts, rep):
    other = make_user("other", depts["guangzhou"], {"customers": Scope.OWN})
    theirs = new_customer(other, name="Territory Customer")
    territory = Territory.objects.create(name="South China")
    territory.after_create(None)
    Customer.objects.filter(pk=theirs.pk).update(territory=territory)
    client = browser(rep)
    assert client.get(f"/customers/{theirs.pk}/").status_code == 404
    TerritoryMember.objects.bulk_create([TerritoryMember(territory=territory, user=rep)])
    assert client.get(f"/customers/{theirs.pk}/").status_code == 200
    TerritoryMember.objects.filter(user=rep).delete()
    assert client.get(f"/customers/{theirs.pk}/").status_code == 404

    pool = make_pool("Guangzhou pool", departments=[depts["guangzhou"]])
    lying = pooled(Customer, pool, name="Pooled In Guangzhou")
    assert client.get(f"/customers/{lying.pk}/").status_code == 404
    pool.departments.add(depts["shanghai"])  # rep's department lies under Shanghai
    assert client.get(f"/customers/{lying.pk}/").status_code == 200


def test_dictionary_and_parameters_bulk_writes_show_at_once(rep):
    client = browser(rep)
    customer = new_customer(rep, name="Labelled", industry="it")
    assert "IT and software" in client.get(f"/customers/{customer.pk}/").content.decode()
    DictionaryItem.objects.filter(kind_id="industry", code="it").update(label_en="Software and IT")
    assert "Software and IT" in client.get(f"/customers/{customer.pk}/").content.decode()
    assert param("pool_claim_limit") == 50
    ParameterValue.objects.bulk_create([ParameterValue(key="pool_claim_limit", value=7)])
    assert param("pool_claim_limit") == 7


def test_a_rolled_back_change_leaves_nothing_cached(depts, rep):
    """What a transaction read after changing configuration is kept under its new version, which
    a rollback takes back for good (versions are random tokens, never counters that repeat)."""
    assert grants_of(User.objects.get(pk=rep.pk)).scopes.get(("customers", "delete")) == Scope.OWN
    with pytest.raises(RuntimeError), transaction.atomic():
        role = Role.objects.create(name="Briefly everything")
        RoleGrant.objects.create(role=role, entity="customers", action="delete", scope=Scope.ALL)
        role.members.add(rep)
        assert grants_of(User.objects.get(pk=rep.pk)).scopes[("customers", "delete")] == Scope.ALL
        raise RuntimeError("rolled back")
    assert grants_of(User.objects.get(pk=rep.pk)).scopes.get(("customers", "delete")) == Scope.OWN


def test_a_configuration_model_without_a_bumping_manager_is_refused():
    class Plain(models.Model):
        class Meta:
            app_label = "core"
            managed = False

    with pytest.raises(ImproperlyConfigured, match="BumpingQuerySet"):
        versions.bump_on_write("access", Plain)
