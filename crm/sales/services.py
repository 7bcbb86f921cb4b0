"""Sales operations (LEAD-2, LEAD-3, SAL-1..2): assign a lead, convert it, move an opportunity
between stages, win, lose. Each is one transaction built on the kernel's write services
(`crm.core.entities.services`): scope re-checked by the write, versioned conditional UPDATE,
audit entry and event; a failure anywhere rolls back everything."""

import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core.access.scope import can, get_for_user_or_404, may
from crm.core.audit import log
from crm.core.audit.models import AuditEntry
from crm.core.entities import services
from crm.core.entities.duplicates import find_duplicates
from crm.core.entities.registry import get_spec
from crm.core.events.bus import emit
from crm.core.numbering.services import next_number
from crm.customers.models import Contact, Customer

from .models import (
    AssignmentMethod, Lead, LeadAssignmentRule, LeadStatus, Opportunity, Pipeline, Stage, StageHistory, StageKind,
)

ConflictError = services.ConflictError


# --- Stage history and task templates -----------------------------------------------------------

def stage_entered(user, opp, from_stage_id):
    """Called by the opportunity's write hooks: close the open history row, open a new one, and
    announce the stage's task templates (SAL-2)."""
    now = opp.stage_entered_at or timezone.now()
    open_rows = StageHistory.objects.filter(opportunity=opp, left_at__isnull=True)
    for row in open_rows.only("id", "entered_at"):
        StageHistory.objects.filter(pk=row.pk).update(
            left_at=now, seconds=max(int((now - row.entered_at).total_seconds()), 0))
    StageHistory.objects.create(opportunity=opp, pipeline_id=opp.pipeline_id, stage_id=opp.stage_id,
                                from_stage_id=from_stage_id, entered_at=now,
                                user=user if user is not None and user.is_authenticated else None)
    templates = list(opp.stage.task_templates.all()) if opp.stage_id else []
    if templates:
        tasks = _create_tasks(user, opp, templates)
        emit("opportunities.stage_entered", opp, user, {
            "stage": opp.stage_id,
            "tasks": [{"template": t.pk, "title": t.title, "description": t.description,
                       "due": (timezone.localdate() + datetime.timedelta(days=t.due_in_days)).isoformat(),
                       "owner": opp.owner_id, "task": tasks.get(t.pk)} for t in templates],
        })


def _create_tasks(user, opp, templates):
    """The stage's task templates as tasks (crm.activities) linked to the opportunity and assigned
    to its owner, through the activities' write service, when the mover may create tasks (without
    that right the templates only travel in the event). {template id: task id}"""
    from django.contrib.contenttypes.models import ContentType

    from crm.activities.models import Task

    if user is None or not user.is_authenticated or not can(user, "tasks", "create"):
        return {}
    record_type = ContentType.objects.get_for_model(Opportunity)
    now = timezone.now()
    created = {}
    for t in templates:
        task = services.create(user, Task, {
            "title": t.title, "description": t.description, "due_at": now + datetime.timedelta(days=t.due_in_days),
            "record_type": record_type, "record_id": opp.pk,
        }, m2m={"assignees": [opp.owner]} if opp.owner_id else None)
        created[t.pk] = task.pk
    return created


# --- Leads --------------------------------------------------------------------------------------

def _rule_matches(rule, lead):
    regions = rule.split(rule.regions)
    if regions and lead.province not in regions and lead.city not in regions:
        return False
    sources = rule.split(rule.sources)
    if sources and lead.source not in sources:
        return False
    return True


def _rule_people(rule):
    User = get_user_model()
    people = User.objects.filter(is_active=True)
    explicit = list(rule.members.values_list("pk", flat=True))
    if explicit:
        people = people.filter(pk__in=explicit)
    elif rule.team_id:
        people = people.filter(department_id=rule.team_id)
    else:
        return []
    return list(people.order_by("pk"))


def _round_robin(rule, people, model=LeadAssignmentRule):
    """The person after the last one assigned; the pointer (`last_assigned` of the rule, or of
    the territory) moves with a conditional UPDATE, so two leads assigned at once never go to the
    same person by accident."""
    for _attempt in range(5):
        last = model.objects.filter(pk=rule.pk).values_list("last_assigned_id", flat=True).first()
        nxt = next((p for p in people if last is not None and p.pk > last), people[0])
        if model.objects.filter(pk=rule.pk, last_assigned_id=last).update(last_assigned=nxt) == 1:
            return nxt
    return people[0]


