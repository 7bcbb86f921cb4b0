"""The data generator: the demo's department tree and users, more sales reps, and customers with
their contacts, timeline notes, audit entries and tags, at a given scale.

Rows are consistent (contacts belong to their customer's owner and department, reporting lines
stay within a customer, parents come before children) and satisfy the models' validation: valid
phones, valid credit codes, mnemonic codes equal to the name's pinyin initials (computed once per
distinct name part, since pypinyin takes ~0.2 ms a name). The vocabulary is crm/demo/data.py's.

Loading: secondary indexes and foreign keys are dropped first and rebuilt after the load, then
ANALYZE. PostgreSQL gets COPY (psycopg 3), SQLite batched executemany. Everything is generated in
chunks of customers from a seed, so a scale always produces the same data.
"""

import os
import random
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone as dt_timezone

from django.contrib.contenttypes.models import ContentType
from django.core.management.color import no_style
from django.db import connection, transaction

from crm.core.audit.models import AuditEntry
from crm.core.entities.duplicates import company_name_key
from crm.core.entities.models import Tag
from crm.core.pinyin import initials
from crm.core.timeline.models import Note
from crm.customers.models import Contact, Customer, CustomerStatus, Level, Source
from crm.demo import data
from crm.demo.management.commands.demo import ROLES as DEMO_ROLES
from crm.demo.management.commands.demo import Command as Demo
from crm.org.models import User
from crm.sales import funnel_summary

from . import activities as activity_data
from . import pool as pool_data
from . import sales as sales_data
from .progress import Progress

CHUNK = 5_000  # customers per chunk (with their contacts, notes, audit entries and tags)
REPS_PER_CUSTOMERS = 5_000  # one generated sales rep per this many customers of a department
SEED = 2026

# Where customers live: sales department of the demo tree -> share of all customers. The
# Shanghai branch (the bench user's subtree: sh, sh1, sh2) holds about 1/6 of the data.
DEPARTMENT_SHARE = {"sh1": 0.083, "sh2": 0.078, "hz1": 0.20725, "gz1": 0.20725, "sz1": 0.20725, "bj1": 0.20725}
MANAGER_SHARE = {"shmgr": 0.005, "east": 0.005}  # managers who own a few customers themselves
DELETED_SHARE = 0.005  # customers (with their contacts) in the recycle bin
PARENT_SHARE = 0.03  # subsidiaries of an earlier customer
TAGGED_SHARE = 0.15

M2M_TAGS = Customer.tags.through
# + leads, opportunities, stage history, activities
MODELS = [Customer, Contact, Note, AuditEntry, M2M_TAGS, *sales_data.MODELS, *activity_data.MODELS]

CUSTOMER_FIELDS = (
    "id", "created_at", "updated_at", "created_by", "updated_by", "version", "owner", "department", "custom",
    "deleted_at", "deleted_by", "code", "name", "name_key", "mnemonic_code", "customer_type", "level", "status",
    "industry", "source", "credit_rating", "credit_limit", "credit_code", "parent", "phone", "finance_phone", "email",
    "website", "country", "province", "city", "district", "address", "postcode", "registered_at", "notes",
    "last_activity_at",  # set by bench/activities.py from the customer's activities
)
CONTACT_FIELDS = (
    "id", "created_at", "updated_at", "created_by", "updated_by", "version", "owner", "department", "custom",
    "deleted_at", "deleted_by", "customer", "name", "gender", "birthday", "dept", "title", "reports_to",
    "is_primary", "mobile", "office_phone", "home_phone", "fax", "email", "wechat", "hobbies", "preferences", "notes",
)
NOTE_FIELDS = ("id", "content_type", "object_id", "body", "author", "created_at")
AUDIT_FIELDS = ("id", "content_type", "object_id", "object_repr", "action", "actor", "at", "changes", "extra", "ip")
TAG_FIELDS = ("id", "customer", "tag")

EN_ROADS = ["Century Avenue", "Nanjing Road", "Zhongshan Road", "Keji Road"]
HOBBIES = ["", "", "高尔夫", "羽毛球", "茶道", "摄影", "跑步"]
LIMITS = ["0", "50000", "100000", "200000", "500000", "1000000"]
RATINGS = ["AAA", "AA", "A", "B", ""]


@dataclass
class Org:
    """The organisation the data is spread over."""

    depts: dict
    users: dict  # demo users by username
    owners: list  # weighted slots of (owner id, department id)
    tag_ids: list
    customer_ct: int
    reps: int = 0


