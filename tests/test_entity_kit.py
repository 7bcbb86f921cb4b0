"""Generated tests for every registered entity (INT-1): pages, forms, HTMX, API and query counts.

Parametrised over the registry, so a new entity is covered by its registration and the
TestData class its `EntitySpec.testing` names (see crm/core/testing/kit.py).
"""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from crm.core.access.levels import Scope
from crm.core.audit.models import AuditEntry
from crm.core.entities.registry import all_specs
from crm.core.events.models import EventRecord
from crm.core.testing.kit import Ctx, kit_for
from crm.core.testing.org import make_user

pytestmark = pytest.mark.django_db
each_entity = pytest.mark.parametrize("spec", all_specs(), ids=lambda s: s.key)


@pytest.fixture
def boss(depts):
    """Every action on every entity with scope ALL, without being a superuser."""
    return make_user("boss", depts["sales1"], {s.key: Scope.ALL for s in all_specs()})


@pytest.fixture
def ui(client, boss):
    client.force_login(boss)
    return client


def url(spec, view, obj=None):
    return reverse(f"{spec.key}-{view}", kwargs={"pk": obj.pk} if obj is not None else None)


def audited(obj, action):
    ct = ContentType.objects.get_for_model(obj, for_concrete_model=True)
    return AuditEntry.objects.filter(content_type=ct, object_id=obj.pk, action=action).exists()


def test_every_entity_has_test_data():
    for spec in all_specs():
        assert spec.testing, f"{spec.key}: set EntitySpec.testing to a TestData class"
        kit_for(spec)


@each_entity
def test_list_and_detail_pages(spec, ui, boss, depts):
    kit = kit_for(spec)
    obj = kit.make(boss, depts["sales1"])
    page = ui.get(url(spec, "list"))
    assert page.status_code == 200
    assert f'href="{url(spec, "detail", obj)}"' in page.content.decode()
    detail = ui.get(url(spec, "detail", obj))
    assert detail.status_code == 200
    assert escape(str(obj)) in detail.content.decode()


@each_entity
def test_htmx_list_request_gets_only_the_table(spec, ui, boss, depts):
    kit = kit_for(spec)
    obj = kit.make(boss, depts["sales1"])
    full = ui.get(url(spec, "list")).content.decode()
    part = ui.get(url(spec, "list"), headers={"HX-Request": "true", "HX-Target": "entity-table"})
    assert part.status_code == 200
    html = part.content.decode()
    assert 'data-testid="entity-table"' in html and f'href="{url(spec, "detail", obj)}"' in html
    # The fragment is swapped into the page: no layout, no filter form around it.
    assert "<html" in full and 'id="list-form"' in full
    assert "<html" not in html and 'id="list-form"' not in html and "navbar" not in html


@each_entity
def test_create_through_the_form(spec, ui, boss, depts):
    kit = kit_for(spec)
    payload = kit.create_payload(Ctx(boss, depts))
    response = ui.post(url(spec, "create"), kit.form_post(boss, None, payload))
    assert response.status_code == 302, _form_errors(response)
    obj = kit.created(payload)
    assert response.url == url(spec, "detail", obj)
    assert audited(obj, AuditEntry.Action.CREATE)
    assert EventRecord.objects.filter(name=f"{spec.key}.created", object_id=obj.pk).exists()
    assert escape(str(obj)) in ui.get(response.url).content.decode()


@each_entity
def test_edit_through_the_form_checks_the_version(spec, ui, boss, depts):
    kit = kit_for(spec)
    obj = kit.make(boss, depts["sales1"])
    change = kit.edit_payload(obj)
    data = kit.form_post(boss, obj, change)
    response = ui.post(url(spec, "edit", obj), data)
    assert response.status_code == 302, _form_errors(response)
    saved = spec.model._base_manager.get(pk=obj.pk)
    for name, value in change.items():
        assert getattr(saved, name) == value
    assert saved.version == obj.version + 1
    assert audited(obj, AuditEntry.Action.UPDATE)
    for value in change.values():
        assert escape(str(value)) in ui.get(url(spec, "detail", obj)).content.decode()

    # The same form posted again carries the old version: refused, nothing overwritten.
    stale = {**data, **{name: f"{value} again" for name, value in change.items()}}
    response = ui.post(url(spec, "edit", obj), stale)
    assert response.status_code == 409
    again = spec.model._base_manager.get(pk=obj.pk)
    assert again.version == saved.version
    for name, value in change.items():
        assert getattr(again, name) == value


