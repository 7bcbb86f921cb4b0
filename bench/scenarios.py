"""The scenarios of DESIGN.md's budget table that exist today, as requests through the real stack,
each with its budget and its floor (bench/floor.py).

All run as the demo's Shanghai branch manager (`shmgr`, role 分公司经理): customers and contacts at
department-subtree scope, so every list and search carries the scope predicate
`department_id IN (subtree) OR owner_id = me` over the branch's ~1/6 of the data.
"""

import re
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef

from crm.core.access.models import ApiToken
from crm.core.access.scope import subtree_ids
from crm.core.entities.registry import get_spec
from crm.core.timeline.models import Note
from crm.core.ui.pagination import encode_cursor
from crm.customers.models import Contact, Customer, CustomerStatus
from crm.org.models import User

from . import floor
from . import pool as pool_bench
from . import sales as sales_bench

BENCH_USER = "shmgr"
LIST_FILTER = {"status": CustomerStatus.ACTIVE.value}
LIST_SORT = "name"
# Search terms come from one visible customer in the middle of the id range (a user looking for
# a customer they know): its brand (上海瑞丰科技有限公司 → 瑞丰), the pinyin initials of brand and
# trade (→ RFKJ, inside the mnemonic code SHRFKJYXGS) and the last 4 digits of its phone.
SEARCH_FALLBACK = {"chinese": "瑞丰", "initials": "RFKJ", "phone": "6688"}
DETAIL_SAMPLES = 10


@dataclass(frozen=True)
class Budget:
    text: str
    p95_ms: float
    floor_factor: float | None = None
    floor_plus_ms: float = 0.0

    def check(self, app_p95, floor_p95):
        """(ok, reasons)"""
        reasons = []
        if app_p95 > self.p95_ms:
            reasons.append(f"p95 {app_p95:.1f} ms > {self.p95_ms:g} ms")
        if self.floor_factor is not None:
            limit = self.floor_factor * floor_p95 + self.floor_plus_ms
            if app_p95 > limit:
                reasons.append(f"p95 {app_p95:.1f} ms > {self.floor_factor:g}× floor + {self.floor_plus_ms:g} ms = {limit:.1f} ms")
        return not reasons, reasons


BUDGETS = {
    "list_html": Budget("p95 ≤ 60 ms, ≤ 3× floor + 15 ms", 60, 3, 15),
    "list_api": Budget("p95 ≤ 40 ms", 40),
    "search": Budget("p95 ≤ 100 ms", 100),
    "detail": Budget("p95 ≤ 100 ms", 100),
    "kanban": Budget("p95 ≤ 150 ms", 150),  # pipeline kanban, 500 visible opportunities
    # For information: a board far larger than the budget's 500 (a branch manager's whole board).
    "info": Budget("none (beyond DESIGN.md's case)", float("inf")),
    "dashboard": Budget("p95 ≤ 300 ms", 300),  # manager dashboard (funnel)
    "pool_claim": Budget("p95 ≤ 100 ms", 100),  # public pool claim, a write (CUS-9)
}
GROWTH_LIMIT = 1.5  # p95 at "large" vs at 1/10 of it


@dataclass
class Request:
    path: str
    params: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)
    method: str = "get"


@dataclass
class Scenario:
    key: str
    title: str
    budget: str
    requests: list  # Request per run, rotated
    count_rows: object  # response -> rows returned
    floor: object  # (cursor, ctx, run index) -> rows returned
    api: bool = False


@dataclass
class Context:
    user: object
    token: str
    vendor: str
    departments: list
    visible_customers: int
    total_customers: int
    deep_key: tuple = None  # (name, id) the deep page starts after
    deep_cursor: str = None
    detail_ids: list = field(default_factory=list)
    customer_ct: int = None
    filter: dict = field(default_factory=lambda: dict(LIST_FILTER))
    sort: str = LIST_SORT
    search: dict = field(default_factory=dict)


