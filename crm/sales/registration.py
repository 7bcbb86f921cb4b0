from django.utils.translation import gettext_lazy as _

from crm.core.entities.duplicates import DuplicateKey
from crm.core.entities.registry import DetailAction, EntitySpec, MenuEntry, register_entity
from crm.core.ui.menu import add_menu_item

from .models import (
    Lead, LeadAssignmentRule, LeadWebForm, Opportunity, OpportunityProduct, Pipeline, Stage, StageTaskTemplate,
)
from .panels import lead_links_panel, lines_panel, stage_history_panel, stages_panel, templates_panel

PHONE = "phone"
UNSCOPED = {"owner_field": None, "department_field": None}  # configuration: grants decide, not ownership
CONFIG_ACTIONS = ("view", "create", "edit", "delete", "export")

register_entity(
    Lead,
    EntitySpec(
        key="leads",
        list_columns=[
            "code", "name", "company", "title", "mobile", "email", "province", "city", "industry", "source",
            "campaign_code", "status", "score", "next_follow_up", "last_activity_at", "owner", "department",
            "created_at", "updated_at",
        ],
        default_columns=["code", "name", "company", "source", "status", "next_follow_up", "owner", "updated_at"],
        form_fields=[
            "name", "company", "title", "mobile", "phone", "email", "province", "city", "industry", "source",
            "campaign_code", "status", "score", "next_follow_up", "tags", "notes",
        ],
        detail_fields=[
            "code", "name", "company", "title", "mobile", "phone", "email", "province", "city", "industry", "source",
            "campaign_code", "web_form", "status", "score", "next_follow_up", "last_activity_at", "tags", "notes",
            "converted_at", "converted_customer", "converted_contact", "converted_opportunity",
            "owner", "department", "created_by", "created_at", "updated_by", "updated_at",
        ],
        filter_fields={
            "name": ["icontains"], "company": ["icontains"], "code": ["exact"], "status": ["exact"],
            "source": ["exact"], "campaign_code": ["exact"], "industry": ["exact"], "province": ["exact"],
            "city": ["exact"], "owner": ["exact"], "department": ["exact"], "tags": ["exact"],
            "updated_at": ["gte", "lte"], "next_follow_up": ["gte", "lte"],
        },
        sort_fields=["updated_at", "created_at", "name"],
        search_fields=["name", "company", "code", "mobile", "email"],
        masked_fields={"mobile": PHONE, "phone": PHONE},
        select_related=["owner", "department"],
        menu=MenuEntry(group="sales", icon="funnel", order=10),
        detail_actions=[
            DetailAction(_("Convert"), "sales-lead-convert", icon="arrow-right-circle"),
            DetailAction(_("Assign"), "sales-lead-assign", icon="person-check"),
        ],
        detail_panels=[lead_links_panel],
        testing="crm.sales.testing:LeadTestData",
        number_field="code",  # the "leads" numbering rule (SYS-5)
        duplicate_keys=[
            DuplicateKey("mobile", _("same mobile"), ("mobile",)),
            DuplicateKey("email", _("same e-mail"), ("email",), casefold=("email",)),
        ],
    ),
)

register_entity(
    Opportunity,
    EntitySpec(
        key="opportunities",
        list_columns=[
            "code", "name", "customer", "pipeline", "stage", "amount", "probability", "start_date",
            "expected_close_date", "status", "next_step", "lost_reason", "lost_to", "owner", "department",
            "created_at", "updated_at",
        ],
        default_columns=["code", "name", "customer", "stage", "amount", "expected_close_date", "owner", "updated_at"],
        form_fields=[
            "name", "customer", "pipeline", "stage", "amount", "probability", "start_date", "expected_close_date",
            "next_step", "contacts", "team_members", "lost_reason", "lost_to", "tags", "description",
        ],
        detail_fields=[
            "code", "name", "customer", "pipeline", "stage", "status", "amount", "probability", "weighted_amount",
            "start_date", "expected_close_date", "next_step", "contacts", "team_members", "lost_reason", "lost_to",
            "closed_at", "stage_entered_at", "last_activity_at", "tags", "description", "owner", "department", "created_by",
            "created_at", "updated_by", "updated_at",
        ],
        filter_fields={
            "name": ["icontains"], "code": ["exact"], "customer": ["exact"], "pipeline": ["exact"],
            "stage": ["exact"], "status": ["exact"], "lost_reason": ["exact"], "owner": ["exact"],
            "department": ["exact"], "tags": ["exact"], "amount": ["gte", "lte"],
            "expected_close_date": ["gte", "lte"], "updated_at": ["gte", "lte"],
        },
        sort_fields=["updated_at", "created_at", "name", "amount", "expected_close_date"],
        search_fields=["name", "code"],
        select_related=["owner", "department", "customer", "pipeline", "stage", "stage__pipeline"],
        prefetch_related=["contacts", "team_members"],
        menu=MenuEntry(group="sales", icon="briefcase", order=20),
        detail_actions=[
            DetailAction(_("Won"), "sales-opportunity-win", icon="trophy"),
            DetailAction(_("Lost"), "sales-opportunity-lose", icon="x-octagon"),
        ],
        detail_panels=[lines_panel, stage_history_panel],
        testing="crm.sales.testing:OpportunityTestData",
        number_field="code",  # the "opportunities" numbering rule (SYS-5)
    ),
)

