"""Merging duplicates in a real browser (CUS-3): from the duplicate finder to the merge page,
a value chosen per field, confirm; the survivor shows "merged from" with its contacts moved;
undo from the timeline brings the merged records back. Elements are found by data-testid,
name or value, never by translated text.
"""

import re

import pytest

from crm.core.entities import services
from crm.core.testing.org import Scope, make_tree, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

GRANTS = {"customers": Scope.ALL, "contacts": Scope.ALL,
          ("employees", "view"): Scope.ALL, ("departments", "view"): Scope.ALL}


def test_merge_from_the_duplicate_finder_and_undo(ui):
    from crm.customers.models import Contact, Customer

    seller = make_user("seller", make_tree()["sales1"], GRANTS, name="Sally Seller")
    keep = services.create(seller, Customer, {"name": "星辰科技有限公司", "city": ""})
    dup1 = services.create(seller, Customer, {"name": "星辰科技", "city": "上海", "email": "info@xc.example.cn"})
    dup2 = services.create(seller, Customer, {"name": "星辰科技 有限公司", "city": "杭州"})
    services.create(seller, Contact, {"customer": dup1, "name": "李雷"})
    services.create(seller, Contact, {"customer": dup2, "name": "韩梅梅"})
    services.create(seller, Customer, {"name": "无关公司"})

    page = ui.page
    page.on("dialog", lambda dialog: dialog.accept())  # the confirm() of data-confirm buttons
    ui.login("seller")
    ui.go("/customers/duplicates/")
    group = page.locator("section[data-rule=name] [data-testid=merge-group]")
    assert group.locator("input[name=ids]:checked").count() == 3
    with page.expect_navigation():
        group.locator("[data-testid=merge-group-button]").click()
    assert "/customers/merge/" in page.url
    table = page.locator("[data-testid=merge-table]")
    table.wait_for()
    # The first record of the group is kept; make the oldest one the survivor instead.
    keep_link = page.locator(f"[data-testid=keep-{keep.pk}]")
    if keep_link.count():
        with page.expect_navigation():
            keep_link.click()
    assert page.locator(f"th[data-record='{keep.pk}'] [data-testid=survivor]").count() == 1
    # Defaults: the survivor's empty city is filled from the first record that has one; choose 杭州.
    page.check(f"tr[data-field=city] input[value='{dup2.pk}']")
    assert page.locator(f"tr[data-field=email] input[value='{dup1.pk}']").is_checked()
    preview = page.locator("[data-testid=merge-preview]")
    assert "2" in preview.inner_text()
    ui.screenshot("merge-page")
    with page.expect_navigation():
        page.click("[data-testid=merge-confirm]")
    assert re.search(rf"/customers/{keep.pk}/$", page.url), page.url
    assert page.locator("[data-field=city]").inner_text().strip() == "杭州"
    assert page.locator("[data-field=email]").inner_text().strip() == "info@xc.example.cn"
    contacts = page.locator("[data-panel=contacts]")
    assert "李雷" in contacts.inner_text() and "韩梅梅" in contacts.inner_text()
    merged_from = page.locator("#timeline [data-testid=merged-from]")
    assert "星辰科技" in merged_from.inner_text()
    assert Customer.objects.filter(pk__in=[dup1.pk, dup2.pk]).count() == 0
    ui.screenshot("merge-survivor")

    # The merged records wait in the recycle bin, marked as merged.
    ui.go("/customers/trash/")
    assert page.locator("[data-testid=merged-into]").count() == 2

    # Undo from the survivor's timeline.
    ui.go(f"/customers/{keep.pk}/")
    with page.expect_navigation():
        page.click("#timeline [data-testid=undo-merge]")
    assert Customer.objects.filter(pk__in=[dup1.pk, dup2.pk]).count() == 2
    assert Contact.objects.get(name="李雷").customer_id == dup1.pk
    assert page.locator("[data-field=city]").inner_text().strip() in ("—", "")
    ui.log.assert_clean()
