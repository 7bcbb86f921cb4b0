"""Generic views for every registered entity: list, detail (360°), create, edit, copy, delete,
restore, transfer, reveal, notes, bulk actions, lookup. Each reads through the scope predicate
and writes through the services."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ..access.masking import can_reveal, present_change
from ..access.scope import can, get_for_user_or_404, has_special, may
from ..audit import log
from ..audit.models import AuditEntry
from ..customfields import ui as customfields
from ..entities import services
from ..entities.base import select_for_display
from ..entities.models import SavedView
from ..entities.registry import get_spec
from ..timeline.feed import timeline
from ..timeline.models import Note
from . import cells, table
from .filters import filterset_class
from .links import pk_link
from .forms import form_class
from .pagination import BadCursor, keyset_page, parse_sort
from .params import parse_id

PAGE_SIZES = (10, 25, 50, 100)
LIST_PARAMS = {"sort", "cols", "after", "size", "view"}


def _spec(key, request, action="view"):
    try:
        spec = get_spec(key)
    except KeyError:
        raise Http404
    if action and not can(request.user, spec.key, action):
        raise PermissionDenied(_("You do not have permission to do this."))
    return spec


def list_params(request, spec):
    """GET parameters merged over a saved view's parameters (a saved view is a starting point)."""
    params = request.GET.copy()
    view = None
    view_id = parse_id(params.get("view"))
    if view_id:
        view = SavedView.objects.filter(Q(user=request.user) | Q(shared=True), entity=spec.key, pk=view_id).first()
        if view:
            for k, v in view.params.items():
                if k not in params:
                    params.setlist(k, v if isinstance(v, list) else [v])
    return params, view


def visible_columns(spec, params):
    available = customfields.list_columns(spec)  # the spec's columns and the custom fields (SYS-11)
    cols = [c for c in (params.get("cols") or "").split(",") if c in available]
    return cols or customfields.default_columns(spec)


def list_queryset(request, spec, params, action="view"):
    qs = select_for_display(spec.model.objects.for_user(request.user, action), spec.select_related)
    if spec.prefetch_related:  # many-to-many columns and generic links: one query per page, not per row
        qs = qs.prefetch_related(*spec.prefetch_related)
    filterset = filterset_class(spec)(params, queryset=qs, user=request.user)
    if filterset.is_valid():
        qs = filterset.qs
    q = (params.get("q") or "").strip()
    if q and spec.search_fields:
        from ..search.query import filter_q  # the search index (UX-1), masking rules included

        qs = qs.filter(filter_q(request.user, spec, q))
    return qs, filterset


@login_required
def entity_list(request, key):
    spec = _spec(key, request)
    params, view = list_params(request, spec)
    qs, filterset = list_queryset(request, spec, params)
    size = parse_id(params.get("size")) if parse_id(params.get("size")) in PAGE_SIZES else 25
    sort = params.get("sort") or spec.default_sort
    try:
        page = keyset_page(qs, spec, sort, params.get("after"), size)
    except BadCursor:
        page = keyset_page(qs, spec, sort, None, size)
    columns = visible_columns(spec, params)
    customfields.prefetch(spec, page.rows, columns)
    sort_name, sort_desc = parse_sort(spec, sort)
    detail_link = pk_link(f"{spec.key}-detail")
    rows = [(obj, detail_link.format(obj.pk), [cells.display(request.user, spec, obj, c) for c in columns])
            for obj in page.rows]
    base = params.copy()
    for k in ("after", "view"):
        base.pop(k, None)
    ctx = {
        "spec": spec,
        "filterset": filterset,
        "columns": [(c, cells.field_label(spec.model, c), customfields.sortable(spec, c)) for c in columns],
        "rows": rows,
        "rows_html": table.rows_html(rows),
        "page": page,
        "sort_name": sort_name,
        "sort_desc": sort_desc,
        "size": size,
        "page_sizes": PAGE_SIZES,
        "query": base.urlencode(),
        "params": params,
        "saved_views": SavedView.objects.filter(Q(user=request.user) | Q(shared=True), entity=spec.key),
        "current_view": view,
        "perms": perms_for(request.user, spec),
    }
    if request.htmx and request.htmx.target == "entity-table":
        return render(request, "crm/entity/_table.html", ctx)
    return render(request, "crm/entity/list.html", ctx)


