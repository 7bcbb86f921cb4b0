from django.utils.translation import gettext_lazy as _

from crm.core.entities.duplicates import DuplicateKey
from crm.core.entities.registry import DetailAction, EntitySpec, MenuEntry, get_spec, register_entity
from crm.core.ui.menu import add_menu_item

from .models import (
    Lead, LeadAssignmentRule, LeadScoringRule, LeadWebForm, Opportunity, OpportunityProduct, Pipeline, Stage,
    StageTaskTemplate,
)
from .panels import lead_links_panel, lines_panel, score_panel, stage_history_panel, stages_panel, templates_panel
from . import scoring
from .panels import competitor_opportunities_panel, competitor_products_panel, opportunity_competitors_panel

PHONE = "phone"
UNSCOPED = {"owner_field": None, "department_field": None}  # configuration: grants decide, not ownership
CONFIG_ACTIONS = ("view", "create", "edit", "delete", "export")

register_entity(
    Lead,
    EntitySpec(
        key="leads",
        attachments=True,  # files on the record (crm.core.attachments)
        list_columns=[
            "code", "name", "company", "title", "mobile", "email", "province", "city", "industry", "source",
            "campaign_code", "status", "score", "next_follow_up", "last_activity_at", "owner", "department",
            "created_at", "updated_at",
            "grade", "territory",  # LEAD-3, SAL-9
        ],
        default_columns=["code", "name", "company", "source", "status", "score", "grade", "next_follow_up", "owner",
                         "updated_at"],
        form_fields=[
            "name", "company", "title", "mobile", "phone", "email", "province", "city", "industry", "source",
            "campaign_code", "status", "next_follow_up", "tags", "notes",
            "territory", "territory_fixed",  # SAL-9
        ],
        detail_fields=[
            "code", "name", "company", "title", "mobile", "phone", "email", "province", "city", "industry", "source",
            "campaign_code", "web_form", "status", "score", "grade", "territory", "territory_fixed", "next_follow_up",
            "last_activity_at", "tags", "notes",
            "converted_at", "converted_customer", "converted_contact", "converted_opportunity",
            "owner", "department", "created_by", "created_at", "updated_by", "updated_at",
        ],
        filter_fields={
            "name": ["icontains"], "company": ["icontains"], "code": ["exact"], "status": ["exact"],
            "source": ["exact"], "campaign_code": ["exact"], "industry": ["exact"], "province": ["exact"],
            "city": ["exact"], "owner": ["exact"], "department": ["exact"], "tags": ["exact"],
            "updated_at": ["gte", "lte"], "next_follow_up": ["gte", "lte"],
            "territory": ["exact"], "grade": ["exact"], "score": ["gte", "lte"],  # SAL-9, LEAD-3
        },
        sort_fields=["updated_at", "created_at", "name", "score"],
        search_fields=["name", "company", "code", "mobile", "email"],
        masked_fields={"mobile": PHONE, "phone": PHONE},
        select_related=["owner", "department", "territory"],
        menu=MenuEntry(group="sales", icon="funnel", order=10),
        detail_actions=[
            DetailAction(_("Convert"), "sales-lead-convert", icon="arrow-right-circle"),
            DetailAction(_("Assign"), "sales-lead-assign", icon="person-check"),
        ],
        detail_panels=[score_panel, lead_links_panel],
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
        attachments=True,  # files on the record (crm.core.attachments)
        list_columns=[
            "code", "name", "customer", "pipeline", "stage", "amount", "probability", "start_date",
            "expected_close_date", "status", "next_step", "lost_reason", "lost_to", "competitors", "owner",
            "department", "created_at", "updated_at",
        ],
        default_columns=["code", "name", "customer", "stage", "amount", "expected_close_date", "owner", "updated_at"],
        form_fields=[
            "name", "customer", "pipeline", "stage", "amount", "probability", "start_date", "expected_close_date",
            "next_step", "contacts", "team_members", "lost_reason", "lost_to", "tags", "description",
        ],
        detail_fields=[
            "code", "name", "customer", "pipeline", "stage", "status", "amount", "probability", "weighted_amount",
            "start_date", "expected_close_date", "next_step", "contacts", "team_members", "lost_reason", "lost_to",
            "competitors", "closed_at", "stage_entered_at", "last_activity_at", "tags", "description", "owner", "department", "created_by",
            "created_at", "updated_by", "updated_at",
        ],
        filter_fields={
            "name": ["icontains"], "code": ["exact"], "customer": ["exact"], "pipeline": ["exact"],
            "stage": ["exact"], "status": ["exact"], "lost_reason": ["exact"], "lost_to": ["exact"],
            "competitors": ["exact"], "owner": ["exact"],
            "department": ["exact"], "tags": ["exact"], "amount": ["gte", "lte"],
            "expected_close_date": ["gte", "lte"], "updated_at": ["gte", "lte"],
        },
        sort_fields=["updated_at", "created_at", "name", "amount", "expected_close_date"],
        search_fields=["name", "code"],
        select_related=["owner", "department", "customer", "pipeline", "stage", "stage__pipeline", "lost_to"],
        prefetch_related=["contacts", "team_members", "competitors"],
        menu=MenuEntry(group="sales", icon="briefcase", order=20),
        detail_actions=[
            DetailAction(_("Won"), "sales-opportunity-win", icon="trophy"),
            DetailAction(_("Lost"), "sales-opportunity-lose", icon="x-octagon"),
        ],
        detail_panels=[lines_panel, opportunity_competitors_panel, stage_history_panel],
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

# --- Lead scoring (LEAD-3) ----------------------------------------------------------------------
scoring.register()  # the grade thresholds (system parameters) and the activity subscriber

register_entity(
    LeadScoringRule,
    EntitySpec(
        key="lead-scoring-rules",
        list_columns=["name", "kind", "field", "value", "points", "days", "cap", "is_active", "sort_order",
                      "updated_at"],
        form_fields=["name", "is_active", "kind", "field", "value", "points", "days", "cap", "sort_order"],
        filter_fields={"name": ["icontains"], "kind": ["exact"], "is_active": ["exact"]},
        sort_fields=["updated_at", "sort_order", "name"],
        default_sort="sort_order",
        search_fields=["name"],
        menu=MenuEntry(group="settings", icon="speedometer2", order=63),
        testing="crm.sales.testing:LeadScoringRuleTestData",
        actions=CONFIG_ACTIONS,
        hard_delete=True,
        **UNSCOPED,
    ),
)

add_menu_item("sales", _("Pipeline board"), "sales-kanban", icon="kanban", order=30, entity="opportunities")
add_menu_item("sales", _("Funnel and forecast"), "sales-funnel", icon="bar-chart", order=40, entity="opportunities")


# --- Competitors (COMP-1, COMP-2, SAL-11) and sales plans (SAL-7) ---------------------------------
from crm.catalog.models import Product  # noqa: E402

from .forms import COMPETITOR_PRODUCT_FIELDS  # noqa: E402
from .models import Competitor, CompetitorProduct, OpportunityCompetitor, SalesPlan  # noqa: E402

register_entity(
    Competitor,
    EntitySpec(
        key="competitors",
        list_columns=["name", "mnemonic_code", "status", "website", "competition_fields", "owner", "department",
                      "created_at", "updated_at"],
        default_columns=["name", "status", "competition_fields", "website", "owner", "updated_at"],
        form_fields=["name", "mnemonic_code", "website", "status", "competition_fields", "background", "strengths",
                     "weaknesses", "strategy", "tags"],
        detail_fields=["name", "mnemonic_code", "website", "status", "competition_fields", "background", "strengths",
                       "weaknesses", "strategy", "tags", "owner", "department", "created_by", "created_at",
                       "updated_by", "updated_at"],
        filter_fields={"name": ["icontains"], "status": ["exact"], "owner": ["exact"], "department": ["exact"],
                       "tags": ["exact"], "updated_at": ["gte", "lte"]},
        sort_fields=["updated_at", "created_at", "name"],
        search_fields=["name", "mnemonic_code", "competition_fields"],
        select_related=["owner", "department"],
        menu=MenuEntry(group="sales", icon="shield-exclamation", order=50),
        detail_panels=[competitor_products_panel, competitor_opportunities_panel],
        testing="crm.sales.testing:CompetitorTestData",
    ),
)

register_entity(
    CompetitorProduct,
    EntitySpec(
        key="competitor-products",
        list_columns=["competitor", "name", "our_product", "specification", "price", "currency", "use", "updated_at"],
        form_fields=COMPETITOR_PRODUCT_FIELDS,
        filter_fields={"competitor": ["exact"], "our_product": ["exact"], "name": ["icontains"]},
        sort_fields=["updated_at", "name"],
        search_fields=["name", "specification"],
        select_related=["competitor", "our_product"],
        detail_actions=[DetailAction(_("Compare with our product"), "sales-competitor-product-compare",
                                     icon="layout-split")],
        testing="crm.sales.testing:CompetitorProductTestData",
        # Visible and editable with its competitor.
        owner_field="competitor__owner",
        department_field="competitor__department",
    ),
)

register_entity(
    OpportunityCompetitor,
    EntitySpec(
        key="opportunity-competitors",
        list_columns=["opportunity", "competitor", "threat_level", "notes", "updated_at"],
        form_fields=["opportunity", "competitor", "threat_level", "notes"],
        filter_fields={"opportunity": ["exact"], "competitor": ["exact"], "threat_level": ["exact"]},
        sort_fields=["updated_at"],
        select_related=["opportunity", "competitor"],
        testing="crm.sales.testing:OpportunityCompetitorTestData",
        hard_delete=True,
        # Visible and editable with its opportunity.
        owner_field="opportunity__owner",
        department_field="opportunity__department",
    ),
)

register_entity(
    SalesPlan,
    EntitySpec(
        key="sales-plans",
        list_columns=["scope", "employee", "department", "period_kind", "period_start", "metric", "target", "notes",
                      "updated_at"],
        default_columns=["scope", "employee", "department", "period_kind", "period_start", "metric", "target", "notes"],
        form_fields=["scope", "employee", "department", "period_kind", "period_start", "metric", "target", "notes"],
        filter_fields={"scope": ["exact"], "employee": ["exact"], "department": ["exact"], "period_kind": ["exact"],
                       "metric": ["exact"], "period_start": ["gte", "lte"]},
        sort_fields=["updated_at", "period_start"],
        select_related=["employee", "department"],
        menu=MenuEntry(group="sales", icon="bullseye", order=60),
        testing="crm.sales.testing:SalesPlanTestData",
        actions=("view", "create", "edit", "delete", "export", "import"),
        hard_delete=True,
        # A rep's own plans ("own"), a department's and its people's ("department", "sub-departments").
        owner_field="employee",
        department_field="department",
    ),
)

add_menu_item("sales", _("Plan vs actual"), "sales-plan-actual", icon="graph-up-arrow", order=61,
              entity="sales-plans")
add_menu_item("sales", _("Win/loss by competitor"), "sales-competitor-analysis", icon="trophy", order=51,
              entity="opportunities")
add_menu_item("sales", _("Lost-order analysis"), "sales-lost-analysis", icon="graph-down-arrow", order=52,
              entity="opportunities")

# COMP-2: the competitors of an opportunity are chosen on its form (crm/sales/forms.py scopes them).
_opp_fields = get_spec(Opportunity).form_fields
_opp_fields.insert(_opp_fields.index("team_members") + 1, "competitors")

# The product page links to its comparison with competitor products (COMP-1).
get_spec(Product).detail_actions.append(
    DetailAction(_("Compare with competitors"), "sales-product-compare", icon="layout-split"))
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
