"""Organisation through the real HTTP layer (SYS-1, SYS-2, SYS-3, SEC-4): roles and the
widest grant, the permission matrix, the department tree (move, refuse cycles, disable),
employee managers, and the hand-over of a leaving employee."""

import re

import pytest
from django.test import Client
from crm.core.testing.openapi import ValidatingAPIClient as APIClient  # responses checked against the OpenAPI file

from crm.core.access.models import ApiToken, Role, RoleGrant
from crm.core.audit.models import AuditEntry
from crm.core.entities import services
from crm.core.testing.org import Scope, make_user
from crm.customers.models import Contact, Customer
from crm.org.models import Department, User
from crm.core.testing.clients import api_as, browser

PASSWORD = "Secret-pass-123"




def field_errors(response, field):
    return re.findall(rf'data-error-for="{field}">(.*?)</div>', response.content.decode(), re.S)


def new_customer(user, **data):
    data.setdefault("name", f"Customer of {user.username}")
    return services.create(user, Customer, data)


def dept_post(dept, **over):
    data = {"name": dept.name, "code": dept.code, "parent": dept.parent_id or "", "manager": dept.manager_id or "",
            "sort_order": dept.sort_order, "is_active": "on" if dept.is_active else "", "description": dept.description,
            "version": dept.version}
    data.update(over)
    return {k: v for k, v in data.items() if v != "" or k in ("parent", "manager", "description", "code")}


def employee_post(user, **over):
    data = {"username": user.username, "name": user.name, "code": user.code, "department": user.department_id or "",
            "position": user.position, "manager": user.manager_id or "", "mobile": "", "email": user.email,
            "status": user.status, "language": user.language, "version": user.version}
    data.update(over)
    return data


def paths():
    return dict(Department.objects.values_list("code", "path"))


# --- Roles: the widest grant wins -----------------------------------------------------------

def test_widest_grant_wins_across_two_roles(depts):
    user = make_user("multi", depts["sales1"], {"customers": Scope.OWN})
    child_rep = make_user("childrep", depts["sales1a"], {"customers": Scope.OWN})
    outsider = make_user("outsider", depts["guangzhou"], {"customers": Scope.OWN})
    in_child = new_customer(child_rep, name="In Sales1A")
    elsewhere = new_customer(outsider, name="In Guangzhou")
    own = new_customer(user, name="My Own")

    client = browser(user)
    assert "In Sales1A" not in client.get("/customers/").content.decode()

    wide = Role.objects.create(name="Wide viewer", special_permissions=["reveal_phone"])
    RoleGrant.objects.create(role=wide, entity="customers", action="view", scope=Scope.SUBTREE)
    wide.members.add(user)
    html = client.get("/customers/").content.decode()
    assert "In Sales1A" in html and "My Own" in html and "In Guangzhou" not in html
    assert client.get(f"/customers/{in_child.pk}/").status_code == 200
    assert [c["name"] for c in api_as(user).get("/api/v1/customers/", {"sort": "name"}).json()["results"]] == ["In Sales1A", "My Own"]
    # The wider view does not widen editing, and specials add up too.
    assert client.get(f"/customers/{in_child.pk}/edit/").status_code == 404
    assert client.get(f"/customers/{own.pk}/edit/").status_code == 200
    assert client.post(f"/customers/{own.pk}/reveal/").status_code == 200

    # An inactive role grants nothing.
    everything = Role.objects.create(name="Everything", is_active=False)
    RoleGrant.objects.create(role=everything, entity="customers", action="view", scope=Scope.ALL)
    everything.members.add(user)
    assert client.get(f"/customers/{elsewhere.pk}/").status_code == 404
    Role.objects.filter(pk=everything.pk).update(is_active=True)
    assert client.get(f"/customers/{elsewhere.pk}/").status_code == 200