def perms_for(user, spec):
    return {a: can(user, spec.key, a) for a in ("view", "create", "edit", "delete", "export", "import", "assign")}


@login_required
def entity_detail(request, key, pk):
    spec = _spec(key, request)
    concrete = {f.name for f in spec.model._meta.concrete_fields}
    shown_users = [n for n in ("created_by", "updated_by") if n in concrete]  # in the detail fields
    obj = get_for_user_or_404(request.user, spec.model.objects.select_related(*shown_users), pk)
    names = spec.detail_fields or [n for n in spec.form_fields] + [
        n for n in ("code", "owner", "department", "created_by", "created_at", "updated_by", "updated_at")
        if hasattr(spec.model, n) and n not in spec.form_fields
    ]
    fields = [(n, cells.field_label(spec.model, n), cells.display(request.user, spec, obj, n)) for n in names]
    fields += customfields.detail_fields(spec, obj)
    ctx = {
        "spec": spec,
        "obj": obj,
        "fields": fields,
        "removed_custom": customfields.removed_fields(request.user, spec, obj),
        "masked": [n for n in spec.masked_fields if getattr(obj, n, None)],
        "can_reveal": can_reveal(request.user, spec, obj),
        "timeline": _timeline_items(obj, request.user),
        "panels": [p(request, obj) for p in spec.detail_panels + _attachment_panels(spec)],
        "detail_actions": [(a, reverse(a.url_name, kwargs={"pk": obj.pk})) for a in spec.detail_actions
                           if a.special is None or has_special(request.user, a.special)],
        "perms": perms_for(request.user, spec),
        "editable": may(request.user, obj, "edit"),
    }
    return render(request, "crm/entity/detail.html", ctx)


def _attachment_panels(spec):
    if not spec.attachments:
        return []
    from ..attachments.views import attachments_panel

    return [attachments_panel]


def _timeline_items(obj, user=None):
    items = []
    for item in timeline(obj, user=user):
        if item.kind == "audit":
            entry = item.obj
            spec = get_spec(type(obj))
            changes = []
            for name, (old, new) in (entry.changes or {}).items():
                old, new = present_change(user, spec, name, old, new)
                changes.append((cells.field_label(type(obj), name),
                                cells.choice_label(type(obj), name, old),
                                cells.choice_label(type(obj), name, new)))
            item.changes = changes
        items.append(item)
    return items


def _conflict_changes(spec, conflict, user=None):
    """What others changed since the user loaded the form: labels, choice labels, masked phones."""
    rows = []
    for entry in conflict.changes() if conflict else []:
        for name, (old, new) in (entry.changes or {}).items():
            old, new = present_change(user, spec, name, old, new)
            rows.append((entry.actor, entry.at, cells.field_label(spec.model, name),
                         cells.choice_label(spec.model, name, old), cells.choice_label(spec.model, name, new)))
    return rows


def _render_form(request, spec, form, obj=None, conflict=None, status=200, title=None, duplicates=None):
    return render(request, "crm/entity/form.html", {
        "spec": spec, "form": form, "obj": obj, "conflict": conflict, "title": title, "duplicates": duplicates,
        "conflict_changes": _conflict_changes(spec, conflict, request.user),
    }, status=status)


def _after_save(form, obj):
    """A form may save more after its record, in the same transaction (`after_save(obj)`: the
    files of a form with a multi-file input)."""
    after = getattr(form, "after_save", None)
    if after is not None:
        after(obj)


