"""The public pool (公海, CUS-9): pools, their reclaim rules per customer level, and the pool's
event log. The services live in `crm.customers.pool`; the records (customers here, leads in
crm.sales) carry the fields of `PoolFieldsMixin`."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.core.dictionary.fields import DictionaryField
from crm.core.entities.base import EntityQuerySet, TimestampedMixin, VersionedMixin


class PoolReason(models.TextChoices):
    """Why a record is in its pool (shown on the pool page and the record's pool history)."""

    NEW = "new", _("New record")
    RELEASED = "released", _("Released by its owner")
    RECLAIMED = "reclaimed", _("Reclaimed automatically")
    IMPORTED = "imported", _("Imported")
    MOVED = "moved", _("Moved from another pool")


class PoolFieldsMixin(models.Model):
    """What a poolable record knows about the pool. A record is *in* its pool when `pool` is set
    and it has no owner; an owned record keeps `pool` as its home pool (where reclaim returns it)."""

    pool = models.ForeignKey("customers.Pool", verbose_name=_("public pool"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+", editable=False)
    pool_entered_at = models.DateTimeField(_("in the pool since"), null=True, blank=True, editable=False)
    pool_reason = models.CharField(_("why in the pool"), max_length=12, choices=PoolReason.choices, blank=True,
                                   editable=False)
    previous_owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("previous owner"), null=True,
                                       blank=True, on_delete=models.SET_NULL, related_name="+", editable=False)
    owned_since = models.DateTimeField(_("owned since"), null=True, blank=True, editable=False,
                                       help_text=_("When the current owner claimed or was given the record."))

    class Meta:
        abstract = True

    @property
    def in_pool(self):
        return self.pool_id is not None and self.owner_id is None


class Pool(TimestampedMixin, VersionedMixin, models.Model):
    """A public pool (公海), e.g. per region; its rules apply to the records whose home it is."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_default = models.BooleanField(
        _("default pool"), default=False,
        help_text=_("Its rules also apply to owned records that have no pool yet, and released records go here "
                    "when no pool is chosen."))
    departments = models.ManyToManyField(
        settings.CRM_DEPARTMENT_MODEL, verbose_name=_("departments"), blank=True, related_name="+",
        help_text=_("Members of these departments and their sub-departments use the pool. None: everyone."))
    hold_limit = models.PositiveIntegerField(
        _("records one person may hold"), default=0,
        help_text=_("Claiming stops when the person owns this many records of the kind (customers or leads). "
                    "0: no limit."))
    daily_claim_limit = models.PositiveIntegerField(_("claims per person and day"), default=0,
                                                    help_text=_("0: no limit."))
    cooldown_days = models.PositiveIntegerField(
        _("cool-down days"), default=7,
        help_text=_("Days before the previous owner may claim a record back."))
    warn_days = models.PositiveIntegerField(
        _("warning days"), default=3, help_text=_("Owners are warned this many days before a record is reclaimed."))
    description = models.TextField(_("description"), blank=True)

    objects = EntityQuerySet.as_manager()
    all_objects = EntityQuerySet.as_manager()

    class Meta:
        base_manager_name = "all_objects"  # bulk writes reload cached access rules (crm.core.versions)
        verbose_name = _("public pool")
        verbose_name_plural = _("public pools")
        indexes = [models.Index(fields=["updated_at", "id"], name="pool_updated"),
                   models.Index(fields=["name", "id"], name="pool_name")]
        # Expressions, not `fields`: the API's serializer would repeat the check as a non-field error;
        # validate_constraints() below names the field.
        constraints = [models.UniqueConstraint(models.F("is_default"), condition=models.Q(is_default=True),
                                               name="one_default_pool")]

    def __str__(self):
        return self.name

    def validate_constraints(self, exclude=None):
        if self.is_default and Pool.objects.filter(is_default=True).exclude(pk=self.pk).exists():
            raise ValidationError({"is_default": _("Another pool is already the default pool.")})
        super().validate_constraints(exclude=exclude)


class PoolRule(TimestampedMixin, VersionedMixin, models.Model):
    """When owned records go back to their pool: after N days without a follow-up or M days
    without a won deal, per customer level. A rule without level applies to every level without
    a rule of its own, and to leads (which have no level)."""

    pool = models.ForeignKey(Pool, verbose_name=_("public pool"), on_delete=models.CASCADE, related_name="rules")
    level = DictionaryField(_("customer level"), kind="customer_level", blank=True,
                            help_text=_("Empty: every level without a rule of its own, and leads."))
    no_follow_up_days = models.PositiveIntegerField(
        _("days without a follow-up"), default=0, help_text=_("0: not reclaimed for missing follow-ups."))
    no_deal_days = models.PositiveIntegerField(
        _("days without a won deal"), default=0, help_text=_("0: not reclaimed for missing deals."))
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = EntityQuerySet.as_manager()
    all_objects = EntityQuerySet.as_manager()

    class Meta:
        verbose_name = _("pool rule")
        verbose_name_plural = _("pool rules")
        indexes = [models.Index(fields=["updated_at", "id"], name="poolrule_updated")]
        constraints = [models.UniqueConstraint(models.F("pool"), models.F("level"), name="one_pool_rule_per_level")]

    def __str__(self):
        return f"{self.pool} · {self.level or '*'}"

    def validate_constraints(self, exclude=None):
        if PoolRule.objects.filter(pool_id=self.pool_id, level=self.level).exclude(pk=self.pk).exists():
            raise ValidationError({"level": _("This pool already has a rule for this level.")})
        super().validate_constraints(exclude=exclude)


class PoolEvent(models.Model):
    """The pool's log: what entered and left which pool, when, by whom and why."""

    class Action(models.TextChoices):
        ENTER = "enter", _("Put into the pool")
        RELEASE = "release", _("Released")
        RECLAIM = "reclaim", _("Reclaimed")
        CLAIM = "claim", _("Claimed")
        ASSIGN = "assign", _("Assigned from the pool")
        MOVE = "move", _("Moved to another pool")
        WARN = "warn", _("Reclaim warning")

    pool = models.ForeignKey(Pool, verbose_name=_("public pool"), on_delete=models.CASCADE, related_name="+")
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField()
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+",
                              help_text=_("Who claimed or received the record, or who had it before."))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    key = models.CharField(max_length=40, blank=True)  # a warning's deadline: one warning per deadline
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("pool event")
        verbose_name_plural = _("pool events")
        indexes = [
            models.Index(fields=["content_type", "object_id", "at"], name="poolevent_record"),
            models.Index(fields=["actor", "action", "pool", "at"], name="poolevent_daily"),
        ]
        constraints = [models.UniqueConstraint(fields=["content_type", "object_id", "key"],
                                               condition=models.Q(action="warn"), name="one_pool_warning")]
