"""Work and time (ACT-1..6, WF-1, CUS-10, CUS-11): activities (follow-ups, with check-in),
tasks with one status per assignee, appointments (calendar, recurrence), reminders sent once,
private calendar feeds.

Activities, tasks and appointments link to any registered record by (content type, object id),
so this app imports no domain app; the linked record's `last_activity_at` (when it has one) is
updated generically.
"""

import hashlib
import secrets
from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.core.dictionary.fields import DictionaryField
from crm.core.entities.base import Entity, EntityQuerySet, TimestampedMixin, VersionedMixin

MAX_OCCURRENCES = 500  # a recurring appointment expands to at most this many occurrences


def validate_attachment_size(f):
    """Kept for migration 0001 (the old single attachment field); the cap is the kernel's."""
    from crm.core.attachments.services import validate_size

    validate_size(f)


class RecordLink(models.Model):
    """A link to any registered record (customer, contact, later orders, tickets …)."""

    record_type = models.ForeignKey(ContentType, verbose_name=_("linked record type"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    record_id = models.BigIntegerField(_("linked record id"), null=True, blank=True)

    class Meta:
        abstract = True

    record = GenericForeignKey("record_type", "record_id")
    record.verbose_name = _("linked record")

    def clean_record(self):
        if bool(self.record_type_id) != bool(self.record_id):
            raise ValidationError({"record_id": _("Choose both the kind of record and the record.")})
        if self.record_type_id:
            from crm.core.entities.registry import get_spec

            model = self.record_type.model_class()
            try:
                get_spec(model)
            except LookupError:
                raise ValidationError({"record_type": _("Activities cannot be linked to this kind of record.")})
            if not model.objects.filter(pk=self.record_id).exists():
                raise ValidationError({"record_id": _("This record does not exist.")})

    def check_record_visible(self, user):
        """The linked record must be one the writer may see (the scope predicate)."""
        if self.record_type_id and self.record_id:
            model = self.record_type.model_class()
            if not model.objects.for_user(user, "view").filter(pk=self.record_id).exists():
                raise ValidationError({"record_id": _("This record does not exist or is outside your data scope.")})

    def touch_record(self, when):
        """Set the linked record's "last follow-up" (a `last_activity_at` field, if it has one)."""
        if not self.record_type_id or not self.record_id:
            return
        touch_last_activity(self.record_type.model_class(), [self.record_id], when)


def touch_last_activity(model, ids, when):
    if model is None or not ids:
        return
    try:
        model._meta.get_field("last_activity_at")
    except Exception:
        return
    model._base_manager.filter(Q(last_activity_at__lt=when) | Q(last_activity_at__isnull=True), pk__in=ids).update(
        last_activity_at=when)


class Activity(RecordLink, Entity):
    """A follow-up (跟进记录): call, visit, meeting, e-mail, note or to-do, on any record."""

    kind = DictionaryField(_("type"), kind="activity_type", default="call")
    subject = models.CharField(_("subject"), max_length=200)
    occurred_at = models.DateTimeField(_("time"), default=timezone.now)
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), default=0,
                                                   validators=[MaxValueValidator(24 * 60)])
    participants = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("participants"), blank=True,
                                          related_name="+")
    contacts = models.ManyToManyField("customers.Contact", verbose_name=_("contacts met"), blank=True,
                                      related_name="+")
    outcome = models.TextField(_("outcome"), blank=True, max_length=10000)
    next_step = models.CharField(_("next step"), max_length=255, blank=True)
    # Check-in for field visits (ACT-6): where the phone was, from the browser's Geolocation API.
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True,
                                   validators=[MinValueValidator(-90), MaxValueValidator(90)])
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True,
                                    validators=[MinValueValidator(-180), MaxValueValidator(180)])
    accuracy_m = models.PositiveIntegerField(_("accuracy (metres)"), null=True, blank=True)
    address = models.CharField(_("check-in address"), max_length=255, blank=True)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        indexes = [
            models.Index(fields=["record_type", "record_id", "occurred_at"], name="act_record_time"),
            models.Index(fields=["updated_at", "id"], name="act_updated"),
            models.Index(fields=["occurred_at", "id"], name="act_occurred"),
            models.Index(fields=["owner", "occurred_at", "id"], name="act_owner_time"),
            models.Index(fields=["department", "occurred_at", "id"], name="act_dept_time"),
            models.Index(fields=["deleted_at", "id"], name="act_binned", condition=Q(deleted_at__isnull=False)),
        ]

    def __str__(self):
        return self.subject

    def clean(self):
        super().clean()
        self.clean_record()
        if (self.latitude is None) != (self.longitude is None):
            raise ValidationError({"longitude": _("A location needs both latitude and longitude.")})

    def before_write(self, user):
        self.check_record_visible(user)
        if self.latitude is not None and not self.checked_in_at:
            self.checked_in_at = timezone.now()

    def after_create(self, user):
        self.touch_record(self.occurred_at)
        self.queue_geocoding()

    def after_update(self, user, changes):
        self.touch_record(self.occurred_at)
        if "contacts" in changes:
            self.touch_contacts()
        if {"latitude", "longitude", "address"} & set(changes):
            self.queue_geocoding()

    def queue_geocoding(self):
        """A check-in without a typed address: the optional geocoder fills it after commit (ACT-6)."""
        from .geocoding import queue_for

        queue_for(self)

    def touch_contacts(self):
        ids = list(self.contacts.values_list("pk", flat=True))
        touch_last_activity(self.contacts.model, ids, self.occurred_at)


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


