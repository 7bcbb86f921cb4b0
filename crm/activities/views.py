"""Pages of work and time: my / team / overdue tasks, the calendar (JSON feed, drag to move),
the private iCalendar feed, check-in, attachments, task split and status."""

import json
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.core.access.scope import can, get_for_user_or_404
from crm.core.entities import services as entity_services
from crm.core.entities.services import ConflictError
from crm.core.ui.params import parse_id

from . import services
from .forms import ActivityForm, OccurrenceForm
from .models import Activity, Appointment, CalendarFeed, Task, TaskAssignment, TaskStatus

TASK_LIST_LIMIT = 200


def _need(user, key, action="view"):
    if not can(user, key, action):
        raise PermissionDenied(_("You do not have permission to do this."))


# --- tasks ---------------------------------------------------------------------------------

def _task_rows(qs, user):
    mine = TaskAssignment.objects.filter(task=OuterRef("pk"), user=user, status=TaskStatus.OPEN)
    return list(qs.annotate(mine_open=Exists(mine)).select_related("owner", "record_type").prefetch_related(
        Prefetch("assignments", queryset=TaskAssignment.objects.select_related("user").order_by("pk")), "record"
    ).order_by("due_at", "pk")[:TASK_LIST_LIMIT + 1])


def my_tasks_queryset(user):
    """Open tasks where the user has an open part (an indexed lookup on their assignments)."""
    return Task.objects.filter(pk__in=TaskAssignment.objects.filter(user=user, status=TaskStatus.OPEN).values("task_id"))


TABS = ("today", "overdue", "open", "done", "team")


@login_required
def task_lists(request, tab=None):
    """My tasks (today / overdue / all open / done) and team tasks (every open task in my scope)."""
    user = request.user
    _need(user, "tasks")
    tab = tab or request.GET.get("tab") or "open"
    if tab not in TABS:
        raise Http404
    now = timezone.now()
    end_of_today = timezone.make_aware(datetime.combine(timezone.localdate() + timedelta(days=1), datetime.min.time()))
    if tab == "team":
        qs = Task.objects.for_user(user).filter(status=TaskStatus.OPEN)
        person = parse_id(request.GET.get("person"))
        if person:
            qs = qs.filter(pk__in=TaskAssignment.objects.filter(user_id=person, status=TaskStatus.OPEN).values("task_id"))
        if request.GET.get("overdue"):
            qs = qs.filter(due_at__lt=now)
    elif tab == "done":
        qs = Task.objects.filter(pk__in=TaskAssignment.objects.filter(user=user, status=TaskStatus.DONE).values("task_id"))
    else:
        qs = my_tasks_queryset(user)
        if tab == "today":
            qs = qs.filter(due_at__lt=end_of_today)
        elif tab == "overdue":
            qs = qs.filter(due_at__lt=now)
    rows = _task_rows(qs, user)
    if tab == "done":
        rows.sort(key=lambda t: t.updated_at, reverse=True)
    return render(request, "activities/tasks.html", {
        "tab": tab, "tabs": [(t, label) for t, label in (
            ("today", _("Due today")), ("overdue", _("Overdue")), ("open", _("All my open tasks")),
            ("done", _("Done")), ("team", _("Team tasks")))],
        "rows": rows[:TASK_LIST_LIMIT], "more": len(rows) > TASK_LIST_LIMIT, "now": now,
        "can_create": can(user, "tasks", "create"),
    })


