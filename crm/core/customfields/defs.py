"""Reading definitions cheaply.

`version()` is the definitions version: one indexed single-row read per request (cached for the
request), or a fresh read outside a request. All definitions are cached per process under that
version, so a list page costs that one query however many custom fields it shows. Every write of
a definition calls `changed()`, inside its transaction, which gives the version a new token.

Caches of generated classes (forms, filter sets) can key on (entity, language, version()).
"""

import threading

from ..request_cache import RequestCache

_lock = threading.Lock()
_by_version = {"version": None, "rows": []}


def _load_version():
    from .models import DefinitionsState

    token = DefinitionsState.objects.filter(pk=1).values_list("token", flat=True).first()
    return token or "-"


_version_cache = RequestCache("customfields-version", _load_version)


def version():
    return _version_cache.get()


def changed():
    """Call inside the transaction that changes a definition."""
    from .models import DefinitionsState, new_token

    token = new_token()
    if not DefinitionsState.objects.filter(pk=1).update(token=token):
        DefinitionsState.objects.create(pk=1, token=token)
    _version_cache.clear()


def _all():
    v = version()
    rows = _by_version["rows"]
    if _by_version["version"] != v:
        from .models import CustomField

        rows = list(CustomField.objects.order_by("entity", "order", "id"))
        with _lock:
            _by_version.update(version=v, rows=rows)
    return rows


def definitions(entity, include_removed=False):
    """The entity's definitions in form order (group, order); active ones unless `include_removed`."""
    rows = [d for d in _all() if d.entity == entity and (include_removed or d.removed_at is None)]
    return rows


def by_name(entity, name, include_removed=False):
    """The definition behind `cf_<key>` (a column, filter or sort name) or None."""
    if not name.startswith("cf_"):
        return None
    key = name[3:]
    for d in definitions(entity, include_removed):
        if d.key == key:
            return d
    return None


def by_key(entity, key, include_removed=True):
    for d in definitions(entity, include_removed):
        if d.key == key:
            return d
    return None
