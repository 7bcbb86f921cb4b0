from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from crm.core.access.models import Role
from crm.core.access.scope import has_special
from crm.core.ui.forms import EntityForm

from .models import User


class UserForm(EntityForm):
    """Employees: roles are picked here; a password is set when the account is created."""

    roles = forms.ModelMultipleChoiceField(
        label=_("roles"), queryset=Role.objects.filter(is_active=True), required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    password = forms.CharField(
        label=_("initial password"), required=False, widget=forms.PasswordInput(render_value=False),
        help_text=_("Required for a new employee; at least 8 characters, not only digits."),
    )

    class Meta:
        model = User
        fields = ["username", "name", "code", "department", "position", "manager", "mobile", "email", "status", "language"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["password"]
            self.initial["roles"] = list(self.instance.roles.all())
        else:
            self.fields["password"].required = True
        self.fields["email"].required = False
        if not has_special(self.user, "manage_roles"):
            del self.fields["roles"]  # who holds which role is for those who manage roles (SYS-3)

    def clean_password(self):
        password = self.cleaned_data.get("password")
        if password:
            password_validation.validate_password(password, self.instance)
        return password

    def service_data(self):
        data, m2m, version = super().service_data()
        password = data.pop("password", None)
        if password:
            from django.contrib.auth.hashers import make_password

            data["password"] = make_password(password)
        return data, m2m, version
