"""The default customer numbering rule (SYS-5): KH + YYYYMM + 4 digits, restarting every month,
e.g. KH2026110001. Administrators change it under Settings → Numbering rules."""

from django.db import migrations


def create_rule(apps, schema_editor):
    NumberingRule = apps.get_model("core", "NumberingRule")
    NumberingRule.objects.get_or_create(
        entity="customers",
        defaults={"prefix": "KH", "date_part": "yyyymm", "digits": 4, "reset": "monthly", "start_number": 1,
                  "is_active": True},
    )


def remove_rule(apps, schema_editor):
    apps.get_model("core", "NumberingRule").objects.filter(entity="customers").delete()


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0003_numbering"),
        ("customers", "0002_initial"),
    ]

    operations = [migrations.RunPython(create_rule, remove_rule)]
