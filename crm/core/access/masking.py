"""Field rules applied server-side in one place (SEC-1): masked phones, hidden cost.

UI, API and export all render values through `present()`. Two rules:

* `EntitySpec.masked_fields` ({field: mask kind}): shown masked (138****5678) unless revealed.
* `EntitySpec.protected_fields` ({field: special permission}): without that special permission
  the field is hidden everywhere a value reaches a user (list, detail, export, history, forms,
  API) and cannot be written (forms leave it out, the API refuses it); the kernel refuses to
  register it as a search, filter or sort field, so no query can reveal it either.
"""

import re

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..fields import normalise_phone
from .scope import NOTHING, has_special

MASKERS = {}


def masker(kind):
    def deco(fn):
        MASKERS[kind] = fn
        return fn

    return deco


@masker("phone")
def mask_phone(value: str) -> str:
    """`13812345678` → `138****5678`; short numbers keep only their last two digits."""
    if not value:
        return value
    lead = 4 if value.startswith("+") else 3
    if len(value) >= lead + 6:
        return value[:lead] + "****" + value[-4:]
    return "*" * max(len(value) - 2, 1) + value[-2:]


def is_masked(user, spec, field) -> bool:
    return field in spec.masked_fields


# Per entity key: callables `(obj) -> bool`; True keeps that record's numbers masked even for those
# who may reveal (the public pool, CUS-9: a record's phones stay masked until it is claimed).
REVEAL_GUARDS: dict[str, list] = {}


def guard_reveal(entity_key, fn):
    REVEAL_GUARDS.setdefault(entity_key, []).append(fn)


def reveal_blocked(spec, obj) -> bool:
    return obj is not None and any(fn(obj) for fn in REVEAL_GUARDS.get(spec.key, ()))


def can_reveal(user, spec, obj=None) -> bool:
    """May the user see unmasked numbers of this entity (of the record `obj`, when given)?"""
    return bool(spec.masked_fields) and has_special(user, "reveal_phone") and not reveal_blocked(spec, obj)


def mask(spec, field, value):
    kind = spec.masked_fields.get(field)
    return MASKERS[kind](value) if kind and value else value


HIDDEN = _("(hidden)")  # what those without the special permission see of a protected field


def hidden_fields(user, spec) -> set:
    """The protected fields of `spec` this user may neither see nor write."""
    return {f for f, perm in getattr(spec, "protected_fields", {}).items() if not has_special(user, perm)}


def is_hidden(user, spec, field) -> bool:
    perm = getattr(spec, "protected_fields", {}).get(field)
    return perm is not None and not has_special(user, perm)


def present_change(user, spec, field, old, new):
    """One (old, new) pair of a recorded change as this user may see it (history, conflicts)."""
    if is_hidden(user, spec, field):
        return HIDDEN, HIDDEN
    if field in spec.masked_fields:
        return mask(spec, field, old), mask(spec, field, new)
    return old, new


def present(user, spec, obj, field, revealed=False):
    """The value of `field` on `obj` as this user may see it."""
    if is_hidden(user, spec, field):
        return HIDDEN
    value = getattr(obj, field)
    if field in spec.masked_fields and not (revealed and can_reveal(user, spec, obj)):
        return mask(spec, field, value)
    return value


TAIL_DIGITS = 4  # the mask shows the last four digits anyway


def search_q(user, spec, field, text):
    """How typed text may match a masked field without revealing it, for lists, search and
    export alike. Those who may reveal match any run of five or more digits. Everyone else matches the tail
    the mask shows or the whole number, never a longer tail or a head: those would let a user
    read the hidden digits one at a time by watching which searches find the record.

    Three or four digits are a tail (尾号) for everyone, revealers included: any run of 3-4 digits
    occurs in thousands of numbers at scale (noise to the user, and a scope check each for the
    index), while the tail is what people type to find a caller (issue #3, phone-tail search)."""
    digits = re.sub(r"[\s\-().]", "", text or "")
    if len(digits) < 3 or not digits.lstrip("+").isdigit() or not digits.isascii():
        return NOTHING
    if len(digits) <= TAIL_DIGITS:
        return Q(**{f"{field}__endswith": digits})
    if can_reveal(user, spec):
        return Q(**{f"{field}__contains": digits})
    try:
        return Q(**{field: normalise_phone(text)})
    except ValidationError:  # not a whole number
        return NOTHING
