from ..entities.registry import EntitySpec, MenuEntry, register_entity
from .models import NumberingRule

FIELDS = ["entity", "prefix", "date_part", "digits", "reset", "start_number", "is_active"]

register_entity(
    NumberingRule,
    EntitySpec(
        key="numbering-rules",
        list_columns=FIELDS + ["updated_at"],
        form_fields=FIELDS,
        detail_fields=FIELDS + ["preview", "created_at", "updated_at"],
        filter_fields={"entity": ["exact"], "is_active": ["exact"]},
        sort_fields=["entity", "updated_at"],
        default_sort="entity",
        search_fields=["entity", "prefix"],
        owner_field=None,
        department_field=None,
        menu=MenuEntry(group="settings", icon="123", order=10),
        testing="crm.core.numbering.testing:NumberingRuleTestData",
        actions=("view", "create", "edit", "delete"),
        hard_delete=True,
    ),
)
