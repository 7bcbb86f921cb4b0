from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "crm.activities"
    label = "activities"
    verbose_name = _("Work and time")

    def ready(self):
        from . import geocoding, home, jobs, registration, subscribers, timeline  # noqa: F401
        from .services import register_kinds

        register_kinds()
