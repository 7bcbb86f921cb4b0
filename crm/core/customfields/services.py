"""Writes of definitions (administrators, special permission "manage_settings"): each one in a
transaction, audited, and giving the definitions version a new token."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..access.scope import has_special
from ..audit import log
from ..audit.models import AuditEntry
from . import defs
from .models import KEY_RE, CustomField

EDITABLE = ["type", "label_zh", "label_en", "help_zh", "help_en", "required", "default", "min_value", "max_value",
            "regex", "choices", "dictionary_kind", "order", "group_zh", "group_en", "show_in_list", "filterable",
            "sortable"]
BATCH = 5000


def require(user):
    if not has_special(user, "manage_settings"):
        raise PermissionDenied(_("You do not have permission to do this."))


def _snap(defn):
    return log.snapshot(defn, ["key", *EDITABLE])


@transaction.atomic
def create(user, entity, data):
    require(user)
    defn = CustomField(entity=entity, **data)
    defn.full_clean()
    defn.save()
    defs.changed()
    log.record(user, AuditEntry.Action.CREATE, defn, changes={k: [None, v] for k, v in _snap(defn).items()
                                                              if v not in (None, "", [], False)},
               extra={"entity": entity})
    return defn


@transaction.atomic
def update(user, defn, data):
    require(user)
    defn = CustomField.objects.select_for_update().get(pk=defn.pk)
    before = _snap(defn)
    for name, value in data.items():
        if name not in EDITABLE:
            continue
        if name == "type" and value != defn.type:
            raise ValidationError({"type": _("The type cannot change once values may be stored.")})
        setattr(defn, name, value)
    defn.full_clean()
    changes = log.diff(before, _snap(defn))
    if changes:
        defn.updated_at = timezone.now()
        defn.save()
        defs.changed()
        log.record(user, AuditEntry.Action.UPDATE, defn, changes=changes, extra={"entity": defn.entity})
    return defn


@transaction.atomic
def remove(user, defn):
    """Hide the field everywhere; stored values stay in the records (restore brings them back)."""
    require(user)
    if defn.removed_at is None:
        CustomField.objects.filter(pk=defn.pk).update(removed_at=timezone.now(), updated_at=timezone.now())
        defn.refresh_from_db()
        defs.changed()
        log.record(user, AuditEntry.Action.DELETE, defn, extra={"entity": defn.entity, "key": defn.key})
    return defn


@transaction.atomic
def restore(user, defn):
    require(user)
    if defn.removed_at is not None:
        CustomField.objects.filter(pk=defn.pk).update(removed_at=None, updated_at=timezone.now())
        defn.refresh_from_db()
        defs.changed()
        log.record(user, AuditEntry.Action.RESTORE, defn, extra={"entity": defn.entity, "key": defn.key})
    return defn


@transaction.atomic
def reorder(user, entity, keys):
    """Give the entity's fields the order of `keys` (10, 20, …); fields not named keep theirs."""
    require(user)
    rows = {d.key: d for d in CustomField.objects.filter(entity=entity)}
    for i, key in enumerate(k for k in keys if k in rows):
        CustomField.objects.filter(pk=rows[key].pk).update(order=(i + 1) * 10, updated_at=timezone.now())
    defs.changed()


@transaction.atomic
def rename(user, defn, new_key):
    """Change a field's key and move the stored values of every record (in the recycle bin too)
    with batched UPDATEs over id ranges; saved views that name the field follow."""
    import re

    require(user)
    defn = CustomField.objects.select_for_update().get(pk=defn.pk)
    old_key = defn.key
    if not re.match(KEY_RE, new_key or ""):
        raise ValidationError({"key": _("Use lower-case letters, digits and underscores, starting with a letter.")})
    if new_key == old_key:
        return defn, 0
    if CustomField.objects.filter(entity=defn.entity, key=new_key).exists():
        raise ValidationError({"key": _("Another field of this entity already has this key.")})
    from ..entities.registry import get_spec

    model = get_spec(defn.entity).model
    moved = move_values(model, old_key, new_key)
    CustomField.objects.filter(pk=defn.pk).update(key=new_key, updated_at=timezone.now())
    defn.refresh_from_db()
    _rename_in_saved_views(defn.entity, old_key, new_key)
    defs.changed()
    log.record(user, AuditEntry.Action.UPDATE, defn, changes={"key": [old_key, new_key]},
               extra={"entity": defn.entity, "records": moved})
    return defn, moved


def move_values(model, old_key, new_key):
    """UPDATE … SET custom = custom without old_key plus new_key: the old value, per id range."""
    table = connection.ops.quote_name(model._meta.db_table)
    pk = connection.ops.quote_name(model._meta.pk.column)
    if connection.vendor == "postgresql":
        sql = (f"UPDATE {table} SET custom = (custom - %s) || jsonb_build_object(%s, custom -> %s) "
               f"WHERE {pk} > %s AND {pk} <= %s AND custom ? %s")
        params = lambda lo, hi: [old_key, new_key, old_key, lo, hi, old_key]  # noqa: E731
    else:
        path_old, path_new = f'$."{old_key}"', f'$."{new_key}"'
        sql = (f"UPDATE {table} SET custom = json_set(json_remove(custom, %s), %s, json(custom -> %s)) "
               f"WHERE {pk} > %s AND {pk} <= %s AND json_type(custom, %s) IS NOT NULL")
        params = lambda lo, hi: [path_old, path_new, path_old, lo, hi, path_old]  # noqa: E731
    top = model._base_manager.order_by("-pk").values_list("pk", flat=True).first() or 0
    moved = 0
    with connection.cursor() as cursor:
        for lo in range(0, top, BATCH):
            cursor.execute(sql, params(lo, lo + BATCH))
            moved += cursor.rowcount
    return moved


def _rename_in_saved_views(entity, old_key, new_key):
    from ..entities.models import SavedView

    old, new = f"cf_{old_key}", f"cf_{new_key}"

    def swap(v):
        if isinstance(v, list):
            return [swap(x) for x in v]
        if not isinstance(v, str):
            return v
        if v in (old, f"-{old}"):
            return v.replace(old, new)
        if "," in v:
            return ",".join(swap(p) for p in v.split(","))
        return v

    for view in SavedView.objects.filter(entity=entity):
        params = {}
        for k, v in view.params.items():
            nk = new + k[len(old):] if k in (old, f"{old}_min", f"{old}_max") else k
            params[nk] = swap(v)
        if params != view.params:
            SavedView.objects.filter(pk=view.pk).update(params=params)
