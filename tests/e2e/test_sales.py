"""Sales in a real browser (SAL-2, LEAD-3): drag an opportunity across the pipeline board (the
column totals follow, a stale card is put back with a message), and convert a lead through the
wizard. Elements are found by data-testid, id or URL, not by translated text."""

import datetime
import re
from decimal import Decimal

import pytest
from django.db.models import F

from crm.core.testing.org import Scope, make_tree, make_user
from crm.customers.models import Customer
from crm.sales.models import Lead, Opportunity
from crm.sales.testing import make_pipeline, open_stages

# serialized_rollback: the seeded dictionary items and numbering rules are back even after another
# transactional test flushed the database.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SALES = ("leads", "opportunities", "customers", "contacts", "opportunity-products")


@pytest.fixture
def seller():
    depts = make_tree()
    return make_user("seller", depts["sales1"], {**{k: Scope.ALL for k in SALES}, ("pipelines", "view"): Scope.ALL,
                                                  ("pipeline-stages", "view"): Scope.ALL})


def drag(page, card, target):
    """Press on the card, move in steps onto the target column, release (SortableJS fallback drag)."""
    box, goal = card.bounding_box(), target.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 10, box["y"] + box["height"] / 2 + 10, steps=5)
    page.mouse.move(goal["x"] + goal["width"] / 2, goal["y"] + 30, steps=20)
    page.mouse.up()


def test_kanban_drag_and_drop(ui, seller):
    pipeline = make_pipeline("Board test", default=True)
    s1, s2 = open_stages(pipeline)[:2]
    customer = Customer.objects.create(name="看板客户", owner=seller, department=seller.department)
    opp = Opportunity.objects.create(name="Drag me", customer=customer, pipeline=pipeline, stage=s1,
                                     amount=Decimal("1000"), owner=seller, department=seller.department,
                                     expected_close_date=datetime.date.today() + datetime.timedelta(days=20))
    page = ui.page
    ui.login("seller")
    ui.go(f"/sales/board/{pipeline.pk}/")
    page.wait_for_selector("#sales-board[data-ready='1']")
    col1 = page.locator(f"section[data-stage='{s1.pk}']")
    col2 = page.locator(f"section[data-stage='{s2.pk}']")
    assert col1.locator("[data-testid=count]").inner_text() == "1"

    with page.expect_response(re.compile(rf"/sales/opportunities/{opp.pk}/move/$")) as moved:
        drag(page, page.locator(f"[data-testid=card-{opp.pk}]"), col2.locator(".sales-column-body"))
    assert moved.value.status == 200
    page.wait_for_function(f"document.querySelector(\"section[data-stage='{s2.pk}'] [data-testid=count]\").textContent === '1'")
    assert col1.locator("[data-testid=count]").inner_text() == "0"
    assert col2.locator("[data-testid=weighted]").inner_text() == "500.00"  # 50 % of 1 000
    assert col2.locator(f"[data-testid=card-{opp.pk}]").count() == 1
    opp.refresh_from_db()
    assert opp.stage == s2

    # Someone else changes the opportunity: dragging the card now is refused and it goes back.
    Opportunity.objects.filter(pk=opp.pk).update(version=F("version") + 1)
    with page.expect_response(re.compile(rf"/sales/opportunities/{opp.pk}/move/$")) as refused:
        drag(page, page.locator(f"[data-testid=card-{opp.pk}]"), col1.locator(".sales-column-body"))
    assert refused.value.status == 409
    page.wait_for_selector("[data-testid=board-message]:not(.d-none)")
    assert col2.locator(f"[data-testid=card-{opp.pk}]").count() == 1
    opp.refresh_from_db()
    assert opp.stage == s2
    ui.log.assert_clean()


def test_lead_conversion_wizard(ui, seller):
    pipeline = make_pipeline("Convert test", default=True)
    lead = Lead.objects.create(name="韩梅梅", company="晨光贸易有限公司", mobile="13812340000", owner=seller,
                               department=seller.department)
    page = ui.page
    ui.login("seller")
    ui.go(f"/leads/{lead.pk}/")
    with page.expect_navigation():
        page.click(f"a[href='/sales/leads/{lead.pk}/convert/']")
    assert page.locator("#id_customer").input_value() == "new"
    page.fill("#id_amount", "-10")
    page.fill("#id_expected_close_date", (datetime.date.today() + datetime.timedelta(days=40)).isoformat())
    with page.expect_navigation():
        page.click("[data-testid=convert]")
    assert page.locator("[data-testid=error-amount]").is_visible(), page.locator("main").inner_text()  # nothing was written
    assert not Customer.objects.exists()

    page.fill("#id_amount", "88000")
    with page.expect_navigation():
        page.click("[data-testid=convert]")
    match = re.search(r"/opportunities/(\d+)/$", page.url)
    assert match, page.url
    opp = Opportunity.objects.get(pk=int(match.group(1)))
    assert opp.amount == Decimal("88000") and opp.stage == open_stages(pipeline)[0]
    assert opp.customer.name == "晨光贸易有限公司" and opp.contacts.get().name == "韩梅梅"
    lead.refresh_from_db()
    assert lead.status == "converted" and lead.converted_opportunity == opp
    ui.log.assert_clean()
