import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..entities.base import EntityQuerySet
from ..versions import BumpingQuerySet
from .levels import Scope


class Role(models.Model):
    """A role (角色): function permissions + data scopes per entity, and special permissions."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    special_permissions = models.JSONField(_("special permissions"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("members"), blank=True, related_name="roles"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now, editable=False)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    objects = EntityQuerySet.as_manager()

    class Meta:
        base_manager_name = "objects"  # bulk writes reload cached grants (crm.core.versions)
        ordering = ["name"]
        verbose_name = _("role")
        verbose_name_plural = _("roles")

    def __str__(self):
        return self.name


class RoleGrantQuerySet(BumpingQuerySet, models.QuerySet):
    pass


class RoleGrant(models.Model):
    """One cell of the permission matrix: on `entity`, `action` is allowed within `scope`."""

    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="grants")
    entity = models.CharField(_("entity"), max_length=50)
    action = models.CharField(_("action"), max_length=20)
    scope = models.PositiveSmallIntegerField(_("data scope"), choices=Scope.choices, default=Scope.NONE)

    objects = RoleGrantQuerySet.as_manager()

    class Meta:
        base_manager_name = "objects"  # bulk writes reload cached grants (crm.core.versions)
        constraints = [models.UniqueConstraint(fields=["role", "entity", "action"], name="uniq_role_grant")]
        verbose_name = _("grant")
        verbose_name_plural = _("grants")

    def __str__(self):
        return f"{self.role}: {self.entity}.{self.action}={self.get_scope_display()}"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def usable(self):
        now = timezone.now()
        return self.filter(revoked_at__isnull=True, expires_at__gt=now)


class ApiToken(models.Model):
    """API token (INT-1). Only a SHA-256 hash of the secret is stored; the secret is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, user, name, days=None):
        """Create a token; returns (token, plaintext). The plaintext is never stored."""
        days = days or settings.CRM_API_TOKEN_DAYS
        prefix = secrets.token_hex(4)
        secret = secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user, name=name, prefix=prefix, key_hash=_hash(secret),
            expires_at=timezone.now() + timezone.timedelta(days=days),
        )
        return token, f"crm_{prefix}_{secret}"

    @classmethod
    def authenticate(cls, plaintext):
        try:
            _crm, prefix, secret = plaintext.split("_", 2)
        except ValueError:
            return None
        token = cls.objects.usable().select_related("user").filter(prefix=prefix).first()
        if token is None or not secrets.compare_digest(token.key_hash, _hash(secret)):
            return None
        return token

    @property
    def is_usable(self):
        return self.revoked_at is None and self.expires_at > timezone.now()