@dataclass
class Plan:
    customers: int
    contacts_per_customer: float = 2.0
    seed: int = SEED
    counts: dict = field(default_factory=dict)


class Vocabulary:
    """Name parts with their pinyin initials cached (mnemonic = initials of the whole name)."""

    def __init__(self):
        self._ini = {}

    def ini(self, part):
        value = self._ini.get(part)
        if value is None:
            value = self._ini[part] = initials(part)
        return value

    def mnemonic(self, parts):
        return "".join(self.ini(p) for p in parts)[:30]

    def check(self, rng, samples=300):
        """The per-part cache must agree with initials() of the whole name; fail loudly if a new
        vocabulary word breaks that (a polyphonic character read differently in context)."""
        for _ in range(samples):
            parts, _industry = chinese_name_parts(rng) if rng.random() < 0.7 else english_name_parts(rng)
            name = "".join(parts)
            if self.mnemonic(parts) != initials(name):
                raise AssertionError(f"mnemonic of {name!r}: parts give {self.mnemonic(parts)!r}, "
                                     f"initials() gives {initials(name)!r}; change the vocabulary")


def chinese_name_parts(rng, city=None):
    """(parts, industry), e.g. (["上海", "瑞", "丰", "科技", "有限公司"], "it")."""
    trade, industry = rng.choice(data.TRADE)
    return [city or rng.choice(data.CITIES)[1], rng.choice(data.BRAND), rng.choice(data.BRAND), trade,
            rng.choice(data.SUFFIX)], industry


def english_name_parts(rng):
    """(parts, industry), e.g. (["Summit", " ", "Walker", " ", "Logistics", " ", "Ltd"], "logistics")."""
    trade, industry = rng.choice(data.EN_TRADE)
    return [rng.choice(data.EN_WORDS), " ", rng.choice(data.EN_LAST), " ", trade, " ", rng.choice(data.EN_SUFFIX)], industry


# --- the organisation --------------------------------------------------------------------------

def build_org(scale_customers, seed=SEED):
    """The demo's department tree, roles and users, plus generated sales reps (one per
    REPS_PER_CUSTOMERS customers of a department, unusable passwords), and the tags."""
    from crm.core.access.models import Role
    demo = Demo()
    depts = demo.make_tree()
    with one_hash_per_password():
        users = demo.make_users(depts)
    sales_role = Role.objects.get(name=DEMO_ROLES["sales"][0])
    rng = random.Random(f"{seed}:reps")
    slots = []
    reps = []
    for dept_key, share in DEPARTMENT_SHARE.items():
        dept = depts[dept_key]
        existing = [u for u in users.values() if u.department_id == dept.pk and u.username not in MANAGER_SHARE]
        n = max(1, round(scale_customers * share / REPS_PER_CUSTOMERS))
        new = [User(username=f"bench_{dept_key}_{i:03d}", name=data.chinese_person(rng) if rng.random() < 0.85
                    else data.english_person(rng), department=dept, position="销售代表", code=f"B{dept_key.upper()}{i:03d}",
                    email=f"bench_{dept_key}_{i:03d}@bench.example.com", mobile=data.mobile(rng), password="!bench")
               for i in range(n)]
        User.objects.bulk_create(new)
        new = list(User.objects.filter(username__startswith=f"bench_{dept_key}_"))
        reps += new
        people = existing + new
        for i in range(round(share * 1000)):
            u = people[i % len(people)]
            slots.append((u.pk, dept.pk))
    sales_role.members.add(*reps)
    for username, share in MANAGER_SHARE.items():
        u = users[username]
        slots += [(u.pk, u.department_id)] * round(share * 1000)
    tag_ids = []
    for name in data.TAGS:
        tag_ids.append(Tag.objects.get_or_create(name=name)[0].pk)
    return Org(depts=depts, users=users, owners=slots, tag_ids=tag_ids,
               customer_ct=ContentType.objects.get_for_model(Customer).pk, reps=len(reps))


@contextmanager
def one_hash_per_password():
    """The demo gives its users one password; hash it once instead of once per user (Argon2 is
    slow on purpose, ~0.1-0.7 s a hash). The benchmark database is throwaway."""
    original = User.set_password
    hashes = {}

    def set_password(user, raw):
        if raw in hashes:
            user.password, user._password = hashes[raw], raw
        else:
            original(user, raw)
            hashes[raw] = user.password

    User.set_password = set_password
    try:
        yield
    finally:
        User.set_password = original


