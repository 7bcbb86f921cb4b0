from django import forms

from .params import parse_id


class LookupSelect(forms.Select):
    """A picker that renders only the selected option and loads the rest from a scoped lookup
    URL as the user types (Tom Select), so a million customers never reach the page."""

    template_name = "django/forms/widgets/select.html"

    def __init__(self, lookup_url, attrs=None):
        attrs = {**(attrs or {}), "data-lookup": lookup_url, "class": "form-select js-lookup"}
        super().__init__(attrs)

    def optgroups(self, name, value, attrs=None):
        selected = {str(v) for v in value if v not in (None, "")}
        self.choices = [("", "---------")] + [
            (k, label) for k, label in self._selected_choices(selected)
        ]
        return super().optgroups(name, value, attrs)

    def _selected_choices(self, selected):
        if not selected:
            return []
        queryset = getattr(self.choices, "queryset", None)
        if queryset is None:
            return [(k, l) for k, l in self.choices if str(k) in selected]
        ids = [i for i in map(parse_id, selected) if i is not None]
        return [(str(o.pk), str(o)) for o in queryset.filter(pk__in=ids)]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")
