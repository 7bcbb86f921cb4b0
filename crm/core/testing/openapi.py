"""An API test client that holds every response to the committed OpenAPI file.

`docs/openapi.yaml` is the contract (regenerate it with
`python manage.py spectacular --file docs/openapi.yaml --validate`). Every response a test
receives through `ValidatingAPIClient` must match it: a documented path and method, a
documented status code (there is no `default` response, so an undocumented status fails) and a
body of the documented shape.
"""

from functools import lru_cache
from pathlib import Path

import yaml
from django.conf import settings
from django.http.request import RawPostDataException
from openapi_core import Config, OpenAPI
from openapi_core.contrib.django import DjangoOpenAPIResponse
from openapi_core.datatypes import RequestParameters
from rest_framework.test import APIClient
from werkzeug.datastructures import Headers, ImmutableMultiDict

SCHEMA_FILE = Path(settings.BASE_DIR) / "docs" / "openapi.yaml"
REGENERATE = "python manage.py spectacular --file docs/openapi.yaml --validate"


class ContractError(AssertionError):
    pass


@lru_cache(maxsize=1)
def contract() -> OpenAPI:
    with open(SCHEMA_FILE, encoding="utf-8") as f:
        spec = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    # The file itself is validated when generated (--validate, tests/test_openapi.py). A response
    # property the schema does not list is an error too.
    return OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None, additional_properties_default_policy="forbid"))


class _Request:
    """The request as openapi-core sees it. Paths are matched against the schema's templates
    (`/api/v1/customers/{id}/`), not Django's regex routes."""

    def __init__(self, request):
        self.request = request
        self.parameters = RequestParameters(
            query=ImmutableMultiDict([(k, v) for k, values in request.GET.lists() for v in values]),
            header=Headers(request.headers.items()),
            cookie=ImmutableMultiDict(dict(request.COOKIES)),
        )
        self.host_url = request._current_scheme_host
        self.path = request.path
        self.method = request.method.lower()
        try:
            self.body = request.body
        except RawPostDataException:  # a multipart upload the view has read; only responses are checked
            self.body = b""
        self.content_type = request.META.get("CONTENT_TYPE", "")


def check_response(response):
    """Raise ContractError unless `response` (from the Django/DRF test client) matches the
    contract. A streamed file (a download) has no body to hold to a schema: it is passed as is."""
    if getattr(response, "streaming", False):
        return response
    errors = list(contract().iter_response_errors(_Request(response.wsgi_request), DjangoOpenAPIResponse(response)))
    if errors:
        req = response.wsgi_request
        body = response.content[:2000].decode(errors="replace")
        details = "\n".join(f"  - {_explain(e)}" for e in errors)
        raise ContractError(
            f"{req.method} {req.get_full_path()} answered {response.status_code}, which does not match "
            f"docs/openapi.yaml:\n{details}\nbody: {body}\n"
            f"If the API change is intended, regenerate the schema: {REGENERATE}"
        )
    return response


def _explain(exc):
    parts = [f"{type(exc).__name__}: {exc}"]
    for sub in getattr(exc, "schema_errors", None) or []:
        parts.append(f"{'/'.join(str(p) for p in sub.absolute_path) or '<body>'}: {sub.message}")
    cause = exc.__cause__
    while cause is not None:
        parts.append(f"{type(cause).__name__}: {cause}")
        for sub in getattr(cause, "schema_errors", None) or []:
            parts.append(f"{'/'.join(str(p) for p in sub.absolute_path) or '<body>'}: {sub.message}")
        cause = cause.__cause__
    return "\n    ".join(parts)


class ValidatingAPIClient(APIClient):
    """`APIClient` whose every response is checked against docs/openapi.yaml. JSON by default."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.default_format = "json"

    def request(self, **kwargs):
        return check_response(super().request(**kwargs))

    def as_user(self, user):
        """Authenticate as `user` with an API token, as an integration would."""
        from ..access.models import ApiToken

        _token, secret = ApiToken.issue(user, "test")
        self.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        return self
