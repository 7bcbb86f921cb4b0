from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    """Audit trail (SEC-2): field changes old → new, views of sensitive data, exports, logins."""

    class Action(models.TextChoices):
        CREATE = "create", _("created")
        UPDATE = "update", _("changed")
        DELETE = "delete", _("moved to the recycle bin")
        RESTORE = "restore", _("restored")
        PURGE = "purge", _("deleted permanently")
        TRANSFER = "transfer", _("transferred")
        REVEAL = "reveal", _("revealed masked data")
        EXPORT = "export", _("exported")
        LOGIN = "login", _("logged in")
        LOGOUT = "logout", _("logged out")
        LOGIN_FAILED = "login_failed", _("failed login")
        PERMISSION = "permission", _("changed permissions")
        HANDOVER = "handover", _("handed over records")
        PASSWORD = "password", _("changed password")

    # content_type and actor lead the composite indexes below, which serve their lookups and
    # ON DELETE checks: no single-column index of their own (one less to write per entry).
    content_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                                     db_index=False)
    object_id = models.BigIntegerField(null=True, blank=True)
    object_repr = models.CharField(_("record"), max_length=200, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        db_index=False,
    )
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    extra = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["content_type", "object_id", "at"], name="audit_object_time"),
            models.Index(fields=["actor", "action", "at"], name="audit_actor_time"),
        ]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.get_action_display()} {self.object_repr}"
