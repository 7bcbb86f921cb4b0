"""The recycle bin of every entity on one page, and permanent deletion (purge) from it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..access.scope import can, has_special
from ..dictionary.parameters import param
from ..entities import services
from ..entities.registry import get_spec
from ..entities.trash import bin_groups
from .menu import add_menu_item

add_menu_item("data", gettext_lazy("Recycle bin"), "trash", icon="trash", order=90)


@login_required
def trash(request):
    """Deleted records of every entity the user may delete, grouped per entity, newest first."""
    return render(request, "crm/trash.html", {
        "groups": bin_groups(request.user, per_entity=20),
        "can_purge": has_special(request.user, "purge"),
        "retention_days": param("recycle_bin_retention_days"),
    })


@login_required
def entity_purge(request, key, pk):
    """GET: the confirmation; POST: delete the binned record for good (special permission)."""
    try:
        spec = get_spec(key)
    except KeyError:
        raise Http404
    if not spec.soft_delete:
        raise Http404
    if not can(request.user, spec.key, "delete") or not has_special(request.user, "purge"):
        raise PermissionDenied(_("You do not have permission to do this."))
    obj = spec.model._base_manager.for_user(request.user, "delete").filter(pk=pk, deleted_at__isnull=False).first()
    if obj is None:
        raise Http404
    if request.method == "POST":
        try:
            purged = services.purge(request.user, spec.model, obj.pk)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(f"{spec.key}-trash")
        if len(purged) > 1:
            messages.success(request, _("“%(name)s” and %(count)d dependent records were deleted permanently.")
                             % {"name": obj, "count": len(purged) - 1})
        else:
            messages.success(request, _("“%(name)s” was deleted permanently.") % {"name": obj})
        return redirect(request.POST.get("next") == "trash" and "trash" or f"{spec.key}-trash")
    return render(request, "crm/entity/confirm_purge.html", {"spec": spec, "obj": obj,
                                                              "next": request.GET.get("next", "")})
