"""Opportunities and pipelines (SAL-1, SAL-2): bad input at the field, stage moves (another
pipeline's stage, stale version, history), won/lost with reasons, stage task templates, the
kanban board's totals and moves, product lines, and the data scope on board, list and API."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.core.access.models import RoleGrant
from crm.core.events.models import EventRecord
from crm.core.testing.clients import api_as, browser
from crm.core.testing.org import Scope, make_user
from crm.customers.models import Customer
from crm.sales import services
from crm.sales.models import Competitor, Opportunity, OpportunityProduct, StageHistory, StageKind, StageTaskTemplate
from crm.sales.testing import make_pipeline, open_stages

pytestmark = pytest.mark.django_db
SALES = ("leads", "opportunities", "customers", "contacts", "opportunity-products")
SOON = datetime.date.today() + datetime.timedelta(days=30)


def seller(name, dept, scope=Scope.OWN):
    return make_user(name, dept, {**{k: scope for k in SALES}, ("pipelines", "view"): Scope.ALL, ("pipeline-stages", "view"): Scope.ALL,
                                  ("products", "view"): Scope.ALL})


@pytest.fixture
def alice(depts):
    return seller("alice", depts["sales1"])


@pytest.fixture
def bob(depts):
    return seller("bob", depts["sales1"])


@pytest.fixture
def boss(depts):
    return seller("boss", depts["shanghai"], Scope.SUBTREE)


@pytest.fixture
def pipeline(db):
    return make_pipeline("Standard", default=True)


def opp_of(owner, pipeline, stage=None, amount="1000", close=SOON, **fields):
    customer = fields.pop("customer", None) or Customer.objects.create(
        name=f"Cust {Customer.objects.count()}", owner=owner, department=owner.department)
    from crm.core.entities import services as kernel

    return kernel.create(owner, Opportunity, {
        "name": fields.pop("name", "Deal"), "customer": customer, "pipeline": pipeline,
        "stage": stage or open_stages(pipeline)[0], "amount": Decimal(amount), "expected_close_date": close,
        **fields}, owner=owner)


def payload(pipeline, customer, **over):
    data = {"name": "Big deal", "customer": customer.pk, "pipeline": pipeline.pk,
            "stage": open_stages(pipeline)[0].pk, "amount": "1000.00", "expected_close_date": SOON.isoformat()}
    data.update(over)
    return data


# --- bad input ----------------------------------------------------------------------------

@pytest.mark.parametrize("over, field", [
    ({"amount": "-0.01"}, "amount"),
    ({"expected_close_date": "2019-06-30"}, "expected_close_date"),
    ({"probability": 101}, "probability"),
])
def test_bad_input_is_refused_at_the_field(alice, pipeline, over, field):
    customer = Customer.objects.create(name="C", owner=alice, department=alice.department)
    response = api_as(alice).post("/api/v1/opportunities/", payload(pipeline, customer, **over))
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Opportunity.objects.exists() and not StageHistory.objects.exists()


def test_a_stage_of_another_pipeline_is_refused_on_create_and_in_the_form(alice, pipeline):
    other = make_pipeline("Other")
    customer = Customer.objects.create(name="C", owner=alice, department=alice.department)
    response = api_as(alice).post("/api/v1/opportunities/", payload(pipeline, customer, stage=open_stages(other)[0].pk))
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["stage"] == ["This stage belongs to another pipeline."]
    form = browser(alice).post(reverse("opportunities-create"), {
        **payload(pipeline, customer, stage=open_stages(other)[0].pk), "start_date": datetime.date.today().isoformat()})
    assert form.status_code == 400 and "This stage belongs to another pipeline." in form.content.decode()
    assert not Opportunity.objects.exists()


def test_an_old_close_date_already_stored_does_not_block_other_edits(alice, pipeline):
    opp = opp_of(alice, pipeline)
    Opportunity.objects.filter(pk=opp.pk).update(expected_close_date=datetime.date(2015, 1, 1),
                                                 start_date=datetime.date(2014, 1, 1))
    response = api_as(alice).patch(f"/api/v1/opportunities/{opp.pk}/", {"next_step": "Call", "version": opp.version})
    assert response.status_code == 200


# --- create, probability, history ---------------------------------------------------------

def test_create_takes_the_stage_probability_and_opens_the_history(alice, pipeline):
    customer = Customer.objects.create(name="C", owner=alice, department=alice.department)
    response = api_as(alice).post("/api/v1/opportunities/", payload(pipeline, customer))
    assert response.status_code == 201, response.json()
    opp = Opportunity.objects.get(pk=response.json()["id"])
    assert opp.status == "open" and opp.effective_probability == 10 and opp.weighted_amount == Decimal("100.00")
    assert opp.code.startswith("SJ")
    history = list(StageHistory.objects.filter(opportunity=opp))
    assert len(history) == 1 and history[0].stage == open_stages(pipeline)[0] and history[0].left_at is None


def test_move_stage_through_the_api(alice, pipeline):
    opp = opp_of(alice, pipeline)
    first, second = open_stages(pipeline)[:2]
    api = api_as(alice)
    moved = api.post(f"/api/v1/opportunities/{opp.pk}/move-stage/", {"stage": second.pk, "version": opp.version})
    assert moved.status_code == 200, moved.json()
    assert moved.json()["stage"] == second.pk and moved.json()["version"] == opp.version + 1
    opp.refresh_from_db()
    assert opp.effective_probability == second.probability and opp.reached_order == second.order
    rows = list(StageHistory.objects.filter(opportunity=opp).order_by("entered_at", "pk"))
    assert [r.stage_id for r in rows] == [first.pk, second.pk]
    assert rows[0].left_at is not None and rows[0].seconds is not None and rows[1].from_stage_id == first.pk

    stale = api.post(f"/api/v1/opportunities/{opp.pk}/move-stage/", {"stage": first.pk, "version": opp.version - 1})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "conflict"
    other = make_pipeline("Other")
    foreign = api.post(f"/api/v1/opportunities/{opp.pk}/move-stage/",
                       {"stage": open_stages(other)[0].pk, "version": opp.version})
    assert foreign.status_code == 400 and "stage" in foreign.json()["error"]["fields"]
    opp.refresh_from_db()
    assert opp.stage == second and StageHistory.objects.filter(opportunity=opp).count() == 2


def test_a_probability_set_by_hand_is_kept_until_the_stage_changes(alice, pipeline):
    opp = opp_of(alice, pipeline, probability=35)
    assert opp.effective_probability == 35
    opp = services.move_stage(alice, opp.pk, open_stages(pipeline)[2].pk, opp.version)
    assert opp.probability is None and opp.effective_probability == 80


def test_won_and_lost_with_reason(alice, pipeline):
    api = api_as(alice)
    won = opp_of(alice, pipeline)
    response = api.post(f"/api/v1/opportunities/{won.pk}/win/", {"version": won.version})
    assert response.status_code == 200 and response.json()["status"] == "won"
    won.refresh_from_db()
    assert won.closed_at is not None and won.effective_probability == 100 and won.stage.kind == StageKind.WON

    lost = opp_of(alice, pipeline)
    no_reason = api.post(f"/api/v1/opportunities/{lost.pk}/lose/", {"version": lost.version, "lost_reason": ""})
    assert no_reason.status_code == 400 and "lost_reason" in no_reason.json()["error"]["fields"]
    unknown = api.post(f"/api/v1/opportunities/{lost.pk}/lose/", {"version": lost.version, "lost_reason": "zzz"})
    assert unknown.status_code == 400 and "lost_reason" in unknown.json()["error"]["fields"]
    drag = api.post(f"/api/v1/opportunities/{lost.pk}/move-stage/",
                    {"stage": pipeline.lost_stage().pk, "version": lost.version})
    assert drag.status_code == 400 and "lost_reason" in drag.json()["error"]["fields"]
    lost.refresh_from_db()
    assert lost.status == "open"
    # SAL-11: the competitor lost to is a competitor record the user may see (tests/test_competitors.py).
    RoleGrant.objects.create(role=alice.roles.first(), entity="competitors", action="view", scope=Scope.OWN)
    rival = Competitor.objects.create(name="Rival Inc", owner=alice, department=alice.department)
    ok = api.post(f"/api/v1/opportunities/{lost.pk}/lose/",
                  {"version": lost.version, "lost_reason": "price", "lost_to": rival.pk})
    assert ok.status_code == 200 and ok.json()["lost_to"] == rival.pk
    lost.refresh_from_db()
    assert (lost.status, lost.lost_reason, lost.lost_to) == ("lost", "price", rival)
    assert lost.weighted_amount == Decimal("0.00")


def test_lose_page_shows_the_reason_error(alice, pipeline):
    opp = opp_of(alice, pipeline)
    c = browser(alice)
    url = reverse("sales-opportunity-lose", kwargs={"pk": opp.pk})
    bad = c.post(url, {"version": opp.version, "lost_reason": ""})
    assert bad.status_code == 400 and "This field is required." in bad.content.decode()
    ok = c.post(url, {"version": opp.version, "lost_reason": "no_budget", "lost_to": ""})
    assert ok.status_code == 302
    opp.refresh_from_db()
    assert opp.status == "lost" and opp.lost_reason == "no_budget"


def test_entering_a_stage_creates_its_tasks_for_the_owner(depts, alice, pipeline):
    from crm.activities.models import Task

    second = open_stages(pipeline)[1]
    StageTaskTemplate.objects.create(stage=second, title="Send the proposal", due_in_days=2)
    planner = seller("planner", depts["sales1"], Scope.DEPARTMENT)
    RoleGrant.objects.create(role=planner.roles.get(), entity="tasks", action="create", scope=Scope.OWN)
    opp = opp_of(alice, pipeline)
    assert not Task.objects.exists()
    services.move_stage(planner, opp.pk, second.pk, opp.version)
    task = Task.objects.get()
    assert (task.title, task.record, list(task.assignees.all())) == ("Send the proposal", opp, [alice])
    assert timezone.localtime(task.due_at).date() == datetime.date.today() + datetime.timedelta(days=2)
    event = EventRecord.objects.get(name="opportunities.stage_entered", object_id=opp.pk)
    assert event.payload["tasks"][0]["task"] == task.pk and event.payload["tasks"][0]["owner"] == alice.pk
    # Without the right to create tasks the move still works; the templates travel in the event.
    opp = services.move_stage(alice, opp.pk, open_stages(pipeline)[0].pk, opp.version + 1)
    services.move_stage(alice, opp.pk, second.pk, opp.version)
    assert Task.objects.count() == 1
    assert EventRecord.objects.filter(name="opportunities.stage_entered", object_id=opp.pk).count() == 2


def test_product_lines_compute_their_amount(alice, pipeline):
    from crm.catalog.models import Product

    opp = opp_of(alice, pipeline)
    product = Product.objects.create(name="Pump", list_price=Decimal("10"), owner=alice, department=alice.department)
    response = api_as(alice).post("/api/v1/opportunity-products/", {
        "opportunity": opp.pk, "product": product.pk, "quantity": "2.500", "unit_price": "19.99"})
    assert response.status_code == 201, response.json()
    assert OpportunityProduct.objects.get().line_amount == Decimal("49.98")
    bad = api_as(alice).post("/api/v1/opportunity-products/", {
        "opportunity": opp.pk, "product": product.pk, "quantity": "0", "unit_price": "-1"})
    assert bad.status_code == 400 and {"quantity", "unit_price"} <= set(bad.json()["error"]["fields"])


# --- the board ----------------------------------------------------------------------------

def column(response, stage):
    return next(c for c in response.context["columns"] if c["stage"].pk == stage.pk)


def test_board_columns_show_count_total_and_weighted_total(alice, pipeline):
    s1, s2, s3 = open_stages(pipeline)
    opp_of(alice, pipeline, s1, "1000.00")
    opp_of(alice, pipeline, s1, "2500.50")
    opp_of(alice, pipeline, s2, "4000.00")
    opp_of(alice, pipeline, s2, "3000.00", probability=25)  # its own probability overrides the stage's
    response = browser(alice).get(reverse("sales-kanban-pipeline", kwargs={"pk": pipeline.pk}))
    assert response.status_code == 200
    c1, c2, c3 = column(response, s1), column(response, s2), column(response, s3)
    assert (c1["count"], c1["total"], c1["weighted"]) == (2, Decimal("3500.50"), Decimal("350.05"))
    assert (c2["count"], c2["total"], c2["weighted"]) == (2, Decimal("7000.00"), Decimal("2750.00"))
    assert (c3["count"], c3["total"], c3["weighted"]) == (0, Decimal("0.00"), Decimal("0.00"))
    html = response.content.decode()
    assert "3,500.50" in html and "2,750.00" in html


def test_board_filters(alice, pipeline):
    s1 = open_stages(pipeline)[0]
    opp_of(alice, pipeline, s1, "100", name="Alpha pumps")
    opp_of(alice, pipeline, s1, "200", name="Beta valves", close=SOON + datetime.timedelta(days=100))
    url = reverse("sales-kanban-pipeline", kwargs={"pk": pipeline.pk})
    by_name = browser(alice).get(url, {"q": "beta"})
    assert [o["name"] for o in column(by_name, s1)["cards"]] == ["Beta valves"]
    by_date = browser(alice).get(url, {"close_to": (SOON + datetime.timedelta(days=10)).isoformat()})
    assert column(by_date, s1)["total"] == Decimal("100.00")


def test_board_move_endpoint(alice, pipeline):
    s1, s2 = open_stages(pipeline)[:2]
    opp = opp_of(alice, pipeline, s1, "5000")
    c = browser(alice)
    url = reverse("sales-opportunity-move", kwargs={"pk": opp.pk})
    ok = c.post(url, {"stage": s2.pk, "version": opp.version})
    assert ok.status_code == 200
    body = ok.json()
    assert body["version"] == opp.version + 1
    assert body["columns"][str(s2.pk)]["count"] == 1 and str(s1.pk) not in body["columns"]
    stale = c.post(url, {"stage": s1.pk, "version": opp.version})
    assert stale.status_code == 409 and "Someone else changed this opportunity" in stale.json()["error"]
    other = make_pipeline("Other")
    foreign = c.post(url, {"stage": open_stages(other)[0].pk, "version": opp.version + 1})
    assert foreign.status_code == 400 and foreign.json()["error"] == "This stage belongs to another pipeline."
    opp.refresh_from_db()
    assert opp.stage == s2


# --- scope --------------------------------------------------------------------------------

def test_a_rep_sees_and_moves_only_own_opportunities(alice, bob, boss, pipeline):
    s1, s2 = open_stages(pipeline)[:2]
    mine = opp_of(alice, pipeline, s1, "100", name="Alice deal")
    theirs = opp_of(bob, pipeline, s1, "900", name="Bob deal")

    board = browser(alice).get(reverse("sales-kanban-pipeline", kwargs={"pk": pipeline.pk}))
    c1 = column(board, s1)
    assert [o["pk"] for o in c1["cards"]] == [mine.pk] and c1["total"] == Decimal("100.00")
    assert "Bob deal" not in board.content.decode()

    listed = browser(alice).get(reverse("opportunities-list"))
    assert "Alice deal" in listed.content.decode() and "Bob deal" not in listed.content.decode()
    api = api_as(alice)
    assert [r["id"] for r in api.get("/api/v1/opportunities/").json()["results"]] == [mine.pk]
    assert api.get(f"/api/v1/opportunities/{theirs.pk}/").status_code == 404
    move = api.post(f"/api/v1/opportunities/{theirs.pk}/move-stage/", {"stage": s2.pk, "version": theirs.version})
    assert move.status_code == 404
    assert browser(alice).post(reverse("sales-opportunity-move", kwargs={"pk": theirs.pk}),
                               {"stage": s2.pk, "version": theirs.version}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.stage == s1

    manager_board = browser(boss).get(reverse("sales-kanban-pipeline", kwargs={"pk": pipeline.pk}))
    assert column(manager_board, s1)["count"] == 2


def test_board_without_the_view_right_is_refused(depts, pipeline):
    outsider = make_user("outsider", depts["guangzhou"], {"customers": Scope.OWN})
    assert browser(outsider).get(reverse("sales-kanban-pipeline", kwargs={"pk": pipeline.pk})).status_code == 403
    assert browser(outsider).get(reverse("sales-funnel")).status_code == 403
    assert browser(outsider).get(reverse("sales-owner-lookup")).status_code == 403


def test_the_owner_filter_offers_employees_as_one_types_and_keeps_the_chosen_one(alice, bob, pipeline):
    """The board's and the funnel's owner filter: employees load as one types (not one <option>
    per employee), and the filtered owner is the one option the page brings along."""
    found = browser(alice).get(reverse("sales-owner-lookup"), {"q": bob.name[:3]}).json()["results"]
    assert {"value": bob.pk, "text": str(bob)} in found and all(bob.name[:3].lower() in r["text"].lower() for r in found)
    for url in (reverse("sales-kanban-pipeline", kwargs={"pk": pipeline.pk}), reverse("sales-funnel")):
        chosen = owner_select(browser(alice).get(url, {"owner": bob.pk}))
        assert f'<option value="{bob.pk}" selected>{bob}</option>' in chosen
        assert owner_select(browser(alice).get(url)).count("<option") == 1  # only "everyone"


def owner_select(response):
    html = response.content.decode()
    start = html.index('id="f-owner"')
    return html[start:html.index("</select>", start)]


# --- many-to-many links follow the scope predicate ------------------------------------------

def test_an_opportunity_links_only_contacts_its_editor_may_see_and_keeps_hidden_ones(alice, bob, depts, pipeline):
    """Contacts on an opportunity: the picker and the API offer the editor's visible contacts;
    one the editor cannot see is refused, and one already linked by someone else is kept, whether
    the editor sends it back (the API read lists it) or leaves it out (the picker does not name it)."""
    from crm.customers.models import Contact

    carol = seller("carol", depts["guangzhou"])
    opp = opp_of(alice, pipeline)
    mine = Contact.objects.create(name="Alice Contact", customer=opp.customer, owner=alice, department=alice.department)
    foreign_customer = Customer.objects.create(name="Far Away Co", owner=carol, department=carol.department)
    foreign = Contact.objects.create(name="Carol Secret", customer=foreign_customer, owner=carol,
                                     department=carol.department)

    refused = api_as(alice).patch(f"/api/v1/opportunities/{opp.pk}/", {"contacts": [foreign.pk], "version": opp.version})
    assert refused.status_code == 400 and "contacts" in refused.json()["error"]["fields"]
    opp.refresh_from_db()
    assert list(opp.contacts.all()) == []
    form_page = browser(alice).get(f"/opportunities/{opp.pk}/edit/").content.decode()
    assert 'data-lookup="/contacts/lookup/"' in form_page and "Carol Secret" not in form_page
    offered = browser(alice).get("/contacts/lookup/", {"q": ""}).json()["results"]
    assert [r["text"] for r in offered] == ["Alice Contact"]  # the picker loads visible contacts only

    # Linked by someone who may see it: alice's later edit keeps it although she cannot pick it.
    opp.contacts.add(foreign)
    kept = api_as(alice).patch(f"/api/v1/opportunities/{opp.pk}/",
                               {"contacts": [mine.pk, foreign.pk], "version": opp.version})
    assert kept.status_code == 200, kept.content
    assert set(opp.contacts.values_list("pk", flat=True)) == {mine.pk, foreign.pk}
    form_page = browser(alice).get(f"/opportunities/{opp.pk}/edit/").content.decode()
    picker = form_page[form_page.index('name="contacts"'):]
    picker = picker[:picker.index("</select>")]
    # The picker holds only the chosen contacts she may see, never a page of every contact.
    assert picker.count("<option") == 1 and "Alice Contact" in picker and "Carol Secret" not in picker
    opp.refresh_from_db()
    left_out = api_as(alice).patch(f"/api/v1/opportunities/{opp.pk}/", {"contacts": [], "version": opp.version},
                                   format="json")
    assert left_out.status_code == 200, left_out.content
    assert set(opp.contacts.values_list("pk", flat=True)) == {foreign.pk}
