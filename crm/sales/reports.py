"""The pipeline board (kanban) and the funnel / forecast (SAL-2, SAL-3).

Everything is read through the scope predicate (`Opportunity.objects.for_user`) and aggregated in
SQL: a board is one GROUP BY for the column totals plus one short query per column for its cards;
the funnel is one statement on PostgreSQL (GROUPING SETS, `figures_one_pass`) and a handful of
GROUP BYs elsewhere, whatever the number of opportunities."""

import datetime
from decimal import Decimal

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from . import funnel_summary
from .models import Opportunity, OpportunityStatus, Stage, StageHistory, StageKind

CARDS_PER_COLUMN = 100
CLOSED_DAYS_ON_BOARD = 30  # won/lost columns show what closed recently
CENT = Decimal("0.01")
MONEY = DecimalField(max_digits=20, decimal_places=2)


def weighted_expr():
    probability = Coalesce("probability", "stage__probability")
    return ExpressionWrapper(F("amount") * probability / Value(Decimal(100)), output_field=MONEY)


def _money(value):
    return (value or Decimal(0)).quantize(CENT) if isinstance(value, Decimal) else Decimal(str(value or 0)).quantize(CENT)


def _totals(qs, *group):
    return qs.values(*group).annotate(n=Count("pk"), total=Coalesce(Sum("amount"), Value(Decimal(0)), output_field=MONEY),
                                      weighted=Coalesce(Sum(weighted_expr()), Value(Decimal(0)), output_field=MONEY))


def parse_date(raw):
    try:
        return datetime.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def narrowing(params):
    """The board's and the funnel's filters read from the query string (values that are not ids
    or dates are ignored): owner, department, territory (ids or None), q (text), close_from,
    close_to (dates or None)."""
    def number(key):
        value = params.get(key)
        return int(value) if value and str(value).isdigit() else None

    return {"owner": number("owner"), "department": number("department"), "territory": number("territory"),
            "q": (params.get("q") or "").strip(), "close_from": parse_date(params.get("close_from")),
            "close_to": parse_date(params.get("close_to"))}


def filtered(user, pipeline, params):
    """The opportunities of `pipeline` the user may see, narrowed by the board/funnel filters."""
    qs = Opportunity.objects.for_user(user).filter(pipeline=pipeline)
    f = narrowing(params)
    if f["owner"] is not None:
        qs = qs.filter(owner_id=f["owner"])
    if f["department"] is not None:
        qs = qs.filter(department_id=f["department"])
    if f["q"]:
        qs = qs.filter(name__icontains=f["q"])
    if f["territory"] is not None:  # SAL-9: the territory and its sub-territories
        qs = qs.filter(customer__territory__in=territory_subtree(f["territory"]))
    if f["close_from"]:
        qs = qs.filter(expected_close_date__gte=f["close_from"])
    if f["close_to"]:
        qs = qs.filter(expected_close_date__lte=f["close_to"])
    return qs


def _board_scope(qs):
    """Open opportunities, and those won or lost in the last days (the board's closed columns)."""
    since = timezone.now() - datetime.timedelta(days=CLOSED_DAYS_ON_BOARD)
    from django.db.models import Q

    return qs.filter(Q(status=OpportunityStatus.OPEN) | Q(closed_at__gte=since))


def column_totals(user, pipeline, params):
    """{stage id: {"count", "total", "weighted"}} for the board's columns."""
    rows = _totals(_board_scope(filtered(user, pipeline, params)), "stage")
    return {r["stage"]: {"count": r["n"], "total": _money(r["total"]), "weighted": _money(r["weighted"])} for r in rows}


def board(user, pipeline, params):
    stages = list(Stage.objects.filter(pipeline=pipeline).order_by("order", "pk"))
    # A board shows hundreds of cards: load the columns a card shows, not three whole rows each
    # (the benchmark's kanban: model instances were most of the page's time).
    base = (_board_scope(filtered(user, pipeline, params)).select_related("customer", "owner")
            .only("id", "version", "name", "amount", "expected_close_date", "stage_id", "customer__name",
                  "owner__name", "owner__username"))
    totals = column_totals(user, pipeline, params)
    columns = []
    for stage in stages:
        cards = list(base.filter(stage=stage).order_by("expected_close_date", "pk")[:CARDS_PER_COLUMN])
        t = totals.get(stage.pk, {"count": 0, "total": Decimal("0.00"), "weighted": Decimal("0.00")})
        columns.append({"stage": stage, "cards": cards, "more": t["count"] > len(cards), **t})
    return columns