@login_required
@require_POST
def task_status(request, pk):
    """Mark my part of a task done (or open it again); a task editor may do it for an assignee."""
    status = request.POST.get("status") or TaskStatus.DONE
    assignee = None
    if request.POST.get("user"):
        from django.contrib.auth import get_user_model

        assignee = get_user_model().objects.filter(pk=parse_id(request.POST.get("user"))).first()
        if assignee is None:
            raise Http404
    try:
        task = services.set_assignment_status(request.user, pk, status, assignee, request.POST.get("note", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("tasks-detail", pk=pk)
    messages.success(request, _("Task “%(task)s” updated.") % {"task": task})
    back = request.POST.get("next") or ""
    if back.startswith("/") and not back.startswith("//"):
        return redirect(back)
    return redirect("tasks-detail", pk=pk)


@login_required
def task_split(request, pk):
    """Split a task into sub-tasks, one per person (一个任务多人分担, WF-1)."""
    _need(request.user, "tasks", "create")
    task = get_for_user_or_404(request.user, Task, pk, "edit")
    people = list(services.people_in_scope(request.user).order_by("name")[:500])
    rows = []
    error = None
    if request.method == "POST":
        titles = request.POST.getlist("title")
        whos = request.POST.getlist("assignee")
        dues = request.POST.getlist("due_at")
        by_pk = {p.pk: p for p in people}
        parts = []
        from django.contrib.auth import get_user_model

        for i, title in enumerate(titles):
            title = title.strip()[:200]
            who = parse_id(whos[i] if i < len(whos) else None)
            raw_due = (dues[i] if i < len(dues) else "").strip()
            rows.append({"title": title, "assignee": who, "due_at": raw_due})
            if not title and not who:
                continue
            due = parse_datetime(raw_due) if raw_due else None
            if due is not None and timezone.is_naive(due):
                due = timezone.make_aware(due)
            person = by_pk.get(who) or (get_user_model().objects.filter(pk=who).first() if who else None)
            if not title or person is None:
                error = _("Every sub-task needs a title and an assignee.")
                break
            parts.append((title, person, due))
        if error is None:
            try:
                created = services.split_task(request.user, task.pk, parts)
            except ValidationError as exc:
                error = " ".join(exc.messages)
            else:
                messages.success(request, _("%(count)d sub-tasks created.") % {"count": len(created)})
                return redirect("tasks-detail", pk=task.pk)
    while len(rows) < 3:
        rows.append({"title": "", "assignee": None, "due_at": ""})
    return render(request, "activities/task_split.html", {"task": task, "people": people, "rows": rows,
                                                          "error": error}, status=400 if error else 200)


# --- calendar ------------------------------------------------------------------------------

@login_required
def calendar_page(request):
    _need(request.user, "appointments")
    return render(request, "activities/calendar.html", {
        "can_create": can(request.user, "appointments", "create"),
        "people": list(services.people_in_scope(request.user).order_by("name")[:300]),
    })


def _parse_when(raw):
    if not raw:
        return None
    value = parse_datetime(raw.replace(" ", "+"))
    if value is None:
        day = parse_date(raw[:10])
        if day is None:
            return None
        value = datetime.combine(day, datetime.min.time())
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def calendar_queryset(user, start, end, who="me", person=None):
    """Appointments overlapping [start, end): "me" = mine and those I am invited to, "team" =
    every appointment in my data scope (optionally one person's)."""
    when = Q(start_at__lt=end) & (Q(end_at__gt=start) | ~Q(repeat=""))
    scoped = Appointment.objects.for_user(user).filter(when)
    if who == "team":
        qs = scoped
        if person:
            qs = qs.filter(Q(owner_id=person) | Q(invitees=person)).distinct()
    else:  # invitees see the appointment whoever owns it (EntitySpec.shared_with)
        qs = scoped.filter(Q(owner=user) | Q(pk__in=Appointment.invitees.through.objects.filter(
            user_id=user.pk).values("appointment_id")))
    return qs.select_related("owner").prefetch_related("invitees").order_by("start_at", "pk")


@login_required
def calendar_events(request):
    """The JSON feed of FullCalendar: occurrences between `start` and `end`."""
    user = request.user
    _need(user, "appointments")
    start, end = _parse_when(request.GET.get("start")), _parse_when(request.GET.get("end"))
    if start is None or end is None or end <= start or end - start > timedelta(days=62):
        return JsonResponse({"error": _("Give a start and an end at most 62 days apart.")}, status=400)
    who = "team" if request.GET.get("who") == "team" else "me"
    qs = calendar_queryset(user, start, end, who, parse_id(request.GET.get("person")))
    editable = set(Appointment.objects.for_user(user, "edit").filter(pk__in=[a.pk for a in qs]).values_list("pk", flat=True)) \
        if can(user, "appointments", "edit") else set()
    events = []
    for a in qs[:2000]:
        length = a.end_at - a.start_at
        detail = reverse("appointments-detail", kwargs={"pk": a.pk})
        for s in a.occurrences(start, end):
            occurrence = s.astimezone(dt_timezone.utc).isoformat() if a.repeat else None
            events.append({
                "id": f"{a.pk}" if not a.repeat else f"{a.pk}@{Appointment.exdate_key(s)}",
                "title": a.title,
                "start": timezone.localtime(s).isoformat(),
                "end": timezone.localtime(s + length).isoformat(),
                "allDay": a.all_day,
                "url": (reverse("appointment-occurrence", kwargs={"pk": a.pk}) + "?" + urlencode({"at": occurrence})
                        if a.repeat else detail),
                "editable": a.pk in editable,
                "extendedProps": {"pk": a.pk, "version": a.version, "location": a.location, "owner": str(a.owner or ""),
                                  "invitees": [str(i) for i in a.invitees.all()], "recurring": bool(a.repeat),
                                  "occurrence": occurrence, "series": a.series_id},
            })
    return JsonResponse(events, safe=False)


@login_required
@require_POST
def calendar_move(request, pk):
    """Drag to reschedule: new start/end, the version the calendar showed, `force` to save
    despite overlaps. 409 with `conflicts` (overlaps) or `changed` (someone saved meanwhile)."""
    _need(request.user, "appointments", "edit")
    try:
        data = json.loads(request.body or b"{}") if request.content_type == "application/json" else request.POST
    except ValueError:
        return JsonResponse({"error": _("Invalid request.")}, status=400)
    start, end = _parse_when(data.get("start")), _parse_when(data.get("end"))
    version = parse_id(str(data.get("version", "")))
    if start is None:
        return JsonResponse({"error": _("Give the new start.")}, status=400)
    force = str(data.get("force", "")).lower() in ("1", "true", "on")
    occurrence = _parse_when(data.get("occurrence")) if data.get("occurrence") else None
    try:
        if occurrence is not None:  # one occurrence of a series: this / this and following / all
            appt = services.edit_occurrence(request.user, pk, occurrence, data.get("scope") or services.THIS,
                                            {"start_at": start, **({"end_at": end} if end else {})}, version,
                                            force=force)
        else:
            appt = services.move_appointment(request.user, pk, start, end, version, force=force)
    except services.Overlaps as exc:
        return JsonResponse({"error": str(exc), "conflicts": exc.conflicts}, status=409)
    except ConflictError as exc:
        return JsonResponse({"error": str(exc), "changed": True, "version": exc.current.version}, status=409)
    except ValidationError as exc:
        return JsonResponse({"error": " ".join(exc.messages),
                             "fields": getattr(exc, "message_dict", {})}, status=400)
    return JsonResponse({"ok": True, "id": appt.pk, "version": appt.version, "start": appt.start_at.isoformat(),
                         "end": appt.end_at.isoformat(), "reload": occurrence is not None})


@login_required
def appointment_occurrence(request, pk):
    """One occurrence of a recurring appointment: change it (this one / this and the following /
    the whole series) or cancel it the same ways."""
    user = request.user
    _need(user, "appointments")
    series = get_for_user_or_404(user, Appointment, pk)
    at = _parse_when(request.GET.get("at") or request.POST.get("occurrence"))
    if not series.repeat or at is None or not series.has_occurrence(at.replace(microsecond=0)):
        raise Http404
    at = at.replace(microsecond=0)
    may_edit = can(user, "appointments", "edit") and Appointment.objects.for_user(user, "edit").filter(
        pk=series.pk).exists()
    length = series.end_at - series.start_at
    form = OccurrenceForm(request.POST or None, initial={
        "title": series.title, "start_at": timezone.localtime(at), "end_at": timezone.localtime(at + length),
        "location": series.location, "description": series.description, "scope": services.THIS,
        "version": series.version})
    conflicts = None
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied(_("You do not have permission to do this."))
        if form.is_valid():
            d = form.cleaned_data
            try:
                if request.POST.get("action") == "cancel":
                    kept = services.cancel_occurrence(user, pk, at, d["scope"], version=d["version"])
                    messages.success(request, _("The occurrence was cancelled."))
                    return redirect("appointments-detail", pk=kept.pk) if kept else redirect("calendar")
                changes = {k: d[k] for k in ("title", "start_at", "end_at", "location", "description")}
                appt = services.edit_occurrence(user, pk, at, d["scope"], changes, version=d["version"],
                                                force=d["save_anyway"])
            except services.Overlaps as exc:
                conflicts = exc.conflicts
                form.add_error(None, _("This appointment overlaps others. Tick “Save anyway” to keep it all the "
                                       "same."))
            except ConflictError:
                form.add_error(None, _("Someone else changed this series meanwhile; reload the page and try again."))
            except ValidationError as exc:
                from crm.core.ui.views import _apply_errors

                _apply_errors(form, exc)
            else:
                messages.success(request, _("Your changes were saved."))
                return redirect("appointments-detail", pk=appt.pk)
    return render(request, "activities/occurrence.html", {
        "series": series, "at": at, "form": form, "may_edit": may_edit, "conflicts": conflicts,
    }, status=400 if request.method == "POST" else 200)


@login_required
def calendar_subscribe(request):
    """The private iCalendar URL: create (or replace) it, or revoke it."""
    url = None
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            CalendarFeed.objects.filter(user=request.user).delete()
            messages.success(request, _("The calendar feed was revoked; the old address no longer works."))
            return redirect("calendar-subscribe")
        token = CalendarFeed.issue(request.user)
        url = request.build_absolute_uri(reverse("calendar-feed", kwargs={"token": token}))
    feed = CalendarFeed.objects.filter(user=request.user).first()
    return render(request, "activities/subscribe.html", {"feed": feed, "url": url})


def calendar_feed(request, token):
    """The .ics a calendar application subscribes to: no session, the token is the key."""
    from .ical import feed_for

    feed = CalendarFeed.objects.filter(token_hash=CalendarFeed.hash(token)).select_related("user").first()
    if feed is None or not feed.user.is_active:
        raise Http404
    CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=timezone.now())
    response = HttpResponse(feed_for(feed.user), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="crm.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response


# --- activities ----------------------------------------------------------------------------

@login_required
def log_activity(request, key, pk):
    """"Log activity" on a record's page: the activity form, linked to that record."""
    return redirect(reverse("activities-create") + "?" + urlencode({"record_type": key, "record_id": pk}))


@login_required
def check_in(request):
    """Check-in for a field visit (ACT-6): the phone's position (Geolocation API) + a visit."""
    user = request.user
    _need(user, "activities", "create")
    initial = {"kind": "visit", "occurred_at": timezone.now()}
    initial.update({k: v for k, v in request.GET.items() if k in ("record_type", "record_id", "subject")})
    form = ActivityForm(request.POST or None, request.FILES or None, initial=initial, user=user)
    if request.method == "POST":
        if not request.POST.get("latitude") or not request.POST.get("longitude"):
            form.is_valid()
            form.add_error(None, _("Your position is missing: allow the browser to use your location and try again."))
        elif form.is_valid():
            data, m2m, _v = form.service_data()
            data["kind"] = "visit"
            try:
                with transaction.atomic():  # the visit and its photos: all or nothing
                    obj = entity_services.create(user, Activity, data, m2m)
                    form.after_save(obj)
            except ValidationError as exc:
                from crm.core.ui.views import _apply_errors

                _apply_errors(form, exc)
            else:
                messages.success(request, _("Checked in at %(time)s.") % {
                    "time": timezone.localtime(obj.checked_in_at).strftime("%H:%M")})
                return redirect("activities-detail", pk=obj.pk)
    fields = [form[n] for n in ("subject", "record_type", "record_id", "contacts", "address", "outcome", "next_step",
                                "files")]
    from .geocoding import configured

    return render(request, "activities/check_in.html", {"form": form, "fields": fields,
                                                        "geocoding": configured() is not None},
                  status=400 if request.method == "POST" else 200)
