"""Login history (SYS-4): Django's auth signals are the protocol edge here, not business logic."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .log import record
from .models import AuditEntry


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    record(user, AuditEntry.Action.LOGIN, request=request, extra={"agent": _agent(request)})


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        record(user, AuditEntry.Action.LOGOUT, request=request)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    record(None, AuditEntry.Action.LOGIN_FAILED, request=request,
           extra={"username": str(credentials.get("username", ""))[:150], "agent": _agent(request)})


def _agent(request):
    return request.META.get("HTTP_USER_AGENT", "")[:200] if request is not None else ""
