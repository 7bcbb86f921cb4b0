from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """One notification for one user (ACT-4). The row is written in the transaction of the change
    that caused it; its e-mail (if the user wants one) leaves after commit as a retryable job, and
    `email_status` tells how that went."""

    class EmailStatus(models.TextChoices):
        NONE = "", _("No e-mail")
        PENDING = "pending", _("E-mail queued")
        SENT = "sent", _("E-mail sent")
        FAILED = "failed", _("E-mail failed")

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                                  verbose_name=_("recipient"))
    kind = models.CharField(_("kind"), max_length=50)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True, default="", max_length=5000)
    url = models.CharField(_("link"), max_length=500, blank=True, default="")
    content_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    object_id = models.BigIntegerField(null=True, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name=_("by"))
    in_app = models.BooleanField(default=True)  # False: the user only wants this kind by e-mail
    count = models.PositiveIntegerField(default=1)  # records in a burst folded into this one
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    email_status = models.CharField(max_length=10, choices=EmailStatus.choices, blank=True, default="")
    email_error = models.CharField(max_length=500, blank=True, default="")
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at", "-id"], name="notif_recipient_time"),
            # The unread badge: COUNT over this partial index, per user, capped.
            models.Index(fields=["recipient"], condition=Q(read_at__isnull=True, in_app=True), name="notif_unread"),
        ]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self):
        return self.title

    @property
    def is_read(self):
        return self.read_at is not None


class NotificationPreference(models.Model):
    """A user's choice for one kind; a kind without a row uses the kind's defaults."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=50)
    in_app = models.BooleanField(default=True)
    email = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notif_pref_once")]
