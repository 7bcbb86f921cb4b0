"""Built-in notifications: a record transferred to you (every `<key>.transferred` event), and an
@mention in a note on a record you can see."""

import re

from django.db.models.signals import post_save
from django.dispatch import receiver
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from ..access.scope import scope_q
from ..entities.registry import get_spec
from ..events.bus import subscribe
from ..timeline.models import Note
from .services import notify

# "@name": user names are letters, digits and . _ + - @ (Django's rule); a mention must not be
# the middle of an e-mail address, and trailing punctuation is not part of the name.
MENTION = re.compile(r"(?<![A-Za-z0-9._%+-])@([\w.@+-]+)")


def _detail_url(model, pk):
    try:
        return reverse(f"{get_spec(model).key}-detail", args=[pk])
    except (LookupError, NoReverseMatch):
        return ""


@subscribe("*")
def record_transferred(event):
    if not event.name.endswith(".transferred") or event.content_type_id is None:
        return
    from django.contrib.auth import get_user_model

    model = event.content_type.model_class()
    obj = model._base_manager.filter(pk=event.object_id).first() if model else None
    owner = get_user_model().objects.filter(pk=(event.payload or {}).get("owner")).first()
    if obj is None or owner is None:
        return
    spec = get_spec(model)
    actor = event.actor

    def title(user):
        if actor is not None:
            return _("%(actor)s transferred %(entity)s “%(record)s” to you") % {
                "actor": actor, "entity": spec.label, "record": obj}
        return _("%(entity)s “%(record)s” was transferred to you") % {"entity": spec.label, "record": obj}

    notify([owner], "transferred", title, url=_detail_url(model, obj.pk), obj=obj, actor=actor)


def mentioned_users(text):
    """The active users named by @mentions in `text`."""
    from django.contrib.auth import get_user_model

    names = set()
    for match in MENTION.finditer(text or ""):
        token = match.group(1).rstrip(".@+-")
        names.add(token)
        ascii_prefix = re.match(r"[A-Za-z0-9_.@+-]+", token)  # "@rep请看" → also "rep"
        if ascii_prefix:
            names.add(ascii_prefix.group(0).rstrip(".@+-"))
    names.discard("")
    if not names:
        return []
    return list(get_user_model().objects.filter(username__in=names, is_active=True))


@receiver(post_save, sender=Note, dispatch_uid="notifications-mentions")
def note_mentions(sender, instance, created, raw=False, **kwargs):
    """Notes have no service of their own (the UI and the API create them directly), so the
    mention check hangs on the model: every channel that adds a note is covered."""
    if not created or raw:
        return
    users = mentioned_users(instance.body)
    if not users:
        return
    model = instance.content_type.model_class()
    if model is None:
        return
    try:
        get_spec(model)
    except LookupError:
        return
    obj = model._base_manager.filter(pk=instance.object_id).first()
    if obj is None:
        return
    # Only users who may see the record hear of it: the scope predicate per mentioned user.
    allowed = [u for u in users if model._base_manager.filter(scope_q(u, model, "view"), pk=obj.pk).exists()]
    author = instance.author
    excerpt = instance.body if len(instance.body) <= 500 else instance.body[:500] + "…"

    def title(user):
        return _("%(actor)s mentioned you on “%(record)s”") % {"actor": author or _("Someone"), "record": obj}

    notify(allowed, "mention", title, body=excerpt, url=_detail_url(model, obj.pk), obj=obj, actor=author)
