"""The vendor seam: everything in the search index that only one database has.

* PostgreSQL: pg_trgm GIN indexes on `text` and `phones` (substring LIKE of 3+ characters) and a
  GIN index on the array of `grams` (2-character terms and phone tails); bulk writes with COPY.
* SQLite: two FTS5 tables kept in step with the entry table by triggers: `search_fts` (trigram
  tokenizer: substrings of 3+ characters of `text` and `phones`) and `search_fts_grams`
  (unicode61: the whole tokens of `grams`).
* Anything else: plain LIKE over the entry table (correct, not indexed).

`backend()` returns the one for the default connection; the rest of the app asks it for Q objects
over SearchEntry and never writes vendor SQL itself.
"""

from contextlib import contextmanager, nullcontext

from django.db import connection, transaction
from django.db.models import BooleanField, F, Func, Q, Value
from django.db.models.expressions import RawSQL

TABLE = "search_searchentry"


def _phrase(text):
    """An FTS5 string literal: the text between double quotes, quotes doubled; nothing inside it
    is an operator (* ^ : ( ) AND OR NOT NEAR stay plain characters)."""
    return '"' + text.replace('"', '""') + '"'


class GenericBackend:
    vendor = "generic"

    def install(self, cursor):
        pass

    def uninstall(self, cursor):
        pass

    def text_q(self, fragment):
        return Q(text__contains=fragment)

    def phones_q(self, fragment):
        return Q(phones__contains=fragment)

    def gram_q(self, token):
        return Q(grams__contains=f" {token} ")

    def drop_indexes(self, cursor):
        pass

    def create_indexes(self, cursor):
        pass

    def create_indexes_in_parallel(self, workers):
        with connection.cursor() as cursor:
            self.create_indexes(cursor)

    def search_session(self):
        """Around the queries of one search (settings that only last for them)."""
        return nullcontext()

    def analyze(self, cursor):
        pass

    def write(self, rows, columns):
        """Insert rows (tuples in the order of `columns`) into the entry table."""
        cols = ", ".join(columns)
        marks = ", ".join(["%s"] * len(columns))
        with connection.cursor() as cur:
            cur.executemany(f"INSERT INTO {TABLE} ({cols}) VALUES ({marks})", rows)


class GramsContain(Func):
    """PostgreSQL: string_to_array(grams, ' ') @> ARRAY[token] — the expression of the GIN index."""

    output_field = BooleanField()

    def __init__(self, token):
        super().__init__(F("grams"), Value(token))

    def as_sql(self, compiler, connection, **extra):
        column, p1 = compiler.compile(self.source_expressions[0])
        token, p2 = compiler.compile(self.source_expressions[1])
        return f"string_to_array({column}, ' ') @> ARRAY[{token}]::text[]", (*p1, *p2)


