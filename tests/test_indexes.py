"""Indexes (issue #3): single-column indexes that a composite index led by the same column
already serves were dropped (fewer indexes to write per imported row). What must still hold in the
migrated database: every foreign key and every entity's `updated_at` leads an index (lists, the
scope predicate, ON DELETE checks of the referenced rows), and the tables an import writes carry
no index that another one makes redundant."""

import pytest
from django.apps import apps
from django.db import connection, models

from crm.core.audit.models import AuditEntry
from crm.core.entities.base import Entity
from crm.core.events.models import EventRecord
from crm.customers.models import Customer

pytestmark = pytest.mark.django_db

# Decided elsewhere: search entries are found by (object_id, content_type), never by content type
# alone (crm/core/search/migrations/0002).
UNINDEXED_ON_PURPOSE = {("search_searchentry", "content_type_id")}


def project_models():
    return [m for m in apps.get_models()
            if m.__module__.startswith("crm.") and m._meta.managed and not m._meta.proxy]


def indexes(model):
    """[(columns, unique)] of the table's indexes (and unique constraints) in the database, partial
    ones left out (they serve only their subset of rows)."""
    partial = {i.name for i in [*model._meta.indexes, *model._meta.constraints] if getattr(i, "condition", None)}
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return [(tuple(c["columns"]), bool(c["unique"])) for name, c in found.items()
            if (c["index"] or c["unique"] or c["primary_key"]) and c["columns"] and all(c["columns"])
            and name not in partial]


def leading(model):
    return {cols[0] for cols, _u in indexes(model)}


def test_every_foreign_key_leads_an_index():
    missing = []
    for model in project_models():
        lead = leading(model)
        for f in model._meta.local_concrete_fields:
            if isinstance(f, models.ForeignKey) and f.column not in lead:
                missing.append((model._meta.db_table, f.column))
    assert set(missing) <= UNINDEXED_ON_PURPOSE, missing


def test_every_entity_sorts_by_updated_at_on_an_index():
    entities = [m for m in project_models() if issubclass(m, Entity)]
    assert Customer in entities and len(entities) >= 5
    for model in entities:
        assert "updated_at" in leading(model), model


@pytest.mark.parametrize("model", [Customer, AuditEntry, EventRecord])
def test_no_single_column_index_next_to_a_composite_one_with_its_column_first(model):
    found = indexes(model)
    composite_leads = {cols[0] for cols, _u in found if len(cols) > 1}
    redundant = [cols for cols, unique in found if len(cols) == 1 and not unique and cols[0] in composite_leads]
    assert not redundant


@pytest.mark.skipif(connection.vendor != "postgresql", reason="DDL inside the test's transaction")
def test_dropping_a_field_index_keeps_the_foreign_key_and_goes_back():
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(connection)
    migration = loader.get_migration("customers", "0013_covered_indexes")
    op = next(o for o in migration.operations if o.model_name == "customer" and o.name == "owner")
    after = loader.project_state(("customers", "0013_covered_indexes"))
    before = after.clone()
    owner = before.models["customers", "customer"].fields["owner"].clone()
    owner.db_index = True  # the state before the migration
    before.models["customers", "customer"].fields["owner"] = owner

    def owner_constraints():
        with connection.cursor() as cursor:
            found = connection.introspection.get_constraints(cursor, Customer._meta.db_table)
        return sorted((bool(c["foreign_key"]), bool(c["index"])) for c in found.values() if c["columns"] == ["owner_id"])

    assert owner_constraints() == [(True, False)]  # the foreign key, no index of its own
    with connection.schema_editor() as editor:
        op.database_backwards("customers", editor, after, before)
    assert owner_constraints() == [(False, True), (True, False)]
    with connection.schema_editor() as editor:
        op.database_forwards("customers", editor, before, after)
    assert owner_constraints() == [(True, False)]
