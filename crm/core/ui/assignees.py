"""The owner picker of transfers (single and bulk): active employees as the user types.

A page used to list every active employee in a <select> (210 at the benchmark's scale, more in a
big company); the picker now loads at most 20 matches from here (issue #3)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import JsonResponse

from .views import _spec

LIMIT = 20


@login_required
def assignee_lookup(request, key):
    _spec(key, request, "assign")  # 403 without the assign permission on this entity
    q = (request.GET.get("q") or "").strip()[:50]
    users = get_user_model().objects.filter(is_active=True).select_related("department")
    if q:
        users = users.filter(Q(name__icontains=q) | Q(username__icontains=q))
    rows = users.order_by("name", "pk")[:LIMIT]
    return JsonResponse({"results": [
        {"value": u.pk, "text": f"{u} · {u.department}" if u.department_id else str(u)} for u in rows]})
