"""`DictionaryField(kind="industry")`: a CharField holding the code of a data dictionary item."""

from django import forms
from django.core import checks
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from . import lookup


class DictionaryChoiceField(forms.ChoiceField):
    """A select of the kind's active items in order; `for_value()` adds a disabled current value."""

    def __init__(self, *, kind, blank=True, max_length=None, **kwargs):
        self.kind = kind
        self.blank = blank
        kwargs.pop("empty_value", None)
        super().__init__(choices=lambda: lookup.choices(kind, blank=blank), **kwargs)

    def for_value(self, current):
        self.choices = lookup.choices(self.kind, current=current, blank=self.blank)


class DictionaryField(models.CharField):
    description = _("Data dictionary item")

    def __init__(self, *args, kind=None, **kwargs):
        self.kind = kind
        kwargs.setdefault("max_length", 30)
        super().__init__(*args, **kwargs)

    def check(self, **kwargs):
        errors = super().check(**kwargs)
        if not self.kind:
            errors.append(checks.Error("DictionaryField needs a kind.", obj=self, id="crm.E101"))
        return errors

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["kind"] = self.kind
        if kwargs.get("max_length") == 30:
            del kwargs["max_length"]
        return name, path, args, kwargs

    def validate(self, value, model_instance):
        super().validate(value, model_instance)
        if value in self.empty_values:
            return
        found = lookup.item(self.kind, value)
        if found is not None and found.is_active:
            return
        if found is not None and model_instance is not None and model_instance.pk is not None:
            # A disabled item stays valid on a record that already holds it.
            stored = type(model_instance)._base_manager.filter(pk=model_instance.pk).values_list(
                self.attname, flat=True).first()
            if stored == value:
                return
        raise ValidationError(
            _("“%(value)s” is not an available choice."), code="invalid_choice", params={"value": value})

    def label_for(self, value):
        return lookup.label(self.kind, value)

    def formfield(self, **kwargs):
        defaults = {
            "form_class": DictionaryChoiceField,
            "kind": self.kind,
            "blank": self.blank or not self.has_default(),
            "required": not self.blank,
            "label": capfirst(self.verbose_name),
            "help_text": self.help_text,
        }
        if self.has_default():
            defaults["initial"] = self.get_default()
        defaults.update(kwargs)
        form_class = defaults.pop("form_class")
        defaults.pop("choices_form_class", None)
        defaults.pop("max_length", None)
        return form_class(**defaults)
