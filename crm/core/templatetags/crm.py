import functools

from django import template
from django.http import QueryDict
from django.utils.safestring import SafeString

from .. import versions
from ..customfields import ui as customfields
from ..ui import cells, fragments
from ..ui.filters import form_key
from ..ui.table import shown

register = template.Library()


@register.simple_tag
def query_with(query, **changes):
    """The current query string with some parameters replaced (and the cursor dropped)."""
    try:
        return _query_with(query, tuple(changes.items()))
    except TypeError:  # a value that cannot be a key
        return _query_with.__wrapped__(query, tuple(changes.items()))


@functools.lru_cache(maxsize=2048)  # a list's sort and page-size links are the same for every page (issue #3)
def _query_with(query, changes):
    params = QueryDict(query, mutable=True)
    params.pop("after", None)
    for k, v in changes:
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
def filter_fields(context, filterset):
    """The filter set's form fields; kept per process when they are the same for everyone
    (`ui.filters.form_key`, `ui.fragments`)."""
    def render():
        return SafeString("".join(
            FILTER_FIELD.format(shown(field.id_for_label, context), shown(field.label, context),
                                shown(add_class(field, "form-control"), context))
            for field in filterset.form))

    key = form_key(filterset) if context.autoescape else None
    return fragments.cached(key, render) if key else render()


@register.simple_tag(takes_context=True)
def column_choices(context, spec, columns):
    """A checkbox for every column the list offers, those in `columns` (name, label, sortable)
    ticked; the same for everyone who sees these columns, so kept per process (`ui.fragments`)."""
    ticked = tuple(name for name, _label, _sortable in columns)

    def render():
        return SafeString("".join(
            COLUMN_CHOICE.format(shown(name, context), "checked" if name in ticked else "",
                                 shown(cells.field_label(spec.model, name), context))
            for name in customfields.list_columns(spec)))

    if not context.autoescape:
        return render()
    return fragments.cached(("column-choices", spec.key, ticked, versions.token("customfields")), render)
