"""Reverse geocoding of check-ins (ACT-6) against a real HTTP server on loopback that speaks
AMap's "regeo" format: the address is filled after commit by a background job when the user
typed none; a failing provider is retried and visible on the jobs page and never breaks the
check-in; without configuration nothing is called."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.activities.jobs import geocode_check_in
from crm.activities.models import Activity
from crm.activities.testing import work_user
from crm.core.dictionary import parameters
from crm.core.jobs.models import Job
from crm.core.jobs.testing import jobs_of, run_jobs
from crm.core.testing.clients import browser
from crm.core.testing.org import make_user

pytestmark = pytest.mark.django_db


class AMap:
    """A loopback server answering GET /v3/geocode/regeo like AMap does (or failing on demand)."""

    def __init__(self):
        self.requests = []
        self.mode = "ok"  # "ok", "refuse" (status 0), "http500"
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                url = urlparse(self.path)
                owner.requests.append((url.path, parse_qs(url.query)))
                if owner.mode == "http500":
                    self.send_response(500)
                    self.end_headers()
                    self.wfile.write(b"boom")
                    return
                if owner.mode == "refuse":
                    body = {"status": "0", "info": "INVALID_USER_KEY", "infocode": "10001"}
                else:
                    body = {"status": "1", "info": "OK", "infocode": "10000", "regeocode": {
                        "formatted_address": "上海市黄浦区南京东路街道人民广场",
                        "addressComponent": {"province": "上海市", "district": "黄浦区"}}}
                data = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v3/geocode/regeo"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def amap():
    server = AMap()
    yield server
    server.close()


@pytest.fixture
def alice(depts):
    return work_user("alice", depts["sales1"])


def configure(url):
    parameters.save(None, {"geocoder_url": url, "geocoder_key": "test-key"})


def check_in(user, **over):
    data = {"kind": "visit", "subject": "Visit at the plant", "occurred_at": "2026-03-02T10:15",
            "duration_minutes": "0", "record_type": "", "record_id": "", "outcome": "", "next_step": "",
            "address": "", "tags": "", "latitude": "31.230416", "longitude": "121.473701", "accuracy_m": "12"}
    data.update(over)
    response = browser(user).post(reverse("check-in"), data)
    assert response.status_code == 302, response.content.decode()[:1500]
    return Activity.objects.get(subject=data["subject"])


def test_without_configuration_nothing_is_called_and_the_page_says_so(alice, amap):
    page = browser(alice).get(reverse("check-in")).content.decode()
    assert "Type the address by hand" in page
    visit = check_in(alice)
    assert not jobs_of(geocode_check_in)
    run_jobs()
    visit.refresh_from_db()
    assert visit.address == "" and amap.requests == []


def test_the_address_is_filled_from_the_position_after_commit(alice, amap):
    configure(amap.url)
    assert "looked up from your position" in browser(alice).get(reverse("check-in")).content.decode()
    visit = check_in(alice)
    assert visit.address == ""  # the check-in answered without waiting for the provider
    assert run_jobs() >= 1
    visit.refresh_from_db()
    assert visit.address == "上海市黄浦区南京东路街道人民广场"
    path, query = amap.requests[0]
    assert path == "/v3/geocode/regeo"
    assert query["location"] == ["121.473701,31.230416"] and query["key"] == ["test-key"]
    assert jobs_of(geocode_check_in)[0].status == Job.Status.SUCCEEDED
    # A typed address is kept: no job, no request.
    typed = check_in(alice, subject="Typed", address="Shanghai, Huangpu")
    run_jobs()
    typed.refresh_from_db()
    assert typed.address == "Shanghai, Huangpu" and len(amap.requests) == 1


def test_a_failing_provider_is_retried_visible_and_never_breaks_the_check_in(alice, amap, depts):
    configure(amap.url)
    amap.mode = "http500"
    visit = check_in(alice)  # the check-in itself succeeds
    run_jobs()
    job = jobs_of(geocode_check_in)[0]
    assert job.status == Job.Status.RETRYING and job.attempts == 1 and "500" in job.error
    visit.refresh_from_db()
    assert visit.address == ""
    admin = make_user("ops", depts["sales1"], specials=["manage_jobs"])
    page = browser(admin).get(reverse("jobs")).content.decode()
    assert f'data-job="{job.pk}"' in page and "geocode_check_in" in page

    amap.mode = "refuse"
    run_jobs(now=timezone.now() + timedelta(minutes=5))
    job.refresh_from_db()
    assert job.attempts == 2 and "INVALID_USER_KEY" in job.error

    amap.mode = "ok"
    run_jobs(now=timezone.now() + timedelta(minutes=30))
    job.refresh_from_db()
    visit.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and visit.address.startswith("上海市")
    assert len(amap.requests) == 3


def test_retries_run_out_and_the_job_shows_as_failed(alice, amap, depts):
    configure(amap.url)
    amap.mode = "refuse"
    visit = check_in(alice)
    later = timezone.now()
    for _ in range(6):
        later += timedelta(hours=1)
        run_jobs(now=later)
    job = jobs_of(geocode_check_in)[0]
    assert job.status == Job.Status.FAILED and job.attempts == 4 and len(amap.requests) == 4
    visit.refresh_from_db()
    assert visit.address == "" and Activity.objects.filter(pk=visit.pk).exists()
    admin = make_user("ops", depts["sales1"], specials=["manage_jobs"])
    page = browser(admin).get(reverse("jobs") + "?status=failed").content.decode()
    assert f'data-job="{job.pk}"' in page and "INVALID_USER_KEY" in page
