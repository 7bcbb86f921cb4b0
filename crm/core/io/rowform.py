"""The entity's form, validating thousands of new records in one import (INT-4, issue #3).

Each row still goes through the generated form and the model's `full_clean()`, with the same
error messages per field. What changes is the work that gives the same answer for every row of
a job: the fields no column fills take the same default in each row, so they are cleaned (form
field and model field) once, when the job starts, and their cleaned values reused; the bound
fields are built once; and the fields the model validation leaves out are worked out once.
A default that does not validate, or a field with its own `clean_<name>` hook, unique checks
or constraints, is simply validated in every row as before.
"""

import copy

from django.core.exceptions import ValidationError

_classes = {}


def row_form_class(form_class):
    """The form class with the per-job shortcuts (cached per class)."""
    klass = _classes.get(form_class)
    if klass is None:
        klass = _classes[form_class] = type(f"Import{form_class.__name__}", (RowsMixin, form_class), {})
    return klass


class RowsMixin:
    _const = None  # {name: cleaned value} of the fields every row fills from the job's defaults

    def bind_row(self, data, instance):
        self.is_bound, self.data, self.files = True, data, {}
        self._errors = None
        self.__dict__.pop("cleaned_data", None)
        self.instance = instance

    def prepare_rows(self, base, varying, instance):
        """Validate the defaults `base` once (on `instance`, thrown away) and keep what every row
        would repeat. `varying`: the fields that columns of the file fill."""
        self.bind_row(dict(base), instance)
        self.full_clean()  # the standard path: _const is still None
        errors = self._errors
        model = self._meta.model
        meta = model._meta
        const = {}
        for name, field in self.fields.items():
            if name in varying or name in errors or name not in self.cleaned_data or hasattr(self, f"clean_{name}"):
                continue
            if field.disabled:
                continue
            const[name] = self.cleaned_data[name]
        excluded = self._get_validation_exclusions()  # constant for every field but the varying ones
        static = {f.name for f in meta.fields if f.name in excluded and (f.name in const or f.name not in self.fields)}
        # Model fields whose constant value the model's own cleaning accepts unchanged need no
        # second look per row; unique checks and constraints are always left to the model.
        if not (meta.constraints or meta.unique_together or meta.total_unique_constraints):
            for f in meta.concrete_fields:
                if f.name not in const or f.unique or f.name in excluded or f.name not in base:
                    continue
                probe = model()
                f.save_form_data(probe, const[f.name])
                raw = getattr(probe, f.attname)
                try:
                    out = f.clean(raw, probe)
                except ValidationError:
                    continue
                if type(out) is type(raw) and out == raw:
                    static.add(f.name)
        dynamic = [(f.name, self.fields[f.name], not f.blank and not self.fields[f.name].required)
                   for f in meta.fields if f.name in self.fields and f.name not in const]
        self._static_exclude, self._dynamic_exclude = frozenset(static), dynamic
        self._varying = [n for n in self.fields if n not in const]
        self._const = const

    def _clean_fields(self):
        if self._const is None:
            return super()._clean_fields()
        cleaned = self.cleaned_data
        for name, value in self._const.items():
            cleaned[name] = copy.copy(value) if isinstance(value, (list, dict, set)) else value
        for name in self._varying:
            bf = self[name]  # bound fields are kept from row to row: they read `data` each time
            try:
                cleaned[name] = bf.field._clean_bound_field(bf)
                if hasattr(self, f"clean_{name}"):
                    cleaned[name] = getattr(self, f"clean_{name}")()
            except ValidationError as e:
                self.add_error(name, e)

    def _get_validation_exclusions(self):
        if self._const is None:
            return super()._get_validation_exclusions()
        exclude = set(self._static_exclude)
        errors, cleaned = self._errors, self.cleaned_data
        for name, form_field, check_empty in self._dynamic_exclude:
            if name in errors or (check_empty and cleaned.get(name) in form_field.empty_values):
                exclude.add(name)
        return exclude
