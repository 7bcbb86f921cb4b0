"""Test data for the generated test kit (see crm/core/testing/kit.py)."""

from ..entities.registry import all_specs
from ..testing.kit import EntityTestData, unique
from .models import NumberingRule


class NumberingRuleTestData(EntityTestData):
    lookup_field = "entity"

    def make(self, owner, department, **fields):
        fields.setdefault("entity", unique("ent"))  # written directly: any key will do
        fields.setdefault("prefix", "T")
        return NumberingRule.objects.create(**fields)

    def create_payload(self, ctx):
        taken = set(NumberingRule.objects.values_list("entity", flat=True))
        free = next(s.key for s in all_specs() if s.key not in taken)
        return {"entity": free, "prefix": "NR", "date_part": "yyyy", "digits": 5, "reset": "yearly",
                "start_number": 1, "is_active": True}

    def edit_payload(self, obj):
        return {"prefix": unique("E")[-6:]}
