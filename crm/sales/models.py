"""Leads and opportunities (LEAD-1..3, SAL-1..3): leads with assignment rules and a public web
form, pipelines (sales methods) with ordered stages, opportunities with product lines, and the
stage history behind the funnel's conversion rates and days in stage."""

import datetime
import secrets
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.core.dictionary.fields import DictionaryField
from crm.core.entities.base import Entity, EntityQuerySet, TimestampedMixin, VersionedMixin
from crm.core.fields import PhoneField
from crm.customers.pool_models import PoolFieldsMixin

NOT_NEGATIVE = [MinValueValidator(0)]
# An expected close date further back than this is a typing error, not a forecast.
CLOSE_DATE_MAX_PAST_DAYS = 365


def _stored(instance, attname):
    """The value the database holds for a saved record (None for a new one)."""
    if instance.pk is None:
        return None
    return type(instance)._base_manager.filter(pk=instance.pk).values_list(attname, flat=True).first()


# --- Leads --------------------------------------------------------------------------------------

class LeadStatus:
    """Codes of the "lead_status" dictionary kind the code relies on (seeded by a migration)."""

    NEW = "new"
    CONVERTED = "converted"
    UNQUALIFIED = "unqualified"
    CLOSED = (CONVERTED, UNQUALIFIED)  # not counted as an owner's current load


class LeadWebForm(TimestampedMixin, VersionedMixin, models.Model):
    """A public, embeddable lead capture form (LEAD-1): `/f/<token>/`, spam-protected."""

    name = models.CharField(_("name"), max_length=100)
    token = models.CharField(_("token"), max_length=40, unique=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    source = DictionaryField(_("lead source"), kind="lead_source", default="website",
                             help_text=_("Used when the link does not give a source."))
    campaign_code = models.CharField(_("campaign code"), max_length=50, blank=True,
                                     help_text=_("Used when the link does not give a campaign code."))
    default_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("default owner"), on_delete=models.PROTECT, related_name="+",
        help_text=_("Owns the lead when no assignment rule matches."),
    )
    thank_you = models.CharField(_("thank-you message"), max_length=255, blank=True)

    objects = EntityQuerySet.as_manager()
    all_objects = EntityQuerySet.as_manager()

    class Meta:
        verbose_name = _("lead web form")
        verbose_name_plural = _("lead web forms")

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if not self.token:
            self.token = secrets.token_urlsafe(24)
        super().save(*args, **kwargs)


