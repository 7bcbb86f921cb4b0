"""FilterSets generated from an EntitySpec; the UI and the API use the same class."""

import copy
import datetime

import django_filters
from django import forms
from django.db import models
from django_filters.utils import label_for_filter
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.text import capfirst
from django.utils.translation import get_language, gettext_noop

from .. import versions
from ..dictionary.fields import DictionaryChoiceField, DictionaryField
from ..entities.registry import get_spec
from .widgets import DateInput, LookupSelect

# django-filter builds labels such as "updated at is greater than or equal to" from these words
# but ships no zh_Hans catalogue; marking them here puts them into ours (same "django" domain).
DJANGO_FILTER_LOOKUP_WORDS = (
    gettext_noop("contains"),
    gettext_noop("is in"),
    gettext_noop("is greater than"),
    gettext_noop("is greater than or equal to"),
    gettext_noop("is less than"),
    gettext_noop("is less than or equal to"),
    gettext_noop("starts with"),
    gettext_noop("ends with"),
    gettext_noop("is in range"),
    gettext_noop("is null"),
    gettext_noop("exclude"),
)


class DayBoundFilter(django_filters.DateFilter):
    """A date filter on a datetime column that stays index-friendly: `>= day 00:00` or
    `< next day 00:00` in the user's time zone, never DATE(column)."""

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        start = timezone.make_aware(datetime.datetime.combine(value, datetime.time.min))
        if self.lookup_expr == "gte":
            return qs.filter(**{f"{self.field_name}__gte": start})
        return qs.filter(**{f"{self.field_name}__lt": start + datetime.timedelta(days=1)})


class DictionaryFilter(django_filters.CharFilter):
    """A data dictionary field: a select of every item of the kind (disabled ones too, so old
    records can still be found); the API takes the item code."""

    field_class = DictionaryChoiceField

    def __init__(self, *args, kind=None, **kwargs):
        super().__init__(*args, kind=kind, required=False, **kwargs)

    @property
    def field(self):
        field = super().field
        # Set the choices when the field is new or the dictionary or language changed, not on
        # every access: setting them normalises them again (issue #3).
        stamp = (versions.token("dictionary"), get_language())
        if getattr(field, "_crm_choices_stamp", None) != stamp:
            from ..dictionary import lookup

            field.choices = lookup.choices(field.kind, active_only=False)
            field._crm_choices_stamp = stamp
        return field


class EntityFilterSet(django_filters.FilterSet):
    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        from ..customfields.filters import add_filters

        add_filters(self, get_spec(self._meta.model))  # SYS-11: per instance, so the class never goes stale
        for f in self.filters.values():
            field = f.field
            widget = field.widget
            if isinstance(f, django_filters.ModelChoiceFilter):
                try:
                    url = reverse(f"{get_spec(f.queryset.model).key}-lookup")
                    f.field.widget = LookupSelect(url)
                except (LookupError, NoReverseMatch):
                    pass
            elif isinstance(f, (django_filters.DateTimeFilter, django_filters.DateFilter)):
                field.widget = DateInput()
            elif hasattr(widget, "attrs"):
                widget.attrs.setdefault("class", "form-select" if "Select" in type(widget).__name__ else "form-control")


_classes = {}


class FilterTable(dict):
    """A FilterSet class's `base_filters`. django-filter deep-copies them for every instance; a
    shallow copy of each filter is enough (a filter's parts are never changed in place: its form
    field is built anew and copies its widget) and costs a tenth (issue #3: list pages)."""

    def __deepcopy__(self, memo):
        out = {}
        for name, f in self.items():
            f = copy.copy(f)
            f.extra = dict(f.extra)
            out[name] = f
        return out


def filterset_class(spec):
    """The entity's FilterSet class, built once per entity and language: django-filter fixes the
    labels in the active language when the class is built, and building it cost a list page more
    than a millisecond (issue #3). Custom fields join per instance (EntityFilterSet.__init__)."""
    key = (spec.key, get_language())
    cls = _classes.get(key)
    if cls is None:
        cls = _classes[key] = spec.override("filters", "FilterSet") or _build(spec)
    return cls


def _build(spec):
    tag_fields = {k: v for k, v in spec.filter_fields.items() if k != "tags"}
    attrs = {"Meta": type("Meta", (), {"model": spec.model, "fields": tag_fields})}
    if "tags" in spec.filter_fields:
        attrs["tags"] = django_filters.CharFilter(field_name="tags__name", label=spec.model._meta.get_field("tags").verbose_name)
    cls = type(f"{spec.model.__name__}FilterSet", (EntityFilterSet,), attrs)
    # Choices filters render as selects; datetime ranges as dates.
    for name, f in cls.base_filters.items():
        model_field = _model_field(spec.model, f.field_name)
        if isinstance(model_field, DictionaryField) and f.lookup_expr == "exact":
            cls.base_filters[name] = DictionaryFilter(field_name=f.field_name, kind=model_field.kind, label=f.label)
        elif isinstance(model_field, models.DateTimeField):
            lookup = f.lookup_expr
            cls.base_filters[name] = DayBoundFilter(field_name=f.field_name, lookup_expr=lookup, label=f.label)
        elif isinstance(model_field, models.ForeignObjectRel) and f.lookup_expr == "exact":
            # django-filter labels a reverse relation with its related_name, which is never translated.
            f.label = capfirst(model_field.related_model._meta.verbose_name_plural)
    for name, f in cls.base_filters.items():
        if f.label is None:  # django-filter would work it out again for every instance
            f.label = _lazy_label(spec.model, f.field_name, f.lookup_expr, f.exclude)
    cls.base_filters = FilterTable(cls.base_filters)
    return cls


_labels = {}


def _filter_label(model, field_name, lookup_expr, exclude):
    """django-filter's label for a generated filter, worked out once per language: a class may be
    used in another language than the one it was built in (the API's, and the OpenAPI schema's,
    which is English whatever the command's language)."""
    key = (model, field_name, lookup_expr, exclude, get_language())
    label = _labels.get(key)
    if label is None:
        label = _labels[key] = label_for_filter(model, field_name, lookup_expr, exclude)
    return label


_lazy_label = lazy(_filter_label, str)


def _model_field(model, name):
    try:
        return model._meta.get_field(name)
    except Exception:
        return None


def form_key(filterset):
    """A key that determines the HTML of the filter set's form fields, or None (issue #3: a list's
    ~20 filter widgets cost more than its query; `{% filter_fields %}` keeps them per key).

    The fields are the same for everyone: the generated class (per entity and language), the
    custom fields', dictionary and parameter versions, and the submitted values of the form's own
    fields (name or name_suffix). Fields that show records' names — a picker with a value, whose
    option reads the record, or a select of records — make it None: rendered for each request."""
    form = filterset.form
    data = form.data
    values = data.getlist if hasattr(data, "getlist") else (lambda k: [data.get(k)])
    for name, field in form.fields.items():
        if isinstance(field, forms.ModelChoiceField) and (
            not isinstance(field.widget, LookupSelect) or any(v not in ("", None) for v in values(name))
        ):
            return None
    names = list(form.fields)
    submitted = tuple(sorted((k, tuple(values(k))) for k in data if any(k == n or k.startswith(f"{n}_") for n in names)))
    return ("filter-form", type(filterset), tuple(names), form.is_bound, form.prefix, form.auto_id, submitted,
            versions.token("customfields"), versions.token("dictionary"), versions.token("parameters"))
