"""Generic write services (DESIGN.md mechanism 4). Views and API call these; domain apps wrap
them in their own `services.py` where an operation needs more.

Every write: one transaction, validation, the scope re-checked by the write itself (the UPDATE
carries the scope predicate and the expected version), an audit entry, events after commit.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import versions
from ..access.scope import can, get_for_user_or_404, scope_q
from ..audit import log
from ..audit.models import AuditEntry
from ..events.bus import emit
from .registry import get_spec


class ConflictError(Exception):
    """Someone saved the record after the user loaded it (optimistic locking)."""

    def __init__(self, current, since_version):
        self.current = current
        self.since_version = since_version
        super().__init__(_("This record was changed by someone else while you were editing it."))

    def changes(self):
        """Audit entries written since the version the user started from."""
        return [
            e for e in log.history(self.current, limit=50)
            if e.action == AuditEntry.Action.UPDATE and e.extra.get("version", 0) > self.since_version
        ]


def tracked_fields(model):
    """Fields whose changes are audited: the editable concrete ones plus owner/department."""
    skip = set(getattr(model, "audit_exclude", ()))
    names = [f.name for f in model._meta.concrete_fields if f.editable and not f.primary_key and f.name not in skip]
    for extra in ("owner", "department"):
        if hasattr(model, extra) and extra not in names:
            names.append(extra)
    return names


def _require(user, spec, action):
    if not can(user, spec.key, action):
        raise PermissionDenied(_("You do not have permission to do this."))


def check_assignee(user, spec, owner):
    """An owner other than oneself needs the assign permission and an active assignee."""
    if owner is None or owner.pk == user.pk:
        return
    _require(user, spec, "assign")
    if not owner.is_active:
        raise ValidationError({"owner": _("This user is no longer active.")})


def _snapshot(obj, fields):
    """The audited values: tracked fields plus each custom value as "custom.<key>" (SYS-11)."""
    from ..customfields.values import snapshot as custom_snapshot

    return {**log.snapshot(obj, fields), **custom_snapshot(obj)}


def _raw(obj):
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields if not f.primary_key}


def _set_m2m(obj, m2m):
    changes = {}
    for name, values in (m2m or {}).items():
        manager = getattr(obj, name)
        before = sorted(str(v) for v in manager.all())
        manager.set(values)
        after = sorted(str(v) for v in values)
        if before != after:
            changes[name] = [before, after]
    return changes


@transaction.atomic
def create(user, model, data, m2m=None, owner=None):
    spec = get_spec(model)
    _require(user, spec, "create")
    obj = model(**data)
    if spec.has_owner:
        owner = owner or user
        check_assignee(user, spec, owner)
        obj.owner = owner
        obj.department_id = owner.department_id
    if hasattr(obj, "created_by_id"):
        obj.created_by = obj.updated_by = user
    if spec.number_field and not getattr(obj, spec.number_field):
        # Issued inside this transaction: a create that fails gives the number back (SYS-5).
        from ..numbering.services import next_number

        setattr(obj, spec.number_field, next_number(spec.key) or "")
    obj.full_clean()
    if hasattr(obj, "before_write"):
        obj.before_write(user)
    obj.save()
    if hasattr(obj, "after_create"):
        obj.after_create(user)
    m2m_changes = _set_m2m(obj, m2m)
    changes = {k: [None, v] for k, v in _snapshot(obj, tracked_fields(model)).items() if v not in (None, "", False)}
    changes.update(m2m_changes)
    log.record(user, AuditEntry.Action.CREATE, obj, changes=changes, extra={"version": getattr(obj, "version", 1)})
    emit(f"{spec.key}.created", obj, user)
    return obj


@transaction.atomic
def update(user, model, pk, data, m2m=None, expected_version=None):
    """Apply `data` to one record. Raises Http404 when out of scope, ConflictError when stale."""
    spec = get_spec(model)
    current = get_for_user_or_404(user, model, pk, "edit")
    if expected_version is not None and spec.versioned and current.version != expected_version:
        raise ConflictError(current, expected_version)
    fields = tracked_fields(model)
    before = _snapshot(current, fields)
    raw_before = _raw(current)
    for name, value in data.items():
        setattr(current, name, value)
    current.full_clean()
    if hasattr(current, "before_write"):
        current.before_write(user)
    changes = log.diff(before, _snapshot(current, fields))
    # Write every column that changed, including those the model's own rules derived.
    values = {a: v for a, v in _raw(current).items() if v != raw_before[a]}
    if hasattr(current, "updated_at"):
        values["updated_at"] = timezone.now()
    if hasattr(current, "updated_by_id"):
        values["updated_by"] = user
    guard = model._base_manager.filter(scope_q(user, model, "edit"), pk=current.pk)
    if spec.versioned:
        guard = guard.filter(version=current.version)
        values["version"] = F("version") + 1
    if changes or m2m:
        if guard.update(**values) == 0:  # saved by someone else between our read and write
            raise ConflictError(model._base_manager.get(pk=current.pk), expected_version or current.version)
        if spec.versioned:
            current.version += 1
        changes.update(_set_m2m(current, m2m))
        if hasattr(current, "after_update"):
            current.after_update(user, changes)
        versions.model_written(model)  # a QuerySet.update: no save signal for configuration caches
    if changes:
        log.record(user, AuditEntry.Action.UPDATE, current, changes=changes,
                   extra={"version": getattr(current, "version", 0)})
        emit(f"{spec.key}.updated", current, user, {"fields": sorted(changes)})
    return current


@transaction.atomic
def delete(user, model, pk):
    """To the recycle bin (soft delete), or a real delete for entities without one."""
    spec = get_spec(model)
    obj = get_for_user_or_404(user, model, pk, "delete")
    if spec.soft_delete:
        now = timezone.now()
        rows = model._base_manager.filter(scope_q(user, model, "delete"), pk=obj.pk, deleted_at__isnull=True).update(
            deleted_at=now, deleted_by=user, version=F("version") + 1
        )
        if rows == 0:
            raise Http404
        obj.deleted_at = now
        if hasattr(obj, "after_soft_delete"):
            obj.after_soft_delete(user, now)
        versions.model_written(model)
    else:
        try:
            with transaction.atomic():
                model._base_manager.filter(pk=obj.pk).delete()
        except models.ProtectedError:
            raise ValidationError(_("%(record)s is still in use and cannot be deleted.") % {"record": obj})
    log.record(user, AuditEntry.Action.DELETE, obj)
    emit(f"{spec.key}.deleted", obj, user)
    return obj


@transaction.atomic
def restore(user, model, pk):
    spec = get_spec(model)
    obj = model.all_objects.filter(scope_q(user, model, "delete"), pk=pk, deleted_at__isnull=False).first()
    if obj is None:
        raise Http404
    if hasattr(obj, "before_restore"):
        obj.before_restore(user)
    deleted_at = obj.deleted_at
    model.all_objects.filter(pk=obj.pk).update(deleted_at=None, deleted_by=None, version=F("version") + 1)
    obj.deleted_at = None
    if hasattr(obj, "after_restore"):
        obj.after_restore(user, deleted_at)
    versions.model_written(model)
    log.record(user, AuditEntry.Action.RESTORE, obj)
    emit(f"{spec.key}.restored", obj, user)
    return obj


@transaction.atomic
def transfer(user, model, pks, new_owner, reason=""):
    """Hand records to a new owner (CUS-8); their department follows the new owner's."""
    spec = get_spec(model)
    if not spec.has_owner:
        raise PermissionDenied
    _require(user, spec, "assign")
    if new_owner is None or not new_owner.is_active:
        raise ValidationError({"owner": _("Choose an active user.")})
    rows = list(model.objects.filter(scope_q(user, model, "assign"), pk__in=pks).select_related("owner", "department"))
    if not rows:
        raise Http404
    _move_owner(user, model, rows, new_owner, AuditEntry.Action.TRANSFER, reason)
    return rows


