"""Test data for the generated test kit (see crm/core/testing/kit.py)."""

import datetime
from decimal import Decimal

from crm.core.testing.kit import EntityTestData, unique
from crm.customers.testing import CustomerTestData

from .models import (
    Lead, LeadAssignmentRule, LeadScoringRule, LeadWebForm, Opportunity, OpportunityProduct, Pipeline, Stage, StageKind,
    StageTaskTemplate,
)


def make_pipeline(name=None, stages=(("Qualify", 10), ("Propose", 50), ("Negotiate", 80)), default=False):
    """A pipeline with open stages (name, probability) ordered 10, 20, …, plus a won and a lost stage."""
    pipeline = Pipeline.objects.create(name=name or unique("pipe"), is_default=default)
    for i, (stage_name, probability) in enumerate(stages, start=1):
        Stage.objects.create(pipeline=pipeline, name=stage_name, order=i * 10, probability=probability)
    Stage.objects.create(pipeline=pipeline, name="Won", order=900, probability=100, kind=StageKind.WON)
    Stage.objects.create(pipeline=pipeline, name="Lost", order=910, probability=0, kind=StageKind.LOST)
    return pipeline


def open_stages(pipeline):
    return list(pipeline.stages.filter(kind=StageKind.OPEN).order_by("order"))


def shared_pipeline():
    return Pipeline.objects.filter(name="Kit pipeline").first() or make_pipeline("Kit pipeline")


class LeadTestData(EntityTestData):
    def make(self, owner, department, **fields):
        fields.setdefault("name", unique("lead"))
        return Lead.objects.create(owner=owner, department=department, **fields)

    def create_payload(self, ctx):
        return {"name": unique("lead"), "company": "Kit Co", "mobile": "13712345678", "source": "website",
                "campaign_code": "KIT-1", "tags": ["kit"]}


class OpportunityTestData(EntityTestData):
    def make(self, owner, department, **fields):
        pipeline = fields.pop("pipeline", None) or shared_pipeline()
        fields.setdefault("name", unique("opp"))
        fields.setdefault("customer", CustomerTestData(self.spec).make(owner, department))
        fields.setdefault("stage", open_stages(pipeline)[0])
        fields.setdefault("amount", Decimal("1000"))
        fields.setdefault("expected_close_date", datetime.date.today() + datetime.timedelta(days=30))
        return Opportunity.objects.create(owner=owner, department=department, pipeline=pipeline, **fields)

    def create_payload(self, ctx):
        pipeline = shared_pipeline()
        customer = CustomerTestData(self.spec).make(ctx.user, ctx.user.department)
        return {"name": unique("opp"), "customer": customer.pk, "pipeline": pipeline.pk,
                "stage": open_stages(pipeline)[0].pk, "amount": "25000.00",
                "expected_close_date": (datetime.date.today() + datetime.timedelta(days=60)).isoformat(),
                "next_step": "Call", "tags": ["kit"]}


class OpportunityProductTestData(EntityTestData):
    lookup_field = "remark"

    def make(self, owner, department, **fields):
        from crm.catalog.testing import ProductTestData

        fields.setdefault("opportunity", OpportunityTestData(self.spec).make(owner, department))
        fields.setdefault("product", ProductTestData(self.spec).make(owner, department))
        fields.setdefault("quantity", Decimal("2"))
        fields.setdefault("unit_price", Decimal("50"))
        fields.setdefault("remark", unique("line"))
        return OpportunityProduct.objects.create(**fields)

    def create_payload(self, ctx):
        from crm.catalog.testing import ProductTestData

        opp = OpportunityTestData(self.spec).make(ctx.user, ctx.user.department)
        product = ProductTestData(self.spec).make(ctx.user, ctx.user.department)
        return {"opportunity": opp.pk, "product": product.pk, "quantity": "3.000", "unit_price": "12.50",
                "remark": unique("line")}

    def edit_payload(self, obj):
        return {"remark": f"{obj.remark} edited"}


class PipelineTestData(EntityTestData):
    def make(self, owner, department, **fields):
        fields.setdefault("name", unique("pipe"))
        return Pipeline.objects.create(**fields)

    def create_payload(self, ctx):
        return {"name": unique("pipe"), "sort_order": 5}


class StageTestData(EntityTestData):
    def make(self, owner, department, **fields):
        fields.setdefault("pipeline", shared_pipeline())
        fields.setdefault("name", unique("stage"))
        fields.setdefault("order", 500)
        return Stage.objects.create(**fields)

    def create_payload(self, ctx):
        return {"pipeline": shared_pipeline().pk, "name": unique("stage"), "order": 40, "probability": 60,
                "kind": "open"}


