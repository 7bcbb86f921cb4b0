"""Merging duplicate records (CUS-3 "merge") and undoing a merge.

`merge(user, model, survivor_pk, other_pks, choices)` — one transaction:

* the survivor is read through the scope predicate with "edit", the others with "delete"
  (invisible: 404; no grant at all: 403); at most `MAX_RECORDS` records;
* the survivor's editable form fields take the value of the record chosen per field
  (`choices = {field: record id}`; defaults: the survivor's non-empty value, else the first
  non-empty one); protected fields the user may not see cannot be chosen; `custom` (custom
  fields, a dict) is merged per key (`"custom.<key>"` chooses a key's record); forward
  many-to-many fields (tags) become the union;
* every related row is moved to the survivor, found generically: reverse foreign keys and
  one-to-ones (`_meta` reverse relations, hidden ones included), reverse many-to-many through
  rows, and generic relations (any model with a GenericForeignKey, or a `content_type` +
  `object_id` pair) except the audit trail and the event outbox, which stay with the record they
  describe. Unique constraints are respected: a row that would collide with one the survivor
  already has is dropped (many-to-many) or stays with its record; a conditional constraint on a
  flag (one primary contact per customer) clears the flag of the moved row instead;
* the others go to the recycle bin, marked as merged into the survivor (`MergedRecord`);
* a `MergeRecord` keeps the survivor's values before and after and the id of every moved row,
  so `undo(user, merge_id)` — within `merge_undo_days`, by a user with the same rights — restores
  the merged records and moves exactly those rows back;
* audit entries on the survivor (the changed fields, `extra.merge`) and on each merged record
  (`extra.merged_into`), events `<key>.merged` / `<key>.unmerged`, the search index refreshed.

Optimistic locking: `versions = {id: version}` (as the user saw them) makes a record changed
meanwhile a `ConflictError`; the writes themselves are version-guarded, so nothing is half-merged.
"""

import datetime
import decimal
import uuid
from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..access.masking import hidden_fields
from ..access.scope import can, scope_q
from ..audit import log
from ..audit.models import AuditEntry
from ..dictionary.parameters import GENERAL, Parameter, param, register_parameter
from ..events.bus import emit
from .registry import get_spec
from .services import ConflictError, _raw, _snapshot, tracked_fields

MAX_RECORDS = 10

register_parameter(Parameter(
    "merge_undo_days", "int", 30, gettext_lazy("Merge undo period (days)"),
    gettext_lazy("How long a merge of duplicate records can be undone; 0 turns undo off."),
    min=0, max=3650, group=GENERAL,
))

# Generic relations that stay with the record they describe: its history, its events, and the
# search index (rebuilt for every record involved after the merge).
_KEEP = {"core.auditentry", "core.eventrecord", "merging.mergerecord", "merging.mergedrecord", "search.searchentry"}


def keep_on_merge(label):
    """Declare a model (`"app_label.model"`) whose generic rows are history and must not move."""
    _KEEP.add(label.lower())


# --------------------------------------------------------------------------- relations

@dataclass
class Relation:
    kind: str  # "fk" (incl. one-to-one), "m2m" (a through table row) or "generic"
    model: type  # the model whose rows move
    column: str  # attname of the column pointing at the merged record
    label: str
    ct_column: str | None = None  # generic: the content type column
    other: str | None = None  # m2m: the through table's column to the other side
    uniques: list = field(default_factory=list)  # [(other field attnames, condition Q or None)]

    @property
    def key(self):
        return f"{self.model._meta.label_lower}.{self.column}"


def _uniques(model, column_field):
    """Unique rules of `model` that include `column_field`: (the other columns, condition)."""
    opts = model._meta
    name = column_field.name
    out = []
    if column_field.unique:
        out.append(((), None))
    for together in opts.unique_together:
        if name in together:
            out.append((tuple(opts.get_field(n).attname for n in together if n != name), None))
    for c in opts.constraints:
        if isinstance(c, models.UniqueConstraint) and c.fields and name in c.fields:
            out.append((tuple(opts.get_field(n).attname for n in c.fields if n != name), c.condition))
    return out


