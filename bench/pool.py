"""The public pool in the benchmark (CUS-9): the generator puts a share of the customers into the
regions' pools (set-based UPDATEs after the load), and the "pool claim" scenario claims pooled
customers through the API as the bench user, whose branch uses the East pool.

A claim changes data, so each timed request claims a record that was put back into the pool just
before (untimed: the request list hands out the next record and resets it when asked for it),
and the floor is the SQL a person would write for a claim: the holding count and the conditional
UPDATE, then the same reset."""

from django.db.models import F
from django.db.models.functions import Mod

from crm.customers.models import Contact, Customer
from crm.customers.pool_models import Pool, PoolEvent
from crm.org.models import Department

POOL_SHARE = 10  # one customer in POOL_SHARE lies in its region's pool
POOLS = [("华东公海", "E"), ("华南公海", "S")]  # the demo tree's region codes
CLAIM_RECORDS = 200  # pooled customers the scenario rotates over


def fill(now):
    """Put every POOL_SHARE-th live customer of each region into the region's pool (no owner, no
    department; contacts follow), as releases and reclaims would have left them."""
    for name, code in POOLS:
        region = Department.objects.filter(code=code).first()
        if region is None:
            continue
        pool = Pool.objects.create(name=name, is_default=code == "E")
        pool.departments.set([region])
        subtree = Department.objects.filter(path__startswith=region.path).values("pk")
        chosen = (Customer.all_objects.annotate(_m=Mod("id", POOL_SHARE))
                  .filter(_m=0, department__in=subtree, deleted_at__isnull=True).values("pk"))
        ids = list(chosen.values_list("pk", flat=True))
        for start in range(0, len(ids), 10_000):
            part = ids[start:start + 10_000]
            Customer.all_objects.filter(pk__in=part).update(
                previous_owner=F("owner"), owner=None, department=None, pool=pool, pool_entered_at=now,
                pool_reason="new")
            Contact.all_objects.filter(customer_id__in=part).update(owner=None, department=None)


def _reset(pk, pool_id):
    Customer.all_objects.filter(pk=pk).update(owner=None, department=None, pool_id=pool_id, owned_since=None)
    Contact.all_objects.filter(customer_id=pk).update(owner=None, department=None)
    PoolEvent.objects.filter(object_id=pk, content_type__model="customer", action="claim").delete()


class ClaimRequests:
    """The scenario's requests: each one claims a pooled customer put back into its pool first."""

    def __init__(self, ids, pool_id, bearer, make_request):
        self.ids, self.pool_id, self.bearer, self.make = ids, pool_id, bearer, make_request

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        pk = self.ids[i % len(self.ids)]
        _reset(pk, self.pool_id)
        return self.make(f"/api/v1/pool/customers/{pk}/claim/", {}, self.bearer, "post")

    def __iter__(self):
        """What the report lists: the request's pattern (indexing never ends: it wraps around)."""
        yield self.make("/api/v1/pool/customers/<id>/claim/", {}, self.bearer, "post")


def claim_rows(response):
    return 1 if response.json().get("ok") else 0


def claim_floor(ctx, ids, pool_id):
    def run(cursor, i):
        pk = ids[i % len(ids)]
        _reset(pk, pool_id)
        cursor.execute("SELECT COUNT(*) FROM customers_customer WHERE owner_id = %s AND deleted_at IS NULL",
                       [ctx.user.pk])
        cursor.fetchall()
        cursor.execute("UPDATE customers_customer SET owner_id = %s, department_id = %s, version = version + 1 "
                       "WHERE id = %s AND owner_id IS NULL AND pool_id = %s AND deleted_at IS NULL",
                       [ctx.user.pk, ctx.user.department_id, pk, pool_id])
        return cursor.rowcount

    return run


def scenarios(ctx):
    from crm.customers.pool import pool_ids_for

    from .scenarios import Request, Scenario

    pools = pool_ids_for(ctx.user)
    rows = list(Customer.objects.filter(owner__isnull=True, pool_id__in=pools).order_by("pk")
                .values_list("pk", "pool_id")[:CLAIM_RECORDS])
    if not rows:
        return []
    pool_id = rows[0][1]
    ids = [pk for pk, p in rows if p == pool_id]
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {ctx.token}"}
    requests = ClaimRequests(ids, pool_id, bearer, Request)
    return [Scenario("pool_claim", f"Public pool: claim a customer (API, {len(ids)} pooled customers in turn)",
                     "pool_claim", requests, claim_rows, claim_floor(ctx, ids, pool_id), api=True)]
