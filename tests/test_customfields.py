"""Custom fields (SYS-11): administrators define typed fields per entity; the values are validated
by one function on every channel (form, API, the model check behind the write services) and show
in forms (grouped, ordered), detail pages, list columns, filters, sort, saved views, the API and
the audit trail. Renaming a key moves the stored values; removing a field keeps them."""

import datetime
import decimal
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test.utils import CaptureQueriesContext
from django.db import connection
from django.utils import translation

from crm.core.audit.models import AuditEntry
from crm.core.customfields import defs, services as cf
from crm.core.customfields.models import CustomField
from crm.core.customfields.values import validate_value
from crm.core.entities import services
from crm.core.entities.models import SavedView
from crm.core.entities.registry import get_spec
from crm.core.testing.clients import api_as, browser
from crm.core.testing.org import Scope, make_user
from crm.core.ui import cells
from crm.core.ui.forms import form_class
from crm.customers.models import Customer
from crm.customers.testing import customer_post

pytestmark = pytest.mark.django_db

CHOICES = [{"code": "north", "label_zh": "华北", "label_en": "North"},
           {"code": "south", "label_zh": "华南", "label_en": "South"},
           {"code": "west", "label_zh": "西部", "label_en": "West"}]


@pytest.fixture
def fields(admin):
    """A representative set of definitions on customers."""
    out = {}
    for key, typ, extra in [
        ("region", "choice", {"choices": CHOICES, "show_in_list": True, "group_zh": "销售", "group_en": "Sales"}),
        ("channels", "multi_choice", {"choices": CHOICES}),
        ("score", "number", {"min_value": 0, "max_value": 100}),
        ("budget", "decimal", {"min_value": 0}),
        ("po_ref", "text", {"regex": r"PO-\d{4}", "min_value": 7, "max_value": 7}),
        ("remarks", "long_text", {}),
        ("visit_on", "date", {}),
        ("visit_at", "datetime", {}),
        ("vip", "boolean", {}),
        ("account_manager", "user", {}),
    ]:
        out[key] = cf.create(admin, "customers", {"key": key, "type": typ, "label_zh": f"{key}中文",
                                                  "label_en": f"{key} EN", **extra})
    return out


def customer(owner, **fields):
    fields.setdefault("name", "Acme")
    obj = Customer.objects.create(owner=owner, department=owner.department, **fields)
    obj.after_create(None)
    return obj


def edit_post(obj, **over):
    data = customer_post(name=obj.name, registered_at=obj.registered_at.strftime("%Y-%m-%dT%H:%M"),
                         credit_limit=str(obj.credit_limit))
    data["version"] = obj.version
    data.update(over)
    return data


def errors_in(response):
    return {m.group(1): m.group(2) for m in re.finditer(r'data-error-for="([^"]+)">([^<]*)<', response.content.decode())}


# Validation: one function, every type --------------------------------------------------------

@pytest.mark.parametrize("key,good,bad", [
    ("region", ["north", "south"], ["east", 3, ["north"]]),
    ("channels", [["north", "west"], "north"], [["north", "nowhere"], 5]),
    ("score", [0, 100, "42"], [-1, 101, 1.5, "abc", True]),
    ("budget", ["12.50", 0, decimal.Decimal("1e3")], ["-0.01", "ten", "1.1234567", True]),
    ("po_ref", ["PO-1234"], ["PO-12", "XX-1234", "PO-12345", 7]),
    ("remarks", ["line 1\nline 2"], ["x" * 5001]),
    ("visit_on", ["2026-01-31", datetime.date(2026, 2, 1)], ["2026-02-30", "yesterday", 20260101]),
    ("visit_at", ["2026-01-31T09:30:00+08:00", "2026-01-31T09:30"], ["2026-01-31T25:00", "soon"]),
    ("vip", [True, False, "yes", "否"], ["maybe", 2]),
])
def test_each_type_accepts_good_and_refuses_bad_values_with_a_translated_message(fields, key, good, bad):
    defn = fields[key]
    for value in good:
        validate_value(defn, value)
    for value in bad:
        with pytest.raises(ValidationError):
            validate_value(defn, value)
    with translation.override("zh-hans"):
        with pytest.raises(ValidationError) as exc:
            validate_value(defn, bad[0])
    assert re.search(r"[\u4e00-\u9fff]", exc.value.messages[0]), exc.value.messages  # translated


