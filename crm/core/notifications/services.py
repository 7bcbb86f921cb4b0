"""notify(): the one way to tell users something (ACT-4).

    from crm.core.notifications import notify
    notify([assignee], "task_assigned", _("New task: %s") % task.title, url=task.get_absolute_url(),
           obj=task, actor=request.user)

Inside a transaction, the in-app rows are written with the change that caused them (a rollback
leaves none); e-mails go to the job engine after commit as retryable jobs, so a failing mail
server delays an e-mail (retried with backoff, visible on the jobs page and on the notification)
but never loses it and never breaks the request."""

from contextlib import nullcontext

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from django.utils.translation import override

from .kinds import get_kind
from .models import Notification, NotificationPreference


def channels_for(users, kind):
    """{user id: (in_app, email)} for `kind`, from the users' preferences or the kind's defaults."""
    k = get_kind(kind)
    chosen = {p.user_id: (p.in_app, p.email)
              for p in NotificationPreference.objects.filter(user__in=[u.pk for u in users], kind=kind)}
    return {u.pk: chosen.get(u.pk, (k.in_app, k.email)) for u in users}


def _text(value, user):
    """Lazy translations — and callables `f(user)` building a text — are rendered in the
    recipient's language (if the user chose one)."""
    lang = getattr(user, "language", "") or None
    with override(lang) if lang else nullcontext():
        return str(value(user) if callable(value) else value)


def notify(recipients, kind, title, body="", url="", obj=None, actor=None, *, include_actor=False,
           email_delay=None):
    """Notify each active recipient once (duplicates dropped; the actor is left out unless
    `include_actor`). Returns the Notification rows created. `title` and `body` may be lazy
    translations or callables `f(user)`: each recipient gets them in their own language.
    `email_delay` (a timedelta) holds the e-mails back, e.g. to fold a burst into one."""
    from .tasks import send_notification_email

    get_kind(kind)
    seen, users = set(), []
    for u in recipients:
        if u is None or u.pk in seen or not u.is_active:
            continue
        if not include_actor and actor is not None and getattr(actor, "pk", None) == u.pk:
            continue
        seen.add(u.pk)
        users.append(u)
    if not users:
        return []
    channels = channels_for(users, kind)
    ct = ContentType.objects.get_for_model(obj) if obj is not None else None
    actor = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    now = timezone.now()
    rows = []
    for u in users:
        in_app, email = channels[u.pk]
        email = email and bool(u.email)
        if not in_app and not email:
            continue
        rows.append(Notification(
            recipient=u, kind=kind, title=_text(title, u)[:200], body=_text(body, u)[:5000], url=url[:500],
            content_type=ct, object_id=obj.pk if obj is not None else None, actor=actor, in_app=in_app,
            created_at=now, email_status=Notification.EmailStatus.PENDING if email else "",
        ))
    created = Notification.objects.bulk_create(rows)
    from ..jobs.engine import enqueue_job

    for n in created:
        if n.email_status == Notification.EmailStatus.PENDING:
            enqueue_job(send_notification_email, args=(n.pk,), key=f"notification-mail:{n.pk}",
                        run_after=now + email_delay if email_delay else None)
    return created


def unread_count(user, cap=100):
    """The badge: an indexed COUNT over at most `cap` unread rows of this user."""
    return Notification.objects.filter(recipient=user, in_app=True, read_at__isnull=True)[:cap].count()


def mark_read(user, ids=None):
    """Mark the user's notifications (all, or those in `ids`) read; returns how many changed.
    Another user's ids change nothing."""
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())
