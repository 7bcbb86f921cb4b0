"""Organisation (SYS-1, SYS-2): the department tree and employees, who are the users."""

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.core.entities.base import EntityQuerySet, TimestampedMixin, VersionedMixin
from crm.core.entities.trees import TreeNode, creates_cycle
from crm.core.fields import PhoneField


class DepartmentQuerySet(EntityQuerySet):
    def subtree(self, department):
        return self.filter(path__startswith=department.path)


class Department(TimestampedMixin, VersionedMixin, TreeNode):
    """A node of the department tree (部门). `path` is the materialised path `/1/4/9/`, so a
    subtree is one indexed prefix query."""

    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(_("code"), max_length=30, blank=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent department"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="children",
    )
    sort_order = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    manager = models.ForeignKey(
        "org.User", verbose_name=_("manager"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    description = models.TextField(_("description"), blank=True)

    objects = DepartmentQuerySet.as_manager()
    all_objects = DepartmentQuerySet.as_manager()

    class Meta:
        base_manager_name = "all_objects"  # bulk writes reload cached access rules (crm.core.versions)
        ordering = ["path"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    display_fields = ("name",)  # what __str__ reads (select_for_display)

    def __str__(self):
        return self.name

    def clean(self):
        if self.moves_under_itself():
            raise ValidationError({"parent": _("A department cannot be moved under itself or its own sub-department.")})
        if newly_chosen_disabled(self, "parent_id"):
            raise ValidationError({"parent": _("This department is disabled; choose an active one.")})


def newly_chosen_disabled(obj, attname):
    """True when `attname` of `obj` now points at a disabled department it did not point at
    before: nothing new goes into a disabled department; what is already there stays valid."""
    dept_id = getattr(obj, attname)
    if not dept_id or Department.objects.filter(pk=dept_id, is_active=True).exists():
        return False
    before = type(obj)._base_manager.filter(pk=obj.pk).values_list(attname, flat=True).first() if obj.pk else None
    return before != dept_id


class EmployeeManager(UserManager.from_queryset(EntityQuerySet)):
    pass


class EmployeeStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    LEFT = "left", _("Left")


class User(TimestampedMixin, VersionedMixin, AbstractUser):
    """An employee (员工) who logs in. `name` is the full name as written (张三, Jane Smith)."""

    name = models.CharField(pgettext_lazy("person name", "name"), max_length=100)
    code = models.CharField(_("employee code"), max_length=30, blank=True)
    department = models.ForeignKey(
        Department, verbose_name=_("department"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="members",
    )
    position = models.CharField(_("position"), max_length=100, blank=True)
    manager = models.ForeignKey(
        "self", verbose_name=_("manager"), null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    mobile = PhoneField(_("mobile"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=EmployeeStatus.choices, default=EmployeeStatus.ACTIVE)
    left_at = models.DateTimeField(_("left at"), null=True, blank=True, editable=False)
    language = models.CharField(_("language"), max_length=10, blank=True, choices=[("zh-hans", "简体中文"), ("en", "English")])

    objects = EmployeeManager()
    audit_exclude = ("password", "last_login", "is_superuser", "is_staff", "first_name", "last_name")

    class Meta:
        ordering = ["username"]
        verbose_name = _("employee")
        verbose_name_plural = _("employees")
        constraints = [
            models.UniqueConstraint(fields=["code"], condition=~models.Q(code=""), name="uniq_employee_code"),
        ]

    display_fields = ("name", "username")  # what __str__ reads (select_for_display)

    def __str__(self):
        return self.name or self.username

    def clean(self):
        super().clean()
        if newly_chosen_disabled(self, "department_id"):
            raise ValidationError({"department": _("This department is disabled; choose an active one.")})
        if self.pk and creates_cycle(User, self.pk, self.manager_id, "manager"):
            raise ValidationError({"manager": _("This would make the employee their own manager.")})

    def before_write(self, user):
        if self.is_superuser and user is not None and not user.is_superuser:
            raise PermissionDenied(_("You do not have permission to do this."))  # only a superuser changes one
        # Leaving is the status; the login follows it.
        if self.status == EmployeeStatus.LEFT and self.is_active:
            self.is_active, self.left_at = False, timezone.now()
        elif self.status == EmployeeStatus.ACTIVE and not self.is_active:
            self.is_active, self.left_at = True, None

    def mark_left(self):
        self.status = EmployeeStatus.LEFT
        self.is_active = False
        self.left_at = timezone.now()


# --- Territories (SAL-9) ------------------------------------------------------------------------

class Territory(TimestampedMixin, VersionedMixin, TreeNode):
    """A sales territory (区域): a node of a tree, with criteria by region (provinces/cities),
    industry and customer level. A record belongs to the deepest active territory whose criteria
    — and its ancestors' — it meets (crm/org/territories.py)."""

    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(_("code"), max_length=30, unique=True,
                            error_messages={"unique": _("Another territory already has this code.")})
    parent = models.ForeignKey(
        "self", verbose_name=_("parent territory"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="children",
    )
    regions = models.CharField(_("provinces and cities"), max_length=500, blank=True,
                               help_text=_("Provinces or cities, separated by commas; empty matches every region."))
    industries = models.CharField(_("industries"), max_length=500, blank=True,
                                  help_text=_("Industry codes of the data dictionary, separated by commas; "
                                              "empty matches every industry."))
    levels = models.CharField(_("customer levels"), max_length=300, blank=True,
                              help_text=_("Customer level codes of the data dictionary, separated by commas; "
                                          "empty matches every level."))
    sort_order = models.PositiveIntegerField(_("order"), default=0,
                                             help_text=_("Between territories at the same depth, the lower wins."))
    is_active = models.BooleanField(_("active"), default=True)
    description = models.TextField(_("description"), blank=True)
    # The round robin of lead assignment "by territory" (LEAD-2): moved by a conditional UPDATE.
    last_assigned = models.ForeignKey("org.User", verbose_name=_("last assigned"), null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="+", editable=False)

    objects = EntityQuerySet.as_manager()
    all_objects = EntityQuerySet.as_manager()

    # Changing these re-territories the records (a background job).
    CRITERIA = ("parent", "regions", "industries", "levels", "is_active", "sort_order")

    class Meta:
        base_manager_name = "all_objects"  # bulk writes reload cached access rules (crm.core.versions)
        ordering = ["path"]
        verbose_name = _("territory")
        verbose_name_plural = _("territories")
        indexes = [models.Index(fields=["name", "id"], name="territory_name")]

    display_fields = ("name",)  # what __str__ reads (select_for_display)

    def __str__(self):
        return self.name

    @staticmethod
    def split(text):
        return [p.strip() for p in (text or "").replace("，", ",").replace("、", ",").split(",") if p.strip()]

    def clean(self):
        super().clean()
        from crm.core.dictionary import lookup

        errors = {}
        if self.moves_under_itself():
            errors["parent"] = _("A territory cannot be moved under itself or one of its sub-territories.")
        for name, kind in (("industries", "industry"), ("levels", "customer_level")):
            codes = self.split(getattr(self, name))
            known = {code for code, _label in lookup.choices(kind, blank=False)}
            unknown = [c for c in codes if c not in known]
            if unknown:
                errors[name] = _("Unknown codes: %(codes)s.") % {"codes": ", ".join(unknown)}
            else:
                setattr(self, name, ",".join(dict.fromkeys(codes)))
        self.regions = ",".join(dict.fromkeys(self.split(self.regions)))
        if errors:
            raise ValidationError(errors)

    def after_create(self, user):
        super().after_create(user)
        from .territories import criteria_changed

        criteria_changed(user, self, {"created": True})

    def after_update(self, user, changes):
        super().after_update(user, changes)
        if any(name in changes for name in self.CRITERIA):
            from .territories import criteria_changed

            criteria_changed(user, self, {name: changes[name] for name in self.CRITERIA if name in changes})


class TerritoryRole(models.TextChoices):
    MANAGER = "manager", _("Territory manager")
    MEMBER = "member", _("Member")


class TerritoryMember(TimestampedMixin, VersionedMixin, models.Model):
    """A salesperson assigned to a territory (SAL-9). Members see the territory's records; a
    territory manager also sees those of its sub-territories."""

    territory = models.ForeignKey(Territory, verbose_name=_("territory"), on_delete=models.CASCADE,
                                  related_name="memberships")
    user = models.ForeignKey("org.User", verbose_name=_("employee"), on_delete=models.CASCADE,
                             related_name="territory_memberships")
    role = models.CharField(_("role"), max_length=10, choices=TerritoryRole.choices, default=TerritoryRole.MEMBER)
    remark = models.CharField(_("remark"), max_length=200, blank=True)

    objects = EntityQuerySet.as_manager()
    all_objects = EntityQuerySet.as_manager()

    class Meta:
        base_manager_name = "all_objects"  # bulk writes reload cached access rules (crm.core.versions)
        ordering = ["territory", "user"]
        verbose_name = _("territory member")
        verbose_name_plural = _("territory members")
        constraints = [models.UniqueConstraint(fields=["territory", "user"], name="uniq_territory_member")]
        indexes = [models.Index(fields=["user", "territory"], name="territory_member_user"),
                   models.Index(fields=["updated_at", "id"], name="territory_member_updated")]

    def __str__(self):
        return f"{self.territory} · {self.user}" if self.territory_id and self.user_id else str(self.pk)

    def validate_constraints(self, exclude=None):
        try:
            super().validate_constraints(exclude)
        except ValidationError as exc:
            # The unique rule, said at the field the user chose.
            if TerritoryMember.objects.filter(territory_id=self.territory_id, user_id=self.user_id).exclude(
                    pk=self.pk).exists():
                raise ValidationError({"user": _("This employee is already a member of the territory.")})
            raise exc

    def clean(self):
        super().clean()
        if self.user_id and not type(self).user.field.related_model.objects.filter(pk=self.user_id,
                                                                                  is_active=True).exists():
            raise ValidationError({"user": _("This employee has left; choose an active one.")})
