"""Commit semantics for tests that run inside the test case's transaction (pytest-django's `db`).

Such a test never commits, so `transaction.on_commit` callbacks (event subscribers such as the
search index) would never run. `commit_hooks_as_if_committed()` runs them when a real database
would have committed: when the outermost atomic block that is not the test case's own exits
without error, or at once when registered outside any such block. A rolled-back block's callbacks
are dropped by Django as usual, so "nothing happens before commit" stays testable:

    with transaction.atomic():
        services.create(...)
        assert not indexed          # not committed yet
    assert indexed                  # committed
"""

from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.backends.base.base import BaseDatabaseWrapper


def _only_test_blocks(conn):
    return conn.in_atomic_block and all(getattr(b, "_from_testcase", False) for b in conn.atomic_blocks)


def _run_pending(conn):
    while conn.run_on_commit and _only_test_blocks(conn) and not conn.needs_rollback:
        _sids, func, _robust = conn.run_on_commit.pop(0)
        func()


@contextmanager
def commit_hooks_as_if_committed():
    original_exit = transaction.Atomic.__exit__
    original_on_commit = BaseDatabaseWrapper.on_commit

    def __exit__(self, exc_type, exc_value, traceback):
        result = original_exit(self, exc_type, exc_value, traceback)
        if exc_type is None:
            _run_pending(transaction.get_connection(self.using or DEFAULT_DB_ALIAS))
        return result

    def on_commit(self, func, robust=False):
        original_on_commit(self, func, robust)
        _run_pending(self)

    transaction.Atomic.__exit__ = __exit__
    BaseDatabaseWrapper.on_commit = on_commit
    try:
        yield
    finally:
        transaction.Atomic.__exit__ = original_exit
        BaseDatabaseWrapper.on_commit = original_on_commit
