"""The import's fast paths (INT-4, issue #3) give what the plain paths give: COPY writes the rows
bulk_create writes, the per-job row form validates like the entity's form, search entries made
from memory equal a reindex, a row the database refuses leaves the others in, duplicates within
the file are found across chunks, and the writer thread (PostgreSQL) imports the same."""

from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError
from django.utils import timezone, translation

from crm.core.audit.models import AuditEntry
from crm.core.entities.registry import get_spec
from crm.core.events.models import EventRecord
from crm.core.io import bulk, importer
from crm.core.io.models import ImportJob
from crm.core.io.rowform import row_form_class
from crm.core.search import reindex
from crm.core.search.models import SearchEntry
from crm.core.testing.org import Scope, make_tree, make_user
from crm.core.ui.forms import form_class
from crm.customers.models import Customer

from .test_import import EN, do_import

COLUMNS = ["name", "mnemonic_code", "name_key", "level", "status", "credit_limit", "phone", "email", "city",
           "registered_at", "custom", "owner_id", "department_id", "created_by_id", "version", "deleted_at"]


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def _customers(user, prefix, when):
    out = []
    for i in range(3):
        c = Customer(name=f"{prefix} {i} Co", level="important" if i else "normal", credit_limit=Decimal("1234.50"),
                     phone=f"1380000000{i}", email=f"{prefix}{i}@example.cn", city="上海", registered_at=when,
                     custom={"size": i, "note": "引号 \" 和 \\ 反斜杠\t"}, owner=user, department=user.department,
                     created_by=user, updated_by=user, created_at=when, updated_at=when)
        c.name_key = prefix.lower() + str(i)
        out.append(c)
    return out


def test_bulk_insert_writes_what_bulk_create_writes(rep):
    when = timezone.now().replace(microsecond=123456)
    copied, created = _customers(rep, "Copy", when), _customers(rep, "Orm", when)
    bulk.insert(Customer, copied)
    Customer.objects.bulk_create(created)
    assert all(c.pk for c in copied) and len({c.pk for c in copied}) == 3
    assert not any(c._state.adding for c in copied)

    def stored(objs):
        rows = Customer.all_objects.filter(pk__in=[o.pk for o in objs]).order_by("pk").values(*COLUMNS)
        return [{k: v for k, v in r.items() if k not in ("name", "name_key", "email")} for r in rows]

    assert stored(copied) == stored(created)
    assert [c.name for c in Customer.objects.filter(pk__in=[o.pk for o in copied]).order_by("pk")] == \
        ["Copy 0 Co", "Copy 1 Co", "Copy 2 Co"]
    # JSON with quotes, backslashes and tabs survives COPY's text format
    assert Customer.objects.get(pk=copied[1].pk).custom == {"size": 1, "note": "引号 \" 和 \\ 反斜杠\t"}
    # the sequence moved on: a later create gets a new id
    later = Customer.objects.create(name="Later", owner=rep)
    assert later.pk > max(c.pk for c in copied)


def test_bulk_insert_turns_a_refused_row_into_an_integrity_error(rep):
    from django.db import transaction

    objs = _customers(rep, "Bad", timezone.now())
    objs[1].version = -1  # the column's check constraint refuses it
    with pytest.raises(IntegrityError):
        with transaction.atomic():
            bulk.insert(Customer, objs)
    assert not Customer.all_objects.filter(name__startswith="Bad").exists()


ROWS = [
    {"name": "Good Co", "level": "important", "phone": "13812345678", "email": "a@example.cn"},
    {"name": "Bad level", "level": "platinum"},
    {"name": "Bad phone", "phone": "12345"},
    {"name": "", "email": "not-an-email"},
    {"name": "Credit", "credit_code": "123", "registered_at": "2024-13-45"},
    {"name": "Tags", "tags": "vip, north, vip"},
]


def test_the_row_form_validates_like_the_entitys_form(rep):
    spec = get_spec("customers")
    Form = form_class(spec)
    blank = Form(user=rep, spec=spec)
    base = {n: blank[n].value() for n in blank.fields if n != "version"}
    base = {n: v for n, v in base.items() if v is not None}
    fast = row_form_class(Form)(user=rep, spec=spec)
    fast.prepare_rows(base, {"name", "level", "phone", "email", "credit_code", "registered_at", "tags"}, Customer())
    assert fast._const and "country" in fast._const  # the defaults are checked once
    for values in ROWS:
        data = {**base, **values}
        plain = Form(data, instance=Customer(), user=rep, spec=spec)
        fast.bind_row(dict(data), Customer())
        assert fast.is_valid() == plain.is_valid(), values
        assert fast.errors.get_json_data() == plain.errors.get_json_data(), values
        if plain.is_valid():
            assert fast.cleaned_data == plain.cleaned_data
            for f in Customer._meta.concrete_fields:
                if f.name not in ("created_at", "updated_at"):
                    assert getattr(fast.instance, f.attname) == getattr(plain.instance, f.attname), f.name


