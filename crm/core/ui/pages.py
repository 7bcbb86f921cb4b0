"""Pages that are not one entity's: home, global search, my account, API tokens, API docs."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ..access.models import ApiToken
from ..access.scope import can
from ..audit.models import AuditEntry
from ..entities.registry import all_specs
from . import cells
from .home import home_blocks
from .menu import GROUPS


@login_required
def home(request):
    """The personal workspace (UX-2): my records per entity, my recent changes."""
    user = request.user
    blocks = []
    for spec in all_specs():
        if not (spec.has_owner and spec.menu and can(user, spec.key, "view")):
            continue
        mine = spec.model.objects.filter(owner=user)
        rows = list(mine.order_by("-updated_at", "-pk")[:6])
        blocks.append({"spec": spec, "rows": rows[:5], "more": len(rows) > 5})
    blocks.sort(key=lambda b: (GROUPS.get(b["spec"].menu.group, ("", 100))[1], b["spec"].menu.order))
    recent = AuditEntry.objects.filter(actor=user).exclude(content_type=None).order_by("-at")[:10]
    return render(request, "crm/home.html", {"blocks": blocks, "recent": recent, "app_blocks": home_blocks(request)})


def search_results(user, q, per_entity, keys=None):
    """(query, groups) of the global search (UX-1): the search index, the scope predicate and
    field masking (crm.core.search.query); each group {spec, more, rows=[(obj, cells)]}."""
    from ..search.query import search as index_search, shown_columns

    query, found = index_search(user, q, per_entity, keys)
    groups = []
    for g in found:
        shown = shown_columns(g.spec)
        groups.append({"spec": g.spec, "more": g.more,
                       "rows": [(o, [cells.display(user, g.spec, o, c) for c in shown]) for o in g.objects]})
    return query, groups


@login_required
def search(request):
    q = (request.GET.get("q") or "").strip()[:100]
    suggest = request.GET.get("suggest") == "1"
    entity = request.GET.get("entity") or ""
    keys = [entity] if entity else None
    query, groups = search_results(request.user, q, 5 if suggest else (50 if entity else 20), keys)
    template = "crm/_search_suggest.html" if suggest and request.htmx else "crm/search.html"
    return render(request, template, {"groups": groups, "search_query": q, "search_error": query.error,
                                      "search_entity": entity})


@login_required
def account(request):
    user = request.user
    logins = AuditEntry.objects.filter(actor=user, action__in=["login", "logout"]).order_by("-at")[:20]
    return render(request, "crm/account/account.html", {"logins": logins})


@login_required
def api_tokens(request):
    created = None
    error = None
    if request.method == "POST":
        name = (request.POST.get("name") or "").strip()[:100]
        days = request.POST.get("days") or "90"
        if not name:
            error = _("Give the token a name, e.g. the system that will use it.")
        elif not days.isdigit() or not 1 <= int(days) <= 3650:
            error = _("Choose a validity between 1 and 3650 days.")
        else:
            _token, created = ApiToken.issue(request.user, name, int(days))
    tokens = ApiToken.objects.filter(user=request.user)
    return render(request, "crm/account/tokens.html", {"tokens": tokens, "created": created, "error": error},
                  status=400 if error else 200)


@login_required
@require_POST
def api_token_revoke(request, pk):
    updated = ApiToken.objects.filter(user=request.user, pk=pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if updated:
        messages.success(request, _("The token was revoked."))
    return redirect("api-tokens")


@login_required
def api_docs(request):
    return render(request, "crm/api_docs.html")
