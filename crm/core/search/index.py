"""Keeping the index current: after commit, from the entity events and from direct ORM saves;
`reindex`/`unindex` for bulk paths (import, merge); `rebuild` for everything at once."""

import logging
import time

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from ..entities.registry import all_specs, get_spec
from ..events.bus import subscribe
from .backends import backend
from .models import SearchEntry
from .text import entry_fields

log = logging.getLogger(__name__)
BATCH = 2000
COLUMNS = ("content_type_id", "object_id", "title", "key", "abbr", "text", "phones", "grams", "updated_at")
EVENT_ACTIONS = {"created", "updated", "deleted", "restored", "transferred", "purged"}


def searchable(spec) -> bool:
    return bool(spec.search_fields)


def searchable_specs(keys=None):
    specs = [s for s in all_specs() if searchable(s)]
    if keys:
        unknown = set(keys) - {s.key for s in specs}
        if unknown:
            raise LookupError(", ".join(sorted(unknown)))
        specs = [s for s in specs if s.key in keys]
    return specs


def indexed_fields(spec):
    """(text fields, phone fields): masked search fields are kept apart (their rules differ),
    protected fields never reach the index (the registry refuses them as search fields anyway)."""
    names = [n for n in spec.search_fields if n not in spec.protected_fields]
    return [n for n in names if n not in spec.masked_fields], [n for n in names if n in spec.masked_fields]


def _value(obj, name):
    value = getattr(obj, name, None)
    return "" if value is None else str(value)


def row_for(spec, ct_id, obj, texts, phones):
    fields = entry_fields(str(obj), [_value(obj, n) for n in texts], [_value(obj, n) for n in phones])
    updated = getattr(obj, "updated_at", None) or timezone.now()
    return (ct_id, obj.pk, fields["title"], fields["key"], fields["abbr"], fields["text"], fields["phones"],
            fields["grams"], updated)


_lean = {}  # spec key -> the columns a row needs, when str() of a record needs no others


def _lean_columns(spec):
    """Only the indexed columns (and updated_at), if the record's title (str) can be made from
    them without another query; else None (load whole rows)."""
    if spec.key in _lean:
        return _lean[spec.key]
    concrete = {f.name for f in spec.model._meta.concrete_fields}
    texts, phones = indexed_fields(spec)
    names = [n for n in dict.fromkeys([*texts, *phones, "updated_at"]) if n in concrete]
    columns = None
    if all(n in concrete for n in [*texts, *phones]):
        sample = spec.model._base_manager.only(*names).order_by("pk").first()
        if sample is not None:
            queries = []
            with connection.execute_wrapper(lambda execute, sql, params, many, context: queries.append(sql) or execute(sql, params, many, context)):
                str(sample)
            columns = names if not queries else None
            _lean[spec.key] = columns
    return columns


def _records(spec, pks=None, lean=False):
    """Every record of the entity, binned ones included: the scope predicate of each query hides
    those in the recycle bin, so deleting and restoring never has to touch the index."""
    qs = spec.model._base_manager.all()
    columns = _lean_columns(spec) if lean else None
    if columns:
        qs = qs.only(*columns)
    if pks is not None:
        qs = qs.filter(pk__in=pks)
    return qs.order_by("pk")


def reindex(model, pks):
    """Make the index reflect these records as the database holds them now: new and changed ones
    are written, vanished ones dropped. For bulk paths (import, merge) after their commit."""
    spec = get_spec(model)
    if not searchable(spec):
        return 0
    pks = list(dict.fromkeys(int(pk) for pk in pks))
    if not pks:
        return 0
    ct_id = ContentType.objects.get_for_model(spec.model).pk
    texts, phones = indexed_fields(spec)
    written = 0
    for start in range(0, len(pks), BATCH):
        part = pks[start:start + BATCH]
        rows = [row_for(spec, ct_id, obj, texts, phones) for obj in _records(spec, part)]
        found = {r[1] for r in rows}
        with transaction.atomic():
            SearchEntry.objects.filter(content_type_id=ct_id, object_id__in=[pk for pk in part if pk not in found]).delete()
            SearchEntry.objects.bulk_create(
                [SearchEntry(**dict(zip(COLUMNS, r))) for r in rows],
                update_conflicts=True, unique_fields=["content_type", "object_id"],
                update_fields=["title", "key", "abbr", "text", "phones", "grams", "updated_at"],
            )
        written += len(rows)
    return written