def test_stored_forms_are_canonical(fields, admin):
    assert validate_value(fields["budget"], "12.50", as_json=True) == "12.50"
    assert validate_value(fields["visit_at"], "2026-01-31T09:30:00+08:00", as_json=True) == "2026-01-31T01:30:00+00:00"
    assert validate_value(fields["channels"], ["west", "north", "west"], as_json=True) == ["west", "north"]
    assert validate_value(fields["account_manager"], admin.pk, as_json=True) == admin.pk
    gone = make_user("gone", admin.department, is_active=False)
    with pytest.raises(ValidationError):
        validate_value(fields["account_manager"], gone.pk)


def test_definitions_are_checked(admin):
    with pytest.raises(ValidationError) as exc:
        cf.create(admin, "customers", {"key": "Bad Key", "type": "text", "label_zh": "x", "label_en": "x"})
    assert "key" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        cf.create(admin, "customers", {"key": "pick", "type": "choice", "label_zh": "x", "label_en": "x"})
    assert "choices" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        cf.create(admin, "customers", {"key": "n", "type": "number", "label_zh": "x", "label_en": "x",
                                       "min_value": 5, "max_value": 1, "default": 3})
    assert "max_value" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        cf.create(admin, "customers", {"key": "n", "type": "number", "label_zh": "x", "label_en": "x", "default": "x"})
    assert "default" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        cf.create(admin, "customers", {"key": "t", "type": "text", "label_zh": "x", "label_en": "x", "regex": "("})
    assert "regex" in exc.value.message_dict
    cf.create(admin, "customers", {"key": "ind", "type": "choice", "label_zh": "行业", "label_en": "Industry",
                                   "dictionary_kind": "industry"})
    assert CustomField.objects.filter(entity="customers").count() == 1


def test_the_write_services_check_values_so_no_channel_can_skip_it(fields, rep):
    with pytest.raises(ValidationError) as exc:
        services.create(rep, Customer, {"name": "X", "custom": {"score": 500}})
    assert list(exc.value.message_dict) == ["custom.score"]
    assert not Customer.objects.filter(name="X").exists()
    obj = services.create(rep, Customer, {"name": "X", "custom": {"score": "7", "legacy": "kept"}})
    assert obj.custom == {"score": 7, "legacy": "kept"}  # normalised; unknown keys (old data) are kept


def test_a_value_the_record_already_holds_stays_valid_when_the_definition_tightens(fields, admin, rep):
    obj = services.create(rep, Customer, {"name": "X", "custom": {"score": 90}})
    cf.update(admin, fields["score"], {"max_value": 50})
    services.update(rep, Customer, obj.pk, {"name": "Y"})  # unrelated edit still saves
    with pytest.raises(ValidationError):
        services.update(rep, Customer, obj.pk, {"custom": {"score": 95}})


# Forms ---------------------------------------------------------------------------------------

def test_form_create_and_edit_with_custom_values(fields, rep):
    c = browser(rep)
    page = c.get("/customers/new/")
    html = page.content.decode()
    assert 'name="cf_region"' in html and "region EN" in html and 'data-field-group' in html and ">Sales<" in html
    assert html.index('name="cf_score"') < html.index('name="cf_budget"')  # the definitions' order
    r = c.post("/customers/new/", customer_post(
        cf_region="north", cf_channels=["north", "west"], cf_score="42", cf_budget="1234.5", cf_po_ref="PO-1234",
        cf_visit_on="2026-03-01", cf_visit_at="2026-03-01T09:30", cf_vip="true", cf_account_manager=str(rep.pk)))
    assert r.status_code == 302, errors_in(r)
    obj = Customer.objects.get(name="Acme Trading")
    assert obj.custom == {"region": "north", "channels": ["north", "west"], "score": 42, "budget": "1234.5",
                          "po_ref": "PO-1234", "visit_on": "2026-03-01", "visit_at": "2026-03-01T01:30:00+00:00",
                          "vip": True, "account_manager": rep.pk}
    form = c.get(f"/customers/{obj.pk}/edit/").content.decode()
    assert 'value="PO-1234"' in form and '<option value="north" selected>' in form
    r = c.post(f"/customers/{obj.pk}/edit/", edit_post(obj, cf_region="south", cf_score="43", cf_vip="false",
                                                      cf_channels=["west"]))
    assert r.status_code == 302, errors_in(r)
    obj.refresh_from_db()
    assert (obj.custom["region"], obj.custom["score"], obj.custom["vip"], obj.custom["channels"]) == (
        "south", 43, False, ["west"])
    assert "po_ref" not in obj.custom  # emptied in the form: cleared


