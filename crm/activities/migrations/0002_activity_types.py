"""Activity types (ACT-1) the data dictionary lacks: note, to-do, return visit (回访, CUS-11)."""

from django.db import migrations

ITEMS = [
    ("note", "备注", "Note", 70),
    ("todo", "待办", "To-do", 80),
    ("return_visit", "回访", "Return visit", 90),
]


def seed(apps, schema_editor):
    Kind = apps.get_model("core", "DictionaryKind")
    Item = apps.get_model("core", "DictionaryItem")
    Kind.objects.get_or_create(code="activity_type", defaults={"label_zh": "日程类型", "label_en": "Activity type"})
    for code, zh, en, order in ITEMS:
        Item.objects.get_or_create(kind_id="activity_type", code=code,
                                   defaults={"label_zh": zh, "label_en": en, "order": order})


def unseed(apps, schema_editor):
    Item = apps.get_model("core", "DictionaryItem")
    Item.objects.filter(kind_id="activity_type", code__in=[i[0] for i in ITEMS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("activities", "0001_initial"),
        ("core", "0005_dictionary_seed"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