def index_new(model, objs):
    """Entries for records created in the current transaction, made from the objects in memory
    (what `reindex` would read back): bulk creates (the import) write them with their records
    instead of reading every record again after commit. Returns the number written."""
    spec = get_spec(model)
    if not searchable(spec) or not objs:
        return 0
    ct_id = ContentType.objects.get_for_model(spec.model).pk
    texts, phones = indexed_fields(spec)
    backend().write([row_for(spec, ct_id, obj, texts, phones) for obj in objs], COLUMNS)
    return len(objs)


def unindex(model, pks):
    """Drop these records from the index (e.g. records a merge deleted for good)."""
    ct_id = ContentType.objects.get_for_model(model, for_concrete_model=True).pk
    deleted, _n = SearchEntry.objects.filter(content_type_id=ct_id, object_id__in=list(pks)).delete()
    return deleted


def rebuild(keys=None, stream=None, workers=1):
    """Rebuild the index of all searchable entities (or those in `keys`) in bulk: the rows are
    streamed from the entity tables and written with COPY (PostgreSQL); for a whole rebuild the
    vendor indexes are dropped first and built once at the end. Returns {key: rows, "seconds": s}.

    One transaction by default, so searches see the old index until the new one is complete.
    With `workers` > 1 (PostgreSQL, outside a transaction) the entities are cut into ranges of ids
    written by that many processes, each committing its own ranges: several times faster on a
    machine with cores to spare, but searches see a partial index meanwhile (for a new database,
    a restore, or the benchmark's load)."""
    specs = searchable_specs(keys)
    be = backend()
    started = time.perf_counter()
    if workers > 1 and be.vendor == "postgresql" and not connection.in_atomic_block:
        counts = _rebuild_parallel(specs, be, not keys, workers, stream)
    else:
        counts = _rebuild_serial(specs, be, not keys, stream)
    counts["seconds"] = round(time.perf_counter() - started, 1)
    return counts


def _rebuild_serial(specs, be, whole, stream):
    counts = {}
    with transaction.atomic():
        with connection.cursor() as cur:
            if whole:
                SearchEntry.objects.all().delete() if be.vendor == "generic" else cur.execute(_truncate(be))
                be.drop_indexes(cur)
            for spec in specs:
                ct_id = ContentType.objects.get_for_model(spec.model).pk
                if not whole:
                    SearchEntry.objects.filter(content_type_id=ct_id).delete()
                counts[spec.key] = _write_all(be, spec, ct_id, stream)
            if whole:
                be.create_indexes(cur)
            be.analyze(cur)
    return counts


PART = 250_000  # ids per range of a parallel rebuild


def _rebuild_parallel(specs, be, whole, workers, stream):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from django.db import connections
    from django.db.models import Max, Min

    counts, parts = {}, []
    with transaction.atomic():
        with connection.cursor() as cur:
            if whole:
                cur.execute(_truncate(be))
                be.drop_indexes(cur)
            for spec in specs:
                ct_id = ContentType.objects.get_for_model(spec.model).pk
                if not whole:
                    SearchEntry.objects.filter(content_type_id=ct_id).delete()
                counts[spec.key] = 0
                span = spec.model._base_manager.aggregate(lo=Min("pk"), hi=Max("pk"))
                if span["lo"] is not None:
                    parts += [(spec.key, ct_id, lo, lo + PART) for lo in range(span["lo"], span["hi"] + 1, PART)]
    connections.close_all()  # a forked process must open its own connection, never share this one
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        for key, written in pool.map(_write_part, parts):
            counts[key] += written
            if stream:
                stream.write(f"  {key}: {counts[key]:,} rows\n")
    if whole:
        be.create_indexes_in_parallel(workers)
    with connection.cursor() as cur:
        be.analyze(cur)
    return counts


def _write_part(part):
    """In a worker process: index the records of one entity whose ids are in [lo, hi)."""
    key, ct_id, lo, hi = part
    spec = get_spec(key)
    texts, phones = indexed_fields(spec)
    be = backend()
    written, batch = 0, []
    with transaction.atomic():
        for obj in _records(spec, lean=True).filter(pk__gte=lo, pk__lt=hi).iterator(chunk_size=BATCH):
            batch.append(row_for(spec, ct_id, obj, texts, phones))
            if len(batch) >= BATCH * 5:
                be.write(batch, COLUMNS)
                written += len(batch)
                batch = []
        if batch:
            be.write(batch, COLUMNS)
            written += len(batch)
    return key, written


