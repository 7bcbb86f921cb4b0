"""Import of CSV and XLSX for every registered entity (INT-4): encodings, column mapping by zh/en
labels and saved mappings, dry run, modes, duplicates, per-row errors at their field with nothing
of a bad row saved, file errors, scope and grants, the error report, the API, and a real worker."""

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.utils import timezone, translation
from rest_framework.test import APIClient

from crm.core.audit.models import AuditEntry
from crm.core.entities import services
from crm.core.events.models import EventRecord
from crm.core.io import jobs
from crm.core.io.importer import run_job
from crm.core.io.models import ImportJob, ImportMapping
from crm.core.testing.clients import api_as, browser
from crm.core.testing.org import Scope, make_user
from crm.customers.models import Contact, Customer

CREDIT = "91350100M000100Y43"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def csv_bytes(rows, encoding="utf-8"):
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode(encoding)


def xlsx_bytes(rows):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def upload(data, name="customers.csv"):
    return SimpleUploadedFile(name, data)


def do_import(user, rows=None, data=None, name="customers.csv", entity="customers", dry_run=False, mapping=None,
              **options):
    from crm.core.entities.registry import get_spec

    job = jobs.start(user, get_spec(entity), upload(data if data is not None else csv_bytes(rows), name),
                     mapping=mapping, **options)
    if mapping:
        jobs.set_mapping(job, mapping)
    run_job(job.pk, dry_run=dry_run)
    job.refresh_from_db()
    return job


def names():
    return sorted(Customer.objects.values_list("name", flat=True))


ZH = ["客户名称", "客户级别", "公司电话", "城市"]
EN = ["Name", "Customer level", "Main phone", "City"]


# --- formats and encodings -------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_in_utf8_with_and_without_bom_and_gbk_is_read(rep, encoding):
    job = do_import(rep, data=csv_bytes([ZH, ["上海瑞丰科技有限公司", "重要客户", "13812345678", "上海"]], encoding))
    assert job.status == ImportJob.Status.DONE, job.message
    c = Customer.objects.get()
    assert (c.name, c.level, c.phone, c.city) == ("上海瑞丰科技有限公司", "important", "13812345678", "上海")
    assert c.owner == rep and c.department == rep.department and c.code  # numbered like a created record
    assert job.encoding == {"gbk": "gb18030"}.get(encoding, encoding)


def test_xlsx_is_read_with_dates_and_numbers(rep):
    import datetime

    rows = [["Name", "Credit limit", "Registered at", "Customer level"],
            ["Acme Trading", 12000.5, datetime.datetime(2024, 3, 5), "Important"]]
    job = do_import(rep, data=xlsx_bytes(rows), name="customers.xlsx")
    assert job.status == ImportJob.Status.DONE, (job.message, job.errors)
    c = Customer.objects.get()
    assert str(c.credit_limit) == "12000.50" and timezone.localtime(c.registered_at).date().isoformat() == "2024-03-05"
    assert c.level == "important"


# --- mapping -----------------------------------------------------------------------------------

def test_columns_are_matched_by_chinese_and_english_labels_and_field_names(rep):
    from crm.core.entities.registry import get_spec

    spec = get_spec("customers")
    for headers in (ZH, EN, ["name", "level", "phone", "city"]):
        job = jobs.start(rep, spec, upload(csv_bytes([headers, ["A", "", "", ""]])))
        assert list(job.mapping.values()) == ["name", "level", "phone", "city"], headers
    job = jobs.start(rep, spec, upload(csv_bytes([["客户名称", "Favourite colour"], ["A", "red"]])))
    assert job.mapping == {"客户名称": "name", "Favourite colour": ""}  # unknown columns are ignored


def test_a_saved_mapping_is_reused_for_the_next_file(rep):
    from crm.core.entities.registry import get_spec

    spec = get_spec("customers")
    job = jobs.start(rep, spec, upload(csv_bytes([["公司", "电话号码"], ["A", "13812345678"]])))
    assert job.mapping == {"公司": "", "电话号码": ""}
    jobs.set_mapping(job, {"公司": "name", "电话号码": "phone"})
    assert ImportMapping.objects.get(user=rep, entity="customers")
    again = jobs.start(rep, spec, upload(csv_bytes([["公司", "电话号码"], ["B", "13812345679"]])))
    assert again.mapping == {"公司": "name", "电话号码": "phone"}