def _by_territory(rule, lead):
    """SAL-9: round robin among the active members of the lead's territory, else of its parent
    territory and so on up; None when no territory on the way has members."""
    from crm.org.models import Territory

    User = get_user_model()
    territory = Territory.objects.filter(pk=lead.territory_id).first() if lead.territory_id else None
    while territory is not None:
        people = list(User.objects.filter(is_active=True, territory_memberships__territory=territory)
                      .distinct().order_by("pk"))
        if people:
            return _round_robin(territory, people, Territory)
        territory = Territory.objects.filter(pk=territory.parent_id).first() if territory.parent_id else None
    return None


def _least_loaded(people):
    """The person with the fewest open leads (not converted, not unqualified, not binned)."""
    load = dict(Lead.objects.filter(owner__in=people).exclude(status__in=LeadStatus.CLOSED)
                .values("owner").annotate(n=Count("pk")).values_list("owner", "n"))
    return min(people, key=lambda p: (load.get(p.pk, 0), p.pk))


def choose_owner(lead):
    """The owner the active assignment rules give `lead` (LEAD-2), or None when none matches."""
    for rule in LeadAssignmentRule.objects.filter(is_active=True).order_by("priority", "pk"):
        if not _rule_matches(rule, lead):
            continue
        if rule.method == AssignmentMethod.TERRITORY:
            chosen = _by_territory(rule, lead)
            if chosen is not None:
                return chosen  # otherwise the rule's own team or people are the fallback (below)
        people = _rule_people(rule)
        if not people:
            continue
        if rule.method == AssignmentMethod.LOAD:
            return _least_loaded(people)
        return _round_robin(rule, people)
    return None


@transaction.atomic
def assign(user, lead_pk, owner=None, reason=""):
    """Give a lead to `owner` (manual assignment), or to whom the rules choose when no owner is
    given. Needs the assign permission on leads; the lead must be in the user's assign scope."""
    lead = get_for_user_or_404(user, Lead, lead_pk, "assign")
    if owner is None:
        owner = choose_owner(lead)
        if owner is None:
            raise ValidationError({"owner": _("No active assignment rule matches this lead; choose a person.")})
        reason = reason or _("Assignment rule")
    services.transfer(user, Lead, [lead.pk], owner, reason)
    lead.refresh_from_db()
    return lead


@transaction.atomic
def capture(web_form, data, ip=None):
    """A lead from the public web form: owned by the assignment rules' choice, else the form's
    default owner. There is no logged-in actor; the audit entry names the form."""
    lead = Lead(**data)
    lead.web_form = web_form
    if not lead.source:
        lead.source = web_form.source
    if not lead.campaign_code:
        lead.campaign_code = web_form.campaign_code
    lead.full_clean(exclude=["owner", "department"])
    owner = choose_owner(lead) or web_form.default_owner
    lead.owner, lead.department_id = owner, owner.department_id
    lead.code = next_number("leads") or ""
    lead.save()
    log.record(None, AuditEntry.Action.CREATE, lead, extra={"web_form": web_form.pk, "version": 1}, ip=ip)
    emit("leads.created", lead, None, {"web_form": web_form.pk})
    return lead


def _customer_probe(lead):
    return Customer(name=lead.company or lead.name, phone=lead.phone or "", email=lead.email,
                    province=lead.province, city=lead.city, industry=lead.industry,
                    customer_type="company" if lead.company else "person")