# --- rows ----------------------------------------------------------------------------------------

class ChunkWriter:
    """Generates one chunk of customers and everything that hangs off them, as tuples in the
    column order of CUSTOMER_FIELDS, CONTACT_FIELDS, ..."""

    def __init__(self, org, vocab, now, seed=SEED):
        self.org, self.vocab, self.now, self.seed = org, vocab, now, seed
        self.span = int(timedelta(days=3 * 365).total_seconds())

    def chunk(self, index, first_customer, n, next_ids):
        rng = random.Random(f"{self.seed}:chunk:{index}")
        org, vocab, now = self.org, self.vocab, self.now
        customers, contacts, notes, audits, tags = [], [], [], [], []
        contact_id, note_id, audit_id, tag_row = next_ids["contacts"], next_ids["notes"], next_ids["audit"], next_ids["tags"]
        per = contact_counts(rng, n)
        for k in range(n):
            cid = first_customer + k
            owner, dept = rng.choice(org.owners)
            created = now - timedelta(seconds=rng.randrange(self.span))
            updated = created + timedelta(seconds=rng.randrange(max(int((now - created).total_seconds()), 1)))
            deleted = updated + timedelta(seconds=rng.randrange(60, 86400)) if rng.random() < DELETED_SHARE else None
            if deleted and deleted > now:
                deleted = now
            english = rng.random() < 0.2
            province, city, districts, postcode, area = rng.choice(data.CITIES[:4] if english else data.CITIES)
            district = rng.choice(districts)
            if english:
                parts, industry = english_name_parts(rng)
                slug = (parts[0] + parts[2]).lower().replace(" ", "").replace("ü", "ue")
                phone = data.us_phone(rng) if rng.random() < 0.5 else data.valid_landline(rng, area)
                address = f"{rng.randrange(1, 999)} {rng.choice(EN_ROADS)}"
                email, website, credit_code = f"info@{slug}.example.com", f"https://www.{slug}.example.com", ""
            else:
                parts, industry = chinese_name_parts(rng, city)
                phone = data.valid_landline(rng, area)
                address = f"{city}{district}{rng.choice(data.ROADS)}{rng.randrange(1, 2000)}号{rng.randrange(1, 30)}楼"
                email, website, credit_code = "", "", data.credit_code(rng)
            name = "".join(parts)
            parent = None
            if cid > first_customer and rng.random() < PARENT_SHARE:
                parent = rng.randrange(max(first_customer, cid - 2000), cid)
            customers.append((
                cid, created, updated, owner, owner, 1, owner, dept, "{}", deleted, owner if deleted else None,
                f"C{cid:07d}", name, company_name_key(name), vocab.mnemonic(parts),
                "dealer" if rng.random() < 0.1 else "company",
                rng.choice(LEVELS), rng.choice(STATUSES), industry, rng.choice(SOURCES), rng.choice(RATINGS),
                rng.choice(LIMITS), credit_code, parent, phone,
                data.valid_landline(rng, area) if not english and rng.random() < 0.3 else "",
                email, website, "中国", province, city, district, address, postcode + f"{rng.randrange(1000):03d}",
                created, "", None,
            ))
            primary = contact_id
            for i in range(per[k]):
                person = data.english_person(rng) if english else data.chinese_person(rng)
                contacts.append((
                    contact_id, created, updated, owner, owner, 1, owner, dept, "{}", deleted, owner if deleted else None,
                    cid, person, rng.choice("mf"),
                    date(rng.randrange(1965, 1998), rng.randrange(1, 13), rng.randrange(1, 29)) if rng.random() < 0.6 else None,
                    "" if english else rng.choice(data.DEPTS), rng.choice(data.EN_TITLES if english else data.TITLES),
                    None if i == 0 else primary, i == 0, data.mobile(rng), phone if rng.random() < 0.5 else "", "", "",
                    f"contact{cid}.{i}@{'example.com' if english else 'example.cn'}", "",
                    "" if english else rng.choice(HOBBIES), "", "",
                ))
                contact_id += 1
            for _ in range(rng.randrange(3)):
                at = created + (updated - created) * rng.random()
                notes.append((note_id, org.customer_ct, cid, rng.choice(data.NOTE_TEXTS), owner, at))
                note_id += 1
            audits.append((audit_id, org.customer_ct, cid, name[:200], "create", owner, created, "{}", "{}", None))
            audit_id += 1
            if rng.random() < TAGGED_SHARE:
                tags.append((tag_row, cid, rng.choice(org.tag_ids)))
                tag_row += 1
        next_ids.update(contacts=contact_id, notes=note_id, audit=audit_id, tags=tag_row)
        return {Customer: customers, Contact: contacts, Note: notes, AuditEntry: audits, M2M_TAGS: tags}


