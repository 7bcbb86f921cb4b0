"""The job engine (issue #5): after-commit enqueueing, periodic slots claimed once, retries with
backoff, idempotent effects, progress, the jobs page and API, a killed worker, the RQ backend.

Only tests that need real commits (other connections, other processes) use transaction=True; the
others rely on tests/conftest.py running after-commit callbacks when a block would commit.
Every transaction=True test in the suite also takes serialized_rollback=True: the flush after it
then leaves an empty database that the next such test reloads whole (seeded dictionary items,
numbering rules, content types), instead of a half-seeded one."""

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone
from django_tasks import task

from crm.core.events.models import EventRecord
from crm.core.jobs import enqueue_after_commit, enqueue_job, periodic, report_progress, retryable, run_once
from crm.core.jobs.engine import execute, maintain
from crm.core.jobs.models import Job, PeriodicRun
from crm.core.jobs.schedule import PERIODIC, PeriodicJob, tick
from crm.core.jobs.testing import run_jobs
from crm.core.testing.clients import api_as, browser
from crm.core.testing.org import make_user

BASE_DIR = Path(settings.BASE_DIR)


# --- tasks used by the tests (module level: the worker imports them by path) -----------------

def _effects(tag):
    return EventRecord.objects.filter(name="test.effect", payload__tag=tag)


@task()
def record_effect(tag, step=0):
    """An effect that must happen once: its key is claimed in the effect's own transaction."""
    with transaction.atomic():
        if run_once(f"test-effect:{tag}:{step}"):
            EventRecord.objects.create(name="test.effect", payload={"tag": tag, "step": step})
    return tag


@retryable(max_attempts=4, backoff=timedelta(seconds=30))
@task()
def flaky(tag, failures):
    """Fails `failures` times, then records its effect."""
    attempts = EventRecord.objects.filter(name="test.attempt", payload__tag=tag).count()
    EventRecord.objects.create(name="test.attempt", payload={"tag": tag})
    if attempts < failures:
        raise ConnectionError(f"attempt {attempts + 1} of {tag} failed")
    record_effect.call(tag)


@task()
def breaks_until_fixed(tag):
    if not EventRecord.objects.filter(name="test.fixed", payload__tag=tag).exists():
        raise ValueError("the customer file is broken")
    record_effect.call(tag)


@task()
def counts_to(tag, total):
    for i in range(total):
        record_effect.call(tag, i)
        report_progress(i + 1, total)
    return total


@task()
def slow_steps(tag, steps, gate):
    """Step 0, then wait until the test opens the gate (the test kills the worker meanwhile)."""
    for i in range(steps):
        record_effect.call(tag, i)
        report_progress(i + 1, steps)
        if i == 0:
            deadline = time.monotonic() + 120
            while not os.path.exists(gate) and time.monotonic() < deadline:
                time.sleep(0.05)


@periodic("test-every-minute", every=timedelta(minutes=1), label="Test: every minute")
@task()
def every_minute():
    record_effect.call(f"minute:{uuid.uuid4().hex}")


# --- after commit ------------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_job_reaches_the_worker_only_after_commit_and_a_rollback_enqueues_nothing():
    from django_tasks_db.models import DBTaskResult

    with transaction.atomic():
        job = enqueue_after_commit(record_effect, "committed")
        assert DBTaskResult.objects.count() == 0  # not handed over inside the transaction
    job.refresh_from_db()
    assert job.dispatched_at is not None
    assert DBTaskResult.objects.filter(task_path="crm.core.jobs.engine.run_job", args_kwargs__args=[job.pk]).count() == 1

    with pytest.raises(RuntimeError):
        with transaction.atomic():
            enqueue_after_commit(record_effect, "rolled back")
            raise RuntimeError("the write failed")
    assert Job.objects.count() == 1 and DBTaskResult.objects.count() == 1

    run_jobs()
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.attempts == 1 and job.result == "committed"
    assert _effects("committed").count() == 1 and not _effects("rolled back").exists()


@pytest.mark.django_db
def test_a_job_with_a_key_is_created_once():
    first = enqueue_job(record_effect, args=("k",), key="reminder:42:2026-01-01")
    second = enqueue_job(record_effect, args=("k",), key="reminder:42:2026-01-01")
    assert first.pk == second.pk and Job.objects.count() == 1
    run_jobs()
    assert _effects("k").count() == 1


