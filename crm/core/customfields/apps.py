from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CustomFieldsConfig(AppConfig):
    name = "crm.core.customfields"
    label = "customfields"
    verbose_name = _("Custom fields")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from .. import versions
        from ..ui.menu import add_menu_item
        from . import vendor
        from .models import CustomField

        versions.bump_on_write("customfields", CustomField)  # direct ORM writes too (services call changed())

        add_menu_item("settings", _("Custom fields"), "customfields", icon="ui-checks", special="manage_settings",
                      order=30)
        post_migrate.connect(vendor.create_indexes, sender=self, dispatch_uid="crm-customfields-indexes")
