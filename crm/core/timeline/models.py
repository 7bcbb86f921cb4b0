from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Note(models.Model):
    """A note on any record's timeline (DESIGN.md mechanism 5). Plain text, rendered escaped."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.BigIntegerField()
    body = models.TextField(_("note"), max_length=10000)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id", "created_at"], name="note_object_time")]
        verbose_name = _("note")
        verbose_name_plural = _("notes")

    def __str__(self):
        return self.body[:50]
