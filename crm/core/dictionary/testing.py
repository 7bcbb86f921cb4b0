"""Test data for the generated test kit (see crm/core/testing/kit.py)."""

from ..testing.kit import EntityTestData, unique
from .models import DictionaryItem


class DictionaryItemTestData(EntityTestData):
    lookup_field = "code"

    def make(self, owner, department, **fields):
        code = fields.pop("code", None) or unique("it")
        fields.setdefault("kind_id", "industry")
        fields.setdefault("label_zh", f"行业{code}")
        fields.setdefault("label_en", f"Industry {code}")
        fields.setdefault("order", 500)
        return DictionaryItem.objects.create(code=code, **fields)

    def create_payload(self, ctx):
        code = unique("it")
        return {"kind": "industry", "code": code, "label_zh": f"行业{code}", "label_en": f"Industry {code}",
                "order": 600}

    def edit_payload(self, obj):
        return {"label_en": f"{obj.label_en} edited"}
