"""`crm demo`: a company with a realistic department tree, a user for every role, and a few
hundred Chinese and English customers and contacts. Running it again changes nothing."""

import random
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from crm.core.access.levels import Scope
from crm.core.access.models import Role, RoleGrant
from crm.core.entities.registry import all_specs
from crm.core.numbering.services import next_number
from crm.core.timeline.models import Note
from crm.customers.models import Contact, Customer, CustomerStatus, CustomerType, Level, Source
from crm.demo import data
from crm.org.models import Department, User

PASSWORD = "Demo@2026"
SALES_ENTITIES = ("customers", "contacts")
ORG_ENTITIES = ("departments", "employees", "roles")
SETTINGS_ENTITIES = ("numbering-rules", "dictionary-items")

# (name, description, {entities: {action: scope}}, specials)
ALL_ACTIONS = ("view", "create", "edit", "delete", "export", "import", "assign")


def grants(entities, scope, actions=ALL_ACTIONS):
    return {(e, a): scope for e in entities for a in actions}


ROLES = {
    "admin": ("系统管理员", "Everything, including organisation and permissions.",
              {**grants(SALES_ENTITIES, Scope.ALL), **grants(ORG_ENTITIES + SETTINGS_ENTITIES, Scope.ALL)},
              ["reveal_phone", "see_cost", "edit_closed", "manage_pool", "handover", "view_audit", "manage_roles",
               "manage_settings"]),
    "head": ("总经理", "Company head: sees and manages every customer.",
             {**grants(SALES_ENTITIES, Scope.ALL), **grants(ORG_ENTITIES, Scope.ALL, ("view",))},
             ["reveal_phone", "see_cost", "handover", "view_audit", "manage_pool"]),
    "region": ("大区总监", "Region head: the region's departments and below.",
               {**grants(SALES_ENTITIES, Scope.SUBTREE), **grants(ORG_ENTITIES, Scope.ALL, ("view",))},
               ["reveal_phone", "see_cost", "manage_pool"]),
    "branch": ("分公司经理", "Branch manager: the branch and its sales teams.",
               {**grants(SALES_ENTITIES, Scope.SUBTREE), **grants(ORG_ENTITIES, Scope.ALL, ("view",))},
               ["reveal_phone"]),
    "sales": ("销售代表", "Sales rep: own customers and contacts.",
              {**grants(SALES_ENTITIES, Scope.OWN, ("view", "create", "edit", "delete", "export")),
               **grants(ORG_ENTITIES, Scope.ALL, ("view",))},
              []),
    "auditor": ("审计员", "Read-only auditor: sees everything, changes nothing; phones stay masked.",
                {**grants(SALES_ENTITIES, Scope.ALL, ("view", "export")), **grants(ORG_ENTITIES, Scope.ALL, ("view",))},
                ["view_audit"]),
}

TREE = [  # (key, name, code, parent key)
    ("hq", "总部", "HQ", None),
    ("east", "华东大区", "E", "hq"),
    ("sh", "上海分公司", "E-SH", "east"),
    ("sh1", "销售一部", "E-SH-1", "sh"),
    ("sh2", "销售二部", "E-SH-2", "sh"),
    ("hz", "杭州分公司", "E-HZ", "east"),
    ("hz1", "销售部", "E-HZ-1", "hz"),
    ("south", "华南大区", "S", "hq"),
    ("gz", "广州分公司", "S-GZ", "south"),
    ("gz1", "销售一部", "S-GZ-1", "gz"),
    ("sz", "深圳分公司", "S-SZ", "south"),
    ("sz1", "销售部", "S-SZ-1", "sz"),
    ("north", "华北大区", "N", "hq"),
    ("bj", "北京分公司", "N-BJ", "north"),
    ("bj1", "销售部", "N-BJ-1", "bj"),
    ("fin", "财务部", "HQ-FIN", "hq"),
    ("svc", "客服中心", "HQ-SVC", "hq"),
]