def _apply_errors(form, exc):
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            if field.startswith("custom."):  # the model's check of custom values (SYS-11)
                field = f"cf_{field[7:]}"
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@login_required
def entity_create(request, key, copy_from=None):
    spec = _spec(key, request, "create")
    Form = form_class(spec)
    initial = {}
    if copy_from is not None:
        src = get_for_user_or_404(request.user, spec.model, copy_from)
        initial = {n: getattr(src, n) for n in spec.form_fields if hasattr(src, n) and n not in ("tags", "roles")}
        initial.update(customfields.copy_initial(spec, src))  # custom values are copied too (SYS-11)
        for n in spec.masked_fields:
            if not can_reveal(request.user, spec):
                initial.pop(n, None)  # a masked number is not copied in the clear
        for n in ("name",):
            if n in initial:
                initial[n] = _("%(name)s (copy)") % {"name": initial[n]}
    else:
        initial = {k: v for k, v in request.GET.items() if k in spec.form_fields}
    form = Form(request.POST or None, request.FILES or None, initial=initial, user=request.user, spec=spec)
    if request.method == "POST" and form.is_valid():
        data, m2m, _version = form.service_data()
        if spec.duplicate_keys and not request.POST.get("save_anyway"):
            # CUS-3: similar records first; the user saves anyway by ticking the box.
            from ..entities.duplicates import find_duplicates

            found = find_duplicates(request.user, spec, form.instance)
            if found:
                return _render_form(request, spec, form, status=409, duplicates=found,
                                    title=_("New %(entity)s") % {"entity": spec.label})
        try:
            with transaction.atomic():  # the record and what its form saves after it (files): all or nothing
                obj = services.create(request.user, spec.model, data, m2m)
                _after_save(form, obj)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("%(entity)s “%(name)s” was created.") % {"entity": spec.label, "name": obj})
            return redirect(f"{spec.key}-detail", pk=obj.pk)
    return _render_form(request, spec, form, status=400 if request.method == "POST" else 200,
                        title=_("New %(entity)s") % {"entity": spec.label})


@login_required
def entity_copy(request, key, pk):
    return entity_create(request, key, copy_from=pk)


@login_required
def entity_edit(request, key, pk):
    spec = _spec(key, request, "edit")
    obj = get_for_user_or_404(request.user, spec.model, pk, "edit")
    Form = form_class(spec)
    from ..entities.duplicates import duplicates_on_edit, key_values

    keys_before = key_values(spec, obj)  # the form writes into obj: take the keys first
    form = Form(request.POST or None, request.FILES or None, instance=obj, user=request.user, spec=spec)
    conflict = None
    if request.method == "POST" and form.is_valid():
        data, m2m, version = form.service_data()
        if spec.duplicate_keys and not request.POST.get("save_anyway"):
            # CUS-3 on edit: a changed name, phone, e-mail … that another record has.
            found = duplicates_on_edit(request.user, spec, keys_before, form.instance)
            if found:
                return _render_form(request, spec, form, obj=obj, status=409, duplicates=found,
                                    title=_("Edit %(entity)s") % {"entity": spec.label})
        try:
            with transaction.atomic():
                obj = services.update(request.user, spec.model, obj.pk, data, m2m, expected_version=version)
                _after_save(form, obj)
        except services.ConflictError as exc:
            conflict = exc
            # Keep what the user typed; the next save is a deliberate overwrite of the new version.
            post = request.POST.copy()
            post["version"] = exc.current.version
            form = Form(post, instance=exc.current, user=request.user, spec=spec)
            form.is_valid()
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Your changes were saved."))
            return redirect(f"{spec.key}-detail", pk=obj.pk)
    status = 409 if conflict else 400 if request.method == "POST" else 200
    return _render_form(request, spec, form, obj=obj, conflict=conflict, status=status,
                        title=_("Edit %(entity)s") % {"entity": spec.label})


@login_required
def entity_delete(request, key, pk):
    spec = _spec(key, request, "delete")
    obj = get_for_user_or_404(request.user, spec.model, pk, "delete")
    if request.method == "POST":
        try:
            services.delete(request.user, spec.model, obj.pk)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(f"{spec.key}-detail", pk=obj.pk)
        if spec.soft_delete:
            messages.success(request, _("“%(name)s” was moved to the recycle bin.") % {"name": obj})
        else:
            messages.success(request, _("“%(name)s” was deleted.") % {"name": obj})
        return redirect(f"{spec.key}-list")
    return render(request, "crm/entity/confirm_delete.html", {"spec": spec, "obj": obj})


