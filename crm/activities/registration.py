from django.utils.translation import gettext_lazy as _

from crm.core.entities.registry import DetailAction, EntitySpec, MenuEntry, register_entity
from crm.core.ui.menu import add_menu_item

from . import panels
from .models import Activity, Appointment, CareRule, Task

register_entity(
    Activity,
    EntitySpec(
        key="activities",
        attachments=True,  # files on the record (crm.core.attachments)
        list_columns=["occurred_at", "kind", "subject", "record", "duration_minutes", "outcome", "next_step",
                      "participants", "address", "owner", "department", "updated_at"],
        default_columns=["occurred_at", "kind", "subject", "record", "next_step", "owner"],
        form_fields=["kind", "subject", "occurred_at", "duration_minutes", "record_type", "record_id", "participants",
                     "contacts", "outcome", "next_step", "latitude", "longitude", "accuracy_m", "address", "tags"],
        detail_fields=["kind", "subject", "occurred_at", "duration_minutes", "record", "participants", "contacts",
                       "outcome", "next_step", "address", "latitude", "longitude", "accuracy_m", "checked_in_at",
                       "tags", "owner", "department", "created_by", "created_at", "updated_by", "updated_at"],
        filter_fields={"subject": ["icontains"], "kind": ["exact"], "owner": ["exact"], "department": ["exact"],
                       "record_id": ["exact"], "occurred_at": ["gte", "lte"], "tags": ["exact"]},
        sort_fields=["occurred_at", "updated_at"],
        default_sort="-occurred_at",
        search_fields=["subject"],
        select_related=["owner", "department", "record_type"],
        prefetch_related=["participants", "contacts", "record"],
        menu=MenuEntry(group="work", icon="chat-left-text", order=30),
        shared_with="participants",
        testing="crm.activities.testing:ActivityTestData",
    ),
)

register_entity(
    Task,
    EntitySpec(
        key="tasks",
        attachments=True,  # files on the record (crm.core.attachments)
        list_columns=["title", "priority", "due_at", "status", "assignees", "record", "parent", "remind_before",
                      "owner", "department", "completed_at", "updated_at"],
        default_columns=["title", "priority", "due_at", "status", "assignees", "record", "owner"],
        form_fields=["title", "priority", "due_at", "remind_before", "assignees", "record_type", "record_id",
                     "parent", "description", "tags"],
        detail_fields=["title", "priority", "due_at", "remind_before", "remind_at", "status", "completed_at", "record",
                       "parent", "description", "tags", "owner", "department", "created_by", "created_at",
                       "updated_by", "updated_at"],
        filter_fields={"title": ["icontains"], "priority": ["exact"], "status": ["exact"], "owner": ["exact"],
                       "department": ["exact"], "parent": ["exact"], "due_at": ["gte", "lte"], "tags": ["exact"]},
        sort_fields=["updated_at"],
        search_fields=["title"],
        select_related=["owner", "department", "record_type", "parent"],
        prefetch_related=["assignees", "assignments", "record"],
        menu=MenuEntry(group="work", icon="check2-square", order=20),
        detail_panels=[panels.assignments_panel, panels.subtasks_panel],
        shared_with="assignments__user",
        detail_actions=[DetailAction(_("Split into sub-tasks"), "task-split", "diagram-3")],
        testing="crm.activities.testing:TaskTestData",
    ),
)

register_entity(
    Appointment,
    EntitySpec(
        key="appointments",
        attachments=True,  # files on the record (crm.core.attachments)
        list_columns=["start_at", "end_at", "title", "location", "invitees", "repeat", "record", "owner",
                      "department", "updated_at"],
        default_columns=["start_at", "end_at", "title", "location", "invitees", "owner"],
        form_fields=["title", "start_at", "end_at", "all_day", "location", "invitees", "remind_before", "repeat",
                     "repeat_interval", "repeat_count", "repeat_until", "record_type", "record_id", "description",
                     "tags"],
        detail_fields=["title", "start_at", "end_at", "all_day", "location", "invitees", "repeat", "repeat_interval",
                       "repeat_count", "repeat_until", "series", "recurrence_id", "remind_before", "remind_at", "record",
                       "description", "tags",
                       "owner", "department", "created_by", "created_at", "updated_by", "updated_at"],
        filter_fields={"title": ["icontains"], "owner": ["exact"], "department": ["exact"],
                       "start_at": ["gte", "lte"], "tags": ["exact"]},
        sort_fields=["start_at", "updated_at"],
        default_sort="-start_at",
        search_fields=["title", "location"],
        select_related=["owner", "department", "record_type"],
        prefetch_related=["invitees", "record"],
        menu=MenuEntry(group="work", icon="calendar-event", order=40),
        detail_panels=[panels.occurrences_panel],
        shared_with="invitees",
        testing="crm.activities.testing:AppointmentTestData",
    ),
)

register_entity(
    CareRule,
    EntitySpec(
        key="care-rules",
        list_columns=["name", "trigger", "days", "month", "day", "create_task", "is_active", "updated_at"],
        default_columns=["name", "trigger", "days", "create_task", "is_active", "updated_at"],
        form_fields=["name", "is_active", "trigger", "days", "month", "day", "message", "create_task"],
        detail_fields=["name", "is_active", "trigger", "days", "month", "day", "message", "create_task",
                       "created_at", "updated_at"],
        filter_fields={"name": ["icontains"], "trigger": ["exact"], "is_active": ["exact"]},
        sort_fields=["updated_at", "name"],
        search_fields=["name"],
        menu=MenuEntry(group="settings", icon="heart", order=63),
        testing="crm.activities.testing:CareRuleTestData",
        actions=("view", "create", "edit", "delete", "export"),
        hard_delete=True,
        owner_field=None,
        department_field=None,
    ),
)

add_menu_item("work", _("My tasks"), "tasks-mine", icon="list-check", order=10, entity="tasks")
add_menu_item("work", _("Calendar"), "calendar", icon="calendar3", order=5, entity="appointments")
add_menu_item("work", _("Check in"), "check-in", icon="geo-alt", order=35, entity="activities")

panels.attach_to_linkable_entities()
