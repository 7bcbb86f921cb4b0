from django.core.mail import EmailMultiAlternatives
from django_tasks import task


@task()
def send_email(subject, body, to, html_body=None, from_email=None):
    """Mail leaves through the job worker, never inside a web request."""
    message = EmailMultiAlternatives(subject, body, from_email, to)
    if html_body:
        message.attach_alternative(html_body, "text/html")
    message.send()
