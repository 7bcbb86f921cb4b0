"""System parameters (SYS-7): typed registry with stored overrides, one settings page and an API,
both behind the special permission "manage_settings"; every change is audited; the amounts'
decimal places apply to the display of money (the customer credit limit)."""

import decimal

import pytest

from crm.core.audit.models import AuditEntry
from crm.core.dictionary.models import ParameterValue
from crm.core.dictionary.parameters import PARAMETERS, param
from crm.core.entities import services
from crm.core.testing.org import Scope, make_user
from crm.customers.models import Customer
from crm.core.testing.clients import api_as, browser

pytestmark = pytest.mark.django_db




@pytest.fixture
def settings_admin(depts):
    return make_user("settings", depts["hq"], {"customers": Scope.ALL}, specials=["manage_settings"])


def page_post(**over):
    data = {key: ("on" if p.default is True else "" if p.default is False else str(p.default))
            for key, p in PARAMETERS.items()}
    data = {k: v for k, v in data.items() if not (PARAMETERS[k].type == "bool" and v == "")}
    data.update(over)
    return data


def test_defaults_and_types():
    assert param("receivable_reminder_days") == 3
    assert param("birthday_reminder_days") == 7
    assert param("amount_decimal_places") == 2 and param("price_decimal_places") == 2
    assert param("default_currency") == "CNY"
    assert param("default_tax_rate") == decimal.Decimal("0.13")
    assert param("admin_email") == ""
    assert {"pool_claim_limit", "pool_return_days"} <= set(PARAMETERS)


def test_settings_page_saves_typed_values_and_audits(settings_admin):
    ui = browser(settings_admin)
    page = ui.get("/settings/parameters/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'type="number"' in html and 'name="receivable_reminder_days"' in html and 'type="email"' in html
    response = ui.post("/settings/parameters/", page_post(receivable_reminder_days="10", default_tax_rate="0.06",
                                                          admin_email="it@example.com"))
    assert response.status_code == 302
    assert param("receivable_reminder_days") == 10
    assert param("default_tax_rate") == decimal.Decimal("0.06")
    assert param("admin_email") == "it@example.com"
    entry = AuditEntry.objects.filter(actor=settings_admin, action=AuditEntry.Action.UPDATE).latest("at")
    assert entry.changes["receivable_reminder_days"] == [3, 10]
    assert entry.changes["default_tax_rate"] == ["0.13", "0.06"]


def test_settings_page_errors_at_the_field_translated(settings_admin):
    ui = browser(settings_admin, "zh-hans")
    response = ui.post("/settings/parameters/", page_post(receivable_reminder_days="400", admin_email="nope",
                                                          default_tax_rate="1.5"))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) == {"receivable_reminder_days", "admin_email", "default_tax_rate"}
    html = response.content.decode()
    assert 'data-error-for="receivable_reminder_days"' in html
    assert "系统参数" in html and "应收账款提醒提前天数" in html
    assert not ParameterValue.objects.exists()


def test_api_get_and_patch(settings_admin):
    api = api_as(settings_admin)
    got = api.get("/api/v1/parameters/")
    assert got.status_code == 200
    body = got.json()
    assert body["receivable_reminder_days"] == 3 and body["default_currency"] == "CNY"
    assert body["default_tax_rate"] == 0.13
    patched = api.patch("/api/v1/parameters/", {"birthday_reminder_days": 14, "default_tax_rate": 0.09})
    assert patched.status_code == 200, patched.json()
    assert patched.json()["birthday_reminder_days"] == 14 and param("birthday_reminder_days") == 14
    assert param("default_tax_rate") == decimal.Decimal("0.09")
    assert AuditEntry.objects.filter(actor=settings_admin, changes__has_key="birthday_reminder_days").exists()
    bad = api.patch("/api/v1/parameters/", {"birthday_reminder_days": 61, "default_currency": "XXX",
                                            "amount_decimal_places": "two"})
    assert bad.status_code == 400
    assert set(bad.json()["error"]["fields"]) == {"birthday_reminder_days", "default_currency", "amount_decimal_places"}
    assert param("birthday_reminder_days") == 14


def test_permission_enforced(rep):
    assert browser(rep).get("/settings/parameters/").status_code == 403
    assert browser(rep).post("/settings/parameters/", page_post(receivable_reminder_days="9")).status_code == 403
    api = api_as(rep)
    assert api.get("/api/v1/parameters/").status_code == 403
    assert api.patch("/api/v1/parameters/", {"receivable_reminder_days": 9}).status_code == 403
    assert param("receivable_reminder_days") == 3


def test_menu_shows_settings_only_with_the_permission(settings_admin, rep):
    assert "/settings/parameters/" in browser(settings_admin).get("/").content.decode()
    assert "/settings/parameters/" not in browser(rep).get("/").content.decode()


def test_credit_limit_shown_with_configured_decimal_places(settings_admin):
    c = services.create(settings_admin, Customer, {"name": "Decimals Co", "credit_limit": decimal.Decimal("12345.5")})
    ui = browser(settings_admin)
    assert "12,345.50" in ui.get(f"/customers/{c.pk}/").content.decode()
    ui.post("/settings/parameters/", page_post(amount_decimal_places="0"))
    assert param("amount_decimal_places") == 0
    html = ui.get(f"/customers/{c.pk}/").content.decode()
    assert "12,346" in html and "12,345.50" not in html
    api_as(settings_admin).patch("/api/v1/parameters/", {"amount_decimal_places": 3})
    assert "12,345.500" in ui.get("/customers/", {"cols": "name,credit_limit"}).content.decode()
