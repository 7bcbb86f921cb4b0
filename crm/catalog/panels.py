"""Panels on detail pages: a product's stock per warehouse, a price list's prices.

Rows are read through `for_user`, so a panel shows only what the viewer may see."""

from django.utils.translation import gettext as _

from crm.core.ui.panels import record_panel

from .models import PriceListItem, StockLevel

PANEL_ROWS = 100


def stock_panel(request, product):
    """Stock of the product in each warehouse (查询库存 for one product)."""
    qs = StockLevel.objects.filter(product=product).order_by("warehouse__name", "pk")
    return record_panel(request, "stock", StockLevel, qs, ["warehouse", "quantity", "updated_at"],
                        _("Stock"), _("New stock level"), {"product": product.pk}, limit=PANEL_ROWS)


def price_items_panel(request, price_list):
    """The prices of a price list; each row opens the item (edit, delete)."""
    qs = PriceListItem.objects.filter(price_list=price_list).order_by("product__name", "pk")
    return record_panel(request, "items", PriceListItem, qs, ["product", "price"],
                        _("Prices"), _("Add a price"), {"price_list": price_list.pk}, limit=PANEL_ROWS)