def test_bad_values_in_the_form_are_errors_at_the_field_and_nothing_is_saved(fields, rep, admin):
    cf.update(admin, fields["region"], {"required": True})
    c = browser(rep, "zh-hans")
    r = c.post("/customers/new/", customer_post(cf_score="101", cf_po_ref="PO-1", cf_channels=["nowhere"]))
    assert r.status_code == 400
    errors = errors_in(r)
    assert set(errors) >= {"cf_region", "cf_score", "cf_po_ref", "cf_channels"}
    assert "必填" in errors["cf_region"]  # "This field is required." in Chinese
    assert "100" in errors["cf_score"] and re.search(r"[\u4e00-\u9fff]", errors["cf_score"])
    assert not Customer.objects.filter(name="Acme Trading").exists()
    obj = customer(rep, custom={"region": "north", "score": 5})
    r = c.post(f"/customers/{obj.pk}/edit/", edit_post(obj, name="Renamed", cf_region="north", cf_score="-3"))
    assert r.status_code == 400 and "cf_score" in errors_in(r)
    obj.refresh_from_db()
    assert (obj.name, obj.custom["score"]) == ("Acme", 5)  # nothing half-saved


def test_defaults_fill_new_records_in_the_form_and_the_api(admin, rep, api):
    cf.create(admin, "customers", {"key": "tier", "type": "choice", "label_zh": "等级", "label_en": "Tier",
                                   "choices": CHOICES, "default": "west"})
    cf.create(admin, "customers", {"key": "quota", "type": "decimal", "label_zh": "配额", "label_en": "Quota",
                                   "default": "9.5"})
    page = browser(rep).get("/customers/new/").content.decode()
    assert '<option value="west" selected>' in page and 'value="9.5"' in page
    r = api.as_user(rep).post("/api/v1/customers/", {"name": "Via API"})
    assert r.status_code == 201 and r.json()["custom"] == {"tier": "west", "quota": "9.5"}


def test_generated_form_carries_both_labels_for_import_and_only_active_users(fields, admin):
    make_user("left", admin.department, is_active=False)
    with translation.override("zh-hans"):
        form = form_class(get_spec("customers"))(user=admin)
        field = form.fields["cf_account_manager"]
        assert str(field.label) == "account_manager中文"
    assert (field.label_zh, field.label_en) == ("account_manager中文", "account_manager EN")
    assert "left" not in {u.username for u in field.queryset}


# Detail, list, filters, sort, saved views ---------------------------------------------------

def test_detail_shows_custom_values_with_labels(fields, rep):
    obj = customer(rep, custom={"region": "north", "channels": ["north", "south"], "budget": "1234.5", "vip": True,
                                "account_manager": rep.pk, "visit_on": "2026-03-01"})
    html = browser(rep).get(f"/customers/{obj.pk}/").content.decode()
    assert re.search(r'data-field="cf_region">North<', html)
    assert re.search(r'data-field="cf_channels">North, South<', html)
    assert re.search(r'data-field="cf_budget">1,234.50<', html)
    assert re.search(r'data-field="cf_vip">Yes<', html)
    assert re.search(r'data-field="cf_account_manager">Rep<', html)
    assert re.search(r'data-field="cf_visit_on">2026-03-01<', html)
    zh = browser(rep, "zh-hans").get(f"/customers/{obj.pk}/").content.decode()
    assert "region中文" in zh and re.search(r'data-field="cf_region">华北<', zh)


