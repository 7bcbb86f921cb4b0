"""The form renderer: Django's, with the commonest widgets built in Python (issue #3).

Django renders every widget, and every <option> of a select, through the template engine: a
list page's filter form (18 widgets, ~50 options) spent more CPU there than on its query. The
widgets below produce exactly the markup of Django's own templates (tests/test_renderer.py
compares them); any other widget, or a project override of these templates, goes through the
templates as before.
"""

from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

WIDGETS = "django/forms/widgets/"
INPUT_TEMPLATES = {
    f"{WIDGETS}{name}.html"
    for name in ("input", "text", "email", "number", "password", "search", "tel", "url", "date", "datetime",
                 "time", "hidden", "color", "checkbox")
}


def _attrs(attrs):
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            out.append(f" {conditional_escape(name)}")
        else:
            out.append(f' {conditional_escape(name)}="{conditional_escape(str(value))}"')
    return "".join(out)


def _input(widget):
    value = "" if widget["value"] is None else f' value="{conditional_escape(str(widget["value"]))}"'
    return (f'<input type="{conditional_escape(widget["type"])}" name="{conditional_escape(widget["name"])}"'
            f"{value}{_attrs(widget['attrs'])}>")


def _option(option):
    return (f'<option value="{conditional_escape(str(option["value"]))}"{_attrs(option["attrs"])}>'
            f"{conditional_escape(option['label'])}</option>")


def _select(widget):
    out = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            out.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
        for option in group_choices:
            if option.get("template_name") != f"{WIDGETS}select_option.html":
                return None  # a custom option template: let the templates do it all
            out.append(f"\n  {_option(option)}\n")  # the option template ends with a newline
        if group_name:
            out.append("\n  </optgroup>")
    out.append("\n</select>")
    return "".join(out)


class FastWidgetRenderer(DjangoTemplates):
    def render(self, template_name, context, request=None):
        widget = context.get("widget") if isinstance(context, dict) else None
        html = None
        if widget is not None:
            if template_name in INPUT_TEMPLATES:
                html = _input(widget)
            elif template_name == f"{WIDGETS}select.html":
                html = _select(widget)
        if html is None:
            return super().render(template_name, context, request)
        return mark_safe(html)
