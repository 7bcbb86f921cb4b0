"""The top-bar search in a real browser (UX-1): suggestions as you type a 2-character Chinese
term, arrow keys move through them, Enter opens the chosen record, Escape closes them, and a
1-character term shows the hint instead."""

import re

import pytest

from crm.core.entities import services
from crm.core.testing.org import Scope, make_tree, make_user
from crm.customers.models import Customer

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def seller():
    depts = make_tree()
    user = make_user("seller", depts["sales1"], {"customers": Scope.OWN, "contacts": Scope.OWN})
    services.create(user, Customer, {"name": "上海瑞丰科技有限公司"})
    services.create(user, Customer, {"name": "北京瑞丰商贸有限公司"})
    return user


def test_keyboard_through_the_suggestions(ui, seller):
    page = ui.page
    ui.login("seller")
    search = page.locator("#global-search")
    search.click()
    search.press_sequentially("瑞丰", delay=30)
    options = page.locator("#search-suggest [data-suggest-option]")
    options.first.wait_for()
    assert options.count() == 3  # two customers and "All results"
    assert search.get_attribute("aria-expanded") == "true"

    search.press("ArrowDown")
    search.press("ArrowDown")
    second = options.nth(1)
    assert "active" in second.get_attribute("class") and second.get_attribute("aria-selected") == "true"
    target = second.get_attribute("href")
    search.press("ArrowUp")
    search.press("ArrowDown")
    with page.expect_navigation():
        search.press("Enter")
    assert page.url.endswith(target) and re.search(r"/customers/\d+/$", page.url)

    search = page.locator("#global-search")
    search.click()
    search.press_sequentially("rf", delay=30)
    page.locator("#search-suggest [data-suggest-option]").first.wait_for()
    search.press("Escape")
    assert page.locator("#search-suggest [data-suggest-option]").count() == 0

    search.fill("")
    search.press_sequentially("瑞", delay=30)
    page.locator("#search-suggest [data-testid=search-hint]").wait_for()

    # Enter without a chosen suggestion opens the results page.
    search.fill("")
    search.press_sequentially("瑞丰科技", delay=30)
    page.locator("#search-suggest [data-suggest-option]").first.wait_for()
    with page.expect_navigation():
        search.press("Enter")
    assert "/search/" in page.url and page.locator("[data-testid=search-customers]").count() == 1
