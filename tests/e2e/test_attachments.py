"""Attachments in a real browser (ACT-1): on a customer's page, choose two files at once in the
"Attachments" panel, upload them with htmx, see both listed, delete one after confirming; no CSP
violations or script errors on the way."""

import pytest

from crm.core.attachments.models import Attachment
from crm.core.entities import services
from crm.core.testing.org import Scope, make_tree, make_user
from crm.customers.models import Customer

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_upload_two_files_at_once_and_delete_one(ui, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    depts = make_tree()
    owner = make_user("owner", depts["sales1"], {"customers": Scope.DEPARTMENT})
    customer = services.create(owner, Customer, {"name": "Bright Future Ltd"})
    page = ui.page
    ui.login("owner")
    ui.go(f"/customers/{customer.pk}/")
    page.set_input_files("[data-testid=attachments-input]", files=[
        {"name": "offer.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 offer"},
        {"name": "报价单.xlsx", "mimeType": "application/octet-stream", "buffer": b"PK sheet"},
    ])
    page.click("[data-testid=attachments-upload]")
    page.locator("[data-testid=attachment-link]", has_text="报价单.xlsx").wait_for()
    assert page.locator("[data-testid=attachment-link]").count() == 2
    assert Attachment.objects.filter(object_id=customer.pk).count() == 2
    assert page.locator(f"#attachments-count-{Attachment.objects.first().content_type_id}-{customer.pk}"
                        ).inner_text() == "2"  # the panel's count follows

    offer = Attachment.objects.get(name="offer.pdf")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f"[data-attachment='{offer.pk}'] button[type=submit]").click()
    page.locator(f"[data-attachment='{offer.pk}']").wait_for(state="detached")
    assert list(Attachment.objects.values_list("name", flat=True)) == ["报价单.xlsx"]
    ui.screenshot("customer-attachments")
    ui.log.assert_clean()
