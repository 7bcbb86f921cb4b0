"""The default product numbering rule (SYS-5): CP + 5 digits, never reset (CP00001), and the
data dictionary kind "unit" (计量单位, SYS-6) with its first items."""

from django.db import migrations

UNITS = [
    ("piece", "个", "Piece"),
    ("unit", "台", "Unit"),
    ("set", "套", "Set"),
    ("item", "件", "Item"),
    ("box", "箱", "Box"),
    ("kg", "千克", "Kilogram"),
    ("hour", "小时", "Hour"),
    ("time", "次", "Time"),
]


def seed(apps, schema_editor):
    apps.get_model("core", "NumberingRule").objects.get_or_create(
        entity="products",
        defaults={"prefix": "CP", "date_part": "none", "digits": 5, "reset": "never", "start_number": 1,
                  "is_active": True},
    )
    Kind = apps.get_model("core", "DictionaryKind")
    Item = apps.get_model("core", "DictionaryItem")
    Kind.objects.get_or_create(code="unit", defaults={"label_zh": "计量单位", "label_en": "Unit"})
    for order, (code, zh, en) in enumerate(UNITS, start=1):
        Item.objects.get_or_create(kind_id="unit", code=code,
                                   defaults={"label_zh": zh, "label_en": en, "order": order * 10})


def unseed(apps, schema_editor):
    apps.get_model("core", "NumberingRule").objects.filter(entity="products").delete()
    apps.get_model("core", "DictionaryItem").objects.filter(kind_id="unit").delete()
    apps.get_model("core", "DictionaryKind").objects.filter(code="unit").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0005_dictionary_seed"),
        ("catalog", "0001_initial"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
