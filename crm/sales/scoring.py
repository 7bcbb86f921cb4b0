"""Lead scoring (LEAD-3): a lead's score is the sum of the points of the active scoring rules it
meets, between 0 and 100, and its grade A/B/C/D follows from thresholds that are system
parameters (`lead_grade_a/b/c`). `score_details` keeps which rule gave how many points (the
explanation on the lead's page).

Recomputed (1) on every save of a lead: `Lead.clean()` calls `apply_score`, so the form, the API,
the import and the services agree; (2) after an activity on a lead is logged, changed or deleted
(an event subscriber, after commit); (3) nightly for all leads (periodic job `sales-lead-scores`,
keyset batches of 1 000, bulk UPDATEs of the changed rows) and after a scoring rule changed. The
derived columns are written without a version bump: nobody's open form goes stale because an
activity changed the score.
"""

import datetime
from collections import defaultdict

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.core.dictionary.parameters import Parameter, param, register_parameter
from crm.core.request_cache import RequestCache

from .models import Lead, LeadScoringRule, ScoringKind

BATCH = 1000
SCORING = _("Lead scoring")

GRADE_PARAMETERS = (
    Parameter("lead_grade_a", "int", 80, _("Lead grade A from score"), _("Leads with at least this score are A."),
              min=0, max=100, group=SCORING),
    Parameter("lead_grade_b", "int", 50, _("Lead grade B from score"), _("Leads with at least this score are B."),
              min=0, max=100, group=SCORING),
    Parameter("lead_grade_c", "int", 20, _("Lead grade C from score"),
              _("Leads with at least this score are C; below it, D."), min=0, max=100, group=SCORING),
)


def _load_rules():
    return list(LeadScoringRule.objects.filter(is_active=True).order_by("sort_order", "pk"))


_rules = RequestCache("lead-scoring-rules", _load_rules)


def rules_changed():
    """A rule was saved: later reads in this request see it, and every lead is rescored."""
    from crm.core.jobs import enqueue_after_commit

    from .tasks import rescore_leads

    _rules.clear()
    enqueue_after_commit(rescore_leads)


def grade_of(score):
    for grade, key in (("A", "lead_grade_a"), ("B", "lead_grade_b"), ("C", "lead_grade_c")):
        if score >= param(key):
            return grade
    return "D"


def _meets(rule, lead):
    value = getattr(lead, rule.field, "") or ""
    if rule.kind == ScoringKind.FILLED:
        return bool(str(value).strip())
    wanted = rule.values()
    if rule.field in ("source", "industry", "status"):
        return value in wanted
    return str(value).strip().casefold() in {w.casefold() for w in wanted}


def compute(lead, rules, activity_counts):
    """(score, grade, details) of `lead`; `activity_counts` = {rule id: activities in its window}."""
    details = []
    for rule in rules:
        if rule.kind == ScoringKind.ACTIVITIES:
            n = activity_counts.get(rule.pk, 0)
            points = n * rule.points
            if rule.cap is not None:
                points = min(points, rule.cap)
            if points:
                details.append({"rule": rule.pk, "name": rule.name, "points": points, "count": n})
        elif _meets(rule, lead):
            details.append({"rule": rule.pk, "name": rule.name, "points": rule.points})
    score = max(0, min(100, sum(d["points"] for d in details)))
    return score, grade_of(score), details


def activity_counts(lead_ids, rules, now=None):
    """{lead id: {rule id: activities on the lead within the rule's days}} — one GROUP BY per
    activity rule (not per lead)."""
    from crm.activities.models import Activity

    out = defaultdict(dict)
    rules = [r for r in rules if r.kind == ScoringKind.ACTIVITIES]
    if not rules or not lead_ids:
        return out
    now = now or timezone.now()
    ct = ContentType.objects.get_for_model(Lead)
    for rule in rules:
        rows = (Activity.objects.filter(record_type=ct, record_id__in=lead_ids,
                                        occurred_at__gte=now - datetime.timedelta(days=rule.days),
                                        occurred_at__lte=now)
                .values("record_id").annotate(n=Count("pk")).values_list("record_id", "n"))
        for lead_id, n in rows:
            out[lead_id][rule.pk] = n
    return out


def apply_score(lead):
    """Set the lead's score, grade and explanation (called by `Lead.clean()`)."""
    rules = _rules.get()
    counts = activity_counts([lead.pk], rules).get(lead.pk, {}) if lead.pk else {}
    lead.score, lead.grade, lead.score_details = compute(lead, rules, counts)
    lead.scored_at = timezone.now()


def rescore(lead_ids, now=None):
    """Recompute the given leads in one pass; only changed rows are written (bulk)."""
    rules = _load_rules()
    leads = list(Lead._base_manager.filter(pk__in=list(lead_ids)))
    counts = activity_counts([lead.pk for lead in leads], rules, now)
    changed = []
    now = now or timezone.now()
    for lead in leads:
        score, grade, details = compute(lead, rules, counts.get(lead.pk, {}))
        if (score, grade, details) != (lead.score, lead.grade, lead.score_details):
            lead.score, lead.grade, lead.score_details, lead.scored_at = score, grade, details, now
            changed.append(lead)
    if changed:
        Lead._base_manager.bulk_update(changed, ["score", "grade", "score_details", "scored_at"])
    return len(changed)


def rescore_all(now=None, progress=None):
    """Every lead (also binned ones), in keyset batches, each in its own transaction."""
    last, changed, done = 0, 0, 0
    total = Lead._base_manager.count()
    while True:
        ids = list(Lead._base_manager.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:BATCH])
        if not ids:
            break
        with transaction.atomic():
            changed += rescore(ids, now)
        last, done = ids[-1], done + len(ids)
        if progress:
            progress(done, total)
    return {"leads": done, "changed": changed}


def explanation(lead):
    """Rows for the lead page: (rule name, points) and the total."""
    return [(d.get("name", ""), d.get("points", 0), d.get("count")) for d in (lead.score_details or [])]


# --- An activity on a lead changes its score ----------------------------------------------------

def _rescore_for_activity(event):
    from crm.activities.models import Activity

    activity = Activity.all_objects.filter(pk=event.object_id).values("record_type_id", "record_id").first()
    if activity and activity["record_id"] and activity["record_type_id"] == ContentType.objects.get_for_model(Lead).pk:
        with transaction.atomic():
            rescore([activity["record_id"]])


def register():
    """Called once from the app's registration: the grade thresholds and the activity subscriber."""
    from crm.core.events.bus import subscribe

    for p in GRADE_PARAMETERS:
        register_parameter(p)
    for name in ("activities.created", "activities.updated", "activities.deleted", "activities.restored"):
        subscribe(name)(_rescore_for_activity)
