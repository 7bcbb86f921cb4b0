"""Panels on detail pages: a product's stock per warehouse, a price list's prices.

Rows are read through `for_user`, so a panel shows only what the viewer may see."""

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from crm.core.access.scope import can
from crm.core.entities.registry import get_spec
from crm.core.ui import cells

from .models import PriceListItem, StockLevel

PANEL_ROWS = 100


def _panel(request, key, model, qs, columns, title, add_label, add_params):
    user, spec = request.user, get_spec(model)
    if not can(user, spec.key, "view"):
        return None
    rows = list(qs.for_user(user).select_related(*spec.select_related)[: PANEL_ROWS + 1])
    return {
        "key": key,
        "title": title,
        "headers": [cells.field_label(model, c) for c in columns],
        "rows": [{"cells": [cells.display(user, spec, obj, c) for c in columns], "obj": obj, "indent": 0,
                  "url": reverse(f"{spec.key}-detail", kwargs={"pk": obj.pk})} for obj in rows[:PANEL_ROWS]],
        "add_url": reverse(f"{spec.key}-create") + "?" + urlencode(add_params) if can(user, spec.key, "create") else None,
        "add_label": add_label,
        "more": len(rows) > PANEL_ROWS,
    }


def stock_panel(request, product):
    """Stock of the product in each warehouse (查询库存 for one product)."""
    qs = StockLevel.objects.filter(product=product).order_by("warehouse__name", "pk")
    return _panel(request, "stock", StockLevel, qs, ["warehouse", "quantity", "updated_at"],
                  _("Stock"), _("New stock level"), {"product": product.pk})


def price_items_panel(request, price_list):
    """The prices of a price list; each row opens the item (edit, delete)."""
    qs = PriceListItem.objects.filter(price_list=price_list).order_by("product__name", "pk")
    return _panel(request, "items", PriceListItem, qs, ["product", "price"],
                  _("Prices"), _("Add a price"), {"price_list": price_list.pk})
