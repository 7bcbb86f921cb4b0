"""Caches of configuration that outlive a request (issue #3, UX-4).

Access rules (roles, grants, departments, territories, pools), the data dictionary, system
parameters and custom-field definitions change rarely and are read by every request. Each kind
has a version token (`ConfigVersion`); a request reads all tokens in one query the first time it
needs one, and `cached(name, key, load)` keeps values per process under the token they were loaded
with. Every write of such configuration calls `bump(name)` inside its transaction (directly, or
through `bump_on_write(name, *models)`, which hangs it on the models' save, delete and
many-to-many signals), so the next request in any process loads afresh; nothing is ever stale
for longer than the writing transaction. The same pattern as Odoo's registry signalling.

Values handed out are shared between requests: callers must not change them.
"""

import threading

from django.core.exceptions import ImproperlyConfigured
from django.db.models.signals import m2m_changed, post_delete, post_save

from ..request_cache import RequestCache

MAX_ENTRIES = 20_000  # per process; past it the store starts again (a few users' snapshots each)
_store = {}
_names_by_model = {}  # model -> {names} (bump_on_write)
_lock = threading.Lock()


def _load_tokens():
    from .models import ConfigVersion

    return dict(ConfigVersion.objects.values_list("name", "token"))


_tokens = RequestCache("config-versions", _load_tokens)


def token(name):
    """The current version of `name` ("-" until its first change)."""
    return _tokens.get().get(name, "-")


def bump(name):
    """Give `name` a new version: call inside the transaction that changes its configuration,
    after its last write (the ORM writes of `bump_on_write` models do it themselves, each one)."""
    from .models import ConfigVersion, new_token

    # One upsert: two first changes of `name` at once must not collide on its row.
    ConfigVersion.objects.bulk_create([ConfigVersion(name=name, token=new_token())], update_conflicts=True,
                                      unique_fields=["name"], update_fields=["token"])
    _tokens.clear()


def model_written(model):
    """For write paths that skip the model signals (QuerySet.update, bulk_create): bump the
    versions `model` belongs to, if any."""
    for name in _names_by_model.get(model._meta.concrete_model, ()):
        bump(name)


class BumpingQuerySet:
    """QuerySet mixin: bulk writes (update, bulk_create, bulk_update), which send no model
    signals, bump the versions of the model they write (`bump_on_write`), if it has any."""

    def update(self, **kwargs):
        rows = super().update(**kwargs)
        model_written(self.model)
        return rows

    def bulk_create(self, *args, **kwargs):
        objs = super().bulk_create(*args, **kwargs)
        model_written(self.model)
        return objs

    def bulk_update(self, *args, **kwargs):
        rows = super().bulk_update(*args, **kwargs)
        model_written(self.model)
        return rows


def cached(name, key, load):
    """`load()` once per process and version of `name` (and `key`, e.g. a user's id)."""
    current = token(name)
    hit = _store.get((name, key))
    if hit is not None and hit[0] == current:
        return hit[1]
    value = load()
    with _lock:
        if len(_store) >= MAX_ENTRIES:
            _store.clear()
        _store[(name, key)] = (current, value)
    return value


def bump_on_write(name, *models):
    """Bump `name` whenever a row of one of `models` is saved or deleted, or a many-to-many
    relation of theirs changes (ORM writes; bulk writes that skip signals call `bump` themselves).
    Fixtures loaded raw (test databases reloaded) restore their own version rows and are left be."""

    def on_write(sender, raw=False, **kwargs):
        if not raw:
            bump(name)

    def on_m2m(sender, action, **kwargs):
        if action in ("post_add", "post_remove", "post_clear"):
            bump(name)

    for model in models:
        for manager in (model._default_manager, model._base_manager):
            if not issubclass(manager._queryset_class, BumpingQuerySet):
                raise ImproperlyConfigured(
                    f"{model._meta.label}.{manager.name or 'base manager'}: configuration models need a BumpingQuerySet "
                    f"manager (and Meta.base_manager_name), or their bulk writes would leave caches stale")
        _names_by_model.setdefault(model._meta.concrete_model, set()).add(name)
        uid = f"crm-versions-{name}-{model._meta.label_lower}"
        post_save.connect(on_write, sender=model, weak=False, dispatch_uid=f"{uid}-save")
        post_delete.connect(on_write, sender=model, weak=False, dispatch_uid=f"{uid}-delete")
        for field in model._meta.local_many_to_many:
            m2m_changed.connect(on_m2m, sender=field.remote_field.through, weak=False,
                                dispatch_uid=f"{uid}-{field.name}-m2m")
