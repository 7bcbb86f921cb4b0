"""Related-record panels on a detail page (EntitySpec.detail_panels): one builder, so every
panel reads through the scope predicate and shows cells the way lists do (masking, hiding)."""

from django.urls import reverse
from django.utils.http import urlencode

from ..access.scope import can
from ..entities.registry import get_spec
from . import cells


def record_panel(request, key, model, qs, columns, title, add_label, add_params, limit=20):
    """A panel of `qs` rows the viewer may see, or None when they may not view `model` at all.
    The template (crm/entity/detail.html) reads: key, title, headers, rows (cells, url, indent),
    add_url, add_label, more."""
    user, spec = request.user, get_spec(model)
    if not can(user, spec.key, "view"):
        return None
    rows = list(qs.for_user(user).select_related(*spec.select_related)[: limit + 1])
    return {
        "key": key,
        "title": title,
        "headers": [cells.field_label(model, c) for c in columns],
        "rows": [{"cells": [cells.display(user, spec, obj, c) for c in columns], "obj": obj, "indent": 0,
                  "url": reverse(f"{spec.key}-detail", kwargs={"pk": obj.pk})} for obj in rows[:limit]],
        "add_url": reverse(f"{spec.key}-create") + "?" + urlencode(add_params) if can(user, spec.key, "create") else None,
        "add_label": add_label,
        "more": len(rows) > limit,
    }
