"""Sales plans and quotas (SAL-7): the metric registry, actuals from won opportunities, the roll-up
employee → department → company, what each user may see and manage, the grid entry in one
transaction, the plan-vs-actual page and API, and bad input (negative target, wrong period start,
duplicate plan, a target outside the writer's scope) answered at its field with nothing written."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm.core.audit.models import AuditEntry
from crm.core.entities import services as kernel
from crm.core.testing.clients import api_as, browser
from crm.core.testing.org import Scope, make_user
from crm.customers.models import Customer
from crm.sales import plan_metrics, plans, services
from crm.sales.models import Opportunity, SalesPlan
from crm.sales.testing import make_pipeline, open_stages

pytestmark = pytest.mark.django_db
VIEW = {("employees", "view"): Scope.ALL, ("departments", "view"): Scope.ALL, ("pipelines", "view"): Scope.ALL,
        ("pipeline-stages", "view"): Scope.ALL}
TODAY = timezone.localdate()
MONTH = TODAY.replace(day=1)
YEAR = datetime.date(TODAY.year, 1, 1)


def person(name, dept, opp_scope=Scope.OWN, plan_scope=Scope.OWN, manage=False):
    grants = {**VIEW, "opportunities": opp_scope, "customers": opp_scope,
              ("sales-plans", "view"): plan_scope, ("sales-plans", "export"): plan_scope}
    if manage:
        grants.update({("sales-plans", a): plan_scope for a in ("create", "edit", "delete")})
    return make_user(name, dept, grants)


@pytest.fixture
def org(depts):
    p = {
        "rep1": person("rep1", depts["sales1"]),
        "rep2": person("rep2", depts["sales1"]),
        "rep3": person("rep3", depts["sales1a"]),
        "far": person("far", depts["guangzhou"]),
        "manager": person("manager", depts["shanghai"], Scope.SUBTREE, Scope.SUBTREE, manage=True),
        "head": person("head", depts["hq"], Scope.ALL, Scope.ALL, manage=True),
    }
    p["depts"] = depts
    p["pipeline"] = make_pipeline("Standard", default=True)
    return p


def won(owner, pipeline, amount, when=None):
    customer = Customer.objects.create(name=f"C{Customer.objects.count()}", owner=owner, department=owner.department)
    o = kernel.create(owner, Opportunity, {
        "name": f"O{amount}", "customer": customer, "pipeline": pipeline, "stage": open_stages(pipeline)[0],
        "amount": Decimal(amount), "expected_close_date": TODAY + datetime.timedelta(days=10)})
    o = services.win(owner, o.pk, o.version)
    if when is not None:
        Opportunity.objects.filter(pk=o.pk).update(closed_at=when)
    return o


@pytest.fixture
def sales(org):
    """Won this month: rep1 1000 + 2000, rep2 500, rep3 (Sales1A) 700, far (Guangzhou) 9999;
    rep1 also won 8000 last year (outside every period here)."""
    pipe = org["pipeline"]
    for who, amount in (("rep1", "1000"), ("rep1", "2000"), ("rep2", "500"), ("rep3", "700"), ("far", "9999")):
        won(org[who], pipe, amount)
    won(org["rep1"], pipe, "8000", when=timezone.now() - datetime.timedelta(days=400))
    return org


def plan(user, **data):
    data.setdefault("period_kind", "month")
    data.setdefault("period_start", MONTH)
    data.setdefault("metric", "won_amount")
    return kernel.create(user, SalesPlan, data)


@pytest.fixture
def targets(sales):
    """Monthly targets: rep1 2500, rep2 1000, rep3 1000 (Sales1 and Sales1A have none: rolled up);
    Shanghai has its own 10000."""
    head = sales["head"]
    for who, target in (("rep1", "2500"), ("rep2", "1000"), ("rep3", "1000")):
        plan(head, scope="employee", employee=sales[who], target=Decimal(target))
    plan(head, scope="department", department=sales["depts"]["shanghai"], target=Decimal("10000"))
    return sales


def rows(data):
    return {r["name"]: r for r in data["rows"]}


# --- Actuals and roll-up ------------------------------------------------------------------------------

def test_metrics_count_won_opportunities_in_the_period(sales):
    end = plans.period_end("month", MONTH)
    amount = plan_metrics.metric("won_amount").actual(sales["head"], MONTH, end, "owner")
    assert amount[sales["rep1"].pk] == Decimal("3000.00") and amount[sales["far"].pk] == Decimal("9999.00")
    count = plan_metrics.metric("won_count").actual(sales["head"], MONTH, end, "owner")
    assert count[sales["rep1"].pk] == 2
    # Read through the scope: a rep's actuals are their own opportunities only.
    assert set(plan_metrics.metric("won_amount").actual(sales["rep1"], MONTH, end, "owner")) == {sales["rep1"].pk}


def test_plan_vs_actual_rolls_employees_up_into_departments(targets):
    data = plans.plan_vs_actual(targets["manager"], "won_amount", "month", MONTH, targets["depts"]["sales1"].pk)
    head = data["head"]
    assert (head["target"], head["actual"], head["rolled_up"]) == (Decimal("4500"), Decimal("4200.00"), True)
    assert (head["completion"], head["gap"]) == (93.3, Decimal("300.00"))
    r = rows(data)
    assert (r["Sales1A"]["target"], r["Sales1A"]["actual"], r["Sales1A"]["completion"]) == (
        Decimal("1000"), Decimal("700.00"), 70.0)
    assert (r["Rep1"]["target"], r["Rep1"]["actual"], r["Rep1"]["completion"], r["Rep1"]["gap"]) == (
        Decimal("2500"), Decimal("3000.00"), 120.0, Decimal("-500.00"))
    assert (r["Rep2"]["completion"], r["Rep2"]["gap"]) == (50.0, Decimal("500.00"))
    # The manager's own department: Shanghai's own plan wins over the sum below it.
    top = plans.plan_vs_actual(targets["manager"], "won_amount", "month", MONTH)
    assert (top["head"]["name"], top["head"]["target"], top["head"]["rolled_up"]) == ("Shanghai", Decimal("10000"),
                                                                                   False)
    assert rows(top)["Sales1"]["target"] == Decimal("4500") and rows(top)["Sales1"]["rolled_up"] is True


def test_the_company_view_and_what_each_user_sees(targets):
    company = plans.plan_vs_actual(targets["head"], "won_amount", "month", MONTH)
    assert company["head"]["kind"] == "company"
    assert (company["head"]["target"], company["head"]["actual"]) == (Decimal("10000"), Decimal("14199.00"))
    assert [r["name"] for r in company["rows"]] == ["Hq"]
    mine = plans.plan_vs_actual(targets["rep1"], "won_amount", "month", MONTH)
    assert (mine["head"]["name"], mine["head"]["target"], mine["head"]["actual"], mine["rows"]) == (
        "Rep1", Decimal("2500"), Decimal("3000.00"), [])
    with pytest.raises(PermissionDenied):  # a manager may not drill into another branch
        plans.plan_vs_actual(targets["manager"], "won_amount", "month", MONTH, targets["depts"]["guangzhou"].pk)


def test_a_team_lead_with_the_own_department_sees_its_people_not_the_sub_department(targets):
    lead = person("lead", targets["depts"]["sales1"], Scope.DEPARTMENT, Scope.DEPARTMENT)
    data = plans.plan_vs_actual(lead, "won_amount", "month", MONTH)
    assert data["head"]["name"] == "Sales1" and set(rows(data)) == {"Lead", "Rep1", "Rep2"}
    assert data["head"]["actual"] == Decimal("3500.00")  # Sales1A's 700 is outside the lead's scope
    with pytest.raises(PermissionDenied):
        plans.plan_vs_actual(lead, "won_amount", "month", MONTH, targets["depts"]["sales1a"].pk)


def test_a_year_without_a_yearly_plan_sums_its_months(targets):
    head, rep1 = targets["head"], targets["rep1"]
    other = MONTH.replace(month=1 if MONTH.month != 1 else 2)
    plan(head, scope="employee", employee=rep1, period_start=other, target=Decimal("1500"))
    year = plans.plan_vs_actual(head, "won_amount", "year", YEAR, targets["depts"]["sales1"].pk)
    assert rows(year)["Rep1"]["target"] == Decimal("4000")
    plan(head, scope="employee", employee=rep1, period_kind="year", period_start=YEAR, target=Decimal("30000"))
    year = plans.plan_vs_actual(head, "won_amount", "year", YEAR, targets["depts"]["sales1"].pk)
    assert rows(year)["Rep1"]["target"] == Decimal("30000")  # the yearly plan itself
    assert rows(year)["Rep1"]["actual"] == Decimal("3000.00")  # last year's 8000 is not this year's


def test_a_metric_registered_later_works_through_the_same_call(targets):
    """Orders, collections and margin will register like this when their modules land."""
    def fixed(user, start, end, by):
        return {targets["rep1"].pk: Decimal("42")} if by == "owner" else {targets["rep1"].department_id: Decimal("42")}

    plan_metrics.register_plan_metric("test_collections", "Collections (test)", fixed)
    try:
        plan(targets["head"], scope="employee", employee=targets["rep1"], metric="test_collections",
             target=Decimal("84"))
        data = plans.plan_vs_actual(targets["head"], "test_collections", "month", MONTH, targets["depts"]["sales1"].pk)
        assert (rows(data)["Rep1"]["actual"], rows(data)["Rep1"]["completion"]) == (Decimal("42"), 50.0)
    finally:
        plan_metrics._metrics.pop("test_collections")


# --- Pages and API ----------------------------------------------------------------------------------

def test_plan_vs_actual_page_with_chart_and_drill_down(targets):
    c = browser(targets["manager"])
    page = c.get(reverse("sales-plan-actual"), {"period": "month", "start": MONTH.isoformat()})
    html = page.content.decode()
    assert page.status_code == 200 and 'id="plan-data"' in html and "echarts" in html
    assert f'?metric=won_amount&amp;period=month&amp;start={MONTH.isoformat()}&amp;department=' \
           f'{targets["depts"]["sales1"].pk}' in html
    drilled = c.get(reverse("sales-plan-actual"), {"department": targets["depts"]["sales1"].pk}).content.decode()
    assert 'data-name="Rep1"' in drilled and "120.0%" in drilled and "93.3%" in drilled
    far = c.get(reverse("sales-plan-actual"), {"department": targets["depts"]["guangzhou"].pk})
    assert far.status_code == 404
    assert browser(make_user("noplans", targets["depts"]["sales1"])).get(reverse("sales-plan-actual")).status_code == 403


def test_plan_vs_actual_api(targets):
    data = api_as(targets["manager"]).get("/api/v1/plan-vs-actual/", {
        "department": targets["depts"]["sales1"].pk, "period": "month", "start": MONTH.isoformat()}).json()
    assert (Decimal(data["head"]["target"]), Decimal(data["head"]["actual"]), data["head"]["rolled_up"]) == (
        Decimal("4500"), Decimal("4200"), True)
    rep1 = next(r for r in data["rows"] if r["name"] == "Rep1")
    assert (rep1["completion"], Decimal(rep1["gap"])) == (120.0, Decimal("-500"))
    mine = api_as(targets["rep1"]).get("/api/v1/plan-vs-actual/").json()
    assert mine["head"]["name"] == "Rep1" and mine["rows"] == []
    bad = api_as(targets["manager"]).get("/api/v1/plan-vs-actual/", {"metric": "zzz"})
    assert bad.status_code == 400 and "metric" in bad.json()["error"]["fields"]
    assert api_as(targets["manager"]).get("/api/v1/plan-vs-actual/",
                                          {"department": targets["depts"]["guangzhou"].pk}).status_code == 404
    metrics = api_as(targets["rep1"]).get("/api/v1/plan-metrics/").json()
    assert {m["key"] for m in metrics} >= {"won_amount", "won_count"}


def test_the_plan_vs_actual_page_runs_as_many_queries_with_more_rows(targets):
    c = browser(targets["head"])
    url = reverse("sales-plan-actual")
    params = {"department": targets["depts"]["sales1"].pk}

    def count():
        c.get(url, params)  # warm: configuration reloads once after a change (crm.core.versions)
        with CaptureQueriesContext(connection) as ctx:
            assert c.get(url, params).status_code == 200
        return len(ctx.captured_queries)

    before = count()
    for i in range(4):
        extra = person(f"extra{i}", targets["depts"]["sales1"])
        won(extra, targets["pipeline"], "100")
        plan(targets["head"], scope="employee", employee=extra, target=Decimal("200"))
    assert count() == before


def test_a_rep_sees_own_plans_and_a_manager_the_subtree_in_the_list(targets):
    listed = {r["employee"] for r in api_as(targets["rep1"]).get("/api/v1/sales-plans/").json()["results"]}
    assert listed == {targets["rep1"].pk}
    manager = {(r["scope"], r["employee"] or r["department"])
               for r in api_as(targets["manager"]).get("/api/v1/sales-plans/").json()["results"]}
    assert ("employee", targets["rep3"].pk) in manager and ("department", targets["depts"]["shanghai"].pk) in manager


# --- Bad input --------------------------------------------------------------------------------------

def test_bad_plans_are_refused_at_their_field_and_nothing_is_written(targets):
    api = api_as(targets["manager"])
    rep2 = targets["rep2"].pk
    before = (SalesPlan.objects.count(), AuditEntry.objects.count())
    cases = [
        ({"target": "-1"}, "target"),
        ({"period_start": MONTH.replace(day=15).isoformat()}, "period_start"),
        ({"period_kind": "quarter", "period_start": datetime.date(TODAY.year, 2, 1).isoformat()}, "period_start"),
        ({"period_kind": "year", "period_start": datetime.date(TODAY.year, 4, 1).isoformat()}, "period_start"),
        ({"period_start": MONTH.isoformat()}, "period_start"),  # rep2 already has this month's plan
        ({"metric": "zzz"}, "metric"),
        ({"employee": targets["far"].pk}, "employee"),  # outside the manager's subtree
        ({"scope": "company", "employee": None}, "scope"),  # only the "all" scope sets the company's
        ({"scope": "department", "employee": None, "department": targets["depts"]["south"].pk}, "department"),
        ({"scope": "department", "employee": None}, "department"),
    ]
    for change, field in cases:
        payload = {"scope": "employee", "employee": rep2, "period_kind": "month",
                   "period_start": MONTH.replace(year=MONTH.year + 1).isoformat(), "metric": "won_amount",
                   "target": "100.00", **change}
        response = api.post("/api/v1/sales-plans/", payload, format="json")
        assert response.status_code == 400, change
        assert field in response.json()["error"]["fields"], (change, response.json())
    assert (SalesPlan.objects.count(), AuditEntry.objects.count()) == before
    form = browser(targets["manager"]).post(reverse("sales-plans-create"), {
        "scope": "employee", "employee": rep2, "period_kind": "month", "period_start": MONTH.isoformat(),
        "metric": "won_amount", "target": "-5"})
    assert form.status_code == 400 and "A target cannot be negative." in form.content.decode()
    assert SalesPlan.objects.count() == before[0]


def test_a_rep_without_the_plan_permission_cannot_write_plans(targets):
    api = api_as(targets["rep1"])
    response = api.post("/api/v1/sales-plans/", {"scope": "employee", "employee": targets["rep1"].pk,
                                                 "period_kind": "month", "period_start": MONTH.isoformat(),
                                                 "metric": "won_count", "target": "3"}, format="json")
    assert response.status_code == 403
    mine = SalesPlan.objects.get(employee=targets["rep1"], metric="won_amount")
    assert api.patch(f"/api/v1/sales-plans/{mine.pk}/", {"target": "1", "version": mine.version},
                     format="json").status_code == 403
    assert browser(targets["rep1"]).get(reverse("sales-plan-grid")).status_code == 403


def test_a_manager_moving_a_plan_out_of_the_subtree_is_refused(targets):
    mine = SalesPlan.objects.get(employee=targets["rep2"], metric="won_amount")
    response = api_as(targets["manager"]).patch(f"/api/v1/sales-plans/{mine.pk}/", {
        "employee": targets["far"].pk, "version": mine.version}, format="json")
    assert response.status_code == 400 and "employee" in response.json()["error"]["fields"]
    mine.refresh_from_db()
    assert mine.employee == targets["rep2"]


# --- The grid -----------------------------------------------------------------------------------------

def grid_post(user, dept, values, year=TODAY.year, kind="month"):
    data = {"department": dept.pk, "year": year, "period": kind, "metric": "won_amount"}
    data.update({f"t_{emp.pk}_{start.isoformat()}": v for (emp, start), v in values.items()})
    return browser(user).post(reverse("sales-plan-grid"), data)


def test_the_grid_saves_a_year_for_a_department_in_one_go(org):
    manager, sales1 = org["manager"], org["depts"]["sales1"]
    page = browser(manager).get(reverse("sales-plan-grid"), {"department": sales1.pk, "year": 2031})
    html = page.content.decode()
    assert page.status_code == 200 and 'data-employee="rep1"' in html and 'data-employee="rep2"' in html
    assert 'data-employee="rep3"' not in html  # Sales1A has its own grid
    months = plans.periods_of_year("month", 2031)
    values = {(org["rep1"], m): "1000" for m in months}
    values.update({(org["rep2"], m): "2,000.50" for m in months[:6]})
    response = grid_post(manager, sales1, values, year=2031)
    assert response.status_code == 302
    saved = SalesPlan.objects.filter(period_start__year=2031)
    assert saved.count() == 18 and saved.filter(employee=org["rep2"], target=Decimal("2000.50")).count() == 6
    assert AuditEntry.objects.filter(action=AuditEntry.Action.CREATE).count() >= 18
    year = plans.plan_vs_actual(manager, "won_amount", "year", datetime.date(2031, 1, 1), sales1.pk)
    assert year["head"]["target"] == Decimal("12000") + Decimal("12003.00")
    # Change one cell, empty another: one update, one removal; the rest stays.
    values[(org["rep1"], months[0])] = "1500"
    values[(org["rep1"], months[1])] = ""
    assert grid_post(manager, sales1, values, year=2031).status_code == 302
    assert SalesPlan.objects.get(employee=org["rep1"], period_start=months[0]).target == Decimal("1500")
    assert not SalesPlan.objects.filter(employee=org["rep1"], period_start=months[1]).exists()
    assert saved.count() == 17


def test_a_bad_cell_saves_nothing_and_is_marked(org):
    manager, sales1 = org["manager"], org["depts"]["sales1"]
    months = plans.periods_of_year("quarter", 2032)
    values = {(org["rep1"], m): "500" for m in months}
    values[(org["rep2"], months[2])] = "-10"
    values[(org["rep2"], months[3])] = "abc"
    response = grid_post(manager, sales1, values, year=2032, kind="quarter")
    html = response.content.decode()
    assert response.status_code == 400 and "A target cannot be negative." in html and "Enter a number." in html
    assert 'value="abc"' in html and 'value="500"' in html  # what was typed stays in the form
    assert not SalesPlan.objects.filter(period_start__year=2032).exists()


def test_the_grid_of_a_department_outside_the_scope_is_404(org):
    response = browser(org["manager"]).get(reverse("sales-plan-grid"), {"department": org["depts"]["guangzhou"].pk})
    assert response.status_code == 404
    response = grid_post(org["manager"], org["depts"]["guangzhou"], {(org["far"], MONTH): "100"})
    assert response.status_code == 404 and not SalesPlan.objects.exists()