@pytest.mark.django_db
def test_only_tasks_can_be_enqueued():
    with pytest.raises(TypeError):
        enqueue_after_commit(lambda: None)


@pytest.mark.django_db
def test_a_delayed_job_waits_for_its_time():
    later = timezone.now() + timedelta(hours=1)
    job = enqueue_job(record_effect, args=("later",), run_after=later)
    run_jobs()
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED and not _effects("later").exists()
    run_jobs(now=later)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and _effects("later").count() == 1


# --- retries -----------------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_retryable_job_is_retried_with_exponential_backoff_then_succeeds():
    job = enqueue_after_commit(flaky, "flaky", 2)
    run_jobs()
    job.refresh_from_db()
    assert job.status == Job.Status.RETRYING and job.attempts == 1 and job.max_attempts == 4
    assert job.run_after - job.finished_at == timedelta(seconds=30)
    assert "attempt 1 of flaky failed" in job.error and "ConnectionError" in job.traceback

    run_jobs()  # the wait is not over: nothing runs
    job.refresh_from_db()
    assert job.attempts == 1

    run_jobs(now=job.run_after)
    job.refresh_from_db()
    assert job.status == Job.Status.RETRYING and job.attempts == 2
    assert job.run_after - job.finished_at == timedelta(seconds=60)  # doubled

    run_jobs(now=job.run_after)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.attempts == 3 and job.error == ""
    assert _effects("flaky").count() == 1


@pytest.mark.django_db
def test_a_retryable_job_fails_for_good_after_its_last_attempt():
    job = enqueue_after_commit(flaky, "hopeless", 10)
    for _ in range(6):
        run_jobs(now=timezone.now() + timedelta(days=1))
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.attempts == 4 and job.run_after is None
    assert not _effects("hopeless").exists()


# --- idempotency ---------------------------------------------------------------------------------

@pytest.mark.django_db
def test_an_effect_under_run_once_happens_once_however_often_the_job_runs():
    job = enqueue_after_commit(record_effect, "twice")
    run_jobs()
    Job.objects.filter(pk=job.pk).update(status=Job.Status.QUEUED)  # as if it had to run again
    execute(job.pk)
    job.refresh_from_db()
    assert job.attempts == 2 and job.status == Job.Status.SUCCEEDED
    assert _effects("twice").count() == 1


@pytest.mark.django_db
def test_a_job_handed_over_twice_runs_once():
    job = enqueue_after_commit(flaky, "double", 0)
    run_jobs()
    execute(job.pk)  # a duplicate delivery of the same job: claims nothing
    job.refresh_from_db()
    assert job.attempts == 1
    assert EventRecord.objects.filter(name="test.attempt", payload__tag="double").count() == 1


@pytest.mark.django_db
def test_run_once_claims_a_key_once():
    with transaction.atomic():
        assert run_once("inside") is True
        assert run_once("inside") is False


# --- progress ----------------------------------------------------------------------------------

@pytest.mark.django_db
def test_progress_is_recorded_and_listed(admin):
    job = enqueue_after_commit(counts_to, "progress", 3)
    run_jobs()
    job.refresh_from_db()
    assert (job.progress_done, job.progress_total, job.progress_percent) == (3, 3, 100)
    assert _effects("progress").count() == 3
    report_progress(1, 2)  # outside a job: nothing happens, nothing breaks
    data = api_as(admin).get(f"/api/v1/jobs/{job.pk}/").json()
    assert data["progress_done"] == 3 and data["progress_total"] == 3 and data["status"] == "succeeded"


# --- periodic ------------------------------------------------------------------------------------

