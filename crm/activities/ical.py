"""The private iCalendar feed (ACT-5, RFC 5545): the user's appointments (own and invited),
recurring ones as one VEVENT with its RRULE and EXDATEs (cancelled occurrences), a changed
occurrence as a VEVENT with the series' UID and its RECURRENCE-ID, from 90 days back."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

from .models import Appointment

PAST = timedelta(days=90)
LIMIT = 2000


def appointments_for(user, now=None):
    now = now or timezone.now()
    invited = Appointment.invitees.through.objects.filter(user_id=user.pk).values("appointment_id")
    return (Appointment.objects.filter(Q(owner=user) | Q(pk__in=invited))
            .filter(Q(end_at__gte=now - PAST) | ~Q(repeat=""))
            .select_related("owner").prefetch_related("invitees").order_by("start_at", "pk")[:LIMIT])


def feed_for(user, now=None):
    cal = Calendar()
    cal.add("prodid", "-//CRM//Work and time//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"CRM · {user}")
    cal.add("x-wr-timezone", settings.TIME_ZONE)
    host = (settings.ALLOWED_HOSTS[0] if settings.ALLOWED_HOSTS else "crm").lstrip(".") or "crm"
    rows = list(appointments_for(user, now))
    shown = {a.pk for a in rows}
    detached = {}  # series id -> the original starts of its detached occurrences in this feed
    for a in rows:
        if a.series_id in shown and a.recurrence_id:
            detached.setdefault(a.series_id, set()).add(Appointment.exdate_key(a.recurrence_id))
    for a in rows:
        ev = Event()
        in_series = a.series_id in shown and a.recurrence_id is not None
        ev.add("uid", f"appointment-{a.series_id if in_series else a.pk}@{host}")
        if in_series:
            ev.add("recurrence-id", timezone.localtime(a.recurrence_id))
        ev.add("summary", a.title)
        ev.add("dtstamp", a.updated_at)
        ev.add("last-modified", a.updated_at)
        ev.add("sequence", a.version)
        if a.all_day:
            first = timezone.localtime(a.start_at).date()
            last = timezone.localtime(a.end_at).date()
            ev.add("dtstart", first)
            ev.add("dtend", max(last, first) + timedelta(days=1))
        else:
            ev.add("dtstart", timezone.localtime(a.start_at))
            ev.add("dtend", timezone.localtime(a.end_at))
        if a.location:
            ev.add("location", a.location)
        if a.description:
            ev.add("description", a.description)
        rule = a.rrule_string()
        if rule:
            ev.add("rrule", dict(part.split("=", 1) for part in rule.split(";")))
            # Detached occurrences replace theirs through RECURRENCE-ID; the others are cancelled.
            cancelled = sorted(set(a.exdates or ()) - detached.get(a.pk, set()))
            if cancelled:
                ev.add("exdate", [timezone.localtime(Appointment.parse_exdate(k)) for k in cancelled])
        if a.owner and a.owner.email:
            organizer = vCalAddress(f"mailto:{a.owner.email}")
            organizer.params["cn"] = vText(str(a.owner))
            ev["organizer"] = organizer
        for person in a.invitees.all():
            if person.email:
                att = vCalAddress(f"mailto:{person.email}")
                att.params["cn"] = vText(str(person))
                ev.add("attendee", att, encode=0)
        if a.remind_before is not None:
            from icalendar import Alarm

            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", a.title)
            alarm.add("trigger", -timedelta(minutes=a.remind_before))
            ev.add_component(alarm)
        cal.add_component(ev)
    return cal.to_ical()
