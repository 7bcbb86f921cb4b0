"""Territories (SAL-9): matching (the deepest territory wins, criteria inherited from the
ancestors, fixed by hand), the re-territory job and command, what territory members see (list,
API, search, export — and never edit), lead assignment by territory (round robin, parent
fallback, the rule's fallback), the funnel's roll-up by territory, and bad input at its field
with nothing written."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from crm.core.audit.models import AuditEntry
from crm.core.entities import services
from crm.core.jobs.testing import jobs_of, run_jobs
from crm.core.testing.clients import api_as, browser
from crm.core.testing.org import Scope, make_user
from crm.customers.models import Customer
from crm.org.models import Territory, TerritoryMember
from crm.org.tasks import reterritory_job
from crm.sales import reports
from crm.sales import services as sales
from crm.sales.models import AssignmentMethod, Lead, LeadAssignmentRule, Opportunity
from crm.sales.testing import make_pipeline, open_stages

pytestmark = pytest.mark.django_db

CUSTOMER_ACTIONS = ("view", "create", "edit", "delete", "export")


def territory(admin, name, code, parent=None, **criteria):
    return services.create(admin, Territory, {"name": name, "code": code, "parent": parent, **criteria})


@pytest.fixture
def tree(admin):
    east = territory(admin, "华东", "EAST", regions="上海,江苏,浙江")
    shanghai = territory(admin, "上海", "SH", east, regions="上海")
    jiangsu = territory(admin, "江苏", "JS", east, regions="江苏")
    south = territory(admin, "华南", "SOUTH", regions="广东")
    mfg = territory(admin, "制造业", "MFG", industries="manufacturing")
    big = territory(admin, "上海大客户", "SH-KA", shanghai, levels="strategic")
    return {"east": east, "sh": shanghai, "js": jiangsu, "south": south, "mfg": mfg, "big": big}


def customer(user, **fields):
    return services.create(user, Customer, {"name": fields.pop("name", "客户"), **fields})


def rep_with(name, dept, **grants):
    base = {("customers", a): Scope.OWN for a in CUSTOMER_ACTIONS}
    base.update({("leads", a): Scope.OWN for a in CUSTOMER_ACTIONS})
    base.update(grants)
    return make_user(name, dept, base)


# --- Matching -----------------------------------------------------------------------------------

def test_the_deepest_matching_territory_wins(admin, tree):
    assert customer(admin, name="A", province="上海", industry="manufacturing").territory == tree["sh"]
    assert customer(admin, name="B", province="上海", level="strategic").territory == tree["big"]
    assert customer(admin, name="C", province="浙江", city="杭州").territory == tree["east"]
    assert customer(admin, name="D", province="北京", industry="manufacturing").territory == tree["mfg"]
    assert customer(admin, name="E", province="北京", industry="it").territory is None
    # A child's criteria add to its ancestors': "上海大客户" asks for 上海 *and* strategic.
    assert customer(admin, name="F", province="广东", level="strategic").territory == tree["south"]


def test_a_lead_is_matched_by_region_and_industry(admin, tree):
    lead = services.create(admin, Lead, {"name": "线索", "province": "江苏", "city": "苏州"})
    assert lead.territory == tree["js"]
    lead = services.update(admin, Lead, lead.pk, {"province": "北京", "industry": "manufacturing"})
    assert lead.territory == tree["mfg"]


def test_a_disabled_territory_takes_its_branch_out_of_matching(admin, tree):
    services.update(admin, Territory, tree["east"].pk, {"is_active": False})
    assert customer(admin, name="A", province="上海").territory is None


def test_the_territory_fixed_by_hand_stays_and_an_edit_rematches_the_rest(admin, tree):
    fixed = customer(admin, name="Fixed", province="上海", territory=tree["south"], territory_fixed=True)
    free = customer(admin, name="Free", province="上海", territory=tree["south"])
    assert fixed.territory == tree["south"]
    assert free.territory == tree["sh"]  # not fixed: the matching decides
    free = services.update(admin, Customer, free.pk, {"province": "广东"})
    assert free.territory == tree["south"]
    api = api_as(admin)
    body = api.patch(f"/api/v1/customers/{fixed.pk}/", {"territory_fixed": False, "version": fixed.version}).json()
    assert body["territory"] == tree["sh"].pk


def test_who_cannot_see_territories_cannot_undo_a_hand_choice(admin, depts, tree):
    rep = rep_with("plain", depts["sales1"])  # no grant on territories: the picker offers nothing
    c = customer(rep, name="Fixed", province="上海")
    services.update(admin, Customer, c.pk, {"territory": tree["south"], "territory_fixed": True})
    c = Customer.objects.get(pk=c.pk)
    form = browser(rep).get(f"/customers/{c.pk}/edit/").content.decode()
    assert f'value="{tree["south"].pk}"' not in form
    r = browser(rep).post(f"/customers/{c.pk}/edit/", {"name": "Fixed 2", "province": "上海", "customer_type": "company",
                                                        "level": "normal", "status": "potential", "credit_limit": "0",
                                                        "country": "中国", "registered_at": "2026-01-05 09:00",
                                                        "territory": "", "version": c.version})
    assert r.status_code == 302, r.content.decode()[:3000]
    c = Customer.objects.get(pk=c.pk)
    assert (c.name, c.territory_id, c.territory_fixed) == ("Fixed 2", tree["south"].pk, True)
    new = services.create(rep, Customer, {"name": "New", "province": "上海", "territory": None,
                                          "territory_fixed": True})
    assert (new.territory_id, new.territory_fixed) == (tree["sh"].pk, False)


def test_an_import_matches_territories(admin, tree):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from crm.core.entities.registry import get_spec
    from crm.core.io import jobs as io_jobs
    from crm.core.io.importer import run_job

    data = "客户名称,省份,行业\n导入甲,上海,\n导入乙,北京,制造业\n".encode("utf-8")
    job = io_jobs.start(admin, get_spec("customers"), SimpleUploadedFile("c.csv", data))
    run_job(job.pk)
    assert Customer.objects.get(name="导入甲").territory == tree["sh"]
    assert Customer.objects.get(name="导入乙").territory == tree["mfg"]


# --- Re-territorying ----------------------------------------------------------------------------

def test_changing_criteria_re_territories_in_a_background_job(admin, tree):
    hz = customer(admin, name="杭州客户", province="浙江")
    nj = customer(admin, name="南京客户", province="江苏")
    fixed = customer(admin, name="手工", province="浙江", territory=tree["south"], territory_fixed=True)
    versions = {c.pk: c.version for c in (hz, nj, fixed)}
    assert hz.territory == tree["east"] and nj.territory == tree["js"]

    zj = territory(admin, "浙江", "ZJ", tree["east"], regions="浙江")
    services.update(admin, Territory, tree["js"].pk, {"regions": "安徽"})
    assert len(jobs_of(reterritory_job)) >= 2  # enqueued after commit by both writes
    assert Customer.objects.get(pk=hz.pk).territory_id == tree["east"].pk  # not yet: it runs in the background
    run_jobs()
    assert Customer.objects.get(pk=hz.pk).territory_id == zj.pk
    assert Customer.objects.get(pk=nj.pk).territory_id == tree["east"].pk  # 江苏 is no longer JS's
    assert Customer.objects.get(pk=fixed.pk).territory_id == tree["south"].pk  # fixed by hand
    # Bulk UPDATEs: no per-row save, so nobody's open form became stale.
    assert {c.pk: c.version for c in Customer.objects.filter(pk__in=versions)} == versions
    entries = [e.extra["reterritory"] for e in AuditEntry.objects.filter(extra__has_key="reterritory")]
    assert len(entries) == len(jobs_of(reterritory_job))  # one audit entry per re-territorying
    assert sum(e["customers.Customer"] for e in entries) == 2  # 杭州 and 南京 moved, once each
    job = jobs_of(reterritory_job)[-1]
    assert job.status == "succeeded" and job.progress_done == job.progress_total > 0


def test_moving_a_territory_re_territories_and_the_command_does_too(admin, tree):
    c = customer(admin, name="大客户", province="上海", level="strategic")
    assert c.territory == tree["big"]
    Territory.objects.filter(pk=tree["big"].pk).update(levels="important")  # behind the services' back
    call_command("reterritory", stdout=io.StringIO())
    assert Customer.objects.get(pk=c.pk).territory_id == tree["sh"].pk


def test_re_territory_trigger_by_api_and_page(admin, tree):
    c = Customer.objects.create(name="Raw", province="上海", owner=admin, department=admin.department)
    assert c.territory_id is None  # written directly, never matched
    r = api_as(admin).post("/api/v1/territories/reterritory/")
    assert r.status_code == 202 and r.json()["job"]
    run_jobs()
    assert Customer.objects.get(pk=c.pk).territory_id == tree["sh"].pk
    page = browser(admin).post("/org/territories/reterritory/")
    assert page.status_code == 302
    viewer = make_user("viewer", admin.department, {("territories", "view"): Scope.ALL})
    assert api_as(viewer).post("/api/v1/territories/reterritory/").status_code == 403


# --- Visibility: the one scope predicate --------------------------------------------------------

@pytest.fixture
def people(depts, tree):
    owner = rep_with("owner", depts["guangzhou"])
    member = rep_with("member", depts["sales1"])
    outsider = rep_with("outsider", depts["sales1"])
    boss = rep_with("boss", depts["east"])
    TerritoryMember.objects.create(territory=tree["sh"], user=member, role="member")
    TerritoryMember.objects.create(territory=tree["east"], user=boss, role="manager")
    TerritoryMember.objects.create(territory=tree["east"], user=outsider, role="member")  # East itself only
    return {"owner": owner, "member": member, "outsider": outsider, "boss": boss}


def export_names(client):
    response = client.get("/customers/export/", {"cols": "name"})
    assert response.status_code == 200
    text = b"".join(response.streaming_content if response.streaming else [response.content]).decode("utf-8-sig")
    return {row[0] for row in csv.reader(io.StringIO(text))}


def test_members_see_their_territory_through_list_api_search_and_export(people, tree):
    owner = people["owner"]
    secret = customer(owner, name="浦东精密机械", province="上海")
    assert secret.territory == tree["sh"]
    for who, sees in (("member", True), ("boss", True), ("outsider", False)):
        user = people[who]
        client = browser(user)
        listed = "浦东精密机械" in client.get("/customers/").content.decode()
        api_ids = [c["id"] for c in api_as(user).get("/api/v1/customers/").json()["results"]]
        searched = "浦东精密机械" in client.get("/search/", {"q": "浦东精密"}).content.decode()
        exported = "浦东精密机械" in export_names(client)
        detail = client.get(f"/customers/{secret.pk}/").status_code
        assert (listed, secret.pk in api_ids, searched, exported, detail == 200) == (sees,) * 5, who
        # Seeing is not editing: the edit scope stays owner/department.
        patched = api_as(user).patch(f"/api/v1/customers/{secret.pk}/", {"name": "改名", "version": secret.version})
        assert patched.status_code == 404
    assert Customer.objects.get(pk=secret.pk).name == "浦东精密机械"


def test_members_see_the_leads_of_their_territory_too(people, tree):
    lead = services.create(people["owner"], Lead, {"name": "浦东线索", "province": "上海市"})
    assert lead.territory == tree["sh"]
    for who, sees in (("member", True), ("boss", True), ("outsider", False)):
        ids = [r["id"] for r in api_as(people[who]).get("/api/v1/leads/").json()["results"]]
        found = f"/leads/{lead.pk}/" in browser(people[who]).get("/search/", {"q": "浦东线索"}).content.decode()
        assert (lead.pk in ids, found) == (sees, sees), who


def test_leaving_a_territory_or_disabling_it_ends_the_visibility(people, tree):
    secret = customer(people["owner"], name="浦东精密机械", province="上海")
    member = people["member"]
    assert api_as(member).get(f"/api/v1/customers/{secret.pk}/").status_code == 200
    services.update(_admin(), Territory, tree["sh"].pk, {"is_active": False})
    assert api_as(member).get(f"/api/v1/customers/{secret.pk}/").status_code == 404
    TerritoryMember.objects.filter(user=member).delete()
    assert browser(member).get(f"/customers/{secret.pk}/").status_code == 404


def _admin():
    from crm.org.models import User

    return User.objects.get(username="root")


def test_no_grant_still_sees_nothing(depts, tree, people):
    secret = customer(people["owner"], name="浦东精密机械", province="上海")
    nobody = make_user("nobody", depts["sales1"], {("leads", "view"): Scope.OWN})
    TerritoryMember.objects.create(territory=tree["sh"], user=nobody)
    assert api_as(nobody).get(f"/api/v1/customers/{secret.pk}/").status_code == 403
    assert not Customer.objects.for_user(nobody).exists()


def test_territory_list_and_filter_columns(admin, tree, people):
    customer(people["owner"], name="浦东精密机械", province="上海")
    customer(people["owner"], name="广州商贸", province="广东")
    page = browser(people["member"]).get("/customers/", {"territory": tree["sh"].pk, "cols": "name,territory"})
    html = page.content.decode()
    assert "浦东精密机械" in html and "广州商贸" not in html and "上海" in html
    tree_page = browser(admin).get("/org/territories/").content.decode()
    assert 'data-territory="SH"' in tree_page and "华东" in tree_page
    detail = browser(admin).get(f"/territories/{tree['sh'].pk}/").content.decode()
    assert "member" in detail.lower() and "Member" in detail


# --- Lead assignment by territory ---------------------------------------------------------------

def test_assignment_by_territory_round_robin_with_parent_and_rule_fallback(admin, depts, tree):
    a = make_user("ta", depts["sales1"])
    b = make_user("tb", depts["sales1"])
    east_rep = make_user("te", depts["east"])
    fallback = make_user("tf", depts["south"])
    TerritoryMember.objects.create(territory=tree["sh"], user=a)
    TerritoryMember.objects.create(territory=tree["sh"], user=b)
    TerritoryMember.objects.create(territory=tree["east"], user=east_rep)
    rule = LeadAssignmentRule.objects.create(name="By territory", method=AssignmentMethod.TERRITORY)
    rule.members.set([fallback])

    def owner_of(**fields):
        lead = services.create(admin, Lead, {"name": "L", **fields})
        return sales.assign(admin, lead.pk).owner

    assert [owner_of(province="上海") for _ in range(3)] == [a, b, a]
    assert owner_of(province="江苏") == east_rep  # JS has no members: its parent East
    assert owner_of(province="北京") == fallback  # no territory: the rule's own people


def test_capture_by_web_form_uses_the_territory_rule(admin, depts, tree):
    from crm.sales.models import LeadWebForm

    a = make_user("ta", depts["sales1"])
    TerritoryMember.objects.create(territory=tree["sh"], user=a)
    LeadAssignmentRule.objects.create(name="By territory", method=AssignmentMethod.TERRITORY)
    form = LeadWebForm.objects.create(name="F", default_owner=admin)
    lead = sales.capture(form, {"name": "Web", "province": "上海"})
    assert lead.territory == tree["sh"] and lead.owner == a


# --- Funnel roll-up -----------------------------------------------------------------------------

def test_funnel_rolls_up_by_territory(admin, tree):
    pipeline = make_pipeline("Std", stages=(("Qualify", 10), ("Propose", 50)))
    s1, s2 = open_stages(pipeline)
    close = datetime.date.today() + datetime.timedelta(days=30)
    for name, province, amount, stage in (("沪一", "上海", "100", s1), ("沪二", "上海", "300", s2),
                                          ("苏一", "江苏", "50", s1), ("京一", "北京", "7", s1)):
        cust = customer(admin, name=name, province=province)
        services.create(admin, Opportunity, {"name": name, "customer": cust, "pipeline": pipeline, "stage": stage,
                                             "amount": Decimal(amount), "expected_close_date": close})
    rows = {r["name"]: r for r in reports.funnel(admin, pipeline, {})["by_territory"]}
    assert rows["上海"]["count"] == 2 and rows["上海"]["total"] == Decimal("400.00")
    assert rows["上海"]["weighted"] == Decimal("160.00")  # 100×10% + 300×50%
    assert rows["江苏"]["total"] == Decimal("50.00")
    assert rows["华东"]["count"] == 3 and rows["华东"]["own_count"] == 0  # rolled up from 上海 and 江苏
    assert rows["华东"]["total"] == Decimal("450.00")
    assert rows[None]["total"] == Decimal("7.00")  # no territory
    assert "华南" not in rows  # nothing there
    only_east = reports.funnel(admin, pipeline, {"territory": str(tree["east"].pk)})
    assert only_east["summary"]["open_total"] == Decimal("450.00")
    html = browser(admin).get("/sales/funnel/", {"pipeline": pipeline.pk}).content.decode()
    assert 'data-testid="table-territories"' in html and "华东" in html


def test_funnel_by_territory_follows_the_scope(depts, tree):
    pipeline = make_pipeline("Std", stages=(("Qualify", 10),))
    (s1,) = open_stages(pipeline)
    grants = {k: Scope.OWN for k in ("opportunities", "customers")}
    mine, other = make_user("mine", depts["sales1"], grants), make_user("other", depts["south"], grants)
    close = datetime.date.today() + datetime.timedelta(days=30)
    for owner, amount in ((mine, "10"), (other, "90")):
        cust = customer(owner, name=f"C{amount}", province="上海")
        services.create(owner, Opportunity, {"name": "O", "customer": cust, "pipeline": pipeline, "stage": s1,
                                             "amount": Decimal(amount), "expected_close_date": close})
    rows = {r["name"]: r for r in reports.funnel(mine, pipeline, {})["by_territory"]}
    assert rows["上海"]["total"] == Decimal("10.00") and rows["华东"]["total"] == Decimal("10.00")


# --- Bad input ----------------------------------------------------------------------------------

def test_bad_territories_are_refused_at_their_field_and_nothing_is_written(admin, tree):
    api = api_as(admin)
    count = Territory.objects.count()
    for payload, field in (({"name": "X", "code": "SH"}, "code"),
                           ({"name": "X", "code": "X1", "industries": "manufacturing,nonsense"}, "industries"),
                           ({"name": "X", "code": "X2", "levels": "gold"}, "levels"),
                           ({"name": "X", "code": "X3", "parent": 999999}, "parent")):
        r = api.post("/api/v1/territories/", payload)
        assert r.status_code == 400, payload
        assert list(r.json()["error"]["fields"]) == [field], r.json()
    assert Territory.objects.count() == count
    east = tree["east"]
    r = api.patch(f"/api/v1/territories/{east.pk}/", {"parent": tree["big"].pk, "version": east.version})
    assert r.status_code == 400 and list(r.json()["error"]["fields"]) == ["parent"]
    assert Territory.objects.get(pk=east.pk).parent_id is None and Territory.objects.get(pk=east.pk).path == east.path
    page = browser(admin).post(f"/territories/{east.pk}/edit/", {
        "name": "华东", "code": "EAST", "parent": tree["sh"].pk, "regions": "上海", "sort_order": 0,
        "is_active": "on", "version": east.version})
    assert page.status_code in (200, 400) and "sub-territories" in page.content.decode()
    assert Territory.objects.get(pk=east.pk).parent_id is None


def test_a_territory_with_records_or_children_cannot_be_deleted(admin, tree):
    c = customer(admin, name="沪", province="上海")
    api = api_as(admin)
    assert api.delete(f"/api/v1/territories/{tree['east'].pk}/").status_code == 400  # has sub-territories
    assert api.delete(f"/api/v1/territories/{tree['sh'].pk}/").status_code == 400  # has children and a customer
    assert api.delete(f"/api/v1/territories/{tree['big'].pk}/").status_code == 204  # empty leaf
    assert Territory.objects.filter(pk=tree["sh"].pk).exists() and Customer.objects.get(pk=c.pk).territory_id


def test_a_member_twice_or_one_who_left_is_refused_at_the_user(admin, depts, tree):
    a = make_user("ta", depts["sales1"])
    gone = make_user("gone", depts["sales1"], is_active=False)
    api = api_as(admin)
    assert api.post("/api/v1/territory-members/", {"territory": tree["sh"].pk, "user": a.pk}).status_code == 201
    for user in (a, gone):
        r = api.post("/api/v1/territory-members/", {"territory": tree["sh"].pk, "user": user.pk})
        assert r.status_code == 400 and list(r.json()["error"]["fields"]) == ["user"]
    assert TerritoryMember.objects.filter(territory=tree["sh"]).count() == 1


def test_scope_query_cost_does_not_grow_with_memberships(admin, people, tree):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from crm.core.access.scope import forget_grants

    def cost(user):
        forget_grants(user)
        with CaptureQueriesContext(connection) as ctx:
            list(Customer.objects.for_user(user))
        return len(ctx)

    before = cost(people["boss"])
    for i in range(5):
        t = territory(admin, f"T{i}", f"T{i}", tree["sh"])
        TerritoryMember.objects.create(territory=t, user=people["boss"], role="manager")
        TerritoryMember.objects.create(territory=t, user=people["member"], role="member")
    assert cost(people["boss"]) == before
    assert cost(people["member"]) == before - 1  # no subtree to look up for a plain member


def test_territories_are_configuration_behind_their_grants(depts, tree):
    viewer = make_user("viewer", depts["sales1"], {("territories", "view"): Scope.ALL})
    nobody = make_user("nobody", depts["sales1"], {("customers", "view"): Scope.OWN})
    assert browser(nobody).get("/org/territories/").status_code == 403
    assert api_as(nobody).get("/api/v1/territories/").status_code == 403
    assert browser(viewer).get("/org/territories/").status_code == 200
    assert 'data-testid="reterritory"' not in browser(viewer).get("/org/territories/").content.decode()
    r = api_as(viewer).post("/api/v1/territories/", {"name": "X", "code": "X"})
    assert r.status_code == 403 and not Territory.objects.filter(code="X").exists()
    r = api_as(viewer).delete(f"/api/v1/territories/{tree['big'].pk}/")
    assert r.status_code == 403 and Territory.objects.filter(pk=tree["big"].pk).exists()