def relations(model):
    """Every kind of row that points at a record of `model`, found from the models' metadata."""
    rels = []
    for f in model._meta.get_fields(include_hidden=True):
        if not (f.is_relation and f.auto_created and not f.concrete):
            continue
        related = f.related_model
        if f.many_to_many:
            m2m = f.field  # the ManyToManyField on the other model
            through = m2m.remote_field.through
            if not through._meta.auto_created:
                continue  # an explicit through model: its foreign key is a relation of its own
            col = through._meta.get_field(m2m.m2m_reverse_field_name())
            other = through._meta.get_field(m2m.m2m_field_name())
            rels.append(Relation("m2m", through, col.attname, capfirst(related._meta.verbose_name_plural),
                                 other=other.attname, uniques=[((other.attname,), None)]))
        elif related._meta.auto_created:
            continue  # the through table of one of our own many-to-many fields: see _union_m2m
        else:
            fk = f.field
            label = capfirst(related._meta.verbose_name_plural)
            if related is model or sum(1 for x in related._meta.concrete_fields
                                       if x.is_relation and x.related_model is model) > 1:
                label = f"{label} ({fk.verbose_name})"
            rels.append(Relation("fk", related, fk.attname, label, uniques=_uniques(related, fk)))
    for m in apps.get_models():
        if m._meta.label_lower in _KEEP:
            continue
        for ct_name, id_name in _generic_pairs(m):
            id_field = m._meta.get_field(id_name)
            rels.append(Relation("generic", m, id_field.attname, capfirst(m._meta.verbose_name_plural),
                                 ct_column=m._meta.get_field(ct_name).attname, uniques=_uniques(m, id_field)))
    return rels


def _generic_pairs(model):
    pairs = {(f.ct_field, f.fk_field) for f in model._meta.private_fields if isinstance(f, GenericForeignKey)}
    if not pairs:
        try:
            ct = model._meta.get_field("content_type")
            model._meta.get_field("object_id")
        except FieldDoesNotExist:
            return set()
        if ct.is_relation and ct.related_model is ContentType:
            pairs.add(("content_type", "object_id"))
    return pairs


def _rows(rel, model, pks):
    qs = rel.model._base_manager.filter(**{f"{rel.column}__in": [_prep(rel, pk) for pk in pks]})
    if rel.kind == "generic":
        qs = qs.filter(**{rel.ct_column: ContentType.objects.get_for_model(model).pk})
    return qs


def _prep(rel, pk):
    f = rel.model._meta.get_field(rel.column) if rel.kind != "fk" else None
    if f is not None and isinstance(f, (models.CharField, models.TextField)):
        return str(pk)
    return pk


def preview(model, pks):
    """How many related rows a merge of `pks` into another record would move: [(label, n)]."""
    out = []
    for rel in relations(model):
        n = _rows(rel, model, pks).count()
        if n:
            out.append((rel.label, n))
    for f in model._meta.many_to_many:
        n = f.remote_field.through._base_manager.filter(**{f"{f.m2m_field_name()}_id__in": pks}).count()
        if n:
            out.append((capfirst(f.verbose_name), n))
    return out


# --------------------------------------------------------------------------- fields

def mergeable_fields(spec, user):
    """The fields whose value the user chooses: editable form fields they may see."""
    hidden = hidden_fields(user, spec)
    names = []
    for name in spec.form_fields:
        try:
            f = spec.model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if f.concrete and not f.many_to_many and name not in hidden:
            names.append(name)
    return names


def _empty(value):
    return value is None or value == ""


def default_choices(spec, user, records):
    """{field: record id}: the survivor's (first record's) non-empty value, else the first
    non-empty one; custom field keys likewise as "custom.<key>"."""
    survivor = records[0]
    out = {}
    for name in mergeable_fields(spec, user):
        attname = spec.model._meta.get_field(name).attname
        pick = survivor
        if _empty(getattr(survivor, attname)):
            pick = next((r for r in records if not _empty(getattr(r, attname))), survivor)
        out[name] = pick.pk
    for key in custom_keys(records):
        pick = next((r for r in records if not _empty((getattr(r, "custom", None) or {}).get(key))), survivor)
        out[f"custom.{key}"] = pick.pk
    return out


