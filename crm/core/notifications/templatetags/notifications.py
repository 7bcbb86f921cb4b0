from django import template
from django.template.loader import render_to_string

from ...ui import fragments
from ..services import unread_count

register = template.Library()


@register.simple_tag(takes_context=True)
def notification_bell(context):
    """The bell of the top bar: one indexed, capped COUNT per page; htmx refreshes it every minute.
    The same for everyone with as many unread: rendered once per count and language (issue #3)."""
    user = context["request"].user
    unread = unread_count(user) if user.is_authenticated else 0
    return fragments.cached(("bell", unread), lambda: render_to_string("notifications/_bell.html", {"unread": unread}))
