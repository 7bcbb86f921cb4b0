"""Custom field values: one validation function for every channel (form, API, import, the model
check behind the write services), conversion between stored JSON and Python, and display.

Stored JSON per type: text → str; number → int; decimal → str ("12.50", exact); date →
"YYYY-MM-DD"; date-time → UTC "YYYY-MM-DDTHH:MM:SS+00:00" (so text order is time order); choice →
code; multi-choice → [codes]; yes/no → bool; user → user id. An empty value is no key at all.
"""

import datetime
import decimal
import re

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..request_cache import RequestCache
from .models import FieldType

EMPTY = (None, "", [], ())
MAX_TEXT = {FieldType.TEXT: 200, FieldType.LONG_TEXT: 5000}
MAX_DECIMAL = decimal.Decimal("1e15")


def is_empty(value):
    return value is None or (isinstance(value, (str, list, tuple)) and not value)


def validate_value(defn, value, as_json=False):
    """The value as Python (or stored JSON with `as_json`), None when empty; ValidationError
    with a translated message otherwise. Accepts Python values (forms) and JSON values (API,
    import); required-ness is checked by the caller, which knows whether the value was given."""
    if isinstance(value, str) and defn.type not in (FieldType.TEXT, FieldType.LONG_TEXT):
        value = value.strip()
    if is_empty(value):
        return None
    t = defn.type
    if t in (FieldType.TEXT, FieldType.LONG_TEXT):
        py = _text(defn, value)
    elif t == FieldType.NUMBER:
        py = _number(defn, value)
    elif t == FieldType.DECIMAL:
        py = _decimal(defn, value)
    elif t == FieldType.DATE:
        py = _date(value)
    elif t == FieldType.DATETIME:
        py = _datetime(value)
    elif t == FieldType.CHOICE:
        py = _choice(defn, value)
    elif t == FieldType.MULTI_CHOICE:
        py = _multi(defn, value)
    elif t == FieldType.BOOLEAN:
        py = _bool(value)
    elif t == FieldType.USER:
        py = _user(value)
    else:  # pragma: no cover - the model's choices prevent it
        raise ValidationError(_("Unknown field type."))
    return to_json(defn, py) if as_json else py


def _text(defn, value):
    if not isinstance(value, str):
        raise ValidationError(_("Enter a valid value."), code="invalid")
    if defn.type == FieldType.TEXT:
        value = value.strip()
        if "\n" in value:
            raise ValidationError(_("Enter a single line."), code="invalid")
    limit = MAX_TEXT[defn.type]
    low = int(defn.min_value) if defn.min_value is not None else None
    high = min(int(defn.max_value), limit) if defn.max_value is not None else limit
    # Django's own messages, so its catalogue translates them.
    if low is not None and len(value) < low:
        raise ValidationError(ngettext(
            "Ensure this value has at least %(limit_value)d character (it has %(show_value)d).",
            "Ensure this value has at least %(limit_value)d characters (it has %(show_value)d).", low)
            % {"limit_value": low, "show_value": len(value)}, code="min_length")
    if len(value) > high:
        raise ValidationError(ngettext(
            "Ensure this value has at most %(limit_value)d character (it has %(show_value)d).",
            "Ensure this value has at most %(limit_value)d characters (it has %(show_value)d).", high)
            % {"limit_value": high, "show_value": len(value)}, code="max_length")
    if defn.regex and not re.fullmatch(defn.regex, value):
        raise ValidationError(_("Enter a valid value."), code="pattern")
    return value


def _bounds(defn, value):
    if defn.min_value is not None and value < defn.min_value:
        raise ValidationError(_("Ensure this value is greater than or equal to %(limit_value)s.")
                              % {"limit_value": _plain(defn.min_value)}, code="min_value")
    if defn.max_value is not None and value > defn.max_value:
        raise ValidationError(_("Ensure this value is less than or equal to %(limit_value)s.")
                              % {"limit_value": _plain(defn.max_value)}, code="max_value")


def _plain(d):
    d = decimal.Decimal(d)
    return format(d.to_integral_value() if d == d.to_integral_value() else d.normalize(), "f")


