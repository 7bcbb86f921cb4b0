"""The main path through the CRM in a real browser: log in, create a customer and a contact, find
the customer in the list and through the top-bar search, edit it and see the change in the
timeline, switch the language; and the same pages at phone width.

Elements are found by id, name or data-testid, never by translated text, except where the test
is about the language itself.
"""

import re

import pytest

from crm.core.testing.org import Scope, make_tree, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

GRANTS = {"customers": Scope.ALL, "contacts": Scope.ALL,
          ("employees", "view"): Scope.ALL, ("departments", "view"): Scope.ALL}


@pytest.fixture
def seller():
    depts = make_tree()
    return make_user("seller", depts["sales1"], GRANTS, name="Sally Seller")


def _pk_from(url, key):
    match = re.search(rf"/{key}/(\d+)/$", url)
    assert match, f"not a {key} detail page: {url}"
    return int(match.group(1))


def test_customer_lifecycle(ui, seller):
    page = ui.page
    ui.login("seller")
    assert page.locator("html").get_attribute("lang") == "zh-hans"

    # Create a customer through the menu and the form.
    page.click("a[data-menu=customers]")
    page.wait_for_url(re.compile(r"/customers/$"))
    page.click("[data-testid=new]")
    page.fill("#id_name", "星辰测试科技有限公司")
    page.fill("#id_city", "上海")
    page.fill("#id_email", "info@xingchen.example.cn")
    with page.expect_navigation():
        page.click("[data-testid=save]")
    customer_pk = _pk_from(page.url, "customers")
    assert page.locator("[data-testid=record-title]").inner_text().strip() == "星辰测试科技有限公司"

    # Add a contact to it, picking the customer in the Tom Select lookup.
    ui.go("/contacts/new/")
    page.locator(".ts-wrapper", has=page.locator("#id_customer-ts-control")).locator(".ts-control").click()
    page.keyboard.type("星辰")
    page.click(f".ts-dropdown [data-value='{customer_pk}']")
    page.fill("#id_name", "李雷")
    page.fill("#id_title", "采购经理")
    page.fill("#id_email", "lilei@xingchen.example.cn")
    with page.expect_navigation():
        page.click("[data-testid=save]")
    _pk_from(page.url, "contacts")
    assert page.locator("[data-testid=record-title]").inner_text().strip() == "李雷"
    assert "星辰测试科技有限公司" in page.locator("[data-field=customer]").inner_text()

    # The customer is in the list.
    ui.go("/customers/")
    assert page.locator(f"#entity-table a[href$='/customers/{customer_pk}/']").count() >= 1

    # The top-bar search suggests it (by pinyin initials, as Chinese users type), and leads to it.
    search = page.locator("#global-search")
    search.click()
    search.press_sequentially("xccs", delay=30)
    suggestion = page.locator(f"#search-suggest a[href$='/customers/{customer_pk}/']")
    suggestion.wait_for()
    with page.expect_navigation():
        suggestion.click()
    assert _pk_from(page.url, "customers") == customer_pk

    # Edit it; the change shows in the timeline as old → new.
    with page.expect_navigation():
        page.click("[data-testid=edit]")
    page.fill("#id_city", "杭州")
    with page.expect_navigation():
        page.click("[data-testid=save]")
    assert _pk_from(page.url, "customers") == customer_pk
    assert page.locator("[data-field=city]").inner_text().strip() == "杭州"
    change = page.locator("#timeline .crm-changes li", has=page.locator("del", has_text="上海"))
    assert change.count() == 1, page.locator("#timeline").inner_text()
    assert change.locator("ins").inner_text().strip() == "杭州"
    ui.screenshot("customer-detail-zh-hans")

    # Switch to English: the page comes back in English.
    with page.expect_navigation():
        page.click("[data-testid=lang-en]")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("form[action$='/logout/'] button").inner_text().strip() == "Log out"
    assert "Customers" in page.locator("aside#crm-menu").inner_text()
    assert _pk_from(page.url, "customers") == customer_pk
    ui.screenshot("customer-detail-en")

    # ... and back to Chinese.
    with page.expect_navigation():
        page.click("[data-testid=lang-zh-hans]")
    assert page.locator("html").get_attribute("lang") == "zh-hans"

    ui.log.assert_clean()


def test_phone_width(phone_ui, seller):
    from crm.customers.models import Customer

    customer = Customer.objects.create(
        name="手机宽度测试有限公司 with a rather long English name to stress the layout",
        owner=seller, department=seller.department, city="深圳", email="a-very-long-address@phone-width.example.com",
    )
    page = phone_ui.page
    phone_ui.login("seller")
    for path in ("/", "/customers/", f"/customers/{customer.pk}/", f"/customers/{customer.pk}/edit/"):
        phone_ui.go(path)
        ok, widths = phone_ui.no_horizontal_overflow()
        assert ok, f"{path} overflows horizontally at 375px (scrollWidth, clientWidth) = {widths}"
        assert page.locator("button[data-bs-toggle=offcanvas][data-bs-target='#crm-menu']").is_visible(), f"no menu button on {path}"
    phone_ui.go(f"/customers/{customer.pk}/")
    phone_ui.screenshot("phone-customer-detail", full_page=False)

    # The menu button opens the side menu, which lists customers.
    menu = page.locator("#crm-menu")
    assert not menu.locator("a[data-menu=customers]").is_visible()
    page.click("button[data-bs-toggle=offcanvas][data-bs-target='#crm-menu']")
    menu.locator("a[data-menu=customers]").wait_for(state="visible")
    page.wait_for_selector("#crm-menu.show:not(.showing)")  # the slide-in has finished
    phone_ui.screenshot("phone-menu-open", full_page=False)

    phone_ui.log.assert_clean()
