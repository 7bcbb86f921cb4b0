"""The notification bell and centre in a real browser (ACT-4): a note mentioning a colleague
lights the colleague's bell; opening the centre, marking all read clears it; the jobs page shows
the e-mail job. No CSP violations or script errors on the way."""

import pytest

from crm.core.entities import services
from crm.core.testing.org import Scope, make_tree, make_user
from crm.customers.models import Customer

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def people():
    depts = make_tree()
    writer = make_user("writer", depts["sales1"], {"customers": Scope.DEPARTMENT}, email="writer@example.com")
    reader = make_user("reader", depts["sales1"], {"customers": Scope.DEPARTMENT}, email="reader@example.com",
                       specials=["manage_jobs"])
    return writer, reader


def test_a_mention_lights_the_bell_and_mark_all_read_clears_it(ui, people):
    writer, reader = people
    customer = services.create(writer, Customer, {"name": "Bright Future Ltd"})
    page = ui.page

    ui.login("writer")
    ui.go(f"/customers/{customer.pk}/")
    page.fill("#note-body", "@reader could you call them tomorrow?")
    page.locator("#note-body").locator("xpath=ancestor::form").locator("button[type=submit]").click()
    page.get_by_text("could you call them tomorrow?").first.wait_for()

    page.context.clear_cookies()
    ui.login("reader")
    badge = page.locator("[data-testid=unread-badge]")
    assert badge.get_attribute("data-unread") == "1" and badge.is_visible()
    page.click("[data-testid=bell]")
    page.wait_for_url("**/notifications/")
    item = page.locator("[data-notification]").first
    assert "Bright Future Ltd" in item.inner_text() and item.get_attribute("data-read") == "0"
    with page.expect_navigation():
        page.click("[data-testid=read-all]")
    assert page.locator("[data-notification]").first.get_attribute("data-read") == "1"
    assert page.locator("[data-testid=unread-badge]").get_attribute("data-unread") == "0"
    assert not page.locator("[data-testid=unread-badge]").is_visible()

    ui.go("/jobs/")
    assert page.locator("table[data-testid=jobs]").inner_text().count("send_notification_email") == 1
    ui.log.assert_clean()