def funnel(user, pipeline, params):
    """Counts, amounts and weighted amounts by stage and by expected close month, roll-ups by
    owner, department and territory, stage conversion rates and average days in stage (SAL-3)."""
    qs = filtered(user, pipeline, params)
    stages = list(Stage.objects.filter(pipeline=pipeline).order_by("order", "pk"))
    fig = funnel_summary.figures(user, pipeline, params)
    if fig is None:
        fig = figures_one_pass(qs, pipeline) if connection.vendor == "postgresql" else figures(qs, pipeline)

    by_stage = []
    for s in stages:
        r = fig["stage"].get(s.pk, {})
        by_stage.append({"stage": s, "count": r.get("n", 0), "total": _money(r.get("total")),
                         "weighted": _money(r.get("weighted"))})

    by_month = [{"month": m, "count": r["n"], "total": _money(r["total"]), "weighted": _money(r["weighted"])}
                for m, r in sorted(fig["month"].items())]
    by_owner = _top(fig["owner"], "owner_id", _user_names)
    by_department = _top(fig["department"], "department_id", _department_names)

    # Conversion: how many reached each stage (their furthest stage is at or after it).
    reached = fig["reached"]
    flow = [s for s in stages if s.kind != StageKind.LOST]
    conversion = []
    for i, s in enumerate(flow):
        here = sum(n for order, n in reached.items() if order >= s.order)
        nxt = flow[i + 1] if i + 1 < len(flow) else None
        onward = sum(n for order, n in reached.items() if order >= nxt.order) if nxt else None
        conversion.append({"stage": s, "reached": here, "next": nxt, "onward": onward,
                           "rate": round(100 * onward / here, 1) if nxt and here else None})

    days = fig["days"]
    days_in_stage = [{"stage": s, "days": round(days[s.pk]["seconds"] / days[s.pk]["n"] / 86400, 1) if s.pk in days else None,
                      "stays": days[s.pk]["n"] if s.pk in days else 0}
                     for s in stages if s.kind == StageKind.OPEN]

    won = next((r for r in by_stage if r["stage"].kind == StageKind.WON), None)
    lost = next((r for r in by_stage if r["stage"].kind == StageKind.LOST), None)
    open_rows = [r for r in by_stage if r["stage"].kind == StageKind.OPEN]
    summary = {
        "open_count": sum(r["count"] for r in open_rows),
        "open_total": sum((r["total"] for r in open_rows), Decimal("0.00")),
        "open_weighted": sum((r["weighted"] for r in open_rows), Decimal("0.00")),
        "won_count": won["count"] if won else 0, "won_total": won["total"] if won else Decimal("0.00"),
        "lost_count": lost["count"] if lost else 0,
    }
    closed = summary["won_count"] + summary["lost_count"]
    summary["win_rate"] = round(100 * summary["won_count"] / closed, 1) if closed else None
    return {"by_stage": by_stage, "by_month": by_month, "by_owner": by_owner, "by_department": by_department,
            "by_territory": by_territory(fig["territory"]),
            "conversion": conversion, "days_in_stage": days_in_stage, "summary": summary}


TOP = 50  # owners and departments listed, by weighted amount


def _top(rows, key, names):
    """The TOP groups by weighted amount (ties: by id, none last), with their names."""
    top = sorted(rows.items(), key=lambda kv: (-(kv[1]["weighted"] or 0), kv[0] is None, kv[0] or 0))[:TOP]
    named = names([pk for pk, _r in top if pk is not None])
    return [{key: pk, "name": named.get(pk), "count": r["n"], "total": _money(r["total"]),
             "weighted": _money(r["weighted"])} for pk, r in top]


def _user_names(ids):
    from django.contrib.auth import get_user_model

    return {pk: name or username for pk, name, username in
            get_user_model().objects.filter(pk__in=ids).values_list("pk", "name", "username")} if ids else {}


