"""Attachments: upload, delete, list, purge. Every operation resolves the parent record through
the scope predicate: view the record → list and download its files; edit it → upload and delete.
A record in the recycle bin keeps its files (they are unreachable while it is binned); purging it
drops them, rows at once and the stored files after commit."""

import mimetypes
import os
import re
import unicodedata

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..access.scope import get_for_user_or_404, may
from ..audit import log
from ..audit.models import AuditEntry
from ..dictionary.parameters import GENERAL, Parameter, param, register_parameter
from ..entities.registry import get_spec
from ..events.bus import subscribe
from ..ui import cells
from .models import Attachment

register_parameter(Parameter(
    "attachment_max_mb", "int", 10, gettext_lazy("Largest attachment (MB)"),
    gettext_lazy("Files larger than this are refused."), min=1, max=1024, group=GENERAL))
register_parameter(Parameter(
    "attachments_per_record", "int", 20, gettext_lazy("Attachments per record"),
    gettext_lazy("How many files one record may hold."), min=1, max=1000, group=GENERAL))


# Audit entries of the parent record name the change "attachments" (old file → new file).
cells.EXTRA_LABELS["attachments"] = gettext_lazy("attachments")


def max_bytes():
    return param("attachment_max_mb") * 1024 * 1024


def validate_size(f):
    """The size cap (system parameter `attachment_max_mb`), for forms, the API and the services."""
    if f is not None and getattr(f, "size", 0) > max_bytes():
        raise ValidationError(_("“%(name)s” is larger than %(mb)d MB.") % {
            "name": clean_name(getattr(f, "name", "") or ""), "mb": param("attachment_max_mb")})


_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]+')


def clean_name(raw):
    """A file name safe to show and to send back as a download name: no path, no control or
    reserved characters, no leading dots, at most 200 characters (the extension kept)."""
    name = unicodedata.normalize("NFC", str(raw or "")).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    if len(name) > 200:
        stem, ext = os.path.splitext(name)
        ext = ext[:20]
        name = stem[: 200 - len(ext)] + ext
    return name or "file"


def mime_for(name):
    return (mimetypes.guess_type(name)[0] or "application/octet-stream")[:100]


# --- the parent record ---------------------------------------------------------------------------

def content_type_for(value):
    """An entity key ("customers"), "app_label.model" or a content type id → an opted-in entity's
    content type, or None."""
    if isinstance(value, ContentType):
        ct = value
    else:
        value = str(value or "").strip()
        ct = None
        try:
            if value.isdigit():
                ct = ContentType.objects.get_for_id(int(value))
            elif "." in value:
                app_label, model = value.split(".", 1)
                ct = ContentType.objects.get_by_natural_key(app_label, model.lower())
            elif value:
                ct = ContentType.objects.get_for_model(get_spec(value).model)
        except (ContentType.DoesNotExist, KeyError, ValueError):
            return None
    model = ct.model_class() if ct else None
    try:
        spec = get_spec(model) if model is not None else None
    except LookupError:
        return None
    return ct if spec is not None and spec.attachments else None


def parent(user, ct, object_id, action="view"):
    """The parent record the user may see (404 otherwise); with action "edit", also the right to
    change it (403 when they may see but not change it)."""
    ct = content_type_for(ct)
    if ct is None:
        raise Http404
    model = ct.model_class()
    obj = get_for_user_or_404(user, model, object_id, "view")
    if action == "edit":
        if not may(user, obj, "edit"):
            raise PermissionDenied(_("You may not change the files of this record."))
    return ct, obj


def for_record(ct, obj):
    return Attachment.objects.filter(content_type=ct, object_id=obj.pk).select_related("uploaded_by").order_by(
        "-uploaded_at", "-pk")


def may_change(user, obj):
    return may(user, obj, "edit")


# --- writes --------------------------------------------------------------------------------------

def check_files(files, existing=0):
    """Raise ValidationError({"files": [...]}) unless every file is within the size cap and the
    record stays within the count cap."""
    files = [f for f in files if f is not None]
    if not files:
        raise ValidationError({"files": [_("Choose at least one file.")]})
    errors = []
    for f in files:
        try:
            validate_size(f)
        except ValidationError as exc:
            errors += exc.messages
    cap = param("attachments_per_record")
    if existing + len(files) > cap:
        errors.append(_("A record may hold at most %(n)d files; it has %(have)d.") % {"n": cap, "have": existing})
    if errors:
        raise ValidationError({"files": errors})
    return files


def _audit(user, obj, old, new, request=None):
    log.record(user, AuditEntry.Action.UPDATE, obj, changes={"attachments": [old, new]}, request=request)


@transaction.atomic
def upload(user, ct, object_id, files, request=None):
    """Attach `files` (uploaded files) to the record; all or nothing. Returns the new rows."""
    ct, obj = parent(user, ct, object_id, "edit")
    model = type(obj)
    if hasattr(model, "version"):
        # Uploads to one record queue on its row (a no-op UPDATE takes the row lock on
        # PostgreSQL; SQLite's write lock does the same), so the count cap holds under concurrency.
        model._base_manager.filter(pk=obj.pk).update(version=F("version"))
    existing = Attachment.objects.filter(content_type=ct, object_id=obj.pk).count()
    files = check_files(files, existing)
    saved, rows = [], []
    try:
        for f in files:
            name = clean_name(f.name)
            att = Attachment(content_type=ct, object_id=obj.pk, name=name, size=f.size or 0, mime_type=mime_for(name),
                             uploaded_by=user if getattr(user, "is_authenticated", False) else None)
            att.file.save(name, f, save=False)
            saved.append(att.file.name)
            att.save()
            rows.append(att)
            _audit(user, obj, "", name, request)
    except Exception:
        for path in saved:
            default_storage.delete(path)
        raise
    return rows


@transaction.atomic
def delete(user, pk, request=None):
    """Remove one attachment (edit right on its record); the stored file goes after commit."""
    att = Attachment.objects.filter(pk=pk).select_related("content_type").first()
    if att is None:
        raise Http404
    _ct, obj = parent(user, att.content_type, att.object_id, "edit")
    if not Attachment.objects.filter(pk=att.pk).delete()[0]:
        raise Http404  # someone else deleted it meanwhile
    _audit(user, obj, att.name, "", request)
    path = att.file.name
    transaction.on_commit(lambda: default_storage.delete(path))
    return att


def drop_for(ct, ids):
    """Delete the attachments of records deleted for good (rows now, files after commit)."""
    with transaction.atomic():
        qs = Attachment.objects.filter(content_type=ct, object_id__in=list(ids))
        paths = list(qs.values_list("file", flat=True))
        qs.delete()
        transaction.on_commit(lambda: [default_storage.delete(p) for p in paths if p])
    return len(paths)


@subscribe("*")
def _on_event(event):
    """A purged record (or a hard-deleted one) drops its files; a binned one keeps them."""
    if event.content_type_id is None or event.object_id is None:
        return
    action = event.name.rsplit(".", 1)[-1]
    if action == "purged" or (action == "deleted" and not _soft(event.content_type)):
        drop_for(event.content_type, [event.object_id])


def _soft(ct):
    try:
        return get_spec(ct.model_class()).soft_delete
    except LookupError:
        return True
