"""The job engine on top of Django's Tasks API (django-tasks).

    from django_tasks import task
    from crm.core.jobs import enqueue_after_commit, retryable, report_progress, run_once

    @retryable(max_attempts=6, backoff=timedelta(seconds=30))
    @task()
    def send_invoice(invoice_id): ...

    enqueue_after_commit(send_invoice, invoice.pk)          # inside the writer's transaction

How it works. `enqueue_job` writes a `Job` row in the caller's transaction and hands the job to
the task backend (database or RQ) in `transaction.on_commit`. What the backend runs is always
`run_job(job_id)`: it claims the job with one conditional UPDATE (status queued → running), so a
job handed over twice still runs once; it calls the task; it records success, or the error with
its traceback and — for a retryable task with attempts left — a due time `now + backoff·2^(n-1)`.
The scheduler (`run_scheduler`) is the engine's clock: it hands due retries back to the backend,
hands over committed jobs whose after-commit hand-over never happened (a crash right after
commit), and re-queues jobs whose worker died (no heartbeat for `JOBS_STALE_SECONDS`). So the
backend needs no deferred-job support, and every time decision takes a `now` that tests control.

A job may run more than once (a worker killed after the effect but before "succeeded" was
written): effects that must happen once go through `run_once(key)`, whose key is claimed in the
effect's own transaction.
"""

import contextvars
import logging
import os
import socket
import threading
import traceback as tb
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks import TaskContext, task
from django_tasks.base import Task

from .models import WORKER_LOST, IdempotencyKey, Job

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    backoff: timedelta = timedelta(seconds=30)
    max_backoff: timedelta = timedelta(hours=6)

    def delay(self, attempt):
        """The wait after failed attempt number `attempt` (1-based): backoff · 2^(attempt-1), capped."""
        return min(self.backoff * (2 ** max(attempt - 1, 0)), self.max_backoff)


_policies: dict[str, RetryPolicy] = {}


def retryable(max_attempts=5, backoff=timedelta(seconds=30), max_backoff=timedelta(hours=6)):
    """Mark a task as retryable: a failed attempt is retried after an exponentially growing wait,
    up to `max_attempts` attempts in all. Put it above `@task()`."""
    policy = RetryPolicy(max_attempts=max_attempts, backoff=backoff, max_backoff=max_backoff)

    def deco(t):
        _policies[t.module_path] = policy
        return t

    return deco


def policy_for(task_path):
    return _policies.get(task_path, RetryPolicy(max_attempts=1))


# --- enqueueing -------------------------------------------------------------------------------

def enqueue_after_commit(t: Task, *args, **kwargs) -> Job:
    """Queue the task `t(*args, **kwargs)`: the job row is written now (in the current transaction
    if there is one) and handed to the worker after commit; a rolled-back transaction queues
    nothing. Arguments must be JSON values (ids, not model instances)."""
    return enqueue_job(t, args=args, kwargs=kwargs)


def enqueue_job(t: Task, args=(), kwargs=None, *, key=None, periodic="", max_attempts=None, run_after=None) -> Job:
    """The full form of `enqueue_after_commit`. With `key`, a job with that key is created only
    once: a second call returns the first job (e.g. one reminder per task and due time).
    `run_after` delays the first attempt (the scheduler hands it over when due)."""
    if not isinstance(t, Task):
        raise TypeError(f"{t!r} is not a task: decorate it with @task()")
    # Fail early, in the caller, if the worker could not find the task by its path.
    if not isinstance(import_string(t.module_path), Task):
        raise ValueError(f"{t.module_path} does not name a task")
    policy = policy_for(t.module_path)
    fields = dict(
        task_path=t.module_path, args=list(args), kwargs=dict(kwargs or {}), periodic=periodic,
        backend=t.backend, queue_name=t.queue_name, priority=t.priority,
        max_attempts=max_attempts or policy.max_attempts, backoff_seconds=int(policy.backoff.total_seconds()),
        run_after=run_after,
    )
    if key is None:
        job = Job.objects.create(**fields)
    else:
        try:
            with transaction.atomic():
                job = Job.objects.create(key=key, **fields)
        except IntegrityError:
            return Job.objects.get(key=key)
    if run_after is None:
        transaction.on_commit(lambda: dispatch(job.pk), robust=True)
    return job


