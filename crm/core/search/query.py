"""Queries over the index: per entity, match in the index, restrict to the records the user may
see (a semi-join with `Model.objects.for_user(user)`), rank a bounded set of candidates, then read
the few records shown through the scope predicate again. Masked phones follow the rules of
crm.core.access.masking.search_q: those who may not reveal match only the tail the mask shows or
the whole number."""

import re
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Case, IntegerField, Q, Value, When
from django.utils.translation import gettext_lazy as _

from ..access.masking import TAIL_DIGITS, can_reveal
from ..access.scope import NOTHING, can
from ..entities.base import select_for_display
from ..fields import normalise_phone
from .backends import backend
from .index import indexed_fields, searchable_specs
from .models import SearchEntry
from .text import MAX_QUERY, WORD_RUN, normalise

CANDIDATES = 500  # matches ranked per entity; a term matching more shows the best of these and "more"
PROBE = 5000  # matches looked at to see which entities have any
MIN_LENGTH = 2
PHONE_NOISE = re.compile(r"[\s\-().]")

TOO_SHORT = _("Type at least two characters (e.g. 张伟, zw or the last 4 digits of a phone).")


@dataclass
class Query:
    raw: str
    text: str  # normalised
    error: str = ""

    @property
    def usable(self):
        return bool(self.text) and not self.error


def parse(raw) -> Query:
    raw = str(raw or "")[:MAX_QUERY * 2]
    text = normalise(raw)[:MAX_QUERY]
    if text and len(text) < MIN_LENGTH:
        return Query(raw, text, str(TOO_SHORT))
    return Query(raw, text)


def _phone_q(user, spec, raw):
    """The index condition for masked phone fields, by masking.search_q's rules."""
    be = backend()
    digits = PHONE_NOISE.sub("", raw or "")
    if len(digits) < 3 or not digits.lstrip("+").isdigit() or not digits.isascii():
        return None
    if len(digits) <= TAIL_DIGITS:  # 3-4 digits mean a tail (尾号) for everyone, see masking.search_q
        return be.gram_q(f"t{digits}") if digits.isdigit() else None
    if can_reveal(user, spec):
        return be.phones_q(digits)
    try:
        number = normalise_phone(raw)
    except ValidationError:  # not a whole number
        return None
    return be.phones_q(f" {number} ")


def match_q(user, spec, query: Query):
    """Q over SearchEntry for `query` in this entity's entries (content type not included)."""
    be = backend()
    text = query.text
    cond = None
    if len(text) >= 3:
        cond = be.text_q(text)
    elif len(text) == 2 and WORD_RUN.fullmatch(text):
        cond = be.gram_q(text)
    if indexed_fields(spec)[1]:
        phone = _phone_q(user, spec, query.raw.strip())
        if phone is not None:
            cond = phone if cond is None else cond | phone
    return cond


def _ct_id(spec):
    return ContentType.objects.get_for_model(spec.model).pk


def entries(user, spec, query: Query):
    """The user's visible matches of `query` in this entity's entries (a queryset, unranked)."""
    cond = match_q(user, spec, query)
    if cond is None:
        return SearchEntry.objects.none()
    visible = spec.model.objects.for_user(user).values("pk")
    return SearchEntry.objects.filter(cond, content_type_id=_ct_id(spec), object_id__in=visible)


def filter_q(user, spec, raw):
    """For a list's `q` box: the records matching `raw` (a Q on the model's pk), or NOTHING. One-
    character terms have no index; they match the stored text by a plain scan (slow on big tables,
    but a list usually has other filters too)."""
    query = parse(raw)
    if not query.text:
        return Q()
    if query.error:
        cond = Q(text__contains=query.text)
        phone = _phone_q(user, spec, query.raw.strip()) if indexed_fields(spec)[1] else None
        cond = cond | phone if phone is not None else cond
    else:
        cond = match_q(user, spec, query)
        if cond is None:
            return NOTHING
    return Q(pk__in=SearchEntry.objects.filter(cond, content_type_id=_ct_id(spec)).values("object_id"))