def _move_owner(user, model, rows, new_owner, action, reason=""):
    spec = get_spec(model)
    new_dept = new_owner.department
    model._base_manager.filter(pk__in=[r.pk for r in rows]).update(
        owner=new_owner, department=new_dept, version=F("version") + 1, updated_at=timezone.now(), updated_by=user
    )
    versions.model_written(model)
    entries = []
    for r in rows:
        changes = {"owner": [str(r.owner) if r.owner else None, str(new_owner)]}
        if r.department_id != new_owner.department_id:
            changes["department"] = [str(r.department) if r.department else None, str(new_dept) if new_dept else None]
        r.owner, r.department = new_owner, new_dept
        entries.append(AuditEntry(**log.entry_kwargs(user, action, r, changes, {"reason": reason} if reason else None)))
        emit(f"{spec.key}.transferred", r, user, {"owner": new_owner.pk})
    AuditEntry.objects.bulk_create(entries, batch_size=1000)


@transaction.atomic
def handover(user, leaver, successor, specs):
    """SEC-4: every record the leaver owns, in every entity, goes to the successor at once."""
    from ..access.scope import has_special
    from .registry import all_specs

    if not has_special(user, "handover"):
        raise PermissionDenied(_("You do not have permission to do this."))
    if successor is None or not successor.is_active or successor.pk == leaver.pk:
        raise ValidationError({"successor": _("Choose an active user other than the one leaving.")})
    moved = {}
    for spec in specs if specs is not None else all_specs():
        if not spec.has_owner:
            continue
        rows = list(spec.model._base_manager.filter(owner=leaver).select_related("owner", "department"))
        for start in range(0, len(rows), 1000):
            _move_owner(user, spec.model, rows[start:start + 1000], successor, AuditEntry.Action.TRANSFER,
                        _("Hand-over from a leaving employee"))
        moved[spec.key] = len(rows)
    log.record(user, AuditEntry.Action.HANDOVER, leaver, extra={"successor": successor.pk, "moved": moved})
    return moved


