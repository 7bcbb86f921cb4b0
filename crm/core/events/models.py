from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class EventRecord(models.Model):
    """A domain event, written in the same transaction as the change it describes (outbox).

    A rolled-back change leaves no event; subscribers (and later webhooks) run after commit.
    """

    name = models.CharField(_("event"), max_length=100, db_index=True)
    content_type = models.ForeignKey(ContentType, null=True, on_delete=models.CASCADE, related_name="+",
                                     db_index=False)  # "event_object" leads with it
    object_id = models.BigIntegerField(null=True)
    payload = models.JSONField(default=dict)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["content_type", "object_id"], name="event_object")]
        verbose_name = _("event")
        verbose_name_plural = _("events")

    def __str__(self):
        return self.name
