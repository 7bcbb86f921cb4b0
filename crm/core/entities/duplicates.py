"""Duplicate check (查重, CUS-3): rules per entity as `EntitySpec.duplicate_keys`.

A rule is a tuple of stored columns that must all be equal (some compared case-insensitively).
Derived keys — a company name without spaces, punctuation, width and legal-form suffixes — are
stored in their own indexed column by the model (e.g. `Customer.name_key`), so that a check on
create is one index lookup per rule and the finder groups on the column.

Visibility: the check returns the matches the user may see; of the others it returns only how
many there are — never a field of them (an invisible record is a 404 everywhere else too).
Merging duplicates is `crm.core.entities.merge` (CUS-3 "merge").
"""

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

from django.db.models import Count, Q
from django.db.models.functions import Lower

from ..access.scope import scope_q

# Legal-form and group suffixes that do not tell two companies apart; longest first.
_CJK_SUFFIXES = ("股份有限公司", "有限责任公司", "集团有限公司", "集团股份有限公司", "有限公司", "集团公司",
                 "股份公司", "总公司", "分公司", "集团", "公司")
_LATIN_SUFFIX = re.compile(
    r"(?:[\s,.]+|^)(?:co\.?,?\s*ltd|company\s+limited|co\.?\s*limited|limited|ltd|incorporated|inc|llc|l\.l\.c|"
    r"corporation|corp|company|co|group|gmbh|plc|s\.?a)\.?\s*$"
)
_NOISE = re.compile(r"[\W_]+", re.UNICODE)  # spaces, punctuation, symbols


@lru_cache(maxsize=20_000)  # the model's clean() and the duplicate rule both ask, per record of an import
def company_name_key(name: str) -> str:
    """The comparable form of a company name: full-width → half-width (NFKC), case-folded,
    legal-form suffixes removed (有限公司, 股份有限公司, 集团, Co., Ltd, Inc, LLC …), spaces and
    punctuation removed. "上海华为技术 有限公司" and "上海华为技术" give the same key."""
    if not name:
        return ""
    text = unicodedata.normalize("NFKC", name).casefold().strip()
    for _round in range(4):  # "华为集团有限公司", "Acme Group Co., Ltd."
        before = text
        text = _LATIN_SUFFIX.sub("", text).rstrip(" ,.")
        compact = _NOISE.sub("", text)
        for suffix in _CJK_SUFFIXES:
            if compact.endswith(suffix) and len(compact) > len(suffix):
                # cut the suffix in `text`, whatever spaces it had inside
                pattern = r"\s*".join(map(re.escape, suffix)) + r"[\W_]*$"
                text = re.sub(pattern, "", text)
                break
        if text == before:
            break
    key = _NOISE.sub("", text)
    return key[:200] or _NOISE.sub("", unicodedata.normalize("NFKC", name).casefold())[:200]


@dataclass
class DuplicateKey:
    code: str
    label: object
    fields: tuple  # stored columns that must all be equal
    casefold: tuple = ()  # of these, compared lower-cased (give them an index on Lower(field))
    value: Callable | None = None  # record -> tuple of the key values (for derived columns)
    display: tuple = ()  # fields shown for the key (default: `fields`)

    def values(self, model, obj):
        """The key of a (possibly unsaved) record, normalised like the stored column; None if
        any part is empty (an empty phone matches nothing)."""
        if self.value is not None:
            vals = tuple(self.value(obj))
        else:
            vals = []
            for name in self.fields:
                f = model._meta.get_field(name)
                raw = getattr(obj, f.attname)
                try:
                    raw = f.to_python(raw) if raw not in (None, "") else raw
                except Exception:  # an invalid value is validated elsewhere; compare it as typed
                    pass
                vals.append(raw)
            vals = tuple(vals)
        vals = tuple(v.lower() if isinstance(v, str) and n in self.casefold else v for n, v in zip(self.fields, vals))
        if any(v in (None, "") for v in vals):
            return None
        return vals

    def columns(self, model):
        return [f"dup_{n}" if n in self.casefold else model._meta.get_field(n).attname for n in self.fields]

    def annotate(self, qs):
        if self.casefold:
            qs = qs.annotate(**{f"dup_{n}": Lower(n) for n in self.casefold})
        return qs

    def q(self, model, vals):
        return Q(**dict(zip(self.columns(model), vals)))