def test_unknown_fields_in_a_mapping_are_refused(rep):
    from django.core.exceptions import ValidationError

    from crm.core.entities.registry import get_spec

    job = jobs.start(rep, get_spec("customers"), upload(csv_bytes([["Name"], ["A"]])))
    with pytest.raises(ValidationError) as exc:
        jobs.set_mapping(job, {"Name": "owner_password"})
    assert "not a field you can import" in str(exc.value)


# --- dry run, modes ----------------------------------------------------------------------------

def test_dry_run_saves_nothing_and_reports_what_would_happen(rep):
    rows = [EN, ["Good One", "Important", "13812345678", "Shanghai"], ["Bad One", "Nonsense level", "", ""]]
    job = do_import(rep, rows, dry_run=True)
    assert job.status == ImportJob.Status.CHECKED
    assert (job.created_count, job.error_count) == (1, 1)
    assert Customer.objects.count() == 0 and not AuditEntry.objects.filter(action="create").exists()
    assert not EventRecord.objects.exists()


def test_create_only_mode(rep):
    job = do_import(rep, [EN, ["A Co", "", "", "Beijing"], ["B Co", "", "", "Tianjin"]])
    assert job.created_count == 2 and names() == ["A Co", "B Co"]
    # audit: one create entry per record (in bulk) plus one for the job; an event per record
    assert AuditEntry.objects.filter(action="create", object_repr__in=["A Co", "B Co"]).count() == 2
    job_entry = AuditEntry.objects.get(action="create", extra__import__file="customers.csv")
    assert job_entry.extra["import"]["created"] == 2 and job_entry.actor == rep
    assert EventRecord.objects.filter(name="customers.created").count() == 2
    assert EventRecord.objects.filter(name="customers.imported").count() == 1


def test_update_by_key_updates_only_the_mapped_non_empty_cells(rep):
    a = services.create(rep, Customer, {"name": "Alpha", "city": "Beijing", "email": "a@example.com"})
    rows = [["Customer number", "City", "E-mail"], [a.code, "Shenzhen", ""], ["NOPE-1", "X", ""]]
    job = do_import(rep, rows, mode="update", key_field="code")
    a.refresh_from_db()
    assert (a.city, a.email, a.version) == ("Shenzhen", "a@example.com", 2)
    assert (job.updated_count, job.error_count) == (1, 1)
    assert job.errors[0]["errors"][0]["field"] == "code"
    assert AuditEntry.objects.filter(action="update", object_id=a.pk).get().changes["city"] == ["Beijing", "Shenzhen"]


def test_create_or_update_by_a_unique_field(rep):
    a = services.create(rep, Customer, {"name": "Alpha", "credit_code": CREDIT})
    rows = [["Name", "Unified social credit code", "City"], ["Alpha New", CREDIT, "Xiamen"], ["Beta", "", "Fuzhou"]]
    job = do_import(rep, rows, mode="upsert", key_field="credit_code")
    assert (job.created_count, job.updated_count, job.error_count) == (1, 1, 0), job.errors
    a.refresh_from_db()
    assert (a.name, a.city) == ("Alpha New", "Xiamen")
    assert names() == ["Alpha New", "Beta"]


# --- duplicates --------------------------------------------------------------------------------

def test_duplicates_within_the_file_and_against_the_database(rep):
    services.create(rep, Customer, {"name": "Existing Trading Co., Ltd.", "phone": "13800000001"})
    rows = [EN, ["New One", "", "13800000002", ""], ["New One 2", "", "13800000002", ""],
            ["Existing Trading", "", "", ""], ["Fresh", "", "", ""]]
    job = do_import(rep, rows)
    assert names() == ["Existing Trading Co., Ltd.", "Fresh", "New One"]
    assert job.error_count == 2
    msgs = {e["row"]: e["errors"][0]["message"] for e in job.errors}
    assert "row 2" in msgs[3] and "Existing Trading Co., Ltd." in msgs[4]
    skipped = do_import(rep, rows, on_duplicate="skip")
    assert (skipped.created_count, skipped.skipped_count, skipped.error_count) == (0, 4, 0)


def test_duplicate_policy_update_updates_the_visible_record(rep):
    a = services.create(rep, Customer, {"name": "Alpha", "phone": "13800000001"})
    job = do_import(rep, [EN, ["Alpha", "", "13800000001", "Wuhan"]], on_duplicate="update")
    a.refresh_from_db()
    assert (job.updated_count, a.city) == (1, "Wuhan")


