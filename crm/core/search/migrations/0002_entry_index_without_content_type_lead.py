"""No index leads with the content type (issue #3): PostgreSQL ANDed "every entry of customers"
(a million) with the few hundred entries a search matched. On SQLite the AlterField rebuilds the
table, which drops the FTS5 triggers: they are installed again (and the FTS tables rebuilt)."""

import django.db.models.deletion
from django.db import migrations, models


def reinstall_vendor_indexes(apps, schema_editor):
    from crm.core.search.backends import backend_for

    with schema_editor.connection.cursor() as cursor:
        backend = backend_for(schema_editor.connection.vendor)
        if schema_editor.connection.vendor == "sqlite":
            backend.uninstall(cursor)
        backend.install(cursor)


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('search', '0001_initial'),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, reinstall_vendor_indexes),
        migrations.RemoveConstraint(
            model_name='searchentry',
            name='search_entry_object',
        ),
        migrations.AlterField(
            model_name='searchentry',
            name='content_type',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='contenttypes.contenttype'),
        ),
        migrations.AddConstraint(
            model_name='searchentry',
            constraint=models.UniqueConstraint(fields=('object_id', 'content_type'), name='search_entry_object_ct'),
        ),
        migrations.RunPython(reinstall_vendor_indexes, migrations.RunPython.noop),
    ]
