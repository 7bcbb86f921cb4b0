"""Demo territories (SAL-9) and lead scoring rules (LEAD-3): a region tree (华东 → 上海/江苏/浙江,
华南 → 广东, 华北 → 北京) plus an industry territory, the demo reps as members, a few scoring rules;
then every customer and lead is matched and scored (the demo bulk-creates them). Idempotent."""

from crm.core.access.levels import Scope
from crm.core.access.models import Role, RoleGrant
from crm.org.models import Territory, TerritoryMember
from crm.org.territories import reterritory
from crm.sales.models import LeadScoringRule
from crm.sales.scoring import rescore_all

TERRITORY_ENTITIES = ("territories", "territory-members", "lead-scoring-rules")

TERRITORIES = [  # code, name, parent code, regions, industries, levels, manager, members
    ("EAST", "华东", None, "上海,江苏,浙江", "", "", "east", []),
    ("EAST-SH", "上海", "EAST", "上海", "", "", "shmgr", ["zhangwei", "lina", "wangfang"]),
    ("EAST-JS", "江苏", "EAST", "江苏", "", "", None, ["lina"]),
    ("EAST-ZJ", "浙江", "EAST", "浙江", "", "", None, ["zhaolei"]),
    ("SOUTH", "华南", None, "广东", "", "", "south", []),
    ("SOUTH-GD", "广东", "SOUTH", "广东", "", "", None, ["zhoujie", "emma"]),
    ("NORTH", "华北", None, "北京,天津,河北", "", "", None, ["sunyang"]),
    ("IND-MFG", "制造业大客户", None, "", "manufacturing,energy", "strategic,important", "ceo", ["emma"]),
]

SCORING_RULES = [  # name, kind, field, value, points, days, cap
    ("来源：展会", "equals", "source", "exhibition", 30, 30, None),
    ("来源：转介绍", "equals", "source", "referral", 25, 30, None),
    ("来源：官网表单", "equals", "source", "web_form", 15, 30, None),
    ("行业：制造业", "equals", "industry", "manufacturing", 10, 30, None),
    ("留有邮箱", "filled", "email", "", 5, 30, None),
    ("留有手机", "filled", "mobile", "", 10, 30, None),
    ("有公司名称", "filled", "company", "", 15, 30, None),
    ("已确认有效", "equals", "status", "qualified", 30, 30, None),
    ("近 30 天每次跟进", "activities", "", "", 5, 30, 20),
]


def make_territories(users):
    _grant_roles()
    by_code = {}
    for code, name, parent, regions, industries, levels, manager, members in TERRITORIES:
        t = Territory.objects.filter(code=code).first()
        if t is None:
            t = Territory.objects.create(name=name, code=code, parent=by_code.get(parent), regions=regions,
                                         industries=industries, levels=levels, sort_order=len(by_code))
            _place(t)
        by_code[code] = t
        if manager:
            TerritoryMember.objects.get_or_create(territory=t, user=users[manager], defaults={"role": "manager"})
        for username in members:
            TerritoryMember.objects.get_or_create(territory=t, user=users[username], defaults={"role": "member"})
    for i, (name, kind, field, value, points, days, cap) in enumerate(SCORING_RULES):
        LeadScoringRule.objects.get_or_create(name=name, defaults={
            "kind": kind, "field": field, "value": value, "points": points, "days": days, "cap": cap,
            "sort_order": i})
    reterritory()
    rescore_all()


def _place(territory):
    """The tree path, as the write services' hook sets it (without enqueueing a job per node)."""
    path, depth = territory.compute_path()
    Territory.objects.filter(pk=territory.pk).update(path=path, depth=depth)
    territory.path, territory.depth = path, depth


def _grant_roles():
    """Everyone sees the territories (pickers, the tree); the administrator role manages them."""
    for role in Role.objects.all():
        manage = RoleGrant.objects.filter(role=role, entity="roles", action="edit").exists()
        actions = ("view", "create", "edit", "delete", "export") if manage else ("view",)
        for entity in TERRITORY_ENTITIES:
            for action in actions:
                RoleGrant.objects.get_or_create(role=role, entity=entity, action=action,
                                                defaults={"scope": Scope.ALL})