def test_list_column_filter_sort_and_saved_view(fields, rep, depts):
    for i in range(12):
        custom = {"region": ["north", "south", "west"][i % 3], "score": i * 10 % 70, "vip": i % 2 == 0,
                  "channels": [["north"], ["south", "west"], []][i % 3], "visit_on": f"2026-01-{i + 1:02d}"}
        customer(rep, name=f"C{i:02d}", custom={k: v for k, v in custom.items() if v != []})
    customer(rep, name="Empty")  # no custom values at all
    c = browser(rep)
    r = c.get("/customers/?cols=name,cf_region,cf_score")
    html = r.content.decode()
    assert "region EN" in html and 'value="cf_region"' in html and ">North<" in html
    assert 'value="cf_remarks"' in html  # every active field is in the column picker
    default = c.get("/customers/").content.decode()
    assert "region EN" in default and "score EN" not in default.split("<tbody>")[0].split("crm-table")[1]

    def names(url):
        return re.findall(r'/customers/\d+/">([^<]+)<', c.get(url + "&cols=name").content.decode())

    assert sorted(names("/customers/?cf_region=south")) == ["C01", "C04", "C07", "C10"]
    assert sorted(names("/customers/?cf_channels=west")) == ["C01", "C04", "C07", "C10"]
    assert sorted(names("/customers/?cf_channels=north&cf_channels=west")) == [f"C{i:02d}" for i in range(12)
                                                                                if i % 3 != 2]
    assert sorted(names("/customers/?cf_score_min=40&cf_score_max=50")) == ["C04", "C05", "C11"]
    assert sorted(names("/customers/?cf_vip=false&cf_region=north")) == ["C03", "C09"]
    assert sorted(names("/customers/?cf_visit_on_min=2026-01-11")) == ["C10", "C11"]
    # Sort by a custom number over keyset pages of 10: empty values sort lowest, ties by id.
    expected = [o.name for o in sorted(Customer.objects.all(),
                                       key=lambda o: (o.custom.get("score", -1), o.pk), reverse=True)]
    page1 = c.get("/customers/?sort=-cf_score&size=10&cols=name,cf_score").content.decode()
    first = re.findall(r'/customers/\d+/">([^<]+)<', page1)
    after = re.search(r'after=([^"&]+)', page1.split('data-testid="next"')[1]).group(1)
    second = names(f"/customers/?sort=-cf_score&size=10&after={after}")
    assert first + second == expected
    asc = names("/customers/?sort=cf_score&size=25")
    assert asc == list(reversed(expected))
    # A saved view keeps the custom column, filter and sort.
    r = c.post("/customers/views/", {"name": "South", "p_cols": "name,cf_score", "p_cf_region": "south",
                                     "p_sort": "-cf_score"})
    view = SavedView.objects.get(name="South")
    html = c.get(f"/customers/?view={view.pk}").content.decode()
    assert re.findall(r'/customers/\d+/">([^<]+)<', html) == ["C04", "C10", "C01", "C07"]
    assert "score EN" in html


def test_list_with_custom_columns_keeps_a_constant_number_of_queries(fields, rep, admin):
    def count(n):
        Customer.objects.all().delete()
        for i in range(n):
            customer(rep, name=f"Q{i}", custom={"account_manager": admin.pk, "region": "north"})
        c = browser(rep)
        with CaptureQueriesContext(connection) as ctx:
            assert c.get("/customers/?cols=name,cf_region,cf_account_manager&size=50").status_code == 200
        return len(ctx)

    count(2)  # warm-up: first-request caches
    assert count(3) == count(20)


def test_filters_cannot_reveal_values_of_records_outside_the_scope(fields, rep, depts):
    other = make_user("other", depts["guangzhou"], {"customers": Scope.OWN})
    customer(other, name="Secret", custom={"region": "west", "score": 99, "remarks": "confidential plan"})
    mine = customer(rep, name="Mine", custom={"region": "north"})
    c = browser(rep)
    for q in ("cf_region=west", "cf_score_min=90", "cf_remarks=confidential", "sort=-cf_score"):
        html = c.get(f"/customers/?{q}").content.decode()
        assert "Secret" not in html
    api = api_as(rep)
    for q in ("cf_region=west", "cf_score_min=90", "cf_remarks=confidential"):
        assert api.get(f"/api/v1/customers/?{q}").json()["results"] == []
    assert [r["id"] for r in api.get("/api/v1/customers/?cf_region=north").json()["results"]] == [mine.pk]


# API -----------------------------------------------------------------------------------------

