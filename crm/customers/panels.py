"""Panels on the customer's detail page (CUS-4, CUS-5): its contacts and its child companies.

Rows are read through `for_user`, so a panel shows only what the viewer may see."""

from django.utils.translation import gettext as _

from crm.core.ui.panels import record_panel

from .models import Contact, Customer

ORG_CHART_ROWS = 200


def contacts_panel(request, customer):
    """The customer's contacts as its org chart (关系图): everyone under whom they report."""
    qs = Contact.objects.filter(customer=customer).order_by("-is_primary", "name", "pk")
    panel = record_panel(request, "contacts", Contact, qs, ["name", "title", "dept", "mobile", "email", "is_primary"],
                         _("Contacts and reporting lines"), _("New contact"), {"customer": customer.pk},
                         limit=ORG_CHART_ROWS)
    if panel is not None:
        panel["rows"] = org_chart(panel["rows"])
    return panel


def org_chart(rows):
    """Order rows depth-first along `reports_to`; a row whose manager is not shown is a root."""
    by_id = {r["obj"].pk: r for r in rows}
    children = {}
    roots = []
    for r in rows:
        boss = r["obj"].reports_to_id
        (children.setdefault(boss, []) if boss in by_id and boss != r["obj"].pk else roots).append(r)
    ordered, seen = [], set()

    def walk(row, depth):
        if row["obj"].pk in seen:  # a cycle in old data must not hang the page
            return
        seen.add(row["obj"].pk)
        row["indent"] = depth
        ordered.append(row)
        for child in children.get(row["obj"].pk, []):
            walk(child, depth + 1)

    for r in roots:
        walk(r, 0)
    ordered += [r for r in rows if r["obj"].pk not in seen]
    return ordered


def children_panel(request, customer):
    qs = Customer.objects.filter(parent=customer).order_by("name", "pk")
    return record_panel(request, "children", Customer, qs, ["name", "code", "city", "owner"],
                        _("Child companies"), _("New child company"), {"parent": customer.pk})


# --- The public pool (CUS-9) -------------------------------------------------------------------

def rules_panel(request, pool):
    """A pool's reclaim rules per customer level, on the pool's settings page."""
    from .pool_models import PoolRule

    qs = PoolRule.objects.filter(pool=pool).order_by("level", "pk")
    return record_panel(request, "pool-rules", PoolRule, qs, ["level", "no_follow_up_days", "no_deal_days"],
                        _("Reclaim rules"), _("New rule"), {"pool": pool.pk})


def pool_panel(request, obj):
    """A record's pool: where it is or belongs, the buttons the viewer may use, and its history."""
    from django.template.loader import render_to_string
    from django.utils.formats import date_format
    from django.utils.timezone import localtime

    from crm.core.access.scope import has_special
    from crm.core.dictionary.lookup import label

    from . import pool as pools
    from .pool_models import PoolEvent

    p = pools.POOLABLE.get(obj.entity_spec.key)
    if p is None:
        return None
    events = pools.history(obj)
    if obj.pool_id is None and not events and obj.owner_id != request.user.pk:
        return None
    user = request.user
    reasons = dict(PoolEvent.Action.choices)

    def why(e):
        if e.action == PoolEvent.Action.RELEASE:
            return " · ".join(x for x in (label(pools.RELEASE_REASONS, e.reason), e.note) if x)
        if e.action in (PoolEvent.Action.RECLAIM, PoolEvent.Action.WARN):
            return str(pools._why(e.reason))
        return e.note

    body = render_to_string("customers/_pool_panel.html", {
        "obj": obj, "key": p.key, "in_pool": obj.in_pool,
        "may_claim": obj.in_pool and obj.pool_id in pools.pool_ids_for(user),
        "may_release": obj.owner_id is not None and (obj.owner_id == user.pk or has_special(user, pools.MANAGE)),
        "may_manage": obj.in_pool and has_special(user, pools.MANAGE),
    }, request=request)
    return {
        "key": "pool",
        "title": _("Public pool") + (f" · {obj.pool}" if obj.pool_id else ""),
        "headers": [_("At"), _("Action"), _("Public pool"), _("By"), _("Owner"), _("Reason")],
        "rows": [{"cells": [date_format(localtime(e.at), "SHORT_DATETIME_FORMAT"), reasons.get(e.action, e.action),
                            e.pool, e.actor or _("System"), e.owner or "—", why(e)], "url": None, "indent": 0}
                 for e in events],
        "add_url": None,
        "body": body,
        "more": len(events) >= 50,
    }
