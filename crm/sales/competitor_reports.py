"""Win/loss per competitor over time (COMP-2) and the lost-order analysis (SAL-11, 丢单分析).

Everything is read through the scope predicate (`Opportunity.objects.for_user`, competitors and
products through theirs) and aggregated in SQL: a fixed handful of GROUP BYs whatever the number
of opportunities. A competitor is "involved" in an opportunity when it is listed on it
(OpportunityCompetitor) or the opportunity was lost to it."""

import datetime
from decimal import Decimal

from django.db.models import Count, DecimalField, Exists, OuterRef, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth, TruncQuarter
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.catalog.models import Product
from crm.core.dictionary import lookup

from .models import Competitor, Opportunity, OpportunityCompetitor, OpportunityProduct, OpportunityStatus
from .reports import parse_date

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
MONEY = DecimalField(max_digits=20, decimal_places=2)
WON, LOST = OpportunityStatus.WON, OpportunityStatus.LOST


def _money(value):
    return (value or ZERO).quantize(CENT)


def params_of(params, today=None):
    """The filters: closing period (default the last 12 months), month or quarter, owner, department."""
    today = today or timezone.localdate()
    end = parse_date(params.get("closed_to")) or today
    start = parse_date(params.get("closed_from"))
    if start is None:
        y, m = divmod(end.month - 12, 12)
        start = datetime.date(end.year + y, m + 1, 1)
    if start > end:
        start, end = end, start
    grain = params.get("grain") if params.get("grain") in ("month", "quarter") else "month"
    owner = params.get("owner")
    department = params.get("department")
    return {"closed_from": start, "closed_to": end, "grain": grain,
            "owner": int(owner) if owner and str(owner).isdigit() else None,
            "department": int(department) if department and str(department).isdigit() else None}


def closed(user, f):
    """Won and lost opportunities the user may see, closed in the period, narrowed by the filters."""
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.datetime.combine(f["closed_from"], datetime.time.min), tz)
    end = timezone.make_aware(datetime.datetime.combine(f["closed_to"] + datetime.timedelta(days=1),
                                                        datetime.time.min), tz)
    qs = Opportunity.objects.for_user(user).filter(status__in=(WON, LOST), closed_at__gte=start, closed_at__lt=end)
    if f["owner"]:
        qs = qs.filter(owner_id=f["owner"])
    if f["department"]:
        qs = qs.filter(department_id=f["department"])
    return qs


def _period_label(value, grain):
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return f"{value.year} Q{(value.month - 1) // 3 + 1}" if grain == "quarter" else value.strftime("%Y-%m")


def _trunc(field, grain):
    return (TruncQuarter if grain == "quarter" else TruncMonth)(field, tzinfo=timezone.get_current_timezone())


def _blank():
    return {"won_count": 0, "won_amount": ZERO, "lost_count": 0, "lost_amount": ZERO,
            "lost_to_count": 0, "lost_to_amount": ZERO}


def _rate(row):
    done = row["won_count"] + row["lost_count"]
    return round(100 * row["won_count"] / done, 1) if done else None


def win_loss(user, params):
    """Per competitor the user may see: won/lost counts and amounts of the opportunities it was in,
    those lost to it, the win rate when it was involved — in total and per month or quarter."""
    f = params_of(params)
    qs = closed(user, f)
    visible = Competitor.objects.for_user(user).values("pk")
    amount = Coalesce(Sum("opportunity__amount"), Value(ZERO), output_field=MONEY)
    listed = (OpportunityCompetitor.objects.filter(opportunity__in=qs.values("pk"), competitor__in=visible)
              .annotate(period=_trunc("opportunity__closed_at", f["grain"]))
              .values("competitor", "period", "opportunity__status").annotate(n=Count("pk"), amount=amount))
    link = OpportunityCompetitor.objects.filter(opportunity=OuterRef("pk"), competitor=OuterRef("lost_to"))
    own_amount = Coalesce(Sum("amount"), Value(ZERO), output_field=MONEY)
    lost_to = (qs.filter(status=LOST, lost_to__in=visible).annotate(period=_trunc("closed_at", f["grain"]),
                                                                     listed=Exists(link))
               .values("lost_to", "period", "listed").annotate(n=Count("pk"), amount=own_amount))
    totals, series, periods = {}, {}, set()

    def add(cid, period, key, n, value):
        label = _period_label(period, f["grain"])
        periods.add(label)
        for row in (totals.setdefault(cid, _blank()), series.setdefault(cid, {}).setdefault(label, _blank())):
            row[f"{key}_count"] += n
            row[f"{key}_amount"] += _money(value)

    for r in listed:
        add(r["competitor"], r["period"], "won" if r["opportunity__status"] == WON else "lost", r["n"], r["amount"])
    for r in lost_to:
        add(r["lost_to"], r["period"], "lost_to", r["n"], r["amount"])
        if not r["listed"]:  # lost to a competitor not listed on the opportunity: involved all the same
            add(r["lost_to"], r["period"], "lost", r["n"], r["amount"])
    names = dict(Competitor.objects.filter(pk__in=list(totals)).values_list("pk", "name"))
    rows = []
    for cid, t in totals.items():
        rows.append({"competitor_id": cid, "name": names.get(cid, ""), **t, "win_rate": _rate(t)})
    rows.sort(key=lambda r: (-(r["won_count"] + r["lost_count"]), r["name"]))
    periods = sorted(periods)
    return {"filters": f, "periods": periods, "rows": rows,
            "series": {cid: [{"period": p, **s.get(p, _blank()), "win_rate": _rate(s.get(p, _blank()))}
                             for p in periods] for cid, s in series.items()}}


