"""Data dictionary (数据字典, SYS-6): the pick lists of the CRM, maintained by administrators.

A kind ("industry", "customer_level", ...) holds ordered items. Records store an item's `code`,
which never changes; labels (Chinese and English), order and the active flag may. A disabled
item is no longer offered for new values, but records that hold it stay valid and keep showing
its label. Model fields use `crm.core.dictionary.fields.DictionaryField(kind=...)`.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from ..versions import BumpingQuerySet


def _in_language(zh, en):
    lang = (get_language() or "zh-hans").lower()
    if lang.startswith("en"):
        return en or zh
    return zh or en


class DictionaryQuerySet(BumpingQuerySet, models.QuerySet):
    def for_user(self, user, action="view"):
        from ..access.scope import scope_q

        return self.filter(scope_q(user, self.model, action))


class DictionaryKind(models.Model):
    """A pick list (e.g. "industry"). Kinds are created by migrations; code uses them by code."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    label_zh = models.CharField(_("Chinese label"), max_length=100)
    label_en = models.CharField(_("English label"), max_length=100)

    class Meta:
        ordering = ["code"]
        verbose_name = _("dictionary kind")
        verbose_name_plural = _("dictionary kinds")

    def __str__(self):
        return _in_language(self.label_zh, self.label_en)


class DictionaryItem(models.Model):
    """One entry of a pick list."""

    kind = models.ForeignKey(DictionaryKind, verbose_name=_("kind"), to_field="code", on_delete=models.PROTECT,
                             related_name="items")
    code = models.CharField(_("code"), max_length=30,
                            help_text=_("Stored on records; cannot be changed once the item is in use."))
    label_zh = models.CharField(_("Chinese label"), max_length=100)
    label_en = models.CharField(_("English label"), max_length=100)
    order = models.IntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True,
                                    help_text=_("Disabled items are not offered any more; records keep them."))
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now, editable=False)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    objects = DictionaryQuerySet.as_manager()

    class Meta:
        base_manager_name = "objects"  # the services' bulk writes bump the cached items' version
        ordering = ["kind", "order", "id"]
        verbose_name = _("dictionary item")
        verbose_name_plural = _("data dictionary")
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="uniq_dictionary_item")]
        indexes = [models.Index(fields=["updated_at", "id"], name="dict_updated"),
                   models.Index(fields=["order", "id"], name="dict_order")]

    def __str__(self):
        return self.label

    @property
    def label(self):
        return _in_language(self.label_zh, self.label_en)

    def clean(self):
        super().clean()
        from django.core.exceptions import ValidationError

        if self.pk:
            old = DictionaryItem.objects.filter(pk=self.pk).values_list("kind_id", "code").first()
            if old and old != (self.kind_id, self.code):
                raise ValidationError({"code": _("The code and kind of an item cannot be changed; disable it and "
                                                 "add a new one instead.")})


class ParameterQuerySet(BumpingQuerySet, models.QuerySet):
    pass


class ParameterValue(models.Model):
    """A stored override of a system parameter (SYS-7); the registry in `parameters.py` gives
    each parameter its type, default and validation."""

    key = models.CharField(_("key"), max_length=60, unique=True)
    value = models.JSONField(_("value"))
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    objects = ParameterQuerySet.as_manager()

    class Meta:
        base_manager_name = "objects"  # bulk writes bump the cached values' version too
        verbose_name = _("system parameter")
        verbose_name_plural = _("system parameters")

    def __str__(self):
        return self.key
