"""One file attached to one record of any registered entity (kernel mechanism 5)."""

import os
import secrets

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def storage_path(instance, filename):
    """`attachments/<yyyy>/<mm>/<32 random hex><.ext>`: unguessable, and never the user's name
    (which lives in `name` and only reaches the browser as the download's file name)."""
    ext = os.path.splitext(filename)[1].lower()
    ext = ext if 1 < len(ext) <= 10 and ext[1:].isalnum() else ""
    now = timezone.now()
    return f"attachments/{now:%Y}/{now:%m}/{secrets.token_hex(16)}{ext}"


class Attachment(models.Model):
    content_type = models.ForeignKey(ContentType, verbose_name=_("record type"), on_delete=models.PROTECT,
                                     related_name="+")
    object_id = models.BigIntegerField(_("record id"))
    record = GenericForeignKey("content_type", "object_id")
    file = models.FileField(_("file"), upload_to=storage_path, max_length=255)
    name = models.CharField(_("file name"), max_length=200)
    size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    mime_type = models.CharField(_("type"), max_length=100, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        indexes = [models.Index(fields=["content_type", "object_id", "uploaded_at"], name="attachment_record")]

    def __str__(self):
        return self.name
