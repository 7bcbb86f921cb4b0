"""Numbering rules and their sequences (SYS-5)."""

import datetime

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..entities.base import EntityQuerySet


class DatePart(models.TextChoices):
    NONE = "none", _("No date")
    YEAR = "yyyy", "YYYY"
    MONTH = "yyyymm", "YYYYMM"
    DAY = "yyyymmdd", "YYYYMMDD"


class Reset(models.TextChoices):
    NEVER = "never", _("Never")
    YEARLY = "yearly", _("Every year")
    MONTHLY = "monthly", _("Every month")
    DAILY = "daily", _("Every day")


DATE_FORMATS = {DatePart.NONE: "", DatePart.YEAR: "%Y", DatePart.MONTH: "%Y%m", DatePart.DAY: "%Y%m%d"}
PERIOD_FORMATS = {Reset.NEVER: "", Reset.YEARLY: "%Y", Reset.MONTHLY: "%Y%m", Reset.DAILY: "%Y%m%d"}
# How fine a date part / reset period is: a sequence may only restart where the date part changes.
_DATE_RANK = {DatePart.NONE: 0, DatePart.YEAR: 1, DatePart.MONTH: 2, DatePart.DAY: 3}
_RESET_RANK = {Reset.NEVER: 0, Reset.YEARLY: 1, Reset.MONTHLY: 2, Reset.DAILY: 3}


class NumberingRule(models.Model):
    """How one entity's records are numbered, e.g. KH + 202611 + 0001, restarting every month."""

    entity = models.CharField(
        _("entity"), max_length=50, unique=True,
        help_text=_("The records this rule numbers, e.g. customers."),
    )
    prefix = models.CharField(_("prefix"), max_length=12, blank=True)
    date_part = models.CharField(_("date part"), max_length=10, choices=DatePart.choices, default=DatePart.MONTH)
    digits = models.PositiveSmallIntegerField(
        _("sequence digits"), default=4, validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text=_("The sequence is padded with zeros to this many digits."),
    )
    reset = models.CharField(_("reset"), max_length=10, choices=Reset.choices, default=Reset.MONTHLY)
    start_number = models.PositiveIntegerField(
        _("first number"), default=1, validators=[MinValueValidator(1)],
        help_text=_("Each period's sequence starts here. Raise it to continue an earlier numbering; "
                    "numbers never go back."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now, editable=False)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    objects = EntityQuerySet.as_manager()

    class Meta:
        ordering = ["entity"]
        verbose_name = _("numbering rule")
        verbose_name_plural = _("numbering rules")

    def __str__(self):
        from ..entities.registry import get_spec

        try:
            name = get_spec(self.entity).label_plural
        except LookupError:
            name = self.entity
        return f"{name}: {self.pattern()}"

    def clean(self):
        super().clean()
        from ..entities.registry import all_specs

        unchanged = self.pk and NumberingRule.objects.filter(pk=self.pk, entity=self.entity).exists()
        if self.entity and not unchanged and self.entity not in {s.key for s in all_specs()}:
            raise ValidationError({"entity": _("There is no entity %(key)s.") % {"key": self.entity}})
        if self.date_part in _DATE_RANK and self.reset in _RESET_RANK \
                and _RESET_RANK[self.reset] > _DATE_RANK[self.date_part]:
            # KH2026-0001 in January and again in February would be the same number.
            raise ValidationError({"reset": _("The sequence can only restart when the date part changes: "
                                              "choose a date part at least as fine as the reset period.")})

    # --- formatting ------------------------------------------------------------------------
    def period(self, today: datetime.date) -> str:
        """The key of the sequence a number issued on `today` comes from ("" = never reset)."""
        return today.strftime(PERIOD_FORMATS[self.reset]) if PERIOD_FORMATS[self.reset] else ""

    def format(self, number: int, today: datetime.date) -> str:
        fmt = DATE_FORMATS[self.date_part]
        return f"{self.prefix}{today.strftime(fmt) if fmt else ''}{number:0{self.digits}d}"

    def pattern(self) -> str:
        return f"{self.prefix}{self.get_date_part_display() if self.date_part != DatePart.NONE else ''}{'0' * self.digits}"

    def _preview(self):
        from .services import preview

        return preview(self)

    _preview.short_description = _("next number")
    preview = property(_preview)


class NumberingSequence(models.Model):
    """The last number a rule issued in one period (the whole row is the lock: one UPDATE)."""

    rule = models.ForeignKey(NumberingRule, on_delete=models.CASCADE, related_name="sequences")
    period = models.CharField(max_length=8, blank=True)
    last = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "period"], name="uniq_numbering_period")]

    def __str__(self):
        return f"{self.rule_id}/{self.period or '-'}: {self.last}"