def test_api_reads_and_writes_custom_values(fields, rep):
    api = api_as(rep)
    r = api.post("/api/v1/customers/", {"name": "API Co", "custom": {
        "region": "west", "channels": ["south"], "score": 12, "budget": "99.90", "visit_on": "2026-05-01",
        "visit_at": "2026-05-01T08:00:00Z", "vip": True, "account_manager": rep.pk}})
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["custom"] == {"region": "west", "channels": ["south"], "score": 12, "budget": "99.90",
                              "visit_on": "2026-05-01", "visit_at": "2026-05-01T08:00:00+00:00", "vip": True,
                              "account_manager": rep.pk}
    r = api.patch(f"/api/v1/customers/{body['id']}/", {"custom": {"score": 13, "vip": None}})
    assert r.status_code == 200
    custom = r.json()["custom"]
    assert custom["score"] == 13 and "vip" not in custom and custom["region"] == "west"  # only sent keys change
    assert api.get(f"/api/v1/customers/{body['id']}/").json()["custom"] == custom
    results = api.get("/api/v1/customers/?cf_region=west&sort=-cf_score").json()["results"]
    assert [x["id"] for x in results] == [body["id"]]


def test_api_errors_are_at_custom_key_translated_and_nothing_is_saved(fields, rep, admin):
    api = api_as(rep, "zh-hans")
    obj = customer(rep, custom={"score": 5})
    r = api.patch(f"/api/v1/customers/{obj.pk}/", {"name": "Changed", "custom": {
        "score": 1000, "region": "east", "nope": 1}})
    assert r.status_code == 400
    fields_ = r.json()["error"]["fields"]
    assert set(fields_) == {"custom.score", "custom.region", "custom.nope"}
    assert re.search(r"[\u4e00-\u9fff]", fields_["custom.score"][0])
    obj.refresh_from_db()
    assert (obj.name, obj.custom) == ("Acme", {"score": 5})
    cf.update(admin, fields["region"], {"required": True})
    r = api_as(rep).post("/api/v1/customers/", {"name": "No region"})
    assert r.status_code == 400 and list(r.json()["error"]["fields"]) == ["custom.region"]
    assert not Customer.objects.filter(name="No region").exists()
    r = api_as(rep).post("/api/v1/customers/", {"name": "Bad", "custom": ["not", "an", "object"]})
    assert r.status_code == 400 and "custom" in r.json()["error"]["fields"]


def test_definitions_api_and_json_schema(fields, rep, admin, api):
    r = api.as_user(rep).get("/api/v1/custom-fields/?entity=customers")
    assert r.status_code == 200
    by_key = {d["key"]: d for d in r.json()}
    assert by_key["region"]["choices"][0] == {"code": "north", "label_zh": "华北", "label_en": "North"}
    assert by_key["score"]["filter_parameters"] == ["cf_score_min", "cf_score_max"]
    schema = api.get("/api/v1/custom-fields/json-schema/?entity=customers").json()
    assert schema["properties"]["region"]["enum"] == ["north", "south", "west"]
    assert schema["properties"]["score"] == {"type": "integer", "minimum": 0, "maximum": 100, "title": "score EN",
                                             "x-label-zh": "score中文", "nullable": True}
    assert schema["additionalProperties"] is False


def test_only_manage_settings_may_define_fields(rep, depts, api):
    payload = {"entity": "customers", "key": "size", "type": "number", "label_zh": "规模", "label_en": "Size"}
    assert api.as_user(rep).post("/api/v1/custom-fields/", payload).status_code == 403
    assert browser(rep).get("/settings/custom-fields/customers/").status_code == 403
    assert browser(rep).post("/settings/custom-fields/customers/new/", payload).status_code == 403
    assert not CustomField.objects.exists()
    with pytest.raises(PermissionDenied):
        cf.create(rep, "customers", {"key": "size", "type": "number", "label_zh": "x", "label_en": "x"})
    boss = make_user("boss", depts["hq"], {"customers": Scope.OWN}, specials=["manage_settings"])
    r = api_as(boss).post("/api/v1/custom-fields/", payload)
    assert r.status_code == 201 and r.json()["active"] is True
    defn = CustomField.objects.get(key="size")
    r = api_as(boss).patch(f"/api/v1/custom-fields/{defn.pk}/", {"label_en": "Headcount", "required": True})
    assert r.status_code == 200 and r.json()["label_en"] == "Headcount"
    assert api_as(rep).patch(f"/api/v1/custom-fields/{defn.pk}/", {"required": False}).status_code == 403
    r = api_as(boss).post("/api/v1/custom-fields/", {**payload, "key": "size"})
    assert r.status_code == 400
    assert AuditEntry.objects.filter(object_repr="规模").exists() or AuditEntry.objects.filter(
        object_repr="Headcount").exists()


