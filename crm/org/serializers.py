from django.contrib.auth import password_validation
from django.contrib.auth.hashers import make_password
from django.utils.translation import gettext as _
from rest_framework import serializers

from crm.core.access.models import Role
from crm.core.access.scope import has_special
from crm.core.api.serializers import EntitySerializer

from .models import Territory, TerritoryMember, User


class UserSerializer(EntitySerializer):
    roles = serializers.PrimaryKeyRelatedField(many=True, queryset=Role.objects.all(), required=False)
    password = serializers.CharField(write_only=True, required=False, min_length=8,
                                     help_text="Initial password; required when creating an employee.")

    class Meta:
        model = User
        fields = ["id", "display", "username", "name", "code", "department", "position", "manager", "mobile",
                  "email", "status", "language", "is_active", "left_at", "last_login", "roles", "password", "version"]
        read_only_fields = ["is_active", "left_at", "last_login"]

    def validate(self, attrs):
        if self.instance is None and not attrs.get("password"):
            raise serializers.ValidationError({"password": [_("This field is required.")]})
        user = getattr(self.context.get("request"), "user", None)
        if not has_special(user, "manage_roles"):
            # Roles and other people's passwords are for those who manage roles (SYS-3, SYS-4).
            current = set(self.instance.roles.values_list("pk", flat=True)) if self.instance is not None else set()
            if "roles" in attrs and {r.pk for r in attrs["roles"]} != current:
                raise serializers.ValidationError({"roles": [_("You do not have permission to do this.")]})
            if self.instance is not None and attrs.get("password"):
                raise serializers.ValidationError({"password": [_("You do not have permission to do this.")]})
        if attrs.get("password"):
            password_validation.validate_password(attrs["password"])
            attrs["password"] = make_password(attrs["password"])
        return attrs


# --- Territories (SAL-9) ------------------------------------------------------------------------
# Written here because a territory's code is typed (the generated serializers keep "code"
# read-only for numbered records), and so that uniqueness is checked once, by the model, with
# its message at its field.

class TerritorySerializer(EntitySerializer):
    class Meta:
        model = Territory
        fields = ["id", "display", "name", "code", "parent", "regions", "industries", "levels", "sort_order",
                  "is_active", "description", "path", "depth", "created_at", "updated_at", "created_by", "updated_by",
                  "version"]
        read_only_fields = ["path", "depth", "created_at", "updated_at", "created_by", "updated_by"]
        extra_kwargs = {"code": {"validators": []}}


class TerritoryMemberSerializer(EntitySerializer):
    class Meta:
        model = TerritoryMember
        fields = ["id", "display", "territory", "user", "role", "remark", "created_at", "updated_at", "created_by",
                  "updated_by", "version"]
        read_only_fields = ["created_at", "updated_at", "created_by", "updated_by"]
        validators = []  # the model says "already a member" at the field "user"
