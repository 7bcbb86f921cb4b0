from django import forms

from .params import parse_id


class _Lookup:
    """Renders only the selected options; the rest are loaded from a scoped lookup URL as the user
    types (Tom Select, `crm.js`), so a million records never reach the page."""

    template_name = "django/forms/widgets/select.html"

    def __init__(self, lookup_url, attrs=None):
        attrs = {**(attrs or {}), "data-lookup": lookup_url, "class": "form-select js-lookup"}
        super().__init__(attrs)

    def _selected_choices(self, selected):
        if not selected:
            return []
        queryset = getattr(self.choices, "queryset", None)
        if queryset is None:
            return [(k, l) for k, l in self.choices if str(k) in selected]
        ids = [i for i in map(parse_id, selected) if i is not None]
        return [(str(o.pk), str(o)) for o in queryset.filter(pk__in=ids)]


class LookupSelect(_Lookup, forms.Select):
    """A picker of one record (a foreign key)."""

    def optgroups(self, name, value, attrs=None):
        selected = {str(v) for v in value if v not in (None, "")}
        self.choices = [("", "---------")] + self._selected_choices(selected)
        return super().optgroups(name, value, attrs)


class LookupSelectMultiple(_Lookup, forms.SelectMultiple):
    """A picker of several records (a many-to-many link): a manager's opportunity form listed
    every visible contact as an <option> (37 000 at medium, 1.5 MB)."""

    def optgroups(self, name, value, attrs=None):
        self.choices = self._selected_choices({str(v) for v in value if v not in (None, "")})
        return super().optgroups(name, value, attrs)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")