def test_a_duplicate_outside_the_scope_is_reported_without_its_fields(rep, manager, depts):
    other = make_user("other", depts["guangzhou"], {"customers": Scope.OWN})
    services.create(other, Customer, {"name": "Secret Customer", "phone": "13800000009"})
    job = do_import(rep, [EN, ["Mine", "", "13800000009", ""]], on_duplicate="update")
    msg = job.errors[0]["errors"][0]["message"]
    assert "another department" in msg and "Secret" not in msg
    assert Customer.objects.get(name="Secret Customer").city == ""


# --- bad values: reported at the field, nothing of the row saved ---------------------------------

def test_bad_values_are_reported_per_field_and_good_rows_are_saved(rep):
    rows = [["Name", "Customer level", "Main phone", "Unified social credit code", "Registered at", "Tags"],
            ["Good", "Important", "13812345678", CREDIT, "2024/1/5", "vip, north"],
            ["Bad level", "Platinum", "", "", "", "badtag"],
            ["Bad phone", "", "12345", "", "", ""],
            ["Bad code", "", "", "123", "", ""],
            ["Bad date", "", "", "", "2024-13-45", ""]]
    job = do_import(rep, rows)
    assert names() == ["Good"]
    good = Customer.objects.get()
    assert sorted(t.name for t in good.tags.all()) == ["north", "vip"]
    assert timezone.localtime(good.registered_at).date().isoformat() == "2024-01-05"
    by_row = {e["row"]: e["errors"] for e in job.errors}
    assert [x["field"] for x in by_row[3]] == ["level"] and "Platinum" in by_row[3][0]["message"]
    assert [x["field"] for x in by_row[4]] == ["phone"]
    assert [x["field"] for x in by_row[5]] == ["credit_code"]
    assert [x["field"] for x in by_row[6]] == ["registered_at"]
    from crm.core.entities.models import Tag

    assert not Tag.objects.filter(name="badtag").exists()  # nothing of a bad row is saved
    assert AuditEntry.objects.filter(action="create", content_type__model="customer").count() == 1


def test_errors_are_in_the_language_the_import_was_started_in(rep):
    with translation.override("zh-hans"):
        job = do_import(rep, [["客户名称", "公司电话"], ["坏电话", "12345"]])
    assert job.error_count == 1 and job.errors[0]["errors"][0]["field"] == "phone"
    assert not job.errors[0]["errors"][0]["message"].isascii()


def test_contacts_find_their_customer_by_name_in_the_users_scope(rep, depts):
    services.create(rep, Customer, {"name": "Visible Co"})
    other = make_user("other", depts["guangzhou"], {"customers": Scope.OWN})
    services.create(other, Customer, {"name": "Hidden Co"})
    rows = [["Customer", "Name", "Mobile"], ["Visible Co", "Li Lei", "13900000001"], ["Hidden Co", "Han Meimei", ""]]
    job = do_import(rep, rows, entity="contacts", name="contacts.csv")
    assert list(Contact.objects.values_list("name", "customer__name")) == [("Li Lei", "Visible Co")]
    assert job.errors[0]["row"] == 3 and job.errors[0]["errors"][0]["field"] == "customer"


# --- file errors -------------------------------------------------------------------------------

