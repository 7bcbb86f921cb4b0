"""Import jobs and saved column mappings (INT-4)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def upload_to(job, filename):
    return f"imports/{timezone.now():%Y/%m}/{job.entity}-{timezone.now():%H%M%S%f}-{filename[-80:]}"


class ImportJob(models.Model):
    class Mode(models.TextChoices):
        CREATE = "create", _("Create new records only")
        UPDATE = "update", _("Update existing records by key")
        UPSERT = "upsert", _("Create or update")

    class OnDuplicate(models.TextChoices):
        SKIP = "skip", _("Skip the row")
        REPORT = "report", _("Report the row as an error")
        UPDATE = "update", _("Update the existing record")

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("uploaded")
        CHECKED = "checked", _("checked (dry run)")
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    entity = models.CharField(_("entity"), max_length=50)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.CASCADE, related_name="+")
    file = models.FileField(_("file"), upload_to=upload_to, max_length=255)
    file_name = models.CharField(_("file name"), max_length=255)
    file_format = models.CharField(max_length=10, default="csv")  # csv | xlsx
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    language = models.CharField(max_length=10, blank=True)  # of messages: the uploader's language at the time
    headers = models.JSONField(default=list, blank=True)
    mode = models.CharField(_("mode"), max_length=10, choices=Mode.choices, default=Mode.CREATE)
    key_field = models.CharField(_("key"), max_length=100, blank=True)
    on_duplicate = models.CharField(_("duplicates"), max_length=10, choices=OnDuplicate.choices, default=OnDuplicate.REPORT)
    mapping = models.JSONField(default=dict, blank=True)  # column header -> field name ("" = ignored)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.UPLOADED)
    dry_run = models.BooleanField(default=False)  # the last pass was a dry run
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    skipped_count = models.PositiveIntegerField(_("skipped"), default=0)
    error_count = models.PositiveIntegerField(_("errors"), default=0)
    errors = models.JSONField(default=list, blank=True)  # [{"row": n, "field": name|None, "message": text}] (capped)
    message = models.TextField(blank=True)  # why the whole job failed
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "created_at"], name="importjob_user_time")]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self):
        return f"{self.entity}: {self.file_name}"

    @property
    def percent(self):
        if not self.total_rows:
            return 100 if self.status == self.Status.DONE else 0
        return min(100, int(self.processed_rows * 100 / self.total_rows))

    @property
    def finished(self):
        return self.status in (self.Status.DONE, self.Status.FAILED, self.Status.CHECKED)


class ImportMapping(models.Model):
    """The column mapping a user last used for an entity, keyed by the file's header row."""

    entity = models.CharField(max_length=50)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    mapping = models.JSONField(default=dict)  # header (normalised) -> field name
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["entity", "user"], name="importmapping_entity_user")]
