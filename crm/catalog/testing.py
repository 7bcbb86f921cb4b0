"""Test data for the generated test kit (see crm/core/testing/kit.py)."""

from decimal import Decimal

from crm.core.testing.kit import EntityTestData, unique

from .models import PriceList, PriceListItem, Product, ProductCategory, StockLevel, Warehouse


class ProductCategoryTestData(EntityTestData):
    def make(self, owner, department, **fields):
        fields.setdefault("name", unique("pcat"))
        obj = ProductCategory.objects.create(**fields)
        obj.after_create(None)
        return obj

    def create_payload(self, ctx):
        return {"name": unique("pcat"), "code": unique("PC"), "sort_order": 5}


class ProductTestData(EntityTestData):
    def make(self, owner, department, **fields):
        fields.setdefault("name", unique("prod"))
        fields.setdefault("list_price", Decimal("100"))
        fields.setdefault("cost", Decimal("60"))
        obj = Product.objects.create(owner=owner, department=department, **fields)
        obj.after_create(None)
        return obj

    def create_payload(self, ctx):
        return {"name": unique("prod"), "specification": "X1", "unit": "set", "list_price": "120.00",
                "tax_rate": "0.13", "kind": "goods", "sourcing": "own"}


class PriceListTestData(EntityTestData):
    def make(self, owner, department, **fields):
        fields.setdefault("name", unique("plist"))
        return PriceList.objects.create(**fields)

    def create_payload(self, ctx):
        return {"name": unique("plist"), "customer_level": "strategic", "currency": "CNY"}


class PriceListItemTestData(EntityTestData):
    lookup_field = "price"

    def make(self, owner, department, **fields):
        fields.setdefault("price_list", PriceListTestData(self.spec).make(owner, department))
        fields.setdefault("product", ProductTestData(self.spec).make(owner, department))
        fields.setdefault("price", Decimal("99"))
        return PriceListItem.objects.create(**fields)

    def create_payload(self, ctx):
        price_list = PriceListTestData(self.spec).make(ctx.user, ctx.user.department)
        product = ProductTestData(self.spec).make(ctx.user, ctx.user.department)
        self._price_list = price_list
        return {"price_list": price_list.pk, "product": product.pk, "price": "88.50"}

    def created(self, payload):
        return PriceListItem.objects.get(price_list_id=payload["price_list"], product_id=payload["product"])

    def edit_payload(self, obj):
        return {"remark": "含三年维保"}

    def search_text(self, obj):
        return obj.product.name


class WarehouseTestData(EntityTestData):
    def make(self, owner, department, **fields):
        fields.setdefault("name", unique("wh"))
        return Warehouse.objects.create(**fields)

    def create_payload(self, ctx):
        return {"name": unique("wh"), "code": unique("W"), "address": "上海市浦东新区"}


class StockLevelTestData(EntityTestData):
    def make(self, owner, department, **fields):
        fields.setdefault("warehouse", WarehouseTestData(self.spec).make(owner, department))
        fields.setdefault("product", ProductTestData(self.spec).make(owner, department))
        fields.setdefault("quantity", Decimal("10"))
        return StockLevel.objects.create(**fields)

    def create_payload(self, ctx):
        warehouse = WarehouseTestData(self.spec).make(ctx.user, ctx.user.department)
        product = ProductTestData(self.spec).make(ctx.user, ctx.user.department)
        return {"warehouse": warehouse.pk, "product": product.pk, "quantity": "12.00"}

    def created(self, payload):
        return StockLevel.objects.get(warehouse_id=payload["warehouse"], product_id=payload["product"])

    def edit_payload(self, obj):
        return {"location": "A-01-02"}

    def search_text(self, obj):
        return obj.product.name