register_entity(
    OpportunityProduct,
    EntitySpec(
        key="opportunity-products",
        list_columns=["opportunity", "product", "quantity", "unit_price", "line_amount", "remark", "updated_at"],
        form_fields=["opportunity", "product", "quantity", "unit_price", "remark"],
        filter_fields={"opportunity": ["exact"], "product": ["exact"]},
        sort_fields=["updated_at"],
        select_related=["opportunity", "product"],
        testing="crm.sales.testing:OpportunityProductTestData",
        # A line is visible and editable with its opportunity (owner and department of the opportunity).
        owner_field="opportunity__owner",
        department_field="opportunity__department",
    ),
)

register_entity(
    Pipeline,
    EntitySpec(
        key="pipelines",
        list_columns=["name", "is_default", "is_active", "sort_order", "updated_at"],
        form_fields=["name", "description", "is_default", "is_active", "sort_order"],
        filter_fields={"name": ["icontains"], "is_active": ["exact"]},
        sort_fields=["updated_at", "name", "sort_order"],
        default_sort="sort_order",
        search_fields=["name"],
        menu=MenuEntry(group="settings", icon="kanban", order=60),
        detail_panels=[stages_panel],
        testing="crm.sales.testing:PipelineTestData",
        actions=CONFIG_ACTIONS,
        **UNSCOPED,
    ),
)

register_entity(
    Stage,
    EntitySpec(
        key="pipeline-stages",
        list_columns=["pipeline", "name", "order", "probability", "kind", "updated_at"],
        form_fields=["pipeline", "name", "order", "probability", "kind"],
        filter_fields={"pipeline": ["exact"], "kind": ["exact"], "name": ["icontains"]},
        sort_fields=["updated_at", "order", "name"],
        default_sort="order",
        search_fields=["name"],
        select_related=["pipeline"],
        detail_panels=[templates_panel],
        testing="crm.sales.testing:StageTestData",
        actions=CONFIG_ACTIONS,
        hard_delete=True,
        **UNSCOPED,
    ),
)

register_entity(
    StageTaskTemplate,
    EntitySpec(
        key="stage-task-templates",
        list_columns=["stage", "title", "due_in_days", "updated_at"],
        form_fields=["stage", "title", "due_in_days", "description"],
        filter_fields={"stage": ["exact"], "title": ["icontains"]},
        sort_fields=["updated_at", "title"],
        search_fields=["title"],
        select_related=["stage", "stage__pipeline"],
        testing="crm.sales.testing:StageTaskTemplateTestData",
        actions=CONFIG_ACTIONS,
        hard_delete=True,
        **UNSCOPED,
    ),
)

register_entity(
    LeadAssignmentRule,
    EntitySpec(
        key="lead-assignment-rules",
        list_columns=["name", "priority", "method", "team", "regions", "sources", "is_active", "updated_at"],
        form_fields=["name", "priority", "is_active", "method", "team", "members", "regions", "sources"],
        filter_fields={"name": ["icontains"], "method": ["exact"], "is_active": ["exact"]},
        sort_fields=["updated_at", "priority", "name"],
        default_sort="priority",
        search_fields=["name"],
        select_related=["team"],
        prefetch_related=["members"],
        menu=MenuEntry(group="settings", icon="shuffle", order=61),
        testing="crm.sales.testing:LeadAssignmentRuleTestData",
        actions=CONFIG_ACTIONS,
        hard_delete=True,
        **UNSCOPED,
    ),
)

register_entity(
    LeadWebForm,
    EntitySpec(
        key="lead-web-forms",
        list_columns=["name", "source", "campaign_code", "default_owner", "is_active", "updated_at"],
        form_fields=["name", "is_active", "source", "campaign_code", "default_owner", "thank_you"],
        detail_fields=["name", "token", "is_active", "source", "campaign_code", "default_owner", "thank_you",
                       "created_at", "updated_at"],
        filter_fields={"name": ["icontains"], "is_active": ["exact"]},
        sort_fields=["updated_at", "name"],
        search_fields=["name"],
        select_related=["default_owner"],
        menu=MenuEntry(group="settings", icon="ui-checks", order=62),
        detail_actions=[DetailAction(_("Open the public form"), "sales-web-form-preview", icon="box-arrow-up-right")],
        testing="crm.sales.testing:LeadWebFormTestData",
        actions=CONFIG_ACTIONS,
        hard_delete=True,
        **UNSCOPED,
    ),
)

add_menu_item("sales", _("Pipeline board"), "sales-kanban", icon="kanban", order=30, entity="opportunities")
add_menu_item("sales", _("Funnel and forecast"), "sales-funnel", icon="bar-chart", order=40, entity="opportunities")

# The public pool (CUS-9): leads can be pooled; a customer's clock of "no won deal" reads its
# opportunities in a won stage.
from django.db.models import OuterRef, Q, Subquery  # noqa: E402

from crm.customers import pool  # noqa: E402
from crm.customers.models import Customer  # noqa: E402
from crm.customers.panels import pool_panel  # noqa: E402
from .models import LeadStatus, StageKind  # noqa: E402

pool.register_poolable(Lead, held_q=~Q(status__in=LeadStatus.CLOSED))
pool.set_won_deal(Customer, lambda: Subquery(
    Opportunity.objects.filter(customer=OuterRef("pk"), stage__kind=StageKind.WON, closed_at__isnull=False)
    .order_by("-closed_at").values("closed_at")[:1]))
Lead.entity_spec.detail_panels.append(pool_panel)
