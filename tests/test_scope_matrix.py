"""The scope matrix (SEC-1), generated from the registry: for every entity whose records are
scoped, records belonging to the viewer, a colleague in the same department (Sales1), someone
in the child department (Sales1A) and someone in the other branch (Guangzhou), against every
scope level, through the UI, the API, the CSV export and the global search. Out-of-scope
records are 404 for reads and writes, and a refused write changes nothing: no row, no audit
entry, no event.
"""

import csv
import io

import pytest
from django.urls import reverse

from crm.core.access.levels import Scope
from crm.core.audit.models import AuditEntry
from crm.core.entities.registry import all_specs
from crm.core.events.models import EventRecord
from crm.core.testing.kit import kit_for
from crm.core.testing.org import make_tree, make_user

pytestmark = pytest.mark.django_db

SPECS = [s for s in all_specs() if s.scoped_by_records]
POSITIONS = ("own", "colleague", "child", "other")
VISIBLE = {
    Scope.NONE: set(),
    Scope.OWN: {"own"},
    Scope.DEPARTMENT: {"own", "colleague"},
    Scope.SUBTREE: {"own", "colleague", "child"},
    Scope.ALL: {"own", "colleague", "child", "other"},
}


def visible(spec, level):
    if level == Scope.OWN and not spec.owner_field:
        return VISIBLE[Scope.DEPARTMENT]  # no owner: "own records" means the own department
    return VISIBLE[level]


class Matrix:
    def __init__(self, spec, level):
        self.spec, self.level, self.kit = spec, level, kit_for(spec)
        depts = make_tree()
        people = kit_for("employees")
        # Every action the entity offers (as the permission matrix does) at this level.
        self.viewer = make_user("viewer", depts["sales1"], {(spec.key, a): level for a in spec.actions})
        where = {
            "own": (self.viewer, depts["sales1"]),
            "colleague": (people.make(None, depts["sales1"]), depts["sales1"]),
            "child": (people.make(None, depts["sales1a"]), depts["sales1a"]),
            "other": (people.make(None, depts["guangzhou"]), depts["guangzhou"]),
        }
        self.records = {pos: self.kit.subject(owner, dept) for pos, (owner, dept) in where.items()}
        self.visible = visible(spec, level)

    def url(self, view, obj=None):
        return reverse(f"{self.spec.key}-{view}", kwargs={"pk": obj.pk} if obj is not None else None)

    def api_url(self, obj=None):
        return f"/api/v1/{self.spec.key}/" + (f"{obj.pk}/" if obj is not None else "")

    def link(self, obj):
        return f'href="{self.url("detail", obj)}"'


CASES = [pytest.param(spec, level, id=f"{spec.key}-{level.name.lower()}") for spec in SPECS for level in Scope]


@pytest.fixture
def matrix(request, client, api):
    spec, level = request.param
    m = Matrix(spec, level)
    client.force_login(m.viewer)
    api.as_user(m.viewer)
    return m


def _refused(level):
    return 403 if level == Scope.NONE else 404  # no grant at all: the function permission says no


@pytest.mark.parametrize("matrix", [c.values for c in CASES], ids=[c.id for c in CASES], indirect=True)
def test_reads(matrix, client, api):
    m = matrix
    page = client.get(m.url("list"))
    listed = api.get(m.api_url(), {"page_size": 200})
    if m.level == Scope.NONE:
        assert page.status_code == 403 and listed.status_code == 403
    else:
        assert page.status_code == 200 and listed.status_code == 200
    html = page.content.decode()
    ids = {row["id"] for row in listed.json().get("results", [])}
    exports = "export" in m.spec.actions and m.level != Scope.NONE
    export = client.get(m.url("export"))
    assert export.status_code == (200 if exports else 403)
    cells = {c for row in csv.reader(io.StringIO(export.content.decode("utf-8-sig"))) for c in row}
    for pos, obj in m.records.items():
        seen = pos in m.visible
        where = f"{m.spec.key} of {pos} at {m.level.name}"
        assert (m.link(obj) in html) == seen, f"UI list, {where}"
        assert (obj.pk in ids) == seen, f"API list, {where}"
        if exports:
            assert (m.kit.search_text(obj) in cells) == seen, f"CSV export, {where}"
        assert client.get(m.url("detail", obj)).status_code == (200 if seen else _refused(m.level)), f"UI detail, {where}"
        assert api.get(m.api_url(obj)).status_code == (200 if seen else _refused(m.level)), f"API retrieve, {where}"
        if m.spec.search_fields:
            found = client.get(reverse("search"), {"q": m.kit.search_text(obj)})
            assert found.status_code == 200
            assert (m.link(obj) in found.content.decode()) == seen, f"global search, {where}"


def _state(spec, obj):
    row = spec.model._base_manager.filter(pk=obj.pk).values().first()
    return row, AuditEntry.objects.count(), EventRecord.objects.count()


@pytest.mark.parametrize("matrix", [c.values for c in CASES], ids=[c.id for c in CASES], indirect=True)
def test_writes_outside_the_scope_change_nothing(matrix, client, api):
    m = matrix
    refused = _refused(m.level)
    for pos, obj in m.records.items():
        if pos in m.visible:
            continue
        change = m.kit.edit_payload(obj)
        attempts = (
            ("UI edit", lambda: client.post(m.url("edit", obj), m.kit.form_post(m.viewer, obj, change))),
            ("UI delete", lambda: client.post(m.url("delete", obj))),
            ("API PATCH", lambda: api.patch(m.api_url(obj), {**change, "version": obj.version})),
            ("API DELETE", lambda: api.delete(m.api_url(obj))),
        )
        for name, attempt in attempts:
            before = _state(m.spec, obj)
            assert attempt().status_code == refused, f"{name} of {m.spec.key} of {pos} at {m.level.name}"
            assert _state(m.spec, obj) == before, f"{name} of {m.spec.key} of {pos} at {m.level.name} left a trace"
    # The same writes inside the scope do go through (so the refusals above are the scope's).
    for pos in sorted(m.visible):
        obj = m.spec.model._base_manager.get(pk=m.records[pos].pk)  # departments: own = colleague's
        response = api.patch(m.api_url(obj), {**m.kit.edit_payload(obj), "version": obj.version})
        assert response.status_code == 200, f"API PATCH of {m.spec.key} of {pos} at {m.level.name}"
