from django.db import models
from django.utils.translation import gettext_lazy as _


class Scope(models.IntegerChoices):
    """Data scope (数据权限), ordered so that the widest grant wins with max()."""

    NONE = 0, _("None")
    OWN = 1, _("Own records")
    DEPARTMENT = 2, _("Own department")
    SUBTREE = 3, _("Department and sub-departments")
    ALL = 4, _("All")