def dispatch(job_id):
    """Hand a queued job to the task backend. A failure (e.g. Redis down) leaves the job
    undispatched: the scheduler tries again."""
    # Claim the hand-over first (one conditional UPDATE), so two schedulers, or a scheduler and
    # the after-commit hook, never hand the same job over twice.
    if not Job.objects.filter(pk=job_id, status=Job.Status.QUEUED, dispatched_at__isnull=True).update(
            dispatched_at=timezone.now()):
        return None
    job = Job.objects.get(pk=job_id)
    try:
        runner = run_job.using(backend=job.backend, queue_name=job.queue_name, priority=job.priority)
        result = runner.enqueue(job.pk)
    except Exception:
        log.exception("could not hand job %s to the task backend %r", job.pk, job.backend)
        Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).update(dispatched_at=None)
        return None
    Job.objects.filter(pk=job.pk).update(task_result_id=str(result.id)[:64])
    return result


# --- running ----------------------------------------------------------------------------------

_current = contextvars.ContextVar("crm_current_job", default=None)


def current_job_id():
    return _current.get()


def report_progress(done, total=None):
    """Record the progress of the running job (shown on the jobs page); a no-op outside a job.
    Call it between transactions (e.g. after each batch): inside one, nobody else sees it."""
    job_id = _current.get()
    if job_id is None:
        return
    fields = {"progress_done": max(int(done), 0), "heartbeat_at": timezone.now()}
    if total is not None:
        fields["progress_total"] = max(int(total), 0)
    Job.objects.filter(pk=job_id).update(**fields)