@login_required
def entity_trash(request, key):
    spec = _spec(key, request, "delete")
    if not spec.soft_delete:
        raise Http404
    from ..entities.trash import binned

    qs = binned(spec, request.user)
    before = (request.GET.get("before") or "").rsplit("_", 1)
    if len(before) == 2 and parse_id(before[1]) is not None:  # keyset: older than (deleted_at, id)
        from django.utils.dateparse import parse_datetime

        try:
            at = parse_datetime(before[0].replace(" ", "+"))
        except ValueError:
            at = None
        if at is not None:
            qs = qs.filter(Q(deleted_at__lt=at) | Q(deleted_at=at, pk__lt=parse_id(before[1])))
    rows = list(qs[:101])
    next_cursor = f"{rows[99].deleted_at.isoformat()}_{rows[99].pk}" if len(rows) > 100 else None
    return render(request, "crm/entity/trash.html", {"spec": spec, "rows": rows[:100], "next_cursor": next_cursor,
                                                     "can_purge": has_special(request.user, "purge")})


@login_required
@require_POST
def entity_restore(request, key, pk):
    spec = _spec(key, request, "delete")
    try:
        obj = services.restore(request.user, spec.model, pk)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(f"{spec.key}-trash")
    messages.success(request, _("“%(name)s” was restored.") % {"name": obj})
    return redirect(f"{spec.key}-detail", pk=obj.pk)


@login_required
def entity_transfer(request, key, pk):
    spec = _spec(key, request, "assign")
    if not spec.has_owner:
        raise Http404
    obj = get_for_user_or_404(request.user, spec.model, pk, "assign")
    error = None
    if request.method == "POST":
        new_owner = _active_user(request.POST.get("owner"))
        try:
            services.transfer(request.user, spec.model, [obj.pk], new_owner, request.POST.get("reason", "")[:200])
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, _("“%(name)s” now belongs to %(owner)s.") % {"name": obj, "owner": new_owner})
            return redirect(f"{spec.key}-detail", pk=obj.pk)
    history = [e for e in log.history(obj) if e.action == AuditEntry.Action.TRANSFER]
    return render(request, "crm/entity/transfer.html", {
        "spec": spec, "obj": obj, "error": error, "history": history,
    }, status=400 if error else 200)


def _active_user(raw):
    pk = parse_id(raw)
    if pk is None:
        return None
    return get_user_model().objects.filter(pk=pk, is_active=True).first()


@login_required
@require_POST
def entity_bulk(request, key):
    """Bulk transfer or delete of the rows ticked on a list page."""
    spec = _spec(key, request)
    ids = [i for i in map(parse_id, request.POST.getlist("ids")) if i is not None][:1000]
    action = request.POST.get("action")
    back = request.POST.get("next") or reverse(f"{spec.key}-list")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts=None) or not back.startswith("/"):
        back = reverse(f"{spec.key}-list")  # only paths on this site, never //other.host/
    if not ids:
        messages.warning(request, _("Select at least one row."))
        return redirect(back)
    if action == "merge":  # CUS-3: to the merge page with the ticked records (crm.core.ui.merge)
        from .merge import merge_url

        _spec(key, request, "edit")
        if not (spec.duplicate_keys and 2 <= len(ids) <= 10):
            messages.warning(request, _("Select between 2 and 10 records to merge."))
            return redirect(back)
        return redirect(merge_url(spec, ids))
    try:
        if action == "transfer":
            _spec(key, request, "assign")
            owner = _active_user(request.POST.get("owner"))
            rows = services.transfer(request.user, spec.model, ids, owner)
            messages.success(request, _("%(count)d records transferred to %(owner)s.") % {"count": len(rows), "owner": owner})
        elif action == "delete":
            _spec(key, request, "delete")
            visible = list(spec.model.objects.for_user(request.user, "delete").filter(pk__in=ids).values_list("pk", flat=True))
            for pk in visible:
                services.delete(request.user, spec.model, pk)
            messages.success(request, _("%(count)d records moved to the recycle bin.") % {"count": len(visible)})
        else:
            raise Http404
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(back)


