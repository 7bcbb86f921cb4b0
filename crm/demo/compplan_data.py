"""Demo competitors with their products, competitors on opportunities (some lost to them) and this
year's sales plans (COMP-1, COMP-2, SAL-11, SAL-7), so the comparison, the win/loss and lost-order
analyses and plan vs actual have something to show after `crm demo`."""

import datetime
from decimal import Decimal

from django.utils import timezone

from crm.catalog.models import Product
from crm.core.access.levels import Scope
from crm.core.access.models import Role, RoleGrant
from crm.core.entities.registry import ACTIONS
from crm.sales.models import (
    Competitor, CompetitorProduct, Opportunity, OpportunityCompetitor, OpportunityStatus, SalesPlan,
)

COMPETITORS = [  # name, website, status, fields, background, strengths, weaknesses, strategy
    ("华信科技", "https://huaxin.example.com", "active", "服务器、数据中心",
     "成立于 2005 年，华东地区老牌系统集成商。", "价格低，本地关系深", "售后响应慢，方案同质化",
     "强调全生命周期服务和交付质量，用标杆案例说话。"),
    ("博远软件", "https://boyuan.example.com", "active", "CRM、ERP 软件",
     "专注中型企业管理软件，SaaS 收入增长快。", "产品上线快，界面友好", "定制能力弱，大客户经验少",
     "在复杂流程和集成场景下做深度演示。"),
    ("Northwind Systems", "https://northwind.example.com", "emerging", "网络设备、安全",
     "外资品牌，近两年进入华南市场。", "品牌认知度高", "价格高，本地团队小", "突出本地化服务和性价比。"),
    ("启明网络", "", "partner", "网络改造、安全加固", "部分项目中的合作伙伴，也在安全领域与我们竞争。",
     "安全资质齐全", "产品线窄", "安全项目中联合投标，其他项目正面竞争。"),
]

THEIR_PRODUCTS = {  # competitor name -> [(name, specification, price, use, performance, {attributes}, ours)]
    "华信科技": [("HX-2000 机架服务器", "2U 双路", "42000", "通用计算", "与我方同级产品性能相当，功耗略高",
                 {"CPU": "2 × 24 核", "内存": "256 GB", "保修": "3 年"}, "机架式服务器")],
    "博远软件": [("博远 CRM 专业版", "每用户每年", "1500", "中小企业客户管理", "并发 500 用户",
                 {"部署": "SaaS", "移动端": "有"}, "CRM 云订阅 标准版")],
    "Northwind Systems": [("NW Switch 48", "48 口千兆", "9800", "接入交换", "转发性能高",
                           {"端口": "48", "保修": "5 年"}, "接入交换机")],
}


def grant_compplan_rights():
    """Every demo role gets the competitor entities at its customer scope (competitors and their
    products are shared knowledge: everyone sees them) and plans: each sees the plans of what they
    may see; those with the department subtree or all manage plans."""
    rows = []
    for role in Role.objects.all():
        scopes = dict(RoleGrant.objects.filter(role=role, entity="customers").values_list("action", "scope"))
        view = scopes.get("view", Scope.NONE)
        if not view:
            continue
        for entity in ("competitors", "competitor-products"):
            for action in ACTIONS:
                scope = Scope.ALL if action in ("view", "export") else scopes.get(action, Scope.NONE)
                if scope:
                    rows.append(RoleGrant(role=role, entity=entity, action=action, scope=scope))
        for action in ACTIONS:
            scope = scopes.get(action, Scope.NONE)
            if scope:
                rows.append(RoleGrant(role=role, entity="opportunity-competitors", action=action, scope=scope))
        for action in ("view", "export"):
            rows.append(RoleGrant(role=role, entity="sales-plans", action=action, scope=view))
        if view >= Scope.SUBTREE and scopes.get("edit", Scope.NONE) >= Scope.SUBTREE:
            for action in ("create", "edit", "delete", "import"):
                rows.append(RoleGrant(role=role, entity="sales-plans", action=action, scope=view))
    RoleGrant.objects.bulk_create(rows, ignore_conflicts=True)


def make_compplan(rng, users):
    grant_compplan_rights()
    admin = users["admin"]
    hq = admin.department
    competitors = []
    for name, website, status, fields, background, strengths, weaknesses, strategy in COMPETITORS:
        c = Competitor(name=name, website=website, status=status, competition_fields=fields, background=background,
                       strengths=strengths, weaknesses=weaknesses, strategy=strategy, owner=admin, department=hq,
                       created_by=admin, updated_by=admin)
        c.full_clean()
        c.save()
        competitors.append(c)
    by_name = {c.name: c for c in competitors}
    for cname, items in THEIR_PRODUCTS.items():
        for name, spec, price, use, performance, attributes, our_name in items:
            ours = Product.objects.filter(name=our_name).order_by("pk").first()
            CompetitorProduct.objects.create(competitor=by_name[cname], name=name, specification=spec,
                                             price=Decimal(price), use=use, performance=performance,
                                             attributes=attributes, our_product=ours)

    links, lost_to = [], []
    for opp in Opportunity.objects.order_by("pk").only("id", "status"):
        if opp.status == OpportunityStatus.LOST:
            rival = rng.choice(competitors[:3])
            lost_to.append((opp.pk, rival.pk))
            links.append(OpportunityCompetitor(opportunity_id=opp.pk, competitor=rival, threat_level="high",
                                               notes="最终输给该对手"))
        elif rng.random() < 0.4:
            for rival in rng.sample(competitors, rng.randrange(1, 3)):
                links.append(OpportunityCompetitor(opportunity_id=opp.pk, competitor=rival,
                                                   threat_level=rng.choice(["low", "medium", "high"])))
    OpportunityCompetitor.objects.bulk_create(links, batch_size=1000)
    for opp_pk, rival_pk in lost_to:
        Opportunity.objects.filter(pk=opp_pk).update(lost_to_id=rival_pk)

    # This year's plans: monthly won-amount targets for each rep, a yearly one for the company.
    year = timezone.localdate().year
    reps = [u for u in users.values() if u.roles.filter(name="销售代表").exists()]
    plans = []
    for rep in reps:
        base = Decimal(rng.choice([30, 40, 50, 60, 80])) * 10000
        for month in range(1, 13):
            plans.append(SalesPlan(scope="employee", employee=rep, department_id=rep.department_id, period_kind="month",
                                   period_start=datetime.date(year, month, 1), metric="won_amount",
                                   target=base + Decimal(rng.randrange(0, 5)) * 50000))
            plans.append(SalesPlan(scope="employee", employee=rep, department_id=rep.department_id, period_kind="month",
                                   period_start=datetime.date(year, month, 1), metric="won_count",
                                   target=Decimal(rng.randrange(2, 6))))
    plans.append(SalesPlan(scope="company", period_kind="year", period_start=datetime.date(year, 1, 1),
                           metric="won_amount", target=Decimal("60000000")))
    SalesPlan.objects.bulk_create(plans, batch_size=1000)
