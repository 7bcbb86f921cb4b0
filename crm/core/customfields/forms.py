"""Custom fields in the generated entity forms, and the administrators' definition form."""

import json

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from ..ui.widgets import DateInput, DateTimeInput
from .defs import definitions
from .models import CustomField, FieldType
from .values import is_empty, to_json, to_python, validate_value


def _lazy_attr(defn, attr):
    return lazy(lambda: getattr(defn, attr), str)()


class _CheckValue:
    """The one value check (`values.validate_value`) as a form validator. The value the record
    already holds stays valid (a user who left since, a choice removed since)."""

    def __init__(self, defn, stored=None):
        self.defn = defn
        self.stored = stored

    def __call__(self, value):
        if self.stored is not None:
            raw = value.pk if hasattr(value, "pk") else value
            try:
                if raw == self.stored or to_json(self.defn, raw) == self.stored:
                    return
            except (AttributeError, TypeError, ValueError):
                pass
        validate_value(self.defn, value)

    def __eq__(self, other):
        return isinstance(other, _CheckValue) and other.defn.pk == self.defn.pk


class YesNoField(forms.NullBooleanField):
    """Yes, no or not answered; a required one must be answered."""

    def validate(self, value):
        if value is None and self.required:
            raise ValidationError(self.error_messages["required"], code="required")


def _users():
    return get_user_model().objects.filter(is_active=True).order_by("name", "username")


def form_field(defn):
    """A typed form field for one definition: label, help text, required, default."""
    kwargs = {"label": _lazy_attr(defn, "label"), "help_text": _lazy_attr(defn, "help"), "required": defn.required}
    t = defn.type
    if t == FieldType.TEXT:
        field = forms.CharField(max_length=200, strip=True, **kwargs)
    elif t == FieldType.LONG_TEXT:
        field = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 3}), **kwargs)
    elif t == FieldType.NUMBER:
        field = forms.IntegerField(**kwargs)
    elif t == FieldType.DECIMAL:
        field = forms.DecimalField(max_digits=21, decimal_places=6, **kwargs)
    elif t == FieldType.DATE:
        field = forms.DateField(widget=DateInput(), **kwargs)
    elif t == FieldType.DATETIME:
        field = forms.DateTimeField(widget=DateTimeInput(), **kwargs)
    elif t == FieldType.CHOICE:
        field = forms.ChoiceField(choices=lambda: [("", "---------")] + defn.choice_items(), **kwargs)
    elif t == FieldType.MULTI_CHOICE:
        field = forms.MultipleChoiceField(choices=defn.choice_items, widget=forms.SelectMultiple(
            attrs={"class": "form-select"}), **kwargs)
    elif t == FieldType.BOOLEAN:
        field = YesNoField(widget=forms.Select(choices=[("", "---------"), ("true", _("Yes")),
                                                                   ("false", _("No"))]), **kwargs)
    else:  # user: active users only
        field = forms.ModelChoiceField(queryset=_users(), **kwargs)
    field.validators.append(_CheckValue(defn))
    field.custom_definition = defn
    field.label_zh, field.label_en = defn.label_zh, defn.label_en  # import matches either header
    field.group = _lazy_attr(defn, "group")
    if not is_empty(defn.default):
        field.initial = to_form_value(defn, defn.default)
    return field


def to_form_value(defn, stored):
    value = to_python(defn, stored)
    if defn.type == FieldType.BOOLEAN and value is not None:
        return "true" if value else "false"
    return value


def form_fields(spec):
    """{"cf_<key>": field} for the entity's active definitions, in form order."""
    if not hasattr(spec.model, "custom"):
        return {}
    return {d.name: form_field(d) for d in definitions(spec.key)}


def with_custom_fields(form_cls, spec):
    fields = form_fields(spec)
    if not fields:
        return form_cls
    return type(form_cls.__name__, (form_cls,), fields)


def bind(form):
    """Per form: initial values from the record; a user field also offers the record's current
    (perhaps inactive) user."""
    if not hasattr(form.instance, "custom"):
        return
    stored = form.instance.custom or {} if form.instance.pk else {}
    for name, field in form.fields.items():
        defn = getattr(field, "custom_definition", None)
        if defn is None:
            continue
        if form.instance.pk:
            form.initial.setdefault(name, to_form_value(defn, stored.get(defn.key)))
            if not is_empty(stored.get(defn.key)):
                field.validators = [_CheckValue(defn, stored[defn.key]) if isinstance(v, _CheckValue) else v
                                    for v in field.validators]
        if defn.type == FieldType.USER and isinstance(stored.get(defn.key), int):
            field.queryset = get_user_model().objects.filter(is_active=True) | get_user_model().objects.filter(
                pk=stored[defn.key])


