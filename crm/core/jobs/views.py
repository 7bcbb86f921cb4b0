"""The "Background jobs" page and API (special permission manage_jobs): status counts, the
newest jobs per status with errors, attempts and progress, a job's traceback, retrying a failed
job, and the periodic jobs with their last and next run and "run now"."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from ..access.scope import has_special
from ..access.special import register_special
from ..ui.menu import add_menu_item
from .engine import retry_now
from .models import Job
from .schedule import PERIODIC, overview, run_now

register_special("manage_jobs", gettext_lazy("See and manage background jobs"))
add_menu_item("settings", gettext_lazy("Background jobs"), "jobs", icon="gear-wide-connected", special="manage_jobs",
              order=80)

PAGE = 50
PENDING = (Job.Status.QUEUED, Job.Status.RUNNING)  # the page polls while any job is in these


def _require(user):
    if not has_special(user, "manage_jobs"):
        raise PermissionDenied(_("You do not have permission to do this."))


def _jobs(status, before=None, limit=PAGE):
    qs = Job.objects.all()
    if status:
        qs = qs.filter(status=status)
    if before:
        qs = qs.filter(pk__lt=before)
    return list(qs.order_by("-id")[: limit + 1])


def status_counts():
    counts = dict(Job.objects.values_list("status").annotate(n=Count("id")).order_by())
    return [{"status": s, "label": label, "count": counts.get(s, 0)} for s, label in Job.Status.choices]


def _list_context(request):
    status = request.GET.get("status", "")
    if status and status not in Job.Status.values:
        status = ""
    try:
        before = int(request.GET.get("before", "") or 0) or None
    except ValueError:
        before = None
    rows = _jobs(status, before)
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    counts = status_counts()
    pending = any(c["count"] for c in counts if c["status"] in PENDING)
    query = urlencode({k: v for k, v in (("status", status), ("before", before or "")) if v})
    return {"rows": rows, "status": status, "counts": counts, "pending": pending, "query": query,
            "next_before": rows[-1].pk if more else None, "statuses": Job.Status}


@login_required
def jobs_page(request):
    _require(request.user)
    return render(request, "jobs/jobs.html", {**_list_context(request), "periodic": overview()})


@login_required
def jobs_live(request):
    """The status counts and the table, for the page's htmx poll: it carries the poll trigger
    only while jobs are queued or running, so an idle page stops asking."""
    _require(request.user)
    return render(request, "jobs/_live.html", _list_context(request))


@login_required
def job_detail(request, pk):
    _require(request.user)
    job = get_object_or_404(Job, pk=pk)
    return render(request, "jobs/job_detail.html", {"job": job, "statuses": Job.Status})


@login_required
@require_POST
def job_retry(request, pk):
    _require(request.user)
    job = get_object_or_404(Job, pk=pk)
    if retry_now(job.pk):
        messages.success(request, _("The job was queued again."))
    else:
        messages.error(request, _("Only a failed or waiting job can be retried."))
    return redirect("job-detail", pk=job.pk)


@login_required
@require_POST
def periodic_run(request, name):
    _require(request.user)
    if name not in PERIODIC:
        raise Http404
    job = run_now(name)
    messages.success(request, _("“%(name)s” was queued.") % {"name": PERIODIC[name].label})
    return redirect("job-detail", pk=job.pk)


# --- API ---------------------------------------------------------------------------------------

class JobSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True)
    # A plain string, not an enum component: "status" enums of other apps would collide by name.
    status = serializers.CharField(read_only=True, help_text="queued, running, retrying, succeeded or failed")
    progress_percent = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Job
        fields = ["id", "name", "task_path", "status", "periodic", "attempts", "max_attempts", "run_after",
                  "progress_done", "progress_total", "progress_percent", "error", "worker", "created_at",
                  "started_at", "finished_at"]
        read_only_fields = fields


class JobDetailSerializer(JobSerializer):
    class Meta(JobSerializer.Meta):
        fields = JobSerializer.Meta.fields + ["args", "kwargs", "traceback"]
        read_only_fields = fields


class JobPage(serializers.Serializer):
    results = JobSerializer(many=True)
    next = serializers.CharField(allow_null=True, help_text="URL of the next (older) page")


def _errors(*codes):
    from ..api.viewsets import ERRORS

    return {c: ERRORS[c] for c in codes}


class _JobsAPI(APIView):
    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not has_special(request.user, "manage_jobs"):
            raise PermissionDenied


class JobListAPIView(_JobsAPI):
    """Background jobs, newest first (special permission manage_jobs)."""

    @extend_schema(tags=["jobs"], operation_id="jobs_list", responses={200: JobPage, **_errors(400, 401, 403)},
                   parameters=[
                       OpenApiParameter("status", str, enum=list(Job.Status.values), required=False),
                       OpenApiParameter("before", int, required=False, description="Only jobs with a smaller id"),
                   ])
    def get(self, request):
        status = request.query_params.get("status", "")
        if status and status not in Job.Status.values:
            raise ValidationError({"status": [_("Unknown status.")]})
        try:
            before = int(request.query_params.get("before", "") or 0) or None
        except ValueError:
            raise ValidationError({"before": [_("A whole number is required.")]})
        rows = _jobs(status, before)
        nxt = None
        if len(rows) > PAGE:
            rows = rows[:PAGE]
            from rest_framework.utils.urls import replace_query_param

            nxt = replace_query_param(request.build_absolute_uri(), "before", rows[-1].pk)
        return Response({"results": JobSerializer(rows, many=True).data, "next": nxt})


class JobDetailAPIView(_JobsAPI):
    @extend_schema(tags=["jobs"], operation_id="jobs_retrieve", responses={200: JobDetailSerializer, **_errors(401, 403, 404)})
    def get(self, request, pk):
        job = Job.objects.filter(pk=pk).first()
        if job is None:
            raise NotFound
        return Response(JobDetailSerializer(job).data)


class JobRetryAPIView(_JobsAPI):
    @extend_schema(tags=["jobs"], operation_id="jobs_retry", request=None,
                   responses={200: JobDetailSerializer, **_errors(400, 401, 403, 404)})
    def post(self, request, pk):
        job = Job.objects.filter(pk=pk).first()
        if job is None:
            raise NotFound
        if not retry_now(job.pk):
            raise ValidationError({"status": [_("Only a failed or waiting job can be retried.")]})
        job.refresh_from_db()
        return Response(JobDetailSerializer(job).data)
