"""The public pool (公海, CUS-9): who sees which pool (list, detail, API, search, export), phones
masked until claimed, claim / release / assign / move from pages and the API with their rules
(hold limit, daily claims, cool-down) and bad input, real concurrent claims (one record and many
people; one person and more records than the limit), and the reclaim job with warnings and
notifications on a controlled clock."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.core.access.levels import Scope
from crm.core.audit.models import AuditEntry
from crm.core.jobs.schedule import PERIODIC
from crm.core.notifications.models import Notification
from crm.core.testing.clients import api_as, browser
from crm.core.testing.org import make_tree, make_user
from crm.customers import pool as pools
from crm.customers.models import Contact, Customer
from crm.customers.pool_models import PoolEvent, PoolRule
from crm.customers.testing import make_pool, pooled
from crm.sales.models import Lead, Opportunity
from crm.sales.testing import make_pipeline, open_stages

pytestmark = pytest.mark.django_db

SALES = {"customers": Scope.OWN, "contacts": Scope.OWN, "leads": Scope.OWN, ("employees", "view"): Scope.ALL}
LOST = "Someone else claimed this record a moment ago."


def seller(name, dept, **fields):
    return make_user(name, dept, SALES, email=f"{name}@example.com", language="en", **fields)


@pytest.fixture
def east_pool(depts):
    return make_pool("华东公海", [depts["east"]], hold_limit=5, daily_claim_limit=10, cooldown_days=7, warn_days=3)


@pytest.fixture
def south_pool(depts):
    return make_pool("华南公海", [depts["south"]])


@pytest.fixture
def alice(depts):
    return seller("alice", depts["sales1"])  # Sales1 is under East


@pytest.fixture
def bob(depts):
    return seller("bob", depts["sales1a"])


@pytest.fixture
def gina(depts):
    return seller("gina", depts["guangzhou"])  # South: not a member of the East pool


@pytest.fixture
def boss(depts):
    """A pool manager who may also reveal phones and export everything."""
    return make_user("boss", depts["hq"], {"customers": Scope.ALL, "contacts": Scope.ALL, "leads": Scope.ALL,
                                            "pools": Scope.ALL, "pool-rules": Scope.ALL,
                                            ("employees", "view"): Scope.ALL},
                     specials=["manage_pool", "reveal_phone"], language="en")


def in_pool(pool, **fields):
    fields.setdefault("phone", "+8613812345678")
    return pooled(Customer, pool, **fields)


def owned(user, **fields):
    c = Customer.objects.create(owner=user, department=user.department, name=fields.pop("name", "Owned Co"), **fields)
    c.after_create(None)
    return c


# --- visibility -----------------------------------------------------------------------------

def test_pool_members_see_pooled_records_in_list_detail_api_and_search(east_pool, alice, bob, gina):
    c = in_pool(east_pool, name="星河电子")
    Contact.objects.create(customer=c, name="赵经理", mobile="+8613900001111")
    from crm.core.search import reindex

    reindex(Customer, [c.pk])
    for member in (alice, bob):  # Sales1 and its child department are under East
        assert "星河电子" in browser(member).get("/customers/").content.decode()
        assert browser(member).get(f"/customers/{c.pk}/").status_code == 200
        assert api_as(member).get(f"/api/v1/customers/{c.pk}/").status_code == 200
        groups = api_as(member).get("/api/v1/search/", {"q": "星河"}).json()["groups"]
        assert [r["id"] for g in groups if g["entity"] == "customers" for r in g["results"]] == [c.pk]
        assert "赵经理" in browser(member).get(f"/customers/{c.pk}/").content.decode()  # its contacts too
    assert "星河电子" not in browser(gina).get("/customers/").content.decode()
    assert browser(gina).get(f"/customers/{c.pk}/").status_code == 404
    assert api_as(gina).get(f"/api/v1/customers/{c.pk}/").status_code == 404
    groups = api_as(gina).get("/api/v1/search/", {"q": "星河"}).json()["groups"]
    assert not [g for g in groups if g["entity"] == "customers" and g["results"]]
    # Seeing is not editing: a pool member cannot change a record they have not claimed.
    assert api_as(alice).patch(f"/api/v1/customers/{c.pk}/", {"name": "Mine now", "version": c.version}).status_code == 404
    assert Customer.objects.get(pk=c.pk).name == "星河电子"


def test_export_needs_an_export_scope_beyond_the_pool(east_pool, alice, boss):
    """The pool widens viewing only: a member's export holds their own records, not the pool."""
    in_pool(east_pool, name="Pooled Export Co")
    owned(alice, name="Alice Export Co")
    body = browser(alice).get("/customers/export/").content.decode("utf-8-sig")
    assert "Alice Export Co" in body and "Pooled Export Co" not in body
    body = browser(boss).get("/customers/export/").content.decode("utf-8-sig")
    assert "Pooled Export Co" in body


