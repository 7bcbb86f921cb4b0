"""Running an import (INT-4): every row through the entity's generated form, then written in
chunks — new records in bulk (`bulk.insert`: COPY on PostgreSQL), updates through
`services.update` — so that each row is either fully in (record, tags, audit entry, event,
search entry) or reported with its errors per field.

Reads of existing records (update keys, duplicate matches) go through the scope predicate:
an import never updates a record outside the user's "edit" scope, and of duplicates outside
the user's "view" scope it reports only that one exists.
"""

import contextlib
import logging
import re

from django import forms
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, connections, models, transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ..access.scope import can
from ..audit import log
from ..audit.models import AuditEntry
from ..entities import services
from ..entities.models import Tag
from ..entities.registry import get_spec
from ..events.bus import emit
from ..events.models import EventRecord
from ..ui.cells import field_label
from ..ui.forms import TagsField, form_class
from . import bulk
from .columns import importable_columns, norm
from .models import ImportJob
from .numbers import issue_block
from .parsing import FileError, count_rows, open_table
from .rowform import row_form_class

logger = logging.getLogger(__name__)

CHUNK = 1000
MAX_STORED_ERRORS = 5000  # rows with errors kept for the report; all are counted
YES = {"1", "y", "yes", "true", "t", "是", "对", "√", "✓", "x"}
NO = {"", "0", "n", "no", "false", "f", "否", "不", "不是", "×"}
_DATE = re.compile(r"^(\d{4})\s*[/.年-]\s*(\d{1,2})\s*[/.月-]\s*(\d{1,2})\s*日?(.*)$")


_caches = None


def _request_caches():
    """Every per-request cache of the kernel (dictionary, parameters, custom field definitions …)."""
    global _caches
    if _caches is None:
        import gc

        from ..request_cache import RequestCache

        _caches = [o for o in gc.get_objects() if type(o) is RequestCache]  # type(): never wake a lazy object
    return _caches


@contextlib.contextmanager
def cached_lookups():
    """Per-request caches (dictionary items, parameters, custom field definitions) held for the
    whole job, as for one request: outside a request they would be read once per row."""
    started = []
    for cache in _request_caches():
        if not getattr(cache._local, "enabled", False):
            cache._start()
            started.append(cache)
    try:
        yield
    finally:
        for cache in started:
            cache._end()


def check_permission(user, spec, mode):
    if "import" not in spec.actions or not can(user, spec.key, "import"):
        raise PermissionDenied(_("You do not have permission to import %(entities)s.") % {"entities": spec.label_plural})
    if mode != ImportJob.Mode.CREATE and not can(user, spec.key, "edit"):
        raise PermissionDenied(_("Updating records needs the permission to edit %(entities)s.") % {
            "entities": spec.label_plural})


class Row:
    __slots__ = ("number", "cells", "values", "errors", "form", "obj", "cleaned", "target", "skip")

    def __init__(self, number, cells):
        self.number, self.cells = number, cells
        self.values, self.errors = {}, []
        self.form = self.obj = self.cleaned = self.target = None  # form: kept for updates only
        self.skip = False

    def error(self, field, message):
        self.errors.append((field, str(message)))