LEVELS = list(Level.values)
STATUSES = list(CustomerStatus.values)
SOURCES = list(Source.values)


def contact_counts(rng, n, mean=2):
    """1-3 contacts per customer, exactly `mean` on average over the chunk."""
    per = [rng.randrange(1, 4) for _ in range(n)]
    diff = mean * n - sum(per)
    while diff:
        i = rng.randrange(n)
        if diff > 0 and per[i] < 3:
            per[i] += 1
            diff -= 1
        elif diff < 0 and per[i] > 1:
            per[i] -= 1
            diff += 1
    return per


# --- loaders -------------------------------------------------------------------------------------

def columns_of(model, generated):
    """(columns, fill): the generated fields' columns, then every other concrete column with its
    default (so a field added later does not break the generator)."""
    by_name = {f.name: f for f in model._meta.concrete_fields}
    cols = [by_name[n].column for n in generated]
    fill = []
    for f in model._meta.concrete_fields:
        if f.name not in generated:
            cols.append(f.column)
            fill.append(f.get_db_prep_save(f.get_default(), connection))
    return cols, tuple(fill)


class Loader:
    def __init__(self, progress_stream=None):
        self.stream = progress_stream or sys.stderr
        self.raw = None

    def open(self):
        connection.ensure_connection()
        self.raw = connection.connection

    def tables(self):
        return [m._meta.db_table for m in MODELS]


class PostgresLoader(Loader):
    """COPY into the tables, with secondary indexes and foreign keys rebuilt afterwards."""

    def open(self):
        super().open()
        with connection.cursor() as cur:
            cur.execute("SET synchronous_commit = off")
            cur.execute("SET maintenance_work_mem = '1GB'")

    def defer_indexes(self):
        tables = self.tables()
        with connection.cursor() as cur:
            # Run the deferred checks of rows written earlier in this transaction (a test's), or
            # PostgreSQL refuses to alter the tables they touch.
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cur.execute("""
                SELECT i.relname, pg_get_indexdef(ix.indexrelid)
                FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class t ON t.oid = ix.indrelid
                WHERE t.relname = ANY(%s) AND NOT ix.indisprimary
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ix.indexrelid)
                ORDER BY t.relname, i.relname""", [tables])
            indexes = cur.fetchall()
            cur.execute("""
                SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), c.contype
                FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
                WHERE t.relname = ANY(%s) AND c.contype IN ('f', 'u')
                ORDER BY c.contype, t.relname, c.conname""", [tables])
            constraints = cur.fetchall()
            for table, name, _definition, _type in constraints:
                cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            for name, _definition in indexes:
                cur.execute(f'DROP INDEX "{name}"')
            # The product's own triggers (the funnel's summary) would add up every COPY; the load
            # rebuilds what they keep once at the end instead (`load`).
            for table in tables:
                cur.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
        return {"indexes": indexes, "constraints": constraints}

    def write(self, model, columns, rows, fill):
        cols = ", ".join(f'"{c}"' for c in columns)
        with self.raw.cursor() as cur:
            with cur.copy(f'COPY "{model._meta.db_table}" ({cols}) FROM STDIN') as copy:
                write = copy.write_row
                if fill:
                    for r in rows:
                        write(r + fill)
                else:
                    for r in rows:
                        write(r)

    def restore_indexes(self, state, progress):
        # Unique constraints and indexes first (foreign keys to the m2m table need none).
        with connection.cursor() as cur:
            for name, definition in state["indexes"]:
                cur.execute(definition)
                progress.add(1)
            for table, name, definition, _type in sorted(state["constraints"], key=lambda c: c[3] != "u"):
                cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
                progress.add(1)
            for table in self.tables():
                cur.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER USER')

    def analyze(self):
        # VACUUM too: a production database's autovacuum keeps the visibility map that index-only
        # scans need; a freshly COPYed table has none (and CI servers may run without autovacuum).
        with connection.cursor() as cur:
            for table in self.tables() + ["org_user", "org_department", "core_role", "core_rolegrant"]:
                cur.execute(f'VACUUM (ANALYZE) "{table}"' if not connection.in_atomic_block else f'ANALYZE "{table}"')


