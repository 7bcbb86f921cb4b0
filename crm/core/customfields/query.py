"""Filters and sort keys over custom values, for list pages, the API and exports alike."""

import datetime
import decimal

from django.db import models
from django.db.models import Case, Q, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual
from django.utils import timezone

from . import vendor
from .models import FieldType
from .values import to_json

SORT_ATTR = "cf_sort_value"
LOWEST = decimal.Decimal("-1000000000000000")
NUMERIC = models.DecimalField(max_digits=30, decimal_places=6)


def numeric(key):
    return Cast(KeyTextTransform(key, "custom"), NUMERIC)


def apply_filter(qs, defn, op, value):
    """`qs` filtered on one custom field: op is "contains", "exact", "any", "gte" or "lte"."""
    return qs.filter(filter_q(defn, op, value))


def filter_q(defn, op, value):
    key = defn.key
    if op == "contains":
        return Q(**{f"custom__{key}__icontains": value})
    if op == "exact":
        return vendor.exact_q(key, value)
    if op == "any":
        return vendor.any_of_q(key, value)
    if defn.type in (FieldType.NUMBER, FieldType.DECIMAL):
        lookup = GreaterThanOrEqual if op == "gte" else LessThanOrEqual
        return Q(lookup(numeric(key), Value(decimal.Decimal(value), output_field=NUMERIC)))
    if defn.type == FieldType.DATETIME:
        # A day in the user's time zone, compared as UTC text (stored values sort as text).
        start = timezone.make_aware(datetime.datetime.combine(value, datetime.time.min))
        if op == "gte":
            return Q(**{f"custom__{key}__gte": to_json(defn, start)})
        return Q(**{f"custom__{key}__lt": to_json(defn, start + datetime.timedelta(days=1))})
    return Q(**{f"custom__{key}__{op}": to_json(defn, value)})  # dates: "YYYY-MM-DD" text order


def is_sortable(defn):
    return defn.sortable and defn.type not in (FieldType.MULTI_CHOICE, FieldType.USER)


def sort_expression(defn):
    """(expression, pseudo model field for cursors). Empty values sort as the lowest value:
    first ascending, last descending, deliberately (the sort key is NOT NULL, as keyset
    pagination needs)."""
    key = defn.key
    if defn.type in (FieldType.NUMBER, FieldType.DECIMAL):
        expr, field = Coalesce(numeric(key), Value(LOWEST, output_field=NUMERIC)), models.DecimalField(
            max_digits=30, decimal_places=6)
    elif defn.type == FieldType.BOOLEAN:
        expr = Case(When(**{f"custom__{key}": True}, then=Value(1)), When(**{f"custom__{key}": False}, then=Value(0)),
                    default=Value(-1), output_field=models.IntegerField())
        field = models.IntegerField()
    else:
        expr, field = Coalesce(KeyTextTransform(key, "custom"), Value(""), output_field=models.TextField()), \
            models.TextField()
    field.set_attributes_from_name(SORT_ATTR)
    return expr, field
