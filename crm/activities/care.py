"""Care rules (CUS-11), evaluated daily by the job `activities-care` on a controlled clock (tests
pass `today`/`now`). The customers are chosen in SQL by date ranges (registration date, last
follow-up) — never by scanning every customer in Python. Like the birthday reminders, each
notification is recorded in ReminderLog (unique per key and person) in the same transaction, so a
rule fires at most once per customer and occurrence however often the job runs."""

import calendar as pycal
from datetime import date, datetime, time, timedelta

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Min, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from crm.core.access.scope import can

from .models import CareRule, CareTrigger, ReminderLog, Task
from .services import notify

GRACE_DAYS = 2  # a "no follow-up" day missed for longer than this (worker down) is skipped
MAX_YEARS = 150


def _customer_model():
    return apps.get_model("customers", "Customer")


def _midnight(day):
    return timezone.make_aware(datetime.combine(day, time.min))


def _same_day(year, month, day):
    """(month, day) in `year`; 29 February is 28 February in other years."""
    if (month, day) == (2, 29) and not pycal.isleap(year):
        day = 28
    return date(year, month, day)


def _range(lo, hi):
    """`registered_at` on the local days lo..hi (inclusive): one index range."""
    return Q(registered_at__gte=_midnight(lo), registered_at__lt=_midnight(hi + timedelta(days=1)))


def _anniversaries(rule, today):
    """Customers whose registration anniversary falls within [today, today + lead days]: one range
    of `registered_at` per past year (the cust_registered index), then the day in Python."""
    Customer = _customer_model()
    last = today + timedelta(days=rule.days or 0)
    first_reg = Customer.objects.aggregate(m=Min("registered_at"))["m"]
    if first_reg is None:
        return []
    first_year = max(timezone.localtime(first_reg).year, today.year - MAX_YEARS)
    cond = Q()
    for k in range(1, today.year - first_year + 2):
        lo, hi = _same_day(today.year - k, today.month, today.day), _same_day(last.year - k, last.month, last.day)
        if (hi.month, hi.day) == (2, 28) and pycal.isleap(hi.year):
            hi = hi + timedelta(days=1)  # 29 February registrations are remembered on 28 February
        cond |= _range(lo, hi)
    if not cond:
        return []
    days = [today + timedelta(days=n) for n in range((last - today).days + 1)]
    out = []
    for customer in Customer.objects.filter(cond, owner__is_active=True).select_related("owner").iterator(
            chunk_size=500):
        reg = timezone.localdate(customer.registered_at)
        day = next((d for d in days if d.year > reg.year and d == _same_day(d.year, reg.month, reg.day)), None)
        if day is not None:
            out.append((customer, day, f"{day.year}"))
    return out


def _no_follow_up(rule, today):
    """Customers whose last follow-up (or, with none, their registration) was `days` days ago —
    the day they become due, or up to GRACE_DAYS later when a run was missed."""
    Customer = _customer_model()
    lo, hi = today - timedelta(days=rule.days + GRACE_DAYS), today - timedelta(days=rule.days)
    start, end = _midnight(lo), _midnight(hi + timedelta(days=1))
    cond = (Q(last_activity_at__gte=start, last_activity_at__lt=end)
            | Q(last_activity_at__isnull=True, registered_at__gte=start, registered_at__lt=end))
    out = []
    for customer in Customer.objects.filter(cond, owner__is_active=True).select_related("owner").iterator(
            chunk_size=500):
        since = timezone.localdate(customer.last_activity_at or customer.registered_at)
        out.append((customer, today, since.isoformat()))
    return out


def yearly_occurrence(rule, today):
    """The rule's next date within [today, today + lead days], or None."""
    for year in (today.year, today.year + 1):
        day = _same_day(year, rule.month, rule.day)
        if today <= day <= today + timedelta(days=rule.days or 0):
            return day
    return None


def _yearly(rule, today):
    day = yearly_occurrence(rule, today)
    if day is None or rule.last_occurrence == day:  # every customer already had this one
        return None, []
    rows = _customer_model().objects.filter(owner__is_active=True).select_related("owner").iterator(chunk_size=500)
    return day, ((customer, day, f"{day.year}") for customer in rows)


def _create_task(rule, customer, day):
    """A task for the owner linked to the customer, through the write service (as the owner, who
    sees their own customer): only when the owner may create tasks."""
    owner = customer.owner
    if not can(owner, "tasks", "create"):
        return None
    from crm.core.entities import services

    due = timezone.make_aware(datetime.combine(day, time(18, 0)))
    description = "\n\n".join(p for p in [rule.message, _('When you have been in touch, log a "Return visit" '
                                                          'activity on the customer.')] if p)
    try:
        with transaction.atomic():
            return services.create(owner, Task, {
                "title": (_("Care: %(rule)s — %(customer)s") % {"rule": rule.name, "customer": customer})[:200],
                "description": description, "due_at": due,
                "record_type": ContentType.objects.get_for_model(type(customer)), "record_id": customer.pk,
            }, m2m={"assignees": [owner]})
    except (PermissionDenied, ValidationError):
        return None


def _fire(rule, customer, day, occurrence, now):
    owner = customer.owner
    try:
        with transaction.atomic():
            ReminderLog.objects.create(key=f"care:{rule.pk}:{customer.pk}:{occurrence}"[:120], user=owner, sent_at=now)
            notify([owner], "care", lambda u: _("%(rule)s: %(customer)s (%(date)s)") % {
                "rule": rule.name, "customer": customer, "date": date_format(day, "Y-m-d")},
                body=rule.message, url=reverse("customers-detail", kwargs={"pk": customer.pk}), obj=customer)
            if rule.create_task:
                _create_task(rule, customer, day)
    except IntegrityError:
        return False
    return True


def run_care_rules(today=None, now=None):
    """Evaluate every active care rule; returns the number of notifications sent."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    sent = 0
    for rule in CareRule.objects.filter(is_active=True).order_by("id"):
        occurrence_day = None
        if rule.trigger == CareTrigger.ANNIVERSARY:
            rows = _anniversaries(rule, today)
        elif rule.trigger == CareTrigger.NO_FOLLOW_UP:
            if not rule.days:
                continue
            rows = _no_follow_up(rule, today)
        elif rule.trigger == CareTrigger.YEARLY_DATE:
            if not rule.month or not rule.day:
                continue
            occurrence_day, rows = _yearly(rule, today)
        else:
            continue
        for customer, day, occurrence in rows:
            if _fire(rule, customer, day, occurrence, now):
                sent += 1
        if occurrence_day is not None:
            CareRule.all_objects.filter(pk=rule.pk).update(last_occurrence=occurrence_day)
    return sent
