"""Serializers generated from an EntitySpec. Fields are listed explicitly (no mass assignment):
owner, department, version and ids are read-only and change only through their services."""

from django.db import connection, models
from django.db.backends.base.operations import BaseDatabaseOperations
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS

from django.utils.translation import gettext as _

from ..access import links
from ..access.masking import hidden_fields, present
from ..customfields.serializers import CustomValuesField, custom_errors_at_keys, defaults_for_create
from ..dictionary.fields import DictionaryField
from ..entities.registry import get_spec

READ_ONLY_META = ("code", "owner", "department", "created_at", "updated_at", "created_by", "updated_by")


class TagListField(serializers.ListField):
    child = serializers.CharField(max_length=50)

    def to_representation(self, manager):
        return [t.name for t in manager.all()]


class EntitySerializer(serializers.ModelSerializer):
    display = serializers.SerializerMethodField()
    version = serializers.IntegerField(required=False, min_value=1,
                                       help_text="The version you edited; a stale one is refused with 409.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        spec = get_spec(self.Meta.model)
        self._writer, self._scoped_links = user, []  # many-to-many fields whose hidden links a write keeps
        # Links are scoped for writes; a read shows ids only and never queries the pickers.
        writes = request is None or request.method not in SAFE_METHODS
        for name, field in self.fields.items() if writes else ():
            if isinstance(field, serializers.PrimaryKeyRelatedField) and not field.read_only:
                try:
                    get_spec(field.queryset.model)
                except LookupError:
                    continue
                # A write may only point at records the writer can see.
                field.queryset = field.queryset.model.objects.for_user(user) if user else field.queryset.none()
            elif (isinstance(field, serializers.ManyRelatedField) and not field.read_only
                  and links.governs(field.child_relation.queryset.model)):
                # The same for a list of links; those the record already has stay valid, and
                # those the writer may not see are kept (crm.core.access.links).
                field.child_relation.queryset = links.accepted(
                    user, field.child_relation.queryset.model, self._link_owner(), field.source)
                self._scoped_links.append(name)
        self._spec = spec
        # Protected fields (SEC-1) are absent for those without their special permission. Without
        # a request (schema generation) the serializer is the full one the schema documents.
        self._hidden = hidden_fields(user, spec) if request is not None else set()
        for name in self._hidden:
            self.fields.pop(name, None)

    def _link_owner(self):
        """The record whose links a write changes (None when creating or for a list)."""
        return self.instance if isinstance(self.instance, models.Model) else None

    def to_internal_value(self, data):
        refused = sorted(n for n in self._hidden if hasattr(data, "keys") and n in data)
        if refused:
            raise serializers.ValidationError({n: [_("You may not set this field.")] for n in refused})
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError(custom_errors_at_keys(exc.detail))  # at `custom.<key>` (SYS-11)
        for name in self._scoped_links:
            field = self.fields.get(name)  # (gone when protected for this user)
            if field is not None and field.source in value:
                value[field.source] = links.kept(self._writer, field.child_relation.queryset.model,
                                                 self._link_owner(), field.source, value[field.source])
        if "custom" in self.fields and self.instance is None and "custom" not in value:
            custom, errors = defaults_for_create(self._spec.key)  # defaults; required fields must be sent
            if errors:
                raise serializers.ValidationError({f"custom.{k}": v for k, v in errors.items()})
            value["custom"] = custom
        return value

    def build_standard_field(self, field_name, model_field):
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        if isinstance(model_field, DictionaryField):
            kwargs["help_text"] = (f"The code of an item of the data dictionary kind “{model_field.kind}” "
                                   f"(/api/v1/dictionary-items/?kind={model_field.kind}).")
        perm = get_spec(self.Meta.model).protected_fields.get(field_name)
        if perm:
            kwargs["help_text"] = (f"{kwargs.get('help_text') or ''} Present and writable only with the special "
                                   f"permission “{perm}”: without it the field is absent from responses and a "
                                   f"write of it is refused (400).").strip()
        if isinstance(model_field, models.IntegerField):
            # Integer bounds that come from the database backend (SQLite allows 64 bits in every
            # integer column) become the portable ones: the API, and its schema, are the same on
            # SQLite and PostgreSQL.
            kind = model_field.get_internal_type()
            backend = connection.ops.integer_field_range(kind)
            portable = BaseDatabaseOperations.integer_field_ranges.get(kind, backend)
            for key, was, now in (("min_value", backend[0], portable[0]), ("max_value", backend[1], portable[1])):
                if key in kwargs and kwargs[key] == was:
                    kwargs[key] = now
        return field_class, kwargs

    @extend_schema_field(serializers.CharField())
    def get_display(self, obj):
        return str(obj)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        user = getattr(self.context.get("request"), "user", None)
        for name in self._spec.masked_fields:
            if name in data:
                data[name] = present(user, self._spec, instance, name)
        return data


def serializer_class(spec):
    custom = spec.override("serializers", "Serializer")
    if custom is not None:
        return custom
    model = spec.model
    names = ["id", "display"]
    for extra in READ_ONLY_META:
        if hasattr(model, extra) and extra not in spec.form_fields:
            try:
                model._meta.get_field(extra)
                names.append(extra)
            except Exception:
                pass
    names += [n for n in spec.form_fields if n not in names]
    if spec.versioned:
        names.append("version")
    attrs = {}
    if "tags" in spec.form_fields:
        attrs["tags"] = TagListField(required=False)
    if hasattr(model, "custom"):  # custom field values (SYS-11), validated against the definitions
        attrs["custom"] = CustomValuesField(entity=spec.key)
        names.append("custom")
    read_only = [n for n in names if n in READ_ONLY_META or n in spec.api_extra_read_only]
    meta = type("Meta", (), {"model": model, "fields": names, "read_only_fields": read_only})
    attrs["Meta"] = meta
    return type(f"{model.__name__}Serializer", (EntitySerializer,), attrs)


def writable_data(serializer):
    """(data, m2m, version) from validated data, for the write services."""
    from ..ui.forms import tags_from_names

    data, m2m = {}, {}
    model = serializer.Meta.model
    version = None
    for name, value in serializer.validated_data.items():
        if name == "version":
            version = value
        elif name == "tags":
            m2m["tags"] = tags_from_names(value)
        else:
            field = model._meta.get_field(name)
            if isinstance(field, models.ManyToManyField) or field.many_to_many or field.one_to_many:
                m2m[name] = value
            else:
                data[name] = value
    return data, m2m, version
