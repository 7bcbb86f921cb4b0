"""Territory pages and API actions (SAL-9): the tree with record counts, a territory's panels
(members, counts of its records), and the re-territory trigger. Records are counted through the
scope predicate of each model, so nobody learns of records outside their scope."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.core.access.scope import can
from crm.core.api.viewsets import ERRORS
from crm.core.entities.registry import get_spec
from crm.core.ui.panels import record_panel

from .models import Territory, TerritoryMember
from .territories import territory_models


def _need(user, action):
    if not can(user, "territories", action):
        raise PermissionDenied(_("You do not have permission to do this."))


def record_counts(user, territory_ids=None):
    """{model label: {territory id: visible records}} for the models that take part."""
    out = {}
    for model in territory_models():
        key = get_spec(model).key
        if not can(user, key, "view"):
            continue
        qs = model.objects.for_user(user).filter(territory__isnull=False)
        if territory_ids is not None:
            qs = qs.filter(territory_id__in=territory_ids)
        out[model] = dict(qs.values("territory").annotate(n=Count("pk")).values_list("territory", "n"))
    return out


@login_required
def territory_tree(request):
    _need(request.user, "view")
    territories = list(Territory.objects.for_user(request.user).order_by("path"))
    members = dict(TerritoryMember.objects.filter(user__is_active=True).values("territory")
                   .annotate(n=Count("pk")).values_list("territory", "n"))
    counts = record_counts(request.user)
    columns = [{"label": model._meta.verbose_name_plural, "key": get_spec(model).key} for model in counts]
    for t in territories:
        t.member_count = members.get(t.pk, 0)
        t.counts = [{"n": counts[model].get(t.pk, 0),
                     "url": reverse(f"{get_spec(model).key}-list") + "?" + urlencode({"territory": t.pk})}
                    for model in counts]
    return render(request, "org/territory_tree.html", {
        "territories": territories, "columns": columns,
        "can_create": can(request.user, "territories", "create"),
        "can_edit": can(request.user, "territories", "edit"),
    })


@login_required
@require_POST
def territory_reterritory(request):
    _need(request.user, "edit")
    job = enqueue(request.user)
    messages.success(request, _("Re-territorying runs in the background (job %(id)s).") % {"id": job.pk})
    return redirect("org-territories")


def enqueue(user, territory_id=None):
    from django.db import transaction

    from crm.core.jobs import enqueue_after_commit

    from .tasks import reterritory_job

    with transaction.atomic():
        return enqueue_after_commit(reterritory_job, territory_id, user.pk)


# --- Detail panels ------------------------------------------------------------------------------

def members_panel(request, territory):
    qs = TerritoryMember.objects.filter(territory=territory).order_by("role", "user__name", "pk")
    return record_panel(request, "members", TerritoryMember, qs, ["user", "role"], _("Members"),
                        _("Add a member"), {"territory": territory.pk}, limit=100)


def records_panel(request, territory):
    """How many records the territory (and its subtree) holds, of those the viewer may see."""
    ids = list(Territory.objects.filter(path__startswith=territory.path).values_list("pk", flat=True))
    rows = []
    for model, counts in record_counts(request.user, ids).items():
        key = get_spec(model).key
        rows.append({"cells": [str(model._meta.verbose_name_plural), str(counts.get(territory.pk, 0)),
                               str(sum(counts.values()))],
                     "url": reverse(f"{key}-list") + "?" + urlencode({"territory": territory.pk}),
                     "indent": 0, "obj": None})
    return {"key": "territory-records", "title": _("Records in this territory"), "rows": rows, "more": False,
            "add_url": None, "headers": [_("Records"), _("In this territory"), _("With sub-territories")]}


# --- API ----------------------------------------------------------------------------------------

class ReterritoryResult(serializers.Serializer):
    job = serializers.IntegerField(help_text="The background job; see /api/v1/jobs/.")


class ReterritoryView(APIView):
    @extend_schema(tags=["territories"], operation_id="territories_reterritory", request=None,
                   responses={202: ReterritoryResult, **ERRORS},
                   description="Match every customer and lead not fixed by hand to its territory again, "
                               "in a background job (needs the edit right on territories).")
    def post(self, request):
        _need(request.user, "edit")
        job = enqueue(request.user)
        return Response({"job": job.pk}, status=202)
