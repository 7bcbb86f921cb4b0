"""The merge page (CUS-3 "merge"): records side by side with a choice per field, the related
records that will move, confirm; and undo from the survivor's timeline."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from ..access.masking import HIDDEN, hidden_fields
from ..access.scope import can
from ..dictionary.parameters import param
from ..entities import merge as merging
from ..entities.services import ConflictError
from . import cells
from .params import parse_id
from .views import _spec


def _merge_spec(key, request):
    spec = _spec(key, request, "edit")
    if not spec.soft_delete or not spec.duplicate_keys:
        raise Http404
    if not can(request.user, spec.key, "delete"):
        raise PermissionDenied(_("You do not have permission to do this."))
    return spec


def merge_url(spec, ids, survivor=None):
    query = [("ids", i) for i in ids] + ([("survivor", survivor)] if survivor else [])
    return reverse(f"{spec.key}-merge") + "?" + urlencode(query)


def _ids(values):
    out = []
    for raw in values:
        for part in str(raw).split(","):
            pk = parse_id(part.strip())
            if pk is not None and pk not in out:
                out.append(pk)
    return out


def _value(user, spec, obj, name):
    if name.startswith("custom."):
        from ..customfields.defs import by_key
        from ..customfields.values import display_value

        value = (getattr(obj, "custom", None) or {}).get(name[7:])
        defn = by_key(spec.key, name[7:])
        if defn is not None and value not in (None, ""):
            return display_value(defn, value)
        return "" if value is None else cells.format_value(value)
    return cells.display(user, spec, obj, name)


def _label(spec, name):
    if name.startswith("custom."):
        from ..customfields.defs import by_key

        defn = by_key(spec.key, name[7:])
        return getattr(defn, "label", None) or name[7:]
    return cells.field_label(spec.model, name)


@login_required
def merge_page(request, key):
    spec = _merge_spec(key, request)
    source = request.POST if request.method == "POST" else request.GET
    ids = _ids(source.getlist("ids"))
    if len(ids) > merging.MAX_RECORDS:
        messages.warning(request, _("At most %(n)d records can be merged at once.") % {"n": merging.MAX_RECORDS})
        ids = ids[:merging.MAX_RECORDS]
    found = {o.pk: o for o in spec.model.objects.for_user(request.user).filter(pk__in=ids)}
    missing = [pk for pk in ids if pk not in found]
    if missing:
        binned = list(spec.model._base_manager.filter(pk__in=missing, deleted_at__isnull=False).for_user(request.user))
        if len(binned) < len(missing):
            raise Http404  # unknown or outside the user's scope
        for obj in binned:
            messages.error(request, _("“%(record)s” is in the recycle bin and cannot be merged.") % {"record": obj})
        ids = [pk for pk in ids if pk in found]
    survivor_pk = parse_id(source.get("survivor"))
    if survivor_pk not in found:
        survivor_pk = ids[0] if ids else None
    records = [found[survivor_pk]] + [found[pk] for pk in ids if pk != survivor_pk] if ids else []

    errors, status, conflict = {}, 200, None
    if request.method == "POST" and len(records) > 1:
        choices = {n: v for n, v in ((n, source.get(f"f_{n}")) for n in _choice_names(spec, request.user, records))
                   if v}
        versions = {pk: v for pk in ids if (v := parse_id(source.get(f"v_{pk}"))) is not None}
        try:
            result = merging.merge(request.user, spec.model, survivor_pk, [r.pk for r in records[1:]], choices, versions)
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
            status = 400
        except ConflictError as exc:
            conflict = exc
            status = 409
            # Show the records as they are now, read again through the user's scope in one query.
            fresh = {o.pk: o for o in spec.model.objects.for_user(request.user).filter(pk__in=[r.pk for r in records])}
            records = [fresh[r.pk] for r in records if r.pk in fresh]
        else:
            days = param("merge_undo_days")
            text = ngettext("%(count)d record was merged into “%(name)s”.",
                            "%(count)d records were merged into “%(name)s”.", len(result.merged)) % {
                "count": len(result.merged), "name": result.survivor}
            if days:
                text += " " + ngettext("You can undo this from its timeline for %(days)d day.",
                                       "You can undo this from its timeline for %(days)d days.", days) % {"days": days}
            messages.success(request, text)
            return redirect(f"{spec.key}-detail", pk=result.survivor.pk)
    if request.method == "POST" and status == 200:
        status = 400
        errors = {"others": [_("Choose at least two records to merge.")]}
    return render(request, "crm/merge/merge.html", _context(request, spec, records, errors, conflict), status=status)


def _choice_names(spec, user, records):
    return merging.mergeable_fields(spec, user) + [f"custom.{k}" for k in merging.custom_keys(records)]


def _context(request, spec, records, errors, conflict):
    user = request.user
    posted = request.POST if request.method == "POST" and conflict is None else {}
    rows = []
    if len(records) > 1:
        defaults = merging.default_choices(spec, user, records)
        hidden = hidden_fields(user, spec)
        for name in [n for n in spec.form_fields if n in hidden]:
            rows.append({"name": name, "label": cells.field_label(spec.model, name), "hidden": True,
                         "cells": [(r.pk, HIDDEN, False) for r in records], "differ": False})
        for name in _choice_names(spec, user, records):
            label = _label(spec, name)
            chosen = parse_id(posted.get(f"f_{name}")) if posted else None
            if chosen not in {r.pk for r in records}:
                chosen = defaults.get(name)
            values = [_value(user, spec, r, name) for r in records]
            rows.append({"name": name, "label": label, "hidden": False, "errors": errors.get(name, []),
                         "differ": len({str(v) for v in values}) > 1,
                         "cells": [(r.pk, v, r.pk == chosen) for r, v in zip(records, values)]})
    m2m = [(f.verbose_name, [(r.pk, ", ".join(sorted(str(x) for x in getattr(r, f.name).all()))) for r in records])
           for f in spec.model._meta.many_to_many] if len(records) > 1 else []
    ids = [r.pk for r in records]
    return {
        "spec": spec,
        "records": records,
        "survivor": records[0] if records else None,
        "ids": ids,
        "rows": rows,
        "m2m": m2m,
        "preview": merging.preview(spec.model, ids[1:]) if len(ids) > 1 else [],
        "errors": errors,
        "general_errors": [e for k in ("others", "__all__") for e in errors.get(k, [])]
        + [e for k, v in errors.items() if k not in {r["name"] for r in rows} and k not in ("others", "__all__")
           for e in v],
        "conflict": conflict,
        "switch": [(r, merge_url(spec, ids, r.pk)) for r in records],
        "without": [(r, merge_url(spec, [i for i in ids if i != r.pk])) for r in records],
        "lookup_url": reverse(f"{spec.key}-lookup"),
        "max_records": merging.MAX_RECORDS,
        "undo_days": param("merge_undo_days"),
    }


@login_required
@require_POST
def merge_undo(request, key, merge_id):
    spec = _merge_spec(key, request)
    from ..merging.models import MergeRecord

    rec = MergeRecord.objects.filter(pk=merge_id, entity=spec.key).first()
    if rec is None:
        raise Http404
    try:
        merging.undo(request.user, spec.model, rec.pk)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except ConflictError:
        messages.error(request, _("The record was changed by someone else just now. Try again."))
    else:
        messages.success(request, _("The merge was undone: the merged records are back."))
    return redirect(f"{spec.key}-detail", pk=rec.survivor_id)
