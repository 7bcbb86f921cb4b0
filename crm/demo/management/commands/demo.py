"""`crm demo`: a company with a realistic department tree, a user for every role, and a few
hundred Chinese and English customers and contacts. Running it again changes nothing."""

import random
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from crm.catalog.models import PriceList, PriceListItem, Product, ProductCategory, StockLevel, Warehouse
from crm.core.access.levels import Scope
from crm.core.access.models import Role, RoleGrant
from crm.core.numbering.services import next_number
from crm.core.pinyin import initials
from crm.core.timeline.models import Note
from crm.customers.models import Contact, Customer, CustomerStatus, CustomerType, Level, Source
from crm.demo import data
from crm.demo.compplan_data import make_compplan
from crm.demo.work_data import make_work
from crm.demo.pool_data import make_pools
from crm.demo.sales_data import SALES_SETTINGS, make_sales
from crm.demo.territory_data import make_territories
from crm.org.models import Department, User

PASSWORD = "Demo@2026"
SALES_ENTITIES = ("customers", "contacts", "leads", "opportunities", "opportunity-products")
ORG_ENTITIES = ("departments", "employees", "roles")
SETTINGS_ENTITIES = ("numbering-rules", "dictionary-items") + SALES_SETTINGS
CATALOG_ENTITIES = ("products", "product-categories", "price-lists", "price-list-items", "warehouses", "stock-levels")
CATALOG_VIEW = ("view", "export")

# (name, description, {entities: {action: scope}}, specials)
ALL_ACTIONS = ("view", "create", "edit", "delete", "export", "import", "assign")


def grants(entities, scope, actions=ALL_ACTIONS):
    return {(e, a): scope for e in entities for a in actions}


