"""The data dictionary as an entity (administrators maintain the pick lists in the UI and the
API) and the permission of the system parameters page."""

from django.db.models.signals import pre_delete
from django.utils.translation import gettext_lazy as _

from ..access.special import register_special
from ..entities.registry import EntitySpec, MenuEntry, register_entity
from ..ui.menu import add_menu_item
from .models import DictionaryItem

register_special("manage_settings", _("Manage system parameters"))

register_entity(
    DictionaryItem,
    EntitySpec(
        key="dictionary-items",
        list_columns=["kind", "code", "label_zh", "label_en", "order", "is_active", "updated_at"],
        default_columns=["kind", "code", "label_zh", "label_en", "order", "is_active"],
        form_fields=["kind", "code", "label_zh", "label_en", "order", "is_active"],
        filter_fields={"kind": ["exact"], "code": ["exact"], "is_active": ["exact"], "label_zh": ["icontains"]},
        sort_fields=["updated_at", "order", "code"],
        search_fields=["code", "label_zh", "label_en"],
        select_related=["kind"],
        owner_field=None,
        department_field=None,
        menu=MenuEntry(group="settings", icon="list-ul", order=10),
        testing="crm.core.dictionary.testing:DictionaryItemTestData",
        actions=("view", "create", "edit", "delete", "export"),
        hard_delete=True,
    ),
)

add_menu_item("settings", _("System parameters"), "parameters", icon="sliders", special="manage_settings", order=20)


def _refuse_deleting_items_in_use(sender, instance, **kwargs):
    """An item that records still hold cannot be deleted (disable it instead): the write service
    turns this into "still in use and cannot be deleted"."""
    from django.apps import apps
    from django.db.models import ProtectedError

    from .fields import DictionaryField

    for model in apps.get_models():
        for f in model._meta.concrete_fields:
            if isinstance(f, DictionaryField) and f.kind == instance.kind_id:
                if model._base_manager.filter(**{f.attname: instance.code}).exists():
                    raise ProtectedError(str(instance), {instance})


pre_delete.connect(_refuse_deleting_items_in_use, sender=DictionaryItem, dispatch_uid="crm-dictionary-in-use")
