"""Demo leads, pipelines and opportunities (LEAD-1..3, SAL-1..3), so that the pipeline board and
the funnel look like a real sales team's."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from crm.catalog.models import Product
from crm.core.numbering.services import next_number
from crm.customers.models import Contact, Customer
from crm.demo import data
from crm.sales.models import (
    Lead, LeadAssignmentRule, LeadWebForm, Opportunity, OpportunityProduct, Pipeline, Stage, StageHistory, StageKind,
    StageTaskTemplate,
)

SALES_ENTITIES = ("leads", "opportunities", "opportunity-products")
SALES_SETTINGS = ("pipelines", "pipeline-stages", "stage-task-templates", "lead-assignment-rules", "lead-web-forms")

LEAD_SOURCES = ["website", "web_form", "exhibition", "campaign", "referral", "cold_call", "wechat"]
LEAD_STATUSES = ["new", "new", "contacted", "contacted", "qualified", "nurturing", "unqualified"]
PROVINCES = [("上海", "上海"), ("浙江", "杭州"), ("广东", "广州"), ("广东", "深圳"), ("北京", "北京"), ("江苏", "南京")]
DEALS = ["服务器采购项目", "网络改造项目", "CRM 实施项目", "年度维保续约", "数据中心扩容", "安全加固项目", "培训服务采购"]
TASKS = {10: ["首次电话沟通需求"], 20: ["安排需求调研会议", "确认预算与决策人"], 30: ["提交技术方案与报价"],
         40: ["合同条款谈判"]}


def make_sales(rng, users):
    admin = users["admin"]
    reps = [u for u in users.values() if u.roles.filter(name="销售代表").exists()]
    now = timezone.now()
    pipeline = Pipeline.objects.filter(is_default=True).first()
    stages = list(Stage.objects.filter(pipeline=pipeline).order_by("order"))
    open_stages = [s for s in stages if s.kind == StageKind.OPEN]
    won = next(s for s in stages if s.kind == StageKind.WON)
    lost = next(s for s in stages if s.kind == StageKind.LOST)
    for s in open_stages:
        for title in TASKS.get(s.order, []):
            StageTaskTemplate.objects.create(stage=s, title=title, due_in_days=rng.choice([1, 2, 3, 5]))
    project = Pipeline.objects.create(name="项目型销售", sort_order=20)
    for name, order, probability, kind in (("立项", 10, 10, "open"), ("招投标", 20, 40, "open"), ("中标", 30, 90, "open"),
                                           ("赢单", 900, 100, "won"), ("输单", 910, 0, "lost")):
        Stage.objects.create(pipeline=project, name=name, order=order, probability=probability, kind=kind)

    east = LeadAssignmentRule.objects.create(name="华东线索轮流分配", method="round_robin", regions="上海, 浙江, 江苏",
                                             priority=10)
    east.members.set([u for u in reps if u.department.code.startswith("E-")])
    south = LeadAssignmentRule.objects.create(name="华南线索按负载分配", method="load", regions="广东", priority=20)
    south.members.set([u for u in reps if u.department.code.startswith("S-")])
    LeadWebForm.objects.create(name="官网咨询表单", source="web_form", campaign_code="WEB-2026", default_owner=users["shmgr"],
                               thank_you="感谢您的咨询，我们的销售顾问将在一个工作日内与您联系。")

    leads = []
    for i in range(200):
        owner = rng.choice(reps)
        province, city = rng.choice(PROVINCES)
        created = now - timedelta(days=rng.randrange(0, 180), minutes=rng.randrange(0, 1440))
        company = data.chinese_company(rng)["name"]
        leads.append(Lead(
            code=next_number("leads", today=created.date()) or "", name=data.chinese_person(rng), company=company,
            title=rng.choice(data.TITLES), mobile=data.mobile(rng), province=province, city=city,
            source=rng.choice(LEAD_SOURCES), campaign_code=rng.choice(["", "", "EXPO-2026", "WEB-2026"]),
            status=rng.choice(LEAD_STATUSES), score=rng.randrange(0, 101),
            next_follow_up=now + timedelta(days=rng.randrange(-5, 20)) if rng.random() < 0.6 else None,
            owner=owner, department_id=owner.department_id, created_at=created, updated_at=created,
            created_by=admin, updated_by=admin))
    Lead.objects.bulk_create(leads, batch_size=500)

    customers = list(Customer.objects.order_by("pk")[:180])
    contacts = dict(Contact.objects.filter(is_primary=True).values_list("customer_id", "pk"))
    products = list(Product.objects.order_by("pk"))
    opps, paths = [], []
    for i, customer in enumerate(customers):
        if rng.random() < 0.3:
            continue
        roll = rng.random()
        path = open_stages[: rng.randrange(1, len(open_stages) + 1)]
        if roll < 0.15:
            path = path + [won]
        elif roll < 0.25:
            path = path + [lost]
        stage = path[-1]
        start = now - timedelta(days=rng.randrange(20, 200))
        closed = stage.kind != StageKind.OPEN
        opps.append(Opportunity(
            code=next_number("opportunities", today=start.date()) or "", name=f"{customer.name} {rng.choice(DEALS)}",
            customer=customer, pipeline=pipeline, stage=stage,
            amount=Decimal(rng.choice([5, 8, 12, 20, 35, 50, 80, 120, 200])) * 10000,
            start_date=start.date(), expected_close_date=(now + timedelta(days=rng.randrange(-20, 180))).date(),
            next_step=rng.choice(["", "电话跟进", "发送报价", "安排演示", "约见决策人"]),
            status=stage.kind, lost_reason=rng.choice(["price", "competitor", "no_budget"]) if stage == lost else "",
            closed_at=now - timedelta(days=rng.randrange(0, 25)) if closed else None,
            reached_order=max(s.order for s in path if s.kind != StageKind.LOST),
            stage_entered_at=now - timedelta(days=rng.randrange(0, 15)),
            owner_id=customer.owner_id, department_id=customer.department_id, created_at=start, updated_at=start,
            created_by=admin, updated_by=admin))
        paths.append(path)
    Opportunity.objects.bulk_create(opps, batch_size=500)
    history, lines, links = [], [], []
    Through = Opportunity.contacts.through
    for opp, path in zip(opps, paths):
        at = timezone.make_aware(timezone.datetime.combine(opp.start_date, timezone.datetime.min.time()))
        for n, stage in enumerate(path):
            last = n == len(path) - 1
            days = rng.randrange(2, 25)
            history.append(StageHistory(
                opportunity=opp, pipeline=pipeline, stage=stage, from_stage=path[n - 1] if n else None, entered_at=at,
                left_at=None if last else at + timedelta(days=days), seconds=None if last else days * 86400,
                user_id=opp.owner_id))
            at += timedelta(days=days)
        for product in rng.sample(products, rng.randrange(0, 3)):
            qty = Decimal(rng.randrange(1, 20))
            lines.append(OpportunityProduct(opportunity=opp, product=product, quantity=qty, unit_price=product.list_price,
                                            line_amount=qty * product.list_price))
        if opp.customer_id in contacts:
            links.append(Through(opportunity_id=opp.pk, contact_id=contacts[opp.customer_id]))
    StageHistory.objects.bulk_create(history, batch_size=1000)
    OpportunityProduct.objects.bulk_create(lines, batch_size=1000)
    Through.objects.bulk_create(links, batch_size=1000)