ROLES = {
    "admin": ("系统管理员", "Everything, including organisation and permissions.",
              {**grants(SALES_ENTITIES, Scope.ALL), **grants(ORG_ENTITIES + SETTINGS_ENTITIES, Scope.ALL),
               **grants(CATALOG_ENTITIES, Scope.ALL)},
              ["reveal_phone", "see_cost", "edit_closed", "manage_pool", "handover", "view_audit", "manage_roles",
               "manage_settings"]),
    "head": ("总经理", "Company head: sees and manages every customer.",
             {**grants(SALES_ENTITIES, Scope.ALL), **grants(ORG_ENTITIES, Scope.ALL, ("view",)),
              **grants(CATALOG_ENTITIES, Scope.ALL, CATALOG_VIEW), **grants(SALES_SETTINGS, Scope.ALL, ("view",))},
             ["reveal_phone", "see_cost", "handover", "view_audit", "manage_pool"]),
    "region": ("大区总监", "Region head: the region's departments and below.",
               {**grants(SALES_ENTITIES, Scope.SUBTREE), **grants(ORG_ENTITIES, Scope.ALL, ("view",)),
                **grants(CATALOG_ENTITIES, Scope.ALL, CATALOG_VIEW), **grants(SALES_SETTINGS, Scope.ALL, ("view",))},
               ["reveal_phone", "see_cost", "manage_pool"]),
    "branch": ("分公司经理", "Branch manager: the branch and its sales teams.",
               {**grants(SALES_ENTITIES, Scope.SUBTREE), **grants(ORG_ENTITIES, Scope.ALL, ("view",)),
                **grants(CATALOG_ENTITIES, Scope.ALL, CATALOG_VIEW), **grants(SALES_SETTINGS, Scope.ALL, ("view",)), **grants(("stock-levels",), Scope.ALL)},
               ["reveal_phone"]),
    "sales": ("销售代表", "Sales rep: own customers and contacts.",
              {**grants(SALES_ENTITIES, Scope.OWN, ("view", "create", "edit", "delete", "export")),
               **grants(ORG_ENTITIES, Scope.ALL, ("view",)), **grants(CATALOG_ENTITIES, Scope.ALL, ("view",)),
               **grants(SALES_SETTINGS, Scope.ALL, ("view",))},
              []),
    "auditor": ("审计员", "Read-only auditor: sees everything, changes nothing; phones stay masked.",
                {**grants(SALES_ENTITIES, Scope.ALL, ("view", "export")), **grants(ORG_ENTITIES, Scope.ALL, ("view",)),
                 **grants(CATALOG_ENTITIES, Scope.ALL, CATALOG_VIEW), **grants(SALES_SETTINGS, Scope.ALL, ("view",))},
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


CATEGORIES = [  # name, code, parent code
    ("硬件设备", "HW", None), ("服务器", "HW-SRV", "HW"), ("网络设备", "HW-NET", "HW"),
    ("软件", "SW", None), ("许可证", "SW-LIC", "SW"), ("订阅", "SW-SUB", "SW"),
    ("服务", "SVC", None), ("实施服务", "SVC-IMP", "SVC"), ("培训", "SVC-TRN", "SVC"),
]

PRODUCTS = [  # category, name, specification, unit, kind, sourcing, list price, cost
    ("HW-SRV", "机架式服务器", "2U 双路 至强银牌 4314 / 128GB / 4×1.2TB", "unit", "goods", "outsourced", "48000", "39500"),
    ("HW-SRV", "机架式服务器", "1U 单路 至强 E-2336 / 32GB / 2×960GB SSD", "unit", "goods", "outsourced", "18500", "14800"),
    ("HW-SRV", "GPU 计算服务器", "4U 8×A800 80GB", "unit", "goods", "outsourced", "1180000", "1020000"),
    ("HW-SRV", "塔式服务器", "单路 至强 E-2314 / 16GB / 2×2TB", "unit", "goods", "outsourced", "9800", "7600"),
    ("HW-SRV", "存储扩展柜", "2U 24 盘位 SAS", "unit", "goods", "outsourced", "26000", "20500"),
    ("HW-SRV", "服务器内存条", "DDR4 3200 64GB RDIMM", "piece", "goods", "outsourced", "2600", "1900"),
    ("HW-NET", "核心交换机", "48×10G SFP+ / 6×100G QSFP28", "unit", "goods", "outsourced", "86000", "69000"),
    ("HW-NET", "接入交换机", "48×千兆电口 / 4×10G SFP+ PoE", "unit", "goods", "outsourced", "6800", "5100"),
    ("HW-NET", "企业级防火墙", "吞吐 20Gbps / 8×千兆电口", "unit", "goods", "consigned", "52000", "43000"),
    ("HW-NET", "无线 AP", "Wi-Fi 6 吸顶式 双频", "unit", "goods", "outsourced", "1580", "1080"),
    ("HW-NET", "无线控制器", "管理 512 个 AP", "unit", "goods", "outsourced", "23000", "17800"),
    ("HW-NET", "光模块", "10G SFP+ 多模 300m", "piece", "goods", "outsourced", "320", "150"),
    ("HW-NET", "超六类网线", "CAT6A 305 米", "box", "goods", "outsourced", "880", "560"),
    ("SW-LIC", "CRM 标准版许可", "每用户 永久授权", "set", "goods", "own", "3600", "300"),
    ("SW-LIC", "CRM 企业版许可", "每用户 永久授权 含工作流", "set", "goods", "own", "6800", "500"),
    ("SW-LIC", "数据库企业版许可", "每 CPU 核心", "set", "goods", "consigned", "42000", "35000"),
    ("SW-LIC", "操作系统服务器版", "每物理服务器 2 路", "set", "goods", "consigned", "5800", "4700"),
    ("SW-LIC", "办公套件", "每用户 永久授权", "set", "goods", "consigned", "1900", "1500"),
    ("SW-SUB", "CRM 云订阅 标准版", "每用户每年", "set", "service", "own", "1200", "180"),
    ("SW-SUB", "CRM 云订阅 企业版", "每用户每年", "set", "service", "own", "2400", "320"),
    ("SW-SUB", "安全防护订阅", "每台每年 病毒库与入侵检测", "set", "service", "consigned", "680", "420"),
    ("SW-SUB", "备份云存储", "每 TB 每年", "set", "service", "outsourced", "1500", "900"),
    ("SVC-IMP", "实施服务", "标准实施 含需求调研与上线", "time", "service", "own", "80000", "52000"),
    ("SVC-IMP", "数据迁移服务", "每百万条记录", "time", "service", "own", "15000", "8000"),
    ("SVC-IMP", "系统集成开发", "按人天计", "hour", "service", "own", "1600", "900"),
    ("SVC-IMP", "现场驻场支持", "按人天计", "hour", "service", "own", "2200", "1300"),
    ("SVC-IMP", "年度维保服务", "5×8 响应 含升级", "time", "service", "own", "18000", "7500"),
    ("SVC-TRN", "管理员培训", "2 天 最多 10 人", "time", "service", "own", "12000", "5000"),
    ("SVC-TRN", "最终用户培训", "1 天 最多 30 人", "time", "service", "own", "6000", "2500"),
    ("SVC-TRN", "在线培训课程", "每人 12 个月", "item", "service", "own", "800", "120"),
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
            self.make_catalog(users["admin"])
            make_work(rng, users)
            make_sales(rng, users)
            make_territories(users)  # SAL-9, LEAD-3
            make_compplan(rng, users)  # competitors and sales plans (COMP-1..2, SAL-11, SAL-7)
            make_pools(rng, users)  # the public pool (CUS-9)
        # The records above were partly bulk-created (no events): build the search index once (UX-1).
        from crm.core.search import rebuild as rebuild_search_index

        rebuild_search_index()
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

    def make_catalog(self, admin):
        """Products (SYS-8): a category tree, products with prices and costs, two price lists,
        two warehouses with stock."""
        cats = {}
        for order, (name, code, parent) in enumerate(CATEGORIES):
            c = ProductCategory.objects.create(name=name, code=code, parent=cats.get(parent), sort_order=order)
            c.after_create(None)
            cats[code] = c
        products = []
        for i, (cat, name, spec, unit, kind, sourcing, price, cost) in enumerate(PRODUCTS, start=1):
            products.append(Product.objects.create(
                code=next_number("products") or f"CP{i:05d}", name=name, mnemonic_code=initials(name)[:30],
                category=cats[cat], specification=spec, unit=unit, kind=kind, sourcing=sourcing,
                list_price=Decimal(price), cost=Decimal(cost), tax_rate=Decimal("0.06" if kind == "service" else "0.13"),
                owner=admin, department=admin.department, created_by=admin, updated_by=admin))
        for name, level, factor in (("战略客户价", "strategic", "0.85"), ("普通客户价", "normal", "0.95")):
            plist = PriceList.objects.create(name=name, customer_level=level, currency="CNY",
                                             valid_from=date(2026, 1, 1), valid_to=date(2026, 12, 31))
            PriceListItem.objects.bulk_create([
                PriceListItem(price_list=plist, product=p, price=(p.list_price * Decimal(factor)).quantize(Decimal("1")))
                for p in products])
        main = Warehouse.objects.create(name="上海中心仓", code="WH-SH", address="上海市浦东新区张江路 88 号")
        dealer = Warehouse.objects.create(name="广州经销商仓", code="WH-GZ-D", address="广州市天河区天河路 208 号",
                                          is_dealer=True)
        rng = random.Random(11)
        StockLevel.objects.bulk_create(
            [StockLevel(warehouse=main, product=p, quantity=rng.randint(0, 120), location=f"A-{n:02d}")
             for n, p in enumerate(products, start=1) if p.kind == "goods"]
            + [StockLevel(warehouse=dealer, product=p, quantity=rng.randint(0, 30))
               for p in products[:8] if p.kind == "goods"])

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
        self.fill_custom_fields(rng, admin, customers)  # SYS-11
        Customer.objects.bulk_update(customers, ["code", "custom"], batch_size=500)
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

    def fill_custom_fields(self, rng, admin, customers):
        """Three custom fields on customers (SYS-11), in a group, one of them a list column."""
        from crm.core.customfields import services as custom_fields

        group = {"group_zh": "市场信息", "group_en": "Market information"}
        regions = [("east", "华东", "East"), ("north", "华北", "North"), ("south", "华南", "South"),
                   ("west", "西部", "West")]
        custom_fields.create(admin, "customers", {
            "key": "sales_region", "type": "choice", "label_zh": "销售大区", "label_en": "Sales region",
            "choices": [{"code": c, "label_zh": zh, "label_en": en} for c, zh, en in regions],
            "show_in_list": True, "order": 10, **group})
        custom_fields.create(admin, "customers", {
            "key": "annual_purchase", "type": "decimal", "label_zh": "年采购额预估", "label_en": "Estimated annual purchase",
            "help_zh": "单位：元", "help_en": "In CNY", "min_value": 0, "order": 20, **group})
        custom_fields.create(admin, "customers", {
            "key": "key_account", "type": "boolean", "label_zh": "重点客户", "label_en": "Key account",
            "order": 30, **group})
        for c in customers:
            c.custom = {"sales_region": rng.choice(regions)[0], "key_account": rng.random() < 0.2}
            if rng.random() < 0.7:
                c.custom["annual_purchase"] = str(rng.randrange(10, 5000) * 1000)

    def print_logins(self):
        self.stdout.write(f"Demo logins (password for all: {PASSWORD}):")
        for username, name, dept, position, role, _code in USERS:
            self.stdout.write(f"  {username:<10} {ROLES[role][0]}  {name} · {position}")

