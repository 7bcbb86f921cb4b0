"""Numbering rules for leads (XS202611 0001) and opportunities (SJ202611 0001), the data dictionary
kinds "lead_source" and "lead_status" (SYS-5, SYS-6), and a default pipeline (SAL-2) that
administrators adapt. "lost_reason" is seeded by the core migrations."""

from django.db import migrations

KINDS = {
    "lead_source": ("线索来源", "Lead source", [
        ("website", "官网", "Website"),
        ("web_form", "网页表单", "Web form"),
        ("exhibition", "展会", "Exhibition"),
        ("campaign", "市场活动", "Marketing campaign"),
        ("referral", "转介绍", "Referral"),
        ("cold_call", "电话营销", "Cold call"),
        ("wechat", "微信", "WeChat"),
        ("email", "邮件", "E-mail"),
        ("partner", "合作伙伴", "Partner"),
        ("import", "导入", "Import"),
        ("api", "接口", "API"),
        ("other", "其他", "Other"),
    ]),
    "lead_status": ("线索状态", "Lead status", [
        ("new", "新线索", "New"),
        ("contacted", "已联系", "Contacted"),
        ("qualified", "已确认", "Qualified"),
        ("nurturing", "培育中", "Nurturing"),
        ("unqualified", "无效", "Unqualified"),
        ("converted", "已转化", "Converted"),
    ]),
}

STAGES = [  # name zh, order, probability, kind
    ("初步接洽", 10, 10, "open"),
    ("需求确认", 20, 30, "open"),
    ("方案报价", 30, 50, "open"),
    ("商务谈判", 40, 80, "open"),
    ("赢单", 900, 100, "won"),
    ("输单", 910, 0, "lost"),
]


def seed(apps, schema_editor):
    Rule = apps.get_model("core", "NumberingRule")
    for entity, prefix in (("leads", "XS"), ("opportunities", "SJ")):
        Rule.objects.get_or_create(entity=entity, defaults={
            "prefix": prefix, "date_part": "yyyymm", "digits": 4, "reset": "monthly", "start_number": 1,
            "is_active": True})
    Kind = apps.get_model("core", "DictionaryKind")
    Item = apps.get_model("core", "DictionaryItem")
    for code, (zh, en, items) in KINDS.items():
        Kind.objects.get_or_create(code=code, defaults={"label_zh": zh, "label_en": en})
        for order, (item_code, item_zh, item_en) in enumerate(items, start=1):
            Item.objects.get_or_create(kind_id=code, code=item_code,
                                       defaults={"label_zh": item_zh, "label_en": item_en, "order": order * 10})
    Pipeline = apps.get_model("sales", "Pipeline")
    Stage = apps.get_model("sales", "Stage")
    if not Pipeline.objects.exists():
        pipeline = Pipeline.objects.create(name="标准销售流程", is_default=True, sort_order=10)
        for name, order, probability, kind in STAGES:
            Stage.objects.create(pipeline=pipeline, name=name, order=order, probability=probability, kind=kind)


def unseed(apps, schema_editor):
    apps.get_model("core", "NumberingRule").objects.filter(entity__in=["leads", "opportunities"]).delete()
    apps.get_model("core", "DictionaryItem").objects.filter(kind_id__in=list(KINDS)).delete()
    apps.get_model("core", "DictionaryKind").objects.filter(code__in=list(KINDS)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0005_dictionary_seed"),
        ("sales", "0001_initial"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
