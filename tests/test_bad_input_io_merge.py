"""Bad input to import and merge: each refusal says what is wrong, at its field, in English,
and writes nothing."""

import csv
import datetime
import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation
from rest_framework.test import APIClient

from crm.core.entities import merge as merging
from crm.core.entities import services
from crm.core.entities.registry import get_spec
from crm.core.io import jobs
from crm.core.io.models import ImportJob, ImportMapping
from crm.core.merging.models import MergeRecord
from crm.customers.models import Customer


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def csv_bytes(rows):
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode("utf-8")


def upload(data, name="customers.csv"):
    return SimpleUploadedFile(name, data)


def cust(user, name):
    return services.create(user, Customer, {"name": name})


# --- merge -------------------------------------------------------------------------------------

def test_merging_more_than_max_records_is_refused(rep):
    records = [cust(rep, f"Dup Co {i}") for i in range(merging.MAX_RECORDS + 1)]
    with pytest.raises(ValidationError) as exc:
        merging.merge(rep, Customer, records[0].pk, [r.pk for r in records[1:]])
    assert exc.value.message_dict == {
        "others": [f"At most {merging.MAX_RECORDS} records can be merged at once."]}
    assert Customer.objects.count() == merging.MAX_RECORDS + 1
    assert not MergeRecord.objects.exists()


def test_undo_after_the_undo_period_is_refused(rep):
    a, b = cust(rep, "Keep Co"), cust(rep, "Keep Co Ltd")
    result = merging.merge(rep, Customer, a.pk, [b.pk])
    days = merging.param("merge_undo_days")
    MergeRecord.objects.filter(pk=result.record.pk).update(at=timezone.now() - datetime.timedelta(days=days + 1))
    rec = MergeRecord.objects.get(pk=result.record.pk)
    assert not merging.can_undo(rep, rec)
    with pytest.raises(ValidationError) as exc:
        merging.undo(rep, Customer, rec.pk)
    assert "undo period is over" in " ".join(exc.value.messages)
    rec.refresh_from_db()
    assert rec.undone_at is None
    assert not Customer.objects.filter(pk=b.pk).exists()  # still merged away
    assert Customer.objects.filter(pk=a.pk).exists()


# --- import: jobs.start / set_mapping -------------------------------------------------------------

def start(user, data=None, **options):
    return jobs.start(user, get_spec("customers"), upload(data or csv_bytes([["Name", "City"], ["A", "Xian"]])),
                      **options)


def test_an_invalid_mode_is_refused(rep):
    with pytest.raises(ValidationError) as exc:
        start(rep, mode="upsert-everything")
    assert exc.value.message_dict == {"mode": ["Choose a valid mode."]}
    assert not ImportJob.objects.exists()


def test_update_mode_without_a_key_field_is_refused(rep):
    with pytest.raises(ValidationError) as exc:
        start(rep, mode=ImportJob.Mode.UPDATE, key_field="")
    assert exc.value.message_dict == {"key_field": ["Choose the column that finds the record to update."]}
    assert not ImportJob.objects.exists()


def test_a_mapping_naming_a_missing_column_is_refused(rep):
    with pytest.raises(ValidationError) as exc:
        start(rep, mapping={"Colour": "name"})
    assert list(exc.value.message_dict) == ["mapping"]
    assert "The file has no column" in exc.value.message_dict["mapping"][0]
    assert "Colour" in exc.value.message_dict["mapping"][0]
    assert not ImportJob.objects.exists() and not Customer.objects.exists()


def test_two_columns_mapped_to_one_field_are_refused(rep):
    job = start(rep)
    mapping_before = dict(job.mapping)
    with pytest.raises(ValidationError) as exc:
        jobs.set_mapping(job, {"Name": "name", "City": "name"})
    assert exc.value.message_dict == {"mapping": ["Each field can be filled from one column only."]}
    job.refresh_from_db()
    assert job.mapping == mapping_before
    assert not ImportMapping.objects.exists() and not Customer.objects.exists()


# --- import: the API -------------------------------------------------------------------------------

def multipart_client(user):
    """A plain API client with a real token, in English (the validating client cannot re-read a
    multipart body; as in tests/test_import.py)."""
    from crm.core.access.models import ApiToken

    _token, secret = ApiToken.issue(user, "test")
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def post(user, **data):
    data.setdefault("entity", "customers")
    data.setdefault("file", upload(csv_bytes([["Name"], ["Api Co"]])))
    return multipart_client(user).post("/api/v1/imports/", data, format="multipart")


@pytest.mark.parametrize("mapping", ["not json", json.dumps(["Name", "name"]), json.dumps({"Name": 1})])
def test_api_mapping_that_is_not_a_json_object_is_refused(rep, mapping):
    response = post(rep, mapping=mapping)
    assert response.status_code == 400, response.content
    fields = response.json()["error"]["fields"]
    assert list(fields) == ["mapping"]
    assert "Send the mapping as a JSON object" in str(fields["mapping"])
    assert not ImportJob.objects.exists() and not Customer.objects.exists()


PDF = (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<</Length 5/Filter/FlateDecode>>stream\n"
       b"x\x9c\x00\x01\x02\nendstream\nendobj\n")  # a binary stream in the first 4 KB, as real PDFs have


@pytest.mark.parametrize("content", [PDF, b"%PDF-1.4\n%text only, no binary stream\n"])
def test_api_refuses_a_pdf_upload(rep, content):
    response = post(rep, file=upload(content, "x.pdf"))
    assert response.status_code == 400, response.content
    fields = response.json()["error"]["fields"]
    assert list(fields) == ["file"]
    assert "neither CSV nor Excel" in str(fields["file"])
    assert not ImportJob.objects.exists() and not Customer.objects.exists()
