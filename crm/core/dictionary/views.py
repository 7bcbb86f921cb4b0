"""The system parameters page and API (SYS-7); both need the special permission
"manage_settings", and every change is audited."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from ..access.scope import has_special
from . import parameters


@login_required
def parameters_page(request):
    if not has_special(request.user, "manage_settings"):
        raise PermissionDenied(_("You do not have permission to do this."))
    current = parameters.all_values()
    form = parameters.ParametersForm(request.POST or None, initial=current)
    if request.method == "POST" and form.is_valid():
        changes = parameters.save(request.user, form.cleaned_data, request=request)
        if changes:
            messages.success(request, _("The system parameters were saved."))
        else:
            messages.info(request, _("Nothing was changed."))
        return redirect("parameters")
    groups = {}
    for bound in form:
        groups.setdefault(str(bound.field.group), []).append(bound)
    return render(request, "crm/parameters.html", {"form": form, "groups": groups.items()},
                  status=400 if request.method == "POST" else 200)


def _api_field(p):
    common = {"help_text": p.help or p.label, "label": p.label}  # lazy: the schema is built in English
    if p.type == "int":
        return serializers.IntegerField(min_value=p.min, max_value=p.max, **common)
    if p.type == "decimal":
        return serializers.DecimalField(max_digits=12, decimal_places=6, min_value=p.min, max_value=p.max,
                                        coerce_to_string=False, **common)
    if p.type == "bool":
        return serializers.BooleanField(**common)
    if p.type == "email":
        return serializers.EmailField(allow_blank=True, **common)
    if p.type == "choice":
        return serializers.ChoiceField(choices=[c for c, _label in p.choices], **common)
    return serializers.CharField(allow_blank=True, max_length=200, **common)


def _serializer_class():
    fields = {key: _api_field(p) for key, p in parameters.PARAMETERS.items()}
    return type("SystemParameters", (serializers.Serializer,), fields)


def _errors(*codes):
    from ..api.viewsets import ERRORS

    return {c: ERRORS[c] for c in codes}


SystemParameters = _serializer_class()


class ParametersAPIView(APIView):
    """GET: every system parameter with its typed value. PATCH: change some of them (400 with
    field errors on bad values; each change is audited)."""

    serializer_class = SystemParameters

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not has_special(request.user, "manage_settings"):
            raise PermissionDenied

    @extend_schema(tags=["parameters"], responses={200: SystemParameters, **_errors(401, 403)})
    def get(self, request):
        return Response(SystemParameters(parameters.all_values()).data)

    @extend_schema(tags=["parameters"], request=SystemParameters, responses={200: SystemParameters, **_errors(400, 401, 403)})
    def patch(self, request):
        ser = SystemParameters(data=request.data, partial=True)
        ser.is_valid(raise_exception=True)
        parameters.save(request.user, dict(ser.validated_data), request=request)
        return Response(SystemParameters(parameters.all_values()).data)
