"""Seed the data dictionary (SYS-6) with the pick lists the CRM had as fixed choices (same codes,
so existing records stay valid) and the first items of the kinds other modules will use."""

from django.db import migrations

KINDS = {
    "industry": ("行业", "Industry", [
        ("manufacturing", "制造业", "Manufacturing"),
        ("it", "IT 与软件", "IT and software"),
        ("finance", "金融保险", "Finance and insurance"),
        ("retail", "批发零售", "Retail and wholesale"),
        ("healthcare", "医疗健康", "Healthcare"),
        ("education", "教育", "Education"),
        ("construction", "建筑与房地产", "Construction and real estate"),
        ("logistics", "物流", "Logistics"),
        ("energy", "能源", "Energy"),
        ("government", "政府及公共事业", "Government and public sector"),
        ("services", "专业服务", "Professional services"),
        ("other", "其他", "Other"),
    ]),
    "customer_level": ("客户级别", "Customer level", [
        ("strategic", "战略客户", "Strategic"),
        ("important", "重要客户", "Important"),
        ("normal", "普通客户", "Normal"),
        ("small", "小客户", "Small"),
    ]),
    "customer_type": ("客户类型", "Customer type", [
        ("company", "企业", "Company"),
        ("person", "个人", "Individual"),
        ("government", "政府或事业单位", "Government or institution"),
        ("dealer", "经销商", "Dealer"),
    ]),
    "customer_status": ("客户状态", "Customer status", [
        ("potential", "潜在客户", "Potential"),
        ("active", "成交客户", "Transacting"),
        ("dormant", "休眠客户", "Dormant"),
        ("lost", "流失客户", "Lost"),
    ]),
    "customer_source": ("客户来源", "Customer source", [
        ("referral", "转介绍", "Referral"),
        ("website", "官网", "Website"),
        ("exhibition", "展会", "Exhibition"),
        ("campaign", "市场活动", "Marketing campaign"),
        ("cold_call", "电话营销", "Cold call"),
        ("wechat", "微信", "WeChat"),
        ("partner", "合作伙伴", "Partner"),
        ("other", "其他", "Other"),
    ]),
    "credit_rating": ("信用等级", "Credit rating", [
        ("AAA", "AAA", "AAA"), ("AA", "AA", "AA"), ("A", "A", "A"), ("B", "B", "B"), ("C", "C", "C"),
    ]),
    "payment_method": ("付款方式", "Payment method", [
        ("bank_transfer", "银行转账", "Bank transfer"),
        ("cash", "现金", "Cash"),
        ("acceptance_bill", "承兑汇票", "Bank acceptance bill"),
        ("cheque", "支票", "Cheque"),
        ("alipay", "支付宝", "Alipay"),
        ("wechat_pay", "微信支付", "WeChat Pay"),
    ]),
    "activity_type": ("日程类型", "Activity type", [
        ("call", "电话", "Phone call"),
        ("visit", "拜访", "Visit"),
        ("meeting", "会议", "Meeting"),
        ("email", "邮件", "E-mail"),
        ("wechat", "微信", "WeChat"),
        ("other", "其他", "Other"),
    ]),
    "lost_reason": ("丢单原因", "Lost reason", [
        ("price", "价格", "Price"),
        ("competitor", "竞争对手", "Competitor"),
        ("no_budget", "没有预算", "No budget"),
        ("no_decision", "没有决策", "No decision"),
        ("other", "其他", "Other"),
    ]),
    "ticket_category": ("工单类别", "Ticket category", [
        ("consultation", "咨询", "Consultation"),
        ("complaint", "投诉", "Complaint"),
        ("repair", "维修", "Repair"),
        ("installation", "安装", "Installation"),
        ("other", "其他", "Other"),
    ]),
}


def seed(apps, schema_editor):
    Kind = apps.get_model("core", "DictionaryKind")
    Item = apps.get_model("core", "DictionaryItem")
    for code, (zh, en, items) in KINDS.items():
        Kind.objects.get_or_create(code=code, defaults={"label_zh": zh, "label_en": en})
        for order, (item_code, item_zh, item_en) in enumerate(items, start=1):
            Item.objects.get_or_create(kind_id=code, code=item_code,
                                       defaults={"label_zh": item_zh, "label_en": item_en, "order": order * 10})


def unseed(apps, schema_editor):
    Kind = apps.get_model("core", "DictionaryKind")
    Item = apps.get_model("core", "DictionaryItem")
    Item.objects.filter(kind_id__in=list(KINDS)).delete()
    Kind.objects.filter(code__in=list(KINDS)).delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0004_dictionary_parameters")]

    operations = [migrations.RunPython(seed, unseed)]
