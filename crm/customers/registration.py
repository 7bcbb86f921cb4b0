from django.utils.translation import gettext_lazy as _

from crm.core.entities.duplicates import DuplicateKey, company_name_key
from crm.core.entities.registry import EntitySpec, MenuEntry, register_entity

from .models import Contact, Customer
from .panels import children_panel, contacts_panel

PHONE = "phone"

register_entity(
    Customer,
    EntitySpec(
        key="customers",
        attachments=True,  # files on the record (crm.core.attachments)
        list_columns=[
            "code", "name", "mnemonic_code", "customer_type", "level", "status", "industry", "source",
            "credit_rating", "credit_limit", "phone", "email", "province", "city", "owner", "department",
            "parent", "registered_at", "updated_at",
            "territory",  # SAL-9
        ],
        default_columns=["code", "name", "level", "status", "city", "phone", "owner", "updated_at"],
        form_fields=[
            "name", "mnemonic_code", "customer_type", "level", "status", "industry", "source", "credit_rating",
            "credit_limit", "credit_code", "parent", "phone", "finance_phone", "email", "website", "country",
            "province", "city", "district", "address", "postcode", "registered_at", "tags", "notes",
            "territory", "territory_fixed",  # SAL-9
        ],
        filter_fields={
            "name": ["icontains"], "code": ["exact"], "customer_type": ["exact"], "level": ["exact"],
            "status": ["exact"], "industry": ["exact"], "source": ["exact"], "credit_rating": ["exact"],
            "province": ["exact"], "city": ["exact"], "owner": ["exact"], "department": ["exact"],
            "parent": ["exact"], "tags": ["exact"], "updated_at": ["gte", "lte"], "registered_at": ["gte", "lte"],
            "territory": ["exact"],  # SAL-9
        },
        sort_fields=["updated_at", "created_at", "registered_at", "name", "code", "credit_limit"],
        search_fields=["name", "mnemonic_code", "code", "phone", "email"],
        masked_fields={"phone": PHONE, "finance_phone": PHONE},
        select_related=["owner", "department", "parent", "territory"],
        menu=MenuEntry(group="customers", icon="building", order=10),
        detail_panels=[contacts_panel, children_panel],
        testing="crm.customers.testing:CustomerTestData",
        number_field="code",  # from the "customers" numbering rule (SYS-5)
        duplicate_keys=[  # CUS-3 查重
            DuplicateKey("name", _("same name"), ("name_key",), value=lambda o: (company_name_key(o.name),),
                         display=("name",)),
            DuplicateKey("phone", _("same phone"), ("phone",)),
            DuplicateKey("email", _("same e-mail"), ("email",), casefold=("email",)),
            DuplicateKey("credit_code", _("same credit code"), ("credit_code",)),
        ],
    ),
)

register_entity(
    Contact,
    EntitySpec(
        key="contacts",
        attachments=True,  # files on the record (crm.core.attachments)
        list_columns=[
            "name", "customer", "gender", "title", "dept", "is_primary", "mobile", "office_phone", "email",
            "wechat", "birthday", "owner", "department", "updated_at",
        ],
        default_columns=["name", "customer", "title", "mobile", "email", "owner", "updated_at"],
        form_fields=[
            "customer", "name", "gender", "birthday", "dept", "title", "reports_to", "is_primary", "mobile",
            "office_phone", "home_phone", "fax", "email", "wechat", "hobbies", "preferences", "tags", "notes",
        ],
        filter_fields={
            "name": ["icontains"], "customer": ["exact"], "gender": ["exact"], "is_primary": ["exact"],
            "owner": ["exact"], "department": ["exact"], "tags": ["exact"], "updated_at": ["gte", "lte"],
        },
        detail_fields=[
            "customer", "name", "gender", "birthday", "age", "dept", "title", "reports_to", "is_primary", "mobile",
            "office_phone", "home_phone", "fax", "email", "wechat", "hobbies", "preferences", "tags", "notes",
            "owner", "department", "created_by", "created_at", "updated_by", "updated_at",
        ],
        sort_fields=["updated_at", "created_at", "name"],
        search_fields=["name", "mobile", "email"],
        masked_fields={"mobile": PHONE, "office_phone": PHONE, "home_phone": PHONE, "fax": PHONE},
        select_related=["owner", "department", "customer"],
        menu=MenuEntry(group="customers", icon="person-lines-fill", order=20),
        testing="crm.customers.testing:ContactTestData",
        duplicate_keys=[
            DuplicateKey("mobile", _("same mobile"), ("mobile",)),
            DuplicateKey("email", _("same e-mail"), ("email",), casefold=("email",)),
            DuplicateKey("name", _("same name at the same customer"), ("customer", "name")),
        ],
    ),
)

# --- The public pool (CUS-9) -------------------------------------------------------------------
from crm.core.access.masking import guard_reveal  # noqa: E402
from crm.core.notifications import register_kind  # noqa: E402
from crm.core.ui.menu import add_menu_item  # noqa: E402

from . import pool  # noqa: E402
from .panels import pool_panel, rules_panel  # noqa: E402
from .pool_models import Pool, PoolRule  # noqa: E402

CONFIG_ACTIONS = ("view", "create", "edit", "delete", "export")

register_entity(
    Pool,
    EntitySpec(
        key="pools",
        list_columns=["name", "is_active", "is_default", "hold_limit", "daily_claim_limit", "cooldown_days",
                      "warn_days", "updated_at"],
        form_fields=["name", "is_active", "is_default", "departments", "hold_limit", "daily_claim_limit",
                     "cooldown_days", "warn_days", "description"],
        detail_fields=["name", "is_active", "is_default", "departments", "hold_limit", "daily_claim_limit",
                       "cooldown_days", "warn_days", "description", "created_at", "updated_at"],
        filter_fields={"name": ["icontains"], "is_active": ["exact"]},
        sort_fields=["updated_at", "name"],
        default_sort="name",
        search_fields=["name"],
        prefetch_related=["departments"],
        menu=MenuEntry(group="settings", icon="water", order=64),
        detail_panels=[rules_panel],
        testing="crm.customers.testing:PoolTestData",
        actions=CONFIG_ACTIONS,
        hard_delete=True,
        owner_field=None,
        department_field=None,
    ),
)

register_entity(
    PoolRule,
    EntitySpec(
        key="pool-rules",
        list_columns=["pool", "level", "no_follow_up_days", "no_deal_days", "updated_at"],
        form_fields=["pool", "level", "no_follow_up_days", "no_deal_days", "note"],
        filter_fields={"pool": ["exact"], "level": ["exact"]},
        sort_fields=["updated_at"],
        select_related=["pool"],
        menu=MenuEntry(group="settings", icon="hourglass-split", order=65),
        testing="crm.customers.testing:PoolRuleTestData",
        actions=CONFIG_ACTIONS,
        hard_delete=True,
        owner_field=None,
        department_field=None,
    ),
)

pool.register_poolable(Customer, level_field="level")
pool.add_follower(Customer, lambda ids, owner: Contact.all_objects.filter(customer_id__in=ids).update(
    owner=owner, department=owner.department_id if owner else None))
guard_reveal("contacts", lambda contact: contact.customer.in_pool)  # masked until the customer is claimed
Customer.entity_spec.detail_panels.append(pool_panel)

register_kind("pool_warning", _("A record of mine will soon go back to the public pool"), order=40)
register_kind("pool_reclaimed", _("A record of mine went back to the public pool"), order=41)
register_kind("pool_assigned", _("A record was assigned to me from the public pool"), order=42)
add_menu_item("customers", _("Public pool"), "pool-index", icon="water", order=5, entity="customers")