class StageTaskTemplateTestData(EntityTestData):
    lookup_field = "title"

    def make(self, owner, department, **fields):
        fields.setdefault("stage", open_stages(shared_pipeline())[0])
        fields.setdefault("title", unique("task"))
        return StageTaskTemplate.objects.create(**fields)

    def create_payload(self, ctx):
        return {"stage": open_stages(shared_pipeline())[0].pk, "title": unique("task"), "due_in_days": 2}

    def edit_payload(self, obj):
        return {"title": f"{obj.title} edited"}


class LeadAssignmentRuleTestData(EntityTestData):
    def make(self, owner, department, **fields):
        fields.setdefault("name", unique("rule"))
        return LeadAssignmentRule.objects.create(**fields)

    def create_payload(self, ctx):
        return {"name": unique("rule"), "priority": 10, "is_active": True, "method": "round_robin",
                "team": ctx.depts["sales1"].pk}


class LeadWebFormTestData(EntityTestData):
    def make(self, owner, department, **fields):
        fields.setdefault("name", unique("form"))
        fields.setdefault("default_owner", owner)
        return LeadWebForm.objects.create(**fields)

    def create_payload(self, ctx):
        return {"name": unique("form"), "is_active": True, "source": "website", "campaign_code": "WEB",
                "default_owner": ctx.user.pk}


class LeadScoringRuleTestData(EntityTestData):
    def make(self, owner, department, **fields):
        fields.setdefault("name", unique("score"))
        fields.setdefault("field", "email")
        fields.setdefault("kind", "filled")
        return LeadScoringRule.objects.create(**fields)

    def create_payload(self, ctx):
        return {"name": unique("score"), "is_active": True, "kind": "equals", "field": "source",
                "value": "exhibition", "points": 20, "days": 30, "sort_order": 1}
# --- Competitors and plans (COMP-1, COMP-2, SAL-7) ----------------------------------------------

class CompetitorTestData(EntityTestData):
    def make(self, owner, department, **fields):
        from .models import Competitor

        fields.setdefault("name", unique("rival"))
        return Competitor.objects.create(owner=owner, department=department, **fields)

    def create_payload(self, ctx):
        return {"name": unique("rival"), "website": "https://rival.example.com", "status": "active",
                "competition_fields": "Servers", "strengths": "Price", "strategy": "Sell service", "tags": ["kit"]}


class CompetitorProductTestData(EntityTestData):
    def make(self, owner, department, **fields):
        from .models import CompetitorProduct

        fields.setdefault("competitor", CompetitorTestData(self.spec).make(owner, department))
        fields.setdefault("name", unique("rivalprod"))
        fields.setdefault("price", Decimal("99"))
        return CompetitorProduct.objects.create(**fields)

    def create_payload(self, ctx):
        competitor = CompetitorTestData(self.spec).make(ctx.user, ctx.user.department)
        return {"competitor": competitor.pk, "name": unique("rivalprod"), "use": "Office", "price": "120.0000",
                "currency": "CNY", "performance": "Fast"}


class OpportunityCompetitorTestData(EntityTestData):
    lookup_field = "notes"

    def make(self, owner, department, **fields):
        from .models import OpportunityCompetitor

        fields.setdefault("opportunity", OpportunityTestData(self.spec).make(owner, department))
        fields.setdefault("competitor", CompetitorTestData(self.spec).make(owner, department))
        fields.setdefault("notes", unique("threat"))
        return OpportunityCompetitor.objects.create(**fields)

    def create_payload(self, ctx):
        opp = OpportunityTestData(self.spec).make(ctx.user, ctx.user.department)
        competitor = CompetitorTestData(self.spec).make(ctx.user, ctx.user.department)
        return {"opportunity": opp.pk, "competitor": competitor.pk, "threat_level": "high", "notes": unique("threat")}

    def edit_payload(self, obj):
        return {"notes": f"{obj.notes} edited"}


_plan_months = iter(range(10_000))


def next_plan_month():
    """A month no other test plan uses (plans are unique per target, period and metric)."""
    n = next(_plan_months)
    return datetime.date(2000 + n // 12, n % 12 + 1, 1)


class SalesPlanTestData(EntityTestData):
    lookup_field = "notes"

    def make(self, owner, department, **fields):
        from .models import SalesPlan

        if owner is not None:
            fields.setdefault("scope", "employee")
            fields.setdefault("employee", owner)
        else:
            fields.setdefault("scope", "department")
        fields.setdefault("department", department)
        fields.setdefault("period_kind", "month")
        fields.setdefault("period_start", next_plan_month())
        fields.setdefault("metric", "won_amount")
        fields.setdefault("target", Decimal("1000"))
        fields.setdefault("notes", unique("plan"))
        return SalesPlan.objects.create(**fields)

    def create_payload(self, ctx):
        return {"scope": "employee", "employee": ctx.user.pk, "period_kind": "month",
                "period_start": next_plan_month().isoformat(), "metric": "won_amount", "target": "50000.00",
                "notes": unique("plan")}

    def edit_payload(self, obj):
        return {"notes": f"{obj.notes} edited"}
