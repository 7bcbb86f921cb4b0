"""Leads, opportunities and their stage history for the benchmark (LEAD-1, SAL-1..3): one lead per
customer and one opportunity per two customers (1 000 000 and 500 000 at "large"), owned like
their customer, in the default pipeline seeded by crm/sales/migrations; plus the kanban and
funnel scenarios' floors (the SQL a person would write, with the same scope)."""

import random
from datetime import timedelta

from crm.sales.models import Lead, Opportunity, Pipeline, Stage, StageHistory, StageKind

LEADS_PER_CUSTOMER = 1
OPPORTUNITY_SHARE = 0.5
MODELS = [Lead, Opportunity, StageHistory]
# Lead sources and statuses (codes of the seeded dictionary kinds).
SOURCES = ["website", "web_form", "exhibition", "campaign", "referral", "cold_call", "wechat"]
STATUSES = ["new", "new", "contacted", "qualified", "nurturing", "unqualified"]
AMOUNTS = [50_000, 80_000, 120_000, 200_000, 350_000, 500_000, 800_000, 1_200_000]

LEAD_FIELDS = ("id", "created_at", "updated_at", "created_by", "updated_by", "version", "owner", "department", "custom",
               "code", "name", "company", "mobile", "province", "city", "source", "campaign_code", "status", "score")
OPP_FIELDS = ("id", "created_at", "updated_at", "created_by", "updated_by", "version", "owner", "department", "custom",
              "code", "name", "customer", "pipeline", "stage", "amount", "start_date", "expected_close_date",
              "status", "lost_reason", "closed_at", "stage_entered_at", "reached_order")
HISTORY_FIELDS = ("id", "opportunity", "pipeline", "stage", "from_stage", "entered_at", "left_at", "seconds", "user")

# Indexes of the Customer tuple the generator writes (bench/generator.py CUSTOMER_FIELDS).
C_ID, C_CREATED, C_OWNER, C_DEPT, C_DELETED, C_NAME, C_PROVINCE, C_CITY = 0, 1, 6, 7, 9, 12, 29, 30


class SalesWriter:
    def __init__(self, now, seed):
        self.now, self.seed = now, seed
        self.pipeline = Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.order_by("pk").first()
        stages = list(Stage.objects.filter(pipeline=self.pipeline).order_by("order", "pk"))
        self.open = [s for s in stages if s.kind == StageKind.OPEN]
        self.won = next(s for s in stages if s.kind == StageKind.WON)
        self.lost = next(s for s in stages if s.kind == StageKind.LOST)

    def rows(self, index, customers, next_ids):
        rng = random.Random(f"{self.seed}:sales:{index}")
        leads, opps, history = [], [], []
        lead_id, opp_id, hist_id = next_ids["leads"], next_ids["opportunities"], next_ids["stage_history"]
        now = self.now
        for c in customers:
            if c[C_DELETED] is not None:
                continue
            owner, dept, created = c[C_OWNER], c[C_DEPT], c[C_CREATED]
            for _ in range(LEADS_PER_CUSTOMER):
                leads.append((lead_id, created, created, owner, owner, 1, owner, dept, "{}", f"XS{lead_id:08d}",
                              f"联系人{lead_id}", c[C_NAME], "", c[C_PROVINCE], c[C_CITY], rng.choice(SOURCES),
                              "", rng.choice(STATUSES), rng.randrange(101)))
                lead_id += 1
            if rng.random() >= OPPORTUNITY_SHARE:
                continue
            depth = rng.randrange(1, len(self.open) + 1)
            path = self.open[:depth]
            roll = rng.random()
            if roll < 0.15:
                path = path + [self.won]
            elif roll < 0.3:
                path = path + [self.lost]
            stage = path[-1]
            start = created + timedelta(days=rng.randrange(0, 60))
            if start > now:
                start = now
            at, stays = start, []
            for s in path:
                days = rng.randrange(1, 30)
                stays.append((s, at, days))
                at = at + timedelta(days=days)
            entered = min(stays[-1][1], now)
            closed = entered if stage.kind != StageKind.OPEN else None
            close_date = (now + timedelta(days=rng.randrange(-30, 240))).date()
            opps.append((opp_id, start, entered, owner, owner, 1 + len(path), owner, dept, "{}", f"SJ{opp_id:08d}",
                         f"{c[C_NAME]} 项目", c[C_ID], self.pipeline.pk, stage.pk, rng.choice(AMOUNTS), start.date(),
                         close_date, stage.kind, rng.choice(["price", "competitor", "no_budget"]) if stage == self.lost
                         else "", closed, entered, max(s.order for s in path if s.kind != StageKind.LOST)))
            for n, (s, at, days) in enumerate(stays):
                last = n == len(stays) - 1
                history.append((hist_id, opp_id, self.pipeline.pk, s.pk, stays[n - 1][0].pk if n else None, min(at, now),
                                None if last else min(at + timedelta(days=days), now), None if last else days * 86400,
                                owner))
                hist_id += 1
            opp_id += 1
        next_ids.update(leads=lead_id, opportunities=opp_id, stage_history=hist_id)
        return {Lead: leads, Opportunity: opps, StageHistory: history}


