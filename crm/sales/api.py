"""API actions on leads and opportunities (LEAD-2, LEAD-3, SAL-1): convert, assign, move-stage,
win, lose. The CRUD endpoints are the registry's; these call crm.sales.services and answer with
the generated serializers, in the API's one error format."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.core.access.scope import can
from crm.core.api.errors import Conflict
from crm.core.api.serializers import serializer_class
from crm.core.api.viewsets import ERRORS
from crm.core.entities.registry import get_spec

from . import services
from .models import Lead, Opportunity, Pipeline, Stage

VERSION_HELP = "The version you loaded; a stale one is refused with 409."


def _ser(model, obj, request):
    return serializer_class(get_spec(model))(obj, context={"request": request}).data


def _need(user, key, action):
    if not can(user, key, action):
        raise PermissionDenied


class OpportunityInput(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    amount = serializers.DecimalField(max_digits=16, decimal_places=2, required=False)
    pipeline = serializers.IntegerField(required=False, help_text="Default: the default pipeline.")
    stage = serializers.IntegerField(required=False, help_text="Default: the pipeline's first stage.")
    expected_close_date = serializers.DateField()


class ConvertInput(serializers.Serializer):
    customer = serializers.IntegerField(required=False, allow_null=True, help_text=(
        "An existing customer to use. Omitted: the first visible duplicate of the lead's company "
        "(duplicate check), or a new customer."))
    contact = serializers.IntegerField(required=False, allow_null=True, help_text=(
        "An existing contact of that customer. Omitted: a visible duplicate at the customer, or a new contact."))
    opportunity = OpportunityInput(required=False, allow_null=True, help_text="Omitted or null: no opportunity.")
    version = serializers.IntegerField(required=False, help_text=VERSION_HELP)


class ConvertResult(serializers.Serializer):
    lead = serializers.IntegerField()
    customer = serializers.IntegerField()
    contact = serializers.IntegerField()
    opportunity = serializers.IntegerField(allow_null=True)
    customer_reused = serializers.BooleanField()
    contact_reused = serializers.BooleanField()


class AssignInput(serializers.Serializer):
    owner = serializers.IntegerField(required=False, allow_null=True,
                                     help_text="The new owner. Omitted or null: the assignment rules choose.")
    reason = serializers.CharField(required=False, max_length=200, allow_blank=True)


class MoveInput(serializers.Serializer):
    stage = serializers.IntegerField()
    version = serializers.IntegerField(help_text=VERSION_HELP)


class WinInput(serializers.Serializer):
    version = serializers.IntegerField(help_text=VERSION_HELP)


class LoseInput(serializers.Serializer):
    version = serializers.IntegerField(help_text=VERSION_HELP)
    lost_reason = serializers.CharField(max_length=30, help_text="A code of the data dictionary kind “lost_reason”.")
    lost_to = serializers.IntegerField(required=False, allow_null=True,
                                       help_text="The id of the competitor the opportunity was lost to (one you may see).")


def _conflict(exc, model, request):
    return Conflict(str(exc), current=_ser(model, exc.current, request))


class LeadConvertView(APIView):
    @extend_schema(tags=["leads"], operation_id="leads_convert", request=ConvertInput,
                   responses={200: ConvertResult, **ERRORS},
                   description="Convert a lead into customer + contact + (optionally) opportunity in one step, "
                               "reusing a visible duplicate customer/contact. A converted lead is refused (400).")
    def post(self, request, pk):
        _need(request.user, "leads", "edit")
        ser = ConvertInput(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        opportunity = None
        if d.get("opportunity"):
            o = dict(d["opportunity"])
            if "pipeline" in o:
                o["pipeline"] = Pipeline.objects.filter(pk=o["pipeline"]).first()
                if o["pipeline"] is None:
                    raise serializers.ValidationError({"pipeline": [_("Unknown pipeline.")]})
            if "stage" in o:
                o["stage"] = Stage.objects.filter(pk=o["stage"]).first()
                if o["stage"] is None:
                    raise serializers.ValidationError({"stage": [_("Unknown stage.")]})
                o.setdefault("pipeline", o["stage"].pipeline)
            opportunity = o
        try:
            result = services.convert(request.user, pk, customer=d.get("customer"), contact=d.get("contact"),
                                      opportunity=opportunity, expected_version=d.get("version"))
        except services.ConflictError as exc:
            raise _conflict(exc, Lead, request)
        return Response(ConvertResult({
            "lead": result["lead"].pk, "customer": result["customer"].pk, "contact": result["contact"].pk,
            "opportunity": result["opportunity"].pk if result["opportunity"] else None,
            "customer_reused": result["customer_reused"], "contact_reused": result["contact_reused"],
        }).data)


class LeadAssignView(APIView):
    @extend_schema(tags=["leads"], operation_id="leads_assign", request=AssignInput,
                   responses={200: serializer_class(get_spec(Lead)), **ERRORS},
                   description="Assign a lead to a person, or by the assignment rules when no owner is given.")
    def post(self, request, pk):
        _need(request.user, "leads", "assign")
        ser = AssignInput(data=request.data)
        ser.is_valid(raise_exception=True)
        owner = None
        if ser.validated_data.get("owner") is not None:
            owner = get_user_model().objects.filter(pk=ser.validated_data["owner"], is_active=True).first()
            if owner is None:
                raise serializers.ValidationError({"owner": [_("Choose an active user.")]})
        lead = services.assign(request.user, pk, owner, ser.validated_data.get("reason", ""))
        return Response(_ser(Lead, lead, request))  # as saved by the service


class _OpportunityAction(APIView):
    def _answer(self, request, fn):
        _need(request.user, "opportunities", "edit")
        try:
            opp = fn()
        except services.ConflictError as exc:
            raise _conflict(exc, Opportunity, request)
        return Response(_ser(Opportunity, opp, request))  # as saved by the service


OPP = serializer_class(get_spec(Opportunity))


class MoveStageView(_OpportunityAction):
    @extend_schema(tags=["opportunities"], operation_id="opportunities_move_stage", request=MoveInput,
                   responses={200: OPP, **ERRORS},
                   description="Move to another stage of the same pipeline (400 for another pipeline's stage, "
                               "409 when the version is stale). A lost stage needs the lose action.")
    def post(self, request, pk):
        ser = MoveInput(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        return self._answer(request, lambda: services.move_stage(request.user, pk, d["stage"], d["version"]))


class WinView(_OpportunityAction):
    @extend_schema(tags=["opportunities"], operation_id="opportunities_win", request=WinInput,
                   responses={200: OPP, **ERRORS}, description="Mark won: move to the pipeline's won stage.")
    def post(self, request, pk):
        ser = WinInput(data=request.data)
        ser.is_valid(raise_exception=True)
        return self._answer(request, lambda: services.win(request.user, pk, ser.validated_data["version"]))


class LoseView(_OpportunityAction):
    @extend_schema(tags=["opportunities"], operation_id="opportunities_lose", request=LoseInput,
                   responses={200: OPP, **ERRORS},
                   description="Mark lost with a reason (data dictionary) and the competitor lost to.")
    def post(self, request, pk):
        ser = LoseInput(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        return self._answer(request, lambda: services.lose(request.user, pk, d["version"], d["lost_reason"],
                                                           d.get("lost_to")))

