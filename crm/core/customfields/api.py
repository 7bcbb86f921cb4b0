"""`/api/v1/custom-fields/`: everyone signed in reads the definitions (they describe the
`custom` object of each entity); creating, changing, removing, restoring, renaming and
reordering need the special permission "manage_settings"."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from ..access.scope import has_special
from . import services
from .models import CustomField
from .serializers import CustomFieldSerializer, RenameInput, ReorderInput, json_schema

WRITES = {"create", "partial_update", "destroy", "rename", "restore", "reorder"}


def _errors(*codes):
    from ..api.viewsets import ERRORS

    return {c: ERRORS[c] for c in codes}


ENTITY = OpenApiParameter("entity", str, OpenApiParameter.QUERY, required=False,
                          description="Only the fields of this entity (e.g. `customers`).")
REMOVED = OpenApiParameter("include_removed", bool, OpenApiParameter.QUERY, required=False,
                           description="Also removed fields (their values are kept in the records).")
TAGS = ["custom-fields"]


class CustomFieldViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = CustomFieldSerializer
    pagination_class = None
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if self.action in WRITES and not has_special(request.user, "manage_settings"):
            raise PermissionDenied

    def get_queryset(self):
        qs = CustomField.objects.order_by("entity", "order", "id")
        entity = self.request.query_params.get("entity")
        if entity:
            qs = qs.filter(entity=entity)
        if self.action == "list" and self.request.query_params.get("include_removed") not in ("1", "true", "True"):
            qs = qs.filter(removed_at__isnull=True)
        return qs

    @extend_schema(tags=TAGS, parameters=[ENTITY, REMOVED], responses={200: CustomFieldSerializer(many=True),
                                                                       **_errors(401, 403)})
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(tags=TAGS, responses={200: CustomFieldSerializer, **_errors(401, 403, 404)})
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    def _data(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("entity", None)
        data.pop("key", None)
        if "choices" in data:
            data["choices"] = [dict(c) for c in data["choices"]]
        return data

    @extend_schema(tags=TAGS, responses={201: CustomFieldSerializer, **_errors(400, 401, 403)})
    def create(self, request, *args, **kwargs):
        ser = self.get_serializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = self._data(ser)
        defn = services.create(request.user, ser.validated_data["entity"], {"key": ser.validated_data["key"], **data})
        return Response(self.get_serializer(defn).data, status=status.HTTP_201_CREATED)

    @extend_schema(tags=TAGS, responses={200: CustomFieldSerializer, **_errors(400, 401, 403, 404)},
                   description="Change a definition. `entity`, `key` and `type` cannot change here: rename a key "
                               "with the rename action (it moves the stored values).")
    def partial_update(self, request, *args, **kwargs):
        defn = self.get_object()
        ser = self.get_serializer(defn, data=request.data, partial=True)
        ser.is_valid(raise_exception=True)
        defn = services.update(request.user, defn, self._data(ser))
        return Response(self.get_serializer(defn).data)

    @extend_schema(tags=TAGS, responses={204: None, **_errors(401, 403, 404)},
                   description="Remove the field from forms, lists, filters and the API. The stored values stay "
                               "in the records (administrators see them on detail pages) and come back on restore.")
    def destroy(self, request, *args, **kwargs):
        services.remove(request.user, self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(tags=TAGS, request=None, responses={200: CustomFieldSerializer, **_errors(401, 403, 404)})
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        defn = get_any(pk)
        return Response(self.get_serializer(services.restore(request.user, defn)).data)

    @extend_schema(tags=TAGS, request=RenameInput, responses={200: CustomFieldSerializer, **_errors(400, 401, 403, 404)},
                   description="Change the key; the stored values of every record move to the new key "
                               "(batched UPDATEs) and saved views follow.")
    @action(detail=True, methods=["post"])
    def rename(self, request, pk=None):
        ser = RenameInput(data=request.data)
        ser.is_valid(raise_exception=True)
        defn, _moved = services.rename(request.user, get_any(pk), ser.validated_data["key"])
        return Response(self.get_serializer(defn).data)

    @extend_schema(tags=TAGS, request=ReorderInput, responses={200: CustomFieldSerializer(many=True),
                                                                **_errors(400, 401, 403)},
                   description="Put the entity's fields in the order of `keys`.")
    @action(detail=False, methods=["post"])
    def reorder(self, request):
        ser = ReorderInput(data=request.data)
        ser.is_valid(raise_exception=True)
        services.reorder(request.user, ser.validated_data["entity"], ser.validated_data["keys"])
        rows = CustomField.objects.filter(entity=ser.validated_data["entity"], removed_at__isnull=True)
        return Response(self.get_serializer(rows.order_by("order", "id"), many=True).data)

    @extend_schema(tags=TAGS, parameters=[OpenApiParameter("entity", str, OpenApiParameter.QUERY, required=True)],
                   responses={200: OpenApiTypes.OBJECT, **_errors(401, 404)},
                   description="The JSON Schema of the entity's `custom` object under the current definitions.")
    @action(detail=False, methods=["get"], url_path="json-schema")
    def json_schema(self, request):
        from ..entities.registry import get_spec

        entity = request.query_params.get("entity") or ""
        try:
            spec = get_spec(entity)
        except KeyError:
            raise Http404
        if not hasattr(spec.model, "custom"):
            raise Http404
        return Response(json_schema(spec.key))


def get_any(pk):
    defn = CustomField.objects.filter(pk=pk).first()
    if defn is None:
        raise Http404
    return defn
