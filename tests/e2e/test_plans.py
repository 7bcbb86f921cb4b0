"""Sales plans in a real browser (SAL-7): a manager fills a department's quarters in the grid,
saves, and sees target vs actual with its chart (no CSP violation, no script error). Elements are
found by data-testid or name, not by translated text."""

import datetime
from decimal import Decimal

import pytest

from crm.core.testing.org import Scope, make_tree, make_user
from crm.sales.models import SalesPlan

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_enter_a_year_in_the_grid_and_see_plan_vs_actual(ui):
    depts = make_tree()
    grants = {("employees", "view"): Scope.ALL, ("departments", "view"): Scope.ALL,
              "opportunities": Scope.SUBTREE, "sales-plans": Scope.SUBTREE}
    make_user("planner", depts["shanghai"], grants)
    rep = make_user("rep", depts["sales1"], {"opportunities": Scope.OWN})
    year = datetime.date.today().year
    page = ui.page
    ui.login("planner")
    ui.go(f"/sales/plans/grid/?department={depts['sales1'].pk}&year={year}&period=quarter")
    for quarter in (1, 4, 7, 10):
        page.fill(f"[data-testid='cell-{rep.pk}_{datetime.date(year, quarter, 1).isoformat()}']", "25000")
    with page.expect_navigation():
        page.click("[data-testid=grid-save]")
    assert SalesPlan.objects.filter(employee=rep, period_kind="quarter").count() == 4
    assert page.locator(f"[data-testid='cell-{rep.pk}_{year}-04-01']").input_value() == "25000.00"

    ui.go(f"/sales/plans/actual/?period=year&start={year}-01-01&department={depts['sales1'].pk}")
    page.wait_for_selector("body[data-charts-ready='1']")
    row = page.locator("tr[data-name='Rep']")
    assert row.locator("[data-col=target]").inner_text().strip().replace(",", "") == "100000.00"
    assert page.locator("#chart-plan canvas").count() == 1
    assert sum(p.target for p in SalesPlan.objects.filter(employee=rep)) == Decimal("100000")
    ui.log.assert_clean()
