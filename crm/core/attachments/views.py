"""Pages of attachments: the panel on a record's detail page (htmx: upload several files at once,
delete), and the download, always as an attachment (never rendered inline)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ..entities.registry import get_spec
from . import services
from .models import Attachment


def count_id(ct, obj):
    return f"attachments-count-{ct.pk}-{obj.pk}"


def panel_body(request, ct, obj, error=None, rows=None, oob=False):
    """The panel's body; after an htmx upload or delete (`oob`) it also updates the count in the
    panel's header (an out-of-band swap)."""
    rows = list(services.for_record(ct, obj)[:1000]) if rows is None else rows
    return render_to_string("attachments/_panel.html", {
        "rows": rows, "ct": ct, "obj": obj, "error": error, "editable": services.may_change(request.user, obj),
        "oob": oob, "count_id": count_id(ct, obj),
        "max_mb": services.param("attachment_max_mb"), "cap": services.param("attachments_per_record"),
        "upload_url": reverse("attachments-upload", kwargs={"ct": ct.pk, "pk": obj.pk}),
    }, request=request)


def attachments_panel(request, obj):
    """The "Attachments" panel of a detail page (EntitySpec.attachments)."""
    from django.contrib.contenttypes.models import ContentType
    from django.utils.safestring import mark_safe

    ct = ContentType.objects.get_for_model(obj)
    rows = list(services.for_record(ct, obj)[:1000])
    return {"key": "attachments", "title": _("Attachments"), "headers": [], "rows": [], "count": len(rows),
            "count_id": count_id(ct, obj),
            "body": mark_safe(panel_body(request, ct, obj, rows=rows)), "add_url": None, "more": False}


def _back(request, obj):
    return redirect(f"{get_spec(type(obj)).key}-detail", pk=obj.pk)


@login_required
@require_POST
def upload(request, ct, pk):
    """POST several files (`files`) to a record; htmx gets the panel back, a plain form a redirect."""
    ct_obj, obj = services.parent(request.user, ct, pk, "view")
    error = None
    try:
        rows = services.upload(request.user, ct_obj, pk, request.FILES.getlist("files") + request.FILES.getlist("file"),
                               request=request)
    except ValidationError as exc:
        error = " ".join(exc.messages)
    if request.htmx:
        return HttpResponse(panel_body(request, ct_obj, obj, error, oob=True))
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("%(count)d file(s) attached.") % {"count": len(rows)})
    return _back(request, obj)


@login_required
@require_POST
def delete(request, pk):
    att = Attachment.objects.filter(pk=pk).select_related("content_type").first()
    if att is None:
        raise Http404
    ct, obj = services.parent(request.user, att.content_type, att.object_id, "view")
    services.delete(request.user, pk, request=request)
    if request.htmx:
        return HttpResponse(panel_body(request, ct, obj, oob=True))
    messages.success(request, _("“%(name)s” was deleted.") % {"name": att.name})
    return _back(request, obj)


def file_response(att):
    """The stored file as a download: Content-Disposition attachment, nosniff, no active content."""
    if not att.file.name or not default_storage.exists(att.file.name):
        raise Http404
    response = FileResponse(default_storage.open(att.file.name, "rb"), as_attachment=True, filename=att.name,
                            content_type=att.mime_type or "application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def download(request, pk):
    att = Attachment.objects.filter(pk=pk).select_related("content_type").first()
    if att is None:
        raise Http404
    services.parent(request.user, att.content_type, att.object_id, "view")
    return file_response(att)


