"""Data dictionary (SYS-6): pick lists maintained by administrators; records store item codes.

Disabled items are refused for new values but old records still save and show their label;
relabelling shows everywhere; labels follow the user's language; filters; bad codes on every
write channel; the customers list reads the labels with a constant number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.core.dictionary import lookup
from crm.core.dictionary.models import DictionaryItem, DictionaryKind
from crm.core.entities import services
from crm.core.testing.org import Scope, make_user
from crm.customers.models import Customer
from crm.core.testing.clients import api_as, browser
from crm.customers.testing import customer_post

pytestmark = pytest.mark.django_db




def edit_post(obj, **over):
    data = customer_post(
        name=obj.name, customer_type=obj.customer_type, level=obj.level, status=obj.status,
        industry=obj.industry, source=obj.source, credit_rating=obj.credit_rating,
        credit_limit=str(obj.credit_limit), registered_at=obj.registered_at.strftime("%Y-%m-%dT%H:%M"),
    )
    data["version"] = obj.version
    data.update(over)
    return data


def disable(kind, code):
    item = DictionaryItem.objects.get(kind_id=kind, code=code)
    item.is_active = False
    item.save()
    return item


def test_seeded_kinds_keep_todays_codes_and_labels():
    kinds = set(DictionaryKind.objects.values_list("code", flat=True))
    assert {"industry", "customer_level", "customer_type", "customer_status", "customer_source", "credit_rating",
            "payment_method", "activity_type", "lost_reason", "ticket_category"} <= kinds
    it = DictionaryItem.objects.get(kind_id="industry", code="it")
    assert (it.label_zh, it.label_en) == ("IT 与软件", "IT and software")
    c = Customer(name="x")
    assert (c.level, c.customer_type, c.status) == ("normal", "company", "potential")


def test_disabled_item_not_offered_refused_for_new_values_but_old_records_save(admin, rep):
    old = services.create(rep, Customer, {"name": "Old Industry Co", "industry": "energy"})
    disable("industry", "energy")
    ui = browser(rep)

    form = ui.get("/customers/new/").content.decode()
    assert 'value="energy"' not in form and 'value="it"' in form

    response = ui.post("/customers/new/", customer_post(name="New Energy Co", industry="energy"))
    assert response.status_code == 400
    assert response.context["form"].errors["industry"]
    assert not Customer.objects.filter(name="New Energy Co").exists()

    # The old record's edit form still offers (and shows) its disabled value; saving it works.
    edit = ui.get(f"/customers/{old.pk}/edit/").content.decode()
    assert 'value="energy" selected' in edit
    response = ui.post(f"/customers/{old.pk}/edit/", edit_post(old, city="Hangzhou"))
    assert response.status_code == 302
    old.refresh_from_db()
    assert old.industry == "energy" and old.city == "Hangzhou"
    assert "Energy" in ui.get(f"/customers/{old.pk}/").content.decode()

    # API: new value refused at the field, an edit leaving the field alone is fine.
    api = api_as(rep)
    bad = api.post("/api/v1/customers/", {"name": "API Energy", "industry": "energy"})
    assert bad.status_code == 400 and "industry" in bad.json()["error"]["fields"]
    ok = api.patch(f"/api/v1/customers/{old.pk}/", {"city": "Ningbo", "version": old.version})
    assert ok.status_code == 200 and ok.json()["industry"] == "energy"
    # Changing to another disabled value is refused, as is switching away and back.
    disable("industry", "logistics")
    old.refresh_from_db()
    bad = api.patch(f"/api/v1/customers/{old.pk}/", {"industry": "logistics", "version": old.version})
    assert bad.status_code == 400 and "industry" in bad.json()["error"]["fields"]


def test_unknown_codes_refused_in_ui_and_api(rep):
    response = browser(rep).post("/customers/new/", customer_post(level="platinum"))
    assert response.status_code == 400
    assert "level" in response.context["form"].errors
    assert 'data-error-for="level"' in response.content.decode()
    bad = api_as(rep).post("/api/v1/customers/", {"name": "Bad Level", "level": "platinum", "source": "nowhere"})
    assert bad.status_code == 400
    assert set(bad.json()["error"]["fields"]) == {"level", "source"}


def test_relabel_and_reorder_show_everywhere(admin, rep):
    c = services.create(rep, Customer, {"name": "Relabel Co", "level": "important"})
    item = DictionaryItem.objects.get(kind_id="customer_level", code="important")
    services.update(admin, DictionaryItem, item.pk, {"label_en": "Key account", "label_zh": "关键客户", "order": 1},
                    expected_version=item.version)
    ui = browser(rep)
    assert "Key account" in ui.get(f"/customers/{c.pk}/").content.decode()
    assert "Key account" in ui.get("/customers/", {"cols": "name,level"}).content.decode()
    assert "关键客户" in browser(rep, "zh-hans").get(f"/customers/{c.pk}/").content.decode()
    # The form offers the new order: "important" first.
    form = ui.get("/customers/new/").content.decode()
    assert form.index('value="important"') < form.index('value="strategic"')
    # The timeline shows the label of changed values; the API stores and returns the code.
    services.update(rep, Customer, c.pk, {"level": "strategic"})
    detail = ui.get(f"/customers/{c.pk}/").content.decode()
    assert "Key account" in detail and "Strategic" in detail
    assert api_as(rep).get(f"/api/v1/customers/{c.pk}/").json()["level"] == "strategic"
    export = ui.get("/customers/export/", {"cols": "name,level"})
    assert export.status_code == 403 or "Strategic" in export.content.decode("utf-8-sig")


def test_labels_in_the_users_language(rep):
    c = services.create(rep, Customer, {"name": "Lang Co", "industry": "finance", "status": "active"})
    en = browser(rep, "en").get(f"/customers/{c.pk}/").content.decode()
    zh = browser(rep, "zh-hans").get(f"/customers/{c.pk}/").content.decode()
    assert "Finance and insurance" in en and "Transacting" in en
    assert "金融保险" in zh and "成交客户" in zh


def test_filter_is_a_select_of_items_and_filters(rep):
    a = services.create(rep, Customer, {"name": "Filter Retail", "industry": "retail"})
    b = services.create(rep, Customer, {"name": "Filter Energy", "industry": "energy"})
    disable("industry", "energy")  # disabled items still filter, so old records can be found
    ui = browser(rep)
    page = ui.get("/customers/").content.decode()
    assert 'name="industry"' in page and '<option value="retail">Retail and wholesale</option>' in page
    assert 'value="energy"' in page
    html = ui.get("/customers/", {"industry": "energy"}).content.decode()
    assert "Filter Energy" in html and "Filter Retail" not in html
    api = api_as(rep)
    names = [r["name"] for r in api.get("/api/v1/customers/", {"industry": "retail"}).json()["results"]]
    assert names == [a.name] and b.name not in names
    assert api.get("/api/v1/customers/", {"industry": "nonsense"}).status_code == 400


def test_dictionary_items_managed_by_admins_in_ui_and_api(admin, rep):
    ui = browser(admin)
    page = ui.get("/dictionary-items/", {"kind": "customer_level"}).content.decode()
    assert "Strategic" in page and "Manufacturing" not in page
    api = api_as(admin)
    rows = api.get("/api/v1/dictionary-items/", {"kind": "credit_rating", "page_size": 50}).json()["results"]
    assert [r["code"] for r in sorted(rows, key=lambda r: r["order"])] == ["AAA", "AA", "A", "B", "C"]
    created = api.post("/api/v1/dictionary-items/", {"kind": "industry", "code": "agri", "label_zh": "农业",
                                                     "label_en": "Agriculture", "order": 5})
    assert created.status_code == 201, created.json()
    # The new item is offered at once.
    assert 'value="agri"' in browser(rep).get("/customers/new/").content.decode()
    dup = api.post("/api/v1/dictionary-items/", {"kind": "industry", "code": "agri", "label_zh": "农",
                                                 "label_en": "Agri"})
    assert dup.status_code == 400
    # The code of an item cannot change (records hold it).
    item = DictionaryItem.objects.get(kind_id="industry", code="agri")
    moved = api.patch(f"/api/v1/dictionary-items/{item.pk}/", {"code": "agriculture", "version": item.version})
    assert moved.status_code == 400 and "code" in moved.json()["error"]["fields"]
    # An item records hold cannot be deleted (disable it instead); an unused one can.
    services.create(rep, Customer, {"name": "Agri Co", "industry": "agri"})
    refused = api.delete(f"/api/v1/dictionary-items/{item.pk}/")
    assert refused.status_code == 400 and DictionaryItem.objects.filter(pk=item.pk).exists()
    unused = DictionaryItem.objects.create(kind_id="industry", code="unused", label_zh="未用", label_en="Unused")
    assert api.delete(f"/api/v1/dictionary-items/{unused.pk}/").status_code == 204
    # A sales rep has no grant on the dictionary.
    assert browser(rep).get("/dictionary-items/").status_code == 403
    assert api_as(rep).get("/api/v1/dictionary-items/").status_code == 403


def test_customers_list_reads_labels_with_constant_queries(depts):
    boss = make_user("boss", depts["sales1"], {"customers": Scope.ALL})
    for i in range(30):
        Customer.objects.create(name=f"Many {i}", owner=boss, department=depts["sales1"], industry="it",
                                source="website", level="important", status="active", credit_rating="AA")
    ui = browser(boss)
    cols = "name,level,status,industry,source,customer_type,credit_rating"
    counts = []
    for size in (10, 25):
        ui.get("/customers/", {"cols": cols, "size": size})
        with CaptureQueriesContext(connection) as ctx:
            response = ui.get("/customers/", {"cols": cols, "size": size})
        assert response.status_code == 200 and "IT and software" in response.content.decode()
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
    dictionary_queries = [q for q in ctx.captured_queries if "core_dictionaryitem" in q["sql"]]
    assert len(dictionary_queries) <= 2  # one read of the items for the table, one for the filter form at most


def test_lookup_sees_a_change_at_once():
    """The items are cached per process under the dictionary's version; any write, a bulk
    update too, gives it a new one."""
    assert lookup.label("industry", "it") in ("IT 与软件", "IT and software")
    DictionaryItem.objects.filter(kind_id="industry", code="it").update(label_en="Software")
    from django.utils import translation

    with translation.override("en"):
        assert lookup.label("industry", "it") == "Software"
        assert lookup.label("industry", "unknown-code") == "unknown-code"


def test_gender_stays_fixed_choices():
    from crm.customers.models import Contact

    assert Contact._meta.get_field("gender").choices
