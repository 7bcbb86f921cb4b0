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
from crm.org.territories import assign_territory, keep_hand_choice

from .plan_metrics import metric_choices
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
    # Lead scoring (LEAD-3): computed from the scoring rules, never typed (crm/sales/scoring.py).
    score = models.PositiveSmallIntegerField(_("score"), default=0, validators=[MaxValueValidator(100)],
                                             editable=False)
    grade = models.CharField(_("grade"), max_length=1, choices=[(g, g) for g in "ABCD"], default="D",
                             editable=False)
    score_details = models.JSONField(_("score explanation"), default=list, blank=True, editable=False)
    scored_at = models.DateTimeField(_("scored at"), null=True, blank=True, editable=False)
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
    # Territory (SAL-9): matched from region and industry (crm.org.territories), unless fixed by hand.
    territory = models.ForeignKey("org.Territory", verbose_name=_("territory"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    territory_fixed = models.BooleanField(
        _("territory fixed by hand"), default=False,
        help_text=_("Keep the territory chosen here; otherwise it follows the territories' criteria."))
    TERRITORY_FIELDS = {"province": "province", "city": "city", "industry": "industry"}

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
            models.Index(fields=["territory", "updated_at", "id"], name="lead_territory_updated"),  # SAL-9
            models.Index(fields=["score", "id"], name="lead_score"),  # LEAD-3: sort by score
            models.Index(fields=["grade", "updated_at", "id"], name="lead_grade_updated"),
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
        assign_territory(self)  # SAL-9
        from .scoring import apply_score

        apply_score(self)  # LEAD-3: on every save (form, API, import, services)

    def before_write(self, user):
        keep_hand_choice(self, user)  # SAL-9


class AssignmentMethod(models.TextChoices):
    ROUND_ROBIN = "round_robin", _("Round robin within the team")
    REGION = "region", _("By region (round robin among the region's people)")
    LOAD = "load", _("By current load (fewest open leads)")
    TERRITORY = "territory", _("By territory (round robin among the territory's members)")


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

    display_fields = ("name",)  # what __str__ reads (select_for_display)

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

    display_fields = ("name", "pipeline")  # what __str__ reads (select_for_display)

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
    # SAL-11: the competitor the deal went to (a record, so win/loss can be counted per competitor).
    lost_to = models.ForeignKey("sales.Competitor", verbose_name=_("competitor lost to"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="won_from")
    # COMP-2: the competitors in the deal, with a threat level each (OpportunityCompetitor).
    competitors = models.ManyToManyField("sales.Competitor", verbose_name=_("competitors"), blank=True,
                                         through="sales.OpportunityCompetitor", related_name="opportunities")
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
                self.lost_reason, self.lost_to = "", None
            else:
                self.closed_at = timezone.now()
            if stage.kind == StageKind.WON:
                self.lost_reason, self.lost_to = "", None

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


# --- Lead scoring (LEAD-3) ----------------------------------------------------------------------

class ScoringKind(models.TextChoices):
    EQUALS = "equals", _("Field equals a value")
    FILLED = "filled", _("Field is filled in")
    ACTIVITIES = "activities", _("Each recent activity")


# Lead fields a scoring rule may test, with the dictionary kind where the value is a code.
SCORING_FIELDS = {
    "source": "lead_source", "industry": "industry", "status": "lead_status", "province": None, "city": None,
    "campaign_code": None, "company": None, "title": None, "email": None, "mobile": None, "phone": None,
}


def _scoring_field_choices():
    return [(name, Lead._meta.get_field(name).verbose_name) for name in SCORING_FIELDS]


class LeadScoringRule(TimestampedMixin, VersionedMixin, models.Model):
    """A rule of lead scoring (LEAD-3): a condition on the lead and the points it gives, e.g.
    source = exhibition +20, e-mail filled in +5, +5 per activity in the last 30 days up to 20."""

    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    kind = models.CharField(_("condition"), max_length=12, choices=ScoringKind.choices, default=ScoringKind.EQUALS)
    field = models.CharField(_("lead field"), max_length=30, blank=True, choices=_scoring_field_choices,
                             help_text=_("Not used by “each recent activity”."))
    value = models.CharField(_("value"), max_length=200, blank=True,
                             help_text=_("For “equals”: the value, or for a pick list its code; several "
                                         "separated by commas match any of them."))
    points = models.SmallIntegerField(_("points"), default=10,
                                      validators=[MinValueValidator(-100), MaxValueValidator(100)],
                                      help_text=_("Negative points lower the score."))
    days = models.PositiveSmallIntegerField(_("days"), default=30,
                                            validators=[MinValueValidator(1), MaxValueValidator(365)],
                                            help_text=_("For “each recent activity”: activities of the last days."))
    cap = models.PositiveSmallIntegerField(_("at most"), null=True, blank=True, validators=[MaxValueValidator(100)],
                                           help_text=_("For “each recent activity”: the most points the rule gives."))
    sort_order = models.PositiveIntegerField(_("order"), default=0)

    objects = EntityQuerySet.as_manager()
    all_objects = EntityQuerySet.as_manager()

    class Meta:
        ordering = ["sort_order", "id"]
        verbose_name = _("lead scoring rule")
        verbose_name_plural = _("lead scoring rules")
        indexes = [models.Index(fields=["is_active", "sort_order", "id"], name="lead_scoring_order")]

    def __str__(self):
        return self.name

    def values(self):
        return LeadAssignmentRule.split(self.value)

    def clean(self):
        super().clean()
        from crm.core.dictionary import lookup

        errors = {}
        if self.kind in (ScoringKind.EQUALS, ScoringKind.FILLED) and not self.field:
            errors["field"] = _("Choose the lead field the rule tests.")
        if self.kind == ScoringKind.EQUALS and self.field:
            values = self.values()
            kind = SCORING_FIELDS.get(self.field)
            if not values:
                errors["value"] = _("Give the value the field must have.")
            elif kind:
                known = {code for code, _label in lookup.choices(kind, blank=False)}
                unknown = [v for v in values if v not in known]
                if unknown:
                    errors["value"] = _("Unknown codes: %(codes)s.") % {"codes": ", ".join(unknown)}
        if self.kind == ScoringKind.ACTIVITIES:
            self.field, self.value = "", ""
            if self.points is not None and self.points <= 0:
                errors["points"] = _("Each activity must give at least one point.")
        elif self.kind == ScoringKind.FILLED:
            self.value = ""
        if errors:
            raise ValidationError(errors)

    def after_create(self, user):
        from .scoring import rules_changed

        rules_changed()

    def after_update(self, user, changes):
        from .scoring import rules_changed

        rules_changed()


# --- Competitors (COMP-1, COMP-2, SAL-11) --------------------------------------------------------

class Competitor(Entity):
    """A competitor (竞争对手): who they are, where they compete with us, how we beat them (COMP-1)."""

    name = models.CharField(_("name"), max_length=200)
    mnemonic_code = models.CharField(_("mnemonic code"), max_length=30, blank=True, db_index=True,
                                     help_text=_("Left blank, the pinyin initials of the name are used."))
    website = models.URLField(_("website"), blank=True)
    status = DictionaryField(_("competitor status"), kind="competitor_status", default="active")
    background = models.TextField(_("background"), blank=True)
    competition_fields = models.CharField(_("main fields of competition"), max_length=500, blank=True)
    strengths = models.TextField(_("strengths"), blank=True)
    weaknesses = models.TextField(_("weaknesses"), blank=True)
    strategy = models.TextField(_("our strategy"), blank=True,
                                help_text=_("How we win against this competitor."))

    class Meta:
        verbose_name = _("competitor")
        verbose_name_plural = _("competitors")
        indexes = [
            models.Index(fields=["updated_at", "id"], name="comp_updated"),
            models.Index(fields=["department", "updated_at", "id"], name="comp_dept_updated"),
            models.Index(fields=["owner", "updated_at", "id"], name="comp_owner_updated"),
            models.Index(fields=["name", "id"], name="comp_name"),
            models.Index(Lower("name"), name="comp_name_ci"),  # "lost to" text matched to a competitor
            models.Index(fields=["deleted_at", "id"], name="comp_binned", condition=models.Q(deleted_at__isnull=False)),
        ]

    display_fields = ("name",)  # what __str__ reads (select_for_display)

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        from crm.core.pinyin import initials

        if not self.mnemonic_code and self.name:
            self.mnemonic_code = initials(self.name)[:30]


class CompetitorProduct(TimestampedMixin, VersionedMixin, models.Model):
    """A competitor's product (竞争产品) with its use, performance and price, and the product of ours
    it competes with (COMP-1). Visible and editable with its competitor."""

    competitor = models.ForeignKey(Competitor, verbose_name=_("competitor"), on_delete=models.CASCADE,
                                   related_name="products")
    name = models.CharField(_("name"), max_length=200)
    our_product = models.ForeignKey("catalog.Product", verbose_name=_("competes with our product"), null=True,
                                    blank=True, on_delete=models.SET_NULL, related_name="competitor_products")
    use = models.CharField(_("use"), max_length=300, blank=True)
    specification = models.CharField(_("specification"), max_length=200, blank=True)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True,
                                  help_text=_("One name=value per line, e.g. colour=black."))
    performance = models.TextField(_("performance"), blank=True)
    price = models.DecimalField(_("price"), max_digits=16, decimal_places=4, null=True, blank=True,
                                validators=NOT_NEGATIVE)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    strengths = models.TextField(_("strengths"), blank=True)
    weaknesses = models.TextField(_("weaknesses"), blank=True)

    objects = EntityQuerySet.as_manager()
    all_objects = EntityQuerySet.as_manager()

    class Meta:
        verbose_name = _("competitor product")
        verbose_name_plural = _("competitor products")
        indexes = [
            models.Index(fields=["competitor", "id"], name="comp_prod_comp"),
            models.Index(fields=["our_product", "id"], name="comp_prod_ours"),
            models.Index(fields=["updated_at", "id"], name="comp_prod_updated"),
        ]

    def __str__(self):
        return f"{self.competitor} · {self.name}" if self.competitor_id else self.name

    def clean(self):
        super().clean()
        from crm.catalog.models import validate_attributes

        errors = {}
        try:
            validate_attributes(self.attributes if self.attributes is not None else {})
        except ValidationError as exc:
            errors["attributes"] = exc.messages
        self.currency = (self.currency or "").upper()
        if not (len(self.currency) == 3 and self.currency.isalpha()):
            errors["currency"] = _("Give a three-letter currency code such as CNY.")
        if errors:
            raise ValidationError(errors)


class ThreatLevel(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class OpportunityCompetitor(TimestampedMixin, VersionedMixin, models.Model):
    """A competitor in an opportunity (COMP-2), with how dangerous they are there."""

    opportunity = models.ForeignKey(Opportunity, verbose_name=_("opportunity"), on_delete=models.CASCADE,
                                    related_name="competitor_links")
    competitor = models.ForeignKey(Competitor, verbose_name=_("competitor"), on_delete=models.PROTECT,
                                   related_name="opportunity_links")
    threat_level = models.CharField(_("threat level"), max_length=10, choices=ThreatLevel.choices,
                                    default=ThreatLevel.MEDIUM)
    notes = models.CharField(_("notes"), max_length=500, blank=True)

    objects = EntityQuerySet.as_manager()
    all_objects = EntityQuerySet.as_manager()

    class Meta:
        verbose_name = _("competitor in an opportunity")
        verbose_name_plural = _("competitors in opportunities")
        constraints = [models.UniqueConstraint(fields=["opportunity", "competitor"], name="one_link_per_opp_competitor")]
        indexes = [
            models.Index(fields=["competitor", "opportunity"], name="opp_comp_by_comp"),
            models.Index(fields=["updated_at", "id"], name="opp_comp_updated"),
        ]

    def __str__(self):
        return f"{self.opportunity} · {self.competitor}" if self.opportunity_id and self.competitor_id else str(self.pk)

    def clean(self):
        super().clean()
        if self.opportunity_id and self.competitor_id and OpportunityCompetitor.objects.filter(
                opportunity_id=self.opportunity_id, competitor_id=self.competitor_id).exclude(pk=self.pk).exists():
            raise ValidationError({"competitor": _("This competitor is already listed on the opportunity.")})

    def get_constraints(self):  # the clean() above answers at the field
        return [(m, [c for c in cs if c.name != "one_link_per_opp_competitor"]) for m, cs in super().get_constraints()]


# --- Sales plans (SAL-7) --------------------------------------------------------------------------

class PlanScope(models.TextChoices):
    EMPLOYEE = "employee", _("Employee")
    DEPARTMENT = "department", _("Department")
    COMPANY = "company", _("Company")


class PlanPeriod(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")
    YEAR = "year", _("Year")


def period_end(kind, start):
    """The first day after the period of `kind` starting on `start`."""
    months = {PlanPeriod.MONTH: 1, PlanPeriod.QUARTER: 3, PlanPeriod.YEAR: 12}[kind]
    y, m = divmod(start.month - 1 + months, 12)
    return datetime.date(start.year + y, m + 1, 1)


def is_period_start(kind, day):
    if day.day != 1:
        return False
    if kind == PlanPeriod.QUARTER:
        return day.month in (1, 4, 7, 10)
    if kind == PlanPeriod.YEAR:
        return day.month == 1
    return True


class SalesPlan(TimestampedMixin, VersionedMixin, models.Model):
    """A target (销售计划 / quota) for an employee, a department or the company, for one month,
    quarter or year, in one metric of the plan metric registry (crm.sales.plans)."""

    scope = models.CharField(_("plan for"), max_length=12, choices=PlanScope.choices, default=PlanScope.EMPLOYEE)
    employee = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("employee"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey(settings.CRM_DEPARTMENT_MODEL, verbose_name=_("department"), null=True,
                                   blank=True, on_delete=models.PROTECT, related_name="+",
                                   help_text=_("For an employee's plan: the employee's department."))
    period_kind = models.CharField(_("period"), max_length=8, choices=PlanPeriod.choices, default=PlanPeriod.MONTH)
    period_start = models.DateField(_("period start"),
                                    help_text=_("The first day of the month, quarter or year."))
    metric = models.CharField(_("metric"), max_length=30, choices=metric_choices, default="won_amount")
    target = models.DecimalField(_("target"), max_digits=18, decimal_places=2)
    notes = models.CharField(_("notes"), max_length=300, blank=True)

    objects = EntityQuerySet.as_manager()
    all_objects = EntityQuerySet.as_manager()

    class Meta:
        verbose_name = _("sales plan")
        verbose_name_plural = _("sales plans")
        constraints = [
            models.UniqueConstraint(fields=["employee", "period_kind", "period_start", "metric"],
                                    condition=models.Q(scope="employee"), name="one_plan_per_employee"),
            models.UniqueConstraint(fields=["department", "period_kind", "period_start", "metric"],
                                    condition=models.Q(scope="department"), name="one_plan_per_department"),
            models.UniqueConstraint(fields=["period_kind", "period_start", "metric"],
                                    condition=models.Q(scope="company"), name="one_plan_for_company"),
        ]
        indexes = [
            models.Index(fields=["updated_at", "id"], name="plan_updated"),
            models.Index(fields=["period_start", "id"], name="plan_period"),
            models.Index(fields=["metric", "period_kind", "period_start"], name="plan_lookup"),
            models.Index(fields=["department", "updated_at", "id"], name="plan_dept_updated"),
            models.Index(fields=["employee", "updated_at", "id"], name="plan_emp_updated"),
        ]

    def __str__(self):
        who = self.employee if self.scope == PlanScope.EMPLOYEE else (
            self.department if self.scope == PlanScope.DEPARTMENT else _("Company"))
        return f"{who} · {self.period_label()} · {self.metric_label()}"

    def period_label(self):
        if not self.period_start:
            return ""
        if self.period_kind == PlanPeriod.YEAR:
            return f"{self.period_start.year}"
        if self.period_kind == PlanPeriod.QUARTER:
            return f"{self.period_start.year} Q{(self.period_start.month - 1) // 3 + 1}"
        return self.period_start.strftime("%Y-%m")

    def metric_label(self):
        from .plan_metrics import metric

        m = metric(self.metric)
        return str(m.label) if m else self.metric

    @property
    def period_end(self):
        return period_end(self.period_kind, self.period_start)

    def clean(self):
        super().clean()
        errors = {}
        if self.target is not None and self.target < 0:
            errors["target"] = _("A target cannot be negative.")
        if self.period_start and self.period_kind and not is_period_start(self.period_kind, self.period_start):
            errors["period_start"] = {
                PlanPeriod.MONTH: _("A monthly plan starts on the first day of a month."),
                PlanPeriod.QUARTER: _("A quarterly plan starts on 1 January, 1 April, 1 July or 1 October."),
                PlanPeriod.YEAR: _("A yearly plan starts on 1 January."),
            }[self.period_kind]
        if self.scope == PlanScope.EMPLOYEE:
            if not self.employee_id:
                errors["employee"] = _("Choose the employee.")
            else:
                self.department_id = type(self).employee.field.related_model.objects.filter(
                    pk=self.employee_id).values_list("department_id", flat=True).first()
        elif self.scope == PlanScope.DEPARTMENT:
            self.employee = None
            if not self.department_id:
                errors["department"] = _("Choose the department.")
        else:
            self.employee, self.department = None, None
        if not errors and self.period_start:
            same = SalesPlan.objects.filter(scope=self.scope, period_kind=self.period_kind,
                                            period_start=self.period_start, metric=self.metric).exclude(pk=self.pk)
            if self.scope == PlanScope.EMPLOYEE:
                same = same.filter(employee_id=self.employee_id)
            elif self.scope == PlanScope.DEPARTMENT:
                same = same.filter(department_id=self.department_id)
            if same.exists():
                errors["period_start"] = _("There is already a plan for this target, period and metric.")
        if errors:
            raise ValidationError(errors)

    def before_write(self, user):
        """The plan's target must lie within what the writer may manage (SAL-7): their own plans,
        their department('s subtree), or — with the "all" scope — the company's."""
        from .plans import check_target_in_scope

        check_target_in_scope(user, self)

    def get_constraints(self):  # clean() answers at the field
        names = {"one_plan_per_employee", "one_plan_per_department", "one_plan_for_company"}
        return [(m, [c for c in cs if c.name not in names]) for m, cs in super().get_constraints()]


# --- The funnel's summary (SAL-3, issue #3) ------------------------------------------------------
# Pre-added figures of the manager dashboard, kept by database triggers on PostgreSQL and read by
# `crm.sales.funnel_summary` under the scope predicate restated onto their owner and department
# columns. Rows are signed deltas (each write adds its change; `funnel_summary.compact` merges them),
# so writers never wait on one another's summary rows. No foreign keys: a summary is rebuilt, not
# related. SQLite reads the opportunities themselves.

class _FunnelGrain(models.Model):
    """What both summaries are added up by: the pipeline, the opportunity's close month, and the
    columns the scope predicate and the funnel's filters read (owner, department, the customer's
    territory)."""

    pipeline_id = models.BigIntegerField()
    month = models.DateField()
    owner_id = models.BigIntegerField(null=True)
    department_id = models.BigIntegerField(null=True)
    territory_id = models.BigIntegerField(null=True)

    class Meta:
        abstract = True


class FunnelCell(_FunnelGrain):
    """Open, won and lost opportunities added up per stage, status and furthest stage reached
    (and the grain)."""

    stage_id = models.BigIntegerField()
    status = models.CharField(max_length=10)
    reached_order = models.IntegerField()
    n = models.BigIntegerField()
    amount = models.DecimalField(max_digits=24, decimal_places=2)
    weighted = models.DecimalField(max_digits=28, decimal_places=4)  # amount × whole percent / 100: exact

    class Meta:
        # The scope predicate reads department OR owner: one index each (a BitmapOr).
        indexes = [models.Index(fields=["pipeline_id", "department_id"], name="funnel_cell_pipeline"),
                   models.Index(fields=["pipeline_id", "owner_id"], name="funnel_cell_owner")]


class FunnelStays(_FunnelGrain):
    """Finished stays in a stage (`StageHistory.seconds`) added up per the stay's stage (and the
    grain of its opportunity)."""

    stage_id = models.BigIntegerField()
    n = models.BigIntegerField()
    seconds = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["pipeline_id", "department_id"], name="funnel_stays_pipeline"),
                   models.Index(fields=["pipeline_id", "owner_id"], name="funnel_stays_owner")]
