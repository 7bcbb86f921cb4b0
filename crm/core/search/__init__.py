"""The global search index (DESIGN.md mechanism 8, UX-1): one row per record of every registered
entity with search fields, kept current after commit, rebuildable with `crm search_rebuild`.

    reindex(model, pks)   make the index reflect these records as they are in the database now
    index_new(model, objs)  entries for records just created in this transaction, from memory
    unindex(model, pks)   drop their rows (e.g. after a merge deleted the losers)
    rebuild(keys=None)    rebuild the whole index (or some entities) in bulk (workers=N: in N processes)

The queries are in `query.py`; what is vendor-specific (PostgreSQL trigram and array GIN indexes,
SQLite FTS5 tables) is in `backends.py` and nowhere else.
"""


def reindex(model, pks):
    from .index import reindex as _reindex

    return _reindex(model, pks)


def index_new(model, objs):
    from .index import index_new as _index_new

    return _index_new(model, objs)


def unindex(model, pks):
    from .index import unindex as _unindex

    return _unindex(model, pks)


def rebuild(keys=None, stream=None, workers=1):
    from .index import rebuild as _rebuild

    return _rebuild(keys, stream=stream, workers=workers)
