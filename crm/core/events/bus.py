"""Domain events (DESIGN.md mechanism 10, first part): persisted in the writer's transaction,
dispatched to in-process subscribers after commit."""

import logging
from collections import defaultdict

from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from .models import EventRecord

log = logging.getLogger(__name__)
_subscribers = defaultdict(list)


def subscribe(name):
    def deco(fn):
        _subscribers[name].append(fn)
        return fn

    return deco


def emit(name, obj=None, actor=None, payload=None):
    event = EventRecord.objects.create(
        name=name,
        content_type=ContentType.objects.get_for_model(obj) if obj is not None else None,
        object_id=obj.pk if obj is not None else None,
        payload=payload or {},
        actor=actor if actor is not None and actor.is_authenticated else None,
    )
    transaction.on_commit(lambda: _dispatch(event))
    return event


def _dispatch(event):
    for fn in _subscribers.get(event.name, []) + _subscribers.get("*", []):
        try:
            fn(event)
        except Exception:  # one failing subscriber must not break the others or the request
            log.exception("event subscriber %r failed on %s", fn, event.name)
