"""Security rules that hold for every page (SEC-1, SEC-2, DESIGN "Security and reliability
rules"): Content-Security-Policy, CSRF on every state-changing URL, escaped user input, the
production deployment check, migrations in sync, and the import-layer contracts."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from crm.core.entities import services
from crm.core.timeline.models import Note
from crm.customers.models import Contact, Customer
from crm.core.testing.clients import browser

XSS = "<script>alert(1)</script>"
XSS_NOTE = '<img src=x onerror="alert(2)"><b>bold</b>'
BASE = Path(settings.BASE_DIR)



# --- Content-Security-Policy ---------------------------------------------------------------

def _directives(header):
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def test_pages_send_a_strict_content_security_policy(admin, rep):
    customer = services.create(rep, Customer, {"name": "CSP Co"})
    anonymous = Client()
    pages = [(anonymous, "/login/"), (anonymous, "/password/reset/")]
    pages += [(browser(rep), url) for url in ("/", "/customers/", f"/customers/{customer.pk}/", "/customers/new/",
                                              f"/customers/{customer.pk}/edit/", "/account/tokens/")]
    pages += [(browser(admin), url) for url in ("/org/tree/", "/employees/", f"/employees/{rep.pk}/handover/")]
    for client, url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        header = response.get("Content-Security-Policy")
        assert header, f"{url} has no Content-Security-Policy"
        csp = _directives(header)
        script_src = csp.get("script-src") or csp.get("default-src")
        assert script_src, url
        assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src, url
        assert "*" not in script_src and "data:" not in script_src, url
        assert csp.get("object-src") == ["'none'"] and csp.get("frame-ancestors") == ["'none'"], url
        # The policy can hold because no page carries inline script or event handlers.
        html = response.content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), f"inline <script> on {url}"
        assert not re.search(r"\son[a-z]+\s*=", html, re.I), f"inline event handler on {url}"
        assert response["X-Frame-Options"] == "DENY" and response["X-Content-Type-Options"] == "nosniff"


# --- CSRF -----------------------------------------------------------------------------------

def _all_routes(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            yield from _all_routes(p, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern)


def _fill(route, pk):
    """A concrete URL for a route: path converters and the router's regex groups filled in."""
    path = re.sub(r"<int:[a-z_]+>|\(\?P<pk>[^)]*\)", str(pk), route)
    path = re.sub(r"<(?:[a-z]+:)?[a-z0-9_]+>", "x", path)
    return "/" + path.replace("^", "").replace("$", "").lstrip("/")


# Inbound webhooks authenticate by signature, not by session, and may be listed here with the
# reason; nothing else may accept a POST without a CSRF token.
CSRF_EXEMPT_ROUTES: dict[str, str] = {
    "/f/x/": "the public lead web form (LEAD-1) is embedded on other sites, where no CSRF cookie reaches it; "
             "a signed form stamp, a honeypot field and a rate limit guard it",
}


def test_every_url_refuses_a_post_without_csrf_token(admin, rep):
    """Whatever the URL (pages, actions, API with a session), a cross-site POST is refused."""
    customer = services.create(rep, Customer, {"name": "CSRF Co"})
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    routes = sorted({_fill(r, customer.pk) for r in _all_routes() if "(?P<format>" not in r})
    assert len(routes) > 50 and "/customers/bulk/" in routes and "/logout/" in routes
    accepted = []
    for url in routes:
        if url.startswith("/static/") or url in CSRF_EXEMPT_ROUTES:
            continue
        response = client.post(url, {"name": "x", "action": "delete", "ids": [customer.pk], "body": "x",
                                     "owner": admin.pk, "successor": admin.pk, "language": "en"})
        if response.status_code != 403:
            accepted.append((url, response.status_code))
    assert accepted == []
    assert Customer.objects.filter(pk=customer.pk, name="CSRF Co").exists()
    assert not Note.objects.exists()
    assert "_auth_user_id" in client.session  # logout without a token did not log out


def test_posts_with_the_csrf_token_are_accepted(rep):
    client = Client(enforce_csrf_checks=True)
    client.force_login(rep)
    page = client.get("/customers/new/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = client.post("/customers/new/", {"csrfmiddlewaretoken": token, "name": "With Token", "customer_type": "company",
                                               "level": "normal", "status": "potential", "credit_limit": "0",
                                               "registered_at": "2024-01-01T10:00"})
    assert response.status_code == 302
    customer = Customer.objects.get(name="With Token")
    # HTMX sends the token from the meta tag as a header.
    meta = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    response = client.post(f"/customers/{customer.pk}/notes/", {"body": "hx"}, HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=meta)
    assert response.status_code == 200


# --- User input is rendered escaped ---------------------------------------------------------