def _number(defn, value):
    if isinstance(value, bool):
        raise ValidationError(_("Enter a whole number."), code="invalid")
    try:
        if isinstance(value, str):
            value = int(value)
        elif isinstance(value, (float, decimal.Decimal)):
            if value != int(value):
                raise ValueError
            value = int(value)
        elif not isinstance(value, int):
            raise ValueError
    except (ValueError, TypeError, OverflowError, decimal.InvalidOperation):
        raise ValidationError(_("Enter a whole number."), code="invalid")
    if abs(value) >= 10**15:
        raise ValidationError(_("Ensure this value is less than or equal to %(limit_value)s.")
                              % {"limit_value": 10**15 - 1}, code="max_value")
    _bounds(defn, value)
    return value


def _decimal(defn, value):
    if isinstance(value, bool):
        raise ValidationError(_("Enter a number."), code="invalid")
    try:
        d = decimal.Decimal(str(value).replace(",", "")) if isinstance(value, (str, int, float, decimal.Decimal)) else None
    except decimal.InvalidOperation:
        d = None
    if d is None or not d.is_finite():
        raise ValidationError(_("Enter a number."), code="invalid")
    if abs(d) >= MAX_DECIMAL:
        raise ValidationError(_("Ensure this value is less than or equal to %(limit_value)s.")
                              % {"limit_value": "999999999999999"}, code="max_value")
    if d.as_tuple().exponent < -6:
        raise ValidationError(ngettext("Ensure that there are no more than %(max)s decimal place.",
                                       "Ensure that there are no more than %(max)s decimal places.", 6) % {"max": 6},
                              code="max_decimal_places")
    _bounds(defn, d)
    return d


def _date(value):
    if isinstance(value, datetime.datetime):
        raise ValidationError(_("Enter a valid date."), code="invalid")
    if isinstance(value, datetime.date):
        return value
    try:
        parsed = parse_date(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValidationError(_("Enter a valid date."), code="invalid")
    return parsed


def _datetime(value):
    if not isinstance(value, datetime.datetime):
        try:
            value = parse_datetime(value) if isinstance(value, str) else None
        except ValueError:
            value = None
        if value is None:
            raise ValidationError(_("Enter a valid date/time."), code="invalid")
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def _choice(defn, value):
    if not isinstance(value, str) or value not in defn.choice_codes():
        raise ValidationError(_("Select a valid choice. %(value)s is not one of the available choices.") % {"value": value},
                              code="invalid_choice")
    return value


def _multi(defn, value):
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise ValidationError(_("Enter a list of values."), code="invalid_list")
    codes = defn.choice_codes()
    out = []
    for v in value:
        if not isinstance(v, str) or v not in codes:
            raise ValidationError(_("Select a valid choice. %(value)s is not one of the available choices.") % {"value": v},
                                  code="invalid_choice")
        if v not in out:
            out.append(v)
    return out or None


def _bool(value):
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "是", "y"):
        return True
    if text in ("false", "0", "no", "否", "n"):
        return False
    raise ValidationError(_("“%(value)s” value must be either True or False.") % {"value": value}, code="invalid")


def _user(value):
    from django.contrib.auth import get_user_model

    pk = getattr(value, "pk", value)
    if isinstance(pk, bool):
        pk = None
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        pk = None
    if pk is None or not get_user_model().objects.filter(pk=pk, is_active=True).exists():
        raise ValidationError(_("Choose an active user."), code="invalid_user")
    return pk


def to_json(defn, value):
    if value is None:
        return None
    t = defn.type
    if t == FieldType.DECIMAL:
        return _plain(value) if value == value.to_integral_value() else format(value, "f")
    if t == FieldType.DATE:
        return value.isoformat()
    if t == FieldType.DATETIME:
        return value.astimezone(datetime.timezone.utc).replace(microsecond=0).isoformat()
    return value


def to_python(defn, stored):
    """A stored JSON value as Python; a value that no longer parses stays as stored."""
    if is_empty(stored):
        return None
    try:
        if defn.type == FieldType.DECIMAL:
            return decimal.Decimal(str(stored))
        if defn.type == FieldType.DATE:
            return parse_date(stored) or stored
        if defn.type == FieldType.DATETIME:
            return parse_datetime(stored) or stored
    except (ValueError, TypeError, decimal.InvalidOperation):
        return stored
    return stored


