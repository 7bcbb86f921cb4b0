"""The registry-generated test kit: what generic tests need to know about one entity.

Each registration names a `TestData` class in `EntitySpec.testing` ("module:Class"). It
subclasses `EntityTestData` and usually writes only `make()` and `create_payload()`:

    make(owner, department)  -> a saved record, written directly (no service, no audit)
    create_payload(ctx)      -> a dict valid for both the UI form POST and the API POST
    edit_payload(obj)        -> a dict changing one field that the detail page shows
    subject(owner, dept)     -> the record the scope predicate attributes to owner/department
    form_post(user, obj, payload) -> complete form POST data: the form's values plus payload

`tests/test_entity_kit.py` and `tests/test_scope_matrix.py` run over `all_specs()`, so a new
entity is covered by its registration and its TestData alone.
"""

import datetime
import itertools
from dataclasses import dataclass
from importlib import import_module

from django.db import models

from ..entities.registry import get_spec

_counter = itertools.count(1)


def unique(prefix="kit"):
    """A short text no other test record contains (for search and lookups)."""
    return f"{prefix}{next(_counter):05d}q"


@dataclass
class Ctx:
    """Who creates the record, and the organisation tree from `make_tree()`."""

    user: object
    depts: dict


class EntityTestData:
    lookup_field = "name"  # the payload field that identifies a created record

    def __init__(self, spec):
        self.spec = spec
        self.model = spec.model

    # --- to override ---------------------------------------------------------------------
    def make(self, owner, department, **fields):
        raise NotImplementedError

    def create_payload(self, ctx) -> dict:
        raise NotImplementedError

    def edit_payload(self, obj) -> dict:
        return {"name": f"{obj.name} edited"}

    def subject(self, owner, department):
        """For the scope matrix: the record "owned" by `owner` in `department`."""
        return self.make(owner, department)

    def search_text(self, obj) -> str:
        return getattr(obj, self.lookup_field)

    # --- derived -------------------------------------------------------------------------
    def created(self, payload):
        """The record a create with `payload` produced."""
        return self.model._base_manager.get(**{self.lookup_field: payload[self.lookup_field]})

    def form_data(self, payload) -> dict:
        """API-style values as an HTML form posts them."""
        data = {}
        for name, value in payload.items():
            if name == "tags":
                value = ", ".join(value)
            if value is None:
                value = ""
            if value is False:
                continue  # an unticked checkbox is absent
            data[name] = "on" if value is True else value
        return data

    def form_post(self, user, obj=None, payload=None) -> dict:
        """What a browser posts: the form as rendered for `user` (new, or editing `obj`) with
        `payload` typed over it."""
        from ..ui.forms import form_class

        form = form_class(self.spec)(instance=obj, user=user, spec=self.spec)
        data = {}
        for name, field in form.fields.items():
            value = posted_value(field, form[name].value())
            if value is not None:
                data[name] = value
        data.update(self.form_data(payload or {}))
        return data


def posted_value(field, value):
    """A field's initial value as the browser posts it back (None: the key is absent)."""
    value = field.prepare_value(value)  # model instances -> pks, tags -> "a, b", local time
    if isinstance(value, (datetime.date, datetime.time)) and hasattr(field.widget, "format_value"):
        return field.widget.format_value(value)
    if value is None:
        return None if getattr(field.widget, "allow_multiple_selected", False) else ""
    if value is False:
        return None
    if value is True:
        return "on"
    if isinstance(value, (list, tuple)):
        return [v.pk if isinstance(v, models.Model) else v for v in value]
    return value


def kit_for(spec_or_key) -> EntityTestData:
    spec = get_spec(spec_or_key) if not hasattr(spec_or_key, "key") else spec_or_key
    if not spec.testing:
        raise LookupError(f"{spec.key}: EntitySpec.testing names no TestData class")
    module, cls = spec.testing.split(":")
    return getattr(import_module(module), cls)(spec)