@dataclass
class Duplicates:
    visible: list = field(default_factory=list)  # [(record, [rule labels])]
    hidden: int = 0  # matches the user may not see: only their number

    def __bool__(self):
        return bool(self.visible or self.hidden)


def find_duplicates(user, spec, obj, limit=20, keys=None):
    """Live records matching `obj` on any rule of the entity (or of `keys`): the visible ones with
    the rules they match, and the number of invisible ones. Two queries, whatever the number of rules."""
    model = spec.model
    keys = [(k, k.values(model, obj)) for k in (spec.duplicate_keys if keys is None else keys)]
    keys = [(k, v) for k, v in keys if v is not None]
    if not keys:
        return Duplicates()
    qs = model.objects.all()
    cond = Q(pk__in=[])
    for k, vals in keys:
        qs = k.annotate(qs)
        cond |= k.q(model, vals)
    qs = qs.filter(cond)
    if obj.pk:
        qs = qs.exclude(pk=obj.pk)
    ids = list(qs.order_by("-pk").values_list("pk", flat=True)[:200])
    if not ids:
        return Duplicates()
    visible = model.objects.filter(scope_q(user, model, "view"), pk__in=ids)
    if spec.select_related:
        visible = visible.select_related(*spec.select_related)
    rows = list(visible.order_by("-pk")[:limit])
    shown = []
    for row in rows:
        shown.append((row, [k.label for k, vals in keys if k.values(model, row) == vals]))
    n_visible = len(rows) if len(rows) < limit else visible.count()
    return Duplicates(visible=shown, hidden=max(len(ids) - n_visible, 0))


def key_values(spec, obj):
    """{rule code: key} of a record, to tell later which keys an edit changed."""
    return {k.code: k.values(spec.model, obj) for k in spec.duplicate_keys}


def duplicates_on_edit(user, spec, before, obj, limit=20):
    """The check on edit: matches on the rules whose key the edit changed (`before` from
    `key_values` of the stored record), so an old, known duplicate does not warn on every save."""
    changed = [k for k in spec.duplicate_keys
               if (v := k.values(spec.model, obj)) is not None and v != before.get(k.code)]
    return find_duplicates(user, spec, obj, limit=limit, keys=changed) if changed else Duplicates()


def duplicate_groups(user, spec, max_groups=50, max_rows=500):
    """Groups of visible live records sharing a key, per rule: GROUP BY the key HAVING COUNT > 1
    within the user's scope, largest groups first. Two queries per rule, whatever the data."""
    model = spec.model
    result = []
    for k in spec.duplicate_keys:
        base = k.annotate(model.objects.filter(scope_q(user, model, "view")))
        for name in k.fields:
            f = model._meta.get_field(name)
            base = base.filter(**{f"{f.attname}__isnull": False})
            if not f.is_relation:
                base = base.exclude(**{f.attname: ""})
        cols = k.columns(model)
        heads = list(base.values(*cols).annotate(n=Count("pk")).filter(n__gt=1).order_by("-n", *cols)[:max_groups])
        groups = []
        if heads:
            cond = Q(pk__in=[])
            for h in heads:
                cond |= Q(**{c: h[c] for c in cols})
            rows = base.filter(cond)
            if spec.select_related:
                rows = rows.select_related(*spec.select_related)
            by_key = {}
            for row in rows.order_by("pk")[:max_rows]:
                by_key.setdefault(tuple(getattr(row, c) for c in cols), []).append(row)
            for h in heads:
                members = by_key.get(tuple(h[c] for c in cols), [])
                if len(members) > 1:
                    groups.append({"count": h["n"], "rows": members})
        result.append({"key": k, "groups": groups, "capped": len(heads) == max_groups})
    return result