def test_pool_pages_list_only_the_users_pools(east_pool, south_pool, alice, gina):
    in_pool(east_pool, name="East Pooled")
    page = browser(alice).get(reverse("pool-index")).content.decode()
    assert "华东公海" in page and "华南公海" not in page
    listing = browser(alice).get(reverse("pool-list", args=[east_pool.pk, "customers"]))
    assert listing.status_code == 200 and "East Pooled" in listing.content.decode()
    in_pool(east_pool, name="Strategic Pooled", level="strategic")
    filtered = browser(alice).get(reverse("pool-list", args=[east_pool.pk, "customers"]), {"level": "strategic"})
    assert "Strategic Pooled" in filtered.content.decode() and "East Pooled" not in filtered.content.decode()
    assert browser(alice).get(reverse("pool-list", args=[south_pool.pk, "customers"])).status_code == 404
    assert browser(gina).get(reverse("pool-list", args=[east_pool.pk, "customers"])).status_code == 404
    assert browser(alice).get(reverse("pool-list", args=[999999, "customers"])).status_code == 404  # unknown pool
    assert browser(alice).get(reverse("pool-list", args=[east_pool.pk, "opportunities"])).status_code == 404


def test_pool_page_queries_do_not_grow_with_rows(east_pool, alice, django_assert_max_num_queries):
    for i in range(3):
        in_pool(east_pool, name=f"Few {i}", previous_owner=alice)
    client = browser(alice)
    from django.db import connection as conn
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(conn) as few:
        assert client.get(reverse("pool-list", args=[east_pool.pk, "customers"])).status_code == 200
    for i in range(20):
        in_pool(east_pool, name=f"Many {i}", previous_owner=alice)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(reverse("pool-list", args=[east_pool.pk, "customers"])).status_code == 200


# --- masking ----------------------------------------------------------------------------------

def test_phones_stay_masked_until_claimed_even_for_those_who_may_reveal(east_pool, boss):
    c = in_pool(east_pool, name="Masked Co", phone="+8613812345678")
    contact = Contact.objects.create(customer=c, name="Li", mobile="+8613900001111")
    api = api_as(boss)
    assert api.post(f"/api/v1/customers/{c.pk}/reveal/").status_code == 403
    assert api.post(f"/api/v1/contacts/{contact.pk}/reveal/").status_code == 403
    assert browser(boss).post(f"/customers/{c.pk}/reveal/").status_code == 403
    export = browser(boss).get("/contacts/export/").content.decode("utf-8-sig")
    assert "13900001111" not in export and "****1111" in export
    assert api.get(f"/api/v1/contacts/{contact.pk}/").json()["mobile"].endswith("****1111")

    assert api.post(f"/api/v1/pool/customers/{c.pk}/claim/").status_code == 200
    assert api.post(f"/api/v1/customers/{c.pk}/reveal/").json()["phone"] == "13812345678"
    assert api.post(f"/api/v1/contacts/{contact.pk}/reveal/").json()["mobile"] == "13900001111"
    assert "13900001111" in browser(boss).get("/contacts/export/").content.decode("utf-8-sig")


# --- claim, release, assign, move ------------------------------------------------------------------