def test_slots_of_every_and_daily_jobs():
    t = datetime(2026, 1, 10, 19, 0, 30, tzinfo=dt_timezone.utc)  # 03:00:30 on 11 January in Shanghai
    minute = PeriodicJob("m", every_minute, every=timedelta(minutes=1))
    assert minute.slot(t) == datetime(2026, 1, 10, 19, 0, tzinfo=dt_timezone.utc)
    assert minute.next_slot(t) == datetime(2026, 1, 10, 19, 1, tzinfo=dt_timezone.utc)
    with override_settings(TIME_ZONE="Asia/Shanghai"):
        daily = PeriodicJob("d", every_minute, daily=datetime.strptime("03:30", "%H:%M").time())
        # Before 03:30 local time the current slot is yesterday's 03:30.
        assert daily.slot(t) == datetime(2026, 1, 9, 19, 30, tzinfo=dt_timezone.utc)
        assert daily.next_slot(t) == datetime(2026, 1, 10, 19, 30, tzinfo=dt_timezone.utc)
        assert daily.slot(t + timedelta(minutes=30)) == datetime(2026, 1, 10, 19, 30, tzinfo=dt_timezone.utc)
    with pytest.raises(ValueError):
        periodic("bad", every=timedelta(minutes=1), daily="03:00")


def test_the_recycle_bin_retention_is_a_periodic_job():
    assert PERIODIC["purge-recycle-bin"].task.module_path == "crm.core.tasks.purge_recycle_bin"
    assert PERIODIC["purge-recycle-bin"].daily is not None


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_schedulers_enqueue_a_slot_once():
    now = datetime(2026, 3, 1, 8, 0, 10, tzinfo=dt_timezone.utc)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def scheduler():
        try:
            barrier.wait(timeout=30)
            results.append(tick(now, names=["test-every-minute"]))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert sorted(map(len, results)) == [0, 1]  # one scheduler won the slot
    assert PeriodicRun.objects.filter(name="test-every-minute").count() == 1
    assert Job.objects.filter(periodic="test-every-minute").count() == 1

    assert tick(now + timedelta(seconds=40), names=["test-every-minute"]) == []  # same slot
    assert tick(now + timedelta(minutes=1), names=["test-every-minute"]) == ["test-every-minute"]
    run_jobs()
    assert Job.objects.filter(periodic="test-every-minute", status=Job.Status.SUCCEEDED).count() == 2


# --- the jobs page and API ---------------------------------------------------------------------

@pytest.fixture
def operator(depts):
    return make_user("operator", depts["hq"], specials=["manage_jobs"])


@pytest.mark.django_db
def test_a_failed_job_is_visible_with_its_traceback_and_can_be_retried(operator, rep):
    job = enqueue_after_commit(breaks_until_fixed, "fixme")
    run_jobs()
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.attempts == 1

    page = browser(operator).get("/jobs/?status=failed")
    html = page.content.decode()
    assert page.status_code == 200 and f'data-job="{job.pk}"' in html
    assert "ValueError: the customer file is broken" in html
    assert 'data-count-for="failed"' in html
    detail = browser(operator).get(f"/jobs/{job.pk}/").content.decode()
    assert "Traceback (most recent call last)" in detail and "breaks_until_fixed" in detail

    listed = api_as(operator).get("/api/v1/jobs/?status=failed").json()
    assert [j["id"] for j in listed["results"]] == [job.pk]
    assert listed["results"][0]["error"] == "ValueError: the customer file is broken"

    # Not for everyone: the page, the detail and the API need the special permission.
    assert browser(rep).get("/jobs/").status_code == 403
    assert browser(rep).get(f"/jobs/{job.pk}/").status_code == 403
    assert browser(rep).post(f"/jobs/{job.pk}/retry/").status_code == 403
    assert api_as(rep).get("/api/v1/jobs/").status_code == 403
    assert api_as(rep).post(f"/api/v1/jobs/{job.pk}/retry/").status_code == 403
    assert "/jobs/" not in browser(rep).get("/").content.decode()
    assert 'href="/jobs/"' in browser(operator).get("/").content.decode()

    EventRecord.objects.create(name="test.fixed", payload={"tag": "fixme"})
    response = browser(operator).post(f"/jobs/{job.pk}/retry/")
    assert response.status_code == 302
    run_jobs()
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.attempts == 2 and _effects("fixme").count() == 1
    # A succeeded job cannot be retried.
    assert api_as(operator).post(f"/api/v1/jobs/{job.pk}/retry/").status_code == 400
    assert api_as(operator).get("/api/v1/jobs/?status=nonsense").status_code == 400
    assert api_as(operator).get("/api/v1/jobs/999999/").status_code == 404


