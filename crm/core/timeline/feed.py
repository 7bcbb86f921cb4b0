"""The timeline of any record: notes and audit entries merged by time (newest first)."""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.contenttypes.models import ContentType

from ..audit.models import AuditEntry
from .models import Note


@dataclass
class Item:
    kind: str  # "note" or "audit"
    at: datetime
    actor: object
    obj: object


def timeline(obj, limit=50) -> list[Item]:
    ct = ContentType.objects.get_for_model(obj)
    notes = Note.objects.filter(content_type=ct, object_id=obj.pk).select_related("author")[:limit]
    entries = (
        AuditEntry.objects.filter(content_type=ct, object_id=obj.pk)
        .exclude(action=AuditEntry.Action.REVEAL)
        .select_related("actor")[:limit]
    )
    items = [Item("note", n.created_at, n.author, n) for n in notes]
    items += [Item("audit", e.at, e.actor, e) for e in entries]
    items.sort(key=lambda i: i.at, reverse=True)
    return items[:limit]
