"""API of the public pool (公海, CUS-9). Pools and their rules are registered entities
(`/api/v1/pools/`, `/api/v1/pool-rules/`); these endpoints list a pool's records and claim,
release, assign and move them through crm.customers.pool, in the API's one error format:
400 with the field at fault, 404 outside the user's pools, 409 when someone else was faster."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.core.access.scope import can
from crm.core.api.errors import Conflict
from crm.core.api.pagination import KeysetPagination
from crm.core.api.viewsets import ERRORS

from . import pool as pools
from .pool_models import PoolReason

KEY_PARAM = OpenApiParameter("key", OpenApiTypes.STR, OpenApiParameter.PATH, enum=["customers", "leads"],
                             description="The kind of record: customers or leads.")


class PoolResult(serializers.Serializer):
    id = serializers.IntegerField()
    ok = serializers.BooleanField()
    message = serializers.CharField(allow_blank=True)
    owner = serializers.IntegerField(allow_null=True, help_text="The owner afterwards (null: in the pool).")
    pool = serializers.IntegerField(allow_null=True, help_text="The record's pool afterwards.")


class PoolBulkResult(serializers.Serializer):
    results = PoolResult(many=True)


class PoolBulkInput(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=100)


class PoolBulkAssignInput(PoolBulkInput):
    owner = serializers.IntegerField(help_text="The person who gets the records (an active user).")


class PoolReleaseInput(serializers.Serializer):
    reason = serializers.CharField(max_length=30, help_text="A code of the data dictionary kind “pool_release_reason”.")
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)
    pool = serializers.IntegerField(required=False, allow_null=True,
                                    help_text="The pool to release into. Omitted: the record's own pool, else the default pool.")


class PoolAssignInput(serializers.Serializer):
    owner = serializers.IntegerField(help_text="The person who gets the record (an active user).")


class PoolMoveInput(serializers.Serializer):
    pool = serializers.IntegerField(help_text="The pool to move the record to.")


class PoolRecord(serializers.Serializer):
    id = serializers.IntegerField()
    display = serializers.CharField()
    code = serializers.CharField(allow_blank=True)
    pool = serializers.IntegerField()
    pool_reason = serializers.ChoiceField(choices=PoolReason.choices, allow_blank=True)
    pool_entered_at = serializers.DateTimeField(allow_null=True)
    previous_owner = serializers.IntegerField(allow_null=True)


class PoolRecordPage(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = PoolRecord(many=True)


def _result(obj, ok=True, message=""):
    return {"id": obj.pk, "ok": ok, "message": message, "owner": obj.owner_id, "pool": obj.pool_id}


class _PoolAction(APIView):
    def _answer(self, fn):
        try:
            obj = fn()
        except pools.PoolConflict as exc:
            raise Conflict(str(exc))
        return Response(PoolResult(_result(obj)).data)


class ClaimView(_PoolAction):
    @extend_schema(tags=["pool"], operation_id="pool_claim", request=None, parameters=[KEY_PARAM],
                   responses={200: PoolResult, **ERRORS},
                   description="Claim a record of a pool you may use. Above your hold or daily limit, or within "
                               "the cool-down after you released it: 400, nothing changed. Someone was faster: 409.")
    def post(self, request, key, pk):
        return self._answer(lambda: pools.claim(request.user, key, pk))


class BulkClaimView(APIView):
    @extend_schema(tags=["pool"], operation_id="pool_bulk_claim", request=PoolBulkInput, parameters=[KEY_PARAM],
                   responses={200: PoolBulkResult, **{k: v for k, v in ERRORS.items() if k != 409}},
                   description="Claim several records; each is claimed or refused on its own, with its message.")
    def post(self, request, key):
        pools.poolable(key)
        ser = PoolBulkInput(data=request.data)
        ser.is_valid(raise_exception=True)
        return _bulk_answer(key, pools.bulk(pools.claim, request.user, key, ser.validated_data["ids"]))


def _bulk_answer(key, results):
    model = pools.poolable(key).model
    ids = [r[0] for r in results]
    state = {pk: (owner, pool) for pk, owner, pool in model._base_manager.filter(pk__in=ids).values_list(
        "pk", "owner_id", "pool_id")}
    out = [{"id": pk, "ok": ok, "message": message, "owner": state.get(pk, (None, None))[0] if ok else None,
            "pool": state.get(pk, (None, None))[1] if ok else None} for pk, ok, message in results]
    return Response(PoolBulkResult({"results": out}).data)


class BulkAssignView(APIView):
    @extend_schema(tags=["pool"], operation_id="pool_bulk_assign", request=PoolBulkAssignInput, parameters=[KEY_PARAM],
                   responses={200: PoolBulkResult, **{k: v for k, v in ERRORS.items() if k != 409}},
                   description="A pool manager gives several pooled records to one person; each is assigned or "
                               "refused on its own (the person's hold limit), with its message.")
    def post(self, request, key):
        pools.poolable(key)
        ser = PoolBulkAssignInput(data=request.data)
        ser.is_valid(raise_exception=True)
        owner = get_user_model().objects.filter(pk=ser.validated_data["owner"], is_active=True).first()
        if owner is None:
            raise serializers.ValidationError({"owner": [_("Choose an active user.")]})
        return _bulk_answer(key, pools.bulk(pools.assign, request.user, key, ser.validated_data["ids"], owner))


class ReleaseView(_PoolAction):
    @extend_schema(tags=["pool"], operation_id="pool_release", request=PoolReleaseInput, parameters=[KEY_PARAM],
                   responses={200: PoolResult, **ERRORS},
                   description="Give a record back to a pool, with a reason (the owner, or a pool manager).")
    def post(self, request, key, pk):
        ser = PoolReleaseInput(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        return self._answer(lambda: pools.release(request.user, key, pk, d["reason"], note=d.get("note", ""),
                                                  pool=d.get("pool")))


class AssignView(_PoolAction):
    @extend_schema(tags=["pool"], operation_id="pool_assign", request=PoolAssignInput, parameters=[KEY_PARAM],
                   responses={200: PoolResult, **ERRORS},
                   description="A pool manager (special permission manage_pool) gives a pooled record to someone; "
                               "their hold limit applies.")
    def post(self, request, key, pk):
        ser = PoolAssignInput(data=request.data)
        ser.is_valid(raise_exception=True)
        owner = get_user_model().objects.filter(pk=ser.validated_data["owner"], is_active=True).first()
        if owner is None:
            raise serializers.ValidationError({"owner": [_("Choose an active user.")]})
        return self._answer(lambda: pools.assign(request.user, key, pk, owner))


class MoveView(_PoolAction):
    @extend_schema(tags=["pool"], operation_id="pool_move", request=PoolMoveInput, parameters=[KEY_PARAM],
                   responses={200: PoolResult, **ERRORS},
                   description="A pool manager moves a pooled record to another pool.")
    def post(self, request, key, pk):
        ser = PoolMoveInput(data=request.data)
        ser.is_valid(raise_exception=True)
        return self._answer(lambda: pools.move(request.user, key, pk, ser.validated_data["pool"]))


class PoolRecordsView(APIView):
    pagination_class = KeysetPagination

    @extend_schema(tags=["pool"], operation_id="pool_records", parameters=[
        KEY_PARAM, OpenApiParameter("pool", OpenApiTypes.INT, required=True, description="The pool."),
        OpenApiParameter("cursor", OpenApiTypes.STR, description="Opaque cursor from `next`."),
        OpenApiParameter("page_size", OpenApiTypes.INT)],
        responses={200: PoolRecordPage, **{k: v for k, v in ERRORS.items() if k != 409}},
        description="The records in a pool you may use, newest first (read the full record at its own endpoint; "
                    "phone numbers stay masked until claimed).")
    def get(self, request, key):
        p = pools.poolable(key)
        if not can(request.user, p.key, "view"):
            raise PermissionDenied
        raw = request.query_params.get("pool", "")
        if not raw.isdigit():
            raise serializers.ValidationError({"pool": [_("Choose a pool.")]})
        if int(raw) not in pools.pool_ids_for(request.user):
            raise Http404
        self.spec = p.spec
        qs = p.model.objects.for_user(request.user).filter(owner__isnull=True, pool_id=int(raw))
        paginator = self.pagination_class()
        rows = paginator.paginate_queryset(qs, request, view=self)
        data = [{"id": r.pk, "display": str(r), "code": r.code, "pool": r.pool_id, "pool_reason": r.pool_reason,
                 "pool_entered_at": r.pool_entered_at, "previous_owner": r.previous_owner_id} for r in rows]
        return paginator.get_paginated_response(PoolRecord(data, many=True).data)
