"""System parameters (系统参数, SYS-7): a typed registry in code, overrides stored in the database.

    from crm.core.dictionary.parameters import param
    days = param("receivable_reminder_days")

Each parameter has a key, a type (int, decimal, bool, str, email, choice), a default, a label, a
help text and its bounds. `param()` returns the stored value or the default, cached per process
under the "parameters" version (`crm.core.versions`) like the data dictionary. Apps add their own with `register_parameter(Parameter(...))`.
"""

import decimal
from dataclasses import dataclass, field

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .. import versions

TYPES = ("int", "decimal", "bool", "str", "email", "choice")


@dataclass
class Parameter:
    key: str
    type: str
    default: object
    label: object
    help: object = ""
    min: object = None
    max: object = None
    choices: list = field(default_factory=list)  # for "choice": [(value, label)]
    group: object = ""

    def form_field(self):
        common = {"label": self.label, "help_text": self.help, "initial": self.default}
        if self.type == "int":
            return forms.IntegerField(min_value=self.min, max_value=self.max, **common)
        if self.type == "decimal":
            return forms.DecimalField(min_value=self.min, max_value=self.max, max_digits=12, decimal_places=6, **common)
        if self.type == "bool":
            return forms.BooleanField(required=False, **common)
        if self.type == "email":
            return forms.EmailField(required=False, **common)
        if self.type == "choice":
            return forms.ChoiceField(choices=self.choices, **common)
        return forms.CharField(required=False, max_length=200, **common)

    def to_python(self, raw):
        """A stored JSON value as its Python type (decimals are stored as strings)."""
        if raw is None:
            return self.default
        if self.type == "decimal":
            return decimal.Decimal(str(raw))
        if self.type == "int":
            return int(raw)
        if self.type == "bool":
            return bool(raw)
        return raw

    def to_json(self, value):
        if self.type == "decimal":
            return str(value)
        return value

    def clean(self, value):
        """Validate one value the way the settings form does; raises ValidationError."""
        return self.form_field().clean(value)


PARAMETERS: dict[str, Parameter] = {}


def register_parameter(p: Parameter):
    if p.type not in TYPES:
        raise ValueError(f"parameter {p.key}: unknown type {p.type!r}")
    PARAMETERS[p.key] = p
    return p


GENERAL, REMINDERS, NUMBERS, POOL = _("General"), _("Reminders"), _("Numbers and money"), _("Public pool")

for _p in (
    Parameter("admin_email", "email", "", _("Administrator e-mail"),
              _("System notices and error reports are sent here."), group=GENERAL),
    Parameter("default_currency", "choice", "CNY", _("Default currency"),
              choices=[("CNY", _("Chinese yuan (CNY)")), ("USD", _("US dollar (USD)")), ("EUR", _("Euro (EUR)")),
                       ("HKD", _("Hong Kong dollar (HKD)")), ("JPY", _("Japanese yen (JPY)"))], group=NUMBERS),
    Parameter("default_tax_rate", "decimal", decimal.Decimal("0.13"), _("Default tax rate"),
              _("As a fraction: 0.13 is 13%."), min=decimal.Decimal(0), max=decimal.Decimal(1), group=NUMBERS),
    Parameter("amount_decimal_places", "int", 2, _("Decimal places of amounts"),
              _("Money amounts of quotes, contracts, orders and customers (e.g. credit limits)."), min=0, max=6,
              group=NUMBERS),
    Parameter("price_decimal_places", "int", 2, _("Decimal places of prices"),
              _("Unit prices of products, quotes, contracts and orders."), min=0, max=6, group=NUMBERS),
    Parameter("receivable_reminder_days", "int", 3, _("Receivable reminder lead days"),
              _("Days before a receivable is due that its owner is reminded."), min=0, max=365, group=REMINDERS),
    Parameter("birthday_reminder_days", "int", 7, _("Birthday reminder lead days"),
              _("Days before a contact's birthday that the owner is reminded."), min=0, max=60, group=REMINDERS),
    Parameter("pool_claim_limit", "int", 50, _("Pool claim limit per person"),
              _("How many customers one person may hold from the public pool; 0 means no limit."),
              min=0, max=100000, group=POOL),
    Parameter("pool_return_days", "int", 30, _("Days without follow-up before return to the pool"),
              _("0 turns the automatic return off."), min=0, max=3650, group=POOL),
):
    register_parameter(_p)

def _load_stored():
    from .models import ParameterValue

    return dict(ParameterValue.objects.values_list("key", "value"))


def _stored():
    """Stored values, per process under the "parameters" version (`crm.core.versions`)."""
    return versions.cached("parameters", None, _load_stored)


def clear():
    versions.bump("parameters")


def param(key):
    """The current value of a system parameter, typed."""
    p = PARAMETERS[key]
    stored = _stored()
    if key not in stored:
        return p.default
    try:
        return p.to_python(stored[key])
    except (TypeError, ValueError, decimal.InvalidOperation):
        return p.default


def all_values():
    stored = _stored()
    return {k: param(k) if k in stored else p.default for k, p in PARAMETERS.items()}


class ParametersForm(forms.Form):
    """One form with every parameter, typed widgets, errors at the field."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key, p in PARAMETERS.items():
            self.fields[key] = p.form_field()
            self.fields[key].group = p.group


def save(user, new_values, request=None):
    """Store the changed values (already cleaned) and audit them; returns {key: [old, new]}."""
    from django.db import transaction
    from django.utils import timezone

    from ..audit import log
    from ..audit.models import AuditEntry
    from .models import ParameterValue

    current = all_values()
    changes = {}
    with transaction.atomic():
        for key, value in new_values.items():
            p = PARAMETERS[key]
            if value == current[key]:
                continue
            ParameterValue.objects.update_or_create(key=key, defaults={"value": p.to_json(value),
                                                                        "updated_at": timezone.now()})
            changes[key] = [p.to_json(current[key]), p.to_json(value)]
        if changes:
            clear()
            log.record(user, AuditEntry.Action.UPDATE, changes=changes, extra={"parameters": sorted(changes)},
                       request=request)
    return changes


def validate(data):
    """Clean a dict of raw values (e.g. API input); raises ValidationError with field errors."""
    errors, cleaned = {}, {}
    for key, raw in data.items():
        p = PARAMETERS.get(key)
        if p is None:
            errors[key] = [_("Unknown parameter.")]
            continue
        try:
            cleaned[key] = p.clean(raw)
        except ValidationError as exc:
            errors[key] = exc.messages
    if errors:
        raise ValidationError(errors)
    return cleaned
