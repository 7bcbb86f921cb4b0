from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    name = "crm.core.search"
    label = "search"
    verbose_name = _("Search index")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import index

        index.connect()
