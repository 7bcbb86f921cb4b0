"""Inserting many new records at once (INT-4 import). On PostgreSQL the ids come from the
table's sequence in one query and the rows go in with COPY (psycopg 3): Django's `bulk_create`
spends most of its time turning every value into SQL parameters (issue #3: ~0.4 ms a customer).
Elsewhere it is `bulk_create`. Either way the objects get their ids, and nothing else about them
changes: the same columns, the same values, the same constraints and indexes in the database."""

from django.db import connection, models

# Fields whose validated Python value is what the driver writes (their get_db_prep_save only
# checks the type again); any other field (dates, decimals, JSON …) goes through its
# get_db_prep_save, as in bulk_create.
_PLAIN_EXACT = {models.CharField, models.TextField, models.EmailField, models.URLField, models.SlugField,
                models.IntegerField, models.BigIntegerField, models.PositiveIntegerField, models.SmallIntegerField,
                models.PositiveSmallIntegerField, models.PositiveBigIntegerField, models.AutoField,
                models.BigAutoField, models.BooleanField, models.ForeignKey}


def _overrides_prep(field):
    """True when the field's class (or a parent we do not know) changes values on their way to the
    database: then its own get_db_prep_save is called for each value."""
    for klass in type(field).__mro__:
        if klass in _PLAIN_EXACT:
            return False
        if any(name in vars(klass) for name in ("get_prep_value", "get_db_prep_value", "get_db_prep_save")):
            return True
    return True


_writers_of = {}


def _writers(model):
    """[(column, attname, prep or None, pre_save or None)] of the model's concrete fields."""
    if model in _writers_of:
        return _writers_of[model]
    out = []
    for f in model._meta.concrete_fields:
        prep = None if not _overrides_prep(f) else f.get_db_prep_save
        pre = f.pre_save if (getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)) else None
        out.append((f.column, f.attname, prep, pre))
    _writers_of[model] = out
    return out


def insert(model, objs):
    """Insert unsaved instances of `model` (all columns, ids included) and set their ids."""
    if not objs:
        return objs
    if connection.vendor != "postgresql":
        return model._base_manager.bulk_create(objs, batch_size=500)
    meta = model._meta
    pk = meta.pk
    need = [o for o in objs if o.pk is None]
    if need:
        if not isinstance(pk, models.AutoField):  # pragma: no cover - every entity has an auto id
            return model._base_manager.bulk_create(objs, batch_size=500)
        with connection.cursor() as cur:
            cur.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                        [meta.db_table, pk.column, len(need)])
            ids = sorted(r[0] for r in cur.fetchall())
        for obj, pk_value in zip(need, ids):
            obj.pk = pk_value
    writers = _writers(model)
    table = connection.ops.quote_name(meta.db_table)
    cols = ", ".join(connection.ops.quote_name(c) for c, *_ in writers)
    with connection.cursor() as cur, connection.wrap_database_errors:  # psycopg's errors as Django's
        with cur.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
            for obj in objs:
                row = []
                for _col, attname, prep, pre in writers:
                    value = pre(obj, True) if pre else getattr(obj, attname)
                    row.append(prep(value, connection) if prep else value)
                copy.write_row(row)
    for obj in objs:
        obj._state.adding, obj._state.db = False, connection.alias
    return objs