def custom_keys(records):
    keys = []
    for r in records:
        for k in (getattr(r, "custom", None) or {}):
            if k not in keys:
                keys.append(k)
    return keys


def _enc(value):
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    return value


def _dec(model, attname, value):
    f = next(x for x in model._meta.concrete_fields if x.attname == attname)
    if value is None:
        return None
    if isinstance(f, models.JSONField):
        return value
    return f.to_python(value)


# --------------------------------------------------------------------------- merge

@dataclass
class MergeResult:
    record: object  # MergeRecord
    survivor: object
    merged: list
    moved: list  # [(relation label, rows moved)]
    kept: list  # [(relation label, rows that stayed with their record by a unique rule)]


def _check_rights(user, spec):
    if not spec.soft_delete:
        raise Http404
    if not (can(user, spec.key, "edit") and can(user, spec.key, "delete")):
        raise PermissionDenied(_("You do not have permission to do this."))


def _load(user, spec, survivor_pk, other_pks):
    model = spec.model
    try:
        survivor_pk = int(survivor_pk)
        other_pks = [int(p) for p in other_pks]
    except (TypeError, ValueError):
        raise ValidationError({"others": _("Choose the records to merge.")})
    other_pks = list(dict.fromkeys(other_pks))
    if survivor_pk in other_pks:
        raise ValidationError({"others": _("A record cannot be merged into itself.")})
    if not other_pks:
        raise ValidationError({"others": _("Choose at least two records to merge.")})
    if len(other_pks) + 1 > MAX_RECORDS:
        raise ValidationError({"others": _("At most %(n)d records can be merged at once.") % {"n": MAX_RECORDS}})
    pks = [survivor_pk, *other_pks]
    binned = list(model._base_manager.filter(scope_q(user, model, "view"), pk__in=pks, deleted_at__isnull=False))
    if binned:
        raise ValidationError({"others": _("“%(record)s” is in the recycle bin and cannot be merged.")
                               % {"record": binned[0]}})
    survivor = model.objects.filter(scope_q(user, model, "edit"), pk=survivor_pk).first()
    others = {o.pk: o for o in model.objects.filter(scope_q(user, model, "delete"), pk__in=other_pks)}
    if survivor is None or len(others) != len(other_pks):
        raise Http404
    return survivor, [others[p] for p in other_pks]