class Importer:
    def __init__(self, job, dry_run=False):
        self.job = job
        self.dry_run = dry_run
        self.spec = get_spec(job.entity)
        self.model = self.spec.model
        self.user = job.user
        self.Form = form_class(self.spec)
        self.columns = {c.name: c for c in importable_columns(self.spec, self.user)}
        self.index = [(i, job.mapping.get(h)) for i, h in enumerate(job.headers) if job.mapping.get(h) in self.columns]
        self.header_of = {f: h for h, f in job.mapping.items() if f}
        blank = self.Form(user=self.user, spec=self.spec)
        self.base = {n: blank[n].value() for n in blank.fields if n != "version"}
        self.base = {n: v for n, v in self.base.items() if v is not None}
        self.choices = {n: self._choice_map(c.field) for n, c in self.columns.items()
                        if isinstance(c.field, forms.ChoiceField) and not isinstance(c.field, forms.ModelChoiceField)}
        self.seen = {}  # (rule code, key) -> row number, for duplicates within the file
        self.ct = ContentType.objects.get_for_model(self.model)
        self.department = getattr(self.user, "department", None)
        self.counts = {"created": 0, "updated": 0, "skipped": 0, "errors": 0}
        self.stored_errors = []

    # --- reading cells ---
    def _choice_map(self, field):
        out = {}
        kind = getattr(field, "kind", None)
        if kind:
            from ..dictionary import lookup

            for item in lookup.items(kind, active_only=True):
                for text in (item.code, item.label_zh, item.label_en):
                    out.setdefault(norm(text), item.code)
            return out
        for lang in ("zh-hans", "en"):
            with translation.override(lang):
                for value, label in field.choices:
                    if value not in ("", None):
                        out.setdefault(norm(value), value)
                        out.setdefault(norm(label), value)
        return out

    def _convert(self, row, name, text):
        field = self.columns[name].field
        if name in self.choices:
            return self.choices[name].get(norm(text), text) if text else ""
        if isinstance(field, (forms.BooleanField, forms.NullBooleanField)):
            low = text.strip().lower()
            if low in YES:
                return "true"
            if low in NO:
                return "false" if low or not isinstance(field, forms.NullBooleanField) else ""
            row.error(name, _("“%(value)s” is not yes or no.") % {"value": text})
            return None
        if isinstance(field, (forms.DateField, forms.DateTimeField)) and text:
            m = _DATE.match(text)
            if m:
                y, mo, d, rest = m.groups()
                return f"{y}-{int(mo):02d}-{int(d):02d}{rest}"
            return text
        if isinstance(field, forms.DecimalField) and text:
            return text.replace(",", "").replace("，", "").replace("¥", "").replace("￥", "").strip()
        return text

    def _resolve_relations(self, rows):
        """Texts in relation columns (a customer's name or number) → ids of records the user may
        see, one query per column per chunk."""
        for name, col in self.columns.items():
            field = col.field
            if not isinstance(field, forms.ModelChoiceField) or not any(name in r.values for r in rows):
                continue
            multi = isinstance(field, forms.ModelMultipleChoiceField)
            related = field.queryset.model
            texts = set()
            for r in rows:
                v = r.values.get(name)
                if v:
                    parts = [p.strip() for p in re.split(r"[,，;；]", v) if p.strip()] if multi else [v]
                    r.values[name] = parts
                    texts.update(parts)
            if not texts:
                continue
            lookups = [n for n in ("code", "name", "username") if _has_field(related, n)]
            rspec = getattr(related, "entity_spec", None)
            if rspec and rspec.number_field and rspec.number_field not in lookups:
                lookups.insert(0, rspec.number_field)
            cond = Q(pk__in=[])
            for n in lookups:
                cond |= Q(**{f"{n}__in": texts})
            found = {}
            for rec in field.queryset.filter(cond).values("pk", *lookups)[:len(texts) * 5 + 100]:
                for n in lookups:
                    found.setdefault(str(rec[n]), set()).add(rec["pk"])
            label = related._meta.verbose_name
            for r in rows:
                parts = r.values.get(name)
                if not parts:
                    continue
                ids = []
                for p in parts:
                    pks = found.get(p, set())
                    if len(pks) == 1:
                        ids.append(str(next(iter(pks))))
                    elif pks:
                        r.error(name, _("Several %(entity)s are called “%(value)s”; use the number instead.") % {
                            "entity": related._meta.verbose_name_plural, "value": p})
                    else:
                        r.error(name, _("No %(entity)s “%(value)s” that you may see.") % {"entity": label, "value": p})
                r.values[name] = ids if multi else (ids[0] if ids else None)

    # --- the pass ---
    def run(self):
        check_permission(self.user, self.spec, self.job.mode)
        with self.job.file.open("rb") as f:
            table = open_table(f.read(), self.job.file_name)
        self.job.total_rows = count_rows(table)
        self._progress(0)
        writer = _Writer(self) if self._pipelined() else None
        chunk, self.done = [], 0
        try:
            for number, cells in enumerate(table.rows(), start=2):
                chunk.append(Row(number, cells))
                if len(chunk) >= CHUNK:
                    self._chunk(chunk, writer)
                    chunk = []
            if chunk:
                self._chunk(chunk, writer)
        finally:
            if writer is not None:
                writer.close()
        self._progress(self.done)
        return self.counts

    def _pipelined(self):
        """Write each chunk in a second thread while the next one is validated (PostgreSQL: the
        database works on one core while Python validates on the other). Only for new records:
        an update must see the chunk before it, and outside a transaction of the caller (tests),
        as the writer has its own connection."""
        return (not self.dry_run and connection.vendor == "postgresql" and not connection.in_atomic_block
                and self.job.mode == ImportJob.Mode.CREATE and self.job.on_duplicate != ImportJob.OnDuplicate.UPDATE)

    def _progress(self, done):
        job = self.job
        job.processed_rows = done
        job.created_count, job.updated_count = self.counts["created"], self.counts["updated"]
        job.skipped_count, job.error_count = self.counts["skipped"], self.counts["errors"]
        job.errors = self.stored_errors
        ImportJob.objects.filter(pk=job.pk).update(
            total_rows=job.total_rows, processed_rows=done, created_count=job.created_count,
            updated_count=job.updated_count, skipped_count=job.skipped_count, error_count=job.error_count,
            errors=job.errors)

    def _chunk(self, rows, writer=None):
        """Check a chunk (cells, relations, form, duplicates), write it, count it. With a writer
        thread, the chunk is handed over and the one before it counted once written."""
        self._check(rows)
        ready = [r for r in rows if not r.errors and not r.skip and r.obj is not None]
        if writer is not None:
            writer.submit(rows, ready)
            return
        if not self.dry_run:
            self._write(ready)
        self._tally(rows)

    def _check(self, rows):
        for r in rows:
            for i, name in self.index:
                text = r.cells[i]
                value = self._convert(r, name, text)
                if value is not None:
                    r.values[name] = value
        self._resolve_relations(rows)
        targets = self._find_targets(rows) if self.job.mode != ImportJob.Mode.CREATE else {}
        for r in rows:
            if r.errors:
                continue
            self._bind(r, targets)
        self._dedup([r for r in rows if not r.errors and not r.skip and r.target is None and r.obj is not None])

    def _tally(self, rows):
        for r in rows:
            if r.errors:
                self.counts["errors"] += 1
                if len(self.stored_errors) < MAX_STORED_ERRORS:
                    self.stored_errors.append({"row": r.number, "values": r.cells, "errors": [
                        {"field": f or "", "column": self.header_of.get(f, "") if f else "",
                         "label": str(self.columns[f].label) if f in self.columns else "", "message": m}
                        for f, m in r.errors]})
            elif r.skip:
                self.counts["skipped"] += 1
            elif r.target is not None:
                self.counts["updated"] += 1
            else:
                self.counts["created"] += 1
        self.done += len(rows)
        self._progress(self.done)

    def _key_value(self, r):
        key = self.job.key_field
        v = (r.values.get(key) or "").strip() if isinstance(r.values.get(key), str) else r.values.get(key)
        if not v:
            return None
        return self._normal_key(key, v)

    def _normal_key(self, key, v):
        try:
            f = self.model._meta.get_field(key)
            v = f.to_python(v)
        except (ValidationError, Exception):
            return v
        return v.lower() if isinstance(v, str) and isinstance(f, models.EmailField) else v

    def _find_targets(self, rows):
        """{key value: [records]} the user may edit, and a set of keys only visible (not editable)."""
        key = self.job.key_field
        values = {k for k in (self._key_value(r) for r in rows) if k is not None}
        if not values:
            return {}
        qs = self.model.objects.for_user(self.user, "edit")
        if self.spec.select_related:
            qs = qs.select_related(*self.spec.select_related)
        found = {}
        if isinstance(self.model._meta.get_field(key), models.EmailField):
            from django.db.models.functions import Lower

            qs = qs.annotate(_key=Lower(key)).filter(_key__in=values)
            for obj in qs:
                found.setdefault(obj._key, []).append(obj)
        else:
            for obj in qs.filter(**{f"{key}__in": values}):
                found.setdefault(self._normal_key(key, getattr(obj, key)), []).append(obj)
        return found

    def _bind(self, r, targets):
        mode = self.job.mode
        if mode != ImportJob.Mode.CREATE:
            key = self._key_value(r)
            matches = targets.get(key, []) if key is not None else []
            if len(matches) > 1:
                r.error(self.job.key_field, _("Several records have this %(key)s; it must be unique to update by it.") % {
                    "key": self._key_label()})
                return
            if matches:
                r.target = matches[0]
            elif mode == ImportJob.Mode.UPDATE:
                if key is None:
                    r.error(self.job.key_field, _("The key column is empty in this row."))
                else:
                    r.error(self.job.key_field, _("No record that you may edit has this %(key)s.") % {"key": self._key_label()})
                return
        self._validate(r)

    def _key_label(self):
        return str(field_label(self.model, self.job.key_field))

    def _validate(self, r):
        values = r.values
        if r.target is not None:
            blank = self.Form(instance=r.target, user=self.user, spec=self.spec)
            data = {n: blank[n].value() for n in blank.fields}
            data = {n: v for n, v in data.items() if v is not None}
            for n, v in values.items():
                if v not in ("", None, []):  # an empty cell keeps the stored value
                    data[n] = v
            form = self.Form(data, instance=r.target, user=self.user, spec=self.spec)
        else:  # an empty cell leaves the field's default
            data = dict(self.base)
            data.update({n: v for n, v in values.items() if v not in ("", None, [])})
            form = self._create_form(data)
        if not form.is_valid():
            for name, errors in form.errors.items():
                for e in errors:
                    r.error(None if name == "__all__" else name, e)
            return
        r.obj, r.cleaned = form.instance, dict(form.cleaned_data)
        if r.target is not None:
            r.form = form
        num = self.spec.number_field
        if num and num in self.columns and num not in form.fields and values.get(num) and r.target is None:
            setattr(r.obj, num, values[num])  # a number given in the file is kept

    def _create_form(self, data):
        """The form for a new record, bound to `data`. One form object serves every new row:
        building a form (deep-copying its fields, scoping its pickers) costs more than
        validating a row, so it is re-bound with the row's data and a fresh instance; what is
        the same in every row (the defaults of fields no column fills) is validated once
        (`rowform`)."""
        form = getattr(self, "_form", None)
        if form is None:
            form = self._form = row_form_class(self.Form)(user=self.user, spec=self.spec)
            form.prepare_rows(self.base, {name for _i, name in self.index}, self.model())
        form.bind_row(data, self.model())
        return form

    # --- duplicates ---
    def _dedup(self, rows):
        rules = self.spec.duplicate_keys
        if not rules or not rows:
            return
        policy = self.job.on_duplicate
        keyed = []
        for r in rows:
            keys = [(rule, rule.values(self.model, r.obj)) for rule in rules]
            keyed.append((r, [(k, v) for k, v in keys if v is not None]))
        # within the file
        for r, keys in keyed:
            for rule, vals in keys:
                first = self.seen.get((rule.code, vals))
                if first is not None:
                    self._duplicate(r, policy, rule, _("Same %(rule)s as row %(row)d of this file.") % {
                        "rule": _rule_text(rule), "row": first}, within_file=True)
                    break
            if not r.errors and not r.skip:
                for rule, vals in keys:
                    self.seen[(rule.code, vals)] = r.number
        # against the database: one query per rule for the chunk
        matches = {}  # (rule code, vals) -> [pk]
        for rule in rules:
            wanted = {v for r, keys in keyed for k, v in keys if k is rule and not r.errors and not r.skip}
            if not wanted:
                continue
            cols = rule.columns(self.model)
            qs = rule.annotate(self.model.objects.all())
            for i, c in enumerate(cols):
                qs = qs.filter(**{f"{c}__in": {v[i] for v in wanted}})
            for row in qs.values_list("pk", *cols)[:len(wanted) * 5 + 100]:
                vals = tuple(row[1:])
                if vals in wanted:
                    matches.setdefault((rule.code, vals), []).append(row[0])
        if not matches:
            return
        ids = {pk for pks in matches.values() for pk in pks}
        visible = set(self.model.objects.for_user(self.user, "view").filter(pk__in=ids).values_list("pk", flat=True))
        editable = set()
        if policy == ImportJob.OnDuplicate.UPDATE:
            editable = set(self.model.objects.for_user(self.user, "edit").filter(pk__in=ids).values_list("pk", flat=True))
        names = dict(self.model.objects.filter(pk__in=visible).values_list("pk", self._name_field())) if visible else {}
        for r, keys in keyed:
            if r.errors or r.skip:
                continue
            for rule, vals in keys:
                pks = matches.get((rule.code, vals))
                if not pks:
                    continue
                seen_pks = [pk for pk in pks if pk in visible]
                if policy == ImportJob.OnDuplicate.UPDATE:
                    edit_pks = [pk for pk in pks if pk in editable]
                    if len(edit_pks) == 1 and len(pks) == 1:
                        self._switch_to_update(r, edit_pks[0])
                        break
                if seen_pks:
                    msg = _("A record with the %(rule)s exists: “%(name)s”.") % {
                        "rule": _rule_text(rule), "name": names.get(seen_pks[0], seen_pks[0])}
                else:
                    msg = _("A record with the %(rule)s exists in another department.") % {"rule": _rule_text(rule)}
                self._duplicate(r, policy, rule, msg)
                break

    def _name_field(self):
        return "name" if _has_field(self.model, "name") else "pk"

    def _duplicate(self, r, policy, rule, message, within_file=False):
        if policy == ImportJob.OnDuplicate.SKIP:
            r.skip = True
        else:
            r.error(rule.fields[0] if rule.fields[0] in self.columns else (rule.display or (None,))[0], message)

    def _switch_to_update(self, r, pk):
        target = self.model.objects.for_user(self.user, "edit").filter(pk=pk).first()
        if target is None:
            r.error(None, _("No record that you may edit has this key."))
            return
        r.target, r.form, r.obj = target, None, None
        self._validate(r)

    # --- writing ---
    def _write(self, rows):
        creates = [r for r in rows if r.target is None]
        updates = [r for r in rows if r.target is not None]
        created_ids, updated_ids = [], []
        with transaction.atomic():
            if creates:
                created_ids = self._create(creates)
            for r in updates:
                data, m2m, _v = r.form.service_data()
                try:
                    services.update(self.user, self.model, r.target.pk, data, m2m, expected_version=r.target.version
                                    if self.spec.versioned else None)
                    updated_ids.append(r.target.pk)
                except services.ConflictError as exc:
                    r.error(None, exc)
                except ValidationError as exc:
                    for field, msgs in (exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]):
                        for m in msgs:
                            r.error(None if field == "__all__" else field, m)
                except (Http404, PermissionDenied):
                    r.error(None, _("No record that you may edit has this key."))
            if created_ids or updated_ids:
                emit(f"{self.spec.key}.imported", None, self.user,
                     {"job": self.job.pk, "created": created_ids, "updated": updated_ids})

    def _prepare(self, r, number=None):
        obj = r.obj
        if self.spec.has_owner:
            obj.owner = self.user
            obj.department = self.department
        if hasattr(obj, "created_by_id"):
            obj.created_by = obj.updated_by = self.user
        if number and self.spec.number_field and not getattr(obj, self.spec.number_field):
            setattr(obj, self.spec.number_field, number)
        if hasattr(obj, "before_write"):
            obj.before_write(self.user)
        return obj

    def _create(self, rows):
        num = self.spec.number_field
        need = [r for r in rows if num and not getattr(r.obj, num)]
        numbers = iter(issue_block(self.spec.key, len(need)) or []) if need else iter(())
        for r in rows:
            self._prepare(r, next(numbers, None) if r in need else None)
        try:
            with transaction.atomic():
                bulk.insert(self.model, [r.obj for r in rows])
                self._after_create(rows)
            ok = rows
        except IntegrityError:
            # One bad row spoils the batch: save row by row, each in its own savepoint.
            ok = []
            for r in rows:
                r.obj.pk = None
                r.obj._state.adding = True
                try:
                    with transaction.atomic():
                        r.obj.save()
                        self._after_create([r])
                    ok.append(r)
                except IntegrityError as exc:
                    r.error(None, _("The database refused this row: %(error)s") % {"error": str(exc)[:200]})
        return [r.obj.pk for r in ok]

    def _after_create(self, rows):
        objs = [r.obj for r in rows]
        if hasattr(self.model, "after_create"):
            for obj in objs:
                obj.after_create(self.user)
        self._m2m(rows)
        entries, events = [], []
        now = timezone.now()
        for r in rows:
            obj = r.obj
            changes = {k: [None, v] for k, v in self._snapshot(obj) if v not in (None, "", False)}
            tags = r.cleaned.get("tags")
            if tags:
                changes["tags"] = [[], sorted(tags)]
            entries.append(AuditEntry(content_type=self.ct, object_id=obj.pk, object_repr=str(obj)[:200],
                                      action=AuditEntry.Action.CREATE, actor=self.user, at=now, changes=changes,
                                      extra={"version": getattr(obj, "version", 1), "import": self.job.pk}))
            events.append(EventRecord(name=f"{self.spec.key}.created", content_type=self.ct, object_id=obj.pk,
                                      payload={"import": self.job.pk}, actor=self.user, created_at=now))
        bulk.insert(AuditEntry, entries)
        bulk.insert(EventRecord, events)
        _index(self.model, objs)

    def _snapshot(self, obj):
        """(field, value) of the audited fields (`log.Snapshotter`: linked records' texts once per job)."""
        snap = getattr(self, "_snapshotter", None)
        if snap is None:
            snap = self._snapshotter = log.Snapshotter(self.model, services.tracked_fields(self.model))
        return snap.items(obj)

    def _m2m(self, rows):
        for name, col in self.columns.items():
            mf = _model_field(self.model, name)
            if mf is None or not mf.many_to_many:
                continue
            through = mf.remote_field.through
            src, tgt = mf.m2m_field_name(), mf.m2m_reverse_field_name()
            links = []
            if isinstance(col.field, TagsField):
                names = {n for r in rows for n in (r.cleaned.get(name) or [])}
                if not names:
                    continue
                Tag.objects.bulk_create([Tag(name=n) for n in names], ignore_conflicts=True)
                ids = dict(Tag.objects.filter(name__in=names).values_list("name", "pk"))
                for r in rows:
                    for n in r.cleaned.get(name) or []:
                        links.append(through(**{f"{src}_id": r.obj.pk, f"{tgt}_id": ids[n]}))
            else:
                for r in rows:
                    for o in r.cleaned.get(name) or []:
                        links.append(through(**{f"{src}_id": r.obj.pk, f"{tgt}_id": o.pk}))
            bulk.insert(through, links)  # links of new records: none can exist yet


