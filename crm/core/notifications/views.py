"""The notification centre (ACT-4): the bell's badge, the list with mark read / mark all read,
the preferences page, and the API. Every query is filtered by recipient = the requesting user:
nobody sees, opens or marks another user's notifications (another user's id is a 404)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from .kinds import KINDS, all_kinds
from .models import Notification, NotificationPreference
from .services import mark_read, unread_count

PAGE = 30


def _page(user, unread_only=False, before=None, limit=PAGE):
    qs = Notification.objects.filter(recipient=user, in_app=True).select_related("actor")
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    if before:
        qs = qs.filter(pk__lt=before)
    rows = list(qs.order_by("-created_at", "-id")[: limit + 1])
    return rows[:limit], (rows[limit - 1].pk if len(rows) > limit else None)


def _int(value):
    try:
        return int(value or 0) or None
    except (TypeError, ValueError):
        return None


def badge_html(user):
    return render_to_string("notifications/_badge.html", {"unread": unread_count(user) if user.is_authenticated else 0})


def badge(request):
    """The bell's badge, polled by htmx. An expired session gets an empty badge and htmx's
    "stop polling" status instead of a login page."""
    if not request.user.is_authenticated:
        return HttpResponse(badge_html(request.user), status=286)
    return HttpResponse(badge_html(request.user))


@login_required
def notification_list(request):
    unread_only = request.GET.get("unread") == "1"
    rows, next_before = _page(request.user, unread_only, _int(request.GET.get("before")))
    return render(request, "notifications/list.html", {
        "rows": rows, "next_before": next_before, "unread_only": unread_only, "unread": unread_count(request.user),
        "kinds": KINDS,
    })


@login_required
@require_POST
def notification_read(request, pk):
    if not Notification.objects.filter(pk=pk, recipient=request.user).exists():
        raise Http404
    mark_read(request.user, [pk])
    return _back(request)


@login_required
def notification_open(request, pk):
    """Follow a notification's link, marking it read."""
    n = Notification.objects.filter(pk=pk, recipient=request.user).first()
    if n is None:
        raise Http404
    mark_read(request.user, [n.pk])
    if n.url and url_has_allowed_host_and_scheme(n.url, allowed_hosts={request.get_host()}):
        return redirect(n.url)
    return redirect("notifications")


@login_required
@require_POST
def notification_read_all(request):
    n = mark_read(request.user)
    if n:
        messages.success(request, _("All notifications were marked read."))
    return _back(request)


def _back(request):
    if request.htmx:
        return HttpResponse(status=204, headers={"HX-Refresh": "true"})
    nxt = request.POST.get("next", "")
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return redirect(nxt)
    return redirect("notifications")


class PreferencesForm(forms.Form):
    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        kinds = all_kinds()
        chosen = {p.kind: p for p in NotificationPreference.objects.filter(user=user)}
        self.rows = []
        for k in kinds:
            p = chosen.get(k.code)
            in_app = p.in_app if p else k.in_app
            email = p.email if p else k.email
            self.fields[f"{k.code}__in_app"] = forms.BooleanField(required=False, initial=in_app, label=_("In the CRM"))
            self.fields[f"{k.code}__email"] = forms.BooleanField(required=False, initial=email, label=_("By e-mail"))
            self.rows.append((k, self[f"{k.code}__in_app"], self[f"{k.code}__email"]))

    def save(self, user):
        for k in all_kinds():
            NotificationPreference.objects.update_or_create(
                user=user, kind=k.code,
                defaults={"in_app": self.cleaned_data[f"{k.code}__in_app"], "email": self.cleaned_data[f"{k.code}__email"]})


@login_required
def preferences(request):
    form = PreferencesForm(request.POST if request.method == "POST" else None, user=request.user)
    if request.method == "POST" and form.is_valid():
        form.save(request.user)
        messages.success(request, _("Your notification settings were saved."))
        return redirect("notification-preferences")
    return render(request, "notifications/preferences.html", {"form": form, "has_email": bool(request.user.email)})


# --- API ---------------------------------------------------------------------------------------

class NotificationSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.get_username", allow_null=True, read_only=True, default=None)
    read = serializers.BooleanField(source="is_read", read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "url", "actor", "created_at", "read", "read_at"]
        read_only_fields = fields


class NotificationPage(serializers.Serializer):
    results = NotificationSerializer(many=True)
    next = serializers.CharField(allow_null=True, help_text="URL of the next (older) page")
    unread = serializers.IntegerField(help_text="Unread notifications (counted up to 100)")


class UnreadCount(serializers.Serializer):
    unread = serializers.IntegerField(help_text="Unread notifications (counted up to 100)")


class MarkedCount(serializers.Serializer):
    marked = serializers.IntegerField()


def _errors(*codes):
    from ..api.viewsets import ERRORS

    return {c: ERRORS[c] for c in codes}


class NotificationListAPIView(APIView):
    """The requesting user's notifications, newest first."""

    @extend_schema(tags=["notifications"], operation_id="notifications_list",
                   responses={200: NotificationPage, **_errors(400, 401)},
                   parameters=[OpenApiParameter("unread", bool, required=False, description="Only unread ones"),
                               OpenApiParameter("before", int, required=False, description="Only older ids")])
    def get(self, request):
        before = request.query_params.get("before")
        if before is not None and _int(before) is None:
            raise ValidationError({"before": [_("A whole number is required.")]})
        rows, next_before = _page(request.user, request.query_params.get("unread") in ("1", "true"), _int(before))
        nxt = None
        if next_before:
            from rest_framework.utils.urls import replace_query_param

            nxt = replace_query_param(request.build_absolute_uri(), "before", next_before)
        return Response({"results": NotificationSerializer(rows, many=True).data, "next": nxt,
                         "unread": unread_count(request.user)})


class UnreadCountAPIView(APIView):
    @extend_schema(tags=["notifications"], operation_id="notifications_unread_count",
                   responses={200: UnreadCount, **_errors(401)})
    def get(self, request):
        return Response({"unread": unread_count(request.user)})


class MarkReadAPIView(APIView):
    @extend_schema(tags=["notifications"], operation_id="notifications_read", request=None,
                   responses={200: NotificationSerializer, **_errors(401, 404)})
    def post(self, request, pk):
        n = Notification.objects.filter(pk=pk, recipient=request.user).select_related("actor").first()
        if n is None:
            raise NotFound
        mark_read(request.user, [n.pk])
        n.refresh_from_db()
        return Response(NotificationSerializer(n).data)


class MarkAllReadAPIView(APIView):
    @extend_schema(tags=["notifications"], operation_id="notifications_read_all", request=None,
                   responses={200: MarkedCount, **_errors(401)})
    def post(self, request):
        return Response({"marked": mark_read(request.user)})
