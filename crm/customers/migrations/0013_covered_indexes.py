"""Single-column indexes that a composite index led by the same column already serves (issue #3):
one less index to write per inserted row. `DropFieldIndex` drops only the index (see crm.core.indexes)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from crm.core.indexes import DropFieldIndex


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0012_config_cache_managers'),
        ('org', '0003_config_cache_managers'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        DropFieldIndex(
            model_name='contact',
            name='department',
            field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.department', verbose_name='owning department'),
        ),
        DropFieldIndex(
            model_name='contact',
            name='owner',
            field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='owner'),
        ),
        DropFieldIndex(
            model_name='contact',
            name='updated_at',
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='updated at'),
        ),
        DropFieldIndex(
            model_name='customer',
            name='department',
            field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.department', verbose_name='owning department'),
        ),
        DropFieldIndex(
            model_name='customer',
            name='owner',
            field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='owner'),
        ),
        DropFieldIndex(
            model_name='customer',
            name='territory',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.territory', verbose_name='territory'),
        ),
        DropFieldIndex(
            model_name='customer',
            name='updated_at',
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='updated at'),
        ),
    ]
