"""One error format for the whole API:

    {"error": {"status": 400, "code": "invalid", "message": "...", "fields": {"name": ["..."]}}}
"""

from django.core.exceptions import PermissionDenied, ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_handler


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"

    def __init__(self, detail, current=None):
        super().__init__(detail)
        self.current = current  # the record as it is now, so the client can merge


class DuplicatesFound(exceptions.APIException):
    """Create refused by the duplicate check (CUS-3) unless forced."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "duplicate"

    def __init__(self, ids, hidden, editing=False):
        if editing:  # the check on edit (CUS-3): a changed key matches another record
            message = _("Similar records exist. Send force=1 to save the change anyway.")
        elif hidden and not ids:
            message = _("A similar record exists in another department. Send force=1 to create it anyway.")
        else:
            message = _("Similar records exist. Send force=1 to create it anyway.")
        super().__init__(message)
        self.duplicates, self.hidden_duplicates = ids, hidden


def _flatten(detail):
    if isinstance(detail, dict):
        return {k: _flatten_list(v) for k, v in detail.items()}
    return {}


def _flatten_list(v):
    if isinstance(v, (list, tuple)):
        out = []
        for x in v:
            out.extend(_flatten_list(x) if isinstance(x, (list, tuple)) else [str(x)])
        return out
    if isinstance(v, dict):
        return [f"{k}: {', '.join(_flatten_list(x))}" for k, x in v.items()]
    return [str(v)]


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages})
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found."))
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_handler(exc, context)
    if response is None:
        return None
    fields = {}
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        fields = _flatten(detail)
        message = _("Some fields are not valid.")
        code = "invalid"
    else:
        message = str(exc.detail) if hasattr(exc, "detail") else str(exc)
        code = getattr(exc, "default_code", "error")
        if isinstance(getattr(exc, "detail", None), dict):
            message = str(exc.detail.get("message", message))
    body = {"error": {"status": response.status_code, "code": code, "message": message, "fields": fields}}
    if getattr(exc, "current", None) is not None:
        body["error"]["current"] = exc.current
    if isinstance(exc, DuplicatesFound):
        body["error"]["duplicates"] = exc.duplicates
        body["error"]["hidden_duplicates"] = exc.hidden_duplicates
    response.data = body
    return response


ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "status": {"type": "integer"},
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
                "current": {"type": "object", "additionalProperties": True},
                "duplicates": {"type": "array", "items": {"type": "integer"}},
                "hidden_duplicates": {"type": "integer"},
            },
            "required": ["status", "code", "message", "fields"],
        }
    },
    "required": ["error"],
}