REMIND_CHOICES = [
    (None, _("No reminder")), (0, _("At the time")), (15, _("15 minutes before")), (30, _("30 minutes before")), (60, _("1 hour before")),
    (120, _("2 hours before")), (1440, _("1 day before")), (2880, _("2 days before")), (10080, _("1 week before")),
]


class Task(RecordLink, Entity):
    """A task (任务) for one or several people, each with their own status (ACT-3, WF-1)."""

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True, max_length=10000)
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    remind_before = models.PositiveIntegerField(_("reminder"), null=True, blank=True, choices=REMIND_CHOICES)
    remind_at = models.DateTimeField(_("remind at"), null=True, blank=True, editable=False)
    parent = models.ForeignKey("self", verbose_name=_("parent task"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="subtasks")
    status = models.CharField(_("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN,
                              editable=False)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True, editable=False)
    assignees = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("assignees"), blank=True,
                                       through="TaskAssignment", related_name="+")

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [
            models.Index(fields=["record_type", "record_id", "due_at"], name="task_record_due"),
            models.Index(fields=["updated_at", "id"], name="task_updated"),
            models.Index(fields=["owner", "updated_at", "id"], name="task_owner_updated"),
            models.Index(fields=["department", "updated_at", "id"], name="task_dept_updated"),
            models.Index(fields=["remind_at"], name="task_remind", condition=Q(status="open")),
            models.Index(fields=["deleted_at", "id"], name="task_binned", condition=Q(deleted_at__isnull=False)),
        ]

    def __str__(self):
        return self.title

    def clean(self):
        super().clean()
        self.clean_record()
        if self.remind_before is not None and not self.due_at:
            raise ValidationError({"remind_before": _("A reminder needs a due date.")})
        old = None
        if self.pk:
            old = Task.all_objects.filter(pk=self.pk).values("remind_before", "due_at").first()
        self.remind_at = self.due_at - timedelta(minutes=self.remind_before) if (
            self.due_at and self.remind_before is not None) else None
        changed = old is None or (old["remind_before"], old["due_at"]) != (self.remind_before, self.due_at)
        if self.remind_at and changed and self.remind_at < timezone.now():
            raise ValidationError({"remind_before": _("This reminder would be in the past; choose a later due "
                                                      "date or a shorter lead time.")})
        if self.parent_id and self.pk and self.parent_id == self.pk:
            raise ValidationError({"parent": _("A task cannot be its own sub-task.")})
        if self.parent_id:
            grand = Task.all_objects.filter(pk=self.parent_id).values_list("parent_id", flat=True).first()
            if grand:
                raise ValidationError({"parent": _("Sub-tasks cannot be split further.")})

    def before_write(self, user):
        self.check_record_visible(user)

    def after_update(self, user, changes):
        if "assignees" in changes:  # someone new to do their part reopens a finished task
            self.refresh_status()

    @property
    def is_overdue(self):
        return self.status == TaskStatus.OPEN and self.due_at is not None and self.due_at < timezone.now()

    def refresh_status(self):
        """The task is done when every assignee is done (or cancelled, with at least one done)."""
        states = list(self.assignments.values_list("status", flat=True))
        if states and all(s != TaskStatus.OPEN for s in states) and TaskStatus.DONE in states:
            status, completed = TaskStatus.DONE, timezone.now()
        elif states and all(s == TaskStatus.CANCELLED for s in states):
            status, completed = TaskStatus.CANCELLED, None
        else:
            status, completed = TaskStatus.OPEN, None
        if status != self.status:
            Task.all_objects.filter(pk=self.pk).update(status=status, completed_at=completed)
            self.status, self.completed_at = status, completed
        return status


