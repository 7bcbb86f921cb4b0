"""Panels on the detail pages of leads, opportunities, pipelines and stages. Related records are
read through the scope predicate (`record_panel`)."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core.ui import cells
from crm.core.ui.panels import record_panel

from .models import OpportunityProduct, Stage, StageHistory, StageTaskTemplate


def lines_panel(request, opp):
    qs = OpportunityProduct.objects.filter(opportunity=opp).order_by("pk")
    return record_panel(request, "lines", OpportunityProduct, qs, ["product", "quantity", "unit_price", "line_amount"],
                        _("Products of interest"), _("Add a product"), {"opportunity": opp.pk}, limit=50)


def stage_history_panel(request, opp):
    """Stages the opportunity went through, with the days spent in each (SAL-3)."""
    rows = list(StageHistory.objects.filter(opportunity=opp).select_related("stage", "user")
                .order_by("-entered_at", "-pk")[:30])
    now = timezone.now()
    out = []
    for h in rows:
        seconds = h.seconds if h.seconds is not None else (now - h.entered_at).total_seconds()
        out.append({"cells": [h.stage.name, cells.format_value(h.entered_at), cells.format_value(h.left_at),
                              f"{seconds / 86400:.1f}", str(h.user or "")], "url": None, "indent": 0, "obj": h})
    return {"key": "stage-history", "title": _("Stage history"), "rows": out, "more": False, "add_url": None,
            "headers": [_("Stage"), _("Entered"), _("Left"), _("Days"), _("Moved by")]}


def stages_panel(request, pipeline):
    qs = Stage.objects.filter(pipeline=pipeline).order_by("order", "pk")
    return record_panel(request, "stages", Stage, qs, ["name", "order", "probability", "kind"],
                        _("Stages"), _("New stage"), {"pipeline": pipeline.pk}, limit=50)


def templates_panel(request, stage):
    qs = StageTaskTemplate.objects.filter(stage=stage).order_by("due_in_days", "pk")
    return record_panel(request, "task-templates", StageTaskTemplate, qs, ["title", "due_in_days"],
                        _("Tasks created on entering the stage"), _("New task template"), {"stage": stage.pk})


def lead_links_panel(request, lead):
    """Where a converted lead went."""
    if not lead.converted_at:
        return None
    links = []
    for obj, key in ((lead.converted_customer, "customers"), (lead.converted_contact, "contacts"),
                     (lead.converted_opportunity, "opportunities")):
        if obj is not None and type(obj).objects.for_user(request.user).filter(pk=obj.pk).exists():
            links.append({"cells": [str(obj), str(obj._meta.verbose_name)], "indent": 0, "obj": obj,
                          "url": reverse(f"{key}-detail", kwargs={"pk": obj.pk})})
    return {"key": "conversion", "title": _("Converted into"), "rows": links, "more": False, "add_url": None,
            "headers": [_("Record"), _("Kind")]}


def score_panel(request, lead):
    """LEAD-3: which scoring rules gave the lead how many points."""
    from .scoring import explanation

    rows = [{"cells": [name, f"{points:+d}" + (f" ({count}×)" if count else "")], "url": None, "indent": 0,
             "obj": None} for name, points, count in explanation(lead)]
    title = _("Score %(score)s · grade %(grade)s") % {"score": lead.score, "grade": lead.grade}
    return {"key": "score", "title": title, "rows": rows, "more": False, "add_url": None,
            "headers": [_("Scoring rule"), _("Points")]}
# --- Competitors (COMP-1, COMP-2) ---------------------------------------------------------------

def opportunity_competitors_panel(request, opp):
    """The competitors in an opportunity, with threat level and notes (COMP-2)."""
    from .models import OpportunityCompetitor

    qs = OpportunityCompetitor.objects.filter(opportunity=opp).order_by("pk")
    return record_panel(request, "competitors", OpportunityCompetitor, qs, ["competitor", "threat_level", "notes"],
                        _("Competitors"), _("Add a competitor"), {"opportunity": opp.pk}, limit=30)


def competitor_products_panel(request, competitor):
    from .models import CompetitorProduct

    qs = CompetitorProduct.objects.filter(competitor=competitor).order_by("name", "pk")
    return record_panel(request, "competitor-products", CompetitorProduct, qs,
                        ["name", "our_product", "price", "currency", "use"], _("Their products"),
                        _("Add a product"), {"competitor": competitor.pk}, limit=50)


def competitor_opportunities_panel(request, competitor):
    """The opportunities the competitor is in (read through the opportunities' scope)."""
    from .models import OpportunityCompetitor

    qs = OpportunityCompetitor.objects.filter(competitor=competitor).order_by("-opportunity__updated_at", "-pk")
    return record_panel(request, "competitor-opportunities", OpportunityCompetitor, qs,
                        ["opportunity", "threat_level", "notes"], _("Opportunities"), _("Add to an opportunity"),
                        {"competitor": competitor.pk}, limit=30)
