"""Reading the data dictionary, cached per process under its configuration version.

Every item of every kind is read in one query after any item changed (`crm.core.versions`:
every write of an item bumps "dictionary"), and kept until the next change. A list page of 100
customers therefore shows its labels without a query of its own, not one per row.
"""

from .. import versions


def _load():
    from .models import DictionaryItem

    by_kind = {}
    for item in DictionaryItem.objects.order_by("kind_id", "order", "id"):
        by_kind.setdefault(item.kind_id, []).append(item)
    return by_kind


def _all():
    return versions.cached("dictionary", None, _load)


def clear():
    """After a write of items that skipped the model signals (the services' QuerySet.update)."""
    versions.bump("dictionary")


def items(kind, active_only=False, current=None):
    """Items of `kind` in order; with `active_only`, the active ones plus `current` if disabled."""
    rows = _all().get(kind, [])
    if active_only:
        rows = [i for i in rows if i.is_active or (current not in (None, "") and i.code == current)]
    return rows


def item(kind, code):
    for i in _all().get(kind, []):
        if i.code == code:
            return i
    return None


def label(kind, code):
    """The label of a stored code in the current language; an unknown code shows as itself."""
    if code in (None, ""):
        return ""
    found = item(kind, code)
    return found.label if found else code


def choices(kind, active_only=True, current=None, blank=True):
    out = [("", "---------")] if blank else []
    out += [(i.code, i.label) for i in items(kind, active_only, current)]
    return out