def layouts(columns_of):
    return {Lead: columns_of(Lead, LEAD_FIELDS), Opportunity: columns_of(Opportunity, OPP_FIELDS),
            StageHistory: columns_of(StageHistory, HISTORY_FIELDS)}


def first_ids():
    return {key: (manager.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
            for key, manager in (("leads", Lead.all_objects), ("opportunities", Opportunity.all_objects),
                                 ("stage_history", StageHistory.objects))}


# --- floors ------------------------------------------------------------------------------------

def _scope(alias, ctx):
    marks = ", ".join(["%s"] * len(ctx.departments))
    return f"({alias}.department_id IN ({marks}) OR {alias}.owner_id = %s)", [*ctx.departments, ctx.user.pk]


def _fetch(cursor, sql, params):
    cursor.execute(sql, params)
    return cursor.fetchall()


def kanban_floor(ctx, pipeline, stages, cards=100, owner=None, close=None):
    """Column totals (count, amount, weighted amount) in one GROUP BY, then each column's first
    cards by expected close date with customer and owner names; optionally one owner's cards
    expected to close between two dates (the board's filters)."""
    scope, params = _scope("o", ctx)
    board = (f"o.deleted_at IS NULL AND o.pipeline_id = %s AND {scope} "
             f"AND (o.status = 'open' OR o.closed_at >= %s)")
    since = ctx.now - timedelta(days=30)
    extra, extra_params = "", []
    if owner is not None:
        extra += " AND o.owner_id = %s"
        extra_params.append(owner)
    if close is not None:
        extra += " AND o.expected_close_date >= %s AND o.expected_close_date <= %s"
        extra_params += list(close)
    totals = f"""
        SELECT o.stage_id, COUNT(*), SUM(o.amount), SUM(o.amount * COALESCE(o.probability, s.probability) / 100)
        FROM sales_opportunity o JOIN sales_stage s ON s.id = o.stage_id
        WHERE {board}{extra} GROUP BY o.stage_id"""
    column = f"""
        SELECT o.id, o.name, o.amount, o.expected_close_date, o.version, c.name, u.name
        FROM sales_opportunity o JOIN customers_customer c ON c.id = o.customer_id
        LEFT JOIN org_user u ON u.id = o.owner_id
        WHERE {board}{extra} AND o.stage_id = %s ORDER BY o.expected_close_date, o.id LIMIT {cards}"""

    def run(cursor, i):
        rows = len(_fetch(cursor, totals, [pipeline, *params, since, *extra_params]))
        for stage in stages:
            rows += len(_fetch(cursor, column, [pipeline, *params, since, *extra_params, stage]))
        return rows

    return run


def funnel_floor(ctx, pipeline):
    """The funnel page's aggregates: by stage, by expected close month (open), by owner, by
    department and by the customer's territory (open), furthest stage reached, and the average
    time in stage from the history. On PostgreSQL one statement, as the page does it, over the
    summary the product's triggers keep (`crm.sales.funnel_summary`: figures pre-added per owner,
    department, territory, month and stage); on SQLite (no summary, no GROUPING SETS) one GROUP BY
    each over the opportunities and their history."""
    scope, params = _scope("o", ctx)
    tables = "FROM sales_opportunity o JOIN sales_stage s ON s.id = o.stage_id"
    where = f"WHERE o.deleted_at IS NULL AND o.pipeline_id = %s AND {scope}"
    base = f"{tables} {where}"
    weighted = "o.amount * COALESCE(o.probability, s.probability) / 100"
    if ctx.vendor == "postgresql":
        cells, cell_params = _scope("v", ctx)
        stays, stay_params = _scope("h", ctx)
        sql = f"""
            SELECT GROUPING(v.stage_id, v.month, v.owner_id, v.department_id, v.reached_order, v.territory_id),
                   v.status, v.stage_id, v.month, v.owner_id, v.department_id, v.reached_order, v.territory_id,
                   SUM(v.n), SUM(v.amount), SUM(v.weighted)
            FROM sales_funnelcell v WHERE v.pipeline_id = %s AND {cells}
            GROUP BY GROUPING SETS ((v.stage_id), (v.status, v.month), (v.status, v.owner_id), (v.status, v.department_id),
                                    (v.reached_order), (v.status, v.territory_id))
            HAVING SUM(v.n) <> 0
            UNION ALL
            SELECT -1, NULL, h.stage_id, NULL, NULL, NULL, NULL, NULL, SUM(h.n), SUM(h.seconds), NULL
            FROM sales_funnelstays h WHERE h.pipeline_id = %s AND {stays}
            GROUP BY h.stage_id HAVING SUM(h.n) <> 0"""

        def one(cursor, i):
            return len(_fetch(cursor, sql, [pipeline, *cell_params, pipeline, *stay_params]))

        return one
    month = "strftime('%%Y-%%m', o.expected_close_date)"
    sums = f"COUNT(*), SUM(o.amount), SUM({weighted})"
    queries = [
        f"SELECT o.stage_id, {sums} {base} GROUP BY o.stage_id",
        f"SELECT {month} AS m, {sums} {base} AND o.status = 'open' GROUP BY m ORDER BY m",
        f"SELECT o.owner_id, {sums} {base} AND o.status = 'open' GROUP BY o.owner_id ORDER BY 4 DESC LIMIT 50",
        f"SELECT o.department_id, {sums} {base} AND o.status = 'open' GROUP BY o.department_id ORDER BY 4 DESC LIMIT 50",
        f"SELECT c.territory_id, {sums} {tables} JOIN customers_customer c ON c.id = o.customer_id {where} "
        f"AND o.status = 'open' GROUP BY c.territory_id",
        f"SELECT o.reached_order, COUNT(*) {base} GROUP BY o.reached_order",
        f"""SELECT h.stage_id, AVG(h.seconds), COUNT(*) FROM sales_stagehistory h
            WHERE h.pipeline_id = %s AND h.seconds IS NOT NULL AND h.opportunity_id IN (SELECT o.id {base})
            GROUP BY h.stage_id""",
    ]

    def run(cursor, i):
        rows = 0
        for n, sql in enumerate(queries):
            args = [pipeline, *params] if n < len(queries) - 1 else [pipeline, pipeline, *params]
            rows += len(_fetch(cursor, sql, args))
        return rows

    return run


# --- scenarios ---------------------------------------------------------------------------------

def kanban_rows(response):
    return response.content.decode().count('data-testid="card-')


def funnel_rows(response):
    return response.content.decode().count("<tr")


def scenarios(ctx):
    """The pipeline kanban and the manager's funnel page, as the bench user (department subtree)."""
    from django.db.models import Count
    from django.utils import timezone

    from .scenarios import Request, Scenario

    pipeline = Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.order_by("pk").first()
    if pipeline is None:
        return []
    ctx.now = timezone.now()
    stages = list(Stage.objects.filter(pipeline=pipeline).order_by("order", "pk").values_list("pk", flat=True))
    visible = Opportunity.objects.for_user(ctx.user).filter(pipeline=pipeline)
    # DESIGN.md's kanban budget is for a board of 500 visible opportunities: the busiest sales
    # rep of the bench user's branch, expected to close in a window that holds about 500 of theirs.
    rep = (visible.exclude(owner=ctx.user).values("owner").annotate(n=Count("pk")).order_by("-n", "owner")
           .values_list("owner", "n").first())
    rep_scenarios = []
    if rep:
        today = ctx.now.date()
        dated = visible.filter(owner_id=rep[0], expected_close_date__gte=today).order_by("expected_close_date")
        last = dated.values_list("expected_close_date", flat=True)[499:500].first() or today + timedelta(days=365)
        window = (today, last)
        params = {"owner": str(rep[0]), "close_from": today.isoformat(), "close_to": last.isoformat()}
        shown = dated.filter(expected_close_date__lte=last).count()
        rep_scenarios.append(Scenario(
            "kanban", f"Pipeline kanban “{pipeline.name}”, one rep's opportunities closing by {last} "
            f"({shown} visible, ≤ 100 cards a column)", "kanban",
            [Request(f"/sales/board/{pipeline.pk}/", params)], kanban_rows,
            kanban_floor(ctx, pipeline.pk, stages, owner=rep[0], close=window)))
    return [
        *rep_scenarios,
        Scenario("kanban_all", f"Pipeline kanban “{pipeline.name}”, the whole board of the branch "
                 f"({visible.count()} visible opportunities, ≤ 100 cards a column)",
                 "info", [Request(f"/sales/board/{pipeline.pk}/")], kanban_rows,
                 kanban_floor(ctx, pipeline.pk, stages)),
        Scenario("funnel", "Manager dashboard: funnel and forecast (by stage, month, owner, department; conversion, "
                 "days in stage)", "dashboard", [Request("/sales/funnel/", {"pipeline": str(pipeline.pk)})],
                 funnel_rows, funnel_floor(ctx, pipeline.pk)),
    ]
