"""Writing the audit trail. Values are stored as JSON-able raw values; FKs by their display text
(the referenced record may be renamed or deleted later)."""

import datetime
import decimal

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from .models import AuditEntry


def client_ip(request):
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def jsonable(field, obj):
    if isinstance(field, models.ForeignKey):
        related = getattr(obj, field.name)
        return str(related) if related is not None else None
    value = field.value_from_object(obj)
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        return value.astimezone(datetime.timezone.utc).isoformat()  # one zone, so equal moments compare equal
    if isinstance(value, (datetime.date, datetime.datetime, datetime.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, models.fields.files.FieldFile):  # a file: its stored name
        return value.name or None
    return value


def snapshot(obj, field_names) -> dict:
    opts = obj._meta
    return {name: jsonable(opts.get_field(name), obj) for name in field_names}


class Snapshotter:
    """`snapshot()` for many records of one model (bulk writes, imports): the texts of linked
    records (owner, department …) are looked up once per linked record, plain values (text,
    numbers, flags) taken as they are; the same values as `snapshot`, record by record."""

    def __init__(self, model, field_names):
        from django.db import models

        meta = model._meta
        self.fields = [(f, isinstance(f, models.ForeignKey), isinstance(f, models.FileField))
                       for f in (meta.get_field(n) for n in field_names)]
        self.related_texts = {}

    def items(self, obj):
        texts = self.related_texts
        for f, fk, file in self.fields:
            value = getattr(obj, f.attname)
            if fk:
                if value is not None and (f.name, value) not in texts:
                    texts[f.name, value] = jsonable(f, obj)
                yield f.name, None if value is None else texts[f.name, value]
            elif not file and (value is None or type(value) in (str, int, bool)):
                yield f.name, value
            else:
                yield f.name, jsonable(f, obj)


def diff(before: dict, after: dict) -> dict:
    return {k: [before.get(k), after.get(k)] for k in after if before.get(k) != after.get(k)}


def record(actor, action, obj=None, changes=None, extra=None, request=None, ip=None):
    return AuditEntry.objects.create(**entry_kwargs(actor, action, obj, changes, extra, ip or client_ip(request)))


def entry_kwargs(actor, action, obj=None, changes=None, extra=None, ip=None):
    kwargs = dict(actor=actor, action=action, changes=changes or {}, extra=extra or {}, ip=ip)
    if obj is not None:
        kwargs.update(
            content_type=ContentType.objects.get_for_model(obj, for_concrete_model=True),
            object_id=obj.pk,
            object_repr=str(obj)[:200],
        )
    return kwargs


def history(obj, limit=100):
    ct = ContentType.objects.get_for_model(obj)
    return AuditEntry.objects.filter(content_type=ct, object_id=obj.pk).select_related("actor")[:limit]
