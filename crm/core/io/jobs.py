"""Starting import jobs (shared by the wizard and the API) and the background task."""

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django_tasks import task

from ..entities.registry import get_spec
from .columns import auto_mapping, importable_columns, key_choices, save_mapping
from .importer import check_permission, run_job
from .models import ImportJob
from .parsing import FileError, check_size, max_bytes, open_table  # noqa: F401  (FileError for callers)


def read_upload(upload):
    """The bytes of an uploaded file, refusing an oversized one before reading it."""
    if upload is None:
        raise FileError(_("Choose a file to import."))
    check_size(upload.size)
    data = upload.read(max_bytes() + 1)
    check_size(len(data))
    return data


def start(user, spec, upload, mode=ImportJob.Mode.CREATE, key_field="", on_duplicate=ImportJob.OnDuplicate.REPORT,
          mapping=None):
    """A new job for an uploaded file: the header row read, the columns mapped (the given
    mapping, else the saved one and the labels). Raises FileError, ValidationError, PermissionDenied."""
    check_permission(user, spec, mode)
    if mode not in ImportJob.Mode.values:
        raise ValidationError({"mode": _("Choose a valid mode.")})
    if on_duplicate not in ImportJob.OnDuplicate.values:
        raise ValidationError({"on_duplicate": _("Choose what to do with duplicates.")})
    keys = dict(key_choices(spec, user))
    if mode != ImportJob.Mode.CREATE and key_field not in keys:
        raise ValidationError({"key_field": _("Choose the column that finds the record to update.")})
    data = read_upload(upload)
    table = open_table(data, upload.name)
    job = ImportJob(entity=spec.key, user=user, file_name=(upload.name or "upload")[-255:], file_format=table.file_format,
                    encoding=table.encoding, headers=table.headers, mode=mode, language=get_language() or "",
                    key_field=key_field if mode != ImportJob.Mode.CREATE else "", on_duplicate=on_duplicate)
    job.mapping = auto_mapping(spec, user, table.headers)
    if mapping:
        set_mapping(job, mapping, save=False)
    job.file.save(job.file_name.rsplit("/", 1)[-1], ContentFile(data), save=False)
    job.save()
    return job


def set_mapping(job, mapping, save=True):
    """Apply {header: field name or ""}; unknown headers or fields are a ValidationError."""
    spec = get_spec(job.entity)
    names = {c.name for c in importable_columns(spec, job.user)}
    unknown_headers = [h for h in mapping if h not in job.headers]
    if unknown_headers:
        raise ValidationError({"mapping": _("The file has no column “%(name)s”.") % {"name": unknown_headers[0]}})
    unknown = [f for f in mapping.values() if f and f not in names]
    if unknown:
        raise ValidationError({"mapping": _("“%(name)s” is not a field you can import.") % {"name": unknown[0]}})
    used = [f for f in mapping.values() if f]
    if len(used) != len(set(used)):
        raise ValidationError({"mapping": _("Each field can be filled from one column only.")})
    new = {h: job.mapping.get(h, "") for h in job.headers}
    new.update({h: f or "" for h, f in mapping.items()})
    job.mapping = new
    if save:
        job.save(update_fields=["mapping"])
        save_mapping(spec, job.user, new)


def check_mapping(job):
    """Problems with the mapping that stop an import: no column mapped, a required field missing
    (for new records), the key column missing (for updates)."""
    spec = get_spec(job.entity)
    cols = {c.name: c for c in importable_columns(spec, job.user)}
    mapped = {f for f in job.mapping.values() if f}
    problems = []
    if not mapped:
        problems.append(_("Map at least one column to a field."))
    if job.mode != ImportJob.Mode.CREATE and job.key_field not in mapped:
        problems.append(_("Map a column to the key field “%(field)s”.") % {
            "field": dict(key_choices(spec, job.user)).get(job.key_field, job.key_field)})
    if job.mode != ImportJob.Mode.UPDATE:
        from .importer import Importer

        base = Importer(job).base
        for name, c in cols.items():
            if c.required and name not in mapped and base.get(name) in (None, "", []):
                problems.append(_("The required field “%(field)s” has no column.") % {"field": c.label})
    return problems


def enqueue(job, dry_run=False):
    if job.status in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING):
        raise ValidationError(_("This import is already running."))
    if job.status == ImportJob.Status.DONE or (job.status == ImportJob.Status.FAILED and not job.dry_run):
        raise ValidationError(_("This import has run already; upload the file again to import it once more."))
    problems = check_mapping(job)
    if problems:
        raise ValidationError(problems)
    job.status, job.dry_run, job.processed_rows = ImportJob.Status.QUEUED, dry_run, 0
    job.save(update_fields=["status", "dry_run", "processed_rows"])
    run_import.enqueue(job.pk, dry_run)
    return job


def visible_jobs(user):
    return ImportJob.objects.filter(user=user)


def get_job(user, pk):
    job = ImportJob.objects.filter(user=user, pk=pk).first()
    if job is None:
        from django.http import Http404

        raise Http404
    return job


@task()
def run_import(job_id, dry_run=False):
    """Background import (or dry run) of one job."""
    run_job(job_id, dry_run=dry_run)
    job = ImportJob.objects.get(pk=job_id)
    return {"status": job.status, "created": job.created_count, "updated": job.updated_count,
            "skipped": job.skipped_count, "errors": job.error_count}