def test_user_entered_html_is_escaped_everywhere(rep, manager):
    client = browser(rep)
    response = client.post("/customers/new/", {"name": XSS, "customer_type": "company", "level": "normal",
                                               "status": "potential", "credit_limit": "0", "city": XSS,
                                               "registered_at": "2024-01-01T10:00", "notes": XSS_NOTE, "tags": XSS})
    assert response.status_code == 302
    customer = Customer.objects.get(name=XSS)
    contact = services.create(rep, Contact, {"customer": customer, "name": XSS, "title": XSS_NOTE})
    child = services.create(rep, Customer, {"name": "Child <i>x</i>", "parent": customer})
    assert client.post(f"/customers/{customer.pk}/notes/", {"body": XSS_NOTE}, HTTP_HX_REQUEST="true").status_code == 200
    client.post(f"/customers/{customer.pk}/edit/", {"name": XSS + "2", "customer_type": "company", "level": "normal",
                                                     "status": "potential", "credit_limit": "0", "city": XSS,
                                                     "registered_at": "2024-01-01T10:00", "version": 1})

    pages = [
        (client, "/customers/"), (client, f"/customers/{customer.pk}/"), (client, f"/customers/{customer.pk}/edit/"),
        (client, f"/customers/{customer.pk}/copy/"), (client, f"/contacts/{contact.pk}/"), (client, "/contacts/"),
        (client, f"/customers/{child.pk}/"), (client, "/search/?q=script"), (client, "/"),
        (client, f"/customers/{customer.pk}/transfer/"), (client, f"/customers/{customer.pk}/delete/"),
        (client, f"/customers/?q={XSS}"),
    ]
    for who, url in pages:
        response = who.get(url, HTTP_HX_REQUEST="true") if "suggest" in url else who.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "<script>alert" not in html and "<img src=x" not in html and "<i>x</i>" not in html, url
    detail = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in detail
    assert "&lt;img src=x onerror=" in detail  # the note, as text
    response = client.get("/search/", {"q": "script", "suggest": "1"}, HTTP_HX_REQUEST="true")
    assert "<script>alert" not in response.content.decode()
    assert "&lt;script&gt;" in response.content.decode()
    # Flash messages carry the name too.
    response = client.post(f"/customers/{child.pk}/delete/", follow=True)
    assert "<i>x</i>" not in response.content.decode() and "&lt;i&gt;x&lt;/i&gt;" in response.content.decode()


# --- Deployment, migrations, layering ---------------------------------------------------------

def _manage(*args, env=None):
    return subprocess.run([sys.executable, "manage.py", *args], cwd=BASE, env={**os.environ, **(env or {})},
                          capture_output=True, text=True, timeout=300)


def _production_env(secret_key):
    return {"CRM_ENV": "production", "SECRET_KEY": secret_key, "ALLOWED_HOSTS": "crm.example.com",
            "DJANGO_SETTINGS_MODULE": "crm.settings"}


def test_deploy_check_passes_with_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=_production_env(secrets.token_urlsafe(64)))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_deploy_check_would_catch_a_weak_secret_key():
    """The check above is not vacuous: a weak key is reported."""
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=_production_env("short"))
    assert result.returncode != 0 and "security.W009" in result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = _production_env("x")
    env.pop("SECRET_KEY")
    clean = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=BASE, env={**clean, **env},
                            capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_models_and_migrations_are_in_sync():
    result = _manage("makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout


def test_import_layers_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    if not lint.exists():
        pytest.fail("lint-imports is not installed next to the Python running the tests (pip install import-linter)")
    result = subprocess.run([str(lint)], cwd=BASE, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


# --- Malformed parameters never break a page ---------------------------------------------------

HUGE = "9" * 25
ODD_NUMBERS = [HUGE, "²", "١٢", "-1", "1e3"]


@pytest.mark.parametrize("raw", ODD_NUMBERS)
def test_malformed_ids_and_numbers_in_parameters_are_handled(admin, rep, raw):
    customer = services.create(rep, Customer, {"name": "Param Co"})
    client = browser(rep)
    for url in ("/customers/", "/api/v1/customers/", "/customers/export/", "/customers/lookup/", "/search/"):
        for name in ("parent", "owner", "view", "size", "after", "page_size", "cursor", "sort"):
            response = client.get(url, {name: raw})
            assert response.status_code in (200, 400), (url, name, response.status_code)
    for url in (f"/customers/{customer.pk}/transfer/",):
        assert client.post(url, {"owner": raw}).status_code == 400
    response = client.post("/customers/bulk/", {"action": "delete", "ids": [raw]})
    assert response.status_code == 302
    response = client.post("/customers/bulk/", {"action": "transfer", "ids": [customer.pk], "owner": raw})
    assert response.status_code == 302
    assert client.post("/customers/views/", {"name": "v", "p_parent": raw}).status_code == 302
    assert client.get("/customers/", {"view": raw}).status_code == 200
    assert browser(admin).get("/org/logins/", {"user": raw}).status_code == 200
    assert browser(admin).get(f"/employees/{rep.pk}/handover/").status_code == 200
    assert browser(admin).post(f"/employees/{rep.pk}/handover/", {"successor": raw}).status_code == 400
    assert Customer.objects.get(pk=customer.pk).owner == rep
