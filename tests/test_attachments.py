"""Attachments (ACT-1, kernel mechanism 5): many files on any record of an opted-in entity, the
parent record deciding who may list, download, upload and delete them; caps; multi-file upload
through the activity form, the detail page's panel and the API; the old single
`Activity.attachment` moved by the data migration; a purged record drops its files."""

import os

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crm.activities.models import Activity
from crm.activities.testing import WORK, work_user
from crm.core.attachments import services as attachments
from crm.core.attachments.models import Attachment
from crm.core.audit.models import AuditEntry
from crm.core.dictionary import parameters
from crm.core.entities import services
from crm.core.testing.clients import browser
from crm.core.testing.org import Scope
from crm.customers.models import Customer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def alice(depts):
    return work_user("alice", depts["sales1"])


@pytest.fixture
def bob(depts):
    """Alice's colleague: sees the department's activities, edits only his own customers."""
    grants = {k: v for k, v in WORK.items() if k != "customers"}
    grants.update({("customers", "view"): Scope.DEPARTMENT, ("customers", "create"): Scope.OWN,
                   ("customers", "edit"): Scope.OWN})
    return work_user("bob", depts["sales1"], grants=grants)


@pytest.fixture
def gina(depts):
    return work_user("gina", depts["guangzhou"])


def upload(name, content=b"data", mime="application/octet-stream"):
    return SimpleUploadedFile(name, content, mime)


def stored(att):
    return default_storage.exists(att.file.name)


def ct_of(obj):
    return ContentType.objects.get_for_model(obj)