def test_permission_matrix_changes_grants_and_is_audited(admin, depts):
    member = make_user("member", depts["sales1"])
    role = Role.objects.create(name="Sales")
    role.members.add(member)
    assert browser(member).get("/customers/").status_code == 403

    client = browser(admin)
    page = client.get(f"/roles/{role.pk}/permissions/")
    assert page.status_code == 200
    cells = re.findall(r'name="([a-z_]+:[a-z]+)"', page.content.decode())
    assert "customers:view" in cells and "customers:export" in cells
    post = {c: "0" for c in cells}
    post.update({"customers:view": str(Scope.DEPARTMENT), "customers:export": str(Scope.OWN), "special": ["reveal_phone", "bogus"]})
    response = client.post(f"/roles/{role.pk}/permissions/", post)
    assert response.status_code == 302
    grants = {(g.entity, g.action): g.scope for g in role.grants.all()}
    assert grants == {("customers", "view"): Scope.DEPARTMENT, ("customers", "export"): Scope.OWN}
    role.refresh_from_db()
    assert role.special_permissions == ["reveal_phone"]
    entry = AuditEntry.objects.get(action="permission", object_id=role.pk)
    assert entry.actor == admin and entry.changes["customers.view"] == [0, Scope.DEPARTMENT]

    # The member's next request uses the new grants.
    assert browser(member).get("/customers/").status_code == 200


def test_permission_matrix_rejects_bad_scopes_and_outsiders(admin, rep, depts):
    role = Role.objects.create(name="Sales")
    RoleGrant.objects.create(role=role, entity="customers", action="view", scope=Scope.OWN)
    response = browser(admin).post(f"/roles/{role.pk}/permissions/", {"customers:view": "9"})
    assert response.status_code == 400
    response = browser(admin).post(f"/roles/{role.pk}/permissions/", {"customers:view": "all"})
    assert response.status_code == 400
    assert list(role.grants.values_list("entity", "action", "scope")) == [("customers", "view", Scope.OWN)]
    assert not AuditEntry.objects.filter(action="permission").exists()
    # Without the manage_roles special permission: refused, whatever the function grants.
    roles_editor = make_user("roles_editor", depts["hq"], {"roles": Scope.ALL})
    assert browser(roles_editor).get(f"/roles/{role.pk}/permissions/").status_code == 403
    assert browser(roles_editor).post(f"/roles/{role.pk}/permissions/", {"customers:view": "4"}).status_code == 403
    assert browser(rep).get(f"/roles/{role.pk}/permissions/").status_code == 403
    assert role.grants.get().scope == Scope.OWN


# --- Departments ----------------------------------------------------------------------------

def test_department_move_updates_the_whole_subtree_and_the_scopes(admin, rep, manager, depts):
    customer = new_customer(rep, name="Sales1 Customer")
    south_head = make_user("southhead", depts["south"], {"customers": Scope.SUBTREE})
    assert browser(manager).get(f"/customers/{customer.pk}/").status_code == 200
    assert browser(south_head).get(f"/customers/{customer.pk}/").status_code == 404

    sales1 = depts["sales1"]
    response = browser(admin).post(f"/departments/{sales1.pk}/edit/", dept_post(sales1, parent=depts["south"].pk))
    assert response.status_code == 302, field_errors(response, "parent")
    hq, south, s1, s1a = (depts[k].pk for k in ("hq", "south", "sales1", "sales1a"))
    assert paths()["SALES1"] == f"/{hq}/{south}/{s1}/"
    assert paths()["SALES1A"] == f"/{hq}/{south}/{s1}/{s1a}/"
    assert Department.objects.get(pk=s1a).depth == 3
    assert paths()["SHANGHAI"] == f"/{hq}/{depts['east'].pk}/{depts['shanghai'].pk}/"

    # Data scopes follow the tree at once.
    assert browser(manager).get(f"/customers/{customer.pk}/").status_code == 404
    assert browser(south_head).get(f"/customers/{customer.pk}/").status_code == 200
    tree = browser(admin).get("/org/tree/").content.decode()
    assert tree.index("South") < tree.index("Sales1") < tree.index("Sales1A") < tree.index("Guangzhou")