@transaction.atomic
def merge(user, model, survivor_pk, other_pks, choices=None, versions=None):
    """Merge `other_pks` into `survivor_pk`. Raises PermissionDenied (no grant), Http404 (a
    record outside the scope), ValidationError (bad input, at the field) or ConflictError (a
    record changed since `versions`). Returns a MergeResult."""
    from ..merging.models import MergedRecord, MergeRecord

    spec = get_spec(model)
    _check_rights(user, spec)
    survivor, others = _load(user, spec, survivor_pk, other_pks)
    records = [survivor, *others]
    by_pk = {r.pk: r for r in records}
    for r in records:
        expected = (versions or {}).get(r.pk, (versions or {}).get(str(r.pk)))
        if expected is not None and spec.versioned and r.version != int(expected):
            raise ConflictError(r, int(expected))

    # The survivor's new values, from the chosen record per field.
    chosen = default_choices(spec, user, records)
    allowed = set(mergeable_fields(spec, user))
    hidden = hidden_fields(user, spec)
    errors = {}
    for key, pk in (choices or {}).items():
        name = key.split(".", 1)[0]
        if name in hidden:
            errors[name] = _("You cannot choose a value you may not see.")
        elif key not in chosen and not (name == "custom" and hasattr(model, "custom")) and key not in allowed:
            errors[key] = _("This field cannot be chosen.")
        else:
            try:
                pk = int(pk)
            except (TypeError, ValueError):
                pk = None
            if pk not in by_pk:
                errors[key] = _("Choose one of the records being merged.")
            else:
                chosen[key] = pk
    if errors:
        raise ValidationError(errors)
    data = {}
    for name in allowed:
        f = model._meta.get_field(name)
        value = getattr(by_pk[chosen[name]], f.attname)
        if f.is_relation and f.related_model is model and value in by_pk:
            value = None  # a reference to a record being merged would point at itself or the bin
        data[f.attname] = value
    if hasattr(model, "custom"):
        custom = dict(survivor.custom or {})
        for key in custom_keys(records):
            source = (by_pk[chosen[f"custom.{key}"]].custom or {})
            if key in source:
                custom[key] = source[key]
        data["custom"] = custom

    now = timezone.now()
    rec = MergeRecord.objects.create(entity=spec.key, content_type=ContentType.objects.get_for_model(model),
                                     survivor_id=survivor.pk, survivor_repr=str(survivor)[:200], actor=user, at=now)

    # 1. The others go to the recycle bin (version-guarded), so no rule sees them as live.
    for o in others:
        guard = model._base_manager.filter(scope_q(user, model, "delete"), pk=o.pk, deleted_at__isnull=True)
        if spec.versioned:
            guard = guard.filter(version=o.version)
        if guard.update(deleted_at=now, deleted_by=user, **({"version": F("version") + 1} if spec.versioned else {})) == 0:
            raise ConflictError(model._base_manager.get(pk=o.pk), o.version)
        o.deleted_at = now

    # 2. Every related row moves to the survivor.
    rels = relations(model)
    moved, kept, labels = {}, {}, {}
    loser_rows = []
    for o in others:
        moves = []
        for rel in rels:
            entry = _move(rel, model, o.pk, survivor.pk)
            if entry:
                moves.append(entry)
                labels[rel.key] = rel.label
                moved[rel.key] = moved.get(rel.key, 0) + len(entry["ids"])
                if entry.get("kept"):
                    kept[rel.key] = kept.get(rel.key, 0) + entry["kept"]
        loser_rows.append(MergedRecord(merge=rec, object_id=o.pk, object_repr=str(o)[:200], deleted_at=now, moves=moves))
        if hasattr(o, "after_soft_delete"):
            o.after_soft_delete(user, now)  # nothing of the record is left to follow it

    # 3. The survivor: chosen values, union of tags, version-guarded.
    fields = tracked_fields(model)
    before = _snapshot(survivor, fields)
    raw_before = _raw(survivor)
    expected_version = getattr(survivor, "version", None)
    for attname, value in data.items():
        setattr(survivor, attname, value)
    survivor.full_clean(exclude=[n for n in hidden])
    if hasattr(survivor, "before_write"):
        survivor.before_write(user)
    changes = log.diff(before, _snapshot(survivor, fields))
    skip = {"updated_at", "updated_by_id", "version"}
    raw_after = _raw(survivor)
    values = {a: v for a, v in raw_after.items() if v != raw_before[a] and a not in skip}
    rec.survivor_before = {a: _enc(raw_before[a]) for a in values}
    rec.survivor_after = {a: _enc(v) for a, v in values.items()}
    if hasattr(survivor, "updated_at"):
        values["updated_at"] = now
    if hasattr(survivor, "updated_by_id"):
        values["updated_by"] = user
    guard = model._base_manager.filter(scope_q(user, model, "edit"), pk=survivor.pk, deleted_at__isnull=True)
    if spec.versioned:
        guard = guard.filter(version=expected_version)
        values["version"] = F("version") + 1
    if guard.update(**values) == 0:
        raise ConflictError(model._base_manager.get(pk=survivor.pk), expected_version)
    if spec.versioned:
        survivor.version += 1
    m2m_changes, rec.added_m2m = _union_m2m(survivor, others)
    changes.update(m2m_changes)
    rec.save(update_fields=["survivor_before", "survivor_after", "added_m2m"])
    MergedRecord.objects.bulk_create(loser_rows)

    # 4. History, events, search index.
    merged_from = [[o.pk, str(o)[:200]] for o in others]
    log.record(user, AuditEntry.Action.UPDATE, survivor, changes=changes, extra={
        "version": getattr(survivor, "version", 0), "merge": rec.pk, "merged_from": merged_from, "moved": moved})
    for o in others:
        log.record(user, AuditEntry.Action.DELETE, o, extra={"merge": rec.pk, "merged_into": [survivor.pk, str(survivor)[:200]]})
        emit(f"{spec.key}.deleted", o, user, {"merged_into": survivor.pk})
    emit(f"{spec.key}.merged", survivor, user, {"merge": rec.pk, "merged": [o.pk for o in others],
                                                "fields": sorted(changes)})
    _reindex_after_commit(model, [survivor.pk] + [o.pk for o in others], loser_rows)
    return MergeResult(rec, survivor, others, [(labels[k], n) for k, n in moved.items() if n],
                       [(labels[k], n) for k, n in kept.items()])


