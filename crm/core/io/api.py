"""API of import and export (INT-4):

    POST /api/v1/imports/                 upload (multipart) + options → 202, the job (runs in the background)
    GET  /api/v1/imports/                 my imports, newest first
    GET  /api/v1/imports/{id}/            status and progress
    POST /api/v1/imports/{id}/run/        run a dry-run-checked job for real
    GET  /api/v1/imports/{id}/errors/     the error report (CSV, or ?format=xlsx)
    GET  /api/v1/exports/{entity}/        the list as CSV or XLSX (?format=), with the list's filters
"""

import json

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.exceptions import ValidationError as APIValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from ..access.scope import can
from ..api.viewsets import ERRORS
from ..entities.registry import all_specs, get_spec
from . import jobs
from .models import ImportJob
from .parsing import FileError
from .report import report_response


def _errors(*codes):
    return {c: ERRORS[c] for c in codes}


class ImportJobSerializer(serializers.ModelSerializer):
    percent = serializers.IntegerField(read_only=True)
    status = serializers.CharField(read_only=True, help_text="uploaded, checked (dry run done), queued, running, done, failed")
    error_report = serializers.SerializerMethodField()
    mapping = serializers.DictField(child=serializers.CharField(allow_blank=True), read_only=True)
    headers = serializers.ListField(child=serializers.CharField(allow_blank=True), read_only=True)

    class Meta:
        model = ImportJob
        fields = ["id", "entity", "file_name", "file_format", "encoding", "headers", "mapping", "mode", "key_field",
                  "on_duplicate", "status", "dry_run", "total_rows", "processed_rows", "percent", "created_count",
                  "updated_count", "skipped_count", "error_count", "error_report", "message", "created_at",
                  "finished_at"]
        read_only_fields = fields

    def get_error_report(self, job) -> str | None:
        return reverse("api-import-errors", kwargs={"pk": job.pk}) if job.error_count else None


class ImportStartSerializer(serializers.Serializer):
    entity = serializers.ChoiceField(choices=[])
    file = serializers.FileField()
    mode = serializers.ChoiceField(choices=ImportJob.Mode.choices, default=ImportJob.Mode.CREATE)
    key_field = serializers.CharField(required=False, allow_blank=True, default="")
    on_duplicate = serializers.ChoiceField(choices=ImportJob.OnDuplicate.choices, default=ImportJob.OnDuplicate.REPORT)
    mapping = serializers.CharField(required=False, allow_blank=True, default="",
                                    help_text="JSON object {column header: field name or \"\"}; "
                                              "unmapped headers are matched by label and field name")
    dry_run = serializers.BooleanField(required=False, default=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["entity"].choices = [s.key for s in all_specs() if "import" in s.actions]


def _raise(exc):
    if isinstance(exc, FileError):
        raise APIValidationError({"file": [str(exc)]})
    if isinstance(exc, ValidationError):
        raise APIValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages})
    if isinstance(exc, DjangoPermissionDenied):
        raise PermissionDenied(str(exc))
    raise exc


class ImportListAPIView(APIView):
    parser_classes = [MultiPartParser, FormParser]
    serializer_class = ImportJobSerializer

    @extend_schema(tags=["imports"], responses={200: ImportJobSerializer(many=True), **_errors(401)})
    def get(self, request):
        return Response(ImportJobSerializer(jobs.visible_jobs(request.user)[:100], many=True).data)

    @extend_schema(tags=["imports"], request={"multipart/form-data": ImportStartSerializer},
                   responses={202: ImportJobSerializer, **_errors(400, 401, 403)})
    def post(self, request):
        ser = ImportStartSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        spec = get_spec(d["entity"])
        if not can(request.user, spec.key, "import"):
            raise PermissionDenied(_("You do not have permission to do this."))
        mapping = None
        if d["mapping"]:
            try:
                mapping = json.loads(d["mapping"])
            except ValueError:
                mapping = None
            if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
                raise APIValidationError({"mapping": [_("Send the mapping as a JSON object of column → field name.")]})
        try:
            job = jobs.start(request.user, spec, d["file"], d["mode"], d["key_field"], d["on_duplicate"], mapping)
            if mapping:
                jobs.set_mapping(job, mapping)
            jobs.enqueue(job, dry_run=d["dry_run"])
        except (FileError, ValidationError, DjangoPermissionDenied) as exc:
            _raise(exc)
        job.refresh_from_db()
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class ImportDetailAPIView(APIView):
    serializer_class = ImportJobSerializer

    @extend_schema(tags=["imports"], responses={200: ImportJobSerializer, **_errors(401, 404)})
    def get(self, request, pk):
        return Response(ImportJobSerializer(jobs.get_job(request.user, pk)).data)


class ImportRunAPIView(APIView):
    parser_classes = [JSONParser]
    serializer_class = ImportJobSerializer

    @extend_schema(tags=["imports"], request=None, responses={202: ImportJobSerializer, **_errors(400, 401, 404)})
    def post(self, request, pk):
        job = jobs.get_job(request.user, pk)
        try:
            jobs.enqueue(job, dry_run=False)
        except ValidationError as exc:
            _raise(exc)
        job.refresh_from_db()
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class FileNegotiation(BaseContentNegotiation):
    """`?format=` names the file format here, not DRF's renderer: keep the JSON renderer (errors)."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


FORMAT = OpenApiParameter("format", str, enum=["csv", "xlsx"], required=False, description="csv (default) or xlsx")
FILE = {(200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY),
        (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): OpenApiResponse(OpenApiTypes.BINARY)}


class ImportErrorsAPIView(APIView):
    content_negotiation_class = FileNegotiation

    @extend_schema(tags=["imports"], parameters=[FORMAT], responses={**FILE, **_errors(401, 404)})
    def get(self, request, pk):
        job = jobs.get_job(request.user, pk)
        return report_response(job, "xlsx" if request.query_params.get("format") == "xlsx" else "csv")


class ExportAPIView(APIView):
    content_negotiation_class = FileNegotiation

    @extend_schema(tags=["exports"], parameters=[FORMAT], description=(
        "The entity's list as a file: the same query parameters as the list (filters, q, sort, cols, "
        "view), the user's export scope, masked and protected fields, formula cells neutralised; audited."),
        responses={**FILE, **_errors(401, 403, 404)})
    def get(self, request, entity):
        from .export import FORMATS, export_response
        from ..ui.views import list_params

        try:
            spec = get_spec(entity)
        except KeyError:
            raise Http404
        if not can(request.user, spec.key, "export"):
            raise PermissionDenied(_("You do not have permission to do this."))
        params, _view = list_params(request, spec)
        fmt = params.get("format") if params.get("format") in FORMATS else "csv"
        return export_response(request, spec, params, fmt)
