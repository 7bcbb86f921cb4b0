from django import template

register = template.Library()


@register.filter
def field_groups(form):
    """The form's visible fields grouped for display (custom field groups, SYS-11)."""
    from ..forms import grouped

    return grouped(form)
