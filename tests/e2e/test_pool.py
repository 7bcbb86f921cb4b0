"""The public pool in a real browser (CUS-9): a sales rep opens the pool page, claims a customer
with the row's button (htmx: the row shows the outcome in place), sees the customer on their
page, and a second claim of a record someone else took a moment ago says so in the row."""

import re

import pytest

from crm.core.testing.org import Scope, make_tree, make_user
from crm.customers.models import Customer
from crm.customers.testing import make_pool, pooled

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def setup():
    depts = make_tree()
    grants = {"customers": Scope.OWN, "contacts": Scope.OWN, "leads": Scope.OWN}
    rep = make_user("poolrep", depts["sales1"], grants)
    other = make_user("poolother", depts["sales1"], grants)
    pool = make_pool("华东公海", [depts["east"]])
    return rep, other, pool


def test_claim_from_the_pool_page(ui, setup):
    rep, other, pool = setup
    first = pooled(Customer, pool, name="浦江电子有限公司", phone="13812345678")
    second = pooled(Customer, pool, name="外滩贸易有限公司")
    page = ui.page
    ui.login("poolrep")
    ui.go("/pool/")
    with page.expect_navigation():
        page.click(f"[data-testid=pool-{pool.pk}-customers]")
    rows = page.locator("[data-testid=pool-row]")
    assert rows.count() == 2
    assert "138****5678" in page.locator(f"#pool-row-{first.pk}").inner_text()  # masked until claimed

    with page.expect_response(re.compile(rf"/pool/customers/{first.pk}/claim/$")) as answer:
        page.locator(f"#pool-row-{first.pk} [data-testid=claim]").click()
    assert answer.value.status == 200
    result = page.locator(f"#pool-row-{first.pk} [data-testid=pool-result]")
    result.wait_for()
    assert "table-success" in result.get_attribute("class")
    assert Customer.objects.get(pk=first.pk).owner == rep

    # Someone else is faster with the second record: the row says so, nothing changes for us.
    Customer.objects.filter(pk=second.pk).update(owner=other, department=other.department)
    page.locator(f"#pool-row-{second.pk} [data-testid=claim]").click()
    lost = page.locator(f"#pool-row-{second.pk} [data-testid=pool-result]")
    lost.wait_for()
    assert "table-danger" in lost.get_attribute("class")
    assert Customer.objects.get(pk=second.pk).owner == other

    # The claimed customer is the rep's now; its page shows the pool history and the release button.
    with page.expect_navigation():
        result.locator("a").click()
    assert page.url.endswith(f"/customers/{first.pk}/")
    assert page.locator("[data-panel=pool]").count() == 1
    assert page.locator("[data-testid=pool-release]").count() == 1
    ui.log.assert_clean()
