"""Definitions of custom fields (SYS-11). Values live in each record's `custom` JSON column,
keyed by the definition's `key`; a removed definition keeps the values (they come back when the
field is restored, and administrators see them read-only on the detail page)."""

import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..dictionary.models import _in_language
from ..versions import BumpingQuerySet

KEY_RE = r"^[a-z][a-z0-9_]{0,39}$"


class FieldType(models.TextChoices):
    TEXT = "text", _("Text")
    LONG_TEXT = "long_text", _("Long text")
    NUMBER = "number", _("Whole number")
    DECIMAL = "decimal", _("Decimal / money")
    DATE = "date", _("Date")
    DATETIME = "datetime", _("Date and time")
    CHOICE = "choice", _("Choice")
    MULTI_CHOICE = "multi_choice", _("Multiple choice")
    BOOLEAN = "boolean", _("Yes / no")
    USER = "user", _("User")


CHOICE_TYPES = (FieldType.CHOICE, FieldType.MULTI_CHOICE)
RANGE_TYPES = (FieldType.NUMBER, FieldType.DECIMAL, FieldType.DATE, FieldType.DATETIME)
TEXT_TYPES = (FieldType.TEXT, FieldType.LONG_TEXT)


class CustomFieldQuerySet(BumpingQuerySet, models.QuerySet):
    pass


class CustomField(models.Model):
    entity = models.CharField(_("entity"), max_length=50, db_index=True)
    key = models.CharField(
        _("key"), max_length=40, validators=[RegexValidator(KEY_RE, _(
            "Use lower-case letters, digits and underscores, starting with a letter."))],
        help_text=_("Stored with the values and used in the API; renaming it moves the stored values."))
    type = models.CharField(_("type"), max_length=20, choices=FieldType.choices, default=FieldType.TEXT)
    label_zh = models.CharField(_("Chinese label"), max_length=100)
    label_en = models.CharField(_("English label"), max_length=100)
    help_zh = models.CharField(_("Chinese help text"), max_length=300, blank=True)
    help_en = models.CharField(_("English help text"), max_length=300, blank=True)
    required = models.BooleanField(_("required"), default=False)
    default = models.JSONField(_("default value"), null=True, blank=True)
    min_value = models.DecimalField(_("minimum"), max_digits=20, decimal_places=6, null=True, blank=True,
                                    help_text=_("Numbers: the smallest value; texts: the fewest characters."))
    max_value = models.DecimalField(_("maximum"), max_digits=20, decimal_places=6, null=True, blank=True,
                                    help_text=_("Numbers: the largest value; texts: the most characters."))
    regex = models.CharField(_("pattern"), max_length=200, blank=True,
                             help_text=_("Texts only: a regular expression the whole value must match."))
    choices = models.JSONField(_("choices"), default=list, blank=True)  # [{"code", "label_zh", "label_en"}]
    dictionary_kind = models.CharField(_("data dictionary kind"), max_length=40, blank=True,
                                       help_text=_("Choices from a data dictionary pick list instead of your own."))
    order = models.IntegerField(_("order"), default=0)
    group_zh = models.CharField(_("Chinese group"), max_length=100, blank=True)
    group_en = models.CharField(_("English group"), max_length=100, blank=True)
    show_in_list = models.BooleanField(_("show in list by default"), default=False)
    filterable = models.BooleanField(_("filterable"), default=True)
    sortable = models.BooleanField(_("sortable"), default=True)
    removed_at = models.DateTimeField(_("removed at"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now, editable=False)

    objects = CustomFieldQuerySet.as_manager()

    class Meta:
        base_manager_name = "objects"  # bulk writes reload the cached definitions (crm.core.versions)
        ordering = ["entity", "order", "id"]
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        constraints = [models.UniqueConstraint(fields=["entity", "key"], name="uniq_custom_field_key")]

    def __str__(self):
        return self.label

    @property
    def label(self):
        return _in_language(self.label_zh, self.label_en)

    @property
    def help(self):
        return _in_language(self.help_zh, self.help_en)

    @property
    def group(self):
        return _in_language(self.group_zh, self.group_en)

    @property
    def name(self):
        """The name of the form field, filter, list column and sort key: `cf_<key>`."""
        return f"cf_{self.key}"

    @property
    def is_active(self):
        return self.removed_at is None

    @property
    def filter_kind(self):
        if self.type in TEXT_TYPES:
            return "contains"
        if self.type in RANGE_TYPES:
            return "range"
        if self.type == FieldType.MULTI_CHOICE:
            return "multi"
        return "exact"

    def choice_items(self):
        """[(code, label)] in order, from the own list or the data dictionary kind."""
        if self.dictionary_kind:
            from ..dictionary import lookup

            return [(i.code, i.label) for i in lookup.items(self.dictionary_kind)]
        return [(c["code"], _in_language(c.get("label_zh"), c.get("label_en"))) for c in self.choices or []]

    def choice_codes(self, active_only=True):
        if self.dictionary_kind:
            from ..dictionary import lookup

            return {i.code for i in lookup.items(self.dictionary_kind) if i.is_active or not active_only}
        return {c["code"] for c in self.choices or []}

    def clean(self):
        super().clean()
        from ..entities.registry import get_spec

        errors = {}
        try:
            spec = get_spec(self.entity)
        except KeyError:
            errors["entity"] = _("Unknown entity.")
        else:
            if not hasattr(spec.model, "custom"):
                errors["entity"] = _("This entity has no custom fields.")
        if self.min_value is not None and self.max_value is not None and self.min_value > self.max_value:
            errors["max_value"] = _("The maximum is smaller than the minimum.")
        if self.regex:
            if self.type not in TEXT_TYPES:
                errors["regex"] = _("Only text fields can have a pattern.")
            else:
                try:
                    re.compile(self.regex)
                except re.error as exc:
                    errors["regex"] = _("Not a valid regular expression: %(error)s") % {"error": exc}
        if self.type in CHOICE_TYPES:
            errors.update(self._clean_choices())
        elif self.choices or self.dictionary_kind:
            errors["choices"] = _("Only choice fields have choices.")
        if not errors and self.default not in (None, "", []):
            from .values import validate_value

            try:
                self.default = validate_value(self, self.default, as_json=True)
            except ValidationError as exc:
                errors["default"] = exc.messages
        if errors:
            raise ValidationError(errors)

    def _clean_choices(self):
        if self.dictionary_kind:
            from ..dictionary.models import DictionaryKind

            if not DictionaryKind.objects.filter(code=self.dictionary_kind).exists():
                return {"dictionary_kind": _("Unknown data dictionary kind.")}
            if self.choices:
                return {"choices": _("Give either your own choices or a data dictionary kind, not both.")}
            return {}
        if not isinstance(self.choices, list) or not self.choices:
            return {"choices": _("Give at least one choice.")}
        seen = set()
        for c in self.choices:
            if not isinstance(c, dict) or not re.match(r"^[A-Za-z0-9_.-]{1,30}$", str(c.get("code", ""))):
                return {"choices": _("Each choice needs a code of letters, digits, “_”, “-” or “.”.")}
            if not (c.get("label_zh") or c.get("label_en")):
                return {"choices": _("Each choice needs a label.")}
            if c["code"] in seen:
                return {"choices": _("The choice code “%(code)s” appears twice.") % {"code": c["code"]}}
            seen.add(c["code"])
        return {}