def setup(vendor):
    """Everything the scenarios need, read from the loaded data (not timed)."""
    from django.contrib.contenttypes.models import ContentType

    user = User.objects.get(username=BENCH_USER)
    ApiToken.objects.filter(user=user, name="bench").delete()
    _token, token = ApiToken.issue(user, "bench", 1)
    visible = Customer.objects.for_user(user)
    filtered = visible.filter(**LIST_FILTER).order_by(LIST_SORT, "pk")
    n_filtered = filtered.count()
    ctx = Context(
        user=user, token=token, vendor=vendor, departments=subtree_ids(user),
        visible_customers=visible.count(), total_customers=Customer.objects.count(),
        customer_ct=ContentType.objects.get_for_model(Customer).pk,
        search=search_terms(visible),
    )
    # The deep page: the one after the middle row of the filtered, sorted list.
    row = filtered.values_list("name", "pk")[n_filtered // 2: n_filtered // 2 + 1].first() if n_filtered else None
    if row:
        ctx.deep_key = row
        ctx.deep_cursor = encode_cursor(Customer._meta.get_field(LIST_SORT), Customer(name=row[0], pk=row[1]))
    ctx.detail_ids = detail_samples(user)
    return ctx


def search_terms(visible):
    last = visible.order_by("-pk").values_list("pk", flat=True).first() or 0
    for row in (visible.filter(pk__gte=last // 2, name__regex=r"^[\u4e00-\u9fff]{4}").exclude(phone="")
                .order_by("pk").values_list("name", "mnemonic_code", "phone")[:50]):
        name, mnemonic, phone = row
        if len(mnemonic) >= 6 and phone[-4:].isdigit():
            # City names are two characters, so the brand is characters 3-4 and its initials follow the city's.
            return {"chinese": name[2:4], "initials": mnemonic[2:6], "phone": phone[-4:]}
    return dict(SEARCH_FALLBACK)


def detail_samples(user, k=DETAIL_SAMPLES):
    """Visible customers spread over the id range that have notes and contacts; the first one
    also has subsidiaries, so every panel of the 360° page has rows."""
    visible = Customer.objects.for_user(user)
    last = visible.order_by("-pk").values_list("pk", flat=True).first() or 0
    ids = []
    parent = (visible.filter(children__isnull=False, pk__gte=last // 2).order_by("pk")
              .values_list("pk", flat=True).first())
    if parent:
        ids.append(parent)
    has_notes = Note.objects.filter(content_type__app_label="customers", content_type__model="customer",
                                    object_id=OuterRef("pk"))
    two_contacts = Contact.objects.filter(customer=OuterRef("pk"), is_primary=False)
    for i in range(k * 3):
        if len(ids) >= k:
            break
        start = int(last * (i % k + 0.5) / k) + i // k
        pk = (visible.filter(Exists(has_notes), Exists(two_contacts), pk__gte=start)
              .order_by("pk").values_list("pk", flat=True).first())
        if pk and pk not in ids:
            ids.append(pk)
    return ids or list(visible.order_by("pk").values_list("pk", flat=True)[:k])


# --- rows returned, read from the response -------------------------------------------------------

_LIST_ROW = re.compile(r'name="ids" value="\d+"')
_SEARCH_ROW = re.compile(r'<li class="list-group-item">')
_PANEL_ROW = re.compile(r"<tr><td><a href=")
_TIMELINE_ROW = re.compile(r'<li class="mb-3">')


def html_list_rows(response):
    return len(_LIST_ROW.findall(response.content.decode()))


def api_rows(response):
    return len(response.json()["results"])


def search_rows(response):
    return len(_SEARCH_ROW.findall(response.content.decode()))


def detail_rows(response):
    html = response.content.decode()
    return 1 + len(_PANEL_ROW.findall(html)) + len(_TIMELINE_ROW.findall(html))


# --- the scenarios -------------------------------------------------------------------------------

def scenarios(ctx):
    spec = get_spec(Customer)
    list_url = f"/{spec.key}/"
    api_url = f"/api/v1/{spec.key}/"
    params = {**ctx.filter, "sort": ctx.sort}
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {ctx.token}"}
    deep = {**params, "after": ctx.deep_cursor} if ctx.deep_cursor else params
    api_deep = {**params, "cursor": ctx.deep_cursor} if ctx.deep_cursor else params
    status = ctx.filter["status"]
    return [
        Scenario("list_html_first", f"Customer list (HTML), first page, status={status}, sort={ctx.sort}", "list_html",
                 [Request(list_url, params)], html_list_rows, floor.list_page(ctx, deep=False)),
        Scenario("list_html_deep", "Customer list (HTML), deep page (middle of the list), same filter and sort", "list_html",
                 [Request(list_url, deep)], html_list_rows, floor.list_page(ctx, deep=True)),
        Scenario("list_api_first", "Customer list (API), first page, same filter and sort", "list_api",
                 [Request(api_url, params, bearer)], api_rows, floor.api_page(ctx, deep=False), api=True),
        Scenario("list_api_deep", "Customer list (API), deep page, same filter and sort", "list_api",
                 [Request(api_url, api_deep, bearer)], api_rows, floor.api_page(ctx, deep=True), api=True),
        Scenario("customer_360", f"Customer 360° page ({len(ctx.detail_ids)} customers in turn)", "detail",
                 [Request(f"{list_url}{pk}/") for pk in ctx.detail_ids], detail_rows, floor.detail_page(ctx)),
        Scenario("search_chinese", f"Global search, Chinese substring “{ctx.search['chinese']}”", "search",
                 [Request("/search/", {"q": ctx.search["chinese"]})], search_rows, floor.search(ctx, ctx.search["chinese"])),
        Scenario("search_initials", f"Global search, pinyin initials “{ctx.search['initials']}”", "search",
                 [Request("/search/", {"q": ctx.search["initials"]})], search_rows, floor.search(ctx, ctx.search["initials"])),
        Scenario("search_phone", f"Global search, phone tail “{ctx.search['phone']}”", "search",
                 [Request("/search/", {"q": ctx.search["phone"]})], search_rows, floor.search(ctx, ctx.search["phone"])),
        *sales_bench.scenarios(ctx),  # kanban and funnel (SAL-2, SAL-3)
        *pool_bench.scenarios(ctx),  # public pool claim (CUS-9), last: it writes
    ]


__all__ = ["BUDGETS", "GROWTH_LIMIT", "Context", "Scenario", "scenarios", "setup"]
