"""Reading definitions cheaply.

`version()` is the definitions version (`crm.core.versions`: all configuration versions in one
query per request). All definitions are cached per process under that version, so a list page
costs no query of its own however many custom fields it shows. Every write of a definition calls
`changed()`, inside its transaction, which gives the version a new token.

Caches of generated classes (forms, filter sets) can key on (entity, language, version()).
"""

from .. import versions


def version():
    """The definitions version (`crm.core.versions`): one query for all versions per request."""
    return versions.token("customfields")


def changed():
    """Call inside the transaction that changes a definition."""
    versions.bump("customfields")


def _load():
    from .models import CustomField

    return list(CustomField.objects.order_by("entity", "order", "id"))


def _all():
    return versions.cached("customfields", None, _load)


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