def test_department_cannot_move_under_itself_or_its_own_child(admin, depts):
    before = paths()
    shanghai = depts["shanghai"]
    for target in ("sales1a", "shanghai"):
        response = browser(admin).post(f"/departments/{shanghai.pk}/edit/", dept_post(shanghai, parent=depts[target].pk))
        assert response.status_code == 400
        assert field_errors(response, "parent"), target
    response = api_as(admin).patch(f"/api/v1/departments/{shanghai.pk}/", {"parent": depts["sales1"].pk}, format="json")
    assert response.status_code == 400 and "parent" in response.json()["error"]["fields"]
    assert paths() == before
    assert Department.objects.get(pk=shanghai.pk).parent_id == depts["east"].pk


def test_disabled_department_is_marked_and_takes_no_new_members(admin, depts):
    sales1a = depts["sales1a"]
    member = make_user("member", sales1a)
    response = browser(admin).post(f"/departments/{sales1a.pk}/edit/", dept_post(sales1a, is_active=""))
    assert response.status_code == 302
    assert not Department.objects.get(pk=sales1a.pk).is_active
    tree = browser(admin).get("/org/tree/").content.decode()
    assert re.search(r"Sales1A</a>.*?badge[^>]*>disabled<", tree, re.S)

    # No new employee or sub-department goes into a disabled department...
    new_employee = {"username": "newbie", "name": "Newbie", "department": sales1a.pk, "status": "active",
                    "password": "Another-pass-456"}
    response = browser(admin).post("/employees/new/", new_employee)
    assert response.status_code == 400 and field_errors(response, "department")
    assert not User.objects.filter(username="newbie").exists()
    response = api_as(admin).post("/api/v1/employees/", new_employee, format="json")
    assert response.status_code == 400 and "department" in response.json()["error"]["fields"]
    response = browser(admin).post("/departments/new/", {"name": "Sub", "parent": sales1a.pk, "sort_order": 0, "is_active": "on"})
    assert response.status_code == 400 and field_errors(response, "parent")
    # ... but the people already there keep working and can still be edited.
    member.refresh_from_db()
    response = browser(admin).post(f"/employees/{member.pk}/edit/", employee_post(member, position="Engineer"))
    assert response.status_code == 302
    assert User.objects.get(pk=member.pk).position == "Engineer"


# --- Employees --------------------------------------------------------------------------------

def test_employee_manager_cycle_is_refused(admin, depts):
    boss = make_user("boss", depts["shanghai"])
    mid = make_user("mid", depts["sales1"], manager=boss)
    low = make_user("low", depts["sales1"], manager=mid)
    response = browser(admin).post(f"/employees/{boss.pk}/edit/", employee_post(boss, manager=low.pk))
    assert response.status_code == 400 and field_errors(response, "manager")
    response = browser(admin).post(f"/employees/{boss.pk}/edit/", employee_post(boss, manager=boss.pk))
    assert response.status_code == 400 and field_errors(response, "manager")
    response = api_as(admin).patch(f"/api/v1/employees/{boss.pk}/", {"manager": mid.pk}, format="json")
    assert response.status_code == 400 and "manager" in response.json()["error"]["fields"]
    assert User.objects.get(pk=boss.pk).manager_id is None


def test_new_employee_needs_a_sound_password(admin, depts):
    post = {"username": "weak", "name": "Weak", "department": depts["sales1"].pk, "status": "active", "password": "12345678"}
    response = browser(admin).post("/employees/new/", post)
    assert response.status_code == 400 and field_errors(response, "password")
    assert not User.objects.filter(username="weak").exists()
    post["password"] = "Tea-kettle-2024"
    assert browser(admin).post("/employees/new/", post).status_code == 302
    user = User.objects.get(username="weak")
    assert user.check_password("Tea-kettle-2024") and user.password.startswith("argon2")


# --- Hand-over (SEC-4) --------------------------------------------------------------------------

