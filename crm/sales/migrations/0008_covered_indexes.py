"""Single-column indexes that a composite index led by the same column already serves (issue #3):
one less index to write per inserted row. `DropFieldIndex` drops only the index (see crm.core.indexes)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from crm.core.indexes import DropFieldIndex


class Migration(migrations.Migration):

    dependencies = [
        ('org', '0003_config_cache_managers'),
        ('sales', '0007_funnel_summary'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        DropFieldIndex(
            model_name='competitor',
            name='department',
            field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.department', verbose_name='owning department'),
        ),
        DropFieldIndex(
            model_name='competitor',
            name='owner',
            field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='owner'),
        ),
        DropFieldIndex(
            model_name='competitor',
            name='updated_at',
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='updated at'),
        ),
        DropFieldIndex(
            model_name='lead',
            name='department',
            field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.department', verbose_name='owning department'),
        ),
        DropFieldIndex(
            model_name='lead',
            name='owner',
            field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='owner'),
        ),
        DropFieldIndex(
            model_name='lead',
            name='updated_at',
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='updated at'),
        ),
        DropFieldIndex(
            model_name='opportunity',
            name='department',
            field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.department', verbose_name='owning department'),
        ),
        DropFieldIndex(
            model_name='opportunity',
            name='owner',
            field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='owner'),
        ),
        DropFieldIndex(
            model_name='opportunity',
            name='updated_at',
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='updated at'),
        ),
    ]
