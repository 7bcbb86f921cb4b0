from django import template
from django.http import QueryDict
from django.utils.safestring import SafeString

from ..ui.table import shown

register = template.Library()


@register.simple_tag
def query_with(query, **changes):
    """The current query string with some parameters replaced (and the cursor dropped)."""
    params = QueryDict(query, mutable=True)
    params.pop("after", None)
    for k, v in changes.items():
        params[k] = v
    return params.urlencode()


@register.filter
def sort_toggle(name, current):
    return (name, current)


@register.filter
def sort_dir(pair, desc):
    """Clicking the sorted column flips its direction; another column sorts descending first."""
    name, current = pair
    if name == current:
        return name if desc else f"-{name}"
    return f"-{name}"


@register.filter
def add_class(field, css):
    widget = field.field.widget
    existing = widget.attrs.get("class", "")
    if "form-select" in existing or "form-check-input" in existing:
        return field
    if widget.input_type == "checkbox" if hasattr(widget, "input_type") else False:
        return field.as_widget(attrs={"class": "form-check-input"})
    if widget.__class__.__name__ in ("Select", "NullBooleanSelect", "SelectMultiple"):
        return field.as_widget(attrs={"class": "form-select"})
    return field.as_widget(attrs={"class": f"{existing} {css}".strip()})


# A list page's filter fields and column choices, written in Python with the markup the template
# loops wrote (issue #3: ~20 fields and ~25 columns, a dozen template nodes each).
FILTER_FIELD = ('\n        <div class="col-6 col-md-4 col-xl-2"><label class="form-label small" for="{}">{}</label>{}</div>'
                '\n        ')
COLUMN_CHOICE = ('\n        <label class="form-check form-check-inline small"><input class="form-check-input" '
                 'type="checkbox" name="col" value="{}" {} data-col> {}</label>\n        ')


@register.simple_tag(takes_context=True)
def filter_fields(context, form):
    return SafeString("".join(
        FILTER_FIELD.format(shown(field.id_for_label, context), shown(field.label, context),
                            shown(add_class(field, "form-control"), context))
        for field in form))


@register.simple_tag(takes_context=True)
def column_choices(context, columns):
    """`columns`: (name, label, shown?) of every column the list offers."""
    return SafeString("".join(
        COLUMN_CHOICE.format(shown(name, context), "checked" if on else "", shown(label, context))
        for name, label, on in columns))