class _Writer:
    """One thread that writes the checked chunks in order, each in its own transaction on its
    own connection, one chunk at a time: the next chunk is checked meanwhile. Duplicates within
    the file stay exact: they are found while checking, which stays in file order."""

    def __init__(self, importer):
        from concurrent.futures import ThreadPoolExecutor

        self.importer = importer
        self.language = translation.get_language()
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="import-writer")
        self.pending = None  # (rows, future) of the chunk being written

    def _write(self, ready):
        with translation.override(self.language), cached_lookups():
            self.importer._write(ready)

    def submit(self, rows, ready):
        self.wait()
        self.pending = (rows, self.pool.submit(self._write, ready))

    def wait(self):
        if self.pending is not None:
            rows, future = self.pending
            self.pending = None
            future.result()  # the writer's exception, if any, stops the job here
            self.importer._tally(rows)

    def close(self):
        try:
            self.wait()
        finally:
            self.pool.submit(connections.close_all).result()  # the thread's own connection
            self.pool.shutdown()


def _rule_text(rule):
    return str(rule.label)


def _has_field(model, name):
    try:
        model._meta.get_field(name)
        return True
    except Exception:
        return False


def _model_field(model, name):
    try:
        return model._meta.get_field(name)
    except Exception:
        return None


def _index(model, objs):
    """Search entries of the new records, written with them (in a savepoint: should the index
    fail, the records stay in and the index catches up after commit, as for any other write)."""
    try:
        from ..search import index_new, reindex
    except ImportError:
        return
    try:
        with transaction.atomic():
            index_new(model, objs)
    except Exception:
        logger.exception("search index of imported records failed; reindexing after commit")
        pks = [o.pk for o in objs]
        transaction.on_commit(lambda: reindex(model, pks), robust=True)  # a failure is logged, not raised