class SqliteLoader(Loader):
    """Batched executemany with the indexes rebuilt afterwards; foreign keys checked at the end."""

    def open(self):
        super().open()
        if not connection.in_atomic_block:  # (inside a test's transaction the setting is fixed)
            with connection.cursor() as cur:
                cur.execute("PRAGMA synchronous = OFF")

    def defer_indexes(self):
        tables = self.tables()
        with connection.cursor() as cur:
            marks = ", ".join(["%s"] * len(tables))
            cur.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                        f"AND tbl_name IN ({marks}) ORDER BY tbl_name, name", tables)
            indexes = cur.fetchall()
            for name, _sql in indexes:
                cur.execute(f'DROP INDEX "{name}"')
        return {"indexes": indexes, "constraints": []}

    def write(self, model, columns, rows, fill):
        marks = ", ".join(["?"] * len(columns))
        cols = ", ".join(f'"{c}"' for c in columns)
        adapt = connection.ops.adapt_datetimefield_value

        def prepared():
            for r in rows:
                yield tuple(adapt(v) if isinstance(v, datetime) else v.isoformat() if isinstance(v, date) else v
                            for v in r) + fill

        cur = self.raw.cursor()
        try:
            cur.executemany(f'INSERT INTO "{model._meta.db_table}" ({cols}) VALUES ({marks})', prepared())
        finally:
            cur.close()

    def restore_indexes(self, state, progress):
        with connection.cursor() as cur:
            for _name, sql in state["indexes"]:
                cur.execute(sql)
                progress.add(1)
            for table in self.tables():
                cur.execute(f'PRAGMA foreign_key_check("{table}")')
                bad = cur.fetchall()
                if bad:
                    raise AssertionError(f"foreign keys broken in {table}: {bad[:5]}")

    def analyze(self):
        with connection.cursor() as cur:
            cur.execute("ANALYZE")


def loader_for_connection(stream=None):
    if connection.vendor == "postgresql":
        return PostgresLoader(stream)
    if connection.vendor == "sqlite":
        return SqliteLoader(stream)
    raise NotImplementedError(f"no bulk loader for {connection.vendor}")


# --- the load --------------------------------------------------------------------------------------

