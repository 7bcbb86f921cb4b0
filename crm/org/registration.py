from crm.core.access.models import Role
from django.utils.translation import gettext_lazy as _

from crm.core.access.scope import register_visibility
from crm.core.entities.registry import DetailAction, EntitySpec, MenuEntry, register_entity
from crm.core.ui.menu import add_menu_item

from .models import Department, Territory, TerritoryMember, User
from .territories import territory_visibility
from .territory_views import members_panel, records_panel

register_entity(
    Department,
    EntitySpec(
        key="departments",
        list_columns=["name", "code", "parent", "manager", "is_active", "sort_order", "updated_at"],
        default_columns=["name", "code", "parent", "manager", "is_active"],
        form_fields=["name", "code", "parent", "manager", "sort_order", "is_active", "description"],
        filter_fields={"name": ["icontains"], "parent": ["exact"], "is_active": ["exact"]},
        sort_fields=["path", "name", "updated_at"],
        default_sort="path",
        search_fields=["name", "code"],
        select_related=["parent", "manager"],
        owner_field=None,
        department_field="id",
        menu=MenuEntry(group="organisation", icon="diagram-3", order=10),
        testing="crm.org.testing:DepartmentTestData",
        actions=("view", "create", "edit", "delete"),
    ),
)

register_entity(
    User,
    EntitySpec(
        key="employees",
        list_columns=["username", "name", "code", "department", "position", "manager", "mobile", "email", "status", "last_login"],
        default_columns=["username", "name", "code", "department", "position", "mobile", "status"],
        form_fields=["username", "name", "code", "department", "position", "manager", "mobile", "email", "status", "language", "roles"],
        filter_fields={"name": ["icontains"], "department": ["exact"], "status": ["exact"], "roles": ["exact"]},
        sort_fields=["username", "name", "updated_at"],
        default_sort="username",
        search_fields=["name", "username", "code", "mobile", "email"],
        masked_fields={"mobile": "phone"},
        select_related=["department", "manager"],
        prefetch_related=["roles"],  # the API lists role ids per employee
        owner_field="id",
        department_field="department",
        menu=MenuEntry(group="organisation", icon="people", order=20),
        testing="crm.org.testing:EmployeeTestData",
        detail_actions=[
            DetailAction(_("Hand over records"), "employee-handover", "box-arrow-right", "handover"),
            DetailAction(_("Set password"), "employee-password", "key", "manage_roles"),
        ],
        actions=("view", "create", "edit", "delete", "assign"),
        hard_delete=True,
    ),
)

register_entity(
    Role,
    EntitySpec(
        key="roles",
        list_columns=["name", "description", "is_active"],
        form_fields=["name", "description", "is_active"],
        filter_fields={"name": ["icontains"], "is_active": ["exact"]},
        sort_fields=["name"],
        default_sort="name",
        search_fields=["name"],
        owner_field=None,
        department_field=None,
        menu=MenuEntry(group="organisation", icon="shield-lock", order=30),
        testing="crm.org.testing:RoleTestData",
        detail_actions=[DetailAction(_("Permissions"), "role-permissions", "shield-check", "manage_roles")],
        actions=("view", "create", "edit", "delete"),
        hard_delete=True,
    ),
)

add_menu_item("organisation", _("Department tree"), "org-tree", icon="diagram-2", order=5, entity="departments")
add_menu_item("organisation", _("Login history"), "login-history", icon="clock-history", special="view_audit", order=40)


# --- Territories (SAL-9) ------------------------------------------------------------------------
# Members see their territory's records (the scope predicate); the tree and memberships are its lookups.
register_visibility(territory_visibility, Territory, TerritoryMember)

TERRITORY_ACTIONS = ("view", "create", "edit", "delete", "export")

register_entity(
    Territory,
    EntitySpec(
        key="territories",
        list_columns=["name", "code", "parent", "regions", "industries", "levels", "sort_order", "is_active",
                      "updated_at"],
        default_columns=["name", "code", "parent", "regions", "industries", "levels", "is_active"],
        form_fields=["name", "code", "parent", "regions", "industries", "levels", "sort_order", "is_active",
                     "description"],
        filter_fields={"name": ["icontains"], "code": ["exact"], "parent": ["exact"], "is_active": ["exact"]},
        sort_fields=["path", "name", "updated_at"],
        default_sort="path",
        search_fields=["name", "code"],
        select_related=["parent"],
        owner_field=None,  # configuration: the grants decide, not ownership
        department_field=None,
        menu=MenuEntry(group="organisation", icon="geo-alt", order=50),
        detail_panels=[members_panel, records_panel],
        testing="crm.org.testing:TerritoryTestData",
        actions=TERRITORY_ACTIONS,
        hard_delete=True,
    ),
)

register_entity(
    TerritoryMember,
    EntitySpec(
        key="territory-members",
        list_columns=["territory", "user", "role", "remark", "updated_at"],
        form_fields=["territory", "user", "role", "remark"],
        filter_fields={"territory": ["exact"], "user": ["exact"], "role": ["exact"]},
        sort_fields=["updated_at"],
        select_related=["territory", "user"],
        owner_field=None,
        department_field=None,
        testing="crm.org.testing:TerritoryMemberTestData",
        actions=TERRITORY_ACTIONS,
        hard_delete=True,
    ),
)

add_menu_item("organisation", _("Territory tree"), "org-territories", icon="diagram-2", order=45, entity="territories")
