"""The rule in the API, with the number it would issue next (read-only, not consumed)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..api.serializers import EntitySerializer
from .models import NumberingRule
from .registration import FIELDS
from .services import previews


class PreviewListSerializer(serializers.ListSerializer):
    """A page of rules reads all their previews in one query."""

    def to_representation(self, data):
        rules = list(data.all() if hasattr(data, "all") else data)
        self.context["numbering_previews"] = previews(rules)
        return super().to_representation(rules)


class NumberingRuleSerializer(EntitySerializer):
    preview = serializers.SerializerMethodField(help_text="The number the rule would issue next (not consumed).")

    class Meta:
        model = NumberingRule
        fields = ["id", "display", *FIELDS, "preview", "created_at", "updated_at", "version"]
        read_only_fields = ["created_at", "updated_at"]
        list_serializer_class = PreviewListSerializer

    @extend_schema_field(serializers.CharField())
    def get_preview(self, obj):
        known = self.context.get("numbering_previews") or {}
        return known[obj.pk] if obj.pk in known else obj.preview
