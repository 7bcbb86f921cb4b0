"""How one field of one record is shown to one user: in lists, on detail pages, in exports."""

import datetime
import decimal

from django.db import models
from django.template.defaultfilters import date as date_filter
from django.utils import formats, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from ..access.masking import present


# Labels of names that audit entries use but that are no model field ("attachments"), by app.
EXTRA_LABELS = {}


def field_label(model, name):
    if name.startswith(("cf_", "custom.")):  # a custom field (SYS-11)
        from ..customfields.ui import label

        return capfirst(str(label(model.entity_spec, name)))
    try:
        field = model._meta.get_field(name)
        if isinstance(field, models.ForeignObjectRel):  # a reverse relation (an employee's roles) has no verbose_name
            return capfirst(field.related_model._meta.verbose_name_plural)
        return capfirst(field.verbose_name)
    except Exception:
        if name in EXTRA_LABELS:
            return capfirst(str(EXTRA_LABELS[name]))
        # A computed attribute (property) labels itself with `short_description`.
        attr = getattr(model, name, None)
        return capfirst(getattr(getattr(attr, "fget", attr), "short_description", name))


def raw_value(user, spec, obj, name, revealed=False):
    if name in spec.masked_fields or name in spec.protected_fields:
        return present(user, spec, obj, name, revealed)
    try:
        field = spec.model._meta.get_field(name)
    except Exception:
        return getattr(obj, name)  # a computed attribute, e.g. a contact's age
    if field.many_to_many or field.one_to_many:
        return ", ".join(str(x) for x in getattr(obj, name).all())
    if field.choices:
        return getattr(obj, f"get_{name}_display")()
    if hasattr(field, "label_for"):  # a data dictionary field: the item's label
        return field.label_for(getattr(obj, name))
    return getattr(obj, name)


def display(user, spec, obj, name, revealed=False):
    if name.startswith("cf_"):  # a custom field (SYS-11): labels, user names, formatted numbers
        from ..customfields.ui import display as custom_display

        return custom_display(spec, obj, name)
    value = raw_value(user, spec, obj, name, revealed)
    return format_value(value)


def format_value(value):
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, datetime.datetime):
        return date_filter(timezone.localtime(value), "Y-m-d H:i")
    if isinstance(value, datetime.date):
        return date_filter(value, "Y-m-d")
    if isinstance(value, decimal.Decimal):
        from ..dictionary.parameters import param  # amounts: decimal places of SYS-7

        places = param("amount_decimal_places")
        value = value.quantize(decimal.Decimal(1).scaleb(-places), rounding=decimal.ROUND_HALF_UP)  # round, not cut
        return formats.number_format(value, places, use_l10n=True, force_grouping=True)
    if isinstance(value, models.Model):
        return str(value)
    return value


def choice_label(model, name, raw):
    """Label of a stored choice value (for history entries that store raw values)."""
    if name.startswith("custom.") and hasattr(model, "entity_spec"):
        from ..customfields.ui import history_value

        return history_value(model.entity_spec, name, raw)
    try:
        field = model._meta.get_field(name)
    except Exception:
        return raw
    if field.choices and raw is not None:
        return dict(field.flatchoices).get(raw, raw)
    if hasattr(field, "label_for") and isinstance(raw, str):
        return field.label_for(raw)
    if isinstance(raw, bool):
        return _("Yes") if raw else _("No")
    if isinstance(raw, list):
        return ", ".join(str(x) for x in raw)
    if isinstance(raw, str) and isinstance(field, (models.DateTimeField, models.DateField)):
        parsed = parse_datetime(raw) if isinstance(field, models.DateTimeField) else parse_date(raw)
        return format_value(parsed) if parsed else raw
    return raw