def _department_names(ids):
    from crm.org.models import Department

    return dict(Department.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}


# --- The funnel's figures -----------------------------------------------------------------------
# Both functions return the same dict for a scoped queryset `qs` of one pipeline's opportunities:
#   stage, month (open only), owner (open), department (open), territory (open, by the customer's
#   territory): {key: {"n", "total", "weighted"}}; reached: {furthest stage order: n};
#   days: {stage id: {"seconds" (in all), "n"}} over the finished stays in the pipeline.
# `figures` is the plain ORM (one GROUP BY each, SQLite); `figures_one_pass` reads the visible
# rows once on PostgreSQL; `funnel_summary.figures` reads the summary the triggers keep on
# PostgreSQL when the scope and filters allow. tests/test_funnel.py holds them equal.

def _date(value):
    return value.date() if isinstance(value, datetime.datetime) else value  # a month's first day


def _totals_by(rows, key):
    return {r[key]: {"n": r["n"], "total": r["total"], "weighted": r["weighted"]} for r in rows}


def figures(qs, pipeline):
    open_qs = qs.filter(status=OpportunityStatus.OPEN)
    return {
        "stage": _totals_by(_totals(qs, "stage"), "stage"),
        "month": {_date(m): r for m, r in _totals_by(
            _totals(open_qs.annotate(month=TruncMonth("expected_close_date")), "month"), "month").items()},
        "owner": _totals_by(_totals(open_qs, "owner"), "owner"),
        "department": _totals_by(_totals(open_qs, "department"), "department"),
        "territory": _totals_by(_totals(open_qs, "customer__territory"), "customer__territory"),
        "reached": dict(qs.values("reached_order").annotate(n=Count("pk")).values_list("reached_order", "n")),
        "days": {stage: {"seconds": seconds, "n": n} for stage, seconds, n in StageHistory.objects.filter(
            pipeline=pipeline, opportunity__in=qs.values("pk"), seconds__isnull=False,
        ).values("stage").annotate(seconds=Sum("seconds"), n=Count("pk")).values_list("stage", "seconds", "n")},
    }


# GROUPING(stage_id, month, owner_id, department_id, reached_order, territory_id) of each set.
SETS = {0b011111: "stage", 0b101111: "month", 0b110111: "owner", 0b111011: "department", 0b111101: "reached",
         0b111110: "territory"}
DAYS = -1  # the rows of the days in stage


def grouping_sql(territory):
    """(the GROUPING(...) column, the GROUP BY GROUPING SETS clause) over rows aliased v, the
    territory read from `territory`: one text for both PostgreSQL paths, so `SETS` fits both."""
    grouping = f"GROUPING(v.stage_id, v.month, v.owner_id, v.department_id, v.reached_order, {territory})"
    sets = (f"GROUP BY GROUPING SETS ((v.stage_id), (v.status, v.month), (v.status, v.owner_id), "
            f"(v.status, v.department_id), (v.reached_order), (v.status, {territory}))")
    return grouping, sets