def test_an_import_writes_records_audit_events_tags_and_search_entries(rep):
    rows = [["Name", "Main phone", "E-mail", "City", "Tags"],
            ["上海瑞丰科技有限公司", "13812345678", "a@example.cn", "上海", "vip"],
            ["Beijing Trading", "13812345679", "", "北京", ""]]
    job = do_import(rep, rows)
    assert job.created_count == 2 and job.error_count == 0
    ct = ContentType.objects.get_for_model(Customer)
    first = Customer.objects.get(name="上海瑞丰科技有限公司")
    assert first.code and first.mnemonic_code == "SHRFKJYXGS" and first.owner == rep
    assert [t.name for t in first.tags.all()] == ["vip"]
    audit = AuditEntry.objects.get(content_type=ct, object_id=first.pk)
    assert audit.changes["name"] == [None, "上海瑞丰科技有限公司"] and audit.changes["tags"] == [[], ["vip"]]
    assert audit.changes["owner"] == [None, str(rep)] and audit.extra["import"] == job.pk
    assert EventRecord.objects.filter(name="customers.created", content_type=ct, object_id=first.pk).exists()
    fields = ["title", "key", "abbr", "text", "phones", "grams", "updated_at"]
    written = {e.object_id: [getattr(e, f) for f in fields] for e in SearchEntry.objects.filter(content_type=ct)}
    assert set(written) == set(Customer.objects.values_list("pk", flat=True))
    reindex(Customer, list(written))
    again = {e.object_id: [getattr(e, f) for f in fields] for e in SearchEntry.objects.filter(content_type=ct)}
    assert again == written  # what was made from memory is what the database's rows give


def test_a_row_the_database_refuses_leaves_the_others_in(rep, monkeypatch):
    original_insert, original_save = bulk.insert, Customer.save

    def insert(model, objs):
        if model is Customer and any(o.name == "Refused" for o in objs):
            raise IntegrityError("refused by a constraint")
        return original_insert(model, objs)

    def save(self, *args, **kwargs):
        if self.name == "Refused":
            raise IntegrityError("refused by a constraint")
        return original_save(self, *args, **kwargs)

    monkeypatch.setattr(bulk, "insert", insert)
    monkeypatch.setattr(Customer, "save", save)
    job = do_import(rep, [EN, ["Kept A", "", "", ""], ["Refused", "", "", ""], ["Kept B", "", "", ""]])
    assert (job.created_count, job.error_count) == (2, 1)
    assert "refused" in job.errors[0]["errors"][0]["message"] and job.errors[0]["row"] == 3
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["Kept A", "Kept B"]
    kept = list(Customer.objects.values_list("pk", flat=True))
    ct = ContentType.objects.get_for_model(Customer)
    assert sorted(AuditEntry.objects.filter(content_type=ct).values_list("object_id", flat=True)) == sorted(kept)
    assert sorted(SearchEntry.objects.filter(content_type=ct).values_list("object_id", flat=True)) == sorted(kept)


def test_duplicates_within_the_file_are_found_across_chunks(rep, monkeypatch):
    monkeypatch.setattr(importer, "CHUNK", 2)
    rows = [EN] + [[f"Firm {i}", "", f"1380000{i:04d}", ""] for i in range(5)] + [
        ["Other", "", "13800000001", ""], ["Firm 4", "", "", ""]]
    job = do_import(rep, rows)
    assert (job.created_count, job.error_count, job.processed_rows) == (5, 2, 7)
    msgs = {e["row"]: e["errors"][0]["message"] for e in job.errors}
    assert "row 3" in msgs[7] and "row 6" in msgs[8]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_writer_thread_imports_the_same(monkeypatch):
    """Outside a test transaction the import writes in a second thread on PostgreSQL (elsewhere
    it runs in one): the same records, duplicates, errors, counts and search entries."""
    depts = make_tree()
    user = make_user("pipe_rep", depts["sales1"], {"customers": Scope.OWN})
    monkeypatch.setattr(importer, "CHUNK", 3)
    seen = []
    original = importer.Importer._pipelined
    monkeypatch.setattr(importer.Importer, "_pipelined", lambda self: seen.append(original(self)) or seen[-1])
    rows = [EN] + [[f"Pipe {i}", "", f"1390000{i:04d}", "Hefei"] for i in range(10)] + [
        ["Pipe 1", "", "", ""], ["Bad phone", "", "12345", ""], ["Pipe 10", "", "", ""]]
    with translation.override("en"):
        job = do_import(user, rows)
    from django.db import connection

    assert seen == [connection.vendor == "postgresql"]
    assert job.status == ImportJob.Status.DONE, job.message
    assert (job.created_count, job.error_count, job.processed_rows, job.total_rows) == (11, 2, 13, 13)
    msgs = {e["row"]: (e["errors"][0]["field"], e["errors"][0]["message"]) for e in job.errors}
    assert "row 3" in msgs[12][1] and msgs[13][0] == "phone"
    names = set(Customer.objects.filter(owner=user).values_list("name", flat=True))
    assert names == {f"Pipe {i}" for i in range(11)}
    ct = ContentType.objects.get_for_model(Customer)
    ids = set(Customer.objects.values_list("pk", flat=True))
    assert set(SearchEntry.objects.filter(content_type=ct).values_list("object_id", flat=True)) == ids
    assert set(AuditEntry.objects.filter(content_type=ct, action="create").values_list("object_id", flat=True)) == ids
    codes = list(Customer.objects.values_list("code", flat=True))
    assert len(set(codes)) == 11 and all(codes)


def test_mobile_numbers_recognised_by_pattern_are_normalised_as_phonenumbers_does():
    import random

    from crm.core.fields import _mainland_mobile, _parsed

    rnd = random.Random(3)
    samples = [f"1{rnd.randrange(10**10):010d}" for _ in range(20000)] + ["13812345678", "19912345678", "14012345678"]
    fast = [s for s in samples if _mainland_mobile()(s)]
    assert len(fast) > 5000
    assert all(_parsed(s) == s for s in fast)  # phonenumbers itself gives the same answer
    assert not _mainland_mobile()("１３８１２３４５６７８") and not _mainland_mobile()("1381234567")
