"""Custom fields (SYS-11) in a real browser: an administrator adds a choice field in the settings
pages, a sales rep fills it in the customer form, sees it on the detail page, and filters and
sorts the list by it, with no script or CSP errors."""

import re

import pytest

from crm.core.testing.org import Scope, make_tree, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def people():
    depts = make_tree()
    admin = make_user("boss", depts["hq"], {"customers": Scope.ALL}, specials=["manage_settings"])
    rep = make_user("seller", depts["sales1"], {"customers": Scope.OWN, ("employees", "view"): Scope.ALL})
    return admin, rep


def test_admin_defines_a_field_and_a_rep_uses_it(ui, people):
    page = ui.page
    ui.login("boss")
    ui.go("/settings/custom-fields/customers/")
    page.click("[data-testid=new]")
    page.fill("#id_key", "region")
    page.select_option("#id_type", "choice")
    page.fill("#id_label_zh", "销售大区")
    page.fill("#id_label_en", "Sales region")
    page.fill("#id_choices", "east | 华东 | East\nwest | 西部 | West")
    page.fill("#id_group_zh", "市场信息")
    page.fill("#id_group_en", "Market")
    page.check("#id_show_in_list")
    with page.expect_navigation():
        page.click("[data-testid=save]")
    assert page.locator("[data-testid=fields] tr[data-key=region]").count() == 1
    ui.log.assert_clean()

    page.context.clear_cookies()
    ui.login("seller")
    for name, region in (("东方贸易有限公司", "east"), ("西部物流有限公司", "west")):
        ui.go("/customers/new/")
        assert page.locator("[data-field-group]").inner_text().strip() == "市场信息"
        page.fill("#id_name", name)
        page.select_option("#id_cf_region", region)
        with page.expect_navigation():
            page.click("[data-testid=save]")
        assert re.search(r"/customers/\d+/$", page.url)
    assert page.locator("[data-field=cf_region]").inner_text().strip() == "西部"
    ui.go("/customers/?cf_region=east")
    rows = page.locator("[data-testid=entity-table] tbody tr")
    assert rows.count() == 1 and "华东" in rows.first.inner_text()
    ui.go("/customers/?sort=cf_region&cols=name,cf_region")
    cells = page.locator("[data-testid=entity-table] tbody tr td:nth-child(3)").all_inner_texts()
    assert [c.strip() for c in cells] == ["华东", "西部"]
    ui.log.assert_clean()
