"""Pages of competitors and sales plans: the product comparison (COMP-1), win/loss per competitor
(COMP-2), the lost-order analysis (SAL-11), plan vs actual and the plan grid (SAL-7)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.catalog.models import Product
from crm.core.access.levels import Scope
from crm.core.access.scope import can, get_for_user_or_404, scope_level, subtree_ids
from crm.org.models import Department

from . import competitor_reports, plans
from .models import CompetitorProduct, PlanPeriod
from .plan_metrics import all_metrics, metric
from .views import _need, _owner_choice


# --- Competitors ------------------------------------------------------------------------------

@login_required
def product_compare(request, pk):
    """One of our products next to its competitor products (COMP-1)."""
    _need(request.user, "products")
    product = get_for_user_or_404(request.user, Product, pk)
    data = competitor_reports.comparison(request.user, product)
    return render(request, "sales/competitor_compare.html", {"data": data, "product": product})


@login_required
def competitor_product_compare(request, pk):
    """From a competitor product: the comparison with the product of ours it competes with."""
    _need(request.user, "competitor-products")
    theirs = get_for_user_or_404(request.user, CompetitorProduct, pk)
    if theirs.our_product_id is None:
        messages.info(request, _("Choose the product of ours it competes with first."))
        return redirect("competitor-products-detail", pk=theirs.pk)
    return redirect("sales-product-compare", pk=theirs.our_product_id)


def _departments(user):
    return Department.objects.for_user(user).order_by("path").only("id", "name", "depth")[:500]


@login_required
def competitor_analysis(request):
    _need(request.user, "opportunities")
    _need(request.user, "competitors")
    data = competitor_reports.win_loss(request.user, request.GET)
    chart = {"periods": data["periods"],
             "competitors": [{"name": r["name"], "won": [s["won_count"] for s in data["series"].get(r["competitor_id"], [])],
                              "lost": [s["lost_count"] for s in data["series"].get(r["competitor_id"], [])]}
                             for r in data["rows"][:10]]}
    return render(request, "sales/competitor_analysis.html", {
        "data": data, "chart": chart, "f": data["filters"], "owner_choice": _owner_choice(request.GET),
        "departments": _departments(request.user)})


@login_required
def lost_analysis(request):
    _need(request.user, "opportunities")
    data = competitor_reports.lost_orders(request.user, request.GET)
    chart = {key: [{"name": r["name"], "count": r["count"], "amount": str(r["amount"])} for r in data[key][:15]]
             for key in ("by_reason", "by_competitor", "by_owner", "by_product")}
    return render(request, "sales/lost_analysis.html", {
        "data": data, "chart": chart, "f": data["filters"], "owner_choice": _owner_choice(request.GET),
        "departments": _departments(request.user)})


# --- Plans ------------------------------------------------------------------------------------

def _int(raw):
    return int(raw) if raw and str(raw).isdigit() else None


@login_required
def plan_actual(request):
    _need(request.user, "sales-plans")
    kind, start = plans.parse_period(request.GET.get("period"), request.GET.get("start"))
    metric_key = request.GET.get("metric") if metric(request.GET.get("metric") or "") else "won_amount"
    try:
        data = plans.plan_vs_actual(request.user, metric_key, kind, start, _int(request.GET.get("department")))
    except PermissionDenied:
        raise Http404
    year = start.year
    choices = [(p, plans.period_label(kind, p)) for y in (year - 1, year, year + 1) for p in plans.periods_of_year(kind, y)]
    return render(request, "sales/plan_actual.html", {
        "data": data, "chart": plans.chart_data(data), "metrics": all_metrics(), "metric_key": metric_key,
        "kind": kind, "start": start, "period_choices": choices, "kinds": PlanPeriod.choices,
        "can_grid": can(request.user, "sales-plans", "create"),
    })


def _grid_departments(user):
    level = scope_level(user, "sales-plans", "create")
    qs = Department.objects.order_by("path")
    if level >= Scope.ALL:
        return list(qs)
    if level >= Scope.SUBTREE:
        return list(qs.filter(pk__in=subtree_ids(user)))
    if level >= Scope.DEPARTMENT:
        return list(qs.filter(pk=user.department_id))
    return []


@login_required
def plan_grid(request):
    """A year of monthly (or quarterly) targets for the people of a department, in one form."""
    _need(request.user, "sales-plans", "create")
    departments = _grid_departments(request.user)
    if not departments:
        raise PermissionDenied(_("You may not manage the plans of a department."))
    src = request.POST if request.method == "POST" else request.GET
    dept_id = _int(src.get("department"))
    department = next((d for d in departments if d.pk == dept_id), None)
    if dept_id is not None and department is None:
        raise Http404
    department = department or next((d for d in departments if d.pk == request.user.department_id), departments[0])
    kind = src.get("period") if src.get("period") in (PlanPeriod.MONTH, PlanPeriod.QUARTER) else PlanPeriod.MONTH
    year = _int(src.get("year")) or timezone.localdate().year
    if not 2000 <= year <= 2100:
        year = timezone.localdate().year
    metric_key = src.get("metric") if metric(src.get("metric") or "") else "won_amount"
    people = plans.grid_people(department)
    periods = plans.periods_of_year(kind, year)
    existing = plans.grid_plans(request.user, department, metric_key, kind, year)
    errors, values, status = {}, {}, 200
    if request.method == "POST":
        cells = {}
        for u in people:
            for p in periods:
                key = f"{u.pk}_{p.isoformat()}"
                raw = request.POST.get(f"t_{key}", "")
                values[key] = raw
                try:
                    cells[(u.pk, p)] = plans.parse_amount(raw)
                except ValidationError as exc:
                    errors[key] = exc.messages
        if not errors:
            try:
                counts = plans.save_grid(request.user, department, metric_key, kind, year, cells)
            except ValidationError as exc:
                errors = exc.message_dict
            else:
                messages.success(request, _("Plans saved: %(created)d new, %(updated)d changed, %(deleted)d removed.")
                                 % counts)
                return redirect(f"{request.path}?department={department.pk}&year={year}&period={kind}"
                                f"&metric={metric_key}")
        status = 400
    else:
        for (emp, p), plan in existing.items():
            values[f"{emp}_{p.isoformat()}"] = f"{plan.target:f}"
    rows = [{"user": u, "cells": [{"key": f"{u.pk}_{p.isoformat()}", "value": values.get(f"{u.pk}_{p.isoformat()}", ""),
                                   "errors": errors.get(f"{u.pk}_{p.isoformat()}", [])} for p in periods]}
            for u in people]
    return render(request, "sales/plan_grid.html", {
        "department": department, "departments": departments, "year": year, "kind": kind, "kinds": PlanPeriod.choices,
        "metric_key": metric_key, "metrics": all_metrics(), "periods": [(p, plans.period_label(kind, p)) for p in periods],
        "rows": rows, "has_errors": bool(errors),
    }, status=status)
