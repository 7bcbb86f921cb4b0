"""Demo work and time (ACT-1..3): follow-ups on customers, tasks (some shared by two people, some
overdue) and appointments in the coming two weeks, and the rights to see them."""

from datetime import datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from crm.activities.models import Activity, Appointment, Task, TaskAssignment, touch_last_activity
from crm.core.access.levels import Scope
from crm.core.access.models import Role, RoleGrant
from crm.core.entities.registry import ACTIONS
from crm.customers.models import Customer

WORK = ("activities", "tasks", "appointments")
SUBJECTS = [("call", "电话沟通报价", "客户希望下周拿到正式报价"), ("visit", "上门拜访采购部", "了解了明年的采购计划"),
            ("meeting", "方案评审会", "技术方案通过，等商务谈判"), ("email", "发送产品资料", "已发送目录和价格表"),
            ("wechat", "微信跟进样品反馈", "样品测试良好"), ("return_visit", "售后回访", "客户对交付满意")]
TASKS = ["准备报价单", "安排样品寄送", "整理客户需求", "跟进合同盖章", "催收预付款", "准备演示环境"]
APPOINTMENTS = [("拜访客户", "客户办公室"), ("产品演示", "会议室 A"), ("电话会议", "线上"), ("商务谈判", "客户总部")]


def grant_work_rights():
    """Every demo role gets the work entities at the scope it has on customers; team calendars and
    team tasks need at least the own department to be seen."""
    rows = []
    for role in Role.objects.all():
        scopes = dict(RoleGrant.objects.filter(role=role, entity="customers").values_list("action", "scope"))
        if not scopes:
            continue
        for entity in WORK:
            for action in ACTIONS:
                scope = scopes.get(action, Scope.NONE)
                if action == "view" and entity != "activities":
                    scope = max(scope, Scope.DEPARTMENT)
                if action in ("create", "edit") and scope == Scope.NONE:
                    scope = Scope.OWN
                if scope:
                    rows.append(RoleGrant(role=role, entity=entity, action=action, scope=scope))
    RoleGrant.objects.bulk_create(rows, ignore_conflicts=True)


def make_work(rng, users, customers_per_user=8):
    grant_work_rights()
    now = timezone.now()
    today = timezone.localdate()
    ct = ContentType.objects.get_for_model(Customer)
    people = [u for u in users.values() if not u.is_superuser]
    for user in people:
        colleagues = [p for p in people if p.department_id == user.department_id and p.pk != user.pk]
        mine = list(Customer.objects.filter(owner=user).order_by("pk")[:customers_per_user])
        for i, customer in enumerate(mine):
            for n in range(rng.randint(1, 3)):
                kind, subject, outcome = rng.choice(SUBJECTS)
                at = now - timedelta(days=rng.randint(0, 60), hours=rng.randint(0, 8))
                Activity.objects.create(owner=user, department_id=user.department_id, created_by=user, kind=kind,
                                        subject=subject, outcome=outcome, occurred_at=at, record_type=ct,
                                        record_id=customer.pk, duration_minutes=rng.choice([10, 20, 30, 60]),
                                        next_step=rng.choice(["", "发送合同草稿", "约下次拜访"]))
                touch_last_activity(Customer, [customer.pk], at)
            if i < 4:
                due = now + timedelta(days=rng.randint(-3, 10), hours=rng.randint(0, 6))
                task = Task.objects.create(owner=user, department_id=user.department_id, created_by=user,
                                           title=f"{rng.choice(TASKS)} · {customer.name}", due_at=due,
                                           priority=rng.choice(["normal", "high", "urgent", "low"]),
                                           record_type=ct, record_id=customer.pk)
                TaskAssignment.objects.create(task=task, user=user, notified_at=now)
                if colleagues and i == 0:
                    TaskAssignment.objects.create(task=task, user=rng.choice(colleagues), notified_at=now)
            if i < 3:
                title, place = rng.choice(APPOINTMENTS)
                day = today + timedelta(days=rng.randint(0, 13))
                start = timezone.make_aware(datetime(day.year, day.month, day.day, rng.choice([9, 10, 14, 15, 16])))
                appt = Appointment.objects.create(owner=user, department_id=user.department_id, created_by=user,
                                                  title=f"{title} · {customer.name}", location=place, start_at=start,
                                                  end_at=start + timedelta(hours=1), record_type=ct,
                                                  record_id=customer.pk)
                if colleagues and i == 0:
                    appt.invitees.add(rng.choice(colleagues))
        monday = today - timedelta(days=today.weekday())
        start = timezone.make_aware(datetime(monday.year, monday.month, monday.day, 9))
        weekly = Appointment.objects.create(owner=user, department_id=user.department_id, created_by=user,
                                            title="周例会", location="会议室 B", start_at=start,
                                            end_at=start + timedelta(hours=1), repeat="WEEKLY", repeat_count=12)
        # One occurrence moved to Tuesday afternoon (RECURRENCE-ID), one cancelled (EXDATE) (ACT-2).
        third, fifth = start + timedelta(weeks=2), start + timedelta(weeks=4)
        moved = third + timedelta(days=1, hours=5)
        weekly.exdates = [Appointment.exdate_key(third), Appointment.exdate_key(fifth)]
        weekly.save(update_fields=["exdates"])
        Appointment.objects.create(owner=user, department_id=user.department_id, created_by=user,
                                   title="周例会（改期）", location="会议室 B", start_at=moved,
                                   end_at=moved + timedelta(hours=1), series=weekly, recurrence_id=third)
