"""Keyset (cursor) pagination (DESIGN.md mechanism 9): the page after a row is found by
comparing the sort key, so page 10 000 costs what page 1 costs. No COUNT(*), no OFFSET."""

import base64
import json

from django.db.models import Q


class BadCursor(ValueError):
    pass


def parse_sort(spec, raw):
    raw = raw or spec.default_sort
    desc = raw.startswith("-")
    name = raw.lstrip("-")
    if name not in spec.sort_fields and _custom_sort(spec, name) is None:
        raw = spec.default_sort
        desc, name = raw.startswith("-"), raw.lstrip("-")
    return name, desc


def _custom_sort(spec, name):
    """(expression, cursor field) of a sortable custom field `cf_<key>` (SYS-11), else None."""
    if not name.startswith("cf_"):
        return None
    from ..customfields.defs import by_name
    from ..customfields.query import is_sortable, sort_expression

    defn = by_name(spec.key, name)
    return sort_expression(defn) if defn is not None and is_sortable(defn) else None


def sort_key(queryset, spec, name):
    """(queryset, field, column name) to order and compare by; a custom field is annotated."""
    custom = _custom_sort(spec, name)
    if custom is None:
        return queryset, spec.model._meta.get_field(name), name
    expr, field = custom
    return queryset.annotate(**{field.attname: expr}), field, field.attname


def ordered(queryset, spec, sort):
    """`queryset` in the order of `sort` ("-name"), ties by id: for exports and reports."""
    name, desc = parse_sort(spec, sort)
    queryset, _field, name = sort_key(queryset, spec, name)
    return queryset.order_by(f"-{name}" if desc else name, "-pk" if desc else "pk")


def encode_cursor(field, obj, forward=True):
    value = field.value_to_string(obj)
    return base64.urlsafe_b64encode(json.dumps([value, obj.pk, forward]).encode()).decode().rstrip("=")


def decode_cursor(field, raw):
    try:
        value, pk, forward = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        return field.to_python(value), int(pk), bool(forward)
    except Exception as exc:  # any tampering is just a bad cursor
        raise BadCursor(str(exc)) from exc


class Page:
    def __init__(self, rows, next_cursor, prev_cursor):
        self.rows = rows
        self.next_cursor = next_cursor
        self.prev_cursor = prev_cursor


def keyset_page(queryset, spec, sort, cursor=None, size=25) -> Page:
    name, desc = parse_sort(spec, sort)
    queryset, field, name = sort_key(queryset, spec, name)
    forward = True
    if cursor:
        value, pk, forward = decode_cursor(field, cursor)
        # Rows after (value, pk) in the walking direction. The plain bound `name >= value` is
        # what the database can start an index scan from; the OR alone would make it scan (and
        # discard) every row before the cursor, so a deep page would cost as much as all before it.
        after_desc = desc if forward else not desc
        op, bound = ("lt", "lte") if after_desc else ("gt", "gte")
        queryset = queryset.filter(
            Q(**{f"{name}__{bound}": value}), Q(**{f"{name}__{op}": value}) | Q(**{name: value, f"pk__{op}": pk})
        )
    walk_desc = desc if forward else not desc
    order = [f"-{name}", "-pk"] if walk_desc else [name, "pk"]
    rows = list(queryset.order_by(*order)[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if not forward:
        rows.reverse()
    has_next = more if forward else bool(cursor)
    has_prev = bool(cursor) if forward else more
    next_c = encode_cursor(field, rows[-1], True) if rows and has_next else None
    prev_c = encode_cursor(field, rows[0], False) if rows and has_prev else None
    return Page(rows, next_c, prev_c)
