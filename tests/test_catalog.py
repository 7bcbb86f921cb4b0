"""Products (SYS-8): categories, products, price lists, warehouses and stock; and the cost rule
(SEC-1): a product's cost is hidden from those without the special permission "see_cost" in
every channel (list, detail, form, API, export, history, search)."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from crm.catalog.models import PriceList, PriceListItem, Product, ProductCategory, StockLevel, Warehouse
from crm.core.access.levels import Scope
from crm.core.entities import services
from crm.core.testing.org import make_user

CATALOG = ["products", "product-categories", "price-lists", "price-list-items", "warehouses", "stock-levels"]
COST = Decimal("98765.43")
COST_TEXTS = ("98765", "98,765")
HIDDEN_TEXTS = ("(hidden)", "（已隐藏）")


@pytest.fixture
def seller(depts):
    return make_user("seller", depts["sales1"], {k: Scope.ALL for k in CATALOG})


@pytest.fixture
def finance(depts):
    return make_user("finance", depts["sales1"], {k: Scope.ALL for k in CATALOG}, specials=["see_cost"])


def browser(client, user):
    client.force_login(user)
    return client


def new_product(user, **fields):
    data = {"name": "服务器 R740", "list_price": Decimal("123456"), "cost": COST, **fields}
    return services.create(user, Product, data)


def product_post(**fields):
    data = {"name": "交换机 S5700", "unit": "unit", "list_price": "100", "cost": "60", "tax_rate": "0.13",
            "kind": "goods", "sourcing": "own", "is_active": "on", "attributes": ""}
    data.update(fields)
    return data


def hidden(text):
    return not any(t in text for t in COST_TEXTS)


# --- products, numbering, attributes ---------------------------------------------------------------

def test_products_are_numbered_by_their_rule_and_get_a_mnemonic_code(client, finance):
    response = browser(client, finance).post("/products/new/", product_post(attributes="颜色=黑色\n端口 = 48"))
    assert response.status_code == 302
    first = Product.objects.get(name="交换机 S5700")
    assert re.fullmatch(r"CP\d{5}", first.code)
    assert first.mnemonic_code == "JHJS5700" or first.mnemonic_code.startswith("JHJ")
    assert first.attributes == {"颜色": "黑色", "端口": "48"}
    second = new_product(finance)
    assert int(second.code[2:]) == int(first.code[2:]) + 1
    detail = client.get(f"/products/{first.pk}/").content.decode()
    assert first.code in detail


def test_tax_rate_defaults_to_the_system_parameter(finance):
    assert new_product(finance).tax_rate == Decimal("0.13")


BAD_PRODUCT = [
    ("list_price", "-1", r"greater than or equal to 0|大于或者等于 0"),
    ("cost", "-0.01", r"greater than or equal to 0|大于或者等于 0"),
    ("tax_rate", "1.5", r"less than or equal to 1|小于或者等于 1"),
]


@pytest.mark.parametrize("field,value,message", BAD_PRODUCT + [("attributes", "no equals sign", r"name=value")])
def test_product_form_rejects_bad_input_at_the_field(client, finance, field, value, message):
    response = browser(client, finance).post("/products/new/", product_post(**{field: value}))
    assert response.status_code == 400
    assert f'data-error-for="{field}"' in response.content.decode()
    assert not Product.objects.exists()


@pytest.mark.parametrize("field,value,message", BAD_PRODUCT + [("attributes", ["not", "a", "dict"], r"pairs|名称")])
def test_product_api_rejects_bad_input_with_field_errors(api, finance, field, value, message):
    api.as_user(finance)
    body = {"name": "路由器", "unit": "unit", field: value}
    response = api.post("/api/v1/products/", body, format="json")
    assert response.status_code == 400, response.content
    assert re.search(message, " ".join(response.json()["error"]["fields"][field]), re.I)
    assert not Product.objects.exists()


def test_category_tree_refuses_a_cycle_in_form_and_api(client, api, finance):
    root = services.create(finance, ProductCategory, {"name": "硬件设备"})
    child = services.create(finance, ProductCategory, {"name": "服务器", "parent": root})
    assert child.path == f"/{root.pk}/{child.pk}/"
    post = {"name": root.name, "parent": child.pk, "sort_order": "0", "is_active": "on", "version": root.version}
    response = browser(client, finance).post(f"/product-categories/{root.pk}/edit/", post)
    assert response.status_code == 400 and 'data-error-for="parent"' in response.content.decode()
    api.as_user(finance)
    response = api.patch(f"/api/v1/product-categories/{root.pk}/", {"parent": child.pk}, format="json")
    assert response.status_code == 400 and "parent" in response.json()["error"]["fields"]
    assert ProductCategory.objects.get(pk=root.pk).parent_id is None


# --- the cost rule (SEC-1) -------------------------------------------------------------------------

def test_cost_is_hidden_in_list_detail_export_and_search(client, seller, finance):
    product = new_product(finance)
    ui = browser(client, seller)
    listing = ui.get("/products/?cols=name,cost,list_price").content.decode()
    assert "服务器 R740" in listing and re.search(r"123,?456", listing) and hidden(listing)
    assert any(t in listing for t in HIDDEN_TEXTS)
    detail = ui.get(f"/products/{product.pk}/").content.decode()
    assert re.search(r"123,?456", detail) and hidden(detail)
    export = ui.get("/products/export/?cols=name,cost").content.decode()
    assert "服务器 R740" in export and hidden(export)
    assert ui.get("/products/?q=98765.43").context["rows"] == []
    assert ui.get("/products/?sort=cost").status_code == 200  # not a sort field: ignored

    ui = browser(client, finance)
    assert not hidden(ui.get("/products/?cols=name,cost").content.decode())
    assert not hidden(ui.get(f"/products/{product.pk}/").content.decode())
    assert not hidden(ui.get("/products/export/?cols=name,cost").content.decode())


def test_cost_is_absent_from_the_form_and_an_edit_keeps_it(client, seller, finance):
    product = new_product(finance)
    ui = browser(client, seller)
    form = ui.get(f"/products/{product.pk}/edit/").content.decode()
    assert 'name="cost"' not in form and hidden(form)
    post = product_post(name="服务器 R750", cost="1", version=product.version)
    response = ui.post(f"/products/{product.pk}/edit/", post)
    assert response.status_code == 302
    saved = Product.objects.get(pk=product.pk)
    assert saved.name == "服务器 R750" and saved.cost == COST
    created = ui.post("/products/new/", product_post(name="新产品", cost="5"))
    assert created.status_code == 302 and Product.objects.get(name="新产品").cost == 0
    assert 'name="cost"' in browser(client, finance).get(f"/products/{product.pk}/edit/").content.decode()


def test_cost_changes_are_hidden_in_the_history(client, api, seller, finance):
    product = new_product(finance)
    services.update(finance, Product, product.pk, {"cost": Decimal("11111.5")})
    detail = browser(client, seller).get(f"/products/{product.pk}/").content.decode()
    assert any(t in detail for t in HIDDEN_TEXTS) and hidden(detail) and "11111" not in detail
    api.as_user(seller)
    notes = api.get(f"/api/v1/products/{product.pk}/notes/").json()
    changes = [i["changes"]["cost"] for i in notes if i["changes"] and "cost" in i["changes"]]
    assert changes and all(pair[0] == pair[1] and pair[0] in HIDDEN_TEXTS for pair in changes)
    api.as_user(finance)
    notes = api.get(f"/api/v1/products/{product.pk}/notes/").json()
    assert any("11111" in str(i["changes"]) for i in notes if i["changes"])
    assert "11111" in browser(client, finance).get(f"/products/{product.pk}/").content.decode()


def test_cost_is_absent_from_the_api_and_not_writable_without_the_permission(api, seller, finance):
    product = new_product(finance)
    api.as_user(seller)
    one = api.get(f"/api/v1/products/{product.pk}/").json()
    assert "cost" not in one and one["list_price"]
    assert all("cost" not in row for row in api.get("/api/v1/products/").json()["results"])
    refused = api.patch(f"/api/v1/products/{product.pk}/", {"cost": "1", "version": product.version}, format="json")
    assert refused.status_code == 400 and "cost" in refused.json()["error"]["fields"]
    refused = api.post("/api/v1/products/", {"name": "X", "unit": "unit", "cost": "1"}, format="json")
    assert refused.status_code == 400 and "cost" in refused.json()["error"]["fields"]
    assert Product.objects.get(pk=product.pk).cost == COST
    assert api.get("/api/v1/products/", {"cost": "98765.43"}).status_code == 200

    api.as_user(finance)
    assert Decimal(api.get(f"/api/v1/products/{product.pk}/").json()["cost"]) == COST
    patched = api.patch(f"/api/v1/products/{product.pk}/", {"cost": "50", "version": product.version}, format="json")
    assert patched.status_code == 200 and Decimal(patched.json()["cost"]) == 50


def test_the_schema_documents_the_cost_rule():
    from pathlib import Path

    schema = (Path(__file__).resolve().parent.parent / "docs" / "openapi.yaml").read_text()
    assert "Present and writable only with the special permission “see_cost”" in schema


# --- price lists -----------------------------------------------------------------------------------

def test_price_list_items_on_the_price_list_page_and_duplicates_refused(client, api, finance):
    plist = services.create(finance, PriceList, {"name": "战略客户价", "customer_level": "strategic"})
    product = new_product(finance)
    ui = browser(client, finance)
    post = {"price_list": plist.pk, "product": product.pk, "price": "99000"}
    assert ui.post("/price-list-items/new/", post).status_code == 302
    page = ui.get(f"/price-lists/{plist.pk}/").content.decode()
    assert "服务器 R740" in page and re.search(r"99,?000", page)
    assert f"/price-list-items/new/?price_list={plist.pk}" in page
    duplicate = ui.post("/price-list-items/new/", post)
    assert duplicate.status_code == 400 and 'data-error-for="product"' in duplicate.content.decode()
    negative = ui.post("/price-list-items/new/", {**post, "price": "-5"})
    assert negative.status_code == 400 and 'data-error-for="price"' in negative.content.decode()
    api.as_user(finance)
    response = api.post("/api/v1/price-list-items/", {**post, "price": "1"}, format="json")
    assert response.status_code == 400 and "product" in response.json()["error"]["fields"]
    response = api.post("/api/v1/price-list-items/", {**post, "product": new_product(finance).pk, "price": "-1"},
                        format="json")
    assert response.status_code == 400 and "price" in response.json()["error"]["fields"]
    assert PriceListItem.objects.count() == 1
    listed = api.get("/api/v1/price-list-items/", {"price_list": plist.pk}).json()["results"]
    assert [Decimal(r["price"]) for r in listed] == [Decimal("99000")]


def test_price_list_validity_must_not_end_before_it_starts(client, finance):
    post = {"name": "普通客户价", "currency": "CNY", "valid_from": "2026-05-01", "valid_to": "2026-04-01",
            "is_active": "on"}
    response = browser(client, finance).post("/price-lists/new/", post)
    assert response.status_code == 400 and 'data-error-for="valid_to"' in response.content.decode()


# --- warehouses and stock --------------------------------------------------------------------------

def test_stock_query_filters_and_product_panel(client, api, seller, finance):
    hardware = services.create(finance, ProductCategory, {"name": "硬件设备"})
    software = services.create(finance, ProductCategory, {"name": "软件"})
    server = new_product(finance, name="服务器", category=hardware)
    licence = new_product(finance, name="许可证", category=software)
    main = services.create(finance, Warehouse, {"name": "上海总仓", "code": "SH"})
    dealer = services.create(finance, Warehouse, {"name": "经销商仓", "is_dealer": True})
    ui = browser(client, seller)
    response = ui.post("/stock-levels/new/", {"warehouse": main.pk, "product": server.pk, "quantity": "12"})
    assert response.status_code == 302
    services.create(finance, StockLevel, {"warehouse": dealer.pk and dealer, "product": licence, "quantity": 3})
    bad = ui.post("/stock-levels/new/", {"warehouse": main.pk, "product": server.pk, "quantity": "-1"})
    assert bad.status_code == 400 and 'data-error-for="quantity"' in bad.content.decode()

    by_category = ui.get(f"/stock-levels/?product__category={hardware.pk}").context["rows"]
    assert [obj.product for obj, _link, _cells in by_category] == [server]
    by_warehouse = ui.get(f"/stock-levels/?warehouse={dealer.pk}").context["rows"]
    assert [obj.product for obj, _link, _cells in by_warehouse] == [licence]
    panel = ui.get(f"/products/{server.pk}/").content.decode()
    assert "上海总仓" in panel and "12" in panel and "经销商仓" not in panel

    api.as_user(seller)
    level = StockLevel.objects.get(product=server)
    patched = api.patch(f"/api/v1/stock-levels/{level.pk}/", {"quantity": "20", "version": level.version}, format="json")
    assert patched.status_code == 200 and Decimal(patched.json()["quantity"]) == 20
    assert [r["product"] for r in api.get("/api/v1/stock-levels/", {"product__category": software.pk}).json()["results"]] \
        == [licence.pk]


def test_stock_editing_needs_the_edit_right(client, depts, finance):
    viewer = make_user("viewer", depts["sales1"], {("stock-levels", "view"): Scope.ALL,
                                                    ("products", "view"): Scope.ALL})
    product = new_product(finance)
    level = services.create(finance, StockLevel, {"warehouse": services.create(finance, Warehouse, {"name": "W"}),
                                                  "product": product, "quantity": 1})
    ui = browser(client, viewer)
    assert ui.get("/stock-levels/").status_code == 200
    assert ui.post(f"/stock-levels/{level.pk}/edit/", {"quantity": "9"}).status_code == 403
    assert StockLevel.objects.get(pk=level.pk).quantity == 1


def test_the_menu_has_a_products_group(client, seller):
    page = browser(client, seller).get(reverse("products-list")).content.decode()
    assert "/stock-levels/" in page and "/price-lists/" in page
