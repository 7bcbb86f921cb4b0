"""Organisation pages beyond the generic entity views: login and passwords, the department
tree, the permission matrix of a role, hand-over of a leaving employee, login history."""

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.template import loader
from django.urls import reverse_lazy
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from crm.core.access.levels import Scope
from crm.core.access.models import Role, RoleGrant
from crm.core.access.scope import can, forget_grants, get_for_user_or_404, has_special
from crm.core.access.special import SPECIAL_PERMISSIONS
from crm.core.audit import log
from crm.core.audit.models import AuditEntry
from crm.core.entities import services
from crm.core.entities.registry import ACTIONS, all_specs
from crm.core.jobs import enqueue_after_commit
from crm.core.ui.params import parse_id

from .models import Department, User
from .tasks import send_email


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        lang = form.get_user().language
        if lang:
            translation.activate(lang)
            response.set_cookie("django_language", lang, samesite="Lax")
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    success_url = reverse_lazy("password_change_done")

    def form_valid(self, form):
        response = super().form_valid(form)
        log.record(self.request.user, AuditEntry.Action.PASSWORD, self.request.user, request=self.request)
        return response


class QueuedPasswordResetForm(PasswordResetForm):
    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email,
                  html_email_template_name=None):
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        enqueue_after_commit(send_email, subject, body, [to_email], None, from_email)


class PasswordResetView(auth_views.PasswordResetView):
    form_class = QueuedPasswordResetForm
    success_url = reverse_lazy("password_reset_done")


@login_required
def department_tree(request):
    if not can(request.user, "departments", "view"):
        raise PermissionDenied
    departments = list(Department.objects.for_user(request.user).select_related("manager", "parent").order_by("path"))
    counts = {}
    for d_id in User.objects.filter(is_active=True).values_list("department_id", flat=True):
        counts[d_id] = counts.get(d_id, 0) + 1
    for d in departments:
        d.member_count = counts.get(d.pk, 0)
    return render(request, "org/tree.html", {"departments": departments,
                                             "can_create": can(request.user, "departments", "create"),
                                             "can_edit": can(request.user, "departments", "edit")})


# Column headings of the permission matrix (the action codes themselves stay as they are).
ACTION_LABELS = {
    "view": pgettext_lazy("permission action", "view"),
    "create": pgettext_lazy("permission action", "create"),
    "edit": pgettext_lazy("permission action", "edit"),
    "delete": pgettext_lazy("permission action", "delete"),
    "export": pgettext_lazy("permission action", "export"),
    "import": pgettext_lazy("permission action", "import"),
    "assign": pgettext_lazy("permission action", "assign"),
}


def _entity_actions():
    return [(s, [a for a in s.actions]) for s in all_specs()]


@login_required
def role_permissions(request, pk):
    """The permission matrix of one role: per entity and action a data scope, plus specials."""
    if not has_special(request.user, "manage_roles"):
        raise PermissionDenied
    role = get_for_user_or_404(request.user, Role, pk, "edit")
    grants = {(g.entity, g.action): g.scope for g in role.grants.all()}
    rows = _entity_actions()
    error = None
    if request.method == "POST":
        new = {}
        try:
            for spec, actions in rows:
                for a in actions:
                    raw = request.POST.get(f"{spec.key}:{a}", "0")
                    value = int(raw)
                    if value not in Scope.values:
                        raise ValueError(raw)
                    new[(spec.key, a)] = value
        except ValueError:
            error = _("Choose a data scope from the list for every cell.")
        specials = [c for c in request.POST.getlist("special") if c in SPECIAL_PERMISSIONS]
        if error is None:
            with transaction.atomic():
                changes = {f"{k[0]}.{k[1]}": [grants.get(k, 0), v] for k, v in new.items() if grants.get(k, 0) != v}
                if sorted(role.special_permissions) != sorted(specials):
                    changes["special_permissions"] = [sorted(role.special_permissions), sorted(specials)]
                role.grants.all().delete()
                RoleGrant.objects.bulk_create([RoleGrant(role=role, entity=k[0], action=k[1], scope=v) for k, v in new.items() if v])
                Role.objects.filter(pk=role.pk).update(special_permissions=specials, updated_at=timezone.now())
                if changes:
                    log.record(request.user, AuditEntry.Action.PERMISSION, role, changes=changes, request=request)
            forget_grants(request.user)
            messages.success(request, _("Permissions of “%(role)s” saved.") % {"role": role})
            return redirect("roles-detail", pk=role.pk)
        grants = new
    # One column per action; an entity without that action gets an empty cell, so columns line up.
    matrix = [(spec, [(a, grants.get((spec.key, a), 0), ACTION_LABELS.get(a, a), a in actions) for a in ACTIONS])
              for spec, actions in rows]
    all_actions = [ACTION_LABELS[a] for a in ACTIONS]
    return render(request, "org/role_permissions.html", {
        "role": role, "matrix": matrix, "scopes": Scope.choices, "error": error, "all_actions": all_actions,
        "specials": [(c, label, c in role.special_permissions) for c, label in SPECIAL_PERMISSIONS.items()],
    }, status=400 if error else 200)


