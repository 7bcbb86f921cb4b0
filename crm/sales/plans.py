"""Sales plans and quotas (SAL-7): the metrics sales registers, the scope rule for writing plans,
plan-vs-actual with the roll-up employee → department → company, and the grid entry service.

Actuals come from the metric registry (`crm.sales.plan_metrics`); every read goes through the
scope predicate: plans through `SalesPlan.objects.for_user`, actuals through the metric's
`for_user` query (won opportunities: `Opportunity.objects.for_user`)."""

import datetime
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.core.access.levels import Scope
from crm.core.access.scope import scope_level, subtree_ids
from crm.core.entities import services
from crm.org.models import Department

from .models import Opportunity, OpportunityStatus, PlanPeriod, PlanScope, SalesPlan, is_period_start, period_end
from .plan_metrics import all_metrics, metric, register_plan_metric

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


# --- Metrics sales registers ------------------------------------------------------------------

def _aware(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _won(user, start, end):
    return Opportunity.objects.for_user(user).filter(status=OpportunityStatus.WON, closed_at__gte=_aware(start),
                                                     closed_at__lt=_aware(end))


def won_amount(user, start, end, by):
    rows = _won(user, start, end).values(by).annotate(v=Sum("amount")).values_list(by, "v")
    return {k: (v or ZERO).quantize(CENT) for k, v in rows}


def won_count(user, start, end, by):
    rows = _won(user, start, end).values(by).annotate(v=Count("pk")).values_list(by, "v")
    return {k: Decimal(v) for k, v in rows}


register_plan_metric("won_amount", gettext_lazy("Won amount"), won_amount)
register_plan_metric("won_count", gettext_lazy("Won opportunities (count)"), won_count, money=False)


# --- Who may plan what ------------------------------------------------------------------------

def _allowed_departments(user, level):
    if level >= Scope.SUBTREE:
        return set(subtree_ids(user))
    if level >= Scope.DEPARTMENT and user.department_id:
        return {user.department_id}
    return set()


def check_target_in_scope(user, plan):
    """Raise a field error when `plan` targets someone the writer may not plan for."""
    if user is None:
        return
    level = scope_level(user, "sales-plans", "edit" if plan.pk else "create")
    if level >= Scope.ALL:
        return
    allowed = _allowed_departments(user, level)
    if plan.scope == PlanScope.COMPANY:
        raise ValidationError({"scope": _("Only someone who manages every plan may set the company's plan.")})
    if plan.scope == PlanScope.EMPLOYEE:
        if plan.employee_id != user.pk and plan.department_id not in allowed:
            raise ValidationError({"employee": _("This employee is outside the plans you may manage.")})
    elif plan.department_id not in allowed:
        raise ValidationError({"department": _("This department is outside the plans you may manage.")})


# --- Periods ----------------------------------------------------------------------------------

def parse_period(kind, raw, today=None):
    """(kind, start) from request parameters; a bad value falls back to the current period."""
    today = today or timezone.localdate()
    kind = kind if kind in PlanPeriod.values else PlanPeriod.MONTH
    start = None
    try:
        start = datetime.date.fromisoformat(raw) if raw else None
    except ValueError:
        start = None
    if start is None or not is_period_start(kind, start):
        day = start or today
        month = {PlanPeriod.MONTH: day.month, PlanPeriod.QUARTER: (day.month - 1) // 3 * 3 + 1,
                 PlanPeriod.YEAR: 1}[kind]
        start = datetime.date(day.year, month, 1)
    return kind, start


def period_label(kind, start):
    return SalesPlan(period_kind=kind, period_start=start).period_label()


def periods_of_year(kind, year):
    step = {PlanPeriod.MONTH: 1, PlanPeriod.QUARTER: 3, PlanPeriod.YEAR: 12}[kind]
    return [datetime.date(year, m, 1) for m in range(1, 13, step)]


# --- Plan vs actual ---------------------------------------------------------------------------

def _target_index(plans, kind, start):
    """{(scope, id): target} for the period: a plan of that period, else the sum of the plans of
    the shorter periods inside it (quarters, else months), so a year entered month by month counts."""
    end = period_end(kind, start)
    found = {}
    for k in (PlanPeriod.MONTH, PlanPeriod.QUARTER, PlanPeriod.YEAR):
        if k == PlanPeriod.YEAR and kind != PlanPeriod.YEAR or k == PlanPeriod.QUARTER and kind == PlanPeriod.MONTH:
            continue
        layer = {}
        for p in plans:
            if p.period_kind == k and start <= p.period_start < end:
                key = (p.scope, p.employee_id if p.scope == PlanScope.EMPLOYEE else p.department_id)
                layer[key] = layer.get(key, ZERO) + p.target
        found.update(layer)  # the longer period's own plan wins over the sum of the shorter ones
    return found


def _row(kind, obj, name, target, actual, rolled_up=False, url=None):
    gap = (target - actual) if target is not None else None
    completion = round(float(actual / target * 100), 1) if target else None
    return {"kind": kind, "id": getattr(obj, "pk", None), "name": name, "target": target, "actual": actual,
            "gap": gap, "completion": completion, "rolled_up": rolled_up, "url": url}


def plan_vs_actual(user, metric_key, kind, start, department=None):
    """The plan-vs-actual table for one metric and period: a heading row (the company, or the
    department drilled into) and its rows — sub-departments and the department's own people —
    each with target, actual, completion % and gap. Limited to what the user may see: a rep sees
    their own line, a manager their department (subtree), the "all" scope the company."""
    m = metric(metric_key)
    if m is None:
        raise ValidationError({"metric": _("Unknown metric.")})
    level = scope_level(user, "sales-plans", "view")
    if level == Scope.NONE:
        raise PermissionDenied
    end = period_end(kind, start)
    plans = list(SalesPlan.objects.for_user(user).filter(
        metric=metric_key, period_start__gte=start, period_start__lt=end))
    targets = _target_index(plans, kind, start)
    by_owner = m.actual(user, start, end, "owner")
    by_dept = m.actual(user, start, end, "department")
    users = get_user_model().objects.filter(is_active=True).only("id", "name", "username", "department_id")

    if level == Scope.OWN or (level < Scope.ALL and not user.department_id):
        actual = by_owner.get(user.pk, ZERO)
        me = _row("employee", user, str(user), targets.get((PlanScope.EMPLOYEE, user.pk)), actual)
        return {"metric": m, "kind": kind, "start": start, "end": end, "head": me, "rows": [], "department": None,
                "parents": []}

    depts = list(Department.objects.order_by("path").only("id", "name", "path", "parent_id"))
    by_id = {d.pk: d for d in depts}
    allowed = None if level >= Scope.ALL else _allowed_departments(user, level)
    if department is not None and (department not in by_id or (allowed is not None and department not in allowed)):
        raise PermissionDenied
    if department is None and allowed is not None:
        department = user.department_id
    children = {}
    for d in depts:
        children.setdefault(d.parent_id, []).append(d)
    people = {}
    for u in users:
        people.setdefault(u.department_id, []).append(u)

    def subtree(d):
        return [x for x in depts if x.path.startswith(d.path)]

    def dept_actual(d):
        return sum((by_dept.get(x.pk, ZERO) for x in subtree(d)), ZERO)

    memo = {}

    def dept_target(d):
        """Its own plan, else the sum of its people's and its sub-departments' (roll-up)."""
        if d.pk in memo:
            return memo[d.pk]
        own = targets.get((PlanScope.DEPARTMENT, d.pk))
        if own is not None:
            memo[d.pk] = (own, False)
            return memo[d.pk]
        parts = [targets.get((PlanScope.EMPLOYEE, u.pk)) for u in people.get(d.pk, [])]
        parts += [dept_target(c)[0] for c in children.get(d.pk, [])]
        parts = [p for p in parts if p is not None]
        memo[d.pk] = (sum(parts, ZERO) if parts else None, True)
        return memo[d.pk]

    def dept_row(d):
        target, rolled = dept_target(d)
        return _row("department", d, d.name, target, dept_actual(d), rolled and target is not None,
                    url=f"?department={d.pk}")

    if department is None:
        roots = children.get(None, [])
        own = targets.get((PlanScope.COMPANY, None))
        rolled = [dept_target(r)[0] for r in roots]
        rolled = [t for t in rolled if t is not None]
        target = own if own is not None else (sum(rolled, ZERO) if rolled else None)
        head = _row("company", None, _("Company"), target, sum(by_dept.values(), ZERO),
                    own is None and target is not None)
        rows = [dept_row(r) for r in roots]
        parents = []
    else:
        d = by_id[department]
        head = dept_row(d)
        rows = [dept_row(c) for c in children.get(d.pk, []) if allowed is None or c.pk in allowed]
        rows += [_row("employee", u, str(u), targets.get((PlanScope.EMPLOYEE, u.pk)), by_owner.get(u.pk, ZERO))
                 for u in sorted(people.get(d.pk, []), key=lambda u: (u.name, u.pk))]
        parents = [by_id[int(p)] for p in d.path.strip("/").split("/")[:-1]
                   if p and int(p) in by_id and (allowed is None or int(p) in allowed)]
    return {"metric": m, "kind": kind, "start": start, "end": end, "head": head, "rows": rows,
            "department": by_id.get(department), "parents": parents}


def chart_data(data):
    """Bars target vs actual and a completion line, one point per row (strings for money)."""
    rows = data["rows"] or [data["head"]]
    return {"names": [r["name"] for r in rows],
            "target": [str(r["target"]) if r["target"] is not None else None for r in rows],
            "actual": [str(r["actual"]) for r in rows],
            "completion": [r["completion"] for r in rows]}


# --- Grid entry -------------------------------------------------------------------------------

def grid_people(department):
    return list(get_user_model().objects.filter(is_active=True, department=department).order_by("name", "pk"))


def grid_plans(user, department, metric_key, kind, year):
    """{(employee id, period start): plan} of the grid's people for the year."""
    qs = SalesPlan.objects.for_user(user).filter(
        scope=PlanScope.EMPLOYEE, employee__department=department, metric=metric_key, period_kind=kind,
        period_start__year=year)
    return {(p.employee_id, p.period_start): p for p in qs}


def parse_amount(raw):
    raw = (raw or "").strip().replace(",", "").replace("，", "")
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValidationError(_("Enter a number."))
    if not value.is_finite():
        raise ValidationError(_("Enter a number."))
    if value < 0:
        raise ValidationError(_("A target cannot be negative."))
    if value.as_tuple().exponent < -2 or abs(value) >= Decimal("1e16"):
        raise ValidationError(_("At most 16 digits and 2 decimals."))
    return value


@transaction.atomic
def save_grid(user, department, metric_key, kind, year, cells):
    """Save a year of targets for a department's people in one transaction (SAL-7).

    `cells`: {(employee id, period start): Decimal or None}; None removes an existing plan. Each
    write goes through the kernel services (scope, audit, events). Raises ValidationError with
    {"<employee id>_<period start>": [message]} and writes nothing when any cell is wrong."""
    existing = grid_plans(user, department, metric_key, kind, year)
    people = {u.pk: u for u in grid_people(department)}
    errors = {}
    counts = {"created": 0, "updated": 0, "deleted": 0}
    for (emp_id, start), value in sorted(cells.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        key = f"{emp_id}_{start.isoformat()}"
        if emp_id not in people:
            errors[key] = [_("This employee is not in the department.")]
            continue
        plan = existing.get((emp_id, start))
        try:
            with transaction.atomic():
                if value is None:
                    if plan is not None:
                        services.delete(user, SalesPlan, plan.pk)
                        counts["deleted"] += 1
                elif plan is None:
                    services.create(user, SalesPlan, {
                        "scope": PlanScope.EMPLOYEE, "employee": people[emp_id], "period_kind": kind,
                        "period_start": start, "metric": metric_key, "target": value})
                    counts["created"] += 1
                elif plan.target != value:
                    services.update(user, SalesPlan, plan.pk, {"target": value}, expected_version=plan.version)
                    counts["updated"] += 1
        except ValidationError as exc:
            msgs = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
            errors[key] = [m for ms in msgs.values() for m in ms]
        except PermissionDenied:
            errors[key] = [_("You may not manage this plan.")]
    if errors:
        raise ValidationError(errors)
    return counts


__all__ = ["all_metrics", "metric", "register_plan_metric", "plan_vs_actual", "save_grid"]