USERS = [  # username, name, dept, position, role, code
    ("admin", "系统管理员", "hq", "IT管理员", "admin", "E0001"),
    ("ceo", "王建国", "hq", "总经理", "head", "E0002"),
    ("east", "陈志强", "east", "华东大区总监", "region", "E0003"),
    ("south", "黄丽华", "south", "华南大区总监", "region", "E0004"),
    ("shmgr", "刘海燕", "sh", "上海分公司经理", "branch", "E0005"),
    ("zhangwei", "张伟", "sh1", "销售代表", "sales", "E0006"),
    ("lina", "李娜", "sh1", "销售代表", "sales", "E0007"),
    ("wangfang", "王芳", "sh2", "销售代表", "sales", "E0008"),
    ("zhaolei", "赵磊", "hz1", "销售代表", "sales", "E0009"),
    ("zhoujie", "周杰", "gz1", "销售代表", "sales", "E0010"),
    ("emma", "Emma Wilson", "sz1", "Key Account Manager", "sales", "E0011"),
    ("sunyang", "孙洋", "bj1", "销售代表", "sales", "E0012"),
    ("auditor", "吴静", "fin", "审计专员", "auditor", "E0013"),
]


class Command(BaseCommand):
    help = "Load demo data: department tree, users for every role, customers and contacts."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=300)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--quiet", action="store_true")

    def handle(self, *args, customers, seed, quiet, **options):
        if User.objects.filter(username="admin").exists():
            if not quiet:
                self.stdout.write("Demo data is already loaded.")
                self.print_logins()
            return
        rng = random.Random(seed)
        with transaction.atomic():
            depts = self.make_tree()
            users = self.make_users(depts)
            self.make_customers(rng, users, customers)
        if not quiet:
            self.print_logins()

    def make_tree(self):
        depts = {}
        for key, name, code, parent in TREE:
            d = Department.objects.create(name=name, code=code, parent=depts.get(parent), sort_order=len(depts))
            d.after_create(None)
            depts[key] = d
        return depts

    def make_users(self, depts):
        roles = {}
        for key, (name, desc, cells, specials) in ROLES.items():
            role = Role.objects.create(name=name, description=desc, special_permissions=specials)
            RoleGrant.objects.bulk_create([RoleGrant(role=role, entity=e, action=a, scope=s) for (e, a), s in cells.items()])
            roles[key] = role
        users = {}
        rng = random.Random(7)
        for username, name, dept, position, role, code in USERS:
            u = User(username=username, name=name, department=depts[dept], position=position, code=code,
                     email=f"{username}@demo.example.com", mobile=data.mobile(rng), is_superuser=username == "admin",
                     is_staff=username == "admin")
            u.set_password(PASSWORD)
            u.save()
            u.roles.add(roles[role])
            users[username] = u
        for d_key, mgr in (("hq", "ceo"), ("east", "east"), ("south", "south"), ("sh", "shmgr")):
            Department.objects.filter(pk=depts[d_key].pk).update(manager=users[mgr])
        for sub, mgr in (("zhangwei", "shmgr"), ("lina", "shmgr"), ("wangfang", "shmgr"), ("shmgr", "east"),
                         ("zhaolei", "east"), ("east", "ceo"), ("south", "ceo"), ("zhoujie", "south"), ("emma", "south")):
            User.objects.filter(pk=users[sub].pk).update(manager=users[mgr])
        return users

    def make_customers(self, rng, users, count):
        reps = [u for u in users.values() if u.roles.filter(name="销售代表").exists()]
        reps += [users["shmgr"], users["east"]]
        admin = users["admin"]
        now = timezone.now()
        seen, rows = set(), []
        while len(rows) < count:
            info = data.english_company(rng) if rng.random() < 0.2 else data.chinese_company(rng)
            if info["name"] in seen:
                continue
            seen.add(info["name"])
            owner = rng.choice(reps)
            created = now - timedelta(days=rng.randrange(0, 720), minutes=rng.randrange(0, 1440))
            rows.append(Customer(
                **info, owner=owner, department_id=owner.department_id,
                customer_type=CustomerType.COMPANY if rng.random() < 0.9 else CustomerType.DEALER,
                level=rng.choice(Level.values), status=rng.choice(CustomerStatus.values),
                source=rng.choice(Source.values), credit_rating=rng.choice(["AAA", "AA", "A", "B", ""]),
                credit_limit=Decimal(rng.choice([0, 50000, 100000, 200000, 500000, 1000000])),
                credit_code=data.credit_code(rng) if "有限公司" in info["name"] else "",
                registered_at=created, created_at=created, updated_at=created + timedelta(days=rng.randrange(0, 30)),
                created_by=admin, updated_by=admin,
            ))
        for c in rows:
            c.full_clean(exclude=["parent"])
        Customer.objects.bulk_create(rows, batch_size=500)
        customers = list(Customer.objects.order_by("pk"))
        for c in sorted(customers, key=lambda c: c.registered_at):  # numbered by the rule, as a form would (SYS-5)
            c.code = next_number("customers", today=c.registered_at.date()) or f"C{c.pk:07d}"
        Customer.objects.bulk_update(customers, ["code"], batch_size=500)
        # A few groups: subsidiaries under a parent company (CUS-4).
        for parent in customers[:10]:
            kids = rng.sample(customers[10:], 3)
            Customer.objects.filter(pk__in=[k.pk for k in kids], parent__isnull=True).update(parent=parent)
        contacts = []
        for c in customers:
            english = not any("\u4e00" <= ch <= "\u9fff" for ch in c.name)
            n = rng.randrange(1, 4)
            for i in range(n):
                contacts.append(Contact(
                    customer=c, owner_id=c.owner_id, department_id=c.department_id,
                    name=data.english_person(rng) if english else data.chinese_person(rng),
                    gender=rng.choice(["m", "f"]), title=rng.choice(data.EN_TITLES if english else data.TITLES),
                    dept=rng.choice(data.DEPTS) if not english else "",
                    birthday=date(rng.randrange(1965, 1998), rng.randrange(1, 13), rng.randrange(1, 29)) if rng.random() < 0.6 else None,
                    mobile=data.mobile(rng), office_phone=c.phone if rng.random() < 0.5 else "",
                    email=f"contact{c.pk}.{i}@{'example.com' if english else 'example.cn'}",
                    is_primary=i == 0, hobbies=rng.choice(["", "高尔夫", "羽毛球", "茶道", "摄影", "跑步"]) if not english else "",
                    created_at=c.created_at, updated_at=c.updated_at, created_by=admin, updated_by=admin,
                ))
        Contact.objects.bulk_create(contacts, batch_size=1000)
        # Reporting lines: everyone reports to the customer's primary contact.
        primaries = dict(Contact.objects.filter(is_primary=True).values_list("customer_id", "pk"))
        for customer_id, boss in primaries.items():
            Contact.objects.filter(customer_id=customer_id, is_primary=False).update(reports_to_id=boss)
        ct = ContentType.objects.get_for_model(Customer)
        Note.objects.bulk_create([
            Note(content_type=ct, object_id=c.pk, author_id=c.owner_id, created_at=c.updated_at,
                 body=rng.choice(["电话沟通了采购计划，下月初再跟进。", "拜访客户，演示了产品，客户对价格比较敏感。",
                                  "Sent the proposal; waiting for their feedback.", "客户要求提供报价单和案例材料。"]))
            for c in customers[:150]
        ])

    def print_logins(self):
        self.stdout.write(f"Demo logins (password for all: {PASSWORD}):")
        for username, name, dept, position, role, _code in USERS:
            self.stdout.write(f"  {username:<10} {ROLES[role][0]}  {name} · {position}")


__all__ = ["all_specs"]
