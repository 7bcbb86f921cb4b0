"""Custom fields in the generated filter sets (list pages and the API share them): text
contains, choice / yes-no / user exact, multi-choice any-of, number and date ranges
(`cf_<key>_min`, `cf_<key>_max`). Every filter narrows the user's scoped queryset, so a filter
can never tell anything about records outside the scope."""

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_lazy as _

from ..ui.widgets import DateInput
from .defs import definitions
from .models import FieldType
from .query import apply_filter


def _label(defn, suffix=None):
    def text():
        if suffix == "min":
            return gettext("%(field)s from") % {"field": defn.label}
        if suffix == "max":
            return gettext("%(field)s to") % {"field": defn.label}
        return defn.label
    return lazy(text, str)()


class _Custom:
    op = "exact"

    def __init__(self, *args, definition=None, **kwargs):
        self.definition = definition
        kwargs.setdefault("label", _label(definition))
        super().__init__(*args, field_name="custom", **kwargs)

    def filter(self, qs, value):
        if value in (None, "", [], ()):
            return qs
        return apply_filter(qs, self.definition, self.op, self.convert(value))

    def convert(self, value):
        return value


class TextFilter(_Custom, django_filters.CharFilter):
    op = "contains"


class ChoiceFilter(_Custom, django_filters.ChoiceFilter):
    pass


class MultiFilter(_Custom, django_filters.MultipleChoiceFilter):
    op = "any"


class YesNoFilter(_Custom, django_filters.BooleanFilter):
    pass


class UserFilter(_Custom, django_filters.ModelChoiceFilter):
    def convert(self, value):
        return value.pk


class NumberRangeFilter(_Custom, django_filters.NumberFilter):
    pass


class DateRangeFilter(_Custom, django_filters.DateFilter):
    pass


def filters_for(spec):
    """{name: filter} for the entity's active, filterable definitions."""
    if not hasattr(spec.model, "custom"):
        return {}
    out = {}
    for d in definitions(spec.key):
        if not d.filterable:
            continue
        t = d.type
        if t in (FieldType.TEXT, FieldType.LONG_TEXT):
            out[d.name] = TextFilter(definition=d)
        elif t == FieldType.CHOICE:
            out[d.name] = ChoiceFilter(definition=d, choices=d.choice_items)
        elif t == FieldType.MULTI_CHOICE:
            out[d.name] = MultiFilter(definition=d, choices=d.choice_items)
        elif t == FieldType.BOOLEAN:
            out[d.name] = YesNoFilter(definition=d, widget=forms.Select(
                choices=[("", "---------"), ("true", _("Yes")), ("false", _("No"))]))
        elif t == FieldType.USER:
            out[d.name] = UserFilter(definition=d, queryset=get_user_model().objects.order_by("name", "username"))
        else:
            cls = NumberRangeFilter if t in (FieldType.NUMBER, FieldType.DECIMAL) else DateRangeFilter
            for suffix, op in (("min", "gte"), ("max", "lte")):
                kwargs = {"widget": DateInput()} if cls is DateRangeFilter else {}
                f = cls(definition=d, label=_label(d, suffix), **kwargs)
                f.op = op
                out[f"{d.name}_{suffix}"] = f
    return out


def add_filters(filterset, spec):
    """Add the custom filters to one filter set instance (definitions can change at any time;
    the generated class stays the same)."""
    for name, f in filters_for(spec).items():
        f.parent = filterset
        f.model = filterset._meta.model
        filterset.filters[name] = f
