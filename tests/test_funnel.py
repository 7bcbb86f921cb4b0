"""The funnel and forecast (SAL-3) against hand-computed numbers: by stage, by expected close
month, roll-up by owner and department, stage conversion rates, average days in stage, and the
data scope (a rep's funnel holds only their own opportunities). On PostgreSQL the page reads the
summary the database triggers keep (`funnel_summary`), or, when the scope or a filter needs the
records, the visible opportunities once (`reports.figures_one_pass`); both must equal the plain
ORM's figures (`reports.figures`, SQLite's path) for scoped users, shares, territories, filters
and after every kind of write."""

import datetime
from contextlib import contextmanager
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
from crm.sales import funnel_summary, reports, services
from crm.sales.models import FunnelCell, Opportunity, Stage, StageHistory
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


@contextmanager
def team_members_see_their_deals(user):
    """A further visibility rule, as territories and pools add to other entities: an opportunity's
    team members see it (registered for the block, `user`'s cached grants dropped)."""
    def shared(user, model, action):
        if model is Opportunity and action == "view":
            return Q(pk__in=Opportunity.team_members.through.objects.filter(user=user).values("opportunity"))
        return None

    scope.register_visibility(shared)
    scope.forget_grants(user)
    try:
        yield
    finally:
        scope._visibility_rules.remove(shared)


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
    world["o"][3].team_members.add(world["bob"])
    with team_members_see_their_deals(world["bob"]):
        fig = both_paths(world["bob"], world["pipeline"])
    assert fig["owner"] == {world["bob"].pk: {"n": 1, "total": Decimal("600.00"), "weighted": Decimal("60.00")},
                            world["alice"].pk: {"n": 1, "total": Decimal("4000.00"), "weighted": Decimal("3200.00")}}
    assert fig["days"][world["stages"][1].pk]["n"] == 1  # alice's deal's stay in Propose


@one_pass
def test_the_funnel_page_reads_the_summary_and_a_name_search_the_opportunities_once(world, territories):
    browser_ = browser(world["boss"])
    url = reverse("sales-funnel")
    with CaptureQueriesContext(connection) as queries:
        page = browser_.get(url, {"pipeline": world["pipeline"].pk})
    assert page.status_code == 200 and "4,360.00" in page.content.decode()
    sql = [q["sql"] for q in queries.captured_queries]
    assert not [q for q in sql if '"sales_opportunity"' in q]
    assert len([q for q in sql if '"sales_funnelcell"' in q]) == 1
    with CaptureQueriesContext(connection) as queries:
        page = browser_.get(url, {"pipeline": world["pipeline"].pk, "q": "O4"})
    reading = [q["sql"] for q in queries.captured_queries if '"sales_opportunity"' in q["sql"]]
    assert page.status_code == 200 and len(reading) == 1 and "GROUPING SETS" in reading[0]


# --- The summary the triggers keep (PostgreSQL) ---------------------------------------------------

def summary_equals_plain(user, pipeline, params=None):
    params = params or {}
    fast = funnel_summary.figures(user, pipeline, params)
    assert fast is not None, params
    assert fast == reports.figures(reports.filtered(user, pipeline, params), pipeline), params
    return fast


@one_pass
def test_the_summary_equals_the_plain_orm_for_every_scope_and_filter(world, territories):
    boss, alice, bob = world["boss"], world["alice"], world["bob"]
    pipeline, m1, m2 = world["pipeline"], *world["months"]
    fig = summary_equals_plain(boss, pipeline)
    assert fig["territory"][territories["sh"].pk]["n"] == 2 and fig["days"][world["stages"][0].pk]["n"] == 4
    assert summary_equals_plain(bob, pipeline)["owner"].keys() == {bob.pk}
    assert summary_equals_plain(alice, pipeline)["owner"].keys() == {alice.pk}
    last_of_m1 = (m1.replace(day=28) + datetime.timedelta(days=4)).replace(day=1) - datetime.timedelta(days=1)
    for params in ({"owner": str(alice.pk)}, {"department": str(world["depts"]["sales1a"].pk)},
                   {"close_from": m2.replace(day=1).isoformat()}, {"close_to": last_of_m1.isoformat()},
                   {"territory": str(territories["east"].pk)}, {"owner": "x", "close_from": "not a date"}):
        summary_equals_plain(boss, pipeline, params)
    assert not any(summary_equals_plain(boss, make_pipeline("Empty")).values())
    nobody = make_user("nobody", world["depts"]["sales1"], {})
    assert not any(summary_equals_plain(nobody, pipeline).values())


