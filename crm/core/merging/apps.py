from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MergingConfig(AppConfig):
    """Merging duplicate records (CUS-3): the merge records that make a merge undoable."""

    name = "crm.core.merging"
    label = "merging"
    verbose_name = _("Merging")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from ..entities import merge  # noqa: F401  registers the undo period parameter
