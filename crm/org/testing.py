"""Test data for the generated test kit (see crm/core/testing/kit.py)."""

from crm.core.access.models import Role
from crm.core.testing.kit import EntityTestData, unique

from .models import Department, Territory, TerritoryMember, User


class DepartmentTestData(EntityTestData):
    def make(self, owner, department, **fields):
        fields.setdefault("name", unique("dept"))
        obj = Department.objects.create(parent=department, **fields)
        obj.after_create(None)
        return obj

    def subject(self, owner, department):
        return department  # a department's scope is the department itself (department_field "id")

    def create_payload(self, ctx):
        return {"name": unique("dept"), "code": unique("D"), "parent": ctx.depts["sales1"].pk}


class EmployeeTestData(EntityTestData):
    lookup_field = "username"

    def make(self, owner, department, **fields):
        fields.setdefault("username", unique("emp"))
        fields.setdefault("name", fields["username"].title())
        user = User(department=department, **fields)
        user.set_unusable_password()
        user.save()
        return user

    def subject(self, owner, department):
        return owner  # an employee "owns" themself (owner_field "id")

    def create_payload(self, ctx):
        username = unique("emp")
        return {"username": username, "name": username.title(), "department": ctx.depts["sales1"].pk,
                "password": "Kit-pass-2024!", "position": "Sales"}

    def search_text(self, obj):
        return obj.username


class RoleTestData(EntityTestData):
    def make(self, owner, department, **fields):
        fields.setdefault("name", unique("role"))
        return Role.objects.create(**fields)

    def create_payload(self, ctx):
        return {"name": unique("role"), "description": "Made by the test kit"}


def make_territory(**fields):
    fields.setdefault("name", unique("territory"))
    fields.setdefault("code", unique("T"))
    obj = Territory.objects.create(**fields)
    path, depth = obj.compute_path()
    Territory.objects.filter(pk=obj.pk).update(path=path, depth=depth)
    obj.path, obj.depth = path, depth
    return obj


class TerritoryTestData(EntityTestData):
    def make(self, owner, department, **fields):
        return make_territory(**fields)

    def create_payload(self, ctx):
        return {"name": unique("territory"), "code": unique("T"), "regions": "上海"}


class TerritoryMemberTestData(EntityTestData):
    lookup_field = "territory"

    def edit_payload(self, obj):
        return {"remark": f"remark of {obj.pk} edited"}

    def make(self, owner, department, **fields):
        fields.setdefault("territory", make_territory())
        fields.setdefault("user", owner)
        return TerritoryMember.objects.create(**fields)

    def create_payload(self, ctx):
        territory = make_territory()
        return {"territory": territory.pk, "user": ctx.user.pk, "role": "member"}
