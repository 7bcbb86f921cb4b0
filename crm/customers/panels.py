"""Panels on the customer's detail page (CUS-4, CUS-5): its contacts and its child companies.

Rows are read through `for_user`, so a panel shows only what the viewer may see."""

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from crm.core.access.scope import can
from crm.core.entities.registry import get_spec
from crm.core.ui import cells

from .models import Contact, Customer

PANEL_ROWS = 20


def _panel(request, key, model, qs, columns, title, add_label, add_params):
    user, spec = request.user, get_spec(model)
    if not can(user, spec.key, "view"):
        return None
    rows = list(qs.for_user(user).select_related(*spec.select_related)[: PANEL_ROWS + 1])
    return {
        "key": key,
        "title": title,
        "headers": [cells.field_label(model, c) for c in columns],
        "rows": [{"cells": [cells.display(user, spec, obj, c) for c in columns],
                  "url": reverse(f"{spec.key}-detail", kwargs={"pk": obj.pk})} for obj in rows[:PANEL_ROWS]],
        "add_url": reverse(f"{spec.key}-create") + "?" + urlencode(add_params) if can(user, spec.key, "create") else None,
        "add_label": add_label,
        "more": len(rows) > PANEL_ROWS,
    }


def contacts_panel(request, customer):
    qs = Contact.objects.filter(customer=customer).order_by("-is_primary", "name", "pk")
    return _panel(request, "contacts", Contact, qs, ["name", "title", "mobile", "email", "is_primary"],
                  _("Contacts"), _("New contact"), {"customer": customer.pk})


def children_panel(request, customer):
    qs = Customer.objects.filter(parent=customer).order_by("name", "pk")
    return _panel(request, "children", Customer, qs, ["name", "code", "city", "owner"],
                  _("Child companies"), _("New child company"), {"parent": customer.pk})
