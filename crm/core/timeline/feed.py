"""The timeline of any record: notes and audit entries merged by time (newest first)."""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.contenttypes.models import ContentType

from ..audit.models import AuditEntry
from .models import Note


@dataclass
class Item:
    kind: str  # "note", "audit", or the kind of a registered source ("activity")
    at: datetime
    actor: object
    obj: object
    title: str = ""  # items of registered sources: a headline, linked to `url`, and a body text
    url: str = ""
    body: str = ""
    icon: str = ""


# Apps add their records to every timeline without the kernel importing them: a source is
# `fn(obj, user, limit) -> list[Item]` and must read through the scope predicate for `user`.
_sources = []


def register_source(fn):
    if fn not in _sources:
        _sources.append(fn)
    return fn


def timeline(obj, limit=50, user=None) -> list[Item]:
    ct = ContentType.objects.get_for_model(obj)
    notes = Note.objects.filter(content_type=ct, object_id=obj.pk).select_related("author")[:limit]
    entries = (
        AuditEntry.objects.filter(content_type=ct, object_id=obj.pk)
        .exclude(action=AuditEntry.Action.REVEAL)
        .select_related("actor")[:limit]
    )
    items = [Item("note", n.created_at, n.author, n) for n in notes]
    items += [Item("audit", e.at, e.actor, e) for e in entries]
    if user is not None:
        for source in _sources:
            items += source(obj, user, limit)
    items.sort(key=lambda i: i.at, reverse=True)
    return items[:limit]