def test_settings_pages_add_edit_reorder_remove_and_restore(admin, rep):
    c = browser(admin)
    r = c.post("/settings/custom-fields/customers/new/", {
        "key": "sector", "type": "choice", "label_zh": "板块", "label_en": "Sector", "choices": "a | 甲 | Alpha\nb | 乙 | Beta",
        "order": "10", "filterable": "on", "sortable": "on", "default": "b"})
    assert r.status_code == 302, r.content.decode()[:3000]
    r = c.post("/settings/custom-fields/customers/new/", {"key": "size", "type": "number", "label_zh": "规模",
                                                         "label_en": "Size", "order": "20", "min_value": "5",
                                                         "max_value": "1"})
    assert r.status_code == 400 and "max_value" in errors_in(r)
    c.post("/settings/custom-fields/customers/new/", {"key": "size", "type": "number", "label_zh": "规模",
                                                     "label_en": "Size", "order": "20"})
    sector = CustomField.objects.get(key="sector")
    assert sector.choices == [{"code": "a", "label_zh": "甲", "label_en": "Alpha"},
                              {"code": "b", "label_zh": "乙", "label_en": "Beta"}] and sector.default == "b"
    page = c.get("/settings/custom-fields/customers/").content.decode()
    assert page.index('data-key="sector"') < page.index('data-key="size"')
    c.post(f"/settings/custom-fields/customers/{CustomField.objects.get(key='size').pk}/move/", {"direction": "up"})
    page = c.get("/settings/custom-fields/customers/").content.decode()
    assert page.index('data-key="size"') < page.index('data-key="sector"')
    r = c.post(f"/settings/custom-fields/customers/{sector.pk}/edit/", {
        "label_zh": "板块", "label_en": "Business sector", "choices": "a | 甲 | Alpha\nb | 乙 | Beta", "order": "30",
        "default": "z"})
    assert r.status_code == 400 and "default" in errors_in(r)
    r = c.post(f"/settings/custom-fields/customers/{sector.pk}/remove/")
    assert r.status_code == 302 and CustomField.objects.get(pk=sector.pk).removed_at is not None
    assert 'data-testid="removed"' in c.get("/settings/custom-fields/customers/").content.decode()
    c.post(f"/settings/custom-fields/customers/{sector.pk}/restore/")
    assert CustomField.objects.get(pk=sector.pk).removed_at is None
    assert "Custom fields" in browser(admin).get("/").content.decode()  # in the Settings menu


# Rename, removal, audit ----------------------------------------------------------------------

def test_renaming_a_key_moves_the_stored_values(fields, rep, admin, monkeypatch):
    monkeypatch.setattr(cf, "BATCH", 3)  # several id ranges
    objs = [customer(rep, name=f"R{i}", custom={"region": "north", "score": i, "channels": ["west"]}) for i in range(8)]
    untouched = customer(rep, name="None")
    services.delete(rep, Customer, objs[0].pk)  # in the recycle bin: moved too
    view = SavedView.objects.create(entity="customers", name="v", user=rep, params={
        "cols": "name,cf_score", "sort": "-cf_score", "cf_score_min": "2", "cf_region": "north"})
    r = api_as(admin).post(f"/api/v1/custom-fields/{fields['score'].pk}/rename/", {"key": "rating"})
    assert r.status_code == 200 and r.json()["key"] == "rating"
    for o in Customer.all_objects.filter(name__startswith="R"):
        assert o.custom == {"region": "north", "rating": int(o.name[1:]), "channels": ["west"]}
    untouched.refresh_from_db()
    assert untouched.custom == {}
    view.refresh_from_db()
    assert view.params == {"cols": "name,cf_rating", "sort": "-cf_rating", "cf_rating_min": "2", "cf_region": "north"}
    assert api_as(rep).get(f"/api/v1/customers/{objs[3].pk}/").json()["custom"]["rating"] == 3
    r = api_as(admin).post(f"/api/v1/custom-fields/{fields['region'].pk}/rename/", {"key": "rating"})
    assert r.status_code == 400
    # The settings page renames as well (a list value moves intact).
    r = browser(admin).post(f"/settings/custom-fields/customers/{fields['channels'].pk}/rename/", {"key": "routes"})
    assert r.status_code == 302
    assert Customer.all_objects.get(pk=objs[1].pk).custom["routes"] == ["west"]


