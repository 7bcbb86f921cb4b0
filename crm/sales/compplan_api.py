"""API of the competitor analyses (COMP-1, COMP-2, SAL-11) and of plan vs actual (SAL-7). The
plans, competitors, their products and opportunity links have the registry's CRUD endpoints
(/api/v1/sales-plans/, /api/v1/competitors/, …); these answer the computed views of the pages."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.catalog.models import Product
from crm.core.access.scope import can, get_for_user_or_404
from crm.core.api.viewsets import ERRORS

from . import competitor_reports, plans
from .plan_metrics import all_metrics, metric

FILTERS = [
    OpenApiParameter("closed_from", str, required=False, description="First closing day (YYYY-MM-DD); default: "
                     "the first day of the month a year before `closed_to`."),
    OpenApiParameter("closed_to", str, required=False, description="Last closing day (YYYY-MM-DD); default: today."),
    OpenApiParameter("grain", str, enum=["month", "quarter"], required=False),
    OpenApiParameter("owner", int, required=False),
    OpenApiParameter("department", int, required=False),
]
MONEY = {"max_digits": 20, "decimal_places": 2}


def _need(user, key, action="view"):
    if not can(user, key, action):
        raise PermissionDenied


class FiltersOut(serializers.Serializer):
    closed_from = serializers.DateField()
    closed_to = serializers.DateField()
    grain = serializers.CharField()
    owner = serializers.IntegerField(allow_null=True)
    department = serializers.IntegerField(allow_null=True)


class WinLossCounts(serializers.Serializer):
    won_count = serializers.IntegerField()
    won_amount = serializers.DecimalField(**MONEY)
    lost_count = serializers.IntegerField(help_text="Lost opportunities the competitor was in (listed or lost to).")
    lost_amount = serializers.DecimalField(**MONEY)
    lost_to_count = serializers.IntegerField(help_text="Opportunities lost to this competitor.")
    lost_to_amount = serializers.DecimalField(**MONEY)
    win_rate = serializers.FloatField(allow_null=True, help_text="Won / (won + lost) in %, when involved.")


class WinLossPeriod(WinLossCounts):
    period = serializers.CharField(help_text="YYYY-MM or YYYY Qn")


class WinLossRow(WinLossCounts):
    competitor_id = serializers.IntegerField()
    name = serializers.CharField()
    periods = WinLossPeriod(many=True)


class WinLossOut(serializers.Serializer):
    filters = FiltersOut()
    periods = serializers.ListField(child=serializers.CharField())
    rows = WinLossRow(many=True)


class GroupRow(serializers.Serializer):
    id = serializers.CharField(allow_null=True, help_text="The reason code, competitor, owner or product id.")
    name = serializers.CharField()
    count = serializers.IntegerField()
    amount = serializers.DecimalField(**MONEY)


class LostSummary(serializers.Serializer):
    lost_count = serializers.IntegerField()
    lost_amount = serializers.DecimalField(**MONEY)
    won_count = serializers.IntegerField()
    loss_rate = serializers.FloatField(allow_null=True)


class LostOut(serializers.Serializer):
    filters = FiltersOut()
    summary = LostSummary()
    by_reason = GroupRow(many=True)
    by_competitor = GroupRow(many=True)
    by_owner = GroupRow(many=True)
    by_product = GroupRow(many=True, help_text="Count: lost opportunities with the product; amount: its line amounts.")


class CompetitorAnalysisView(APIView):
    @extend_schema(tags=["competitors"], operation_id="competitors_win_loss", parameters=FILTERS,
                   responses={200: WinLossOut, **ERRORS},
                   description="Win/loss per competitor you may see, over the closing period, in total and per "
                               "month or quarter (COMP-2). Opportunities are read through your data scope.")
    def get(self, request):
        _need(request.user, "opportunities")
        _need(request.user, "competitors")
        data = competitor_reports.win_loss(request.user, request.query_params)
        rows = [{**r, "periods": data["series"].get(r["competitor_id"], [])} for r in data["rows"]]
        return Response(WinLossOut({"filters": data["filters"], "periods": data["periods"], "rows": rows}).data)


def _group(rows, key):
    return [{"id": None if r.get(key) is None else str(r[key]), "name": str(r["name"]), "count": r["count"],
             "amount": r["amount"]} for r in rows]


class LostAnalysisView(APIView):
    @extend_schema(tags=["opportunities"], operation_id="opportunities_lost_analysis", parameters=FILTERS,
                   responses={200: LostOut, **ERRORS},
                   description="Lost-order analysis (SAL-11): lost opportunities closed in the period by reason, "
                               "competitor lost to, owner and product.")
    def get(self, request):
        _need(request.user, "opportunities")
        d = competitor_reports.lost_orders(request.user, request.query_params)
        return Response(LostOut({
            "filters": d["filters"], "summary": d["summary"], "by_reason": _group(d["by_reason"], "code"),
            "by_competitor": _group(d["by_competitor"], "competitor_id"), "by_owner": _group(d["by_owner"], "owner_id"),
            "by_product": _group(d["by_product"], "product_id")}).data)


class ComparedProduct(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    competitor = serializers.CharField(allow_null=True)
    competitor_id = serializers.IntegerField(allow_null=True)
    specification = serializers.CharField()
    price = serializers.DecimalField(max_digits=16, decimal_places=4, allow_null=True)
    currency = serializers.CharField()
    cost = serializers.DecimalField(max_digits=16, decimal_places=4, required=False,
                                    help_text="Our cost: only with the special permission see_cost.")
    use = serializers.CharField()
    performance = serializers.CharField()
    strengths = serializers.CharField()
    weaknesses = serializers.CharField()
    attributes = serializers.DictField(child=serializers.CharField())


class ComparisonOut(serializers.Serializer):
    ours = ComparedProduct()
    theirs = ComparedProduct(many=True)
    attribute_names = serializers.ListField(child=serializers.CharField())


def _product_out(p, show_cost):
    out = {"id": p.pk, "name": p.name, "competitor": None, "competitor_id": None, "specification": p.specification,
           "price": p.list_price, "currency": "CNY", "use": "", "performance": "", "strengths": "", "weaknesses": "",
           "attributes": p.attributes or {}}
    if show_cost:
        out["cost"] = p.cost
    return out


class ComparisonView(APIView):
    @extend_schema(tags=["products"], operation_id="products_competitor_comparison",
                   responses={200: ComparisonOut, **ERRORS},
                   description="Our product next to the competitor products that compete with it (COMP-1). "
                               "Our cost is left out without the special permission see_cost.")
    def get(self, request, pk):
        _need(request.user, "products")
        product = get_for_user_or_404(request.user, Product, pk)
        d = competitor_reports.comparison(request.user, product)
        theirs = [{"id": p.pk, "name": p.name, "competitor": p.competitor.name, "competitor_id": p.competitor_id,
                   "specification": p.specification, "price": p.price, "currency": p.currency, "use": p.use,
                   "performance": p.performance, "strengths": p.strengths, "weaknesses": p.weaknesses,
                   "attributes": p.attributes or {}} for p in d["theirs"]]
        return Response(ComparisonOut({"ours": _product_out(product, d["show_cost"]), "theirs": theirs,
                                       "attribute_names": d["attribute_names"]}).data)


class PlanRow(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["employee", "department", "company"])
    id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    target = serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True)
    actual = serializers.DecimalField(max_digits=20, decimal_places=2)
    gap = serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True,
                                   help_text="Target minus actual (negative: above target).")
    completion = serializers.FloatField(allow_null=True, help_text="Actual / target in %.")
    rolled_up = serializers.BooleanField(help_text="The target is the sum of the people's and sub-departments' plans.")


class PlanActualOut(serializers.Serializer):
    metric = serializers.CharField()
    period = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField(help_text="The first day after the period.")
    department = serializers.IntegerField(allow_null=True)
    head = PlanRow()
    rows = PlanRow(many=True)


class PlanMetricOut(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    money = serializers.BooleanField()


class PlanActualView(APIView):
    @extend_schema(tags=["sales-plans"], operation_id="sales_plans_vs_actual", parameters=[
        OpenApiParameter("metric", str, required=False, description="A key of /api/v1/plan-metrics/ "
                                                                    "(default won_amount)"),
        OpenApiParameter("period", str, enum=["month", "quarter", "year"], required=False),
        OpenApiParameter("start", str, required=False, description="The period's first day (default: the current)"),
        OpenApiParameter("department", int, required=False, description="Drill into a department"),
    ], responses={200: PlanActualOut, **ERRORS},
        description="Plan vs actual (SAL-7): target, actual, completion and gap for the company or a department "
                    "and its sub-departments and people, limited to the plans and opportunities you may see.")
    def get(self, request):
        _need(request.user, "sales-plans")
        qp = request.query_params
        metric_key = qp.get("metric") or "won_amount"
        if metric(metric_key) is None:
            from rest_framework.exceptions import ValidationError

            raise ValidationError({"metric": [_("Unknown metric.")]})
        kind, start = plans.parse_period(qp.get("period"), qp.get("start"))
        dept = qp.get("department")
        try:
            d = plans.plan_vs_actual(request.user, metric_key, kind, start,
                                     int(dept) if dept and dept.isdigit() else None)
        except PermissionDenied:
            raise Http404
        clean = [{**r, "name": str(r["name"])} for r in [d["head"], *d["rows"]]]
        return Response(PlanActualOut({
            "metric": metric_key, "period": kind, "start": d["start"], "end": d["end"],
            "department": d["department"].pk if d["department"] else None, "head": clean[0], "rows": clean[1:],
        }).data)


class PlanMetricsView(APIView):
    @extend_schema(tags=["sales-plans"], operation_id="sales_plans_metrics", responses={200: PlanMetricOut(many=True)},
                   description="The metrics a plan can measure (the plan metric registry).")
    def get(self, request):
        return Response(PlanMetricOut([{"key": m.key, "label": str(m.label), "money": m.money}
                                       for m in all_metrics()], many=True).data)
