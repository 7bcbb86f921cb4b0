"""Built-in notifications: a record transferred to you (every `<key>.transferred` event), and an
@mention in a note on a record you can see."""

import re
from contextlib import nullcontext
from datetime import timedelta

from django.db.models import F
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from ..access.scope import scope_q
from ..entities.registry import get_spec
from ..events.bus import subscribe
from ..timeline.models import Note
from .models import Notification
from .services import notify

# "@name": user names are letters, digits and . _ + - @ (Django's rule); a mention must not be
# the middle of an e-mail address, and trailing punctuation is not part of the name.
MENTION = re.compile(r"(?<![A-Za-z0-9._%+-])@([\w.@+-]+)")


def _detail_url(model, pk):
    try:
        return reverse(f"{get_spec(model).key}-detail", args=[pk])
    except (LookupError, NoReverseMatch):
        return ""


BURST = timedelta(minutes=1)
BURST_NAMES = 20


@subscribe("*")
def record_transferred(event):
    """One notification per record — but a burst (a bulk transfer, a hand-over) by the same actor
    to the same user within a minute folds into the first, still unread, notification: "Alice
    transferred 250 customers to you", with one e-mail, instead of 250."""
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
    if actor is not None and actor.pk == owner.pk:
        return
    folded = (Notification.objects
              .filter(recipient=owner, kind="transferred", actor=actor, content_type_id=event.content_type_id,
                      read_at__isnull=True, created_at__gte=timezone.now() - BURST)
              .exclude(object_id=obj.pk).exclude(email_status=Notification.EmailStatus.SENT)
              .order_by("-id").first())
    if folded is not None:
        _fold(folded, owner, actor, spec, obj)
        return

    def title(user):
        if actor is not None:
            return _("%(actor)s transferred %(entity)s “%(record)s” to you") % {
                "actor": actor, "entity": spec.label, "record": obj}
        return _("%(entity)s “%(record)s” was transferred to you") % {"entity": spec.label, "record": obj}

    # The e-mail waits for the burst to end, so it tells the whole of it.
    notify([owner], "transferred", title, url=_detail_url(model, obj.pk), obj=obj, actor=actor, email_delay=BURST)


def _fold(n, owner, actor, spec, obj):
    count = n.count + 1
    lang = getattr(owner, "language", "") or None
    with override(lang) if lang else nullcontext():
        if actor is not None:
            title = _("%(actor)s transferred %(count)d %(entities)s to you") % {
                "actor": actor, "count": count, "entities": spec.label_plural}
        else:
            title = _("%(count)d %(entities)s were transferred to you") % {"count": count, "entities": spec.label_plural}
        names = [line for line in n.body.splitlines() if line] or [n.title]
        if n.count == 1:
            first = spec.model._base_manager.filter(pk=n.object_id).first()
            names = [str(first)] if first is not None else []
        if len(names) < BURST_NAMES:
            names.append(str(obj))
        elif names[-1] != "…":
            names.append("…")
    try:
        url = reverse(f"{spec.key}-list")
    except NoReverseMatch:
        url = ""
    Notification.objects.filter(pk=n.pk).update(count=F("count") + 1, title=title[:200], body="\n".join(names)[:5000],
                                                url=url, object_id=None)


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