@pytest.mark.parametrize("data,name,message", [
    (b"", "x.csv", "empty"),
    ("名称\n".encode("utf-16"), "x.csv", "UTF-16"),
    (b"Name,City\nA,\xff\xff broken\n", "x.csv", "neither UTF-8 nor GBK"),
    (b"PK\x03\x04 not really a zip", "x.xlsx", "not a valid Excel"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old", "x.xls", "Old Excel"),
    (b"\n\n", "x.csv", "no header row"),
    (b"Name,Name\nA,B\n", "x.csv", "appears twice"),
])
def test_unreadable_files_are_refused_clearly(rep, data, name, message):
    from crm.core.entities.registry import get_spec
    from crm.core.io.parsing import FileError

    with pytest.raises(FileError) as exc:
        jobs.start(rep, get_spec("customers"), upload(data, name))
    assert message in str(exc.value)
    assert not ImportJob.objects.exists()


@override_settings(CRM_IMPORT_MAX_BYTES=100)
def test_an_oversized_file_is_refused_in_the_wizard(rep):
    response = browser(rep).post("/customers/import/", {"file": upload(csv_bytes([["Name"]] + [["x" * 20]] * 10)),
                                                         "mode": "create", "on_duplicate": "report"})
    assert response.status_code == 400
    assert "too large" in response.content.decode()
    assert not ImportJob.objects.exists()


@override_settings(CRM_IMPORT_MAX_ROWS=3)
def test_too_many_rows_fail_the_job_and_save_nothing(rep):
    job = do_import(rep, [["Name"]] + [[f"C{i}"] for i in range(5)])
    assert job.status == ImportJob.Status.FAILED and "more than 3 rows" in job.message
    assert Customer.objects.count() == 0


def test_a_file_without_mapped_columns_cannot_run(rep):
    from django.core.exceptions import ValidationError

    from crm.core.entities.registry import get_spec

    job = jobs.start(rep, get_spec("customers"), upload(csv_bytes([["Colour"], ["red"]])))
    with pytest.raises(ValidationError) as exc:
        jobs.enqueue(job)
    assert "Map at least one column" in str(exc.value)
    job = jobs.start(rep, get_spec("customers"), upload(csv_bytes([["City"], ["Wuxi"]])))
    with pytest.raises(ValidationError) as exc:
        jobs.enqueue(job)
    assert "required field" in str(exc.value)


# --- scope and grants --------------------------------------------------------------------------

def test_an_import_never_updates_a_record_outside_the_users_edit_scope(rep, depts):
    other = make_user("other", depts["guangzhou"], {"customers": Scope.OWN})
    theirs = services.create(other, Customer, {"name": "Theirs", "city": "Guangzhou"})
    job = do_import(rep, [["Customer number", "City"], [theirs.code, "Hacked"]], mode="update", key_field="code")
    theirs.refresh_from_db()
    assert theirs.city == "Guangzhou" and job.updated_count == 0 and job.error_count == 1
    assert "No record that you may edit" in job.errors[0]["errors"][0]["message"]


def test_import_needs_the_import_grant_and_edit_for_updates(depts):
    from django.core.exceptions import PermissionDenied

    from crm.core.entities.registry import get_spec

    no_import = make_user("noimp", depts["sales1"], {("customers", a): Scope.OWN for a in ("view", "create", "edit")})
    with pytest.raises(PermissionDenied):
        jobs.start(no_import, get_spec("customers"), upload(csv_bytes([["Name"], ["A"]])))
    assert browser(no_import).get("/customers/import/").status_code == 403
    assert 'data-testid="import"' not in browser(no_import).get("/customers/").content.decode()
    import_only = make_user("imponly", depts["sales1"], {("customers", a): Scope.OWN for a in ("view", "import")})
    with pytest.raises(PermissionDenied):
        jobs.start(import_only, get_spec("customers"), upload(csv_bytes([["Name"], ["A"]])), mode="update",
                   key_field="code")
    assert Customer.objects.count() == 0


def test_jobs_are_private_to_their_user(rep, manager):
    job = do_import(rep, [EN, ["A", "", "12", ""]])
    assert browser(manager).get(f"/imports/{job.pk}/").status_code == 404
    assert browser(manager).get(f"/imports/{job.pk}/errors/").status_code == 404
    assert api_as(manager).get(f"/api/v1/imports/{job.pk}/").status_code == 404


# --- the wizard and the error report -----------------------------------------------------------

@override_settings(TASKS={"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}})
def test_wizard_upload_map_dry_run_run_and_error_report(rep):
    ui = browser(rep)
    page = ui.get("/customers/")
    assert 'href="/customers/import/"' in page.content.decode()
    response = ui.post("/customers/import/", {"file": upload(csv_bytes([["公司", "City", "Main phone"], ["Good Co", "Xian", ""],
                                                                         ["Bad Co", "", "999"]])),
                                              "mode": "create", "on_duplicate": "report"})
    assert response.status_code == 302
    job = ImportJob.objects.get()
    url = response["Location"]
    page = ui.get(url).content.decode()
    assert 'name="map_0"' in page and '<option value="city" selected>' in page
    response = ui.post(url, {"map_0": "name", "map_1": "city", "map_2": "phone", "action": "dry"})
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CHECKED and Customer.objects.count() == 0
    page = ui.get(url).content.decode()
    row_errors = page.split('data-testid="row-errors"', 1)[1]
    assert "<td>3</td><td>Main phone</td>" in row_errors  # the bad row (row 3), named at its column
    ui.post(url, {"map_0": "name", "map_1": "city", "map_2": "phone", "action": "run"})
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and names() == ["Good Co"]
    report = ui.get(f"/imports/{job.pk}/errors/")
    rows = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert rows[0] == ["Row", "公司", "City", "Main phone", "Errors"]
    assert rows[1][:4] == ["3", "Bad Co", "", "999"] and rows[1][4].startswith("Main phone:")
    xlsx = ui.get(f"/imports/{job.pk}/errors/?format=xlsx")
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content)), read_only=True).worksheets[0]
    assert list(next(ws.iter_rows(min_row=2, values_only=True)))[:2] == ["3", "Bad Co"]
    assert job.file_name in ui.get("/imports/").content.decode()
    # a finished job cannot run twice
    counts = (job.created_count, job.updated_count, job.error_count)
    ui.post(url, {"map_0": "name", "action": "run"})
    job.refresh_from_db()
    assert Customer.objects.count() == 1 and job.status == ImportJob.Status.DONE
    assert counts == (job.created_count, job.updated_count, job.error_count)