class PostgresBackend(GenericBackend):
    vendor = "postgresql"
    INDEXES = {
        "search_text_trgm": f"CREATE INDEX IF NOT EXISTS search_text_trgm ON {TABLE} USING gin (text gin_trgm_ops)",
        "search_phones_trgm": f"CREATE INDEX IF NOT EXISTS search_phones_trgm ON {TABLE} USING gin (phones gin_trgm_ops)",
        "search_grams_gin": f"CREATE INDEX IF NOT EXISTS search_grams_gin ON {TABLE} USING gin (string_to_array(grams, ' '))",
    }

    def install(self, cursor):
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        self.create_indexes(cursor)

    def uninstall(self, cursor):
        self.drop_indexes(cursor)

    def text_q(self, fragment):
        return Q(text__contains=fragment)  # LIKE '%…%' (escaped): the trigram index

    @contextmanager
    def search_session(self):
        """No parallel workers: a search reads a few hundred index entries, and starting a
        worker costs more than that (15-30 ms measured at large)."""
        with transaction.atomic():
            with connection.cursor() as cur:
                cur.execute("SET LOCAL max_parallel_workers_per_gather = 0")
            yield

    def gram_q(self, token):
        return Q(GramsContain(token))

    def drop_indexes(self, cursor):
        for name in self.INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")

    def create_indexes(self, cursor):
        # Deferred foreign-key checks of rows just written would refuse CREATE INDEX in this transaction.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for sql in self.INDEXES.values():
            cursor.execute(sql)

    def create_indexes_in_parallel(self, workers):
        """Outside a transaction: build the GIN indexes side by side, one connection each
        (PostgreSQL 15 builds a GIN index in one process; at a million customers each takes
        minutes, issue #3)."""
        from concurrent.futures import ThreadPoolExecutor

        from django.db import connections

        def build(sql):
            try:
                with connection.cursor() as cur:  # this thread's own connection
                    cur.execute("SET maintenance_work_mem = '1GB'")
                    cur.execute(sql)
            finally:
                connections.close_all()

        with ThreadPoolExecutor(max(1, min(workers, len(self.INDEXES)))) as pool:
            list(pool.map(build, self.INDEXES.values()))

    def analyze(self, cursor):
        cursor.execute(f"ANALYZE {TABLE}")

    def write(self, rows, columns):
        connection.ensure_connection()
        cols = ", ".join(columns)
        with connection.connection.cursor() as cur:
            with cur.copy(f"COPY {TABLE} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)


class SqliteBackend(GenericBackend):
    vendor = "sqlite"
    TABLES = [
        "CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(text, phones, "
        f"content='{TABLE}', content_rowid='id', tokenize='trigram')",
        "CREATE VIRTUAL TABLE IF NOT EXISTS search_fts_grams USING fts5(grams, "
        f"content='{TABLE}', content_rowid='id', tokenize='unicode61 remove_diacritics 0')",
    ]
    _INSERT = ("INSERT INTO search_fts(rowid, text, phones) VALUES (new.id, new.text, new.phones); "
               "INSERT INTO search_fts_grams(rowid, grams) VALUES (new.id, new.grams);")
    _DELETE = ("INSERT INTO search_fts(search_fts, rowid, text, phones) VALUES ('delete', old.id, old.text, old.phones); "
               "INSERT INTO search_fts_grams(search_fts_grams, rowid, grams) VALUES ('delete', old.id, old.grams);")
    TRIGGERS = {
        "search_entry_ai": f"CREATE TRIGGER IF NOT EXISTS search_entry_ai AFTER INSERT ON {TABLE} BEGIN {_INSERT} END",
        "search_entry_ad": f"CREATE TRIGGER IF NOT EXISTS search_entry_ad AFTER DELETE ON {TABLE} BEGIN {_DELETE} END",
        "search_entry_au": f"CREATE TRIGGER IF NOT EXISTS search_entry_au AFTER UPDATE ON {TABLE} BEGIN {_DELETE} {_INSERT} END",
    }

    def install(self, cursor):
        for sql in self.TABLES:
            cursor.execute(sql)
        self.create_indexes(cursor)

    def uninstall(self, cursor):
        self.drop_indexes(cursor)
        for name in ("search_fts", "search_fts_grams"):
            cursor.execute(f"DROP TABLE IF EXISTS {name}")

    def _match(self, table, expression):
        return Q(id__in=RawSQL(f"SELECT rowid FROM {table} WHERE {table} MATCH %s", (expression,)))

    def text_q(self, fragment):
        return self._match("search_fts", "text : " + _phrase(fragment))

    def phones_q(self, fragment):
        return self._match("search_fts", "phones : " + _phrase(fragment))

    def gram_q(self, token):
        return self._match("search_fts_grams", _phrase(token))

    def drop_indexes(self, cursor):
        for name in self.TRIGGERS:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")

    def create_indexes(self, cursor):
        """The triggers; after a bulk write without them, the FTS tables are rebuilt from the entries."""
        for sql in self.TRIGGERS.values():
            cursor.execute(sql)
        for name in ("search_fts", "search_fts_grams"):
            cursor.execute(f"INSERT INTO {name}({name}) VALUES ('rebuild')")

    def analyze(self, cursor):
        cursor.execute(f"ANALYZE {TABLE}")


def backend_for(vendor):
    return {"postgresql": PostgresBackend, "sqlite": SqliteBackend}.get(vendor, GenericBackend)()


def backend():
    return backend_for(connection.vendor)
