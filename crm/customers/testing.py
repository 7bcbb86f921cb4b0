"""Test data for the generated test kit (see crm/core/testing/kit.py)."""

from crm.core.testing.kit import EntityTestData, unique

from .models import Contact, Customer


class CustomerTestData(EntityTestData):
    def make(self, owner, department, **fields):
        fields.setdefault("name", unique("cust"))
        obj = Customer.objects.create(owner=owner, department=department, **fields)
        obj.after_create(None)
        return obj

    def create_payload(self, ctx):
        return {"name": unique("cust"), "level": "important", "phone": "13812345678", "tags": ["kit"]}


class ContactTestData(EntityTestData):
    def make(self, owner, department, **fields):
        fields.setdefault("name", unique("cont"))
        fields.setdefault("customer", CustomerTestData(self.spec).make(owner, department))
        return Contact.objects.create(owner=owner, department=department, **fields)

    def create_payload(self, ctx):
        customer = CustomerTestData(self.spec).make(ctx.user, ctx.user.department)
        return {"name": unique("cont"), "customer": customer.pk, "title": "Buyer", "mobile": "13912345678"}


def customer_post(**over):
    """The customer form as a browser posts it (every field, blank unless given): for page tests."""
    data = {
        "name": "Acme Trading", "mnemonic_code": "", "customer_type": "company", "level": "normal",
        "status": "potential", "credit_limit": "1000", "credit_code": "", "phone": "", "finance_phone": "",
        "email": "", "website": "", "country": "中国", "province": "", "city": "", "district": "",
        "address": "", "postcode": "", "registered_at": "2024-03-01T09:30", "tags": "", "notes": "",
        "industry": "", "source": "", "credit_rating": "", "parent": "",
    }
    data.update(over)
    return data


class PoolTestData(EntityTestData):
    """Public pools (CUS-9) for the generated test kit."""

    def make(self, owner, department, **fields):
        from .pool_models import Pool

        fields.setdefault("name", unique("pool"))
        return Pool.objects.create(**fields)

    def create_payload(self, ctx):
        return {"name": unique("pool"), "is_active": True, "hold_limit": 50, "daily_claim_limit": 10,
                "cooldown_days": 7, "warn_days": 3}


class PoolRuleTestData(EntityTestData):
    def make(self, owner, department, **fields):
        from .pool_models import Pool, PoolRule

        fields.setdefault("pool", Pool.objects.create(name=unique("pool")))
        fields.setdefault("level", "normal")
        return PoolRule.objects.create(**fields)

    def create_payload(self, ctx):
        from .pool_models import Pool

        pool = Pool.objects.create(name=unique("pool"))
        return {"pool": pool.pk, "level": "important", "no_follow_up_days": 30, "no_deal_days": 90}

    def created(self, payload):
        from .pool_models import PoolRule

        return PoolRule.objects.get(pool_id=payload["pool"])

    def edit_payload(self, obj):
        return {"note": "edited"}

    def search_text(self, obj):
        return str(obj.pool)


def make_pool(name=None, departments=(), **fields):
    """A public pool (CUS-9) open to `departments` (and their sub-departments; none: everyone)."""
    from .pool_models import Pool

    pool = Pool.objects.create(name=name or unique("pool"), **fields)
    pool.departments.set(departments)
    return pool


def pooled(model, pool, previous_owner=None, reason="new", entered_at=None, **fields):
    """A record lying in `pool` (no owner, no department), as a release or an import leaves it."""
    from django.utils import timezone

    fields.setdefault("name", unique("pooled"))
    obj = model.objects.create(owner=None, department=None, pool=pool, pool_reason=reason,
                               pool_entered_at=entered_at or timezone.now(), previous_owner=previous_owner, **fields)
    if hasattr(obj, "after_create"):
        obj.after_create(None)
    return obj