class Lead(Entity, PoolFieldsMixin):
    """A lead (线索): a prospect not yet qualified into a customer."""

    code = models.CharField(_("lead number"), max_length=30, blank=True, db_index=True)
    name = models.CharField(pgettext_lazy("person name", "name"), max_length=100)
    company = models.CharField(_("company"), max_length=200, blank=True)
    title = models.CharField(_("position"), max_length=100, blank=True)
    mobile = PhoneField(_("mobile"), blank=True)
    phone = PhoneField(_("office phone"), blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    province = models.CharField(_("province"), max_length=60, blank=True)
    city = models.CharField(_("city"), max_length=60, blank=True)
    industry = DictionaryField(_("industry"), kind="industry", blank=True)
    source = DictionaryField(_("lead source"), kind="lead_source", blank=True)
    campaign_code = models.CharField(_("campaign code"), max_length=50, blank=True)
    status = DictionaryField(_("lead status"), kind="lead_status", default=LeadStatus.NEW)
    score = models.PositiveSmallIntegerField(_("score"), default=0, validators=[MaxValueValidator(100)])
    next_follow_up = models.DateTimeField(_("next follow-up"), null=True, blank=True)
    # The time of the latest activity logged on the lead (kept by crm.activities, LEAD-3).
    last_activity_at = models.DateTimeField(_("last follow-up"), null=True, blank=True, editable=False)
    notes = models.TextField(_("notes"), blank=True)
    web_form = models.ForeignKey(LeadWebForm, verbose_name=_("web form"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+", editable=False)
    converted_at = models.DateTimeField(_("converted at"), null=True, blank=True, editable=False)
    converted_customer = models.ForeignKey("customers.Customer", verbose_name=_("converted to customer"),
                                           null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                           editable=False)
    converted_contact = models.ForeignKey("customers.Contact", verbose_name=_("converted to contact"),
                                          null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                          editable=False)
    converted_opportunity = models.ForeignKey("sales.Opportunity", verbose_name=_("converted to opportunity"),
                                              null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                              editable=False)

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        indexes = [
            models.Index(fields=["updated_at", "id"], name="lead_updated"),
            models.Index(fields=["created_at", "id"], name="lead_created"),
            models.Index(fields=["department", "updated_at", "id"], name="lead_dept_updated"),
            models.Index(fields=["owner", "updated_at", "id"], name="lead_owner_updated"),
            models.Index(fields=["owner", "status"], name="lead_owner_status"),  # current load per owner
            models.Index(fields=["name", "id"], name="lead_name"),
            models.Index(fields=["status", "updated_at", "id"], name="lead_status_updated"),
            models.Index(fields=["mobile"], name="lead_mobile"),
            models.Index(Lower("email"), name="lead_email_ci"),
            models.Index(fields=["deleted_at", "id"], name="lead_binned", condition=models.Q(deleted_at__isnull=False)),
            models.Index(fields=["pool", "updated_at", "id"], name="lead_in_pool", condition=models.Q(owner__isnull=True)),
        ]

    def __str__(self):
        return f"{self.name} · {self.company}" if self.company else self.name

    @property
    def is_converted(self):
        return self.converted_at is not None

    def clean(self):
        super().clean()
        if self.status == LeadStatus.CONVERTED and not self.converted_at:
            raise ValidationError({"status": _("A lead becomes “converted” only by converting it.")})
        if self.converted_at and self.status != LeadStatus.CONVERTED:
            raise ValidationError({"status": _("A converted lead keeps the status “converted”.")})


class AssignmentMethod(models.TextChoices):
    ROUND_ROBIN = "round_robin", _("Round robin within the team")
    REGION = "region", _("By region (round robin among the region's people)")
    LOAD = "load", _("By current load (fewest open leads)")


class LeadAssignmentRule(TimestampedMixin, VersionedMixin, models.Model):
    """Who gets a new lead (LEAD-2). Active rules are tried by priority; the first that matches
    the lead picks one of its people."""

    name = models.CharField(_("name"), max_length=100)
    priority = models.PositiveIntegerField(_("priority"), default=100, help_text=_("Lower numbers are tried first."))
    is_active = models.BooleanField(_("active"), default=True)
    method = models.CharField(_("method"), max_length=20, choices=AssignmentMethod.choices,
                              default=AssignmentMethod.ROUND_ROBIN)
    team = models.ForeignKey(settings.CRM_DEPARTMENT_MODEL, verbose_name=_("team"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+",
                             help_text=_("Its active employees take part unless people are listed."))
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("people"), blank=True,
                                     related_name="+")
    regions = models.CharField(_("regions"), max_length=500, blank=True,
                               help_text=_("Provinces or cities, separated by commas; the lead's province or "
                                           "city must be one of them."))
    sources = models.CharField(_("lead sources"), max_length=300, blank=True,
                               help_text=_("Source codes, separated by commas; empty matches every source."))
    last_assigned = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("last assigned"), null=True,
                                      blank=True, on_delete=models.SET_NULL, related_name="+", editable=False)

    objects = EntityQuerySet.as_manager()
    all_objects = EntityQuerySet.as_manager()

    class Meta:
        verbose_name = _("lead assignment rule")
        verbose_name_plural = _("lead assignment rules")
        indexes = [models.Index(fields=["is_active", "priority", "id"], name="lead_rule_order")]

    def __str__(self):
        return self.name

    @staticmethod
    def split(text):
        return [p.strip() for p in (text or "").replace("，", ",").split(",") if p.strip()]

    def clean(self):
        super().clean()
        if self.method == AssignmentMethod.REGION and not self.split(self.regions):
            raise ValidationError({"regions": _("A rule by region needs at least one province or city.")})


# --- Pipelines ----------------------------------------------------------------------------------

class Pipeline(TimestampedMixin, VersionedMixin, models.Model):
    """A sales method (销售方法): ordered stages with a win probability each (SAL-2)."""

    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    is_default = models.BooleanField(_("default pipeline"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveIntegerField(_("order"), default=0)

    objects = EntityQuerySet.as_manager()
    all_objects = EntityQuerySet.as_manager()

    class Meta:
        ordering = ["sort_order", "id"]
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")

    def __str__(self):
        return self.name

    def before_write(self, user):
        if self.is_default:  # one default pipeline: the new one takes over
            Pipeline.objects.filter(is_default=True).exclude(pk=self.pk).update(is_default=False)

    def won_stage(self):
        return self.stages.filter(kind=StageKind.WON).order_by("order", "id").first()

    def lost_stage(self):
        return self.stages.filter(kind=StageKind.LOST).order_by("order", "id").first()


class StageKind(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class Stage(TimestampedMixin, VersionedMixin, models.Model):
    pipeline = models.ForeignKey(Pipeline, verbose_name=_("pipeline"), on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=100)
    order = models.PositiveIntegerField(_("order"), default=10)
    probability = models.PositiveSmallIntegerField(_("probability (%)"), default=10,
                                                   validators=[MaxValueValidator(100)])
    kind = models.CharField(_("kind"), max_length=10, choices=StageKind.choices, default=StageKind.OPEN)

    objects = EntityQuerySet.as_manager()
    all_objects = EntityQuerySet.as_manager()

    class Meta:
        ordering = ["pipeline", "order", "id"]
        verbose_name = _("pipeline stage")
        verbose_name_plural = _("pipeline stages")
        indexes = [models.Index(fields=["pipeline", "order", "id"], name="stage_order")]

    def __str__(self):
        return f"{self.pipeline.name} · {self.name}" if self.pipeline_id else self.name

    def clean(self):
        super().clean()
        if self.kind == StageKind.WON and self.probability != 100:
            raise ValidationError({"probability": _("A won stage has the probability 100%.")})
        if self.kind == StageKind.LOST and self.probability != 0:
            raise ValidationError({"probability": _("A lost stage has the probability 0%.")})
        if self.kind != StageKind.OPEN and self.pipeline_id and Stage.objects.filter(
                pipeline_id=self.pipeline_id, kind=self.kind).exclude(pk=self.pk).exists():
            raise ValidationError({"kind": _("This pipeline already has a stage of this kind.")})


class StageTaskTemplate(TimestampedMixin, VersionedMixin, models.Model):
    """A task created for the owner when an opportunity enters the stage (SAL-2)."""

    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.CASCADE, related_name="task_templates")
    title = models.CharField(_("title"), max_length=200)
    due_in_days = models.PositiveSmallIntegerField(_("due in days"), default=3,
                                                   validators=[MaxValueValidator(365)])
    description = models.TextField(_("description"), blank=True)

    objects = EntityQuerySet.as_manager()
    all_objects = EntityQuerySet.as_manager()

    class Meta:
        ordering = ["stage", "due_in_days", "id"]
        verbose_name = _("stage task template")
        verbose_name_plural = _("stage task templates")

    def __str__(self):
        return self.title


# --- Opportunities ------------------------------------------------------------------------------

# An opportunity's status is the kind of its stage (one choice set, one enum in the API schema).
OpportunityStatus = StageKind


class Opportunity(Entity):
    """An opportunity (商机): a possible deal with a customer, moving through a pipeline (SAL-1)."""

    code = models.CharField(_("opportunity number"), max_length=30, blank=True, db_index=True)
    name = models.CharField(_("name"), max_length=200)
    customer = models.ForeignKey("customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT,
                                 related_name="opportunities")
    contacts = models.ManyToManyField("customers.Contact", verbose_name=_("contacts"), blank=True, related_name="+")
    pipeline = models.ForeignKey(Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="+")
    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2, default=Decimal("0"),
                                 validators=NOT_NEGATIVE)
    probability = models.PositiveSmallIntegerField(
        _("probability (%)"), null=True, blank=True, validators=[MaxValueValidator(100)],
        help_text=_("Left blank, the stage's probability is used."),
    )
    start_date = models.DateField(_("start date"), default=datetime.date.today)
    expected_close_date = models.DateField(_("expected close date"))
    next_step = models.CharField(_("next step"), max_length=255, blank=True)
    team_members = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("team members"), blank=True,
                                          related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=OpportunityStatus.choices,
                              default=OpportunityStatus.OPEN, editable=False)
    lost_reason = DictionaryField(_("lost reason"), kind="lost_reason", blank=True)
    lost_to = models.CharField(_("competitor lost to"), max_length=200, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)
    stage_entered_at = models.DateTimeField(_("in stage since"), default=timezone.now, editable=False)
    # The furthest stage order reached: the funnel's conversion rates count from it (SAL-3).
    reached_order = models.PositiveIntegerField(_("furthest stage reached"), default=0, editable=False)
    description = models.TextField(_("description"), blank=True)
    last_activity_at = models.DateTimeField(_("last follow-up"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        indexes = [
            models.Index(fields=["updated_at", "id"], name="opp_updated"),
            models.Index(fields=["created_at", "id"], name="opp_created"),
            models.Index(fields=["department", "updated_at", "id"], name="opp_dept_updated"),
            models.Index(fields=["owner", "updated_at", "id"], name="opp_owner_updated"),
            models.Index(fields=["name", "id"], name="opp_name"),
            models.Index(fields=["amount", "id"], name="opp_amount"),
            models.Index(fields=["expected_close_date", "id"], name="opp_close"),
            models.Index(fields=["customer", "updated_at"], name="opp_customer"),
            # The kanban and the funnel: a pipeline's open opportunities per stage, per scope.
            models.Index(fields=["pipeline", "status", "stage", "expected_close_date"], name="opp_board"),
            models.Index(fields=["department", "pipeline", "status", "stage"], name="opp_board_dept"),
            models.Index(fields=["owner", "pipeline", "status", "stage"], name="opp_board_owner"),
            models.Index(fields=["deleted_at", "id"], name="opp_binned", condition=models.Q(deleted_at__isnull=False)),
        ]

    def __str__(self):
        return self.name

    @property
    def effective_probability(self):
        return self.probability if self.probability is not None else (self.stage.probability if self.stage_id else 0)

    def _weighted_amount(self):
        return (self.amount * self.effective_probability / Decimal(100)).quantize(Decimal("0.01"))

    _weighted_amount.short_description = _("weighted amount")
    weighted_amount = property(_weighted_amount)

    def clean(self):
        super().clean()
        errors = {}
        if self.stage_id and self.pipeline_id:
            stage_pipeline = Stage.objects.filter(pk=self.stage_id).values_list("pipeline_id", flat=True).first()
            if stage_pipeline != self.pipeline_id:
                errors["stage"] = _("This stage belongs to another pipeline.")
        if self.expected_close_date and self.expected_close_date != _stored(self, "expected_close_date"):
            limit = timezone.localdate() - datetime.timedelta(days=CLOSE_DATE_MAX_PAST_DAYS)
            if self.expected_close_date < limit:
                errors["expected_close_date"] = _(
                    "The expected close date is more than a year in the past; check the year.")
        if self.start_date and self.expected_close_date and self.expected_close_date < self.start_date \
                and "expected_close_date" not in errors:
            errors["expected_close_date"] = _("The expected close date cannot be before the start date.")
        if self.stage_id and not errors.get("stage"):
            kind = Stage.objects.filter(pk=self.stage_id).values_list("kind", flat=True).first()
            if kind == StageKind.LOST and not self.lost_reason:
                errors["lost_reason"] = _("Give the reason the opportunity was lost.")
        if errors:
            raise ValidationError(errors)

    # --- hooks the kernel's write services call ---
    def before_write(self, user):
        stage = Stage.objects.get(pk=self.stage_id)
        previous = _stored(self, "stage_id")
        self._entered_from = previous if previous != self.stage_id else False
        self.status = stage.kind
        if self._entered_from is not False:  # a new stage (or a new record)
            self.stage_entered_at = timezone.now()
            if previous is not None and _stored(self, "probability") == self.probability:
                self.probability = None  # follows the new stage unless the user set one now
            self.reached_order = max(self.reached_order or 0, stage.order) if stage.kind != StageKind.LOST \
                else self.reached_order
            if stage.kind == StageKind.OPEN:
                self.closed_at = None
                self.lost_reason, self.lost_to = "", ""
            else:
                self.closed_at = timezone.now()
            if stage.kind == StageKind.WON:
                self.lost_reason, self.lost_to = "", ""

    def after_create(self, user):
        from .services import stage_entered

        stage_entered(user, self, None)

    def after_update(self, user, changes):
        if getattr(self, "_entered_from", False) is not False:
            from .services import stage_entered

            stage_entered(user, self, self._entered_from)


class OpportunityProduct(TimestampedMixin, VersionedMixin, models.Model):
    """A product of interest on an opportunity, with quantity and price (SAL-1)."""

    opportunity = models.ForeignKey(Opportunity, verbose_name=_("opportunity"), on_delete=models.CASCADE,
                                    related_name="lines")
    product = models.ForeignKey("catalog.Product", verbose_name=_("product"), on_delete=models.PROTECT,
                                related_name="+")
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3, default=Decimal("1"),
                                   validators=[MinValueValidator(Decimal("0.001"))])
    unit_price = models.DecimalField(_("unit price"), max_digits=16, decimal_places=2, default=Decimal("0"),
                                     validators=NOT_NEGATIVE)
    line_amount = models.DecimalField(_("line amount"), max_digits=18, decimal_places=2, default=Decimal("0"),
                                      editable=False)
    remark = models.CharField(_("remark"), max_length=200, blank=True)

    objects = EntityQuerySet.as_manager()
    all_objects = EntityQuerySet.as_manager()

    class Meta:
        verbose_name = _("opportunity product")
        verbose_name_plural = _("opportunity products")
        indexes = [models.Index(fields=["opportunity", "id"], name="opp_line")]

    def __str__(self):
        return f"{self.opportunity} · {self.product}" if self.opportunity_id and self.product_id else str(self.pk)

    def clean(self):
        super().clean()
        if self.quantity is not None and self.unit_price is not None:
            self.line_amount = (self.quantity * self.unit_price).quantize(Decimal("0.01"))


class StageHistory(models.Model):
    """One row per stay of an opportunity in a stage: entered, left, seconds spent (SAL-3)."""

    opportunity = models.ForeignKey(Opportunity, verbose_name=_("opportunity"), on_delete=models.CASCADE,
                                    related_name="stage_history")
    pipeline = models.ForeignKey(Pipeline, verbose_name=_("pipeline"), on_delete=models.CASCADE, related_name="+")
    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.CASCADE, related_name="+")
    from_stage = models.ForeignKey(Stage, verbose_name=_("from stage"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    entered_at = models.DateTimeField(_("entered at"), default=timezone.now)
    left_at = models.DateTimeField(_("left at"), null=True, blank=True)
    seconds = models.PositiveBigIntegerField(_("seconds in stage"), null=True, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("moved by"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("stage history entry")
        verbose_name_plural = _("stage history")
        indexes = [
            models.Index(fields=["opportunity", "entered_at"], name="stage_hist_opp"),
            models.Index(fields=["pipeline", "stage", "left_at"], name="stage_hist_stage"),
        ]

    def __str__(self):
        return f"{self.opportunity_id} · {self.stage_id}"


class WebFormSubmission(models.Model):
    """Each post to a public web form, for the rate limit (and as a trace of spam)."""

    web_form = models.ForeignKey(LeadWebForm, on_delete=models.CASCADE, related_name="+")
    ip = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now)
    accepted = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["web_form", "ip", "at"], name="webform_rate")]
