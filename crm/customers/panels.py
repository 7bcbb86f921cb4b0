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