@one_pass
def test_the_summary_declines_what_it_cannot_answer(world):
    """A name search, a close date inside a month and a scope rule that reads the records (a share)
    go to the opportunities: the summary answers None and the page's figures stay right."""
    boss, bob, pipeline = world["boss"], world["bob"], world["pipeline"]
    for params in ({"q": "O4"}, {"close_to": world["months"][0].isoformat()},
                   {"close_from": world["months"][1].isoformat()}):
        assert funnel_summary.figures(boss, pipeline, params) is None
    world["o"][3].team_members.add(bob)
    with team_members_see_their_deals(bob):
        assert scope.scope_q_on(bob, Opportunity, "view", funnel_summary.SCOPE_COLUMNS) is None
        assert funnel_summary.figures(bob, pipeline, {}) is None
        data = reports.funnel(bob, pipeline, {})
    assert data["summary"]["open_count"] == 2  # bob's own and the one alice shared


@one_pass
def test_every_kind_of_write_keeps_the_summary_equal_to_the_data(world, territories, admin):
    """Services, queryset updates and deletes, a customer's territory, a stage's probability, the
    recycle bin, another pipeline: after each, the summary gives the plain path's figures; merging
    its deltas changes nothing but the number of rows."""
    boss, alice, bob, pipeline = world["boss"], world["alice"], world["bob"], world["pipeline"]
    s1, s2, s3 = world["stages"]
    o, m2 = world["o"], world["months"][1]

    def check():
        summary_equals_plain(boss, pipeline)
        summary_equals_plain(bob, pipeline)
        summary_equals_plain(boss, pipeline, {"territory": str(territories["east"].pk)})

    def fresh(no):
        return Opportunity.objects.get(pk=o[no].pk)

    services.move_stage(alice, o[1].pk, s3.pk, fresh(1).version)
    check()
    services.win(alice, o[2].pk, fresh(2).version)
    services.lose(alice, o[3].pk, fresh(3).version, "price")
    check()
    kernel.update(alice, Opportunity, o[1].pk, {"amount": Decimal("1234.56"), "probability": 37,
                                                 "expected_close_date": m2}, expected_version=fresh(1).version)
    check()
    kernel.transfer(admin, Opportunity, [o[1].pk, o[6].pk], bob)
    check()
    Opportunity.objects.filter(pk=o[6].pk).update(amount=Decimal("999.99"), owner=alice, department=alice.department)
    check()
    Customer.objects.filter(pk=o[6].customer_id).update(territory=territories["sh"])  # moves its deals' figures
    Customer.objects.filter(pk=o[1].customer_id).update(territory=None)
    check()
    Opportunity.objects.filter(pk=o[4].pk).update(customer=o[1].customer)
    check()
    Stage.objects.filter(pk=s1.pk).update(probability=25)  # weighted of deals without their own probability
    check()
    StageHistory.objects.filter(opportunity=o[3].pk, stage=s1).update(seconds=9 * DAY)
    StageHistory.objects.filter(opportunity=o[2].pk).delete()
    check()
    kernel.delete(alice, Opportunity, o[5].pk)
    check()
    kernel.restore(admin, Opportunity, o[5].pk)
    check()
    other = make_pipeline("Other2")
    Opportunity.objects.filter(pk=o[4].pk).update(pipeline=other, stage=open_stages(other)[0])
    check()
    Opportunity.all_objects.filter(pk=o[3].pk).delete()
    check()
    before = summary_equals_plain(boss, pipeline)
    rows = FunnelCell.objects.count()
    merged = funnel_summary.compact()
    assert FunnelCell.objects.count() == merged["sales_funnelcell"] < rows
    assert summary_equals_plain(boss, pipeline) == before
    funnel_summary.rebuild()
    assert summary_equals_plain(boss, pipeline) == before


@one_pass
def test_the_periodic_job_merges_the_summarys_deltas(world):
    from crm.core.jobs.schedule import PERIODIC
    from crm.sales.tasks import compact_funnel_summary

    assert "sales-funnel-compact" in PERIODIC
    services.move_stage(world["alice"], world["o"][1].pk, world["stages"][1].pk,
                        Opportunity.objects.get(pk=world["o"][1].pk).version)
    rows = FunnelCell.objects.count()
    compact_funnel_summary.call()
    assert FunnelCell.objects.count() < rows
    summary_equals_plain(world["boss"], world["pipeline"])
