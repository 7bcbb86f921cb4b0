"""Custom fields on list pages (columns, sort) and detail pages, for crm.core.ui."""

from ..access.scope import has_special
from .defs import by_name, definitions
from .models import FieldType
from .query import is_sortable
from .values import display_value, is_empty, prefetch_users


def _has_custom(spec):
    return hasattr(spec.model, "custom")


def list_columns(spec):
    """The spec's columns plus a `cf_<key>` column per active definition."""
    if not _has_custom(spec):
        return list(spec.list_columns)
    return list(spec.list_columns) + [d.name for d in definitions(spec.key)]


def default_columns(spec):
    cols = list(spec.default_columns or spec.list_columns)
    if _has_custom(spec):
        cols += [d.name for d in definitions(spec.key) if d.show_in_list]
    return cols


def sortable(spec, name):
    if name in spec.sort_fields:
        return True
    d = by_name(spec.key, name) if _has_custom(spec) else None
    return d is not None and is_sortable(d)


def label(spec, name):
    """Label of `cf_<key>` or `custom.<key>` (history entries), removed fields included."""
    key = name[3:] if name.startswith("cf_") else name[7:] if name.startswith("custom.") else None
    if key is None:
        return None
    from .defs import by_key

    d = by_key(spec.key, key)
    return d.label if d else key


def display(spec, obj, name):
    d = by_name(spec.key, name)
    if d is None:
        return ""
    return display_value(d, (getattr(obj, "custom", None) or {}).get(d.key))


def history_value(spec, name, raw):
    from .defs import by_key

    d = by_key(spec.key, name[7:])
    return display_value(d, raw) if d else raw


def prefetch(spec, rows, columns):
    """Names of the users that user-type columns show, in one query for the page."""
    if not _has_custom(spec):
        return
    keys = [d.key for d in definitions(spec.key) if d.type == FieldType.USER and d.name in columns]
    if keys:
        prefetch_users({(o.custom or {}).get(k) for o in rows for k in keys} - {None})


def detail_fields(spec, obj):
    """[(name, label, text)] of the active fields, then (for administrators) the removed ones."""
    if not _has_custom(spec):
        return []
    custom = getattr(obj, "custom", None) or {}
    prefetch_users([custom.get(d.key) for d in definitions(spec.key) if d.type == FieldType.USER])
    return [(d.name, d.label, display_value(d, custom.get(d.key))) for d in definitions(spec.key)]


def removed_fields(user, spec, obj):
    """Values of removed fields, read-only, for those who manage settings; otherwise []."""
    if not _has_custom(spec) or not has_special(user, "manage_settings"):
        return []
    custom = getattr(obj, "custom", None) or {}
    return [(d.name, d.label, display_value(d, custom.get(d.key)))
            for d in definitions(spec.key, include_removed=True)
            if d.removed_at is not None and not is_empty(custom.get(d.key))]


def copy_initial(spec, src):
    """{"cf_<key>": form value} of `src`'s active custom values, for "Copy"."""
    if not _has_custom(spec):
        return {}
    from .forms import to_form_value

    custom = getattr(src, "custom", None) or {}
    return {d.name: to_form_value(d, custom[d.key]) for d in definitions(spec.key) if not is_empty(custom.get(d.key))}