def lost_orders(user, params):
    """Lost opportunities by reason, by competitor lost to, by owner and by product (SAL-11)."""
    f = params_of(params)
    qs = closed(user, f)
    amount = Coalesce(Sum("amount"), Value(ZERO), output_field=MONEY)
    counts = dict(qs.values("status").annotate(n=Count("pk")).values_list("status", "n"))
    lost = qs.filter(status=LOST)
    total = lost.aggregate(n=Count("pk"), amount=amount)
    by_reason = [{"code": r["lost_reason"], "name": lookup.label("lost_reason", r["lost_reason"]) or _("Not given"),
                  "count": r["n"], "amount": _money(r["amount"])}
                 for r in lost.values("lost_reason").annotate(n=Count("pk"), amount=amount).order_by("-n", "lost_reason")]
    visible = set(Competitor.objects.for_user(user).filter(
        pk__in=lost.exclude(lost_to=None).values("lost_to")).values_list("pk", flat=True))
    grouped = {}
    for r in lost.values("lost_to", "lost_to__name").annotate(n=Count("pk"), amount=amount):
        key = r["lost_to"] if r["lost_to"] in visible else None  # a competitor the user may not see: unnamed
        g = grouped.setdefault(key, {"competitor_id": key, "name": r["lost_to__name"] if key else _("Not given or not visible"),
                                     "count": 0, "amount": ZERO})
        g["count"] += r["n"]
        g["amount"] += _money(r["amount"])
    by_competitor = sorted(grouped.values(), key=lambda g: (-g["count"], g["name"]))
    by_owner = [{"owner_id": r["owner"], "name": r["owner__name"] or r["owner__username"] or "—", "count": r["n"],
                 "amount": _money(r["amount"])}
                for r in lost.values("owner", "owner__name", "owner__username").annotate(n=Count("pk"), amount=amount)
                .order_by("-n", "owner")[:50]]
    by_product = [{"product_id": r["product"], "name": r["product__name"], "count": r["n"],
                   "amount": _money(r["amount"])}
                  for r in OpportunityProduct.objects.filter(opportunity__in=lost.values("pk"),
                                                             product__in=Product.objects.for_user(user).values("pk"))
                  .values("product", "product__name")
                  .annotate(n=Count("opportunity", distinct=True),
                            amount=Coalesce(Sum("line_amount"), Value(ZERO), output_field=MONEY))
                  .order_by("-n", "product")[:50]]
    done = counts.get(WON, 0) + counts.get(LOST, 0)
    summary = {"lost_count": total["n"], "lost_amount": _money(total["amount"]), "won_count": counts.get(WON, 0),
               "loss_rate": round(100 * counts.get(LOST, 0) / done, 1) if done else None}
    return {"filters": f, "summary": summary, "by_reason": by_reason, "by_competitor": by_competitor,
            "by_owner": by_owner, "by_product": by_product}


def comparison(user, product):
    """Our product next to the competitor products that compete with it (COMP-1): rows of
    attributes (ours and theirs, by name), with our cost only for those who may see it."""
    from crm.core.access.masking import is_hidden
    from crm.core.entities.registry import get_spec

    from .models import CompetitorProduct

    theirs = list(CompetitorProduct.objects.for_user(user).filter(our_product=product)
                  .select_related("competitor").order_by("competitor__name", "name", "pk"))
    names = list((product.attributes or {}).keys())
    for p in theirs:
        names += [n for n in (p.attributes or {}) if n not in names]
    show_cost = not is_hidden(user, get_spec(Product), "cost")
    return {"ours": product, "theirs": theirs, "attribute_names": names, "show_cost": show_cost,
            "attributes": [{"name": n, "ours": (product.attributes or {}).get(n, ""),
                            "theirs": [(p.attributes or {}).get(n, "") for p in theirs]} for n in names]}
