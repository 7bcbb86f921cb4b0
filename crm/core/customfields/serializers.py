"""The `custom` object of every entity's API representation, and the definitions API's
serializer."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .defs import definitions
from .models import CustomField, FieldType
from .values import is_empty, validate_custom

CUSTOM_SCHEMA = {
    "type": "object",
    "additionalProperties": True,
    "description": (
        "Custom field values (SYS-11), keyed by the field's key. Which keys exist, their types and "
        "allowed values are defined by administrators: GET /api/v1/custom-fields/?entity=<entity> lists them and "
        "GET /api/v1/custom-fields/json-schema/?entity=<entity> gives this object's JSON Schema. Types: text and "
        "choice codes are strings, decimals strings (\"12.50\"), dates \"YYYY-MM-DD\", date-times ISO 8601, "
        "multiple choice a list of codes, yes/no a boolean, user a user id. On write, only the keys sent "
        "change (null clears one); an unknown key or a bad value is a 400 at `custom.<key>`."
    ),
}


@extend_schema_field(CUSTOM_SCHEMA)
class CustomValuesField(serializers.Field):
    def __init__(self, entity=None, **kwargs):
        self.entity = entity
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        return instance

    def to_representation(self, instance):
        stored = getattr(instance, "custom", None) or {}
        return {d.key: stored.get(d.key) for d in definitions(self.entity) if not is_empty(stored.get(d.key))}

    def to_internal_value(self, data):
        parent = self.parent
        instance = getattr(parent, "instance", None)
        stored = getattr(instance, "custom", None) if instance is not None else None
        result, errors = validate_custom(self.entity, data, stored, partial=instance is not None)
        if errors:
            raise serializers.ValidationError({k or "custom": v for k, v in errors.items()})
        return result


def custom_errors_at_keys(detail):
    """{"custom": {"k": [...]}} → {"custom.k": [...]}: errors at the custom field, as clients expect."""
    if isinstance(detail, dict) and isinstance(detail.get("custom"), dict):
        nested = detail.pop("custom")
        for key, messages in nested.items():
            detail["custom" if key == "custom" else f"custom.{key}"] = messages
    return detail


def defaults_for_create(entity):
    """The `custom` object of a record created without one: defaults, and required errors."""
    return validate_custom(entity, {}, None, partial=False)


class ChoiceSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=30)
    label_zh = serializers.CharField(max_length=100, required=False, allow_blank=True)
    label_en = serializers.CharField(max_length=100, required=False, allow_blank=True)


class CustomFieldSerializer(serializers.ModelSerializer):
    choices = ChoiceSerializer(many=True, required=False)
    default = serializers.JSONField(required=False, allow_null=True, help_text=(
        "A value of the field's type (as in the records' `custom` object), or null."))
    order = serializers.IntegerField(required=False, min_value=-2147483648, max_value=2147483647)  # same on every DB
    active = serializers.SerializerMethodField()
    filter_parameters = serializers.SerializerMethodField()

    class Meta:
        model = CustomField
        fields = ["id", "entity", "key", "type", "label_zh", "label_en", "help_zh", "help_en", "required", "default",
                  "min_value", "max_value", "regex", "choices", "dictionary_kind", "order", "group_zh", "group_en",
                  "show_in_list", "filterable", "sortable", "active", "removed_at", "filter_parameters",
                  "created_at", "updated_at"]
        read_only_fields = ["removed_at", "created_at", "updated_at"]

    def get_active(self, obj) -> bool:
        return obj.removed_at is None

    def get_filter_parameters(self, obj) -> list[str]:
        """The list filters this field adds (query parameters of the entity's list endpoint)."""
        if not obj.filterable:
            return []
        if obj.filter_kind == "range":
            return [f"{obj.name}_min", f"{obj.name}_max"]
        return [obj.name]

    def update(self, instance, validated_data):  # pragma: no cover - the views call the services
        raise NotImplementedError


class RenameInput(serializers.Serializer):
    key = serializers.RegexField(r"^[a-z][a-z0-9_]{0,39}$", max_length=40)


class ReorderInput(serializers.Serializer):
    entity = serializers.CharField(max_length=50)
    keys = serializers.ListField(child=serializers.CharField(max_length=40))


JSON_TYPES = {
    FieldType.TEXT: {"type": "string"}, FieldType.LONG_TEXT: {"type": "string"},
    FieldType.NUMBER: {"type": "integer"}, FieldType.DECIMAL: {"type": "string", "format": "decimal"},
    FieldType.DATE: {"type": "string", "format": "date"}, FieldType.DATETIME: {"type": "string", "format": "date-time"},
    FieldType.BOOLEAN: {"type": "boolean"}, FieldType.USER: {"type": "integer"},
}


def json_schema(entity):
    """The JSON Schema of the `custom` object of `entity` under the current definitions."""
    props, required = {}, []
    for d in definitions(entity):
        if d.type == FieldType.CHOICE:
            prop = {"type": "string", "enum": sorted(d.choice_codes())}
        elif d.type == FieldType.MULTI_CHOICE:
            prop = {"type": "array", "items": {"type": "string", "enum": sorted(d.choice_codes())}}
        else:
            prop = dict(JSON_TYPES[d.type])
        if d.type in (FieldType.NUMBER,) and d.min_value is not None:
            prop["minimum"] = int(d.min_value)
        if d.type in (FieldType.NUMBER,) and d.max_value is not None:
            prop["maximum"] = int(d.max_value)
        if d.regex:
            prop["pattern"] = d.regex
        prop["title"] = d.label_en or d.label_zh
        prop["x-label-zh"] = d.label_zh
        if d.help_en or d.help_zh:
            prop["description"] = d.help_en or d.help_zh
        prop["nullable"] = not d.required
        props[d.key] = prop
        if d.required:
            required.append(d.key)
    schema = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        schema["required"] = required
    return schema
