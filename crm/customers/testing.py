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