def figures_one_pass(qs, pipeline):
    """The same figures in one statement that reads the visible opportunities once for all the
    GROUP BYs (GROUPING SETS over the scoped queryset's own SQL, so the scope predicate is the one
    of `for_user`), plus the finished stays of those opportunities from the stage history. The
    GROUP BYs of `figures` each read the same rows again: at large 83 000 opportunities scattered
    over the whole table, six times, and the territory's join read every customer."""
    from crm.customers.models import Customer

    visible = qs.order_by().annotate(weighted=weighted_expr(), month=TruncMonth("expected_close_date")).values_list(
        "stage_id", "status", "amount", "weighted", "month", "owner_id", "department_id", "customer_id",
        "reached_order")
    try:
        rows_sql, rows_params = visible.query.sql_with_params()
        ids_sql, ids_params = qs.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:  # the predicate admits nothing (no grant)
        return collect([])
    q = connection.ops.quote_name
    grouping, sets = grouping_sql("c.territory_id")
    sql = f"""
        SELECT {grouping},
               v.status, v.stage_id, v.month, v.owner_id, v.department_id, v.reached_order, c.territory_id,
               COUNT(*), SUM(v.amount), SUM(v.weighted)
        FROM ({rows_sql}) v (stage_id, status, amount, weighted, month, owner_id, department_id, customer_id,
                             reached_order)
        LEFT JOIN {q(Customer._meta.db_table)} c ON c.id = v.customer_id AND c.territory_id IS NOT NULL
        {sets}
        UNION ALL
        SELECT {DAYS}, NULL, h.stage_id, NULL, NULL, NULL, NULL, NULL, COUNT(*), SUM(h.seconds)::bigint, NULL
        FROM {q(StageHistory._meta.db_table)} h
        WHERE h.pipeline_id = %s AND h.seconds IS NOT NULL AND h.opportunity_id IN ({ids_sql})
        GROUP BY h.stage_id"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [*rows_params, pipeline.pk, *ids_params])
        return collect(cursor.fetchall())


def collect(rows):
    """The figures' dict from the rows of a GROUPING SETS statement (bits of `SETS`, or `DAYS`):
    (grouping, status, stage, month, owner, department, reached, territory, n, total, weighted)."""
    out = {"stage": {}, "month": {}, "owner": {}, "department": {}, "territory": {}, "reached": {}, "days": {}}
    for g, status, stage, month, owner, department, reached, territory, n, total, weighted in rows:
        sums = {"n": n, "total": total, "weighted": weighted}
        kind = "days" if g == DAYS else SETS[g]
        if kind == "days":
            out["days"][stage] = {"seconds": total, "n": n}  # (total: the seconds spent)
        elif kind == "stage":
            out["stage"][stage] = sums
        elif kind == "reached":
            out["reached"][reached] = n
        elif status == OpportunityStatus.OPEN:  # the others count open opportunities only
            key = {"month": _date(month), "owner": owner, "department": department, "territory": territory}[kind]
            out[kind][key] = sums
    return out


# --- Roll-up by territory (SAL-9) ---------------------------------------------------------------

def territory_subtree(territory_id):
    from crm.org.models import Territory

    path = Territory.objects.filter(pk=territory_id).values_list("path", flat=True).first()
    return Territory.objects.filter(path__startswith=path).values("pk") if path else Territory.objects.none()


def by_territory(rows):
    """Open opportunities per territory of their customer, rolled up the tree: each territory's
    own figures and those with its sub-territories (`rows`: the figures' territory sums; one
    read of the tree).
    Only territories that hold something (or lie above one that does) are listed; opportunities
    of customers without a territory form the last row."""
    from crm.org.models import Territory

    if not rows:
        return []
    tree = list(Territory.objects.order_by("path").only("id", "name", "path", "depth"))
    own = {t.pk: rows.get(t.pk) for t in tree}
    out = []
    for t in tree:
        inside = [rows[o.pk] for o in tree if o.path.startswith(t.path) and o.pk in rows]
        if not inside:
            continue
        mine = own.get(t.pk) or {}
        out.append({"territory_id": t.pk, "name": t.name, "depth": t.depth, "indent": range(t.depth),
                    "own_count": mine.get("n", 0), "count": sum(r["n"] for r in inside),
                    "total": _money(sum((r["total"] for r in inside), Decimal(0))),
                    "weighted": _money(sum((r["weighted"] for r in inside), Decimal(0)))})
    if None in rows:
        r = rows[None]
        out.append({"territory_id": None, "name": None, "depth": 0, "indent": range(0), "own_count": r["n"],
                    "count": r["n"], "total": _money(r["total"]), "weighted": _money(r["weighted"])})
    return out


def chart_data(data):
    """The funnel's numbers for the ECharts script (strings for money: no float rounding)."""
    return {
        "stages": [{"name": r["stage"].name, "count": r["count"], "total": str(r["total"]),
                    "weighted": str(r["weighted"])} for r in data["by_stage"] if r["stage"].kind == StageKind.OPEN],
        "months": [{"month": r["month"].strftime("%Y-%m") if r["month"] else "", "count": r["count"],
                    "total": str(r["total"]), "weighted": str(r["weighted"])} for r in data["by_month"]],
    }