def run_job(job_id, dry_run=False):
    """Run (or dry-run) an import job; the job row records status, counters and errors."""
    job = ImportJob.objects.select_related("user").get(pk=job_id)
    job.status, job.dry_run, job.started_at, job.message = ImportJob.Status.RUNNING, dry_run, timezone.now(), ""
    job.processed_rows = 0
    job.save(update_fields=["status", "dry_run", "started_at", "message", "processed_rows"])
    lang = job.language or getattr(job.user, "language", "") or None
    with translation.override(lang or translation.get_language()):
        try:
            with cached_lookups():
                counts = Importer(job, dry_run).run()
            job.status = ImportJob.Status.CHECKED if dry_run else ImportJob.Status.DONE
        except (FileError, PermissionDenied) as exc:
            job.status, job.message, counts = ImportJob.Status.FAILED, str(exc), None
        except Exception as exc:  # reported on the job page; the rows of finished chunks stay in
            logger.exception("import %s failed", job.pk)
            job.status, counts = ImportJob.Status.FAILED, None
            job.message = _("The import stopped with an internal error: %(error)s") % {"error": str(exc)[:300]}
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "message", "finished_at"])
    if not dry_run:
        spec = get_spec(job.entity)
        log.record(job.user, AuditEntry.Action.CREATE, job, extra={
            "import": {"entity": spec.key, "file": job.file_name, "mode": job.mode, "status": job.status,
                       "created": job.created_count, "updated": job.updated_count,
                       "skipped": job.skipped_count, "errors": job.error_count}})
    return counts
