from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self):
        return self.name


class SavedView(models.Model):
    """A saved query scheme (查询方案): filters + columns + sort of one entity's list (CUS-3)."""

    entity = models.CharField(_("entity"), max_length=50)
    name = models.CharField(_("name"), max_length=100)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    shared = models.BooleanField(_("shared with everyone"), default=False)
    params = models.JSONField(_("parameters"), default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["entity", "user"]), models.Index(fields=["entity", "shared"])]
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")

    def __str__(self):
        return self.name
