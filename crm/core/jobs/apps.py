from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JobsConfig(AppConfig):
    name = "crm.core.jobs"
    label = "jobs"
    verbose_name = _("Background jobs")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.utils.module_loading import autodiscover_modules

        from . import views  # noqa: F401  menu entry and special permission

        # Every app's tasks.py declares its tasks and periodic jobs: import them all, so the
        # scheduler and the worker know the whole registry whichever module they start from.
        autodiscover_modules("tasks")
