"""Running jobs in tests, in the test's own process and transaction, with a controlled clock.

    from crm.core.jobs.testing import run_jobs
    run_jobs()                                    # everything due now
    run_jobs(now=timezone.now() + timedelta(minutes=5))   # retries due within five minutes too

It hands over every job due at `now` (retries whose wait is over, jobs not yet handed over:
a test's transaction never commits, so after-commit hand-overs may not have happened) and runs
the database backend's queue as `db_worker` does, until nothing due is left. Each retry runs at
most once per call."""

from datetime import timedelta

from django.utils import timezone

from .engine import maintain
from .models import Job


def run_jobs(now=None, backend="default", max_rounds=20):
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult

    worker = Worker(queue_names=["*"], interval=0, batch=True, backend_name=backend, startup_delay=False,
                    max_tasks=None, worker_id="test-worker", excluded_queue_names=[])
    ran = 0
    for round_ in range(max_rounds):
        # Retries and dead workers once, at `now`; then only the jobs the run itself queued (a
        # retry failing again waits for the next call, whatever `now` says).
        maintain(now or timezone.now(), handover_grace=timedelta(0), retries=round_ == 0)
        progressed = False
        while True:
            row = DBTaskResult.objects.ready().filter(backend_name=backend).first()
            if row is None:
                break
            row.claim(worker.worker_id)
            worker.run_task(row)
            ran += 1
            progressed = True
        if not progressed:
            break
    return ran


def jobs_of(task):
    """The Job rows of a task, oldest first."""
    return list(Job.objects.filter(task_path=task.module_path).order_by("id"))