@each_entity
def test_delete_through_the_form(spec, ui, boss, depts):
    kit = kit_for(spec)
    obj = kit.make(boss, depts["sales1"])
    assert ui.get(url(spec, "delete", obj)).status_code == 200  # the confirmation page
    response = ui.post(url(spec, "delete", obj))
    assert response.status_code == 302 and response.url == url(spec, "list")
    assert audited(obj, AuditEntry.Action.DELETE)
    assert ui.get(url(spec, "detail", obj)).status_code == 404
    if not spec.soft_delete:
        assert not spec.model._base_manager.filter(pk=obj.pk).exists()
        return
    assert spec.model._base_manager.get(pk=obj.pk).deleted_at is not None
    trash = ui.get(reverse(f"{spec.key}-trash"))
    assert escape(str(obj)) in trash.content.decode()
    response = ui.post(url(spec, "restore", obj))
    assert response.status_code == 302 and response.url == url(spec, "detail", obj)
    assert ui.get(url(spec, "detail", obj)).status_code == 200
    assert audited(obj, AuditEntry.Action.RESTORE)


@each_entity
def test_api_crud(spec, api, boss, depts):
    kit = kit_for(spec)
    api.as_user(boss)
    base = f"/api/v1/{spec.key}/"
    obj = kit.make(boss, depts["sales1"])

    listed = api.get(base, {"page_size": 200})
    assert listed.status_code == 200
    assert obj.pk in [row["id"] for row in listed.json()["results"]]
    one = api.get(f"{base}{obj.pk}/")
    assert one.status_code == 200 and one.json()["display"] == str(obj)

    payload = kit.create_payload(Ctx(boss, depts))
    created = api.post(base, payload)
    assert created.status_code == 201, created.json()
    new = kit.created(payload)
    assert created.json()["id"] == new.pk
    assert audited(new, AuditEntry.Action.CREATE)

    change = kit.edit_payload(new)
    patched = api.patch(f"{base}{new.pk}/", {**change, "version": new.version})
    assert patched.status_code == 200, patched.json()
    assert {k: patched.json()[k] for k in change} == change
    assert patched.json()["version"] == new.version + 1
    stale = api.patch(f"{base}{new.pk}/", {**change, "version": new.version})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "conflict"

    assert api.delete(f"{base}{new.pk}/").status_code == 204
    assert api.get(f"{base}{new.pk}/").status_code == 404


ROWS = 30


def _queries(fn):
    fn()  # warm caches (content types, sessions) so both measurements see the same state
    with CaptureQueriesContext(connection) as ctx:
        response = fn()
    assert response.status_code == 200
    return len(ctx.captured_queries), [q["sql"] for q in ctx.captured_queries]


@each_entity
def test_list_query_count_does_not_grow_with_page_size(spec, client, api, boss, depts):
    kit = kit_for(spec)
    for i in range(ROWS):
        kit.make(boss, depts["sales1"] if i % 2 else depts["sales1a"])
    client.force_login(boss)
    api.as_user(boss)
    for name, get, param in (("UI list", lambda p: client.get(url(spec, "list"), p), "size"),
                             ("API list", lambda p: api.get(f"/api/v1/{spec.key}/", p), "page_size")):
        small, small_sql = _queries(lambda: get({param: 10}))
        large, large_sql = _queries(lambda: get({param: 25}))
        assert small == large, f"{spec.key} {name}: {small} queries for 10 rows, {large} for 25:\n" + "\n".join(
            q for q in large_sql if q not in small_sql)


def _form_errors(response):
    ctx = getattr(response, "context", None)
    form = ctx.get("form") if ctx else None
    return f"status {response.status_code}; form errors: {form.errors.as_json() if form else None}"
