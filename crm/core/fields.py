"""Field types with their validation in the model, so forms, API and import agree (Bad input)."""

from functools import lru_cache

import phonenumbers
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

DEFAULT_REGION = "CN"


def normalise_phone(raw: str) -> str:
    """Mainland numbers in national form (13812345678, 02112345678), others in E.164 (+1415…).

    Raises ValidationError for anything that is not a possible phone number.
    """
    raw = (raw or "").strip()
    if not raw:
        return ""
    number = _normalised(raw)
    if number is None:
        raise ValidationError(_("Enter a valid phone number, e.g. 13812345678, 021-12345678 or +1 415 555 0100."), code="phone")
    return number


@lru_cache(maxsize=1)
def _mainland_mobile():
    """phonenumbers' own patterns (its metadata) for a mainland mobile number written as its 11
    digits: such a number is valid and its national form is the digits as they are."""
    import re

    from phonenumbers import PhoneMetadata

    meta = PhoneMetadata.metadata_for_region(DEFAULT_REGION)
    mobile, general = re.compile(meta.mobile.national_number_pattern), re.compile(meta.general_desc.national_number_pattern)
    return lambda raw: len(raw) == 11 and raw.isdigit() and raw.isascii() and bool(
        mobile.fullmatch(raw) and general.fullmatch(raw))


@lru_cache(maxsize=20_000)
def _normalised(raw: str):
    """The normalised number, or None if it is not one. Cached: a form, the model's validation,
    the duplicate check and the search index each normalise the same number (phonenumbers takes
    ~0.1-0.2 ms), thousands of times in an import (issue #3). The commonest input, a mobile
    number as 11 digits, is recognised by phonenumbers' patterns alone (~1 µs)."""
    return raw if _mainland_mobile()(raw) else _parsed(raw)


def _parsed(raw: str):
    try:
        number = phonenumbers.parse(raw, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    if number.country_code == 86:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL).replace(" ", "").replace("-", "")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class PhoneField(models.CharField):
    """A phone number, normalised on validation; mask it with EntitySpec.masked_fields."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 32)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("max_length") == 32:
            del kwargs["max_length"]
        return name, path, args, kwargs

    def to_python(self, value):
        value = super().to_python(value)
        return normalise_phone(value) if value else (value or "")


# 统一社会信用代码 (GB 32100-2015): 18 characters, the last a check character.
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_WEIGHTS))
    return USCC_CHARS[(31 - total % 31) % 31]


def validate_credit_code(value: str):
    code = (value or "").upper()
    if len(code) != 18 or any(c not in USCC_CHARS for c in code):
        raise ValidationError(
            _("A unified social credit code has 18 digits and capital letters (no I, O, Z, S, V)."), code="uscc"
        )
    if uscc_check_char(code[:17]) != code[17]:
        raise ValidationError(_("This unified social credit code fails its check digit; please check it."), code="uscc")


class CreditCodeField(models.CharField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 18)
        kwargs.setdefault("validators", [validate_credit_code])
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("validators", None)
        if kwargs.get("max_length") == 18:
            del kwargs["max_length"]
        return name, path, args, kwargs

    def to_python(self, value):
        value = super().to_python(value)
        return value.strip().upper() if value else (value or "")
