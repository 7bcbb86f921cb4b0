"""Pages of the public pool (公海, CUS-9): the pools a user may use, a pool's records (keyset
pages through the entity kit's list query, so filters, search and the scope predicate are the
list's own), claim (htmx, per row or in bulk), assign and move for pool managers, release."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.core.access.scope import can, get_for_user_or_404, has_special
from crm.core.dictionary.lookup import choices
from crm.core.ui import cells
from crm.core.ui.pagination import BadCursor, keyset_page
from crm.core.ui.views import list_queryset

from . import pool as pools
from .pool_models import Pool

COLUMNS = {  # what the pool page shows per kind (phones masked as everywhere)
    "customers": ["code", "name", "level", "industry", "city", "phone", "pool_reason", "pool_entered_at",
                  "previous_owner"],
    "leads": ["code", "name", "company", "source", "city", "mobile", "pool_reason", "pool_entered_at",
              "previous_owner"],
}

POOL_FILTERS = ("level", "industry", "status", "source", "province", "city")  # the list's own filters the pool page offers


def _kinds(user):
    return [p for p in pools.POOLABLE.values() if can(user, p.key, "view")]


def _pool(user, pk):
    if int(pk) not in pools.pool_ids_for(user):
        raise Http404
    return get_object_or_404(Pool, pk=pk)


@login_required
def index(request):
    kinds = _kinds(request.user)
    if not kinds:
        raise PermissionDenied
    visible = list(pools.pools_for(request.user))
    counts = {}
    for p in kinds:  # one GROUP BY per kind, whatever the number of pools
        for row in p.model.objects.filter(owner__isnull=True, pool__in=visible).values("pool").annotate(n=Count("pk")):
            counts[(row["pool"], p.key)] = row["n"]
    rows = [(pool, [(p, counts.get((pool.pk, p.key), 0)) for p in kinds]) for pool in visible]
    return render(request, "customers/pool_index.html", {"rows": rows, "kinds": kinds,
                                                          "manage": has_special(request.user, pools.MANAGE)})


def _row_cells(user, spec, obj, columns):
    return [cells.display(user, spec, obj, c) for c in columns]


@login_required
def pool_list(request, pk, key):
    p = pools.poolable(key)
    if not can(request.user, p.key, "view"):
        raise PermissionDenied
    pool = _pool(request.user, pk)
    spec = p.spec
    params = request.GET.copy()
    qs, filterset = list_queryset(request, spec, params)
    qs = qs.filter(owner__isnull=True, pool=pool).select_related("previous_owner")
    try:
        page = keyset_page(qs, spec, params.get("sort") or "-updated_at", params.get("after"), 25)
    except BadCursor:
        page = keyset_page(qs, spec, "-updated_at", None, 25)
    columns = COLUMNS.get(p.key, ["name"])
    base = params.copy()
    base.pop("after", None)
    ctx = {
        "pool": pool, "p": p, "spec": spec, "filterset": filterset, "params": params,
        "headers": [cells.field_label(spec.model, c) for c in columns],
        "rows": [(obj, _row_cells(request.user, spec, obj, columns)) for obj in page.rows],
        "page": page, "query": base.urlencode(),
        "filters": [f for f in filterset.form if f.name in POOL_FILTERS],
        "kinds": _kinds(request.user),
        "manage": has_special(request.user, pools.MANAGE),
        "users": get_user_model().objects.filter(is_active=True).select_related("department").order_by("username")[:200]
        if has_special(request.user, pools.MANAGE) else [],
        "other_pools": [x for x in pools.pools_for(request.user) if x.pk != pool.pk],
    }
    template = "customers/_pool_rows.html" if request.htmx and request.GET.get("after") else "customers/pool_list.html"
    return render(request, template, ctx)


def _result(request, ok, message, status=200, obj=None, key=None):
    if request.htmx:  # htmx swaps only 2xx answers: the row shows the outcome, the status travels in a header
        response = render(request, "customers/_pool_result.html",
                          {"ok": ok, "message": message, "obj": obj, "key": key})
        response["X-Pool-Status"] = str(status)
        return response
    (messages.success if ok else messages.error)(request, message)
    return None


def _back(request, fallback):
    nxt = request.POST.get("next") or ""
    return redirect(nxt if nxt.startswith("/") and not nxt.startswith("//") else fallback)


def _run(request, key, pk, action):
    """One action for one record, answered as an htmx fragment or a message + redirect."""
    try:
        obj = action()
    except pools.PoolConflict as exc:
        return _result(request, False, str(exc), 409) or _back(request, reverse("pool-index"))
    except ValidationError as exc:
        return _result(request, False, " ".join(exc.messages), 400) or _back(request, reverse("pool-index"))
    return obj


@login_required
@require_POST
def claim(request, key, pk):
    obj = _run(request, key, pk, lambda: pools.claim(request.user, key, pk))
    if not hasattr(obj, "pk"):
        return obj
    message = _("“%(record)s” is yours now.") % {"record": obj}
    return _result(request, True, message, obj=obj, key=key) or redirect(f"{key}-detail", pk=obj.pk)


def _bulk(request, key, fn, done_message, *args):
    ids = [int(x) for x in request.POST.getlist("ids") if x.isdigit()][:100]
    if not ids:
        messages.error(request, _("Choose at least one record."))
        return _back(request, reverse("pool-index"))
    results = pools.bulk(fn, request.user, key, ids, *args)
    won = sum(1 for _pk, ok, _m in results if ok)
    if won:
        messages.success(request, done_message % {"count": won, "total": len(ids)})
    # Names only of records the user may see (now: their own claims and what is still in their pools).
    names = dict(pools.poolable(key).model.objects.for_user(request.user).filter(pk__in=ids).values_list("pk", "name"))
    for pk, ok, message in results:
        if not ok:
            messages.error(request, f"{names.get(pk, f'#{pk}')}: {message}")
    return _back(request, reverse("pool-index"))


@login_required
@require_POST
def bulk_claim(request, key):
    return _bulk(request, key, pools.claim, _("%(count)d of %(total)d records claimed."))


@login_required
@require_POST
def bulk_assign(request, key):
    owner = get_user_model().objects.filter(pk=request.POST.get("owner") or 0, is_active=True).first()
    if owner is None:
        messages.error(request, _("Choose an active user."))
        return _back(request, reverse("pool-index"))
    return _bulk(request, key, pools.assign, _("%(count)d of %(total)d records assigned."), owner)


@login_required
@require_POST
def assign(request, key, pk):
    owner = get_user_model().objects.filter(pk=request.POST.get("owner") or 0, is_active=True).first()
    obj = _run(request, key, pk, lambda: pools.assign(request.user, key, pk, owner))
    if not hasattr(obj, "pk"):
        return obj
    message = _("“%(record)s” now belongs to %(owner)s.") % {"record": obj, "owner": obj.owner}
    return _result(request, True, message, obj=obj, key=key) or _back(request, reverse(f"{key}-detail", args=[pk]))


@login_required
@require_POST
def move(request, key, pk):
    obj = _run(request, key, pk, lambda: pools.move(request.user, key, pk, request.POST.get("pool")))
    if not hasattr(obj, "pk"):
        return obj
    message = _("“%(record)s” moved to %(pool)s.") % {"record": obj, "pool": obj.pool}
    return _result(request, True, message, obj=obj, key=key) or _back(request, reverse(f"{key}-detail", args=[pk]))


@login_required
def release(request, key, pk):
    p = pools.poolable(key)
    obj = get_for_user_or_404(request.user, p.model, pk, "edit")
    errors = {}
    if request.method == "POST":
        try:
            pools.release(request.user, key, pk, request.POST.get("reason"), note=(request.POST.get("note") or "").strip(),
                          pool=request.POST.get("pool") or None)
        except pools.PoolConflict as exc:
            errors = {"__all__": [str(exc)]}
        except ValidationError as exc:
            errors = exc.message_dict
        else:
            messages.success(request, _("“%(record)s” went back to the public pool.") % {"record": obj})
            if p.model.objects.for_user(request.user).filter(pk=pk).exists():  # a pool they use: still seen
                return redirect(f"{key}-detail", pk=pk)
            return redirect("pool-index")
    return render(request, "customers/pool_release.html", {
        "obj": obj, "p": p, "errors": errors, "form_errors": errors.get("__all__", []), "reasons": choices(pools.RELEASE_REASONS),
        "pools": pools.pools_for(request.user), "post": request.POST,
        "current_pool": obj.pool_id or getattr(Pool.objects.filter(is_default=True).first(), "pk", None),
    }, status=400 if errors else 200)
