"""Accounts (SYS-4, SEC-2, INT-1): log-in and log-out with history, lockout after repeated
failures, password change and reset, Argon2 hashing, API tokens."""

import hashlib
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.utils import timezone
from crm.core.testing.openapi import ValidatingAPIClient as APIClient  # responses checked against the OpenAPI file

from crm.core.access.models import ApiToken
from crm.core.audit.models import AuditEntry
from crm.core.testing.org import Scope, make_user

PASSWORD = "Secret-pass-123"
IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def login(client, username, password=PASSWORD):
    return client.post("/login/", {"username": username, "password": password}, HTTP_ACCEPT_LANGUAGE="en")


def logged_in(client):
    return "_auth_user_id" in client.session


def bearer(secret):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


# --- Log-in, log-out, history -------------------------------------------------------------

def test_login_and_logout_are_recorded_in_the_login_history(admin, rep):
    client = Client()
    assert client.get("/customers/").status_code == 302  # anonymous: to the log-in page
    response = login(client, "rep")
    assert response.status_code == 302 and logged_in(client)
    assert client.get("/customers/").status_code == 200
    response = client.post("/logout/")
    assert response.status_code == 302 and not logged_in(client)
    assert client.get("/customers/").status_code == 302

    assert login(Client(), "rep", "wrong-password").status_code == 200
    actions = list(AuditEntry.objects.order_by("at", "id").values_list("action", "actor__username"))
    assert actions == [("login", "rep"), ("logout", "rep"), ("login_failed", None)]
    failed = AuditEntry.objects.get(action="login_failed")
    assert failed.extra["username"] == "rep" and failed.ip == "127.0.0.1"
    assert "password" not in str(failed.extra)

    history = Client(HTTP_ACCEPT_LANGUAGE="en")
    history.force_login(admin)
    html = history.get("/org/logins/").content.decode()
    assert html.count("Rep") >= 2 and "failed login" in html
    # Only with the view_audit special permission.
    peek = Client()
    peek.force_login(rep)
    assert peek.get("/org/logins/").status_code == 403
    assert "logged in" in peek.get("/account/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_login_redirects_only_to_this_site(rep):
    client = Client()
    response = client.post("/login/?next=https://evil.example/", {"username": "rep", "password": PASSWORD,
                                                                   "next": "https://evil.example/"})
    assert response.status_code == 302 and "evil.example" not in response["Location"]
    client = Client()
    response = client.post("/login/", {"username": "rep", "password": PASSWORD, "next": "/customers/"})
    assert response["Location"] == "/customers/"


def test_wrong_password_shows_an_error_and_does_not_log_in(rep):
    client = Client()
    response = login(client, "rep", "nope")
    assert response.status_code == 200 and not logged_in(client)
    assert "alert-danger" in response.content.decode()
    response = login(client, "nobody", "nope")
    assert response.status_code == 200 and not logged_in(client)


def test_lockout_after_repeated_failures(rep, manager):
    limit = settings.AXES_FAILURE_LIMIT
    client = Client()
    for _ in range(limit - 1):
        response = login(client, "rep", "wrong")
        assert response.status_code == 200 and 'data-testid="locked-out"' not in response.content.decode()
    response = login(client, "rep", "wrong")
    assert 'data-testid="locked-out"' in response.content.decode()
    # Now even the right password does not get in, from any client.
    for attempt in (client, Client(REMOTE_ADDR="10.1.2.3")):
        response = login(attempt, "rep")
        assert response.status_code == 429
        assert 'data-testid="locked-out"' in response.content.decode()
        assert not logged_in(attempt)
    # The lockout is per user name: a colleague in the same office still logs in.
    other = Client()
    assert login(other, "manager").status_code == 302 and logged_in(other)


def test_a_successful_login_resets_the_failure_count(rep):
    limit = settings.AXES_FAILURE_LIMIT
    client = Client()
    for _ in range(limit - 1):
        login(client, "rep", "wrong")
    assert login(client, "rep").status_code == 302
    client.post("/logout/")
    for _ in range(limit - 1):
        login(client, "rep", "wrong")
    assert login(client, "rep").status_code == 302 and logged_in(client)


def test_inactive_users_cannot_log_in(depts):
    make_user("idle", depts["sales1"], is_active=False)
    client = Client()
    assert login(client, "idle").status_code == 200 and not logged_in(client)


# --- Passwords ------------------------------------------------------------------------------

def test_passwords_are_hashed_with_argon2(rep):
    rep.refresh_from_db()
    assert rep.password.startswith("argon2$")
    assert PASSWORD not in rep.password


def test_password_change(rep):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert login(client, "rep").status_code == 302
    response = client.post("/password/change/", {"old_password": "wrong", "new_password1": "Brand-new-pass-9",
                                                 "new_password2": "Brand-new-pass-9"})
    assert response.status_code == 200 and "old password was entered incorrectly" in response.content.decode()
    response = client.post("/password/change/", {"old_password": PASSWORD, "new_password1": "12345678",
                                                 "new_password2": "12345678"})
    assert response.status_code == 200  # too common, entirely numeric
    rep.refresh_from_db()
    assert rep.check_password(PASSWORD)

    response = client.post("/password/change/", {"old_password": PASSWORD, "new_password1": "Brand-new-pass-9",
                                                 "new_password2": "Brand-new-pass-9"})
    assert response.status_code == 302
    assert client.get("/customers/").status_code in (200, 403)  # still logged in after the change
    rep.refresh_from_db()
    assert rep.check_password("Brand-new-pass-9") and rep.password.startswith("argon2$")
    assert AuditEntry.objects.filter(action="password", actor=rep, object_id=rep.pk).exists()
    assert login(Client(), "rep").status_code == 200
    assert login(Client(), "rep", "Brand-new-pass-9").status_code == 302


@override_settings(TASKS=IMMEDIATE_TASKS)
def test_password_reset_by_email(rep, mailoutbox):
    rep.email = "rep@example.com"
    rep.save()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.post("/password/reset/", {"email": "rep@example.com"})
    assert response.status_code == 302 and response["Location"] == "/password/reset/done/"
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["rep@example.com"]
    link = re.search(r"/password/reset/[^/\s]+/[^/\s]+/", mail.body).group(0)

    response = client.get(link)
    assert response.status_code == 302  # Django swaps the token for a session and redirects
    set_url = response["Location"]
    response = client.post(set_url, {"new_password1": "Reset-pass-2024", "new_password2": "Reset-pass-2024"})
    assert response.status_code == 302
    rep.refresh_from_db()
    assert rep.check_password("Reset-pass-2024")
    # The link works once.
    response = Client().get(link, follow=True)
    assert response.status_code == 200 and "new_password1" not in response.content.decode()


@override_settings(TASKS=IMMEDIATE_TASKS)
def test_password_reset_for_an_unknown_address_sends_nothing_and_reveals_nothing(rep, mailoutbox):
    response = Client().post("/password/reset/", {"email": "nobody@example.com"})
    assert response.status_code == 302 and response["Location"] == "/password/reset/done/"
    assert mailoutbox == []


def test_password_reset_mail_goes_through_the_task_queue(rep, mailoutbox):
    """With the default database backend the mail is only queued (a job of the engine, handed
    to the backend after commit); the worker sends it."""
    from crm.core.jobs.models import Job

    rep.email = "rep@example.com"
    rep.save()
    Client().post("/password/reset/", {"email": "rep@example.com"})
    assert mailoutbox == []
    assert Job.objects.filter(task_path="crm.org.tasks.send_email").count() == 1


# --- API tokens ------------------------------------------------------------------------------

def test_api_token_created_on_the_account_page_works_as_bearer(rep):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(rep)
    response = client.post("/account/tokens/", {"name": "ERP", "days": "30"})
    assert response.status_code == 200
    secret = re.search(r'data-testid="new-token".*?<code[^>]*>([^<]+)</code>', response.content.decode(), re.S).group(1)
    token = ApiToken.objects.get(user=rep, name="ERP")
    assert secret not in (token.key_hash, token.prefix)
    assert token.key_hash == hashlib.sha256(secret.split("_", 2)[2].encode()).hexdigest()
    assert secret not in client.get("/account/tokens/").content.decode()  # shown once
    assert abs((token.expires_at - timezone.now()) - timedelta(days=30)) < timedelta(minutes=1)

    response = bearer(secret).get("/api/v1/customers/")
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.parametrize("post", [{"name": "", "days": "30"}, {"name": "X", "days": "0"}, {"name": "X", "days": "abc"},
                                  {"name": "X", "days": "99999"}])
def test_api_token_form_rejects_bad_input(rep, post):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(rep)
    response = client.post("/account/tokens/", post)
    assert response.status_code == 400 and "alert-danger" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_revoked_expired_and_wrong_tokens_get_401(rep, depts):
    token, secret = ApiToken.issue(rep, "to revoke")
    assert bearer(secret).get("/api/v1/customers/").status_code == 200

    # Another user cannot revoke it.
    other = make_user("other", depts["sales1"], {"customers": Scope.OWN})
    stranger = Client()
    stranger.force_login(other)
    stranger.post(f"/account/tokens/{token.pk}/revoke/")
    assert bearer(secret).get("/api/v1/customers/").status_code == 200

    owner = Client()
    owner.force_login(rep)
    assert owner.get(f"/account/tokens/{token.pk}/revoke/").status_code == 405
    assert owner.post(f"/account/tokens/{token.pk}/revoke/").status_code == 302
    response = bearer(secret).get("/api/v1/customers/")
    assert response.status_code == 401
    assert response.json()["error"]["status"] == 401

    expired, expired_secret = ApiToken.issue(rep, "old", days=1)
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert bearer(expired_secret).get("/api/v1/customers/").status_code == 401

    _live, live_secret = ApiToken.issue(rep, "live")
    prefix = live_secret.rsplit("_", 1)[0]
    for wrong in (live_secret[:-2] + "xx", prefix + "_", "crm_nope_nope", "garbage", live_secret + "x"):
        assert bearer(wrong).get("/api/v1/customers/").status_code == 401, wrong
    anonymous = APIClient().get("/api/v1/customers/")
    assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"] == "Bearer"


def test_token_of_a_deactivated_user_gets_401(rep):
    _token, secret = ApiToken.issue(rep, "x")
    type(rep).objects.filter(pk=rep.pk).update(is_active=False)
    assert bearer(secret).get("/api/v1/customers/").status_code == 401


def test_api_token_carries_the_users_permissions_only(rep, manager):
    from crm.core.entities import services
    from crm.customers.models import Customer

    services.create(manager, Customer, {"name": "Manager's"})
    services.create(rep, Customer, {"name": "Rep's"})
    _t, secret = ApiToken.issue(rep, "x")
    names = [c["name"] for c in bearer(secret).get("/api/v1/customers/").json()["results"]]
    assert names == ["Rep's"]
    assert bearer(secret).get("/api/v1/roles/").status_code == 403


@override_settings(TASKS=IMMEDIATE_TASKS)
def test_password_reset_is_not_sent_to_employees_who_left(depts, mailoutbox):
    make_user("leaver", depts["sales1"], email="leaver@example.com", is_active=False, status="left")
    response = Client().post("/password/reset/", {"email": "leaver@example.com"})
    assert response.status_code == 302
    assert mailoutbox == []