def test_claim_from_the_pool_page_takes_the_record_with_its_contacts(east_pool, alice, bob):
    c = in_pool(east_pool, name="Claim Me", previous_owner=bob)
    contact = Contact.objects.create(customer=c, name="Wang")
    response = browser(alice).post(reverse("pool-claim", args=["customers", c.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "is yours now" in response.content.decode()
    c.refresh_from_db()
    contact.refresh_from_db()
    assert (c.owner, c.department, c.pool, c.in_pool) == (alice, alice.department, east_pool, False)
    assert c.owned_since is not None and c.previous_owner == bob
    assert (contact.owner, contact.department) == (alice, alice.department)
    event = PoolEvent.objects.get(object_id=c.pk, action="claim")
    assert (event.actor, event.owner, event.pool) == (alice, alice, east_pool)
    assert AuditEntry.objects.filter(object_id=c.pk, action="transfer", extra__pool_action="claim").exists()
    # The record's pool history is on its page.
    page = browser(alice).get(f"/customers/{c.pk}/").content.decode()
    assert 'data-panel="pool"' in page and "Claimed" in page

    again = api_as(bob).post(f"/api/v1/pool/customers/{c.pk}/claim/")
    assert again.status_code == 409 and again.json()["error"]["message"] == LOST
    assert Customer.objects.get(pk=c.pk).owner == alice


def test_hold_limit_refuses_with_a_clear_message_and_writes_nothing(east_pool, alice):
    east_pool.hold_limit = 2
    east_pool.save()
    owned(alice, name="One")
    owned(alice, name="Two")
    c = in_pool(east_pool, name="Third")
    response = api_as(alice).post(f"/api/v1/pool/customers/{c.pk}/claim/")
    assert response.status_code == 400
    assert "already holds 2 customers" in response.json()["error"]["fields"]["owner"][0]
    c.refresh_from_db()
    assert c.in_pool and c.owner is None
    assert not PoolEvent.objects.filter(object_id=c.pk, action="claim").exists()
    assert not AuditEntry.objects.filter(object_id=c.pk, content_type__model="customer").exists()
    # The page says the same, as a message.
    page = browser(alice).post(reverse("pool-claim", args=["customers", c.pk]), HTTP_HX_REQUEST="true")
    assert page["X-Pool-Status"] == "400" and "already holds 2 customers" in page.content.decode()


def test_daily_claim_limit(east_pool, alice):
    east_pool.daily_claim_limit = 1
    east_pool.save()
    first, second = in_pool(east_pool, name="First"), in_pool(east_pool, name="Second")
    pools.claim(alice, "customers", first.pk)
    response = api_as(alice).post(f"/api/v1/pool/customers/{second.pk}/claim/")
    assert response.status_code == 400 and "today" in response.json()["error"]["fields"]["pool"][0]
    tomorrow = timezone.now() + timedelta(days=1)
    assert pools.claim(alice, "customers", second.pk, now=tomorrow).owner == alice


def test_release_then_cool_down_before_claiming_back(east_pool, alice, bob):
    c = owned(alice, name="Released Co", pool=east_pool)
    api = api_as(alice)
    response = api.post(f"/api/v1/pool/customers/{c.pk}/release/", {"reason": "no_need", "note": "预算冻结"})
    assert response.status_code == 200 and response.json()["owner"] is None
    c.refresh_from_db()
    assert c.in_pool and c.previous_owner == alice and c.pool_reason == "released" and c.department is None
    event = PoolEvent.objects.get(object_id=c.pk, action="release")
    assert (event.reason, event.note, event.owner) == ("no_need", "预算冻结", alice)
    refused = api.post(f"/api/v1/pool/customers/{c.pk}/claim/")
    assert refused.status_code == 400 and "claim it again from" in refused.json()["error"]["fields"]["id"][0]
    assert Customer.objects.get(pk=c.pk).owner is None
    later = timezone.now() + timedelta(days=7, minutes=1)
    assert pools.claim(alice, "customers", c.pk, now=later).owner == alice
    # Others are not cooled down.
    c2 = owned(alice, name="Other Co", pool=east_pool)
    pools.release(alice, "customers", c2.pk, "other")
    assert pools.claim(bob, "customers", c2.pk).owner == bob


def test_release_from_the_detail_page_with_a_reason(east_pool, alice):
    c = owned(alice, name="Page Release", pool=east_pool)
    client = browser(alice)
    assert "pool-release" in client.get(f"/customers/{c.pk}/").content.decode()
    bad = client.post(reverse("pool-release", args=["customers", c.pk]), {"reason": "", "pool": east_pool.pk})
    assert bad.status_code == 400 and "Choose why you release the record." in bad.content.decode()
    assert Customer.objects.get(pk=c.pk).owner == alice
    ok = client.post(reverse("pool-release", args=["customers", c.pk]), {"reason": "no_contact", "pool": east_pool.pk})
    assert ok.status_code == 302
    assert Customer.objects.get(pk=c.pk).in_pool


def test_bad_input(east_pool, south_pool, alice, bob, gina):
    mine = owned(alice, name="Mine", pool=east_pool)
    api = api_as(alice)
    no_reason = api.post(f"/api/v1/pool/customers/{mine.pk}/release/", {"reason": "nonsense"})
    assert no_reason.status_code == 400 and list(no_reason.json()["error"]["fields"]) == ["reason"]
    missing = api.post(f"/api/v1/pool/customers/{mine.pk}/release/", {})
    assert missing.status_code == 400 and "reason" in missing.json()["error"]["fields"]
    foreign_pool = api.post(f"/api/v1/pool/customers/{mine.pk}/release/", {"reason": "other", "pool": south_pool.pk})
    assert foreign_pool.status_code == 400 and "pool" in foreign_pool.json()["error"]["fields"]
    unknown_pool = api.post(f"/api/v1/pool/customers/{mine.pk}/release/", {"reason": "other", "pool": 999999})
    assert unknown_pool.status_code == 400
    assert Customer.objects.get(pk=mine.pk).owner == alice  # nothing half-written
    assert not PoolEvent.objects.exists()
    # Claiming what is not in a pool; someone else's record; an unknown kind; a stranger's pool.
    not_pooled = api.post(f"/api/v1/pool/customers/{mine.pk}/claim/")
    assert not_pooled.status_code == 400 and "already yours" in not_pooled.json()["error"]["fields"]["id"][0]
    bobs = owned(bob, name="Bob's")
    assert api.post(f"/api/v1/pool/customers/{bobs.pk}/claim/").status_code == 404
    assert api.post(f"/api/v1/pool/customers/{bobs.pk}/release/", {"reason": "other"}).status_code == 404
    assert api.post("/api/v1/pool/opportunities/1/claim/").status_code == 404
    south = in_pool(south_pool, name="South only")
    assert api.post(f"/api/v1/pool/customers/{south.pk}/claim/").status_code == 404
    assert api.get("/api/v1/pool/customers/", {"pool": south_pool.pk}).status_code == 404
    assert api.get("/api/v1/pool/customers/", {"pool": "x"}).status_code == 400
    # Only pool managers assign and move.
    pooled_one = in_pool(east_pool, name="Pooled")
    assert api.post(f"/api/v1/pool/customers/{pooled_one.pk}/assign/", {"owner": bob.pk}).status_code == 403
    assert api.post(f"/api/v1/pool/customers/{pooled_one.pk}/move/", {"pool": south_pool.pk}).status_code == 403
    assert Customer.objects.get(pk=pooled_one.pk).in_pool


def test_assign_and_move_by_a_pool_manager(east_pool, south_pool, boss, alice, bob):
    c = in_pool(east_pool, name="To Assign")
    api = api_as(boss)
    assert api.post(f"/api/v1/pool/customers/{c.pk}/assign/", {"owner": 999999}).json()["error"]["fields"] == {
        "owner": ["Choose an active user."]}
    response = api.post(f"/api/v1/pool/customers/{c.pk}/assign/", {"owner": bob.pk})
    assert response.status_code == 200 and response.json()["owner"] == bob.pk
    note = Notification.objects.get(recipient=bob, kind="pool_assigned")
    assert "To Assign" in note.title
    # The assignee's hold limit applies.
    east_pool.hold_limit = 1
    east_pool.save()
    c2 = in_pool(east_pool, name="Second")
    refused = api.post(f"/api/v1/pool/customers/{c2.pk}/assign/", {"owner": bob.pk})
    assert refused.status_code == 400 and "owner" in refused.json()["error"]["fields"]
    third = in_pool(east_pool, name="Third by page")
    east_pool.hold_limit = 0
    east_pool.save()
    page = browser(boss).post(reverse("pool-assign", args=["customers", third.pk]), {"owner": alice.pk},
                              HTTP_HX_REQUEST="true")
    assert page["X-Pool-Status"] == "200" and "now belongs to Alice" in page.content.decode()
    assert Customer.objects.get(pk=third.pk).owner == alice
    moved = api.post(f"/api/v1/pool/customers/{c2.pk}/move/", {"pool": south_pool.pk})
    assert moved.status_code == 200 and moved.json()["pool"] == south_pool.pk
    assert "Second" not in api_as(alice).get("/api/v1/pool/customers/", {"pool": east_pool.pk}).content.decode()


def test_bulk_claim_answers_per_record(east_pool, alice, bob):
    east_pool.hold_limit = 2
    east_pool.save()
    a, b, c = (in_pool(east_pool, name=n) for n in ("A", "B", "C"))
    taken = owned(bob, name="Taken", pool=east_pool)
    response = api_as(alice).post("/api/v1/pool/customers/claim/", {"ids": [a.pk, taken.pk, b.pk, c.pk]}, format="json")
    assert response.status_code == 200
    results = {r["id"]: r for r in response.json()["results"]}
    assert results[a.pk]["ok"] and results[b.pk]["ok"]
    assert not results[taken.pk]["ok"] and results[taken.pk]["message"] == LOST
    assert not results[c.pk]["ok"] and "already holds 2" in results[c.pk]["message"]
    assert set(Customer.objects.filter(owner=alice).values_list("pk", flat=True)) == {a.pk, b.pk}
    # The page: a bulk claim with nothing chosen says so.
    page = browser(alice).post(reverse("pool-bulk-claim", args=["customers"]), {"ids": []}, follow=True)
    assert "Choose at least one record." in page.content.decode()


def test_api_lists_a_pools_records(east_pool, alice):
    c = in_pool(east_pool, name="Listed", previous_owner=alice, reason="released")
    owned(alice, name="Owned, not listed", pool=east_pool)
    body = api_as(alice).get("/api/v1/pool/customers/", {"pool": east_pool.pk}).json()
    assert [(r["id"], r["pool_reason"], r["previous_owner"]) for r in body["results"]] == [(c.pk, "released", alice.pk)]


def test_leads_are_pooled_too_and_only_open_leads_count_towards_the_limit(east_pool, alice):
    east_pool.hold_limit = 1
    east_pool.save()
    Lead.objects.create(owner=alice, department=alice.department, name="Converted", status="converted")
    lead = pooled(Lead, east_pool, name="Pooled lead", mobile="+8613700001234")
    response = api_as(alice).post(f"/api/v1/pool/leads/{lead.pk}/claim/")
    assert response.status_code == 200
    lead.refresh_from_db()
    assert lead.owner == alice and lead.pool == east_pool
    second = pooled(Lead, east_pool, name="Second lead")
    assert api_as(alice).post(f"/api/v1/pool/leads/{second.pk}/claim/").status_code == 400
    page = browser(alice).get(f"/leads/{second.pk}/").content.decode()  # pooled leads are seen, masked
    assert 'data-panel="pool"' in page and 'data-testid="pool-claim"' in page


def test_pools_and_rules_are_settings_entities(boss, alice, east_pool):
    api = api_as(boss)
    created = api.post("/api/v1/pools/", {"name": "西南公海", "hold_limit": 30, "daily_claim_limit": 5,
                                          "cooldown_days": 3, "warn_days": 2})
    assert created.status_code == 201
    rule = api.post("/api/v1/pool-rules/", {"pool": created.json()["id"], "level": "normal", "no_follow_up_days": 30})
    assert rule.status_code == 201
    dup = api.post("/api/v1/pool-rules/", {"pool": created.json()["id"], "level": "normal", "no_follow_up_days": 9})
    assert dup.status_code == 400 and "level" in dup.json()["error"]["fields"]
    bad = api.post("/api/v1/pools/", {"name": "Bad", "hold_limit": -1})
    assert bad.status_code == 400 and "hold_limit" in bad.json()["error"]["fields"]
    assert api_as(alice).get("/api/v1/pools/").status_code == 403  # settings are for administrators


# --- reclaim ------------------------------------------------------------------------------------

def _aged(user, name, level="normal", days_ago=100, last_follow_up_days=None, pool=None):
    c = owned(user, name=name, level=level, pool=pool)
    start = timezone.now() - timedelta(days=days_ago)
    Customer.all_objects.filter(pk=c.pk).update(
        created_at=start, owned_since=start,
        last_activity_at=timezone.now() - timedelta(days=last_follow_up_days) if last_follow_up_days is not None else None)
    return c


def test_reclaim_warns_ahead_then_returns_records_and_notifies(east_pool, alice):
    east_pool.is_default = True
    east_pool.save()
    PoolRule.objects.create(pool=east_pool, level="", no_follow_up_days=30, no_deal_days=0)
    PoolRule.objects.create(pool=east_pool, level="strategic", no_follow_up_days=60)
    quiet = _aged(alice, "Quiet Co", last_follow_up_days=28)              # due in 2 days: warned
    busy = _aged(alice, "Busy Co", last_follow_up_days=1)                  # nothing
    strategic = _aged(alice, "Big Co", level="strategic", last_follow_up_days=28)  # its own 60 days
    homeless = _aged(alice, "No pool yet", last_follow_up_days=40)         # default pool: reclaimed
    Contact.objects.create(customer=homeless, name="Follows", owner=alice, department=alice.department)

    now = timezone.now()
    assert pools.run_reclaim(now=now) == {"reclaimed": 1, "warned": 1}
    assert pools.run_reclaim(now=now + timedelta(hours=1)) == {"reclaimed": 0, "warned": 0}  # once per deadline
    warning = Notification.objects.get(recipient=alice, kind="pool_warning")
    assert "Quiet Co" in warning.title and "华东公海" in warning.title
    homeless.refresh_from_db()
    assert homeless.in_pool and homeless.pool == east_pool and homeless.previous_owner == alice
    assert homeless.pool_reason == "reclaimed"
    assert Contact.objects.get(customer=homeless).owner is None
    assert Notification.objects.get(recipient=alice, kind="pool_reclaimed").object_id == homeless.pk
    assert AuditEntry.objects.filter(object_id=homeless.pk, action="transfer", actor=None,
                                     extra__pool_action="reclaim").exists()

    later = now + timedelta(days=2, hours=1)
    assert pools.run_reclaim(now=later)["reclaimed"] == 1
    quiet.refresh_from_db()
    busy.refresh_from_db()
    strategic.refresh_from_db()
    assert quiet.in_pool and busy.owner == alice and strategic.owner == alice
    # A follow-up moves the deadline: a new warning for the new deadline, not for the old.
    Customer.all_objects.filter(pk=strategic.pk).update(last_activity_at=later - timedelta(days=58))
    assert pools.run_reclaim(now=later)["warned"] == 1


def test_reclaim_for_no_won_deal_by_level(east_pool, alice):
    PoolRule.objects.create(pool=east_pool, level="normal", no_deal_days=90)
    stale = _aged(alice, "No deal", days_ago=100, last_follow_up_days=1, pool=east_pool)
    won = _aged(alice, "Won recently", days_ago=100, last_follow_up_days=1, pool=east_pool)
    pipeline = make_pipeline()
    opp = Opportunity.objects.create(owner=alice, department=alice.department, customer=won, name="Deal",
                                     pipeline=pipeline, stage=pipeline.won_stage(), amount=Decimal("100"),
                                     expected_close_date=timezone.localdate())
    Opportunity.all_objects.filter(pk=opp.pk).update(closed_at=timezone.now() - timedelta(days=5))
    open_deal = _aged(alice, "Open deal only", days_ago=100, last_follow_up_days=1, pool=east_pool)
    Opportunity.objects.create(owner=alice, department=alice.department, customer=open_deal, name="Open",
                               pipeline=pipeline, stage=open_stages(pipeline)[0], amount=Decimal("100"),
                               expected_close_date=timezone.localdate())
    from crm.customers.tasks import reclaim_pool_records

    assert reclaim_pool_records.call()["reclaimed"] == 2  # the periodic job's task, run in-process
    assert Customer.objects.get(pk=stale.pk).in_pool
    assert Customer.objects.get(pk=open_deal.pk).in_pool
    assert Customer.objects.get(pk=won.pk).owner == alice
    assert PoolEvent.objects.get(object_id=stale.pk, action="reclaim").reason == "deal"


def test_reclaim_is_a_daily_periodic_job():
    assert PERIODIC["pool-reclaim"].task.module_path == "crm.customers.tasks.reclaim_pool_records"


def test_put_in_pool_and_bulk_claim_page_messages(east_pool, boss, alice, bob):
    mine = owned(alice, name="Alice Old Co")
    assert pools.put_in_pool(boss, "customers", [mine.pk], east_pool, reason="imported") == 1
    mine.refresh_from_db()
    assert mine.in_pool and mine.pool_reason == "imported" and mine.previous_owner == alice
    with pytest.raises(PermissionDenied):
        pools.put_in_pool(alice, "customers", [mine.pk], east_pool)
    secret = owned(alice, name="Alice Secret Co")
    page = browser(bob).post(reverse("pool-bulk-claim", args=["customers"]),
                             {"ids": [mine.pk, secret.pk]}, follow=True).content.decode()
    assert "1 of 2 records claimed." in page
    assert "Alice Secret Co" not in page and f"#{secret.pk}" in page  # no name of a record he may not see
    assert Customer.objects.get(pk=mine.pk).owner == bob


# --- real concurrent claims (SQLite file database and PostgreSQL) ---------------------------------------

def _race(clients, urls):
    start = threading.Barrier(len(clients))
    answers = [None] * len(clients)

    def go(i):
        try:
            start.wait()
            answers[i] = clients[i].post(urls[i])
        finally:
            connection.close()

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def _api_client(user):
    from rest_framework.test import APIClient

    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_many_people_claiming_one_record_exactly_one_wins():
    depts = make_tree()
    pool = make_pool("Race pool", [depts["east"]])
    c = in_pool(pool, name="Contested")
    users = [seller(f"racer{i}", depts["sales1"]) for i in range(6)]
    answers = _race([_api_client(u) for u in users], [f"/api/v1/pool/customers/{c.pk}/claim/"] * len(users))
    codes = sorted(a.status_code for a in answers)
    assert codes == [200] + [409] * (len(users) - 1), [a.content for a in answers]
    assert all(a.json()["error"]["message"] == LOST for a in answers if a.status_code == 409)
    winner = next(u for u, a in zip(users, answers) if a.status_code == 200)
    assert Customer.objects.get(pk=c.pk).owner == winner
    assert PoolEvent.objects.filter(object_id=c.pk, action="claim").count() == 1
    assert AuditEntry.objects.filter(object_id=c.pk, extra__pool_action="claim").count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_one_person_claiming_more_records_than_the_limit_at_once():
    depts = make_tree()
    pool = make_pool("Limit pool", [depts["east"]], hold_limit=3)
    records = [in_pool(pool, name=f"Rec {i}") for i in range(8)]
    user = seller("greedy", depts["sales1"])
    clients = []
    for _ in records:  # one session per request, as from several browser tabs
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(user)
        clients.append(client)
    answers = _race(clients, [reverse("pool-claim", args=["customers", r.pk]) for r in records])
    assert Customer.objects.filter(owner=user).count() == 3
    ok = [a for a in answers if a.status_code == 302 and "/customers/" in a["Location"]]
    refused = [a for a in answers if a not in ok]
    assert len(ok) == 3 and len(refused) == 5
    assert all(a.status_code == 302 and a["Location"] == reverse("pool-index") for a in refused)  # refused, told why
    assert PoolEvent.objects.filter(action="claim", actor=user).count() == 3


def test_bulk_assign_by_a_pool_manager_answers_per_record(east_pool, boss, alice, bob):
    east_pool.hold_limit = 1
    east_pool.save()
    a, b = in_pool(east_pool, name="Bulk A"), in_pool(east_pool, name="Bulk B")
    response = api_as(boss).post("/api/v1/pool/customers/assign/", {"ids": [a.pk, b.pk], "owner": bob.pk},
                                 format="json")
    assert response.status_code == 200
    results = {r["id"]: r for r in response.json()["results"]}
    assert results[a.pk]["ok"] and results[a.pk]["owner"] == bob.pk
    assert not results[b.pk]["ok"] and "already holds 1" in results[b.pk]["message"]
    assert Customer.objects.get(pk=b.pk).in_pool
    refused = api_as(alice).post("/api/v1/pool/customers/assign/", {"ids": [b.pk], "owner": alice.pk}, format="json")
    assert refused.json()["results"][0]["ok"] is False and Customer.objects.get(pk=b.pk).in_pool
    east_pool.hold_limit = 0
    east_pool.save()
    page = browser(boss).post(reverse("pool-bulk-assign", args=["customers"]), {"ids": [b.pk], "owner": alice.pk},
                              follow=True)
    assert "1 of 1 records assigned." in page.content.decode()
    assert Customer.objects.get(pk=b.pk).owner == alice
