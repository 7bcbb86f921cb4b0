from crm.core.entities.registry import EntitySpec, MenuEntry, register_entity

from .forms import ProductForm
from .models import PriceList, PriceListItem, Product, ProductCategory, StockLevel, Warehouse
from .panels import price_items_panel, stock_panel

UNSCOPED = {"owner_field": None, "department_field": None}  # catalogue data: grants decide, not ownership
CONFIG_ACTIONS = ("view", "create", "edit", "delete", "export")

register_entity(
    ProductCategory,
    EntitySpec(
        key="product-categories",
        list_columns=["name", "code", "parent", "sort_order", "is_active", "updated_at"],
        form_fields=["name", "code", "parent", "sort_order", "is_active"],
        filter_fields={"name": ["icontains"], "parent": ["exact"], "is_active": ["exact"]},
        sort_fields=["path", "name", "updated_at"],
        default_sort="path",
        search_fields=["name", "code"],
        select_related=["parent"],
        menu=MenuEntry(group="catalog", icon="diagram-2", order=20),
        testing="crm.catalog.testing:ProductCategoryTestData",
        actions=CONFIG_ACTIONS,
        **UNSCOPED,
    ),
)

register_entity(
    Product,
    EntitySpec(
        key="products",
        list_columns=[
            "code", "name", "mnemonic_code", "category", "specification", "unit", "list_price", "cost", "tax_rate",
            "kind", "sourcing", "is_active", "owner", "department", "updated_at",
        ],
        default_columns=["code", "name", "category", "specification", "unit", "list_price", "is_active", "updated_at"],
        form_fields=ProductForm.Meta.fields,
        filter_fields={
            "name": ["icontains"], "code": ["exact"], "category": ["exact"], "kind": ["exact"], "sourcing": ["exact"],
            "unit": ["exact"], "is_active": ["exact"], "owner": ["exact"], "tags": ["exact"],
            "updated_at": ["gte", "lte"],
        },
        detail_fields=[
            "code", "name", "mnemonic_code", "category", "specification", "attributes", "unit", "list_price", "cost",
            "tax_rate", "kind", "sourcing", "is_active", "tags", "description", "owner", "department", "created_by",
            "created_at", "updated_by", "updated_at",
        ],
        sort_fields=["updated_at", "created_at", "name", "code", "list_price"],
        search_fields=["name", "mnemonic_code", "code", "specification"],
        protected_fields={"cost": "see_cost"},  # SEC-1: hidden without the special permission
        select_related=["owner", "department", "category"],
        menu=MenuEntry(group="catalog", icon="box-seam", order=10),
        detail_panels=[stock_panel],
        testing="crm.catalog.testing:ProductTestData",
        number_field="code",  # from the "products" numbering rule (SYS-5)
    ),
)

register_entity(
    PriceList,
    EntitySpec(
        key="price-lists",
        list_columns=["name", "customer_level", "currency", "valid_from", "valid_to", "is_active", "updated_at"],
        form_fields=["name", "customer_level", "currency", "valid_from", "valid_to", "is_active"],
        filter_fields={"name": ["icontains"], "customer_level": ["exact"], "is_active": ["exact"]},
        sort_fields=["updated_at", "name"],
        search_fields=["name"],
        detail_panels=[price_items_panel],
        menu=MenuEntry(group="catalog", icon="tags", order=30),
        testing="crm.catalog.testing:PriceListTestData",
        actions=CONFIG_ACTIONS,
        **UNSCOPED,
    ),
)

register_entity(
    PriceListItem,
    EntitySpec(
        key="price-list-items",
        list_columns=["price_list", "product", "price", "remark", "updated_at"],
        form_fields=["price_list", "product", "price", "remark"],
        filter_fields={"price_list": ["exact"], "product": ["exact"]},
        sort_fields=["updated_at"],
        select_related=["price_list", "product"],
        testing="crm.catalog.testing:PriceListItemTestData",
        actions=CONFIG_ACTIONS,
        **UNSCOPED,
    ),
)

register_entity(
    Warehouse,
    EntitySpec(
        key="warehouses",
        list_columns=["name", "code", "address", "is_dealer", "is_active", "updated_at"],
        form_fields=["name", "code", "address", "is_dealer", "is_active"],
        filter_fields={"name": ["icontains"], "is_dealer": ["exact"], "is_active": ["exact"]},
        sort_fields=["updated_at", "name"],
        search_fields=["name", "code"],
        menu=MenuEntry(group="catalog", icon="building-gear", order=40),
        testing="crm.catalog.testing:WarehouseTestData",
        actions=CONFIG_ACTIONS,
        **UNSCOPED,
    ),
)

# The stock query (查询库存): stock per product and warehouse, filtered by product, category, warehouse.
register_entity(
    StockLevel,
    EntitySpec(
        key="stock-levels",
        list_columns=["product", "warehouse", "quantity", "location", "updated_at"],
        form_fields=["warehouse", "product", "quantity", "location"],
        filter_fields={"product": ["exact"], "product__category": ["exact"], "warehouse": ["exact"]},
        sort_fields=["updated_at", "quantity"],
        select_related=["warehouse", "product"],
        menu=MenuEntry(group="catalog", icon="boxes", order=50),
        testing="crm.catalog.testing:StockLevelTestData",
        actions=CONFIG_ACTIONS,
        **UNSCOPED,
    ),
)