def validate_custom(entity, incoming, stored=None, partial=False, allow_unknown=False):
    """Validate a `custom` object for `entity`: `incoming` holds the keys a client sent (JSON or
    Python values; null clears), `stored` the record's current object. Returns (new object,
    errors {key: [messages]}). On create (`partial` False) missing keys take their default.
    Values of removed fields are kept untouched; keys of no active field are refused."""
    from .defs import definitions

    stored = dict(stored or {})
    errors = {}
    if not isinstance(incoming, dict):
        return stored, {None: [_("Expected an object of custom field values.")]}
    active = {d.key: d for d in definitions(entity)}
    for key in incoming:
        if key not in active and not allow_unknown:
            errors[key] = [_("There is no custom field “%(key)s”.") % {"key": key}]
    result = dict(stored)
    for key, defn in active.items():
        if key in incoming:
            try:
                value = validate_value(defn, incoming[key], as_json=True)
            except ValidationError as exc:
                if is_empty(stored.get(key)) or incoming[key] != stored.get(key):
                    errors[key] = exc.messages
                    continue
                value = stored[key]  # the value the record already holds stays valid
        elif not partial and key not in stored:
            value = defn.default
        else:
            value = stored.get(key)
        if is_empty(value):
            result.pop(key, None)
            if defn.required:
                errors[key] = [_("This field is required.")]
        else:
            result[key] = value
    return result, errors


def check_record(obj):
    """The model-level check the write services run (via full_clean): every active field's
    stored value is valid and required ones are present. A value the record already held is
    accepted as it is (a choice removed since, a bound tightened since). Raises ValidationError
    keyed `custom.<key>`."""
    spec = getattr(type(obj), "entity_spec", None)
    if spec is None:
        return
    custom = obj.custom if isinstance(obj.custom, dict) else None
    if custom is None:
        raise ValidationError({"custom": _("Expected an object of custom field values.")})
    from .defs import definitions

    errors = {}
    for defn in definitions(spec.key):
        value = custom.get(defn.key)
        if is_empty(value):
            if defn.required:
                errors[defn.key] = [_("This field is required.")]
            continue
        try:
            normal = validate_value(defn, value, as_json=True)
        except ValidationError as exc:
            errors[defn.key] = exc.messages
        else:
            custom[defn.key] = normal
    if errors and obj.pk is not None:
        before = type(obj)._base_manager.filter(pk=obj.pk).values_list("custom", flat=True).first() or {}
        errors = {k: v for k, v in errors.items() if is_empty(before.get(k)) or before.get(k) != custom.get(k)}
    if errors:
        raise ValidationError({f"custom.{k}": v for k, v in errors.items()})


def snapshot(obj):
    """{"custom.<key>": stored value} for the audit trail (old → new of each custom value)."""
    custom = getattr(obj, "custom", None)
    if not isinstance(custom, dict):
        return {}
    return {f"custom.{k}": v for k, v in custom.items() if not is_empty(v)}


# Display ---------------------------------------------------------------------------------------

def _load_users():
    return {}


_users = RequestCache("customfields-users", _load_users)


def prefetch_users(ids):
    """Read the names of these users in one query for the rest of the request."""
    from django.contrib.auth import get_user_model

    cache = _users.get()
    missing = {i for i in ids if isinstance(i, int) and i not in cache}
    if missing:
        for u in get_user_model().objects.filter(pk__in=missing):
            cache[u.pk] = str(u)
        for i in missing:
            cache.setdefault(i, f"#{i}")
    return cache


def user_name(pk):
    return prefetch_users([pk]).get(pk, f"#{pk}") if isinstance(pk, int) else str(pk)


def display_value(defn, stored):
    """The value as text for lists, detail pages, exports and history (the user's language)."""
    from ..ui.cells import format_value

    if is_empty(stored):
        return ""
    t = defn.type
    if t == FieldType.CHOICE:
        return dict(defn.choice_items()).get(stored, stored)
    if t == FieldType.MULTI_CHOICE:
        labels = dict(defn.choice_items())
        return ", ".join(str(labels.get(v, v)) for v in (stored if isinstance(stored, list) else [stored]))
    if t == FieldType.USER:
        return user_name(stored)
    if t == FieldType.DATETIME:
        value = to_python(defn, stored)
        return format_value(value) if isinstance(value, datetime.datetime) else stored
    return format_value(to_python(defn, stored))