def test_panel_uploads_several_files_and_downloads_them_as_attachments_only(alice):
    customer = services.create(alice, Customer, {"name": "Acme Trading"})
    page = browser(alice)
    detail = page.get(reverse("customers-detail", args=[customer.pk])).content.decode()
    assert 'data-panel="attachments"' in detail and 'name="files" multiple' in detail
    url = reverse("attachments-upload", args=[ct_of(customer).pk, customer.pk])
    response = page.post(url, {"files": [upload("offer.pdf", b"%PDF-1.4"), upload("../../evil<script>.html",
                                                                                   b"<script>alert(1)</script>")]},
                         HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    fragment = response.content.decode()
    assert "offer.pdf" in fragment and "evil_script_.html" in fragment and "<script>alert" not in fragment
    rows = {a.name: a for a in Attachment.objects.filter(object_id=customer.pk, content_type=ct_of(customer))}
    assert set(rows) == {"offer.pdf", "evil_script_.html"}
    evil = rows["evil_script_.html"]
    assert evil.size == len(b"<script>alert(1)</script>") and evil.mime_type == "text/html"
    # Stored under a random name, never the user's: not guessable, no path from the upload.
    assert "evil" not in evil.file.name and evil.file.name.startswith("attachments/")
    assert len(os.path.splitext(os.path.basename(evil.file.name))[0]) == 32

    down = page.get(reverse("attachment-download", args=[evil.pk]))
    assert down.status_code == 200
    assert down["Content-Disposition"].startswith("attachment;") and "evil_script_.html" in down["Content-Disposition"]
    assert down["X-Content-Type-Options"] == "nosniff"
    assert b"".join(down.streaming_content) == b"<script>alert(1)</script>"
    # Each upload is an audit entry of the customer, on its timeline.
    entries = AuditEntry.objects.filter(object_id=customer.pk, content_type=ct_of(customer),
                                        changes__has_key="attachments")
    assert entries.count() == 2
    assert "Attachments" in page.get(reverse("customers-detail", args=[customer.pk])).content.decode()


def test_a_user_who_cannot_see_the_record_gets_404_everywhere(alice, gina, api):
    customer = services.create(alice, Customer, {"name": "Acme Trading"})
    att = attachments.upload(alice, "customers", customer.pk, [upload("offer.pdf")])[0]
    page = browser(gina)
    assert page.get(reverse("attachment-download", args=[att.pk])).status_code == 404
    assert page.post(reverse("attachment-delete", args=[att.pk])).status_code == 404
    assert page.post(reverse("attachments-upload", args=[ct_of(customer).pk, customer.pk]),
                     {"files": [upload("x.txt")]}).status_code == 404
    api.force_login(gina)
    assert api.get("/api/v1/attachments/", {"content_type": "customers", "object_id": customer.pk}).status_code == 404
    assert api.get(f"/api/v1/attachments/{att.pk}/download/").status_code == 404
    assert api.delete(f"/api/v1/attachments/{att.pk}/").status_code == 404
    assert api.post("/api/v1/attachments/", {"content_type": "customers", "object_id": customer.pk,
                                             "files": [upload("x.txt")]}, format="multipart").status_code == 404
    assert Attachment.objects.count() == 1 and stored(att)


def test_viewing_lists_and_downloads_but_only_editing_uploads_and_deletes(alice, bob, api):
    customer = services.create(alice, Customer, {"name": "Acme Trading"})
    att = attachments.upload(alice, "customers", customer.pk, [upload("offer.pdf", b"PDF")])[0]
    page = browser(bob)  # sees alice's customer (department), may not edit it
    detail = page.get(reverse("customers-detail", args=[customer.pk])).content.decode()
    assert "offer.pdf" in detail and 'name="files"' not in detail and "attachment-delete" not in detail
    assert page.get(reverse("attachment-download", args=[att.pk])).status_code == 200
    assert page.post(reverse("attachment-delete", args=[att.pk])).status_code == 403
    assert page.post(reverse("attachments-upload", args=[ct_of(customer).pk, customer.pk]),
                     {"files": [upload("x.txt")]}).status_code == 403
    api.force_login(bob)
    listed = api.get("/api/v1/attachments/", {"content_type": "customers", "object_id": customer.pk})
    assert listed.status_code == 200 and [a["name"] for a in listed.json()] == ["offer.pdf"]
    assert api.delete(f"/api/v1/attachments/{att.pk}/").status_code == 403
    assert Attachment.objects.filter(pk=att.pk).exists() and stored(att)

    api.force_login(alice)
    assert api.delete(f"/api/v1/attachments/{att.pk}/").status_code == 204
    assert not Attachment.objects.filter(pk=att.pk).exists()
    assert not stored(att)  # removed from storage after commit
    assert AuditEntry.objects.filter(object_id=customer.pk, changes__attachments=["offer.pdf", ""]).exists()


def test_api_uploads_several_files_and_refuses_bad_input_at_its_field(alice, api):
    customer = services.create(alice, Customer, {"name": "Acme Trading"})
    api.force_login(alice)
    created = api.post("/api/v1/attachments/", {"content_type": "customers", "object_id": customer.pk,
                                                "files": [upload("a.txt", b"A"), upload("b.txt", b"BB")]},
                       format="multipart")
    assert created.status_code == 201, created.content
    assert sorted((a["name"], a["size"]) for a in created.json()) == [("a.txt", 1), ("b.txt", 2)]
    one = created.json()[0]
    down = api.get(one["download_url"])
    assert down.status_code == 200 and down["Content-Disposition"].startswith("attachment;")

    none = api.post("/api/v1/attachments/", {"content_type": "customers", "object_id": customer.pk},
                    format="multipart")
    assert none.status_code == 400 and "files" in none.json()["error"]["fields"]
    wrong = api.post("/api/v1/attachments/", {"content_type": "departments", "object_id": 1,
                                              "files": [upload("a.txt")]}, format="multipart")
    assert wrong.status_code == 400 and "content_type" in wrong.json()["error"]["fields"]
    assert Attachment.objects.count() == 2


def test_size_and_count_caps_refuse_the_whole_upload(alice, api):
    parameters.save(None, {"attachment_max_mb": 1, "attachments_per_record": 3})
    customer = services.create(alice, Customer, {"name": "Acme Trading"})
    api.force_login(alice)
    big = api.post("/api/v1/attachments/", {"content_type": "customers", "object_id": customer.pk,
                                            "files": [upload("ok.txt"), upload("huge.bin", b"x" * (1024 * 1024 + 1))]},
                   format="multipart")
    assert big.status_code == 400
    assert "huge.bin" in big.json()["error"]["fields"]["files"][0]
    assert not Attachment.objects.exists() and not any(default_storage.listdir("")[0] + default_storage.listdir("")[1])

    attachments.upload(alice, "customers", customer.pk, [upload("1.txt"), upload("2.txt")])
    many = api.post("/api/v1/attachments/", {"content_type": "customers", "object_id": customer.pk,
                                             "files": [upload("3.txt"), upload("4.txt")]}, format="multipart",
                    HTTP_ACCEPT_LANGUAGE="en")
    assert many.status_code == 400 and "at most 3" in many.json()["error"]["fields"]["files"][0]
    assert Attachment.objects.count() == 2
    page = browser(alice)
    refused = page.post(reverse("attachments-upload", args=[ct_of(customer).pk, customer.pk]),
                        {"files": [upload("3.txt"), upload("4.txt")]}, HTTP_HX_REQUEST="true")
    assert 'data-testid="attachments-error"' in refused.content.decode() and Attachment.objects.count() == 2


def activity_post(**over):
    data = {"kind": "meeting", "subject": "Meeting notes", "occurred_at": "2026-03-02T10:15", "duration_minutes": "20",
            "record_type": "", "record_id": "", "outcome": "", "next_step": "", "address": "", "tags": "",
            "latitude": "", "longitude": "", "accuracy_m": ""}
    data.update(over)
    return data


def test_activity_form_takes_several_files_all_or_nothing(alice):
    parameters.save(None, {"attachment_max_mb": 1})
    page = browser(alice)
    form = page.get(reverse("activities-create")).content.decode()
    assert 'enctype="multipart/form-data"' in form and 'type="file" name="files" multiple' in form
    response = page.post(reverse("activities-create"), activity_post(
        files=[upload("minutes.docx", b"1"), upload("photo.jpg", b"22")]))
    assert response.status_code == 302, response.content.decode()[:1500]
    activity = Activity.objects.get(subject="Meeting notes")
    names = sorted(Attachment.objects.filter(content_type=ct_of(activity), object_id=activity.pk)
                   .values_list("name", flat=True))
    assert names == ["minutes.docx", "photo.jpg"]
    assert "minutes.docx" in page.get(response.url).content.decode()

    refused = page.post(reverse("activities-create"), activity_post(
        subject="Too big", files=[upload("small.txt"), upload("huge.bin", b"x" * (1024 * 1024 + 1))]))
    assert refused.status_code == 400 and "huge.bin" in refused.content.decode()
    assert not Activity.all_objects.filter(subject="Too big").exists() and Attachment.objects.count() == 2

    # Editing adds more files to the same activity.
    edit = page.post(reverse("activities-edit", args=[activity.pk]), activity_post(
        version=activity.version, files=[upload("follow-up.txt")]))
    assert edit.status_code == 302
    assert Attachment.objects.filter(object_id=activity.pk).count() == 3


def test_binned_record_keeps_its_files_and_a_purged_one_drops_them(alice, depts):
    from crm.core.testing.org import make_user

    boss = make_user("boss", depts["sales1"], {"customers": Scope.ALL}, specials=["purge"])
    customer = services.create(alice, Customer, {"name": "Acme Trading"})
    other = services.create(alice, Customer, {"name": "Other Ltd"})
    att = attachments.upload(alice, "customers", customer.pk, [upload("offer.pdf")])[0]
    keep = attachments.upload(alice, "customers", other.pk, [upload("keep.pdf")])[0]
    services.delete(alice, Customer, customer.pk)
    assert Attachment.objects.filter(pk=att.pk).exists() and stored(att)
    assert browser(alice).get(reverse("attachment-download", args=[att.pk])).status_code == 404  # binned: unreachable
    services.restore(alice, Customer, customer.pk)
    assert browser(alice).get(reverse("attachment-download", args=[att.pk])).status_code == 200

    services.delete(alice, Customer, customer.pk)
    services.purge(boss, Customer, customer.pk)
    assert not Attachment.objects.filter(pk=att.pk).exists() and not stored(att)
    assert Attachment.objects.filter(pk=keep.pk).exists() and stored(keep)


def test_opted_in_entities_show_the_panel(alice):
    from crm.core.entities.registry import get_spec

    for key in ("customers", "contacts", "leads", "opportunities", "activities", "tasks", "appointments"):
        assert get_spec(key).attachments, key
    assert not get_spec("departments").attachments
    activity = services.create(alice, Activity, {"subject": "Visit", "kind": "visit"})
    html = browser(alice).get(reverse("activities-detail", args=[activity.pk])).content.decode()
    assert 'data-panel="attachments"' in html


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_data_migration_moves_old_single_attachments_and_back(settings, tmp_path):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    settings.MEDIA_ROOT = tmp_path
    before = [("activities", "0003_carerule")]
    executor = MigrationExecutor(connection)
    leaf = [key for key in executor.loader.graph.leaf_nodes()]
    try:
        executor.migrate(before)
        old_apps = executor.loader.project_state(before).apps
        OldActivity = old_apps.get_model("activities", "Activity")
        path = default_storage.save("activities/2026/03/minutes.html", SimpleUploadedFile("m.html", b"<p>notes</p>"))
        with_file = OldActivity.objects.create(subject="Met them", kind="meeting", attachment=path)
        without = OldActivity.objects.create(subject="Called", kind="call")

        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(leaf)
        att = Attachment.objects.get()
        assert (att.object_id, att.name, att.size, att.mime_type) == (with_file.pk, "minutes.html", 12, "text/html")
        assert att.content_type == ContentType.objects.get_for_model(Activity)
        assert default_storage.open(att.file.name).read() == b"<p>notes</p>"
        assert not default_storage.exists(path)  # moved to an unguessable path
        assert not Attachment.objects.filter(object_id=without.pk).exists()

        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(before)
        old_apps = executor.loader.project_state(before).apps
        back = old_apps.get_model("activities", "Activity").objects.get(pk=with_file.pk)
        assert back.attachment.name == att.file.name and default_storage.exists(back.attachment.name)
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(leaf)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_uploads_keep_the_count_cap(settings, tmp_path):
    """Six people upload at once to a record with room for two more files: exactly two succeed
    (uploads to one record queue on its row), the others are refused and leave no file."""
    import threading

    from django.db import connection

    from crm.core.testing.org import make_tree

    settings.MEDIA_ROOT = tmp_path
    depts = make_tree()
    alice = work_user("alice", depts["sales1"])
    parameters.save(None, {"attachments_per_record": 3})
    customer = services.create(alice, Customer, {"name": "Acme Trading"})
    attachments.upload(alice, "customers", customer.pk, [upload("first.txt")])
    start = threading.Barrier(6)
    results, errors = [], []

    def uploader(n):
        try:
            start.wait()
            page = browser(alice)
            response = page.post(reverse("attachments-upload", args=[ct_of(customer).pk, customer.pk]),
                                 {"files": [upload(f"file-{n}.txt")]}, HTTP_HX_REQUEST="true")
            results.append((response.status_code, "attachments-error" in response.content.decode()))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=uploader, args=(n,)) for n in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors
    assert sorted(results) == [(200, False)] * 2 + [(200, True)] * 4
    rows = Attachment.objects.filter(object_id=customer.pk)
    assert rows.count() == 3
    stored_files = [f for _d, _s, files in os.walk(tmp_path) for f in files]
    assert len(stored_files) == 3  # refused uploads left nothing in storage


def test_check_in_takes_photos(alice):
    response = browser(alice).post(reverse("check-in"), activity_post(
        kind="visit", subject="Visit with photos", latitude="31.230416", longitude="121.473701", accuracy_m="12",
        files=[upload("shelf.jpg", b"JPEG1"), upload("door.jpg", b"JPEG22")]))
    assert response.status_code == 302, response.content.decode()[:1500]
    visit = Activity.objects.get(subject="Visit with photos")
    assert sorted(Attachment.objects.filter(content_type=ct_of(visit), object_id=visit.pk)
                  .values_list("name", "mime_type")) == [("door.jpg", "image/jpeg"), ("shelf.jpg", "image/jpeg")]
