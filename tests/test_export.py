"""Export of the list view to CSV and XLSX (INT-4): filters, columns, sort and saved views as on
the list, the user's export scope, masked phones, hidden cost, formula neutralisation in both
formats, one audit entry per export; the API's export endpoint."""

import csv
import io
from decimal import Decimal

import pytest
from django.utils import translation
from openpyxl import load_workbook

from crm.catalog.models import Product
from crm.core.audit.models import AuditEntry
from crm.core.entities import services
from crm.core.entities.models import SavedView
from crm.core.testing.clients import browser
from crm.core.testing.org import Scope, make_user
from crm.customers.models import Customer

PHONE, MASKED = "13812345678", "138****5678"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def csv_rows(response):
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(body(response).decode("utf-8-sig"))))


def xlsx_rows(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ws = load_workbook(io.BytesIO(body(response)), read_only=True).worksheets[0]
    return [["" if v is None else v for v in row] for row in ws.iter_rows(values_only=True)]


def rows_of(response, fmt):
    return xlsx_rows(response) if fmt == "xlsx" else csv_rows(response)


@pytest.fixture
def data(rep, manager, depts):
    other = make_user("other", depts["guangzhou"], {"customers": Scope.OWN})
    services.create(rep, Customer, {"name": "Beijing One", "city": "Beijing", "phone": PHONE})
    services.create(rep, Customer, {"name": "=HYPERLINK(\"http://evil\")", "city": "Beijing"})
    services.create(rep, Customer, {"name": "Shanghai One", "city": "Shanghai"})
    services.create(other, Customer, {"name": "Guangzhou Secret", "city": "Beijing"})
    return other


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_honours_filter_columns_sort_scope_masking_and_neutralises(rep, data, fmt):
    rows = rows_of(browser(rep).get("/customers/export/", {"format": fmt, "city": "Beijing", "cols": "name,phone,city",
                                                          "sort": "name"}), fmt)
    assert rows[0] == ["Name", "Main phone", "City"]
    assert rows[1:] == [["'=HYPERLINK(\"http://evil\")", "", "Beijing"], ["Beijing One", MASKED, "Beijing"]]
    entry = AuditEntry.objects.get(action="export")
    assert (entry.actor, entry.extra["entity"], entry.extra["format"], entry.extra["rows"]) == (rep, "customers", fmt, 2)
    assert entry.extra["filters"] == {"city": "Beijing"}


def test_xlsx_cells_are_text_not_formulas(rep, data):
    response = browser(rep).get("/customers/export/", {"format": "xlsx", "cols": "name", "sort": "name"})
    ws = load_workbook(io.BytesIO(body(response))).worksheets[0]
    cells = [c for c in ws["A"] if c.value and "HYPERLINK" in str(c.value)]
    assert cells and all(c.data_type == "s" and str(c.value).startswith("'") for c in cells)


def test_who_may_reveal_exports_numbers_in_the_clear_within_their_scope(manager, rep, data):
    rows = csv_rows(browser(manager).get("/customers/export/", {"cols": "name,phone", "sort": "name"}))
    assert ["Beijing One", PHONE] in rows  # manager: Shanghai subtree, may reveal phones
    assert not any("Guangzhou Secret" in r for r in rows)


def test_export_of_a_saved_view(rep, data):
    view = SavedView.objects.create(entity="customers", name="Shanghai", user=rep, params={"city": "Shanghai", "cols": "name"})
    rows = csv_rows(browser(rep).get("/customers/export/", {"view": view.pk, "format": "csv"}))
    assert rows == [["Name"], ["Shanghai One"]]


def test_export_needs_the_export_grant(depts):
    viewer = make_user("viewer", depts["sales1"], {("customers", "view"): Scope.ALL})
    assert browser(viewer).get("/customers/export/", {"format": "xlsx"}).status_code == 403
    page = browser(viewer).get("/customers/").content.decode()
    assert "/customers/export/" not in page
    assert not AuditEntry.objects.filter(action="export").exists()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_cost_stays_hidden_without_see_cost(depts, fmt):
    grants = {k: Scope.ALL for k in ["products", "product-categories"]}
    seller = make_user("seller", depts["sales1"], grants)
    finance = make_user("finance", depts["sales1"], grants, specials=["see_cost"])
    services.create(finance, Product, {"name": "Server R740", "list_price": Decimal("123456"), "cost": Decimal("98765.43")})
    hidden = rows_of(browser(seller).get("/products/export/", {"format": fmt, "cols": "name,cost"}), fmt)
    shown = rows_of(browser(finance).get("/products/export/", {"format": fmt, "cols": "name,cost"}), fmt)
    assert not any("98" in str(v) for row in hidden for v in row)
    assert any("98,765.43" in str(v) or "98765.43" in str(v) for row in shown for v in row)


def test_api_export_in_both_formats_with_scope(rep, data, api):
    from rest_framework.test import APIClient

    from crm.core.access.models import ApiToken

    _token, secret = ApiToken.issue(rep, "test")
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")  # a file stream: the schema documents it, the validator reads JSON
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    rows = csv_rows(client.get("/api/v1/exports/customers/", {"cols": "name", "sort": "name"}))
    assert [r[0] for r in rows[1:]] == ["'=HYPERLINK(\"http://evil\")", "Beijing One", "Shanghai One"]
    rows = xlsx_rows(client.get("/api/v1/exports/customers/", {"cols": "name,phone", "format": "xlsx", "q": "Beijing"}))
    assert rows[1:] == [["Beijing One", MASKED]]
    assert AuditEntry.objects.filter(action="export", actor=rep).count() == 2
    viewer = make_user("viewer", rep.department, {("customers", "view"): Scope.ALL})
    assert api.as_user(viewer).get("/api/v1/exports/customers/").status_code == 403
    assert api.get("/api/v1/exports/nonsense/").status_code == 404