def run_once(key):
    """Claim `key` in the current transaction; True the first time, False ever after.

        with transaction.atomic():
            if run_once(f"invoice-mail:{invoice.pk}"):
                ...  # the effect, in the same transaction as the claim

    If the transaction rolls back, so does the claim: the effect and its key commit together."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("run_once() must be called inside transaction.atomic()")
    try:
        with transaction.atomic():
            IdempotencyKey.objects.create(key=key[:200])
    except IntegrityError:
        return False
    return True


def _worker_name():
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


class _Heartbeat(threading.Thread):
    """Touches `heartbeat_at` while a long job runs, so the scheduler can tell a slow job from a
    dead worker. It first waits one interval: a short job ends before it writes anything."""

    def __init__(self, job_id, claim, interval):
        super().__init__(daemon=True, name=f"job-heartbeat-{job_id}")
        self.job_id, self.claim, self.interval = job_id, claim, interval
        self.stop = threading.Event()

    def run(self):
        try:
            while not self.stop.wait(self.interval):
                try:
                    Job.objects.filter(pk=self.job_id, claim=self.claim, status=Job.Status.RUNNING).update(
                        heartbeat_at=timezone.now())
                except Exception:  # a locked SQLite database: try again next time
                    log.debug("heartbeat of job %s failed", self.job_id, exc_info=True)
        finally:
            connection.close()


@task(takes_context=True)
def run_job(context: TaskContext, job_id: int):
    """What the task backend runs for every job: claim, run, record."""
    return execute(job_id, context)


def execute(job_id, context=None):
    now = timezone.now()
    claim = uuid.uuid4().hex
    claimed = Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(
        status=Job.Status.RUNNING, attempts=F("attempts") + 1, started_at=now, heartbeat_at=now,
        finished_at=None, worker=_worker_name(), claim=claim)
    if not claimed:  # handed over twice, already done, or gone
        return None
    job = Job.objects.get(pk=job_id)
    beat = _Heartbeat(job.pk, claim, getattr(settings, "JOBS_HEARTBEAT_SECONDS", 30))
    beat.start()
    token = _current.set(job.pk)
    try:
        t = import_string(job.task_path)
        if not isinstance(t, Task):
            raise TypeError(f"{job.task_path} is not a task")
        if t.takes_context:
            value = t.call(context or TaskContext(task_result=None), *job.args, **job.kwargs)
        else:
            value = t.call(*job.args, **job.kwargs)
    except Exception as exc:
        _record_failure(job, claim, exc)
        return None
    except BaseException as exc:  # the worker is being stopped: let another attempt run it
        _record_failure(job, claim, exc, retry_now=True)
        raise
    finally:
        _current.reset(token)
        beat.stop.set()
    try:
        Job.objects.filter(pk=job.pk, claim=claim, status=Job.Status.RUNNING).update(
            status=Job.Status.SUCCEEDED, finished_at=timezone.now(), result=_jsonable(value), error="", traceback="",
            run_after=None)
    except Exception as exc:  # e.g. a return value that is no JSON
        _record_failure(job, claim, exc)
    return None


def _jsonable(value):
    import json

    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return repr(value)[:1000]


def _record_failure(job, claim, exc, retry_now=False):
    if isinstance(exc, BaseException) and not isinstance(exc, Exception):
        log.warning("job %s interrupted (%s)", job.pk, type(exc).__name__)
    else:
        log.warning("job %s (%s) failed on attempt %s: %r", job.pk, job.task_path, job.attempts, exc)
    # Close a connection left broken by the failure before writing the outcome.
    if connection.needs_rollback or (connection.connection is not None and not connection.is_usable()):
        close_old_connections()
    attempt = Job.objects.filter(pk=job.pk).values_list("attempts", flat=True).first() or 1
    now = timezone.now()
    fields = {"error": f"{type(exc).__name__}: {exc}"[:500], "traceback": "".join(tb.format_exception(exc))[-20000:],
              "finished_at": now}
    if retry_now:
        fields.update(status=Job.Status.RETRYING, run_after=now)
    elif attempt < job.max_attempts:
        policy = policy_for(job.task_path)
        delay = RetryPolicy(backoff=timedelta(seconds=job.backoff_seconds), max_backoff=policy.max_backoff).delay(attempt)
        fields.update(status=Job.Status.RETRYING, run_after=now + delay)
    else:
        fields.update(status=Job.Status.FAILED, run_after=None)
    Job.objects.filter(pk=job.pk, claim=claim, status=Job.Status.RUNNING).update(**fields)


# --- the engine's clock: due retries, lost hand-overs, dead workers ---------------------------

MAX_LOST = 3  # runs lost with their worker before a job counts as failed


def stale_after():
    return timedelta(seconds=getattr(settings, "JOBS_STALE_SECONDS", 300))


def maintain(now=None, handover_grace=timedelta(seconds=60), retries=True):
    """One round of the scheduler's housekeeping at `now`; returns counts for the log.

    - retries whose wait is over, and delayed jobs now due, go back to the queue;
    - queued jobs committed more than `handover_grace` ago and never handed over are handed over;
    - running jobs without a heartbeat for `JOBS_STALE_SECONDS` (their worker died) are queued
      again, counting the lost attempt; out of attempts, they fail with "worker lost".
    """
    now = now or timezone.now()
    counts = {"retried": 0, "handed_over": 0, "recovered": 0, "lost": 0}
    if retries:
        _retry_and_recover(now, counts)
    undispatched = Job.objects.filter(status=Job.Status.QUEUED, dispatched_at__isnull=True).filter(
        Q(run_after__isnull=True, created_at__lte=now - handover_grace) | Q(run_after__lte=now))
    for pk in undispatched.values_list("pk", flat=True):
        if dispatch(pk) is not None:
            counts["handed_over"] += 1
    return counts


def _retry_and_recover(now, counts):
    due = list(Job.objects.filter(status=Job.Status.RETRYING, run_after__lte=now).values_list("pk", flat=True))
    for pk in due:
        if Job.objects.filter(pk=pk, status=Job.Status.RETRYING, run_after__lte=now).update(
                status=Job.Status.QUEUED, dispatched_at=None):
            counts["retried"] += 1

    stale = Job.objects.filter(status=Job.Status.RUNNING, heartbeat_at__lt=now - stale_after())
    for job in stale:
        fields = {"error": WORKER_LOST, "traceback": "",
                  "finished_at": now, "claim": "", "lost": F("lost") + 1}
        if job.lost < MAX_LOST:
            # A lost worker is not the job's failure: it runs again, even if it is not retryable
            # (a job that keeps killing its worker stops after MAX_LOST tries).
            fields.update(status=Job.Status.QUEUED, dispatched_at=None, run_after=now,
                          max_attempts=max(job.max_attempts, job.attempts + 1))
            counts["recovered"] += 1
        else:
            fields.update(status=Job.Status.FAILED, run_after=None)
            counts["lost"] += 1
        Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING, claim=job.claim).update(**fields)
        _release_backend_record(job)


def _release_backend_record(job):
    """The database backend leaves the task row of a killed worker RUNNING for ever: mark it
    failed, so its own tables do not claim a job is still running."""
    if not job.task_result_id:
        return
    try:
        from django_tasks_db.models import DBTaskResult
    except ImportError:  # pragma: no cover
        return
    try:
        DBTaskResult.objects.filter(pk=job.task_result_id, status="RUNNING").update(
            status="FAILED", finished_at=timezone.now(), exception_class_path="crm.core.jobs.WorkerLost",
            traceback="The worker stopped while running this task; the job engine queued it again.")
    except Exception:  # another backend's id, not a UUID
        pass


def retry_now(job_id):
    """Queue a failed (or waiting) job again at once, with one more attempt allowed."""
    with transaction.atomic():
        updated = Job.objects.filter(pk=job_id, status__in=[Job.Status.FAILED, Job.Status.RETRYING]).update(
            status=Job.Status.QUEUED, dispatched_at=None, run_after=None,
            max_attempts=F("attempts") + 1)
        if updated:
            transaction.on_commit(lambda: dispatch(job_id), robust=True)
    return bool(updated)
