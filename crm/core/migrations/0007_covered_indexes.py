"""Single-column indexes that a composite index led by the same column already serves (issue #3):
one less index to write per inserted row. `DropFieldIndex` drops only the index (see crm.core.indexes)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from crm.core.indexes import DropFieldIndex


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('core', '0006_config_versions'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        DropFieldIndex(
            model_name='auditentry',
            name='actor',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='by'),
        ),
        DropFieldIndex(
            model_name='auditentry',
            name='content_type',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='contenttypes.contenttype'),
        ),
        DropFieldIndex(
            model_name='eventrecord',
            name='content_type',
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='contenttypes.contenttype'),
        ),
    ]
