"""The benchmark's own database: resolve `--db`, refuse anything but a dedicated database, and
recreate it empty before a load."""

from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.conf import settings


class UnsafeDatabase(Exception):
    pass


def default_url(scale_name):
    return f"sqlite:///{Path(settings.VAR_DIR) / f'bench-{scale_name}.sqlite3'}"


def describe(url):
    """The URL without a password, for reports."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


def _is_sqlite(cfg):
    return cfg["ENGINE"].endswith("sqlite3")


def check_dedicated(url, developer_urls=()):
    """A benchmark database is recreated on every load: it must be one whose name says so
    ("bench" in the database or file name), and never the developer's database (var/crm.sqlite3
    or any of `developer_urls`, e.g. the DATABASE_URL the command was started with)."""
    cfg = dj_database_url.parse(url)
    name = str(cfg["NAME"] or "")
    for other in [f"sqlite:///{Path(settings.VAR_DIR) / 'crm.sqlite3'}", *developer_urls]:
        dev = dj_database_url.parse(other)
        if _is_sqlite(cfg) and _is_sqlite(dev):
            same = Path(name).resolve() == Path(str(dev["NAME"])).resolve()
        else:
            same = all(cfg.get(k) == dev.get(k) for k in ("ENGINE", "NAME", "HOST", "PORT"))
        if same:
            raise UnsafeDatabase(f"{describe(url)} is the developer's database; give the benchmark its own")
    basename = Path(name).name if _is_sqlite(cfg) else name
    if "bench" not in basename:
        raise UnsafeDatabase(f"{describe(url)}: the benchmark recreates its database, so its name must contain "
                             f"'bench' (e.g. crm_bench_large or var/bench-small.sqlite3)")
    if cfg["ENGINE"] not in ("django.db.backends.sqlite3", "django.db.backends.postgresql"):
        raise UnsafeDatabase(f"{describe(url)}: only PostgreSQL and SQLite are supported")
    return cfg


def recreate(url):
    """Drop and create the (dedicated) database, empty."""
    cfg = check_dedicated(url)
    if _is_sqlite(cfg):
        path = Path(cfg["NAME"])
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm", "-journal"):
            p = Path(str(path) + suffix)
            if p.exists():
                p.unlink()
        return
    import psycopg
    from psycopg import sql

    conn = psycopg.connect(dbname="postgres", user=cfg.get("USER") or None, password=cfg.get("PASSWORD") or None,
                           host=cfg.get("HOST") or None, port=cfg.get("PORT") or None, autocommit=True)
    with conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(cfg["NAME"])))
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(sql.Identifier(cfg["NAME"])))


def exists(url):
    cfg = dj_database_url.parse(url)
    if _is_sqlite(cfg):
        return Path(cfg["NAME"]).exists()
    import psycopg

    conn = psycopg.connect(dbname="postgres", user=cfg.get("USER") or None, password=cfg.get("PASSWORD") or None,
                           host=cfg.get("HOST") or None, port=cfg.get("PORT") or None, autocommit=True)
    with conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]]).fetchone() is not None
