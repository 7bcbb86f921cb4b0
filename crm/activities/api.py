"""API actions on one occurrence of a recurring appointment (ACT-2, RFC 5545): change it, it and
the following ones, or the whole series; cancel the same. The CRUD endpoints are the registry's."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.core.access.scope import can
from crm.core.api.errors import Conflict
from crm.core.api.serializers import serializer_class
from crm.core.api.viewsets import ERRORS
from crm.core.entities.registry import get_spec
from crm.core.entities.services import ConflictError

from . import services
from .models import Appointment

SCOPE_HELP = ("`this`: only this occurrence (it becomes its own appointment with RECURRENCE-ID, the series gets "
              "an EXDATE); `following`: this and the later ones (the series ends the day before, a new series "
              "starts here); `all`: the whole series.")


class OccurrenceInput(serializers.Serializer):
    occurrence = serializers.DateTimeField(help_text="The start of the occurrence as the series has it.")
    scope = serializers.ChoiceField(choices=list(services.SCOPES), help_text=SCOPE_HELP)
    version = serializers.IntegerField(required=False, help_text="The series' version you loaded; stale: 409.")


class EditOccurrenceInput(OccurrenceInput):
    title = serializers.CharField(max_length=200, required=False)
    start_at = serializers.DateTimeField(required=False)
    end_at = serializers.DateTimeField(required=False)
    all_day = serializers.BooleanField(required=False)
    location = serializers.CharField(max_length=255, required=False, allow_blank=True)
    description = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    force = serializers.BooleanField(required=False, default=False,
                                     help_text="Save despite overlaps (otherwise 400 listing them at `start_at`).")


def _ser(obj, request):
    return serializer_class(get_spec(Appointment))(obj, context={"request": request}).data


def _need(user):
    if not can(user, "appointments", "edit"):
        raise PermissionDenied


class AppointmentOccurrenceView(APIView):
    @extend_schema(tags=["appointments"], operation_id="appointments_edit_occurrence", request=EditOccurrenceInput,
                   responses={200: serializer_class(get_spec(Appointment)), **ERRORS},
                   description="Change one occurrence of a recurring appointment, it and the following ones, or "
                               "the whole series. Answers the appointment that now holds the occurrence.")
    def post(self, request, pk):
        _need(request.user)
        ser = EditOccurrenceInput(data=request.data)
        ser.is_valid(raise_exception=True)
        d = dict(ser.validated_data)
        occurrence, scope, version, force = d.pop("occurrence"), d.pop("scope"), d.pop("version", None), d.pop("force")
        try:
            appt = services.edit_occurrence(request.user, pk, occurrence, scope, d, version=version, force=force)
        except ConflictError as exc:
            raise Conflict(str(exc), current=_ser(exc.current, request))
        except services.Overlaps as exc:
            raise serializers.ValidationError({"start_at": [
                _("This appointment overlaps others: %(list)s. Send force=true to save it all the same.")
                % {"list": "; ".join(c["text"] for c in exc.conflicts[:10])}]})
        return Response(_ser(appt, request))


class AppointmentCancelOccurrenceView(APIView):
    @extend_schema(tags=["appointments"], operation_id="appointments_cancel_occurrence", request=OccurrenceInput,
                   responses={200: serializer_class(get_spec(Appointment)), 204: None, **ERRORS},
                   description="Cancel one occurrence (EXDATE), it and the following ones (the series ends the "
                               "day before), or the whole series (204: moved to the recycle bin).")
    def post(self, request, pk):
        _need(request.user)
        ser = OccurrenceInput(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        try:
            appt = services.cancel_occurrence(request.user, pk, d["occurrence"], d["scope"], version=d.get("version"))
        except ConflictError as exc:
            raise Conflict(str(exc), current=_ser(exc.current, request))
        if appt is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(_ser(appt, request))
