"""The funnel and forecast (SAL-3) against hand-computed numbers: by stage, by expected close
month, roll-up by owner and department, stage conversion rates, average days in stage, and the
data scope (a rep's funnel holds only their own opportunities). On PostgreSQL the page reads the
visible opportunities once (`reports.figures_one_pass`); its figures must equal the plain ORM's
(`reports.figures`, SQLite's path) for scoped users, shares, territories and filters."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.core.access import scope
from crm.core.entities import services as kernel
from crm.core.testing.clients import browser
from crm.core.testing.org import Scope, make_user
from crm.customers.models import Customer
from crm.sales import reports, services
from crm.sales.models import Opportunity, StageHistory
from crm.sales.testing import make_pipeline, open_stages

pytestmark = pytest.mark.django_db
SALES = ("opportunities", "customers", "contacts")
DAY = 86400


def month(offset):
    today = datetime.date.today().replace(day=15)
    y, m = divmod(today.month - 1 + offset, 12)
    return datetime.date(today.year + y, m + 1, 15)


@pytest.fixture
def world(depts):
    alice = make_user("alice", depts["sales1"], {k: Scope.OWN for k in SALES})
    bob = make_user("bob", depts["sales1a"], {k: Scope.OWN for k in SALES})
    boss = make_user("boss", depts["shanghai"], {k: Scope.SUBTREE for k in SALES})
    pipeline = make_pipeline("Standard", stages=(("Qualify", 10), ("Propose", 50), ("Negotiate", 80)))
    s1, s2, s3 = open_stages(pipeline)
    m1, m2 = month(1), month(2)

    def opp(owner, amount, close, path, lost_reason=None):
        customer = Customer.objects.create(name=f"C{Customer.objects.count()}", owner=owner,
                                           department=owner.department)
        o = kernel.create(owner, Opportunity, {"name": f"O{amount}", "customer": customer, "pipeline": pipeline,
                                               "stage": s1, "amount": Decimal(amount), "expected_close_date": close})
        for stage in path:
            if stage == "won":
                o = services.win(owner, o.pk, o.version)
            elif stage == "lost":
                o = services.lose(owner, o.pk, o.version, lost_reason)
            else:
                o = services.move_stage(owner, o.pk, stage.pk, o.version)
        return o

    o = {
        1: opp(alice, "1000", m1, []),
        2: opp(alice, "2000", m1, [s2]),
        3: opp(alice, "4000", m2, [s2, s3]),
        4: opp(alice, "5000", m2, [s2, "won"]),
        5: opp(alice, "3000", m1, ["lost"], "price"),
        6: opp(bob, "600", m2, []),
    }
    # Time spent in each stage, as if the moves had happened days apart.
    for opp_no, stage, days in ((2, s1, 1), (3, s1, 2), (4, s1, 3), (5, s1, 4), (3, s2, 2), (4, s2, 4)):
        StageHistory.objects.filter(opportunity=o[opp_no], stage=stage).update(seconds=days * DAY)
    return {"alice": alice, "bob": bob, "boss": boss, "pipeline": pipeline, "stages": (s1, s2, s3), "o": o,
            "months": (m1, m2), "depts": depts}


def by_name(rows, key="stage"):
    return {r[key].name: r for r in rows}


def test_funnel_by_stage_and_summary(world):
    data = reports.funnel(world["boss"], world["pipeline"], {})
    stages = by_name(data["by_stage"])
    assert (stages["Qualify"]["count"], stages["Qualify"]["total"], stages["Qualify"]["weighted"]) == (
        2, Decimal("1600.00"), Decimal("160.00"))
    assert (stages["Propose"]["count"], stages["Propose"]["total"], stages["Propose"]["weighted"]) == (
        1, Decimal("2000.00"), Decimal("1000.00"))
    assert (stages["Negotiate"]["count"], stages["Negotiate"]["total"], stages["Negotiate"]["weighted"]) == (
        1, Decimal("4000.00"), Decimal("3200.00"))
    assert (stages["Won"]["count"], stages["Won"]["total"]) == (1, Decimal("5000.00"))
    assert (stages["Lost"]["count"], stages["Lost"]["weighted"]) == (1, Decimal("0.00"))
    s = data["summary"]
    assert (s["open_count"], s["open_total"], s["open_weighted"]) == (4, Decimal("7600.00"), Decimal("4360.00"))
    assert (s["won_count"], s["lost_count"], s["win_rate"]) == (1, 1, 50.0)


def test_forecast_by_expected_close_month(world):
    m1, m2 = world["months"]
    data = reports.funnel(world["boss"], world["pipeline"], {})
    rows = [(r["month"], r["count"], r["total"], r["weighted"]) for r in data["by_month"]]
    assert rows == [
        (m1.replace(day=1), 2, Decimal("3000.00"), Decimal("1100.00")),  # open only: the lost one is not forecast
        (m2.replace(day=1), 2, Decimal("4600.00"), Decimal("3260.00")),
    ]
    only_m2 = reports.funnel(world["boss"], world["pipeline"], {"close_from": m2.replace(day=1).isoformat()})
    assert only_m2["summary"]["open_total"] == Decimal("4600.00")


def test_roll_up_by_owner_and_department(world):
    data = reports.funnel(world["boss"], world["pipeline"], {})
    owners = {r["owner_id"]: (r["count"], r["total"], r["weighted"]) for r in data["by_owner"]}
    assert owners == {world["alice"].pk: (3, Decimal("7000.00"), Decimal("4300.00")),
                      world["bob"].pk: (1, Decimal("600.00"), Decimal("60.00"))}
    depts = {r["department_id"]: r["weighted"] for r in data["by_department"]}
    assert depts == {world["depts"]["sales1"].pk: Decimal("4300.00"), world["depts"]["sales1a"].pk: Decimal("60.00")}


def test_conversion_rates_and_days_in_stage(world):
    data = reports.funnel(world["boss"], world["pipeline"], {})
    conv = by_name(data["conversion"])
    # Reached: Qualify 6, Propose 3 (2, 3, 4), Negotiate 2 (3, 4 went past it to won), Won 1.
    assert [(name, conv[name]["reached"], conv[name]["rate"]) for name in ("Qualify", "Propose", "Negotiate", "Won")] == [
        ("Qualify", 6, 50.0), ("Propose", 3, 66.7), ("Negotiate", 2, 50.0), ("Won", 1, None)]
    days = by_name(data["days_in_stage"])
    assert (days["Qualify"]["days"], days["Qualify"]["stays"]) == (2.5, 4)
    assert (days["Propose"]["days"], days["Propose"]["stays"]) == (3.0, 2)
    assert days["Negotiate"]["days"] is None


def test_a_reps_funnel_holds_only_own_opportunities(world):
    data = reports.funnel(world["bob"], world["pipeline"], {})
    assert data["summary"]["open_count"] == 1 and data["summary"]["open_total"] == Decimal("600.00")
    assert [r["owner_id"] for r in data["by_owner"]] == [world["bob"].pk]
    assert by_name(data["conversion"])["Qualify"]["reached"] == 1
    assert all(d["stays"] == 0 for d in data["days_in_stage"])
    page = browser(world["bob"]).get(reverse("sales-funnel"), {"pipeline": world["pipeline"].pk})
    assert page.status_code == 200
    html = page.content.decode()
    assert "600.00" in html and "4,300.00" not in html and "7,000.00" not in html


def test_funnel_page_has_charts_and_tables(world):
    page = browser(world["boss"]).get(reverse("sales-funnel"), {"pipeline": world["pipeline"].pk})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="funnel-data" type="application/json"' in html  # data for the chart script, not inline code
    assert "vendor/echarts/echarts.min.js" in html and "sales/funnel.js" in html
    assert 'data-testid="chart-funnel"' in html and 'data-testid="table-conversion"' in html
    assert "4,360.00" in html and "66.7%" in html
    chart = page.context["chart"]
    assert [s["name"] for s in chart["stages"]] == ["Qualify", "Propose", "Negotiate"]
    assert chart["stages"][0]["total"] == "1600.00"


# --- One pass on PostgreSQL ---------------------------------------------------------------------

one_pass = pytest.mark.skipif(connection.vendor != "postgresql", reason="GROUPING SETS: PostgreSQL's path")


def both_paths(user, pipeline, params=None):
    qs = reports.filtered(user, pipeline, params or {})
    plain, fast = reports.figures(qs, pipeline), reports.figures_one_pass(qs, pipeline)
    assert fast == plain
    return fast


@pytest.fixture
def territories(world, admin):
    """Customers of the world's opportunities in territories: alice's first two in 上海 (under
    华东), the third in 江苏 (its own root), bob's in none; plus a binned opportunity and one of
    another pipeline in 上海, which no figure may count."""
    from crm.org.models import Territory

    east = kernel.create(admin, Territory, {"name": "华东", "code": "EAST"})
    sh = kernel.create(admin, Territory, {"name": "上海", "code": "SH", "parent": east})
    js = kernel.create(admin, Territory, {"name": "江苏", "code": "JS"})
    o = world["o"]
    for no, territory in ((1, sh), (2, sh), (3, js)):
        Customer.objects.filter(pk=o[no].customer_id).update(territory=territory, territory_fixed=True)
    alice, s1 = world["alice"], world["stages"][0]
    binned = kernel.create(alice, Opportunity, {"name": "Binned", "customer": o[1].customer, "pipeline": world["pipeline"],
                                                "stage": s1, "amount": Decimal("70000"),
                                                "expected_close_date": world["months"][0]})
    kernel.delete(alice, Opportunity, binned.pk)
    other = make_pipeline("Other")
    kernel.create(alice, Opportunity, {"name": "Elsewhere", "customer": o[1].customer, "pipeline": other,
                                       "stage": open_stages(other)[0], "amount": Decimal("90000"),
                                       "expected_close_date": world["months"][0]})
    return {"east": east, "sh": sh, "js": js}


@one_pass
def test_one_pass_equals_the_plain_orm_for_every_scope_and_filter(world, territories):
    boss, alice, bob = world["boss"], world["alice"], world["bob"]
    pipeline, m1, m2 = world["pipeline"], *world["months"]
    fig = both_paths(boss, pipeline)
    assert fig["territory"][territories["sh"].pk]["n"] == 2 and fig["territory"][None]["n"] == 1  # bob's
    assert fig["stage"] and fig["days"] and fig["reached"]
    assert both_paths(bob, pipeline)["owner"].keys() == {bob.pk}
    assert both_paths(alice, pipeline)["owner"].keys() == {alice.pk}
    for params in ({"owner": str(alice.pk)}, {"department": str(world["depts"]["sales1a"].pk)},
                   {"close_from": m2.replace(day=1).isoformat()}, {"close_to": m1.isoformat()},
                   {"territory": str(territories["east"].pk)}, {"q": "O4"}, {"q": "nothing like it"}):
        both_paths(boss, pipeline, params)
    nothing = both_paths(boss, make_pipeline("Empty"))
    assert not any(nothing.values())


@one_pass
def test_one_pass_follows_every_rule_of_the_scope_predicate(world):
    """A further visibility rule (as territories and pools add to other entities) shows bob the
    opportunity alice shared with him: both paths count it, since both read `for_user`'s SQL."""
    alice_deal = world["o"][3]
    alice_deal.team_members.add(world["bob"])

    def shared(user, model, action):
        if model is Opportunity and action == "view":
            return Q(pk__in=Opportunity.team_members.through.objects.filter(user=user).values("opportunity"))
        return None

    scope.register_visibility(shared)
    try:
        scope.forget_grants(world["bob"])
        fig = both_paths(world["bob"], world["pipeline"])
    finally:
        scope._visibility_rules.remove(shared)
    assert fig["owner"] == {world["bob"].pk: {"n": 1, "total": Decimal("600.00"), "weighted": Decimal("60.00")},
                            world["alice"].pk: {"n": 1, "total": Decimal("4000.00"), "weighted": Decimal("3200.00")}}
    assert fig["days"][world["stages"][1].pk]["n"] == 1  # alice's deal's stay in Propose


@one_pass
def test_the_funnel_page_reads_the_opportunities_once(world, territories):
    with CaptureQueriesContext(connection) as queries:
        page = browser(world["boss"]).get(reverse("sales-funnel"), {"pipeline": world["pipeline"].pk})
    assert page.status_code == 200 and "4,360.00" in page.content.decode()
    reading = [q["sql"] for q in queries.captured_queries if '"sales_opportunity"' in q["sql"]]
    assert len(reading) == 1 and "GROUPING SETS" in reading[0]