def apply(form):
    """Copy the cleaned custom values onto the instance (`custom`), keeping the values of removed
    fields and of fields not in the form."""
    if not hasattr(form.instance, "custom"):
        return
    custom = dict(form.instance.custom or {})
    for name, field in form.fields.items():
        defn = getattr(field, "custom_definition", None)
        if defn is None or name not in form.cleaned_data:
            continue
        value = form.cleaned_data[name]
        if defn.type == FieldType.USER and value is not None:
            value = value.pk
        if is_empty(value):
            custom.pop(defn.key, None)
        else:
            custom[defn.key] = to_json(defn, value)
    form.instance.custom = custom


def is_custom(name):
    return name.startswith("cf_")


def grouped(form):
    """[(group label or "", [bound fields])]: the model's fields and ungrouped custom fields
    first, then each group of custom fields in the order of its first field."""
    groups = {"": []}
    for bound in form.visible_fields():
        defn = getattr(bound.field, "custom_definition", None)
        label = str(defn.group) if defn is not None else ""
        groups.setdefault(label, []).append(bound)
    return [(k, v) for k, v in groups.items() if v]


# The administrators' form ----------------------------------------------------------------------

class ChoicesField(forms.CharField):
    """Choices typed one per line: `code | Chinese label | English label`."""

    widget = forms.Textarea(attrs={"rows": 5})

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(f"{c.get('code', '')} | {c.get('label_zh', '')} | {c.get('label_en', '')}" for c in value)
        return value

    def to_python(self, value):
        value = super().to_python(value)
        out = []
        for line in (value or "").splitlines():
            if not line.strip():
                continue
            parts = [p.strip() for p in line.replace("｜", "|").split("|")]
            parts += [""] * (3 - len(parts))
            out.append({"code": parts[0], "label_zh": parts[1] or parts[2], "label_en": parts[2] or parts[1]})
        return out


class DefinitionForm(forms.ModelForm):
    choices = ChoicesField(label=_("choices"), required=False, help_text=_(
        "One per line: code | Chinese label | English label. Codes are stored; labels may change."))
    default = forms.CharField(label=_("default value"), required=False, help_text=_(
        "As you would type it: 2026-01-31, 12.50, yes, or a choice code (several separated by commas)."))
    dictionary_kind = forms.ChoiceField(label=_("data dictionary kind"), required=False)

    class Meta:
        model = CustomField
        fields = ["key", "type", "label_zh", "label_en", "help_zh", "help_en", "required", "default", "min_value",
                  "max_value", "regex", "choices", "dictionary_kind", "group_zh", "group_en", "order", "show_in_list",
                  "filterable", "sortable"]

    def __init__(self, *args, entity=None, **kwargs):
        super().__init__(*args, **kwargs)
        if entity:
            self.instance.entity = entity
        from ..dictionary.models import DictionaryKind

        self.fields["dictionary_kind"].choices = [("", "---------")] + [
            (k.code, str(k)) for k in DictionaryKind.objects.all()]
        if self.instance.pk:
            self.fields["key"].disabled = True  # renamed with its own action, which moves the values
            self.fields["key"].help_text = _("Use “Rename” to change the key; the stored values move with it.")
            self.fields["type"].disabled = True
            self.fields["type"].help_text = _("The type cannot change once values may be stored.")
            d = self.instance.default
            self.initial["default"] = ", ".join(d) if isinstance(d, list) else (
                "" if d is None else ("yes" if d is True else "no" if d is False else str(d)))

    def clean_default(self):
        raw = (self.cleaned_data.get("default") or "").strip()
        if not raw:
            return None
        if self.cleaned_data.get("type") == FieldType.MULTI_CHOICE:
            return [p.strip() for p in raw.replace("，", ",").split(",") if p.strip()]
        if self.cleaned_data.get("type") == FieldType.USER:
            raise ValidationError(_("A user field cannot have a default."))
        return raw


def definition_json(defn):
    return json.dumps({"key": defn.key, "type": defn.type})
