"""Competitors (COMP-1, COMP-2, SAL-11): the competitor entities and their scope, competitor
products and the side-by-side comparison (never our cost without see_cost), competitors on
opportunities, "lost to" as a competitor record through the service, the pages and the API, and
the win/loss and lost-order analyses against hand-computed numbers."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm.catalog.models import Product
from crm.core.entities import services as kernel
from crm.core.entities.registry import all_specs
from crm.core.testing.kit import kit_for
from crm.core.search import rebuild as rebuild_search_index
from crm.core.testing.clients import api_as, browser
from crm.core.testing.org import Scope, make_user
from crm.customers.models import Customer
from crm.sales import competitor_reports, services
from crm.sales.models import (
    Competitor, CompetitorProduct, Opportunity, OpportunityCompetitor, OpportunityProduct,
)
from crm.sales.testing import make_pipeline, open_stages

pytestmark = pytest.mark.django_db
SALES = ("opportunities", "customers", "competitors", "opportunity-competitors", "competitor-products",
         "opportunity-products")
VIEW_ALL = {("pipelines", "view"): Scope.ALL, ("pipeline-stages", "view"): Scope.ALL, ("products", "view"): Scope.ALL,
            ("employees", "view"): Scope.ALL, ("departments", "view"): Scope.ALL}


def seller(name, dept, scope=Scope.OWN, specials=()):
    return make_user(name, dept, {**{k: scope for k in SALES}, **VIEW_ALL}, specials=specials)


@pytest.fixture
def world(depts):
    alice = seller("alice", depts["sales1"])
    bob = seller("bob", depts["sales1"])
    boss = seller("boss", depts["shanghai"], Scope.SUBTREE)
    far = seller("far", depts["guangzhou"])
    pipeline = make_pipeline("Standard", default=True)
    rival_a = Competitor.objects.create(name="Acme Rival", owner=alice, department=alice.department)
    rival_b = Competitor.objects.create(name="Beta Rival", owner=alice, department=alice.department)
    hidden = Competitor.objects.create(name="Far Rival", owner=far, department=far.department)
    return {"alice": alice, "bob": bob, "boss": boss, "far": far, "pipeline": pipeline, "a": rival_a, "b": rival_b,
            "hidden": hidden, "depts": depts}


def make_opp(owner, pipeline, amount="1000", name=None):
    customer = Customer.objects.create(name=f"C{Customer.objects.count()}", owner=owner, department=owner.department)
    return kernel.create(owner, Opportunity, {
        "name": name or f"O{Opportunity.objects.count()}", "customer": customer, "pipeline": pipeline,
        "stage": open_stages(pipeline)[0], "amount": Decimal(amount),
        "expected_close_date": datetime.date.today() + datetime.timedelta(days=30)})


def link(opp, competitor, threat="medium"):
    return OpportunityCompetitor.objects.create(opportunity=opp, competitor=competitor, threat_level=threat)


# --- The entities ---------------------------------------------------------------------------------

def test_the_new_entities_join_the_generated_tests_and_the_scope_matrix():
    """tests/test_scope_matrix.py and tests/test_entity_kit.py run over every registered entity."""
    keys = {s.key for s in all_specs()}
    assert {"competitors", "competitor-products", "opportunity-competitors", "sales-plans"} <= keys
    specs = {s.key: s for s in all_specs()}
    assert specs["competitor-products"].owner_field == "competitor__owner"
    assert specs["opportunity-competitors"].department_field == "opportunity__department"


def test_a_competitor_outside_the_scope_is_not_listed_found_or_opened(world):
    alice, hidden = world["alice"], world["hidden"]
    c = browser(alice)
    page = c.get(reverse("competitors-list")).content.decode()
    assert "Acme Rival" in page and "Far Rival" not in page
    assert c.get(reverse("competitors-detail", kwargs={"pk": hidden.pk})).status_code == 404
    listed = api_as(alice).get("/api/v1/competitors/")
    assert {r["name"] for r in listed.json()["results"]} == {"Acme Rival", "Beta Rival"}
    assert api_as(alice).get(f"/api/v1/competitors/{hidden.pk}/").status_code == 404


def test_competitors_are_found_by_chinese_name_and_pinyin_initials(world):
    alice = world["alice"]
    cn = kernel.create(alice, Competitor, {"name": "华信科技", "status": "active"})
    assert cn.mnemonic_code == "HXKJ"
    rebuild_search_index()
    c = browser(alice)
    link_html = reverse("competitors-detail", kwargs={"pk": cn.pk})
    for q in ("华信", "hxkj", "huaxin"):
        assert link_html in c.get(reverse("search"), {"q": q}).content.decode(), q


def test_a_competitor_status_outside_the_dictionary_is_refused_at_its_field(world):
    response = api_as(world["alice"]).post("/api/v1/competitors/", {"name": "X Rival", "status": "zzz"}, format="json")
    assert response.status_code == 400 and "status" in response.json()["error"]["fields"]
    assert not Competitor.objects.filter(name="X Rival").exists()


def test_competitor_product_price_and_attributes_are_validated(world):
    api = api_as(world["alice"])
    bad = api.post("/api/v1/competitor-products/", {"competitor": world["a"].pk, "name": "Cheap", "price": "-1",
                                                    "currency": "RMBX"}, format="json")
    fields = bad.json()["error"]["fields"]
    assert bad.status_code == 400 and "price" in fields and "currency" in fields
    hidden = api.post("/api/v1/competitor-products/", {"competitor": world["hidden"].pk, "name": "Sneaky"},
                      format="json")
    assert hidden.status_code == 400 and "competitor" in hidden.json()["error"]["fields"]
    assert not CompetitorProduct.objects.exists()
    ok = browser(world["alice"]).post(reverse("competitor-products-create"), {
        "competitor": world["a"].pk, "name": "A-Box", "price": "99.50", "currency": "cny",
        "attributes": "CPU=8 cores\nRAM=32 GB"})
    assert ok.status_code == 302
    made = CompetitorProduct.objects.get(name="A-Box")
    assert made.attributes == {"CPU": "8 cores", "RAM": "32 GB"} and made.currency == "CNY"


# --- The comparison -------------------------------------------------------------------------------

@pytest.fixture
def compared(world):
    ours = Product.objects.create(name="Our Server", specification="2U", list_price=Decimal("5000"),
                                  cost=Decimal("3210.9876"), attributes={"CPU": "16 cores", "Warranty": "3 years"},
                                  owner=world["alice"], department=world["alice"].department)
    CompetitorProduct.objects.create(competitor=world["a"], name="Acme Box", our_product=ours, price=Decimal("4321"),
                                     attributes={"CPU": "12 cores", "Noise": "45 dB"}, performance="Slow disks")
    CompetitorProduct.objects.create(competitor=world["hidden"], name="Far Box", our_product=ours,
                                     price=Decimal("1111"))
    return ours


def test_comparison_shows_their_products_next_to_ours_without_our_cost(world, compared):
    page = browser(world["alice"]).get(reverse("sales-product-compare", kwargs={"pk": compared.pk}))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Acme Box" in html and "4,321.00" in html and "12 cores" in html and "16 cores" in html
    assert "45 dB" in html and "Slow disks" in html
    assert "Far Box" not in html  # a competitor product outside the viewer's scope
    assert "3,210.99" not in html and "3210.9876" not in html and 'data-row="cost"' not in html
    data = api_as(world["alice"]).get(f"/api/v1/products/{compared.pk}/competitor-comparison/").json()
    assert "cost" not in data["ours"] and [p["name"] for p in data["theirs"]] == ["Acme Box"]
    assert data["attribute_names"] == ["CPU", "Warranty", "Noise"]


def test_comparison_shows_our_cost_with_see_cost(world, compared):
    costly = seller("costly", world["depts"]["sales1"], Scope.SUBTREE, specials=["see_cost"])
    html = browser(costly).get(reverse("sales-product-compare", kwargs={"pk": compared.pk})).content.decode()
    assert 'data-row="cost"' in html and "3,210.99" in html
    data = api_as(costly).get(f"/api/v1/products/{compared.pk}/competitor-comparison/").json()
    assert Decimal(data["ours"]["cost"]) == Decimal("3210.9876")


def test_comparison_of_a_product_outside_the_scope_is_404(world, compared):
    no_products = make_user("noprod", world["depts"]["sales1"], {"competitor-products": Scope.ALL})
    assert browser(no_products).get(reverse("sales-product-compare", kwargs={"pk": compared.pk})).status_code == 403
    assert browser(world["alice"]).get(reverse("sales-product-compare", kwargs={"pk": 999999})).status_code == 404


# --- Competitors on opportunities -----------------------------------------------------------------

def test_competitors_on_an_opportunity_with_threat_level(world):
    alice, opp = world["alice"], make_opp(world["alice"], world["pipeline"])
    api = api_as(alice)
    ok = api.post("/api/v1/opportunity-competitors/", {"opportunity": opp.pk, "competitor": world["a"].pk,
                                                       "threat_level": "high", "notes": "Cheaper by 10%"},
                  format="json")
    assert ok.status_code == 201
    again = api.post("/api/v1/opportunity-competitors/", {"opportunity": opp.pk, "competitor": world["a"].pk},
                     format="json")
    assert again.status_code == 400 and "competitor" in again.json()["error"]["fields"]
    hidden = api.post("/api/v1/opportunity-competitors/", {"opportunity": opp.pk, "competitor": world["hidden"].pk},
                      format="json")
    assert hidden.status_code == 400 and "competitor" in hidden.json()["error"]["fields"]
    assert OpportunityCompetitor.objects.filter(opportunity=opp).count() == 1
    assert api.get(f"/api/v1/opportunities/{opp.pk}/").json()["competitors"] == [world["a"].pk]
    c = browser(alice)
    detail = c.get(reverse("opportunities-detail", kwargs={"pk": opp.pk})).content.decode()
    assert "Acme Rival" in detail and "Cheaper by 10%" in detail and "High" in detail
    rival_page = c.get(reverse("competitors-detail", kwargs={"pk": world["a"].pk})).content.decode()
    assert opp.name in rival_page
    # A colleague's opportunity on the competitor's page stays hidden from a rep with "own" scope.
    theirs = make_opp(world["bob"], world["pipeline"], name="Bob's secret deal")
    link(theirs, world["a"])
    assert "Bob&#x27;s secret deal" not in c.get(reverse("competitors-detail", kwargs={"pk": world["a"].pk})).content.decode()


def test_competitors_are_chosen_on_the_opportunity_form_and_in_the_api(world):
    alice, a, b, hidden = world["alice"], world["a"], world["b"], world["hidden"]
    opp = make_opp(alice, world["pipeline"])
    c = browser(alice)
    url = reverse("opportunities-edit", kwargs={"pk": opp.pk})
    form = c.get(url).content.decode()
    assert 'data-lookup="/competitors/lookup/"' in form and "Far Rival" not in form
    offered = {r["text"] for r in c.get("/competitors/lookup/", {"q": ""}).json()["results"]}
    assert "Acme Rival" in offered and "Far Rival" not in offered
    kit = kit_for("opportunities")
    bad = c.post(url, kit.form_post(alice, opp, {"competitors": [a.pk, hidden.pk]}))
    assert bad.status_code == 400 and not opp.competitors.exists()
    ok = c.post(url, kit.form_post(alice, opp, {"competitors": [a.pk, b.pk]}))
    assert ok.status_code == 302
    assert set(opp.competitors.all()) == {a, b}
    assert OpportunityCompetitor.objects.get(opportunity=opp, competitor=a).threat_level == "medium"
    api = api_as(alice)
    version = Opportunity.objects.get(pk=opp.pk).version
    refused = api.patch(f"/api/v1/opportunities/{opp.pk}/", {"competitors": [hidden.pk], "version": version},
                        format="json")
    assert refused.status_code == 400 and "competitors" in refused.json()["error"]["fields"]
    done = api.patch(f"/api/v1/opportunities/{opp.pk}/", {"competitors": [b.pk], "version": version}, format="json")
    assert done.status_code == 200 and done.json()["competitors"] == [b.pk]
    assert list(opp.competitors.all()) == [b]
    # A competitor listed by someone who may see it stays when alice saves her choice.
    link(opp, hidden)
    version = Opportunity.objects.get(pk=opp.pk).version
    kept = api.patch(f"/api/v1/opportunities/{opp.pk}/", {"competitors": [a.pk], "version": version}, format="json")
    assert kept.status_code == 200 and set(opp.competitors.all()) == {a, hidden}
    assert c.post(url, kit.form_post(alice, Opportunity.objects.get(pk=opp.pk), {"competitors": [b.pk]})).status_code == 302
    assert set(opp.competitors.all()) == {b, hidden}


def test_someone_elses_opportunity_cannot_get_a_competitor(world):
    theirs = make_opp(world["bob"], world["pipeline"])
    response = api_as(world["alice"]).post("/api/v1/opportunity-competitors/",
                                           {"opportunity": theirs.pk, "competitor": world["a"].pk}, format="json")
    assert response.status_code == 400 and "opportunity" in response.json()["error"]["fields"]
    assert not OpportunityCompetitor.objects.exists()


# --- Lost to a competitor -------------------------------------------------------------------------

def test_lose_to_a_competitor_through_the_service(world):
    alice, opp = world["alice"], make_opp(world["alice"], world["pipeline"])
    with pytest.raises(ValidationError) as exc:
        services.lose(alice, opp.pk, opp.version, "price", world["hidden"].pk)
    assert "lost_to" in exc.value.message_dict
    opp.refresh_from_db()
    assert opp.status == "open" and opp.lost_to is None
    lost = services.lose(alice, opp.pk, opp.version, "price", world["a"])
    assert (lost.status, lost.lost_reason, lost.lost_to) == ("lost", "price", world["a"])
    # Reopening clears the competitor lost to, as it clears the reason.
    reopened = services.move_stage(alice, opp.pk, open_stages(world["pipeline"])[0].pk, lost.version)
    assert reopened.lost_to is None and reopened.lost_reason == ""


def test_lose_to_a_competitor_on_the_page(world):
    alice, opp = world["alice"], make_opp(world["alice"], world["pipeline"])
    c = browser(alice)
    url = reverse("sales-opportunity-lose", kwargs={"pk": opp.pk})
    form = c.get(url).content.decode()
    assert "Acme Rival" in form and "Far Rival" not in form
    bad = c.post(url, {"version": opp.version, "lost_reason": "price", "lost_to": world["hidden"].pk})
    assert bad.status_code == 400 and "Select a valid choice" in bad.content.decode()
    opp.refresh_from_db()
    assert opp.status == "open"
    ok = c.post(url, {"version": opp.version, "lost_reason": "price", "lost_to": world["b"].pk})
    assert ok.status_code == 302
    opp.refresh_from_db()
    assert (opp.status, opp.lost_to) == ("lost", world["b"])
    assert "Beta Rival" in c.get(reverse("opportunities-detail", kwargs={"pk": opp.pk})).content.decode()


def test_lose_to_a_competitor_through_the_api(world):
    alice, opp = world["alice"], make_opp(world["alice"], world["pipeline"])
    api = api_as(alice)
    bad = api.post(f"/api/v1/opportunities/{opp.pk}/lose/", {"version": opp.version, "lost_reason": "price",
                                                             "lost_to": world["hidden"].pk}, format="json")
    assert bad.status_code == 400 and "lost_to" in bad.json()["error"]["fields"]
    ok = api.post(f"/api/v1/opportunities/{opp.pk}/lose/", {"version": opp.version, "lost_reason": "price",
                                                            "lost_to": world["a"].pk}, format="json")
    assert ok.status_code == 200 and ok.json()["lost_to"] == world["a"].pk and ok.json()["status"] == "lost"
    # The generic edit refuses a competitor the user may not see, too.
    patch = api.patch(f"/api/v1/opportunities/{opp.pk}/", {"lost_to": world["hidden"].pk,
                                                          "version": ok.json()["version"]}, format="json")
    assert patch.status_code == 400 and "lost_to" in patch.json()["error"]["fields"]
    assert Opportunity.objects.get(pk=opp.pk).lost_to == world["a"]


# --- Analyses -------------------------------------------------------------------------------------

@pytest.fixture
def deals(world):
    """o1 won 1000 (A in it), o2 lost 2000 to A (A in it), o3 lost 3000 to B (B not listed),
    o4 won 4000 by bob (A and B in it), o5 open 500 (A in it: not closed, not counted)."""
    alice, bob, pipeline, a, b = world["alice"], world["bob"], world["pipeline"], world["a"], world["b"]
    p1 = Product.objects.create(name="Router", list_price=Decimal("100"), owner=alice, department=alice.department)
    p2 = Product.objects.create(name="Switch", list_price=Decimal("50"), owner=alice, department=alice.department)
    o1 = make_opp(alice, pipeline, "1000")
    link(o1, a)
    o1 = services.win(alice, o1.pk, o1.version)
    o2 = make_opp(alice, pipeline, "2000")
    link(o2, a, "high")
    OpportunityProduct.objects.create(opportunity=o2, product=p1, quantity=2, unit_price=100, line_amount=200)
    o2 = services.lose(alice, o2.pk, o2.version, "price", a)
    o3 = make_opp(alice, pipeline, "3000")
    OpportunityProduct.objects.create(opportunity=o3, product=p1, quantity=1, unit_price=100, line_amount=100)
    OpportunityProduct.objects.create(opportunity=o3, product=p2, quantity=4, unit_price=50, line_amount=200)
    o3 = services.lose(alice, o3.pk, o3.version, "no_budget", b)
    o4 = make_opp(bob, pipeline, "4000")
    link(o4, a)
    link(o4, b)
    o4 = services.win(bob, o4.pk, o4.version)
    o5 = make_opp(alice, pipeline, "500")
    link(o5, a)
    return {"o": (o1, o2, o3, o4, o5), "products": (p1, p2)}


def rows_by_name(data):
    return {r["name"]: r for r in data["rows"]}


def test_win_loss_per_competitor(world, deals):
    rows = rows_by_name(competitor_reports.win_loss(world["boss"], {}))
    a, b = rows["Acme Rival"], rows["Beta Rival"]
    assert (a["won_count"], a["won_amount"], a["lost_count"], a["lost_amount"]) == (2, Decimal("5000.00"), 1,
                                                                                    Decimal("2000.00"))
    assert (a["lost_to_count"], a["lost_to_amount"], a["win_rate"]) == (1, Decimal("2000.00"), 66.7)
    assert (b["won_count"], b["won_amount"], b["lost_count"], b["lost_amount"]) == (1, Decimal("4000.00"), 1,
                                                                                    Decimal("3000.00"))
    assert (b["lost_to_count"], b["win_rate"]) == (1, 50.0)
    # A rep with "own" scope counts only their own opportunities (bob's o4 is left out).
    mine = rows_by_name(competitor_reports.win_loss(world["alice"], {}))
    assert (mine["Acme Rival"]["won_count"], mine["Acme Rival"]["win_rate"]) == (1, 50.0)
    assert (mine["Beta Rival"]["won_count"], mine["Beta Rival"]["lost_count"], mine["Beta Rival"]["win_rate"]) == (
        0, 1, 0.0)


def test_win_loss_over_time_and_filters(world, deals):
    o1 = deals["o"][0]
    earlier = timezone.now() - datetime.timedelta(days=62)
    Opportunity.objects.filter(pk=o1.pk).update(closed_at=earlier)
    data = competitor_reports.win_loss(world["boss"], {})
    first, this = timezone.localtime(earlier).strftime("%Y-%m"), timezone.localtime().strftime("%Y-%m")
    assert data["periods"] == [first, this]
    series = {s["period"]: s for s in data["series"][world["a"].pk]}
    assert (series[first]["won_count"], series[first]["lost_count"]) == (1, 0)
    assert (series[this]["won_count"], series[this]["lost_count"], series[this]["lost_to_count"]) == (1, 1, 1)
    by_quarter = competitor_reports.win_loss(world["boss"], {"grain": "quarter"})
    assert all(" Q" in p for p in by_quarter["periods"])
    only_bob = rows_by_name(competitor_reports.win_loss(world["boss"], {"owner": str(world["bob"].pk)}))
    assert set(only_bob) == {"Acme Rival", "Beta Rival"} and only_bob["Acme Rival"]["lost_count"] == 0
    recent = competitor_reports.win_loss(world["boss"], {"closed_from": (timezone.localdate() - datetime.timedelta(
        days=10)).isoformat()})
    assert rows_by_name(recent)["Acme Rival"]["won_count"] == 1  # o1 closed before the period


def test_win_loss_page_and_api(world, deals):
    page = browser(world["boss"]).get(reverse("sales-competitor-analysis"))
    html = page.content.decode()
    assert page.status_code == 200 and 'data-competitor="Acme Rival"' in html and "66.7%" in html
    assert 'id="winloss-data"' in html and "echarts" in html
    data = api_as(world["boss"]).get("/api/v1/competitor-win-loss/").json()
    a = next(r for r in data["rows"] if r["name"] == "Acme Rival")
    assert (a["won_count"], Decimal(a["won_amount"]), a["win_rate"]) == (2, Decimal("5000"), 66.7)
    assert a["periods"][0]["won_count"] == 2
    nothing = make_user("nobody", world["depts"]["sales1"], {("competitors", "view"): Scope.ALL})
    assert browser(nothing).get(reverse("sales-competitor-analysis")).status_code == 403
    assert api_as(nothing).get("/api/v1/competitor-win-loss/").status_code == 403


def test_lost_order_analysis(world, deals):
    data = competitor_reports.lost_orders(world["boss"], {})
    assert data["summary"] == {"lost_count": 2, "lost_amount": Decimal("5000.00"), "won_count": 2, "loss_rate": 50.0}
    reasons = {r["code"]: (r["count"], r["amount"]) for r in data["by_reason"]}
    assert reasons == {"price": (1, Decimal("2000.00")), "no_budget": (1, Decimal("3000.00"))}
    assert {r["name"]: (r["count"], r["amount"]) for r in data["by_competitor"]} == {
        "Acme Rival": (1, Decimal("2000.00")), "Beta Rival": (1, Decimal("3000.00"))}
    assert [(r["name"], r["count"], r["amount"]) for r in data["by_owner"]] == [("Alice", 2, Decimal("5000.00"))]
    assert {r["name"]: (r["count"], r["amount"]) for r in data["by_product"]} == {
        "Router": (2, Decimal("300.00")), "Switch": (1, Decimal("200.00"))}
    page = browser(world["boss"]).get(reverse("sales-lost-analysis")).content.decode()
    assert 'data-testid="lost-count">2<' in page and 'data-name="Beta Rival"' in page and 'data-name="Router"' in page
    api = api_as(world["boss"]).get("/api/v1/lost-analysis/", {"owner": world["alice"].pk}).json()
    assert api["summary"]["lost_count"] == 2 and {r["id"] for r in api["by_reason"]} == {"price", "no_budget"}


def test_a_competitor_the_viewer_may_not_see_stays_unnamed(world, deals):
    o = make_opp(world["alice"], world["pipeline"], "700")
    services.lose(world["alice"], o.pk, o.version, "price")  # then, say, its competitor was handed to far
    Opportunity.objects.filter(pk=o.pk).update(lost_to=world["hidden"])
    rows = competitor_reports.lost_orders(world["alice"], {})["by_competitor"]
    assert "Far Rival" not in {r["name"] for r in rows}
    assert {r["competitor_id"]: r["count"] for r in rows} == {world["a"].pk: 1, world["b"].pk: 1, None: 1}
    assert "Far Rival" not in {r["name"] for r in competitor_reports.win_loss(world["alice"], {})["rows"]}


def test_analysis_pages_do_not_run_more_queries_with_more_rows(world, deals):
    c = browser(world["boss"])
    urls = [reverse("sales-competitor-analysis"), reverse("sales-lost-analysis"), "/api/v1/competitor-win-loss/",
            "/api/v1/lost-analysis/"]

    def counts():
        out = []
        for url in urls:
            c.get(url)  # warm: configuration reloads once after a change (crm.core.versions)
            with CaptureQueriesContext(connection) as ctx:
                assert c.get(url).status_code == 200
            out.append(len(ctx.captured_queries))
        return out

    before = counts()
    rival = Competitor.objects.create(name="Gamma Rival", owner=world["alice"], department=world["alice"].department)
    for i in range(6):
        o = make_opp(world["alice"] if i % 3 else world["bob"], world["pipeline"], str(100 + i))
        link(o, rival)
        OpportunityProduct.objects.create(opportunity=o, product=deals["products"][i % 2], quantity=1, unit_price=1,
                                          line_amount=1)
        if i % 3:
            services.lose(o.owner, o.pk, o.version, "price", rival)
        else:
            services.win(o.owner, o.pk, o.version)
    assert counts() == before


# --- The migration of "lost to" -------------------------------------------------------------------

@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_migration_turns_lost_to_text_into_competitors():
    """Free-text "lost to" becomes a competitor: names matched ignoring case and spacing, an
    unknown name becomes a competitor owned by the first opportunity's owner; nothing is dropped."""
    from django.db.migrations.executor import MigrationExecutor

    # The state just before the competitors' migration, with every migration of other apps that
    # does not depend on it (their tables are as they are then).
    before = [("sales", "0004_lead_territory_scoring"), ("customers", "0011_public_pool")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    Department, User = old.get_model("org", "Department"), old.get_model("org", "User")
    dept = Department.objects.create(name="Mig", path="/x/")
    owner = User.objects.create(username="mig-owner", name="Mig", department=dept)
    customer = old.get_model("customers", "Customer").objects.create(name="Mig customer", owner=owner,
                                                                      department=dept)
    pipeline = old.get_model("sales", "Pipeline").objects.create(name="Mig pipeline")
    stage = old.get_model("sales", "Stage").objects.create(pipeline=pipeline, name="Lost", order=910,
                                                            probability=0, kind="lost")
    Opp = old.get_model("sales", "Opportunity")
    ids = {}
    for text in ("Rival  Inc", "rival inc", "Other Co", ""):
        ids[text] = Opp.objects.create(name=f"Mig {text}", customer=customer, pipeline=pipeline, stage=stage,
                                       expected_close_date=datetime.date.today(), status="lost",
                                       lost_reason="price", lost_to=text, owner=owner, department=dept).pk
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    lost_to = dict(Opportunity.all_objects.filter(pk__in=ids.values()).values_list("pk", "lost_to__name"))
    assert lost_to == {ids["Rival  Inc"]: "Rival Inc", ids["rival inc"]: "Rival Inc", ids["Other Co"]: "Other Co",
                       ids[""]: None}
    rival = Competitor.objects.get(name="Rival Inc")
    assert (rival.owner_id, rival.department_id) == (owner.pk, dept.pk)
    assert Competitor.objects.filter(name__in=["Rival Inc", "Other Co"]).count() == 2
