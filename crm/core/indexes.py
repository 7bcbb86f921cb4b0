"""A migration operation for dropping a field's own single-column index (`db_index=True` →
`False`) when a composite index that starts with the column serves the same lookups (issue #3:
fewer indexes to write per inserted row).

Django's `AlterField` would do it too, but on PostgreSQL it also drops and re-adds the column's
foreign-key constraint, which re-checks every row of the table under an exclusive lock (minutes
for millions of activities), and on SQLite it rebuilds the whole table. This operation changes
the same state and only drops the index; backwards it builds the index again under the name
Django gives it, so the schema is the one a fresh `migrate` of the older state makes."""

from django.db import migrations


class DropFieldIndex(migrations.AlterField):
    """`AlterField(model_name, name, field)` where `field` differs from the current one only by
    `db_index=False`."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        field = model._meta.get_field(self.name)
        name = _index_name(schema_editor, model, field)
        if name in schema_editor._constraint_names(model, [field.column], index=True):
            schema_editor.execute(schema_editor._delete_index_sql(model, name))

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        field = model._meta.get_field(self.name)
        if _index_name(schema_editor, model, field) not in schema_editor._constraint_names(model, [field.column], index=True):
            schema_editor.execute(schema_editor._create_index_sql(model, fields=[field]))

    def describe(self):
        return f"Drop the single-column index of {self.model_name}.{self.name}"

    @property
    def migration_name_fragment(self):
        return f"drop_index_{self.model_name_lower}_{self.name_lower}"


def _index_name(schema_editor, model, field):
    """The name Django gave the field's index (`_field_indexes_sql`)."""
    return schema_editor._create_index_name(model._meta.db_table, [field.column])
