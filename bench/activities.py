"""Follow-ups (ACT-1) for the benchmark: five activities per customer on average (5 000 000 at
"large", DESIGN.md's data set), linked to the customer, owned like it, spread between its creation
and now; the customer's "last follow-up" is its latest activity, as the product keeps it."""

import random
from datetime import timedelta

from django.contrib.contenttypes.models import ContentType

from crm.activities.models import Activity
from crm.customers.models import Customer

from .sales import C_CREATED, C_DELETED, C_DEPT, C_ID, C_OWNER

ACTIVITIES_PER_CUSTOMER = 5  # on average: 0-10, uniform
MODELS = [Activity]
KINDS = ["call", "call", "call", "visit", "meeting", "email", "note", "todo"]  # codes of the seeded "activity_type"
SUBJECTS = {
    "call": ["电话回访", "确认采购需求", "跟进报价", "Follow-up call"], "visit": ["上门拜访", "现场演示", "Site visit"],
    "meeting": ["方案交流会", "商务谈判", "Kick-off meeting"], "email": ["发送产品资料", "Sent the proposal"],
    "note": ["客户情况备忘", "Internal note"], "todo": ["准备合同草稿", "Prepare the quote"],
}
OUTCOMES = ["客户有意向，下周再联系。", "对价格比较敏感，需要申请折扣。", "已发送资料，等待反馈。", "决策人出差，改期拜访。",
            "Interested, asked for references.", ""]
NEXT_STEPS = ["发送报价单", "安排技术交流", "约见采购负责人", "Send the contract draft", ""]

ACTIVITY_FIELDS = ("id", "created_at", "updated_at", "created_by", "updated_by", "version", "owner", "department",
                   "custom", "deleted_at", "record_type", "record_id", "kind", "subject", "occurred_at",
                   "duration_minutes", "outcome", "next_step")
# The position of `last_activity_at` in the customer tuple (bench/generator.py CUSTOMER_FIELDS).
C_LAST_ACTIVITY = -1


class ActivityWriter:
    def __init__(self, now, seed):
        self.now, self.seed = now, seed
        self.customer_ct = ContentType.objects.get_for_model(Customer).pk

    def rows(self, index, customers, next_ids):
        """The chunk's activities; sets each customer's last follow-up in `customers` (in place)."""
        rng = random.Random(f"{self.seed}:activities:{index}")
        now, ct = self.now, self.customer_ct
        rows, act_id = [], next_ids["activities"]
        for n, c in enumerate(customers):
            created, owner, deleted = c[C_CREATED], c[C_OWNER], c[C_DELETED]
            span = max(int((now - created).total_seconds()), 1)
            latest = None
            for _ in range(rng.randrange(2 * ACTIVITIES_PER_CUSTOMER + 1)):
                at = created + timedelta(seconds=rng.randrange(span))
                latest = at if latest is None or at > latest else latest
                kind = rng.choice(KINDS)
                rows.append((act_id, at, at, owner, owner, 1, owner, c[C_DEPT], "{}", deleted, ct, c[C_ID], kind,
                             rng.choice(SUBJECTS[kind]), at, rng.choice((0, 5, 15, 30, 60, 90)), rng.choice(OUTCOMES),
                             rng.choice(NEXT_STEPS)))
                act_id += 1
            if latest is not None:
                customers[n] = c[:C_LAST_ACTIVITY] + (latest,)
        next_ids["activities"] = act_id
        return {Activity: rows}


def layouts(columns_of):
    return {Activity: columns_of(Activity, ACTIVITY_FIELDS)}


def first_ids():
    return {"activities": (Activity.all_objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1}