def _move(rel, model, loser_pk, survivor_pk):
    """Point the rows of one relation from the loser at the survivor; returns what moved."""
    qs = _rows(rel, model, [loser_pk])
    if rel.kind == "fk" and rel.model is model:
        qs = qs.exclude(pk=survivor_pk)  # the survivor's own reference is one of its chosen fields
    entry = {"kind": rel.kind, "model": rel.model._meta.label_lower, "field": rel.column, "ids": []}
    if not rel.uniques:
        ids = list(qs.values_list("pk", flat=True))
        if not ids:
            return None
        rel.model._base_manager.filter(pk__in=ids).update(**{rel.column: _prep(rel, survivor_pk)})
        entry["ids"] = ids
        return entry
    # Rows one by one against the unique rules, taking the rows already at the survivor into account.
    rows = list(qs)
    if not rows:
        return None
    target = _rows(rel, model, [survivor_pk])
    taken, matching = [], []
    for others, condition in rel.uniques:
        have = target.filter(condition) if condition is not None else target
        taken.append({tuple(r) for r in have.values_list(*others)} if others else ({()} if have.exists() else set()))
        matching.append(None if condition is None else
                        set(qs.filter(condition).values_list("pk", flat=True)))
    move, flags, dropped, kept = [], {}, [], 0
    for row in rows:
        clear, ok, claims = [], True, []
        for i, (others, condition) in enumerate(rel.uniques):
            if matching[i] is not None and row.pk not in matching[i]:
                continue  # the rule's condition does not apply to this row
            key = tuple(getattr(row, a) for a in others)
            if key not in taken[i]:
                claims.append((i, key))
                continue
            flag = _flag_of(rel.model, condition) if condition is not None else None
            if flag:
                clear.append(flag)  # e.g. a second primary contact: moved, no longer primary
            else:
                ok = False
        if not ok:
            if rel.kind == "m2m":
                dropped.append(getattr(row, rel.other))  # the survivor has this link already
                row.delete()
            else:
                kept += 1  # stays with its record (in the recycle bin)
            continue
        for flag in clear:
            flags.setdefault(flag, []).append(row.pk)
        for i, key in claims:
            taken[i].add(key)
        move.append(row.pk)
    for flag, ids in flags.items():
        rel.model._base_manager.filter(pk__in=ids).update(**{flag: False})
    if move:
        rel.model._base_manager.filter(pk__in=move).update(**{rel.column: _prep(rel, survivor_pk)})
    if not (move or dropped or kept):
        return None
    entry.update(ids=move, flags=flags, dropped=dropped, kept=kept)
    return entry


def _flag_of(model, condition):
    """The boolean field a conditional unique rule requires to be True (e.g. is_primary)."""
    for child in condition.children:
        if isinstance(child, tuple) and child[1] is True:
            try:
                f = model._meta.get_field(child[0])
            except FieldDoesNotExist:
                continue
            if isinstance(f, models.BooleanField):
                return f.attname
    return None


def _union_m2m(survivor, others):
    changes, added = {}, {}
    for f in type(survivor)._meta.many_to_many:
        manager = getattr(survivor, f.name)
        have = list(manager.all())
        have_ids = {x.pk for x in have}
        new = []
        for o in others:
            for x in getattr(o, f.name).all():
                if x.pk not in have_ids and x.pk not in {n.pk for n in new}:
                    new.append(x)
        if new:
            manager.add(*new)
            added[f.name] = [x.pk for x in new]
            changes[f.name] = [sorted(str(x) for x in have), sorted(str(x) for x in have + new)]
    return changes, added


