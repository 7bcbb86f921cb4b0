"""The PostgreSQL-only part of custom fields, behind one seam.

On PostgreSQL every entity table gets a GIN index on `custom` (jsonb_path_ops), created after
`migrate`, and exact / multi-choice filters are written as containment (`custom @> {...}`), which
that one index serves for every custom field. Other databases (SQLite) use JSON key lookups.
Range filters (numbers, dates) and sorts by a custom field use no index on either database: they
run over the rows the user's scope and other filters leave (see docs/architecture.md).
"""

from django.db import connection, connections
from django.db.models import Q


def is_postgres():
    return connection.vendor == "postgresql"


def create_indexes(sender=None, using="default", **kwargs):
    conn = connections[using]
    if conn.vendor != "postgresql":
        return
    from ..entities.registry import all_specs

    qn = conn.ops.quote_name
    with conn.cursor() as cursor:
        for spec in all_specs():
            model = spec.model
            if not hasattr(model, "custom") or not model._meta.managed:
                continue
            table = model._meta.db_table
            if table not in conn.introspection.table_names(cursor):
                continue
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {qn(index_name(table))} ON {qn(table)} "
                           f"USING GIN ({qn('custom')} jsonb_path_ops)")


def index_name(table):
    return f"{table[:45]}_custom_gin"


def exact_q(key, value):
    if is_postgres():
        return Q(custom__contains={key: value})
    return Q(**{f"custom__{key}": value})


def any_of_q(key, codes):
    """Records whose multi-choice value holds at least one of `codes`."""
    q = Q()
    for code in codes:
        if is_postgres():
            q |= Q(custom__contains={key: [code]})
        else:
            q |= Q(**{f"custom__{key}__icontains": f'"{code}"'})
    return q