def test_handover_moves_every_record_marks_left_and_blocks_login(admin, rep, depts):
    successor = make_user("successor", depts["sales1a"], {"customers": Scope.OWN, "contacts": Scope.OWN})
    customers = [new_customer(rep, name=f"Rep customer {i}") for i in range(3)]
    binned = new_customer(rep, name="Rep binned customer")
    services.delete(rep, Customer, binned.pk)
    contact = services.create(rep, Contact, {"customer": customers[0], "name": "Rep contact"})
    _token, secret = ApiToken.issue(rep, "integration")

    leaver = Client()
    response = leaver.post("/login/", {"username": "rep", "password": PASSWORD})
    assert response.status_code == 302
    assert leaver.get("/customers/").status_code == 200

    page = browser(admin).get(f"/employees/{rep.pk}/handover/").content.decode()
    assert re.search(r"customers</?\w*>?: 4|Customers: 4", page, re.I)
    response = browser(admin).post(f"/employees/{rep.pk}/handover/", {"successor": successor.pk, "mark_left": "on"})
    assert response.status_code == 302

    assert not Customer.all_objects.filter(owner=rep).exists() and not Contact.all_objects.filter(owner=rep).exists()
    assert Customer.all_objects.filter(owner=successor).count() == 4
    assert Customer.objects.filter(owner=successor, department=depts["sales1a"]).count() == 3
    assert Contact.objects.get(pk=contact.pk).owner == successor
    assert AuditEntry.objects.filter(action="transfer", object_id=customers[0].pk).exists()
    assert AuditEntry.objects.get(action="handover").extra["moved"]["customers"] == 4
    rep.refresh_from_db()
    assert (rep.status, rep.is_active) == ("left", False) and rep.left_at

    # The leaver is out: the open session, a new log-in and API tokens all stop working.
    assert leaver.get("/customers/").status_code == 302
    response = Client().post("/login/", {"username": "rep", "password": PASSWORD})
    assert response.status_code == 200 and "_auth_user_id" not in Client().session
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get("/api/v1/customers/").status_code == 401
    # The successor works with the records.
    assert browser(successor).get(f"/customers/{customers[1].pk}/").status_code == 200


def test_handover_refuses_bad_successors_and_outsiders(admin, rep, depts):
    gone = make_user("gone", depts["sales1"], is_active=False)
    new_customer(rep)
    for successor in (rep.pk, gone.pk, "", 999999):
        response = browser(admin).post(f"/employees/{rep.pk}/handover/", {"successor": successor, "mark_left": "on"})
        assert response.status_code == 400
        assert field_errors(response, "successor")
    helper = make_user("helper", depts["hq"], {"employees": Scope.ALL})
    assert browser(helper).post(f"/employees/{rep.pk}/handover/", {"successor": admin.pk}).status_code == 403
    assert Customer.objects.get().owner == rep
    rep.refresh_from_db()
    assert rep.is_active and rep.status == "active"
    assert not AuditEntry.objects.filter(action__in=["handover", "transfer"]).exists()


def test_handover_without_marking_left_keeps_the_login(admin, rep, depts):
    successor = make_user("successor", depts["sales1"])
    new_customer(rep)
    response = browser(admin).post(f"/employees/{rep.pk}/handover/", {"successor": successor.pk})
    assert response.status_code == 302
    assert Customer.objects.get().owner == successor
    rep.refresh_from_db()
    assert rep.is_active and rep.status == "active"


@pytest.mark.parametrize("status_field", ["form", "api"])
def test_marking_an_employee_left_blocks_login(admin, rep, status_field):
    if status_field == "form":
        rep.refresh_from_db()
        response = browser(admin).post(f"/employees/{rep.pk}/edit/", employee_post(rep, status="left"))
        assert response.status_code == 302
    else:
        response = api_as(admin).patch(f"/api/v1/employees/{rep.pk}/", {"status": "left"}, format="json")
        assert response.status_code == 200, response.content
    rep.refresh_from_db()
    assert not rep.is_active and rep.left_at
    client = Client()
    response = client.post("/login/", {"username": "rep", "password": PASSWORD})
    assert response.status_code == 200 and "_auth_user_id" not in client.session


# --- No way up: roles, passwords and administrators are out of reach of plain editors -----------

@pytest.fixture
def hr(depts):
    """May do everything with employee records, but has no say over roles (no manage_roles)."""
    return make_user("hr", depts["hq"], {"employees": Scope.ALL, ("departments", "view"): Scope.ALL})


@pytest.fixture
def admin_role():
    role = Role.objects.create(name="Administrators", special_permissions=["manage_roles", "handover", "reveal_phone"])
    RoleGrant.objects.bulk_create([RoleGrant(role=role, entity=e, action=a, scope=Scope.ALL)
                                   for e in ("customers", "employees", "roles") for a in ("view", "create", "edit")])
    return role