def _reindex_after_commit(model, pks, loser_rows):
    try:
        from ..search import reindex  # built by the search index work (SYS/UX-1); optional here
    except ImportError:
        return
    moved = {}
    for row in loser_rows:
        for m in row.moves:
            if m["kind"] == "fk":
                moved.setdefault(m["model"], []).extend(m["ids"])

    def run():
        try:
            reindex(model, pks)
            for label, ids in moved.items():
                related = apps.get_model(label)
                try:
                    get_spec(related)
                except LookupError:
                    continue
                reindex(related, ids)
        except Exception:  # the index catches up on its own; the merge stands
            import logging

            logging.getLogger(__name__).exception("search reindex after merge failed")

    transaction.on_commit(run)


# --------------------------------------------------------------------------- undo

def undo_deadline(rec):
    days = param("merge_undo_days")
    return rec.at + datetime.timedelta(days=days) if days else None


def can_undo(user, rec):
    """May `user` undo this merge now? (open, within the period, the same rights)."""
    if rec.undone_at is not None:
        return False
    deadline = undo_deadline(rec)
    if deadline is None or timezone.now() > deadline:
        return False
    try:
        spec = get_spec(rec.entity)
    except KeyError:
        return False
    if not (can(user, spec.key, "edit") and can(user, spec.key, "delete")):
        return False
    model = spec.model
    if not model.objects.filter(scope_q(user, model, "edit"), pk=rec.survivor_id).exists():
        return False
    ids = [r.object_id for r in rec.losers.all()]
    return model._base_manager.filter(scope_q(user, model, "delete"), pk__in=ids).count() == len(ids)


@transaction.atomic
def undo(user, model, merge_id):
    """Undo a merge: the merged records come back from the recycle bin, the rows the merge moved
    go back to them, and the survivor's fields the merge set return to their old values (those
    edited since keep the newer value). Returns the MergeRecord."""
    from ..merging.models import MergeRecord

    spec = get_spec(model)
    _check_rights(user, spec)
    ct = ContentType.objects.get_for_model(model)
    rec = MergeRecord.objects.select_for_update().filter(pk=merge_id, content_type=ct).first()
    if rec is None:
        raise Http404
    survivor = model.objects.filter(scope_q(user, model, "edit"), pk=rec.survivor_id).first()
    if survivor is None:
        raise Http404
    losers = list(rec.losers.all())
    found = {o.pk: o for o in model._base_manager.filter(scope_q(user, model, "delete"),
                                                         pk__in=[r.object_id for r in losers])}
    if len(found) != len(losers):
        gone = [r for r in losers if not model._base_manager.filter(pk=r.object_id).exists()]
        if gone:
            raise ValidationError(_("“%(record)s” was deleted permanently; this merge can no longer be undone.")
                                  % {"record": gone[0].object_repr})
        raise Http404
    if rec.undone_at is not None:
        raise ValidationError(_("This merge has already been undone."))
    deadline = undo_deadline(rec)
    if deadline is None or timezone.now() > deadline:
        raise ValidationError(_("This merge can no longer be undone: the undo period is over."))

    now = timezone.now()
    # 1. The survivor: fields the merge set, unless edited since; tags it gained.
    fields = tracked_fields(model)
    before = _snapshot(survivor, fields)
    values = {}
    for attname, after in rec.survivor_after.items():
        if getattr(survivor, attname) == _dec(model, attname, after):
            value = _dec(model, attname, rec.survivor_before.get(attname))
            setattr(survivor, attname, value)
            values[attname] = value
    changes = log.diff(before, _snapshot(survivor, fields))
    for name, ids in (rec.added_m2m or {}).items():
        manager = getattr(survivor, name)
        had = sorted(str(x) for x in manager.all())
        manager.remove(*ids)
        now_has = sorted(str(x) for x in manager.all())
        if had != now_has:
            changes[name] = [had, now_has]
    if hasattr(survivor, "updated_at"):
        values["updated_at"] = now
    if hasattr(survivor, "updated_by_id"):
        values["updated_by"] = user
    guard = model._base_manager.filter(pk=survivor.pk, deleted_at__isnull=True)
    if spec.versioned:
        guard = guard.filter(version=survivor.version)
        values["version"] = F("version") + 1
    if guard.update(**values) == 0:
        raise ConflictError(model._base_manager.get(pk=survivor.pk), survivor.version)
    if spec.versioned:
        survivor.version += 1

    # 2. The merged records come back, and exactly the rows moved from them go back.
    restored = []
    for row in losers:
        obj = found[row.object_id]
        if obj.deleted_at is not None:
            if hasattr(obj, "before_restore"):
                obj.before_restore(user)
            deleted_at = obj.deleted_at
            model._base_manager.filter(pk=obj.pk).update(
                deleted_at=None, deleted_by=None, **({"version": F("version") + 1} if spec.versioned else {}))
            obj.deleted_at = None
            if hasattr(obj, "after_restore"):
                obj.after_restore(user, deleted_at)
        for m in row.moves:
            _move_back(m, model, survivor.pk, obj.pk)
        restored.append(obj)

    rec.undone_at, rec.undone_by = now, user
    rec.save(update_fields=["undone_at", "undone_by"])
    log.record(user, AuditEntry.Action.UPDATE, survivor, changes=changes, extra={
        "version": getattr(survivor, "version", 0), "unmerge": rec.pk,
        "restored": [[o.pk, str(o)[:200]] for o in restored]})
    for o in restored:
        log.record(user, AuditEntry.Action.RESTORE, o, extra={"unmerge": rec.pk})
        emit(f"{spec.key}.restored", o, user, {"unmerge": rec.pk})
    emit(f"{spec.key}.unmerged", survivor, user, {"merge": rec.pk, "restored": [o.pk for o in restored]})
    _reindex_after_commit(model, [survivor.pk] + [o.pk for o in restored], losers)
    return rec


