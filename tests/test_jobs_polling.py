"""The "Background jobs" page refreshes itself while work is pending (htmx polling of the table
fragment, no trigger once idle), for manage_jobs holders only; the password-reset mail is a
job of the engine (enqueue_after_commit) like every other mail."""

import pytest
from django.test import Client
from django.urls import reverse

from crm.core.jobs import enqueue_after_commit
from crm.core.jobs.models import WORKER_LOST, Job
from crm.core.jobs.testing import run_jobs
from crm.core.testing.clients import browser
from crm.core.testing.org import make_user
from crm.org.tasks import send_email

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops(depts):
    return make_user("ops", depts["sales1"], specials=["manage_jobs"], email="ops@example.com")


def test_the_fragment_polls_only_while_jobs_are_queued_or_running(ops, mailoutbox):
    page = browser(ops)
    idle = page.get(reverse("jobs-live"))
    assert idle.status_code == 200
    body = idle.content.decode()
    assert 'id="jobs-live"' in body and 'data-pending="0"' in body and "hx-trigger" not in body

    job = enqueue_after_commit(send_email, "Hello", "Body", ["x@example.com"])
    full = page.get(reverse("jobs")).content.decode()
    assert 'hx-trigger="every 3s"' in full and f'data-job="{job.pk}"' in full
    busy = page.get(reverse("jobs-live"), {"status": "queued"}).content.decode()
    assert 'hx-trigger="every 3s"' in busy and 'data-pending="1"' in busy and f'data-job="{job.pk}"' in busy
    assert "status=queued" in busy  # the poll keeps the page's filter

    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)
    assert 'hx-trigger="every 3s"' in page.get(reverse("jobs-live")).content.decode()
    Job.objects.filter(pk=job.pk).update(status=Job.Status.QUEUED)
    run_jobs()
    done = page.get(reverse("jobs-live")).content.decode()
    assert "hx-trigger" not in done and 'data-status="succeeded"' in done  # idle again: the polling stops
    assert len(mailoutbox) == 1


def test_the_fragment_needs_manage_jobs(rep):
    assert browser(rep).get(reverse("jobs-live")).status_code == 403


def test_worker_lost_is_shown_through_the_translation_catalogue(ops):
    job = enqueue_after_commit(send_email, "Hello", "Body", ["x@example.com"])
    Job.objects.filter(pk=job.pk).update(status=Job.Status.FAILED, error=WORKER_LOST)
    job.refresh_from_db()
    assert job.error_display == "WorkerLost: the worker stopped while running this job"
    other = Job(error="ValueError: boom")
    assert other.error_display == "ValueError: boom"  # errors of tasks are shown as raised
    assert WORKER_LOST in browser(ops).get(reverse("job-detail", args=[job.pk])).content.decode()


def test_password_reset_mail_is_a_job_of_the_engine(rep, mailoutbox):
    rep.email = "rep@example.com"
    rep.save()
    Client().post("/password/reset/", {"email": "rep@example.com"})
    job = Job.objects.get(task_path="crm.org.tasks.send_email")
    assert job.status == Job.Status.QUEUED and job.args[2] == ["rep@example.com"] and mailoutbox == []
    run_jobs()
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["rep@example.com"]