@login_required
@require_POST
def entity_reveal(request, key, pk):
    """Show the unmasked phone numbers of one record; logged in the audit trail (SEC-1/2)."""
    spec = _spec(key, request)
    obj = get_for_user_or_404(request.user, spec.model, pk)
    if not can_reveal(request.user, spec, obj):
        raise PermissionDenied(_("You do not have permission to see unmasked phone numbers."))
    values = {n: getattr(obj, n) for n in spec.masked_fields if getattr(obj, n)}
    log.record(request.user, AuditEntry.Action.REVEAL, obj, extra={"fields": sorted(values)}, request=request)
    if request.htmx:
        return render(request, "crm/entity/_revealed.html", {"spec": spec, "obj": obj, "values": [
            (cells.field_label(spec.model, n), v) for n, v in values.items()]})
    return JsonResponse(values)


@login_required
@require_POST
def entity_note(request, key, pk):
    spec = _spec(key, request)
    obj = get_for_user_or_404(request.user, spec.model, pk)
    body = (request.POST.get("body") or "").strip()
    error = None
    if not body:
        error = _("Write something first.")
    elif len(body) > 10000:
        error = _("A note can have at most 10 000 characters.")
    else:
        from django.contrib.contenttypes.models import ContentType

        Note.objects.create(content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk, body=body, author=request.user)
    ctx = {"spec": spec, "obj": obj, "timeline": _timeline_items(obj, request.user), "note_error": error}
    if request.htmx:
        return render(request, "crm/entity/_timeline.html", ctx, status=400 if error else 200)
    if error:
        messages.error(request, error)
    return redirect(f"{spec.key}-detail", pk=obj.pk)


@login_required
def entity_lookup(request, key):
    """JSON for pickers (Tom Select): records the user may see, matching the typed text."""
    spec = _spec(key, request)
    q = (request.GET.get("q") or "").strip()
    qs = spec.model.objects.for_user(request.user)
    if q and spec.search_fields:
        from ..search.query import filter_q  # the search index, as the list's q box (UX-1)

        qs = qs.filter(filter_q(request.user, spec, q))
    order = "-updated_at" if hasattr(spec.model, "updated_at") else "pk"
    rows = qs.order_by(order, "-pk")[:20]
    return JsonResponse({"results": [{"value": o.pk, "text": str(o)} for o in rows]})


@login_required
@require_POST
def saved_view_save(request, key):
    spec = _spec(key, request)
    name = (request.POST.get("name") or "").strip()[:100]
    if not name:
        messages.error(request, _("Give the view a name."))
        return redirect(f"{spec.key}-list")
    params = {}
    for k, values in request.POST.lists():
        if k.startswith("p_"):
            params[k[2:]] = values if len(values) > 1 else values[0]
    view = SavedView.objects.create(entity=spec.key, name=name, user=request.user,
                                    shared=request.POST.get("shared") == "on", params=params)
    messages.success(request, _("View “%(name)s” saved.") % {"name": name})
    return redirect(reverse(f"{spec.key}-list") + "?" + urlencode({"view": view.pk}))


@login_required
@require_POST
def saved_view_delete(request, key, view_id):
    spec = _spec(key, request)
    deleted, _n = SavedView.objects.filter(entity=spec.key, pk=view_id, user=request.user).delete()
    if not deleted:
        raise Http404
    return redirect(f"{spec.key}-list")


@login_required
def entity_export(request, key):
    """The current list view as CSV or XLSX: see crm.core.io.export (INT-4)."""
    from ..io.export import entity_export as export

    return export(request, key)


def neutralise(value):
    from ..io.export import neutralise as _neutralise

    return _neutralise(value)