class HandoverForm(forms.Form):
    successor = forms.ModelChoiceField(label=gettext_lazy("successor"), queryset=User.objects.filter(is_active=True))
    mark_left = forms.BooleanField(label=gettext_lazy("Mark the employee as left and disable their login"), required=False, initial=True)


@login_required
def handover(request, pk):
    """SEC-4: hand all records of a leaving employee to a successor in one action."""
    if not has_special(request.user, "handover"):
        raise PermissionDenied
    leaver = get_for_user_or_404(request.user, User, pk, "edit")
    form = HandoverForm(request.POST or None)
    form.fields["successor"].queryset = User.objects.filter(is_active=True).exclude(pk=leaver.pk)
    owned = []
    for spec in all_specs():
        if spec.has_owner:
            owned.append((spec, spec.model.all_objects.filter(owner=leaver).count()))
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                moved = services.handover(request.user, leaver, form.cleaned_data["successor"], None)
                if form.cleaned_data["mark_left"]:
                    leaver.mark_left()
                    User.objects.filter(pk=leaver.pk).update(status=leaver.status, is_active=False, left_at=leaver.left_at)
        except ValidationError as exc:
            form.add_error("successor", exc.messages)
        else:
            total = sum(moved.values())
            messages.success(request, _("%(count)d records handed over to %(successor)s.") % {"count": total, "successor": form.cleaned_data["successor"]})
            return redirect("employees-detail", pk=leaver.pk)
    return render(request, "org/handover.html", {"leaver": leaver, "form": form, "owned": owned},
                  status=400 if request.method == "POST" else 200)


class SetPasswordForm(forms.Form):
    password = forms.CharField(label=gettext_lazy("new password"), widget=forms.PasswordInput, min_length=8)


@login_required
def set_password(request, pk):
    """An administrator sets a new password for an employee (e.g. a forgotten one)."""
    if not has_special(request.user, "manage_roles"):
        raise PermissionDenied
    employee = get_for_user_or_404(request.user, User, pk, "edit")
    if employee.is_superuser and not request.user.is_superuser:
        raise PermissionDenied
    form = SetPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        from django.contrib.auth import password_validation

        try:
            password_validation.validate_password(form.cleaned_data["password"], employee)
        except ValidationError as exc:
            form.add_error("password", exc)
        else:
            employee.set_password(form.cleaned_data["password"])
            User.objects.filter(pk=employee.pk).update(password=employee.password)
            log.record(request.user, AuditEntry.Action.PASSWORD, employee, request=request)
            messages.success(request, _("The password of %(name)s was changed.") % {"name": employee})
            return redirect("employees-detail", pk=employee.pk)
    return render(request, "org/set_password.html", {"employee": employee, "form": form},
                  status=400 if request.method == "POST" else 200)


@login_required
def login_history(request):
    if not has_special(request.user, "view_audit"):
        raise PermissionDenied
    entries = AuditEntry.objects.filter(action__in=["login", "logout", "login_failed"]).select_related("actor")
    who = parse_id(request.GET.get("user"))
    if who is not None:
        entries = entries.filter(actor_id=who)
    return render(request, "org/login_history.html", {"entries": entries[:200]})