def test_removing_a_field_keeps_the_data_retrievable(fields, rep, admin):
    obj = customer(rep, custom={"region": "north", "score": 5})
    r = api_as(admin).delete(f"/api/v1/custom-fields/{fields['score'].pk}/")
    assert r.status_code == 204
    assert "score" not in api_as(rep).get(f"/api/v1/customers/{obj.pk}/").json()["custom"]
    assert 'name="cf_score"' not in browser(rep).get(f"/customers/{obj.pk}/edit/").content.decode()
    # Editing the record keeps the removed field's value.
    r = browser(rep).post(f"/customers/{obj.pk}/edit/", edit_post(obj, name="Still", cf_region="south"))
    assert r.status_code == 302
    obj.refresh_from_db()
    assert obj.custom == {"region": "south", "score": 5}
    assert api_as(rep).patch(f"/api/v1/customers/{obj.pk}/", {"custom": {"score": 6}}).status_code == 400
    # Administrators see it read-only on the detail page; others do not.
    assert re.search(r'data-testid="removed-custom".*data-field="cf_score">5<',
                     browser(admin).get(f"/customers/{obj.pk}/").content.decode(), re.S)
    assert 'removed-custom' not in browser(rep).get(f"/customers/{obj.pk}/").content.decode()
    cf.restore(admin, CustomField.objects.get(key="score"))
    assert api_as(rep).get(f"/api/v1/customers/{obj.pk}/").json()["custom"]["score"] == 5


def test_changes_of_custom_values_are_audited_and_shown_in_the_timeline(fields, rep):
    obj = services.create(rep, Customer, {"name": "Audited", "custom": {"region": "north"}})
    created = AuditEntry.objects.get(object_id=obj.pk, action="create", content_type__model="customer")
    assert created.changes["custom.region"] == [None, "north"]
    r = browser(rep).post(f"/customers/{obj.pk}/edit/", edit_post(obj, name="Audited", cf_region="south",
                                                                  cf_score="8"))
    assert r.status_code == 302
    entry = AuditEntry.objects.filter(object_id=obj.pk, action="update").latest("id")
    assert {k: v for k, v in entry.changes.items() if k.startswith("custom.")} == {
        "custom.region": ["north", "south"], "custom.score": [None, 8]}
    html = browser(rep).get(f"/customers/{obj.pk}/").content.decode()
    assert re.search(r"Region EN:</span> <del>North</del> → <ins>South</ins>", html)
    timeline = api_as(rep).get(f"/api/v1/customers/{obj.pk}/notes/").json()
    assert any(i["changes"] and i["changes"].get("custom.score") == [None, 8] for i in timeline)


def test_cells_display_custom_values_for_exports(fields, rep):
    obj = customer(rep, custom={"region": "west", "budget": "1000", "visit_at": "2026-03-01T01:30:00+00:00"})
    spec = get_spec("customers")
    with translation.override("en"):
        assert cells.display(rep, spec, obj, "cf_region") == "West"
        assert cells.display(rep, spec, obj, "cf_budget") == "1,000.00"
        assert cells.display(rep, spec, obj, "cf_visit_at") == "2026-03-01 09:30"
        assert cells.display(rep, spec, obj, "cf_score") == ""
        assert cells.field_label(Customer, "cf_region") == "Region EN"


def test_definitions_version_changes_with_every_definition_change(admin):
    v0 = defs.version()
    d = cf.create(admin, "customers", {"key": "a", "type": "text", "label_zh": "甲", "label_en": "A"})
    v1 = defs.version()
    cf.update(admin, d, {"label_en": "AA"})
    v2 = defs.version()
    cf.remove(admin, d)
    v3 = defs.version()
    assert len({v0, v1, v2, v3}) == 4
    assert [x.key for x in defs.definitions("customers", include_removed=True)] == ["a"]
    assert defs.definitions("customers") == []


