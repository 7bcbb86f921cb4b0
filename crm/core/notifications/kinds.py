"""The kinds of notification (ACT-4). Apps register theirs:

    register_kind("task_assigned", _("A task was assigned to me"))

A kind has a translated label (shown on the preferences page) and defaults for the in-app and
the e-mail channel; each user may switch either channel per kind."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Kind:
    code: str
    label: object
    in_app: bool = True
    email: bool = True
    order: int = 100


KINDS: dict[str, Kind] = {}


def register_kind(code, label, *, in_app=True, email=True, order=100):
    KINDS[code] = Kind(code, label, in_app, email, order)
    return KINDS[code]


def get_kind(code):
    try:
        return KINDS[code]
    except KeyError:
        raise ValueError(f"unknown notification kind {code!r}: register it with register_kind()") from None


def all_kinds():
    return sorted(KINDS.values(), key=lambda k: (k.order, k.code))


register_kind("transferred", _("A record was transferred to me"), order=10)
register_kind("mention", _("I was mentioned in a note"), order=20)