@transaction.atomic
def convert(user, lead_pk, *, customer=None, contact=None, opportunity=None, expected_version=None):
    """One-step conversion (LEAD-3): customer + contact + (optionally) opportunity.

    `customer` / `contact`: an existing record's id the user chose, or None to reuse the first
    visible duplicate (duplicate check, CUS-3) or else create one from the lead. `opportunity`:
    a dict of fields (name, amount, pipeline, stage, expected_close_date) or None for none.
    The lead is marked converted with links to all three. Converting twice is refused; any
    error rolls back everything."""
    lead = get_for_user_or_404(user, Lead, lead_pk, "edit")
    if lead.is_converted:
        raise ValidationError(_("This lead was already converted on %(date)s.")
                              % {"date": timezone.localtime(lead.converted_at).strftime("%Y-%m-%d %H:%M")})
    if expected_version is not None and lead.version != expected_version:
        raise ConflictError(lead, expected_version)
    version = lead.version
    result = {"customer_reused": False, "contact_reused": False}

    if customer is not None:
        cust = get_for_user_or_404(user, Customer, customer)
        result["customer_reused"] = True
    else:
        probe = _customer_probe(lead)
        found = find_duplicates(user, get_spec(Customer), probe, limit=1)
        if found.visible:
            cust = found.visible[0][0]
            result["customer_reused"] = True
        else:
            data = {f: getattr(probe, f) for f in ("name", "phone", "email", "province", "city", "industry",
                                                    "customer_type")}
            data["source"] = lead.source if lead.source in _customer_sources() else ""
            cust = services.create(user, Customer, data)

    if contact is not None:
        cont = get_for_user_or_404(user, Contact, contact)
        if cont.customer_id != cust.pk:
            raise ValidationError({"contact": _("The contact must belong to the customer.")})
        result["contact_reused"] = True
    else:
        probe = Contact(customer=cust, name=lead.name, mobile=lead.mobile, email=lead.email, title=lead.title)
        found = find_duplicates(user, get_spec(Contact), probe, limit=5)
        match = next((c for c, _rules in found.visible if c.customer_id == cust.pk), None)
        if match is not None:
            cont = match
            result["contact_reused"] = True
        else:
            cont = services.create(user, Contact, {"customer": cust, "name": lead.name, "mobile": lead.mobile,
                                                   "email": lead.email, "title": lead.title})

    opp = None
    if opportunity:
        data = dict(opportunity)
        data["customer"] = cust
        data.setdefault("name", lead.company or lead.name)
        if "pipeline" not in data or data["pipeline"] is None:
            data["pipeline"] = default_pipeline()
        if data.get("stage") is None and data.get("pipeline") is not None:
            data["stage"] = first_stage(data["pipeline"])
        if data.get("pipeline") is None or data.get("stage") is None:
            raise ValidationError({"pipeline": _("Set up a pipeline with stages first.")})
        opp = services.create(user, Opportunity, data, m2m={"contacts": [cont]})

    services.update(user, Lead, lead.pk, {
        "status": LeadStatus.CONVERTED, "converted_at": timezone.now(), "converted_customer": cust,
        "converted_contact": cont, "converted_opportunity": opp,
    }, expected_version=version)
    emit("leads.converted", lead, user, {"customer": cust.pk, "contact": cont.pk, "opportunity": opp.pk if opp else None})
    result.update(lead=Lead.objects.get(pk=lead.pk), customer=cust, contact=cont, opportunity=opp)
    return result


def _customer_sources():
    from crm.core.dictionary import lookup

    return {code for code, _label in lookup.choices("customer_source", blank=False)}


# --- Opportunities ------------------------------------------------------------------------------

def default_pipeline():
    return (Pipeline.objects.filter(is_active=True).order_by("-is_default", "sort_order", "pk").first())


def first_stage(pipeline):
    return Stage.objects.filter(pipeline=pipeline, kind=StageKind.OPEN).order_by("order", "pk").first()


def _stage_of(opp, stage_pk):
    stage = Stage.objects.filter(pk=stage_pk).select_related("pipeline").first()
    if stage is None or stage.pipeline_id != opp.pipeline_id:
        raise ValidationError({"stage": _("This stage belongs to another pipeline.")})
    return stage


@transaction.atomic
def move_stage(user, opp_pk, stage_pk, expected_version, extra=None):
    """Move an opportunity to another stage of its pipeline (the kanban's drag). A stale version
    (someone else changed it since the board was loaded) raises ConflictError."""
    opp = get_for_user_or_404(user, Opportunity, opp_pk, "edit")
    stage = _stage_of(opp, stage_pk)
    if expected_version is None:
        raise ValidationError({"version": _("The version of the record is missing; reload the page.")})
    if stage.kind == StageKind.LOST and not (extra or {}).get("lost_reason"):
        raise ValidationError({"lost_reason": _("Give the reason the opportunity was lost.")})
    data = {"stage": stage, **(extra or {})}
    return services.update(user, Opportunity, opp.pk, data, expected_version=expected_version)


def win(user, opp_pk, expected_version):
    opp = get_for_user_or_404(user, Opportunity, opp_pk, "edit")
    stage = opp.pipeline.won_stage()
    if stage is None:
        raise ValidationError({"stage": _("The pipeline has no won stage.")})
    return move_stage(user, opp.pk, stage.pk, expected_version)


def lose(user, opp_pk, expected_version, reason, competitor=None):
    """Mark lost with a reason (dictionary "lost_reason") and optionally the competitor lost to
    (SAL-11): a Competitor or its id, which must be one the user may see (else a field error)."""
    opp = get_for_user_or_404(user, Opportunity, opp_pk, "edit")
    stage = opp.pipeline.lost_stage()
    if stage is None:
        raise ValidationError({"stage": _("The pipeline has no lost stage.")})
    rival = None
    if competitor not in (None, ""):
        from .models import Competitor

        pk = getattr(competitor, "pk", competitor)
        rival = Competitor.objects.for_user(user).filter(pk=pk).first() if str(pk).isdigit() else None
        if rival is None:
            raise ValidationError({"lost_to": _("Choose a competitor you may see.")})
    return move_stage(user, opp.pk, stage.pk, expected_version, {"lost_reason": reason or "", "lost_to": rival})


def may_edit(user, opp):
    return may(user, opp, "edit")
