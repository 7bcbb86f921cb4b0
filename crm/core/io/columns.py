"""Which columns an import can fill, and matching a file's header row to them.

The mappable fields are the fields of the entity's generated form for this user (`form_class`),
so whatever the form gains (custom fields) joins the import, and what the user may not write
(protected fields) does not. A header matches a field by its Chinese or English label or by the
field name, compared without case, spaces and punctuation; a mapping the user saved for the
entity wins over the automatic match.
"""

import re
import unicodedata
from dataclasses import dataclass

from django import forms
from django.utils import translation

from ..ui.forms import form_class
from .models import ImportMapping

_NOISE = re.compile(r"[\W_]+", re.UNICODE)
SKIP = ("version",)


def norm(text):
    return _NOISE.sub("", unicodedata.normalize("NFKC", str(text or "")).casefold())


@dataclass
class Column:
    name: str
    label: str  # in the current language
    labels: tuple  # zh, en
    required: bool
    field: forms.Field

    @property
    def keys(self):
        return {norm(self.name), *(norm(x) for x in self.labels)}


def blank_form(spec, user):
    return form_class(spec)(user=user, spec=spec)


def importable_columns(spec, user):
    """Columns of the entity's form for this user, in form order."""
    form = blank_form(spec, user)
    cols = []
    for name, field in form.fields.items():
        if name in SKIP or isinstance(field.widget, forms.HiddenInput) or isinstance(field, forms.FileField):
            continue
        labels = []
        for lang in ("zh-hans", "en"):
            with translation.override(lang):
                label = str(field.label if field.label is not None else name)
                # "名称" also as "客户名称", "Name" also as "Customer name"
                entity = str(spec.model._meta.verbose_name)
                labels += [label, (entity + label) if lang != "en" else f"{entity} {label}"]
        cols.append(Column(name, str(field.label or name), tuple(labels), field.required, field))
    num = spec.number_field
    if num and num not in form.fields:  # the record number: a key for updates, kept on create
        labels = []
        for lang in ("zh-hans", "en"):
            with translation.override(lang):
                labels.append(_label(spec, num))
        cols.insert(0, Column(num, _label(spec, num), tuple(labels), False, forms.CharField(required=False)))
    return cols


def auto_mapping(spec, user, headers, saved=None):
    """{header: field name or ""}: the saved mapping first, then labels and names."""
    cols = importable_columns(spec, user)
    names = {c.name for c in cols}
    by_key = {}
    for c in cols:
        for k in c.keys:
            by_key.setdefault(k, c.name)
    if saved is None:
        saved = saved_mapping(spec, user)
    result, used = {}, set()
    for h in headers:
        pick = saved.get(norm(h))
        if pick not in names:
            pick = by_key.get(norm(h), "")
        if pick in used:
            pick = ""
        if pick:
            used.add(pick)
        result[h] = pick
    return result


def saved_mapping(spec, user):
    row = ImportMapping.objects.filter(entity=spec.key, user=user).first()
    return row.mapping if row else {}


def save_mapping(spec, user, mapping):
    from django.utils import timezone

    stored = saved_mapping(spec, user)
    stored.update({norm(h): f for h, f in mapping.items() if norm(h)})
    ImportMapping.objects.update_or_create(entity=spec.key, user=user,
                                           defaults={"mapping": stored, "updated_at": timezone.now()})


def key_choices(spec, user):
    """Fields an update can find its record by: the number field, then single-column duplicate
    rules (phone, e-mail, credit code …) that the user can map."""
    cols = {c.name: c for c in importable_columns(spec, user)}
    out = []
    if spec.number_field:
        out.append((spec.number_field, _label(spec, spec.number_field)))
    for rule in spec.duplicate_keys:
        if len(rule.fields) == 1 and rule.fields[0] in cols and rule.fields[0] not in dict(out):
            out.append((rule.fields[0], cols[rule.fields[0]].label))
    return out


def _label(spec, name):
    from ..ui.cells import field_label

    return str(field_label(spec.model, name))
