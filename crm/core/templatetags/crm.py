from django import template
from django.http import QueryDict

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