class TaskAssignment(models.Model):
    """One assignee of a task, with their own status (一个任务多人分担)."""

    task = models.ForeignKey(Task, verbose_name=_("task"), on_delete=models.CASCADE, related_name="assignments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("assignee"), on_delete=models.PROTECT,
                             related_name="task_assignments")
    status = models.CharField(_("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("task assignment")
        verbose_name_plural = _("task assignments")
        constraints = [models.UniqueConstraint(fields=["task", "user"], name="one_assignment_per_user")]
        indexes = [models.Index(fields=["user", "status", "task"], name="taskas_user_status")]

    def __str__(self):
        return f"{self.task} · {self.user}"


class Repeat(models.TextChoices):
    NONE = "", _("Does not repeat")
    DAILY = "DAILY", _("Daily")
    WEEKLY = "WEEKLY", _("Weekly")
    MONTHLY = "MONTHLY", _("Monthly")


class Appointment(RecordLink, Entity):
    """An appointment in the calendar (日程): invitees, location, recurrence, reminder (ACT-2)."""

    title = models.CharField(_("title"), max_length=200)
    start_at = models.DateTimeField(_("start"))
    end_at = models.DateTimeField(_("end"))
    all_day = models.BooleanField(_("all day"), default=False)
    location = models.CharField(_("location"), max_length=255, blank=True)
    description = models.TextField(_("description"), blank=True, max_length=10000)
    invitees = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("invitees"), blank=True,
                                      related_name="+")
    repeat = models.CharField(_("repeats"), max_length=10, choices=Repeat.choices, blank=True, default="")
    repeat_interval = models.PositiveIntegerField(_("every"), default=1,
                                                  validators=[MinValueValidator(1), MaxValueValidator(365)],
                                                  help_text=_("Every 1, 2, 3 … days, weeks or months."))
    repeat_count = models.PositiveIntegerField(_("number of times"), null=True, blank=True,
                                               validators=[MinValueValidator(1), MaxValueValidator(MAX_OCCURRENCES)])
    repeat_until = models.DateField(_("repeat until"), null=True, blank=True)
    remind_before = models.PositiveIntegerField(_("reminder"), null=True, blank=True, choices=REMIND_CHOICES)
    remind_at = models.DateTimeField(_("remind at"), null=True, blank=True, editable=False)
    # RFC 5545 exceptions: the original starts (UTC, "YYYYMMDDTHHMMSSZ") the series no longer
    # produces — cancelled occurrences (EXDATE) and those detached as their own appointments.
    exdates = models.JSONField(_("excluded occurrences"), default=list, blank=True)
    # A detached occurrence (RECURRENCE-ID): its series and the start it had in the series.
    series = models.ForeignKey("self", verbose_name=_("series"), null=True, blank=True, editable=False,
                               on_delete=models.SET_NULL, related_name="detached")
    recurrence_id = models.DateTimeField(_("original start in the series"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        indexes = [
            models.Index(fields=["record_type", "record_id", "start_at"], name="appt_record_start"),
            models.Index(fields=["updated_at", "id"], name="appt_updated"),
            models.Index(fields=["start_at", "id"], name="appt_start"),
            models.Index(fields=["owner", "start_at"], name="appt_owner_start"),
            models.Index(fields=["department", "start_at"], name="appt_dept_start"),
            models.Index(fields=["remind_at"], name="appt_remind"),
            models.Index(fields=["deleted_at", "id"], name="appt_binned", condition=Q(deleted_at__isnull=False)),
        ]

    def __str__(self):
        return self.title

    def clean(self):
        super().clean()
        self.clean_record()
        if self.start_at:  # whole seconds: recurrence rules (RFC 5545) have no fractions
            self.start_at = self.start_at.replace(microsecond=0)
        if self.end_at:
            self.end_at = self.end_at.replace(microsecond=0)
        if self.start_at and self.end_at and self.end_at < self.start_at:
            raise ValidationError({"end_at": _("The appointment cannot end before it starts.")})
        if self.repeat and self.series_id:
            raise ValidationError({"repeat": _("This is one occurrence of a series; it cannot repeat itself.")})
        if self.repeat:
            if self.repeat_count and self.repeat_until:
                raise ValidationError({"repeat_until": _("Give either a number of times or an end date, not both.")})
            if self.repeat_until and self.start_at and self.repeat_until < timezone.localtime(self.start_at).date():
                raise ValidationError({"repeat_until": _("The repetition cannot end before the first appointment.")})
        elif self.repeat_count or self.repeat_until:
            raise ValidationError({"repeat": _("Choose how the appointment repeats, or leave the number of times "
                                               "and the end date empty.")})
        if self.remind_before is not None and self.start_at:
            old = None
            if self.pk:
                old = Appointment.all_objects.filter(pk=self.pk).values("remind_before", "start_at").first()
            changed = old is None or (old["remind_before"], old["start_at"]) != (self.remind_before, self.start_at)
            first = self.start_at - timedelta(minutes=self.remind_before)
            if changed and not self.repeat and first < timezone.now():
                raise ValidationError({"remind_before": _("This reminder would be in the past; choose a later start "
                                                          "or a shorter lead time.")})
        self.remind_at = self.next_remind_at(timezone.now())

    def before_write(self, user):
        self.check_record_visible(user)
        self._moved_by = None
        if self.pk and self.repeat and self.exdates:
            # The whole series moved (its form, the API): its exceptions move with it, unless the
            # write sets them itself.
            old = Appointment.all_objects.filter(pk=self.pk).values("start_at", "exdates").first()
            if old and old["start_at"] != self.start_at and old["exdates"] == self.exdates:
                delta = self.start_at - old["start_at"]
                self.exdates = [self.exdate_key(self.parse_exdate(k) + delta) for k in self.exdates]
                self._moved_by = delta

    def after_update(self, user, changes):
        if getattr(self, "_moved_by", None):
            for pk, rid in Appointment.all_objects.filter(series=self, recurrence_id__isnull=False).values_list(
                    "pk", "recurrence_id"):
                Appointment.all_objects.filter(pk=pk).update(recurrence_id=rid + self._moved_by)

    @property
    def duration(self):
        return self.end_at - self.start_at

    def rrule_string(self):
        """The recurrence as an iCalendar RRULE value (RFC 5545), or ""."""
        if not self.repeat:
            return ""
        parts = [f"FREQ={self.repeat}", f"INTERVAL={self.repeat_interval or 1}"]
        if self.repeat_count:
            parts.append(f"COUNT={self.repeat_count}")
        elif self.repeat_until:
            end = timezone.make_aware(datetime.combine(self.repeat_until, time(23, 59, 59)))
            parts.append("UNTIL=" + end.astimezone(dt_timezone.utc).strftime("%Y%m%dT%H%M%SZ"))
        return ";".join(parts)

    @staticmethod
    def exdate_key(when):
        """How an original start is stored in `exdates`: UTC, "YYYYMMDDTHHMMSSZ" (RFC 5545 form)."""
        return when.astimezone(dt_timezone.utc).strftime("%Y%m%dT%H%M%SZ")

    @staticmethod
    def parse_exdate(key):
        return datetime.strptime(key, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt_timezone.utc)

    def _rule(self):
        """The series' starts as naive wall-clock times (dateutil), exceptions not applied."""
        from dateutil.rrule import DAILY, MONTHLY, WEEKLY, rrule

        freq = {"DAILY": DAILY, "WEEKLY": WEEKLY, "MONTHLY": MONTHLY}[self.repeat]
        local_start = timezone.localtime(self.start_at).replace(tzinfo=None)  # wall-clock recurrence
        until = datetime.combine(self.repeat_until, time(23, 59, 59)) if self.repeat_until else None
        return rrule(freq, dtstart=local_start, interval=self.repeat_interval or 1,
                     count=self.repeat_count or (None if until else MAX_OCCURRENCES), until=until)

    def occurrences(self, start, end, with_excluded=False):
        """Start times of the occurrences overlapping [start, end) (at most MAX_OCCURRENCES),
        without the excluded ones (cancelled or detached: `exdates`)."""
        if not self.repeat:
            return [self.start_at] if self.start_at < end and self.end_at > start else []
        length = self.duration
        lo = timezone.localtime(start - length).replace(tzinfo=None)
        hi = timezone.localtime(end).replace(tzinfo=None)
        skip = set() if with_excluded else set(self.exdates or ())
        out = []
        for i, naive in enumerate(self._rule()):
            if i >= MAX_OCCURRENCES or naive >= hi:
                break
            if naive > lo:
                aware = timezone.make_aware(naive)
                if not skip or self.exdate_key(aware) not in skip:
                    out.append(aware)
        return out

    def occurrence_index(self, when):
        """How many occurrences of the rule (excluded ones included) come before `when`."""
        naive = timezone.localtime(when).replace(tzinfo=None)
        n = 0
        for i, s in enumerate(self._rule()):
            if i >= MAX_OCCURRENCES or s >= naive:
                break
            n += 1
        return n

    def has_occurrence(self, when, with_excluded=False):
        """True when the series starts an occurrence at `when` (and it is not excluded)."""
        if not self.repeat:
            return when == self.start_at
        naive = timezone.localtime(when).replace(tzinfo=None)
        for i, s in enumerate(self._rule()):
            if i >= MAX_OCCURRENCES or s > naive:
                break
            if s == naive:
                return with_excluded or self.exdate_key(when) not in set(self.exdates or ())
        return False

    def next_remind_at(self, now):
        """When the next reminder is due (the next occurrence minus the lead time), or None."""
        if self.remind_before is None or not self.start_at or not self.end_at:
            return None
        lead = timedelta(minutes=self.remind_before)
        if not self.repeat:
            return self.start_at - lead
        upcoming = self.occurrences(now, now + timedelta(days=400))
        upcoming = [o for o in upcoming if o - lead >= now - timedelta(minutes=1)] or upcoming
        return upcoming[0] - lead if upcoming else None


class CareTrigger(models.TextChoices):
    ANNIVERSARY = "anniversary", _("Customer anniversary (registration date)")
    NO_FOLLOW_UP = "no_follow_up", _("No follow-up for N days")
    YEARLY_DATE = "yearly_date", _("Fixed date every year (holiday)")


MAX_CARE_LEAD_DAYS = 365


class CareRule(TimestampedMixin, VersionedMixin, models.Model):
    """A customer-care rule (客户关怀, CUS-11): on a customer's anniversary, after N days without a
    follow-up, or before a yearly date, the customer's owner is notified (and optionally given a
    task to log a return visit). Evaluated daily by crm.activities.care, once per occurrence."""

    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    trigger = models.CharField(_("trigger"), max_length=20, choices=CareTrigger.choices,
                               default=CareTrigger.ANNIVERSARY)
    days = models.PositiveIntegerField(
        _("days"), null=True, blank=True,
        help_text=_("No follow-up: the number of days without one. Anniversary or fixed date: how many days "
                    "before it (empty: on the day)."))
    month = models.PositiveSmallIntegerField(_("month"), null=True, blank=True)
    day = models.PositiveSmallIntegerField(_("day of month"), null=True, blank=True)
    message = models.TextField(_("message"), blank=True, max_length=2000)
    create_task = models.BooleanField(_("also create a task for the owner"), default=False)
    last_occurrence = models.DateField(null=True, blank=True, editable=False)

    objects = EntityQuerySet.as_manager()
    all_objects = EntityQuerySet.as_manager()

    class Meta:
        verbose_name = _("care rule")
        verbose_name_plural = _("care rules")
        indexes = [models.Index(fields=["is_active", "trigger", "id"], name="care_rule_active")]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        errors = {}
        if self.days is not None and self.days < 1:
            errors["days"] = _("The number of days must be at least 1.")
        elif self.trigger == CareTrigger.NO_FOLLOW_UP and self.days is None:
            errors["days"] = _("A rule for customers without follow-up needs the number of days.")
        elif self.trigger != CareTrigger.NO_FOLLOW_UP and self.days and self.days > MAX_CARE_LEAD_DAYS:
            errors["days"] = _("At most %(n)d days before the date.") % {"n": MAX_CARE_LEAD_DAYS}
        if self.trigger == CareTrigger.YEARLY_DATE:
            try:
                if self.month is None or self.day is None:
                    raise ValueError
                date(2000, self.month, self.day)  # a leap year: 29 February is a valid yearly date
            except (ValueError, TypeError):
                errors["day"] = _("Give a valid month and day (for example 10 and 1 for 1 October).")
        if errors:
            raise ValidationError(errors)


class ReminderLog(models.Model):
    """One reminder sent to one user: the unique key makes every reminder job idempotent."""

    key = models.CharField(max_length=120)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "user"], name="one_reminder_per_key_user")]


class CalendarFeed(models.Model):
    """A private iCalendar URL per user (ACT-5). Only a hash of the token is stored; resetting
    or revoking the feed makes the old URL answer 404."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    @staticmethod
    def hash(token):
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def issue(cls, user):
        token = secrets.token_urlsafe(32)
        cls.objects.update_or_create(user=user, defaults={"token_hash": cls.hash(token), "created_at": timezone.now(),
                                                          "last_used_at": None})
        return token