def test_copy_carries_the_custom_values(fields, rep):
    src = customer(rep, custom={"region": "west", "score": 9, "channels": ["north"]})
    html = browser(rep).get(f"/customers/{src.pk}/copy/").content.decode()
    assert '<option value="west" selected>' in html and 'name="cf_score" value="9"' in html


def test_a_choice_field_can_use_a_data_dictionary_kind(admin, rep):
    cf.create(admin, "customers", {"key": "sector", "type": "choice", "label_zh": "行业", "label_en": "Sector",
                                   "dictionary_kind": "industry"})
    api = api_as(rep)
    r = api.post("/api/v1/customers/", {"name": "Dict", "custom": {"sector": "it"}})
    assert r.status_code == 201
    assert api.post("/api/v1/customers/", {"name": "Bad", "custom": {"sector": "nonsense"}}).status_code == 400
    obj = Customer.objects.get(name="Dict")
    assert cells.display(rep, get_spec("customers"), obj, "cf_sector") == "IT and software"


def test_a_user_field_keeps_showing_a_user_who_left(fields, rep, admin):
    left = make_user("left", rep.department, name="Left User")
    obj = customer(rep, custom={"account_manager": left.pk})
    left.is_active = False
    left.save()
    html = browser(rep).get(f"/customers/{obj.pk}/edit/").content.decode()
    assert re.search(rf'<option value="{left.pk}" selected>Left User</option>', html)
    assert re.search(r'data-field="cf_account_manager">Left User<', browser(rep).get(f"/customers/{obj.pk}/").content.decode())
    r = browser(rep).post(f"/customers/{obj.pk}/edit/", edit_post(obj, name="Kept", cf_account_manager=str(left.pk)))
    assert r.status_code == 302  # the value it already held stays valid
    obj.refresh_from_db()
    assert obj.custom["account_manager"] == left.pk
    api = api_as(rep)
    assert api.patch(f"/api/v1/customers/{obj.pk}/", {"custom": {"account_manager": left.pk}}).status_code == 200
    other = customer(rep, name="Other")
    r = api.patch(f"/api/v1/customers/{other.pk}/", {"custom": {"account_manager": left.pk}})
    assert r.status_code == 400 and list(r.json()["error"]["fields"]) == ["custom.account_manager"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the GIN index is PostgreSQL's seam")
def test_postgresql_has_one_gin_index_for_exact_custom_filters(fields, rep):
    from crm.core.customfields.query import filter_q

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'customers_customer_custom_gin'")
        (indexdef,) = cursor.fetchone()
    assert "gin" in indexdef.lower() and "jsonb_path_ops" in indexdef
    sql = str(Customer.objects.filter(filter_q(fields["region"], "exact", "north")).query)
    assert "@>" in sql  # containment: served by that index


# Import and export (crm.core.io uses the generated form and cells.display) -------------------

def test_import_fills_custom_fields_by_either_label_and_refuses_bad_values(fields, rep):
    import csv as csv_module
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile

    from crm.core.io import jobs
    from crm.core.io.importer import run_job

    buf = io.StringIO()
    csv_module.writer(buf).writerows([["Name", "region中文", "score EN"], ["导入一", "north", "42"],
                                      ["导入二", "south", "4200"]])
    with translation.override("en"):  # run_job switches to the job's language; keep that inside this test
        job = jobs.start(rep, get_spec("customers"), SimpleUploadedFile("c.csv", buf.getvalue().encode()))
        run_job(job.pk)
    assert Customer.objects.get(name="导入一").custom == {"region": "north", "score": 42}
    assert not Customer.objects.filter(name="导入二").exists()  # a bad row is refused whole


def test_export_has_custom_columns_and_sorts_by_them(fields, rep):
    import csv as csv_module
    import io

    for name, score in (("Low", 1), ("High", 90), ("None", None)):
        customer(rep, name=name, custom={"region": "west", **({"score": score} if score is not None else {})})
    r = browser(rep, "zh-hans").get("/customers/export/", {"cols": "name,cf_region,cf_score", "sort": "-cf_score"})
    body = b"".join(r.streaming_content) if r.streaming else r.content
    rows = list(csv_module.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows == [["名称" if rows[0][0] == "名称" else "Name", "Region中文", "Score中文"], ["High", "西部", "90"],
                    ["Low", "西部", "1"], ["None", "西部", ""]]
