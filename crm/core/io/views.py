"""The import wizard (INT-4): upload → map columns (auto-matched) → dry run → run with a
progress bar → result with the error report; and the list of my imports."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..access.scope import can
from ..entities.registry import all_specs, get_spec
from . import jobs
from .columns import importable_columns, key_choices
from .models import ImportJob
from .parsing import FileError, max_bytes
from .report import report_response


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("File (CSV or Excel .xlsx)"))
    mode = forms.ChoiceField(label=gettext_lazy("Mode"), choices=ImportJob.Mode.choices, initial=ImportJob.Mode.CREATE)
    key_field = forms.ChoiceField(label=gettext_lazy("Key for updates"), required=False)
    on_duplicate = forms.ChoiceField(label=gettext_lazy("When a row duplicates a record"),
                                     choices=ImportJob.OnDuplicate.choices, initial=ImportJob.OnDuplicate.REPORT)

    def __init__(self, *args, keys=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["key_field"].choices = [("", "---------")] + list(keys)
        self.fields["file"].widget.attrs["accept"] = ".csv,.xlsx,text/csv"


def _import_spec(request, key):
    try:
        spec = get_spec(key)
    except KeyError:
        raise Http404
    if "import" not in spec.actions:
        raise Http404
    if not can(request.user, spec.key, "import"):
        raise PermissionDenied(_("You do not have permission to do this."))
    return spec


@login_required
def import_upload(request, key):
    spec = _import_spec(request, key)
    keys = key_choices(spec, request.user)
    form = UploadForm(request.POST or None, request.FILES or None, keys=keys)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                job = jobs.start(request.user, spec, form.cleaned_data["file"], form.cleaned_data["mode"],
                                 form.cleaned_data["key_field"], form.cleaned_data["on_duplicate"])
            except FileError as exc:
                form.add_error("file", str(exc))
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            except PermissionDenied as exc:
                form.add_error("mode", str(exc))
            else:
                return redirect("import-job", pk=job.pk)
    return render(request, "crm/io/upload.html", {
        "spec": spec, "form": form, "limit_mb": int(max_bytes() / 1048576),
        "columns": importable_columns(spec, request.user),
    }, status=status)


def _job_context(request, job):
    spec = get_spec(job.entity)
    cols = importable_columns(spec, request.user)
    return {
        "job": job, "spec": spec, "columns": cols,
        "mapping_rows": [(i, h, job.mapping.get(h, "")) for i, h in enumerate(job.headers)],
        "key_label": dict(key_choices(spec, request.user)).get(job.key_field, ""),
        "preview_errors": job.errors[:50],
        "editable": job.status in (ImportJob.Status.UPLOADED, ImportJob.Status.CHECKED)
        or (job.status == ImportJob.Status.FAILED and job.dry_run),
    }


@login_required
def import_job(request, pk):
    job = jobs.get_job(request.user, pk)
    ctx = _job_context(request, job)
    status = 200
    if request.method == "POST":
        if not ctx["editable"]:
            messages.error(request, _("This import has run already; upload the file again to import it once more."))
            return redirect("import-job", pk=job.pk)
        mapping = {h: request.POST.get(f"map_{i}", "") for i, h in enumerate(job.headers)}
        try:
            jobs.set_mapping(job, mapping)
            jobs.enqueue(job, dry_run=request.POST.get("action") != "run")
        except ValidationError as exc:
            ctx["problems"] = exc.messages
            ctx["mapping_rows"] = [(i, h, mapping.get(h, "")) for i, h in enumerate(job.headers)]
            status = 400
        else:
            return redirect("import-job", pk=job.pk)
    return render(request, "crm/io/job.html", ctx, status=status)


@login_required
def import_progress(request, pk):
    """The progress card, polled by htmx while the job runs (it stops polling when done)."""
    job = jobs.get_job(request.user, pk)
    response = render(request, "crm/io/_progress.html", _job_context(request, job))
    if job.finished and request.htmx and request.GET.get("poll"):
        response["HX-Refresh"] = "true"  # show the result page (mapping, errors) once finished
    return response


@login_required
def import_errors(request, pk):
    job = jobs.get_job(request.user, pk)
    return report_response(job, "xlsx" if request.GET.get("format") == "xlsx" else "csv")


@login_required
def import_list(request):
    rows = list(jobs.visible_jobs(request.user)[:100])
    labels = {s.key: s.label_plural for s in all_specs()}
    for job in rows:
        job.entity_label = labels.get(job.entity, job.entity)
    specs = [s for s in all_specs() if "import" in s.actions and can(request.user, s.key, "import")]
    return render(request, "crm/io/list.html", {"jobs": rows, "specs": specs})


@login_required
def import_template(request, key):
    """An empty sheet with the column headers of the entity, in the user's language."""
    from django.http import FileResponse

    from .export import XLSX_TYPE, write_xlsx

    spec = _import_spec(request, key)
    header = [c.label for c in importable_columns(spec, request.user)]
    return FileResponse(write_xlsx(header, []), as_attachment=True, filename=f"{spec.key}-template.xlsx",
                        content_type=XLSX_TYPE)