@pytest.mark.django_db
def test_periodic_jobs_are_listed_with_last_and_next_run_and_can_be_run_now(operator):
    html = browser(operator).get("/jobs/").content.decode()
    assert 'data-periodic="purge-recycle-bin"' in html and 'data-periodic="test-every-minute"' in html
    response = browser(operator).post("/jobs/periodic/test-every-minute/run/")
    job = Job.objects.get(periodic="test-every-minute")
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    run_jobs()
    html = browser(operator).get("/jobs/").content.decode()
    row = html.split('data-periodic="test-every-minute"')[1].split("</tr>")[0]
    assert f"/jobs/{job.pk}/" in row and 'data-status="succeeded"' in row
    assert browser(operator).post("/jobs/periodic/no-such-job/run/").status_code == 404


# --- a killed worker -----------------------------------------------------------------------------

def _database_url():
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(DATABASE_URL=_database_url(), DJANGO_SETTINGS_MODULE="crm.settings", PYTHONUNBUFFERED="1", **extra)
    return env


def _wait_for(predicate, what, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_killed_mid_job_loses_nothing_and_repeats_nothing(tmp_path):
    from django_tasks_db.models import DBTaskResult

    gate = tmp_path / "gate"
    with transaction.atomic():
        slow = enqueue_after_commit(slow_steps, "slow", 3, str(gate))
        quick = [enqueue_after_commit(record_effect, f"quick-{i}") for i in range(3)]
    worker_cmd = [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay", "--interval", "0.1",
                  "--queue-name", "*"]
    log = open(tmp_path / "worker.log", "wb")
    worker = subprocess.Popen(worker_cmd, cwd=BASE_DIR, env=_env(), stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        def slow_is_midway():
            slow.refresh_from_db()
            return slow.status == Job.Status.RUNNING and slow.progress_done == 1
        _wait_for(slow_is_midway, "the slow job's first step")
        os.killpg(worker.pid, signal.SIGKILL)  # no chance to clean up
        worker.wait(30)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(30)
    slow.refresh_from_db()
    assert slow.status == Job.Status.RUNNING and slow.attempts == 1  # left behind by the dead worker
    assert _effects("slow").count() == 1

    # Before the heartbeat is overdue the job counts as running; after it, it is queued again.
    assert maintain(timezone.now())["recovered"] == 0
    counts = maintain(timezone.now() + timedelta(seconds=settings.JOBS_STALE_SECONDS + 1))
    assert counts["recovered"] == 1
    slow.refresh_from_db()
    assert slow.status == Job.Status.QUEUED and slow.lost == 1 and "WorkerLost" in slow.error
    assert DBTaskResult.objects.filter(status="RUNNING").count() == 0  # the dead worker's row is closed

    gate.touch()
    restarted = subprocess.run(worker_cmd + ["--batch"], cwd=BASE_DIR, env=_env(), capture_output=True, timeout=300)
    assert restarted.returncode == 0, restarted.stdout.decode()[-3000:] + restarted.stderr.decode()[-3000:]
    slow.refresh_from_db()
    assert slow.status == Job.Status.SUCCEEDED and slow.attempts == 2 and slow.progress_done == 3
    for job in quick:
        job.refresh_from_db()
        assert job.status == Job.Status.SUCCEEDED
    # Every job's effect exactly once: each step of the interrupted job, each quick job.
    assert sorted(_effects("slow").values_list("payload__step", flat=True)) == [0, 1, 2]
    for i in range(3):
        assert _effects(f"quick-{i}").count() == 1


@pytest.mark.django_db
def test_a_job_whose_worker_keeps_dying_fails_in_the_end():
    job = enqueue_after_commit(record_effect, "doomed")
    for _ in range(4):
        Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, heartbeat_at=timezone.now() - timedelta(days=1))
        maintain(timezone.now())
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.lost == 4 and "WorkerLost" in job.error


# --- the RQ backend against the machine's Redis -------------------------------------------------

def _redis_url():
    return os.environ.get("CRM_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _require_redis():
    import redis

    try:
        redis.Redis.from_url(_redis_url(), socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs a Redis server at {_redis_url()} for the RQ backend tests: {exc}")
        pytest.skip(f"no Redis server answers at {_redis_url()} (the RQ backend tests need one; CI starts it)")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_rq_backend_runs_jobs_through_redis_with_a_real_rq_worker(tmp_path):
    _require_redis()
    import redis

    queue = f"crm-test-{uuid.uuid4().hex[:12]}"
    rq_settings = {"TASKS": {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default", queue]}},
                   "RQ_QUEUES": {"default": {"URL": _redis_url()}, queue: {"URL": _redis_url()}}}
    try:
        with override_settings(**rq_settings):
            with transaction.atomic():
                ok = enqueue_job(record_effect.using(queue_name=queue), args=("rq",))
                retried = enqueue_job(flaky.using(queue_name=queue), args=("rq-flaky", 1))
                with pytest.raises(RuntimeError):
                    with transaction.atomic():
                        enqueue_job(record_effect.using(queue_name=queue), args=("rq-rolled-back",))
                        raise RuntimeError
            assert redis.Redis.from_url(_redis_url()).llen(f"rq:queue:{queue}") == 2  # after commit

            env = _env(TASKS_BACKEND="django_tasks_rq.RQBackend", REDIS_URL=_redis_url(), RQ_QUEUES=queue)
            cmd = [sys.executable, "manage.py", "rqworker", "--burst", "--job-class", "django_tasks_rq.Job", queue]
            done = subprocess.run(cmd, cwd=BASE_DIR, env=env, capture_output=True, timeout=300)
            assert done.returncode == 0, done.stdout.decode()[-3000:] + done.stderr.decode()[-3000:]
            ok.refresh_from_db()
            retried.refresh_from_db()
            assert ok.status == Job.Status.SUCCEEDED and _effects("rq").count() == 1
            assert retried.status == Job.Status.RETRYING and retried.attempts == 1

            maintain(retried.run_after)  # the scheduler hands the retry back to Redis when due
            done = subprocess.run(cmd, cwd=BASE_DIR, env=env, capture_output=True, timeout=300)
            assert done.returncode == 0, done.stderr.decode()[-3000:]
            retried.refresh_from_db()
            assert retried.status == Job.Status.SUCCEEDED and retried.attempts == 2
            assert _effects("rq-flaky").count() == 1 and not _effects("rq-rolled-back").exists()
    finally:
        client = redis.Redis.from_url(_redis_url())
        for key in client.scan_iter(f"*{queue}*"):
            client.delete(key)


def test_the_backend_is_chosen_by_configuration():
    from django_tasks import task_backends

    with override_settings(TASKS={"default": {"BACKEND": "django_tasks_rq.RQBackend"}},
                           RQ_QUEUES={"default": {"URL": _redis_url()}}):
        assert type(task_backends["default"]).__name__ == "RQBackend"
    assert type(task_backends["default"]).__name__ == "DatabaseBackend"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_scheduler_command_runs_one_round(capsys):
    from django.core.management import call_command

    call_command("run_scheduler", "--once", verbosity=1)
    out = capsys.readouterr().out
    assert "purge-recycle-bin" in out
    assert PeriodicRun.objects.filter(name="purge-recycle-bin").count() == 1
    assert Job.objects.filter(periodic="purge-recycle-bin").count() == 1
    call_command("run_scheduler", "--once", verbosity=0)
    assert Job.objects.filter(periodic="purge-recycle-bin").count() == 1  # the same slot: once


@pytest.mark.django_db
def test_old_job_history_is_pruned_by_a_periodic_job():
    from crm.core.jobs.models import IdempotencyKey
    from crm.core.jobs.tasks import prune_job_history

    assert "prune-job-history" in PERIODIC
    old = timezone.now() - timedelta(days=40)
    recent_ok = enqueue_after_commit(record_effect, "recent")
    run_jobs()
    old_ok = Job.objects.create(task_path=record_effect.module_path, status=Job.Status.SUCCEEDED, finished_at=old)
    old_failed = Job.objects.create(task_path=record_effect.module_path, status=Job.Status.FAILED, finished_at=old)
    IdempotencyKey.objects.create(key="ancient", created_at=timezone.now() - timedelta(days=1000))
    counts = prune_job_history.call()
    assert counts["succeeded"] == 1 and counts["keys"] == 1
    assert not Job.objects.filter(pk=old_ok.pk).exists()
    assert Job.objects.filter(pk__in=[recent_ok.pk, old_failed.pk]).count() == 2  # failed ones stay longer
    assert IdempotencyKey.objects.filter(key="test-effect:recent:0").exists()
