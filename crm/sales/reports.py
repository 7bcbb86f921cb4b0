"""The pipeline board (kanban) and the funnel / forecast (SAL-2, SAL-3).

Everything is read through the scope predicate (`Opportunity.objects.for_user`) and aggregated in
SQL: a board is one GROUP BY for the column totals plus one short query per column for its cards;
the funnel is a handful of GROUP BYs, whatever the number of opportunities."""

import datetime
from decimal import Decimal

from django.db.models import Avg, Count, DecimalField, ExpressionWrapper, F, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

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


def filtered(user, pipeline, params):
    """The opportunities of `pipeline` the user may see, narrowed by the board/funnel filters."""
    qs = Opportunity.objects.for_user(user).filter(pipeline=pipeline)
    owner = params.get("owner")
    if owner and str(owner).isdigit():
        qs = qs.filter(owner_id=int(owner))
    department = params.get("department")
    if department and str(department).isdigit():
        qs = qs.filter(department_id=int(department))
    q = (params.get("q") or "").strip()
    if q:
        qs = qs.filter(name__icontains=q)
    territory = params.get("territory")
    if territory and str(territory).isdigit():  # SAL-9: the territory and its sub-territories
        qs = qs.filter(customer__territory__in=territory_subtree(int(territory)))
    start, end = parse_date(params.get("close_from")), parse_date(params.get("close_to"))
    if start:
        qs = qs.filter(expected_close_date__gte=start)
    if end:
        qs = qs.filter(expected_close_date__lte=end)
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
    owner and department, stage conversion rates and average days in stage (SAL-3)."""
    qs = filtered(user, pipeline, params)
    stages = list(Stage.objects.filter(pipeline=pipeline).order_by("order", "pk"))
    open_qs = qs.filter(status=OpportunityStatus.OPEN)

    by_stage_rows = {r["stage"]: r for r in _totals(qs, "stage")}
    by_stage = []
    for s in stages:
        r = by_stage_rows.get(s.pk, {})
        by_stage.append({"stage": s, "count": r.get("n", 0), "total": _money(r.get("total")),
                         "weighted": _money(r.get("weighted"))})

    by_month = [{"month": r["month"], "count": r["n"], "total": _money(r["total"]), "weighted": _money(r["weighted"])}
                for r in _totals(open_qs.annotate(month=TruncMonth("expected_close_date")), "month").order_by("month")]
    for row in by_month:
        if isinstance(row["month"], datetime.datetime):
            row["month"] = row["month"].date()

    by_owner = [{"owner_id": r["owner"], "name": r["owner__name"] or r["owner__username"], "count": r["n"],
                 "total": _money(r["total"]), "weighted": _money(r["weighted"])}
                for r in _totals(open_qs, "owner", "owner__name", "owner__username").order_by("-weighted", "owner")[:50]]
    by_department = [{"department_id": r["department"], "name": r["department__name"], "count": r["n"],
                      "total": _money(r["total"]), "weighted": _money(r["weighted"])}
                     for r in _totals(open_qs, "department", "department__name").order_by("-weighted", "department")[:50]]

    # Conversion: how many reached each stage (their furthest stage is at or after it).
    reached = dict(qs.values("reached_order").annotate(n=Count("pk")).values_list("reached_order", "n"))
    flow = [s for s in stages if s.kind != StageKind.LOST]
    conversion = []
    for i, s in enumerate(flow):
        here = sum(n for order, n in reached.items() if order >= s.order)
        nxt = flow[i + 1] if i + 1 < len(flow) else None
        onward = sum(n for order, n in reached.items() if order >= nxt.order) if nxt else None
        conversion.append({"stage": s, "reached": here, "next": nxt, "onward": onward,
                           "rate": round(100 * onward / here, 1) if nxt and here else None})

    days = {r["stage"]: r for r in StageHistory.objects.filter(pipeline=pipeline, opportunity__in=qs.values("pk"),
                                                               seconds__isnull=False)
            .values("stage").annotate(avg=Avg("seconds"), n=Count("pk"))}
    days_in_stage = [{"stage": s, "days": round(days[s.pk]["avg"] / 86400, 1) if s.pk in days else None,
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
            "by_territory": by_territory(open_qs),
            "conversion": conversion, "days_in_stage": days_in_stage, "summary": summary}


# --- Roll-up by territory (SAL-9) ---------------------------------------------------------------

def territory_subtree(territory_id):
    from crm.org.models import Territory

    path = Territory.objects.filter(pk=territory_id).values_list("path", flat=True).first()
    return Territory.objects.filter(path__startswith=path).values("pk") if path else Territory.objects.none()


def by_territory(qs):
    """Open opportunities per territory of their customer, rolled up the tree: each territory's
    own figures and those with its sub-territories (one GROUP BY plus one read of the tree).
    Only territories that hold something (or lie above one that does) are listed; opportunities
    of customers without a territory form the last row."""
    from crm.org.models import Territory

    rows = {r["customer__territory"]: r for r in _totals(qs, "customer__territory")}
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
