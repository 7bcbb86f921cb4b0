"""What a merge changed, kept so that it can be undone exactly (CUS-3 "merge")."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class MergeRecord(models.Model):
    """One merge: the surviving record, its values before the merge and what the merge set."""

    entity = models.CharField(_("entity"), max_length=60)
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    survivor_id = models.BigIntegerField(_("surviving record"))
    survivor_repr = models.CharField(_("surviving record"), max_length=200, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True,
                              on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(_("merged at"), default=timezone.now)
    # Raw column values (attname → JSON) of the survivor's columns the merge changed: before and after.
    survivor_before = models.JSONField(default=dict, blank=True)
    survivor_after = models.JSONField(default=dict, blank=True)
    # Forward many-to-many values the survivor gained (e.g. tags): {field: [ids]}
    added_m2m = models.JSONField(default=dict, blank=True)
    undone_at = models.DateTimeField(_("undone at"), null=True, blank=True)
    undone_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("undone by"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["content_type", "survivor_id"], name="merge_survivor")]
        verbose_name = _("merge")
        verbose_name_plural = _("merges")

    def __str__(self):
        return f"{self.entity} → {self.survivor_repr}"


class MergedRecord(models.Model):
    """A record merged into the survivor (it went to the recycle bin), with the ids of every
    related row the merge moved from it, so an undo moves exactly those back."""

    merge = models.ForeignKey(MergeRecord, on_delete=models.CASCADE, related_name="losers")
    object_id = models.BigIntegerField()
    object_repr = models.CharField(_("record"), max_length=200, blank=True)
    deleted_at = models.DateTimeField()
    # [{"kind": "fk"|"m2m"|"generic", "model": "app.model", "field": attname, "ids": [...],
    #   "flags": {flag: [ids]}, "dropped": [other ids], "kept": n}]
    moves = models.JSONField(default=list, blank=True)

    class Meta:
        indexes = [models.Index(fields=["object_id"], name="merged_object")]
        verbose_name = _("merged record")
        verbose_name_plural = _("merged records")

    def __str__(self):
        return self.object_repr