def _move_back(m, model, survivor_pk, loser_pk):
    related = apps.get_model(m["model"])
    rel = Relation(m["kind"], related, m["field"], "")
    if m["kind"] == "generic":
        ct_name = next(c for c, i in _generic_pairs(related) if related._meta.get_field(i).attname == m["field"])
        rel.ct_column = related._meta.get_field(ct_name).attname
    manager = related._base_manager
    if m["ids"]:
        manager.filter(pk__in=m["ids"], **{m["field"]: _prep(rel, survivor_pk)}).update(**{m["field"]: _prep(rel, loser_pk)})
    for flag, ids in (m.get("flags") or {}).items():
        manager.filter(pk__in=ids, **{m["field"]: _prep(rel, loser_pk)}).update(**{flag: True})
    if m.get("dropped"):
        other = next(f.attname for f in related._meta.concrete_fields
                     if f.is_relation and f.attname != m["field"])
        related.objects.bulk_create([related(**{m["field"]: loser_pk, other: x}) for x in m["dropped"]],
                                    ignore_conflicts=True)


def merge_of(model, survivor_pk, limit=20):
    """The merges into a record, newest first (for its timeline)."""
    from ..merging.models import MergeRecord

    return list(MergeRecord.objects.filter(content_type=ContentType.objects.get_for_model(model),
                                           survivor_id=survivor_pk).prefetch_related("losers")[:limit])


def merged_into(model, pks):
    """{merged record id: MergeRecord} for records in the recycle bin because of a merge."""
    from ..merging.models import MergedRecord

    rows = MergedRecord.objects.filter(object_id__in=list(pks), merge__undone_at__isnull=True,
                                       merge__content_type=ContentType.objects.get_for_model(model)).select_related("merge")
    return {r.object_id: r.merge for r in rows}


__all__ = ["merge", "undo", "preview", "relations", "default_choices", "mergeable_fields", "can_undo",
           "keep_on_merge", "MergeResult", "MAX_RECORDS"]