def test_employee_editors_cannot_grant_roles_without_manage_roles(hr, admin_role, depts):
    client = browser(hr)
    assert 'name="roles"' not in client.get(f"/employees/{hr.pk}/edit/").content.decode()
    hr.refresh_from_db()
    client.post(f"/employees/{hr.pk}/edit/", {**employee_post(hr, position="HR"), "roles": [admin_role.pk]})
    assert not hr.roles.filter(pk=admin_role.pk).exists()

    response = api_as(hr).patch(f"/api/v1/employees/{hr.pk}/", {"roles": [admin_role.pk]}, format="json")
    assert response.status_code in (400, 403)
    assert not hr.roles.filter(pk=admin_role.pk).exists()

    new = {"username": "puppet", "name": "Puppet", "department": depts["sales1"].pk, "status": "active",
           "password": "Puppet-pass-2024", "roles": [admin_role.pk]}
    response = api_as(hr).post("/api/v1/employees/", new, format="json")
    assert response.status_code in (400, 403)
    client.post("/employees/new/", new)
    assert not admin_role.members.exists()

    # Echoing the current roles back is not a change and is accepted.
    response = api_as(hr).patch(f"/api/v1/employees/{hr.pk}/", {"roles": list(hr.roles.values_list("pk", flat=True)),
                                                                 "position": "HR lead"}, format="json")
    assert response.status_code == 200, response.content


def test_roles_are_granted_by_those_who_manage_roles(admin, admin_role, rep):
    rep.refresh_from_db()
    response = browser(admin).post(f"/employees/{rep.pk}/edit/", {**employee_post(rep), "roles": [admin_role.pk]})
    assert response.status_code == 302
    assert rep.roles.filter(pk=admin_role.pk).exists()
    change = AuditEntry.objects.filter(action="update", object_id=rep.pk).latest("at")
    assert "Administrators" in change.changes["roles"][1]
    response = api_as(admin).patch(f"/api/v1/employees/{rep.pk}/", {"roles": []}, format="json")
    assert response.status_code == 200 and response.json()["roles"] == []


def test_employee_editors_cannot_set_other_peoples_passwords(hr, rep):
    client = browser(hr)
    assert client.get(f"/employees/{rep.pk}/password/").status_code == 403
    assert client.post(f"/employees/{rep.pk}/password/", {"password": "Taken-over-2024"}).status_code == 403
    response = api_as(hr).patch(f"/api/v1/employees/{rep.pk}/", {"password": "Taken-over-2024"}, format="json")
    assert response.status_code in (400, 403)
    rep.refresh_from_db()
    assert rep.check_password(PASSWORD)
    assert not AuditEntry.objects.filter(action="password").exists()


def test_set_password_by_an_administrator(admin, rep):
    client = browser(admin)
    response = client.post(f"/employees/{rep.pk}/password/", {"password": "12345678"})
    assert response.status_code == 400
    response = client.post(f"/employees/{rep.pk}/password/", {"password": "Fresh-start-2024"})
    assert response.status_code == 302
    rep.refresh_from_db()
    assert rep.check_password("Fresh-start-2024") and rep.password.startswith("argon2$")
    assert AuditEntry.objects.get(action="password").actor == admin


def test_superusers_are_out_of_reach_of_other_users(hr, admin, admin_role):
    admin_role.members.add(hr)  # even with manage_roles, a superuser is not theirs to change
    client = browser(hr)
    admin.refresh_from_db()
    response = client.post(f"/employees/{admin.pk}/edit/", employee_post(admin, email="hr@evil.example"))
    assert response.status_code == 403
    response = api_as(hr).patch(f"/api/v1/employees/{admin.pk}/", {"email": "hr@evil.example"}, format="json")
    assert response.status_code == 403
    assert client.post(f"/employees/{admin.pk}/password/", {"password": "Taken-over-2024"}).status_code == 403
    admin.refresh_from_db()
    assert admin.email != "hr@evil.example" and admin.check_password(PASSWORD)
