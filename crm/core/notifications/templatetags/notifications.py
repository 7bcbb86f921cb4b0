from django import template

from ..services import unread_count

register = template.Library()


@register.inclusion_tag("notifications/_bell.html", takes_context=True)
def notification_bell(context):
    """The bell of the top bar: one indexed, capped COUNT per page; htmx refreshes it every minute."""
    user = context["request"].user
    return {"unread": unread_count(user) if user.is_authenticated else 0}