def _ranked(user, spec, query: Query, limit):
    """The ranked entries of one entity: exact title (or its initials) first, then prefix, then
    substring; newer first within each."""
    candidates = entries(user, spec, query).values("pk")[:CANDIDATES]
    text = query.text
    rank = Case(
        When(Q(key=text) | Q(abbr=text), then=Value(0)),
        When(Q(key__startswith=text) | Q(abbr__startswith=text), then=Value(1)),
        default=Value(2), output_field=IntegerField(),
    )
    return (SearchEntry.objects.filter(pk__in=candidates).annotate(rank=rank)
            .order_by("rank", "-updated_at", "-object_id")
            .values_list("content_type_id", "object_id", "rank", "updated_at")[:limit])


def _with_matches(specs, conds):
    """The entities that have any match at all, from one look at the index: each entity's ranked
    query would otherwise read every match of every entity again (a term like a phone tail also
    matches codes and e-mail addresses). Exact when the term has at most PROBE matches; with more,
    every entity is asked."""
    unique = {}
    for cond in conds.values():
        if cond is not None:
            unique.setdefault(str(cond), cond)
    any_match = Q()
    for i, cond in enumerate(unique.values()):
        any_match = cond if i == 0 else any_match | cond
    seen = list(SearchEntry.objects.filter(any_match).values_list("content_type_id", flat=True)[:PROBE])
    if len(seen) >= PROBE:
        return specs
    present = set(seen)
    return [spec for spec in specs if _ct_id(spec) in present]


def ranked_ids(user, specs, query: Query, limit):
    """{spec key: ids of up to `limit` records in rank order}. Where the database can (PostgreSQL),
    all entities in one UNION ALL query, else one query per entity."""
    conds = {spec.key: match_q(user, spec, query) for spec in specs}
    specs = [spec for spec in specs if conds[spec.key] is not None]
    with backend().search_session():
        if len(specs) > 2:
            specs = _with_matches(specs, conds)
        parts = [(spec, _ranked(user, spec, query, limit)) for spec in specs]
        if not parts:
            return {}
        if len(parts) > 1 and connection.features.supports_slicing_ordering_in_compound:
            first, *rest = [qs for _spec, qs in parts]
            rows = list(first.union(*rest, all=True))
        else:
            rows = [row for _spec, qs in parts for row in qs]
    by_ct = {_ct_id(spec): spec.key for spec, _qs in parts}
    rows.sort(key=lambda r: (r[2], -r[3].timestamp(), -r[1]))
    out = {}
    for ct_id, object_id, _rank, _updated in rows:
        out.setdefault(by_ct[ct_id], []).append(object_id)
    return out


def shown_columns(spec):
    """What a result shows besides its title: the first list columns, and the masked phone the
    search may have matched (masked as anywhere else)."""
    shown = list((spec.default_columns or spec.list_columns)[:4])
    return shown + [n for n in indexed_fields(spec)[1] if n not in shown and n in spec.list_columns]


@dataclass
class Group:
    spec: object
    objects: list
    more: bool
    rows: list = field(default_factory=list)  # (obj, displayed values) filled by the caller


def search(user, raw, per_entity=5, keys=None):
    """(query, [Group]) for every searchable entity the user may view (or those in `keys`)."""
    query = parse(raw)
    groups = []
    if not query.usable:
        return query, groups
    specs = [spec for spec in searchable_specs()
             if (not keys or spec.key in keys) and can(user, spec.key, "view")]
    found = ranked_ids(user, specs, query, per_entity + 1)
    for spec in specs:
        ids = found.get(spec.key)
        if not ids:
            continue
        qs = select_for_display(spec.model.objects.for_user(user).filter(pk__in=ids[:per_entity]), spec.select_related)
        by_id = {o.pk: o for o in qs}
        objects = [by_id[i] for i in ids[:per_entity] if i in by_id]
        if objects:
            groups.append(Group(spec, objects, len(ids) > per_entity))
    return query, groups
