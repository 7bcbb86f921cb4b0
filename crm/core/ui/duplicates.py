"""The duplicate finder (CUS-3 查重): groups of visible records sharing a duplicate key."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from ..entities.duplicates import duplicate_groups
from . import cells
from .views import _spec


@login_required
def entity_duplicates(request, key):
    spec = _spec(key, request)
    if not spec.duplicate_keys:
        raise Http404
    rules = []
    for rule in duplicate_groups(request.user, spec):
        shown = list(rule["key"].display or rule["key"].fields)
        groups = [{"count": g["count"], "rows": [(o, [cells.display(request.user, spec, o, n) for n in shown],
                                                  o.owner if spec.has_owner else None) for o in g["rows"]]}
                  for g in rule["groups"]]
        rules.append({"key": rule["key"], "columns": [cells.field_label(spec.model, n) for n in shown],
                      "groups": groups, "capped": rule["capped"]})
    from ..access.scope import can

    can_merge = spec.soft_delete and can(request.user, spec.key, "edit") and can(request.user, spec.key, "delete")
    return render(request, "crm/entity/duplicates.html", {"spec": spec, "rules": rules, "can_merge": can_merge})