def load(scale, seed=SEED, stream=None, quiet=False, verify=100):
    """Generate and load `scale` into the (migrated, empty) default database; returns a summary
    dict with row counts and timings."""
    stream = stream or sys.stderr
    if Customer.all_objects.exists() or User.objects.filter(username="admin").exists():
        raise RuntimeError("the benchmark database already holds data; load into an empty, migrated database")
    started = time.perf_counter()
    vocab = Vocabulary()
    vocab.check(random.Random(seed))
    n = scale.customers
    loader = loader_for_connection(stream)
    loader.open()
    with transaction.atomic():
        org = build_org(n, seed)
    now = datetime.now(dt_timezone.utc).replace(microsecond=0)
    writer = ChunkWriter(org, vocab, now, seed)
    layouts = {
        Customer: columns_of(Customer, CUSTOMER_FIELDS), Contact: columns_of(Contact, CONTACT_FIELDS),
        Note: columns_of(Note, NOTE_FIELDS), AuditEntry: columns_of(AuditEntry, AUDIT_FIELDS),
        M2M_TAGS: columns_of(M2M_TAGS, TAG_FIELDS),
    }
    layouts.update(sales_data.layouts(columns_of))
    layouts.update(activity_data.layouts(columns_of))
    next_ids = {key: (model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
                for key, model in (("contacts", Contact), ("notes", Note), ("audit", AuditEntry), ("tags", M2M_TAGS))}
    next_ids.update(sales_data.first_ids())
    next_ids.update(activity_data.first_ids())
    sales_writer = sales_data.SalesWriter(now, seed)
    activity_writer = activity_data.ActivityWriter(now, seed)
    first = (Customer.all_objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    counts = {m._meta.db_table: 0 for m in MODELS}
    # + a lead, half an opportunity and its stage history, five activities
    expected = n * (1 + 2 + 1 + 1 + TAGGED_SHARE + 3 + activity_data.ACTIVITIES_PER_CUSTOMER)
    with transaction.atomic():
        state = loader.defer_indexes()
    t_rows = time.perf_counter()
    with Progress("rows", expected, stream, quiet) as bar:
        for index, start in enumerate(range(0, n, CHUNK)):
            size = min(CHUNK, n - start)
            chunk = writer.chunk(index, first + start, size, next_ids)
            chunk.update(activity_writer.rows(index, chunk[Customer], next_ids))  # sets customers' last follow-up
            chunk.update(sales_writer.rows(index, chunk[Customer], next_ids))
            with transaction.atomic():
                for model, rows in chunk.items():
                    if rows:
                        cols, fill = layouts[model]
                        loader.write(model, cols, rows, fill)
                        counts[model._meta.db_table] += len(rows)
            bar.add(sum(len(r) for r in chunk.values()))
    rows_seconds = time.perf_counter() - t_rows
    t_index = time.perf_counter()
    with Progress("indexes", len(state["indexes"]) + len(state["constraints"]), stream, quiet, unit="indexes") as bar:
        with transaction.atomic():
            loader.restore_indexes(state, bar)
    index_seconds = time.perf_counter() - t_index
    with connection.cursor() as cur:
        for sql in connection.ops.sequence_reset_sql(no_style(), MODELS):
            cur.execute(sql)
    pool_data.fill(now)  # a share of the customers lies in the regions' public pools (CUS-9)
    t_summary = time.perf_counter()
    funnel_summary.rebuild()  # what the triggers keep, for the rows loaded without them (SAL-3)
    summary_seconds = time.perf_counter() - t_summary
    t_analyze = time.perf_counter()
    loader.analyze()
    analyze_seconds = time.perf_counter() - t_analyze
    checked = verify_sample(verify, seed) if verify else 0
    # The global search index (UX-1), built in bulk by the product's own rebuild (COPY, then its
    # GIN indexes once), as `crm search_rebuild` would.
    from crm.core.search.index import rebuild as rebuild_search

    # Both cores: the index is empty until the load ends anyway.
    search = rebuild_search(stream=None if quiet else stream, workers=os.cpu_count() or 1)
    search_seconds = search.pop("seconds")
    search_rows = sum(search.values())
    total_rows = sum(counts.values())
    return {
        "scale": scale.name, "customers": n, "rows": counts, "total_rows": total_rows, "users": User.objects.count(),
        "generated_reps": org.reps, "seconds": round(time.perf_counter() - started, 1),
        "rows_seconds": round(rows_seconds, 1), "rows_per_second": round(total_rows / rows_seconds) if rows_seconds else None,
        "index_seconds": round(index_seconds, 1), "analyze_seconds": round(analyze_seconds, 1),
        "funnel_summary_seconds": round(summary_seconds, 1),
        "indexes_rebuilt": len(state["indexes"]) + len(state["constraints"]), "verified_rows": checked,
        "search_rows": search_rows, "search_seconds": search_seconds,
        "search_rows_per_second": round(search_rows / search_seconds) if search_seconds else None,
    }


def verify_sample(size, seed=SEED):
    """Run the models' validation over a sample of the loaded customers and their contacts: they
    must pass unchanged (normalised phones, credit codes, mnemonic = pinyin initials, reporting
    lines within the customer)."""
    from django.core.exceptions import ValidationError

    rng = random.Random(f"{seed}:verify")
    checked = 0
    last = Customer.all_objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    ids = sorted({rng.randrange(1, last + 1) for _ in range(size)}) if last else []
    for model, qs in ((Customer, Customer.all_objects.filter(pk__in=ids)),
                      (Contact, Contact.all_objects.filter(customer_id__in=ids))):
        for obj in qs:
            before = {f.attname: getattr(obj, f.attname) for f in model._meta.concrete_fields}
            try:
                obj.full_clean()
            except ValidationError as exc:
                raise AssertionError(f"{model.__name__} {obj.pk} fails validation: {exc.message_dict}") from exc
            if model is Customer and obj.mnemonic_code != initials(obj.name):
                raise AssertionError(f"customer {obj.pk}: mnemonic {obj.mnemonic_code!r} != initials of {obj.name!r}")
            changed = {k for k, v in before.items() if getattr(obj, k) != v}
            if changed:
                raise AssertionError(f"{model.__name__} {obj.pk}: validation changed {sorted(changed)}")
            checked += 1
    return checked
