from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "crm.core"
    label = "core"
    verbose_name = _("Kernel")

    def ready(self):
        from .access import special  # noqa: F401  registers the kernel's special permissions
        from .audit import receivers  # noqa: F401  login history
        from .numbering import registration  # noqa: F401  numbering rules as an entity
        from .dictionary import registration  # noqa: F401  data dictionary items, settings permission
        from .entities import trash  # noqa: F401  recycle bin: purge permission, retention parameter
        from .ui import trash as _trash_ui  # noqa: F401  menu entry of the recycle bin
        from django.conf import settings
        from django.apps import apps

        from . import versions
        from .access.models import Role, RoleGrant
        from .dictionary.models import DictionaryItem, ParameterValue

        # What every user's grants and department subtree are read from (access.scope._snapshot).
        versions.bump_on_write("access", Role, RoleGrant, apps.get_model(settings.CRM_DEPARTMENT_MODEL))
        versions.bump_on_write("dictionary", DictionaryItem)
        versions.bump_on_write("parameters", ParameterValue)
