"""The notification e-mail job: retried with backoff while the mail server fails."""

from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from ..jobs.engine import retryable
from .models import Notification


@retryable(max_attempts=8, backoff=timedelta(minutes=1), max_backoff=timedelta(hours=2))
@task()
def send_notification_email(notification_id):
    n = Notification.objects.select_related("recipient").filter(pk=notification_id).first()
    if n is None or n.email_status == Notification.EmailStatus.SENT or not n.recipient.email:
        return "skipped"
    link = _absolute(n.url)
    body = "\n\n".join(part for part in (n.body, link) if part)
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1] or "localhost"
    message = EmailMessage(
        subject=n.title, body=body or n.title, from_email=settings.DEFAULT_FROM_EMAIL, to=[n.recipient.email],
        # The same Message-ID on every attempt: a mail sent twice (worker killed between sending
        # and recording it) is recognisable as one by the receiving side.
        headers={"Message-ID": f"<notification-{n.pk}@{domain}>", "X-CRM-Notification": n.kind},
        connection=get_connection(timeout=getattr(settings, "EMAIL_TIMEOUT", None) or 30),
    )
    try:
        message.send()
    except Exception as exc:
        Notification.objects.filter(pk=n.pk).update(email_error=f"{type(exc).__name__}: {exc}"[:500])
        _mark_failed_if_last_attempt(n.pk)
        raise
    with transaction.atomic():
        Notification.objects.filter(pk=n.pk).update(email_status=Notification.EmailStatus.SENT, email_error="",
                                                     emailed_at=timezone.now())
    return "sent"


def _absolute(url):
    if not url:
        return ""
    if url.startswith("http://") or url.startswith("https://"):
        return url
    base = getattr(settings, "CRM_BASE_URL", "").rstrip("/")
    return f"{base}{url}" if base else url


def _mark_failed_if_last_attempt(notification_id):
    from ..jobs.engine import current_job_id
    from ..jobs.models import Job

    job = Job.objects.filter(pk=current_job_id()).values("attempts", "max_attempts").first()
    if job is None or job["attempts"] >= job["max_attempts"]:
        Notification.objects.filter(pk=notification_id).update(email_status=Notification.EmailStatus.FAILED)
