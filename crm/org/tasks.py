from django.core.mail import EmailMultiAlternatives
from django_tasks import task


@task()
def send_email(subject, body, to, html_body=None, from_email=None):
    """Mail leaves through the job worker, never inside a web request."""
    message = EmailMultiAlternatives(subject, body, from_email, to)
    if html_body:
        message.attach_alternative(html_body, "text/html")
    message.send()


@task()
def reterritory_job(territory_id=None, actor_id=None):
    """Re-territory the records after a territory changed (SAL-9), with progress."""
    from crm.core.jobs import report_progress

    from .models import User
    from .territories import reterritory

    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    return reterritory(territory_id, actor, progress=report_progress)
