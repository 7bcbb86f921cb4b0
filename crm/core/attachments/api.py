"""`/api/v1/attachments/`: the files of one record (`?content_type=<entity key>&object_id=<id>`),
upload (multipart, one or several `files`), one file's details, its download, delete. The
parent record decides: view it → list and download; edit it → upload and delete."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, OpenApiTypes, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from django.utils.translation import gettext as _

from ..entities.registry import get_spec
from . import services
from .models import Attachment
from .views import file_response


class AttachmentSerializer(serializers.ModelSerializer):
    content_type = serializers.SerializerMethodField(help_text="Entity key of the record (e.g. `customers`).")
    download_url = serializers.SerializerMethodField(help_text="The file, always sent as a download.")

    class Meta:
        model = Attachment
        fields = ["id", "content_type", "object_id", "name", "size", "mime_type", "uploaded_by", "uploaded_at",
                  "download_url"]
        read_only_fields = fields

    def get_content_type(self, obj) -> str:
        return get_spec(obj.content_type.model_class()).key

    def get_download_url(self, obj) -> str:
        from django.urls import reverse

        return reverse("api-attachment-download", kwargs={"pk": obj.pk})


class UploadInput(serializers.Serializer):
    content_type = serializers.CharField(help_text="Entity key of the record (e.g. `customers`).")
    object_id = serializers.IntegerField()
    files = serializers.ListField(child=serializers.FileField(), help_text="One or several files (repeat the part).")


def _errors(*codes):
    from ..api.viewsets import ERRORS

    return {c: ERRORS[c] for c in codes}


RECORD = [OpenApiParameter("content_type", str, required=True, description="Entity key of the record (`customers`)."),
          OpenApiParameter("object_id", int, required=True, description="Id of the record.")]
TAGS = ["attachments"]


def _record(data):
    errors = {}
    ct = services.content_type_for(data.get("content_type"))
    if ct is None:
        errors["content_type"] = [_("Files cannot be attached to this kind of record.")]
    try:
        object_id = int(data.get("object_id"))
    except (TypeError, ValueError):
        errors["object_id"] = [_("A whole number is required.")]
        object_id = None
    if errors:
        raise ValidationError(errors)
    return ct, object_id


class AttachmentListAPIView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(tags=TAGS, operation_id="attachments_list", parameters=RECORD,
                   responses={200: AttachmentSerializer(many=True), **_errors(400, 401, 404)})
    def get(self, request):
        ct, object_id = _record(request.query_params)
        ct, obj = services.parent(request.user, ct, object_id, "view")
        rows = services.for_record(ct, obj).select_related("content_type")[:1000]
        return Response(AttachmentSerializer(rows, many=True).data)

    @extend_schema(tags=TAGS, operation_id="attachments_create", request={"multipart/form-data": UploadInput},
                   responses={201: AttachmentSerializer(many=True), **_errors(400, 401, 403, 404)})
    def post(self, request):
        ct, object_id = _record(request.data)
        files = request.FILES.getlist("files") + request.FILES.getlist("file")
        rows = services.upload(request.user, ct, object_id, files, request=request)
        return Response(AttachmentSerializer(rows, many=True).data, status=status.HTTP_201_CREATED)


def _visible(request, pk, action="view"):
    att = Attachment.objects.filter(pk=pk).select_related("content_type").first()
    if att is None:
        raise NotFound
    services.parent(request.user, att.content_type, att.object_id, action)
    return att


class AttachmentDetailAPIView(APIView):
    @extend_schema(tags=TAGS, operation_id="attachments_retrieve",
                   responses={200: AttachmentSerializer, **_errors(401, 404)})
    def get(self, request, pk):
        return Response(AttachmentSerializer(_visible(request, pk)).data)

    @extend_schema(tags=TAGS, operation_id="attachments_destroy",
                   responses={204: None, **_errors(401, 403, 404)})
    def delete(self, request, pk):
        _visible(request, pk)
        services.delete(request.user, pk, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AttachmentDownloadAPIView(APIView):
    @extend_schema(tags=TAGS, operation_id="attachments_download",
                   responses={(200, "*/*"): OpenApiResponse(OpenApiTypes.BINARY, description="The file, as a download"),
                              **_errors(401, 404)})
    def get(self, request, pk):
        return file_response(_visible(request, pk))