def _truncate(be):
    if be.vendor == "sqlite":
        return "DELETE FROM search_searchentry"
    # Deferred foreign-key checks of rows written earlier in the transaction would refuse TRUNCATE.
    return "SET CONSTRAINTS ALL IMMEDIATE; TRUNCATE search_searchentry"


def _write_all(be, spec, ct_id, stream):
    texts, phones = indexed_fields(spec)
    total = 0
    t0 = time.perf_counter()
    batch = []
    for obj in _records(spec, lean=True).iterator(chunk_size=BATCH):
        batch.append(row_for(spec, ct_id, obj, texts, phones))
        if len(batch) >= BATCH * 5:
            be.write(batch, COLUMNS)
            total += len(batch)
            batch = []
            if stream and total % 100_000 < BATCH * 5:
                stream.write(f"  {spec.key}: {total:,} rows ({total / (time.perf_counter() - t0):,.0f}/s)\n")
    if batch:
        be.write(batch, COLUMNS)
        total += len(batch)
    return total


# --- after commit ------------------------------------------------------------------------------

def _pending():
    """Per connection: {model: set(pks)} to reindex when the current transaction commits."""
    pending = getattr(connection, "_search_pending", None)
    if pending is None:
        pending = connection._search_pending = {}
    return pending


def schedule(model, pk):
    """Reindex this record once the current transaction has committed (at once without one).
    Several writes to the same records in one transaction cost one reindex."""
    _pending().setdefault(model, set()).add(pk)
    # One callback per write; the first to run takes all that is pending, the others find nothing.
    # (A rolled-back write may leave its pks pending: reindexing them later is harmless.)
    transaction.on_commit(_flush)


def _covered():
    """Per connection: ids of events whose record a pending or done reindex already covers."""
    covered = getattr(connection, "_search_covered", None)
    if covered is None:
        covered = connection._search_covered = set()
    return covered


def _flush():
    pending = _pending()
    connection._search_pending = {}
    for model, pks in pending.items():
        try:
            reindex(model, pks)
        except Exception:  # a failing index must not break the write that triggered it; `search_rebuild` repairs
            log.exception("search index: reindex of %s %s failed", model.__name__, sorted(pks)[:10])
            _covered().clear()  # let the events' own dispatch try again


def _searchable_model(event):
    action = event.name.rsplit(".", 1)[-1]
    if action not in EVENT_ACTIONS or event.content_type_id is None or event.object_id is None:
        return None
    model = ContentType.objects.get_for_id(event.content_type_id).model_class()
    spec = getattr(model, "entity_spec", None)
    return spec.model if spec is not None and searchable(spec) else None


def _on_event_written(sender, instance, created=False, **kwargs):
    """An entity event is being written in the writer's transaction (the outbox row): note its
    record, so that one reindex after commit covers every event of the transaction (an import of
    thousands of rows costs a few batched queries, not three per row)."""
    model = _searchable_model(instance) if created else None
    if model is not None:
        schedule(model, instance.object_id)
        _covered().add(instance.pk)


def _on_event(event):
    """The event's after-commit dispatch: nothing to do when the transaction's reindex covered it."""
    covered = _covered()
    if event.pk in covered:
        covered.discard(event.pk)
        return
    model = _searchable_model(event)
    if model is not None:
        schedule(model, event.object_id)


def _on_save(sender, instance, **kwargs):
    spec = getattr(sender, "entity_spec", None)
    if spec is not None and spec.model is sender and searchable(spec) and instance.pk is not None:
        schedule(sender, instance.pk)


def connect():
    """Called from SearchConfig.ready(): every registered entity with search fields is indexed."""
    from ..events.models import EventRecord

    subscribe("*")(_on_event)
    post_save.connect(_on_event_written, sender=EventRecord, dispatch_uid="search-index-event")
    # Direct ORM writes (fixtures, scripts, the demo's records) bypass the services and so emit
    # no event; their saves and deletes are caught here, also only after commit. Bulk writes
    # (bulk_create, QuerySet.update) call reindex() or rebuild() themselves.
    # (One receiver for all models: entities registered after this app's ready() count too.)
    post_save.connect(_on_save, dispatch_uid="search-index-save")
    post_delete.connect(_on_save, dispatch_uid="search-index-delete")


def ensure_current(stream=None):
    """Build the index if it is empty while there are searchable records (e.g. after loading
    data with bulk_create)."""
    if SearchEntry.objects.exists():
        return None
    return rebuild(stream=stream)


__all__ = ["reindex", "index_new", "unindex", "rebuild", "schedule", "connect", "ensure_current", "searchable_specs"]