def _purge_record(user, obj, extra=None):
    """Delete one binned record for good, first its dependants (the model's `purge_dependants()`,
    e.g. a customer's contacts that are in the bin), then its notes; an audit entry each."""
    from django.contrib.contenttypes.models import ContentType

    from ..timeline.models import Note

    model = type(obj)
    purged = []
    for dependant in (obj.purge_dependants() if hasattr(obj, "purge_dependants") else ()):
        purged += _purge_record(user, dependant, {**(extra or {}), "with": str(obj)[:200]})
    ct = ContentType.objects.get_for_model(obj, for_concrete_model=True)
    entry = AuditEntry(**log.entry_kwargs(user, AuditEntry.Action.PURGE, obj, extra={
        **(extra or {}), "deleted_at": obj.deleted_at.isoformat() if obj.deleted_at else None}))
    try:
        with transaction.atomic():
            model._base_manager.filter(pk=obj.pk).delete()
    except (models.ProtectedError, models.RestrictedError) as exc:
        refs = sorted({str(o)[:100] for o in list(exc.args[1])[:5]}) if len(exc.args) > 1 else []
        raise ValidationError(
            _("“%(record)s” is still referenced by %(refs)s and cannot be deleted permanently.")
            % {"record": obj, "refs": ", ".join(f"“{r}”" for r in refs) or _("other records")}
        )
    Note.objects.filter(content_type=ct, object_id=obj.pk).delete()
    entry.save()
    emit(f"{get_spec(model).key}.purged", obj, user)
    return purged + [obj]


@transaction.atomic
def purge(user, model, pk):
    """Delete a record in the recycle bin permanently (special permission "purge"). The scope is
    re-checked inside the transaction; what still references the record refuses the purge."""
    from ..access.scope import has_special

    spec = get_spec(model)
    if not spec.soft_delete:
        raise Http404
    if not has_special(user, "purge"):
        raise PermissionDenied(_("You do not have permission to do this."))
    obj = model._base_manager.filter(scope_q(user, model, "delete"), pk=pk, deleted_at__isnull=False).first()
    if obj is None:
        raise Http404
    return _purge_record(user, obj)
