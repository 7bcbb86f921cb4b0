"""Settings pages of custom fields: per entity, add / edit / reorder / remove / restore / rename
(special permission "manage_settings")."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ..access.scope import has_special
from ..entities.registry import all_specs, get_spec
from . import services
from .forms import DefinitionForm
from .models import CustomField


def _require(request):
    if not has_special(request.user, "manage_settings"):
        raise PermissionDenied(_("You do not have permission to do this."))


def entities():
    return [s for s in all_specs() if hasattr(s.model, "custom")]


def _entity(key):
    try:
        spec = get_spec(key)
    except KeyError:
        raise Http404
    if not hasattr(spec.model, "custom"):
        raise Http404
    return spec


@login_required
def index(request):
    _require(request)
    specs = entities()
    if not specs:
        raise Http404
    return redirect("customfields-entity", entity=specs[0].key)


@login_required
def entity_fields(request, entity):
    _require(request)
    spec = _entity(entity)
    rows = list(CustomField.objects.filter(entity=spec.key).order_by("order", "id"))
    return render(request, "customfields/list.html", {
        "spec": spec, "entities": entities(), "active": [d for d in rows if d.removed_at is None],
        "removed": [d for d in rows if d.removed_at is not None],
    })


def _save(request, spec, form, defn=None):
    data = {k: v for k, v in form.cleaned_data.items() if k != "key" or defn is None}
    try:
        if defn is None:
            return services.create(request.user, spec.key, data)
        return services.update(request.user, defn, data)
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    return None


@login_required
def create(request, entity):
    _require(request)
    spec = _entity(entity)
    last = CustomField.objects.filter(entity=spec.key).order_by("-order").values_list("order", flat=True).first()
    form = DefinitionForm(request.POST or None, entity=spec.key, initial={"order": (last or 0) + 10})
    if request.method == "POST" and form.is_valid():
        defn = _save(request, spec, form)
        if defn is not None:
            messages.success(request, _("The custom field “%(label)s” was added.") % {"label": defn.label})
            return redirect("customfields-entity", entity=spec.key)
    return render(request, "customfields/form.html", {"spec": spec, "form": form, "title": _("New custom field")},
                  status=400 if request.method == "POST" else 200)


@login_required
def edit(request, entity, pk):
    _require(request)
    spec = _entity(entity)
    defn = get_object_or_404(CustomField, entity=spec.key, pk=pk)
    form = DefinitionForm(request.POST or None, instance=defn, entity=spec.key)
    if request.method == "POST" and form.is_valid():
        saved = _save(request, spec, form, CustomField.objects.get(pk=defn.pk))
        if saved is not None:
            messages.success(request, _("Your changes were saved."))
            return redirect("customfields-entity", entity=spec.key)
    return render(request, "customfields/form.html", {"spec": spec, "form": form, "defn": defn,
                                                      "title": _("Edit custom field")},
                  status=400 if request.method == "POST" else 200)


@login_required
def rename(request, entity, pk):
    _require(request)
    spec = _entity(entity)
    defn = get_object_or_404(CustomField, entity=spec.key, pk=pk)
    error = None
    if request.method == "POST":
        try:
            defn, moved = services.rename(request.user, defn, (request.POST.get("key") or "").strip())
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, _("The key is now “%(key)s”; %(count)d records were updated.")
                             % {"key": defn.key, "count": moved})
            return redirect("customfields-entity", entity=spec.key)
    return render(request, "customfields/rename.html", {"spec": spec, "defn": defn, "error": error},
                  status=400 if error else 200)


@login_required
@require_POST
def remove(request, entity, pk):
    _require(request)
    defn = get_object_or_404(CustomField, entity=_entity(entity).key, pk=pk)
    services.remove(request.user, defn)
    messages.success(request, _("“%(label)s” was removed; the stored values are kept.") % {"label": defn.label})
    return redirect("customfields-entity", entity=entity)


@login_required
@require_POST
def restore(request, entity, pk):
    _require(request)
    defn = get_object_or_404(CustomField, entity=_entity(entity).key, pk=pk)
    services.restore(request.user, defn)
    messages.success(request, _("“%(label)s” is back, with its stored values.") % {"label": defn.label})
    return redirect("customfields-entity", entity=entity)


@login_required
@require_POST
def move(request, entity, pk):
    """Move a field one place up or down in the form order."""
    _require(request)
    spec = _entity(entity)
    keys = list(CustomField.objects.filter(entity=spec.key, removed_at__isnull=True).order_by("order", "id")
                .values_list("key", flat=True))
    defn = get_object_or_404(CustomField, entity=spec.key, pk=pk, removed_at__isnull=True)
    i = keys.index(defn.key)
    j = i - 1 if request.POST.get("direction") == "up" else i + 1
    if 0 <= j < len(keys):
        keys[i], keys[j] = keys[j], keys[i]
        services.reorder(request.user, spec.key, keys)
    return redirect("customfields-entity", entity=spec.key)
