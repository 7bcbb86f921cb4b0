"""Territories in a real browser (SAL-9, LEAD-3): an administrator adds a sub-territory from the
tree page, a customer typed in its region lands in it, and a lead's page explains its score.
Elements are found by data-testid, id or URL, not by translated text."""

import re

import pytest

from crm.core.entities import services
from crm.core.testing.org import make_tree, make_user
from crm.customers.models import Customer
from crm.org.models import Territory
from crm.sales.models import Lead, LeadScoringRule

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_add_a_sub_territory_and_a_customer_lands_in_it(ui):
    depts = make_tree()
    boss = make_user("boss", depts["hq"], is_superuser=True, is_staff=True)
    east = services.create(boss, Territory, {"name": "华东", "code": "EAST", "regions": "上海,江苏"})
    page = ui.page
    ui.login("boss")
    ui.go("/org/territories/")
    with page.expect_navigation():
        page.click(f"a[href$='/territories/new/?parent={east.pk}']")
    page.fill("#id_name", "上海")
    page.fill("#id_code", "SH")
    page.fill("#id_regions", "上海")
    with page.expect_navigation():
        page.click("[data-testid=save]")
    assert re.search(r"/territories/\d+/$", page.url)
    shanghai = Territory.objects.get(code="SH")
    assert shanghai.parent == east and shanghai.path.startswith(east.path)

    ui.go("/customers/new/")
    page.fill("#id_name", "浦东精密机械有限公司")
    page.fill("#id_province", "上海市")
    with page.expect_navigation():
        page.click("[data-testid=save]")
    assert Customer.objects.get(name="浦东精密机械有限公司").territory == shanghai

    ui.go("/org/territories/")
    row = page.locator("tr[data-territory=SH]")
    assert row.count() == 1 and "1" in row.inner_text()

    LeadScoringRule.objects.create(name="展会来源", kind="equals", field="source", value="exhibition", points=30)
    lead = services.create(boss, Lead, {"name": "李雷", "source": "exhibition", "province": "上海"})
    ui.go(f"/leads/{lead.pk}/")
    panel = page.locator("[data-panel=score]")
    assert "展会来源" in panel.inner_text() and "+30" in panel.inner_text()
    ui.log.assert_clean()
