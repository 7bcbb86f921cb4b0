"""Activities on the timeline of the record they are about (and of the contacts met), through
the kernel's timeline source registry; read through the scope predicate."""

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.urls import reverse

from crm.core.access.scope import can
from crm.core.timeline.feed import Item, register_source

from .models import Activity

ICONS = {"call": "telephone", "visit": "geo-alt", "meeting": "people", "email": "envelope", "wechat": "chat-dots",
         "note": "sticky", "todo": "check2-square", "return_visit": "arrow-repeat"}


@register_source
def activity_items(obj, user, limit):
    if isinstance(obj, Activity) or not can(user, "activities", "view"):
        return []
    ct = ContentType.objects.get_for_model(obj)
    cond = Q(record_type=ct, record_id=obj.pk)
    if type(obj) is Activity._meta.get_field("contacts").related_model:
        cond |= Q(pk__in=Activity.contacts.through.objects.filter(contact_id=obj.pk).values("activity_id"))
    rows = Activity.objects.for_user(user).filter(cond).select_related("owner").order_by("-occurred_at", "-pk")[:limit]
    kind_field = Activity._meta.get_field("kind")
    items = []
    for a in rows:
        body = "\n".join(x for x in (a.outcome, a.next_step and f"→ {a.next_step}") if x)
        items.append(Item("activity", a.occurred_at, a.owner, a, title=f"{kind_field.label_for(a.kind)} · {a.subject}",
                          url=reverse("activities-detail", kwargs={"pk": a.pk}), body=body,
                          icon=ICONS.get(a.kind, "chat-left-text")))
    return items
