"""The job engine's own records (backend-independent, so the status page works the same for the
database and the RQ backend).

`Job` is one logical job across all its attempts: written in the caller's transaction (an outbox:
a rolled-back transaction leaves no job, a committed one can never lose its job), handed to the
task backend after commit, claimed by a worker with one conditional UPDATE, retried with backoff.
`PeriodicRun` is the unique (periodic job, slot) row that makes a slot run at most once however
many schedulers run. `IdempotencyKey` makes an effect happen once however often a job runs.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

# Stored as written (English, like tracebacks); shown translated in the reader's language.
WORKER_LOST = gettext_noop("WorkerLost: the worker stopped while running this job")
TRANSLATED_ERRORS = {WORKER_LOST}


class Job(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        RETRYING = "retrying", _("Waiting to retry")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    task_path = models.CharField(_("task"), max_length=200)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    key = models.CharField(_("idempotency key"), max_length=200, null=True, blank=True, unique=True)
    periodic = models.CharField(_("periodic job"), max_length=100, blank=True, default="")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    backend = models.CharField(max_length=32, default="default")
    queue_name = models.CharField(max_length=32, default="default")
    priority = models.IntegerField(default=0)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    max_attempts = models.PositiveIntegerField(_("max attempts"), default=1)
    lost = models.PositiveSmallIntegerField(default=0)  # runs lost with a killed worker
    backoff_seconds = models.PositiveIntegerField(default=30)
    run_after = models.DateTimeField(_("run after"), null=True, blank=True)
    progress_done = models.PositiveIntegerField(null=True, blank=True)
    progress_total = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True, default="")
    traceback = models.TextField(_("traceback"), blank=True, default="")
    result = models.JSONField(null=True, blank=True)
    worker = models.CharField(_("worker"), max_length=100, blank=True, default="")
    claim = models.CharField(max_length=32, blank=True, default="")
    task_result_id = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-created_at", "-id"], name="job_status_time"),
            models.Index(fields=["status", "run_after"], name="job_status_due"),
            models.Index(fields=["periodic", "-created_at"], name="job_periodic_time"),
        ]
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")

    def __str__(self):
        return f"{self.name} #{self.pk}"

    @property
    def name(self):
        return self.task_path.rsplit(".", 1)[-1]

    @property
    def error_display(self):
        """The error in the reader's language where it is one of the engine's own messages."""
        return gettext(self.error) if self.error in TRANSLATED_ERRORS else self.error

    @property
    def progress_percent(self):
        if self.progress_total:
            return min(100, round(100 * (self.progress_done or 0) / self.progress_total))
        return None


class PeriodicRun(models.Model):
    """One row per (periodic job, slot): the INSERT that creates it is the claim."""

    name = models.CharField(max_length=100)
    slot = models.DateTimeField()
    job = models.ForeignKey(Job, null=True, on_delete=models.SET_NULL, related_name="+")
    claimed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["name", "slot"], name="periodic_run_once_per_slot")]
        indexes = [models.Index(fields=["name", "-slot"], name="periodic_run_latest")]


class IdempotencyKey(models.Model):
    """A key claimed once: the effect written in the same transaction happens exactly once."""

    key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