def test_the_error_report_neutralises_formulas(rep):
    job = do_import(rep, [EN, ["=cmd|calc", "", "1", ""]])
    header, *rows = list(csv.reader(io.StringIO(browser(rep).get(f"/imports/{job.pk}/errors/").content.decode("utf-8-sig"))))
    assert rows[0][1] == "'=cmd|calc"


# --- API ---------------------------------------------------------------------------------------

def multipart_client(user):
    """The OpenAPI-validating client re-reads the request body, which a multipart upload has
    consumed: uploads go through DRF's plain client with a real token (the GETs are validated)."""
    from crm.core.access.models import ApiToken

    _token, secret = ApiToken.issue(user, "test")
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@override_settings(TASKS={"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}})
def test_api_start_poll_and_error_report(rep, api):
    api.as_user(rep)
    data = csv_bytes([["公司", "City"], ["Api Co", "Nanjing"], ["", "Nowhere"]])
    response = multipart_client(rep).post("/api/v1/imports/", {"entity": "customers", "file": upload(data), "mode": "create",
                                             "mapping": json.dumps({"公司": "name"})}, format="multipart")
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    status = api.get(f"/api/v1/imports/{job_id}/").json()
    assert (status["status"], status["created_count"], status["error_count"], status["percent"]) == ("done", 1, 1, 100)
    assert status["error_report"] == f"/api/v1/imports/{job_id}/errors/"
    report = api.get(status["error_report"])
    assert report.status_code == 200 and "Nowhere" in report.content.decode("utf-8-sig")
    assert names() == ["Api Co"]
    assert [j["id"] for j in api.get("/api/v1/imports/").json()] == [job_id]


def test_api_refuses_bad_files_and_missing_grants(rep, api, depts):
    api.as_user(rep)
    response = multipart_client(rep).post(
        "/api/v1/imports/", {"entity": "customers", "file": upload(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1x", "a.xls")},
        format="multipart")
    assert response.status_code == 400 and "file" in response.json()["error"]["fields"]
    viewer = make_user("viewer", depts["sales1"], {("customers", "view"): Scope.ALL})
    response = multipart_client(viewer).post(
        "/api/v1/imports/", {"entity": "customers", "file": upload(csv_bytes([["Name"], ["A"]]))}, format="multipart")
    assert response.status_code == 403
    assert not ImportJob.objects.exists()


# --- a real background worker ------------------------------------------------------------------

def _database_url():
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_import_runs_in_a_real_db_worker(depts):
    user = make_user("worker_rep", depts["sales1"], {"customers": Scope.OWN})
    from crm.core.entities.registry import get_spec

    job = jobs.start(user, get_spec("customers"), upload(csv_bytes([EN] + [[f"Worker Co {i}", "", "", "Hefei"]
                                                                       for i in range(30)])))
    jobs.enqueue(job)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.QUEUED and Customer.objects.count() == 0
    env = {**os.environ, "DATABASE_URL": _database_url(), "DJANGO_SETTINGS_MODULE": "crm.settings",
           "CRM_VAR_DIR": str(settings.VAR_DIR)}
    subprocess.run([sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "db_worker", "--batch",
                    "--no-startup-delay", "--no-reload", "--skip-checks"], env=env, check=True, timeout=120,
                   capture_output=True)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE, job.message
    assert (job.created_count, job.processed_rows, job.total_rows) == (30, 30, 30)
    assert Customer.objects.filter(city="Hefei", owner=user).count() == 30
