"""Notifications (ACT-4): in-app rows and e-mail through a real SMTP server on loopback, a mail
server that is down, preferences, the bell, marking read, privacy, transfers and @mentions."""

import socket
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from crm.core.access.levels import Scope
from crm.core.entities import services
from crm.core.jobs.models import Job
from crm.core.jobs.testing import run_jobs
from crm.core.notifications import notify
from crm.core.notifications.models import Notification, NotificationPreference
from crm.core.testing.clients import api_as, browser
from crm.core.testing.org import make_user
from crm.core.timeline.models import Note
from crm.customers.models import Customer


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"

    def bodies(self):
        return [m.content.decode("utf-8", "replace") for m in self.messages]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_port():
    return _free_port()


@pytest.fixture
def smtp_settings(smtp_port):
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="127.0.0.1",
                           EMAIL_PORT=smtp_port, EMAIL_USE_TLS=False, EMAIL_USE_SSL=False, EMAIL_TIMEOUT=5,
                           DEFAULT_FROM_EMAIL="crm@example.com", CRM_BASE_URL="https://crm.example.com"):
        yield smtp_port


def start_smtp(port):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    return inbox, controller


@pytest.fixture
def smtp(smtp_settings):
    inbox, controller = start_smtp(smtp_settings)
    yield inbox
    controller.stop()


@pytest.fixture
def alice(depts):
    return make_user("alice", depts["sales1"], {"customers": Scope.OWN}, email="alice@example.com", language="en")


@pytest.fixture
def bob(depts):
    return make_user("bob", depts["guangzhou"], {"customers": Scope.OWN}, email="bob@example.com", language="en")


def _customer(user, name="Acme Trading"):
    return services.create(user, Customer, {"name": name})


# --- notify: rows in the transaction, e-mail after commit ----------------------------------------

@pytest.mark.django_db
def test_notify_writes_the_row_and_the_email_arrives_at_a_real_smtp_server(alice, bob, smtp):
    with transaction.atomic():
        [n] = notify([bob], "mention", "Alice mentioned you", body="Please call them back.", url="/customers/1/",
                     actor=alice)
    assert n.recipient == bob and not n.is_read and n.email_status == "pending"
    job = Job.objects.get(task_path="crm.core.notifications.tasks.send_notification_email")
    assert job.args == [n.pk] and job.max_attempts > 1

    run_jobs()
    assert len(smtp.messages) == 1
    mail = smtp.messages[0]
    assert mail.rcpt_tos == ["bob@example.com"] and mail.mail_from == "crm@example.com"
    body = smtp.bodies()[0]
    assert "Subject: Alice mentioned you" in body and "Please call them back." in body
    assert "https://crm.example.com/customers/1/" in body
    assert f"Message-ID: <notification-{n.pk}@example.com>" in body
    n.refresh_from_db()
    assert n.email_status == "sent" and n.emailed_at is not None

    run_jobs()  # nothing is sent twice
    assert len(smtp.messages) == 1


@pytest.mark.django_db
def test_a_rolled_back_transaction_leaves_no_notification_and_sends_nothing(alice, bob, smtp):
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            notify([bob], "mention", "never", actor=alice)
            raise RuntimeError
    assert not Notification.objects.exists() and not Job.objects.exists()
    run_jobs()
    assert smtp.messages == []


@pytest.mark.django_db
def test_the_actor_inactive_users_and_duplicates_are_left_out(alice, bob, depts):
    gone = make_user("gone", depts["sales1"], email="gone@example.com", is_active=False)
    rows = notify([bob, bob, alice, gone], "mention", "hi", actor=alice)
    assert [n.recipient for n in rows] == [bob]
    with pytest.raises(ValueError):
        notify([bob], "no-such-kind", "hi")


@pytest.mark.django_db
def test_a_mail_server_that_is_down_delays_the_email_but_loses_nothing(alice, bob, smtp_settings,
                                                                      django_capture_on_commit_callbacks):
    client = browser(alice)
    customer = _customer(alice)
    # The request that causes the notification succeeds although no mail server answers.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/customers/{customer.pk}/transfer/", {"owner": bob.pk})
    assert response.status_code in (200, 302)
    n = Notification.objects.get(recipient=bob, kind="transferred")
    assert n.email_status == "pending"

    run_jobs(now=timezone.now() + timedelta(minutes=2))  # transfer mails wait a minute for a burst to end
    n.refresh_from_db()
    job = Job.objects.get(task_path="crm.core.notifications.tasks.send_notification_email")
    assert job.status == Job.Status.RETRYING and job.attempts == 1 and job.run_after > timezone.now()
    assert "ConnectionRefusedError" in job.error
    assert n.email_status == "pending" and "ConnectionRefusedError" in n.email_error
    # The in-app notification is there meanwhile.
    assert api_as(bob).get("/api/v1/notifications/").json()["results"][0]["id"] == n.pk

    inbox, controller = start_smtp(smtp_settings)
    try:
        run_jobs()  # the wait is not over yet: still nothing
        assert inbox.messages == []
        run_jobs(now=job.run_after + timedelta(seconds=1))
        assert len(inbox.messages) == 1 and inbox.messages[0].rcpt_tos == ["bob@example.com"]
    finally:
        controller.stop()
    job.refresh_from_db()
    n.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.attempts == 2
    assert n.email_status == "sent" and n.email_error == ""


# --- preferences ---------------------------------------------------------------------------------

@pytest.mark.django_db
def test_preferences_are_honoured_per_kind_and_channel(alice, bob, smtp):
    client = browser(bob)
    page = client.get("/notifications/preferences/")
    assert page.status_code == 200 and 'data-kind="transferred"' in page.content.decode()
    # Mentions: e-mail only. Transfers: in the CRM only. (Unticked boxes are not posted.)
    response = client.post("/notifications/preferences/", {"mention__email": "on", "transferred__in_app": "on"})
    assert response.status_code == 302
    assert NotificationPreference.objects.get(user=bob, kind="mention").in_app is False

    [mention] = notify([bob], "mention", "by mail only", actor=alice)
    [transfer] = notify([bob], "transferred", "in the CRM only", actor=alice)
    run_jobs()
    assert [m.rcpt_tos for m in smtp.messages] == [["bob@example.com"]]
    assert "Subject: by mail only" in smtp.bodies()[0]
    titles = [r["title"] for r in api_as(bob).get("/api/v1/notifications/").json()["results"]]
    assert titles == ["in the CRM only"]
    assert transfer.email_status == "" and mention.in_app is False

    # Both channels off: nothing at all.
    client.post("/notifications/preferences/", {})
    assert notify([bob], "mention", "nothing", actor=alice) == []


@pytest.mark.django_db
def test_a_user_without_an_email_address_gets_the_in_app_notification_only(alice, depts, smtp):
    carol = make_user("carol", depts["sales1"])
    [n] = notify([carol], "mention", "hello", actor=alice)
    run_jobs()
    assert n.in_app and n.email_status == "" and smtp.messages == []
    assert "no e-mail address" in browser(carol).get("/notifications/preferences/").content.decode()


# --- the bell, the centre, marking read ---------------------------------------------------------

@pytest.mark.django_db
def test_the_bell_shows_the_unread_count_and_marking_read_clears_it(alice, bob):
    client = browser(bob)
    html = client.get("/").content.decode()
    assert 'data-testid="bell"' in html and 'data-unread="0"' in html
    first, second = notify([bob], "mention", "first", actor=alice) + notify([bob], "mention", "second", actor=alice)
    assert 'data-unread="2"' in client.get("/").content.decode()
    assert 'data-unread="2"' in client.get("/notifications/badge/").content.decode()

    page = client.get("/notifications/").content.decode()
    assert page.index("second") < page.index("first")  # newest first
    assert f'data-notification="{first.pk}" data-read="0"' in page
    client.post(f"/notifications/{first.pk}/read/")
    assert 'data-unread="1"' in client.get("/notifications/badge/").content.decode()
    assert api_as(bob).get("/api/v1/notifications/unread-count/").json() == {"unread": 1}
    assert [r["title"] for r in api_as(bob).get("/api/v1/notifications/?unread=1").json()["results"]] == ["second"]

    client.post("/notifications/read-all/")
    assert 'data-unread="0"' in client.get("/notifications/badge/").content.decode()
    assert Notification.objects.filter(recipient=bob, read_at__isnull=True).count() == 0


@pytest.mark.django_db
def test_opening_a_notification_marks_it_read_and_follows_its_link(alice, bob):
    [n] = notify([bob], "mention", "look", url="/customers/", actor=alice)
    [evil] = notify([bob], "mention", "offsite", url="https://evil.example.com/", actor=alice)
    response = browser(bob).get(f"/notifications/{n.pk}/open/")
    assert response.status_code == 302 and response["Location"] == "/customers/"
    n.refresh_from_db()
    assert n.is_read
    assert browser(bob).get(f"/notifications/{evil.pk}/open/")["Location"] == "/notifications/"


@pytest.mark.django_db
def test_the_badge_counts_at_most_a_hundred(alice, bob):
    notify([bob], "mention", "x", actor=alice)
    Notification.objects.bulk_create([Notification(recipient=bob, kind="mention", title=f"n{i}") for i in range(120)])
    assert ">99+<" in browser(bob).get("/notifications/badge/").content.decode()
    assert api_as(bob).get("/api/v1/notifications/unread-count/").json() == {"unread": 100}


def test_an_expired_session_stops_the_badge_polling(client):
    response = client.get("/notifications/badge/")
    assert response.status_code == 286 and 'data-unread="0"' in response.content.decode()


@pytest.mark.django_db
def test_the_api_lists_and_marks_read(alice, bob):
    rows = notify([bob], "mention", "one", actor=alice) + notify([bob], "mention", "two", actor=alice)
    api = api_as(bob)
    data = api.get("/api/v1/notifications/").json()
    assert [r["title"] for r in data["results"]] == ["two", "one"] and data["unread"] == 2
    assert data["results"][0]["actor"] == "alice" and data["results"][0]["read"] is False
    marked = api.post(f"/api/v1/notifications/{rows[0].pk}/read/").json()
    assert marked["read"] is True and marked["read_at"]
    assert api.post("/api/v1/notifications/read-all/").json() == {"marked": 1}
    assert api.get("/api/v1/notifications/?before=abc").status_code == 400


@pytest.mark.django_db
def test_paging_through_older_notifications(alice, bob):
    Notification.objects.bulk_create([Notification(recipient=bob, kind="mention", title=f"n{i:02d}") for i in range(35)])
    api = api_as(bob)
    first = api.get("/api/v1/notifications/").json()
    assert len(first["results"]) == 30 and first["next"]
    second = api.get(first["next"].replace("http://testserver", "")).json()
    assert len(second["results"]) == 5 and second["next"] is None
    assert {r["id"] for r in first["results"]}.isdisjoint({r["id"] for r in second["results"]})


@pytest.mark.django_db
def test_nobody_sees_or_marks_another_users_notifications(alice, bob):
    [secret] = notify([bob], "mention", "for bob only", body="the price is 42", actor=alice)
    # Alice, in the UI and the API.
    assert "for bob only" not in browser(alice).get("/notifications/").content.decode()
    assert browser(alice).post(f"/notifications/{secret.pk}/read/").status_code == 404
    assert browser(alice).get(f"/notifications/{secret.pk}/open/").status_code == 404
    assert api_as(alice).get("/api/v1/notifications/").json()["results"] == []
    assert api_as(alice).post(f"/api/v1/notifications/{secret.pk}/read/").status_code == 404
    api_as(alice).post("/api/v1/notifications/read-all/")
    browser(alice).post("/notifications/read-all/")
    secret.refresh_from_db()
    assert not secret.is_read
    assert 'data-unread="0"' in browser(alice).get("/notifications/badge/").content.decode()
    # Anonymous callers get nothing.
    from rest_framework.test import APIClient

    assert APIClient().get("/api/v1/notifications/").status_code == 401


# --- built-in kinds: transfers and @mentions -----------------------------------------------------

@pytest.mark.django_db
def test_a_record_transferred_to_you_notifies_you(alice, bob, admin, django_capture_on_commit_callbacks):
    customer = _customer(alice, "Sunrise Foods")
    with django_capture_on_commit_callbacks(execute=True):  # subscribers run after commit
        services.transfer(admin, Customer, [customer.pk], bob)
    [n] = Notification.objects.filter(recipient=bob, kind="transferred")
    assert "Sunrise Foods" in n.title and n.url == f"/customers/{customer.pk}/" and n.actor == admin
    assert n.content_type.model_class() is Customer and n.object_id == customer.pk
    # Giving a record to yourself tells nobody.
    own = _customer(alice, "Mine")
    with django_capture_on_commit_callbacks(execute=True):
        services.transfer(alice, Customer, [own.pk], alice)
    assert not Notification.objects.filter(recipient=alice).exists()


@pytest.mark.django_db
def test_transfer_notifications_are_in_the_recipients_language(alice, depts, admin,
                                                               django_capture_on_commit_callbacks):
    zh = make_user("zhang", depts["guangzhou"], {"customers": Scope.OWN}, language="zh-hans")
    customer = _customer(alice, "上海贸易")
    with django_capture_on_commit_callbacks(execute=True):
        services.transfer(admin, Customer, [customer.pk], zh)
    n = Notification.objects.get(recipient=zh)
    assert "上海贸易" in n.title and "客户" in n.title  # the entity's label in Zhang's language


@pytest.mark.django_db
def test_an_at_mention_in_a_note_notifies_users_who_can_see_the_record(alice, bob, manager, depts):
    customer = _customer(alice, "Golden Bridge")
    body = "@manager please check the price, and @bob too. Mail a@bob.example is no mention; @nobody exists?"
    client = browser(alice)
    response = client.post(f"/customers/{customer.pk}/notes/", {"body": body})
    assert response.status_code in (200, 302)
    assert Note.objects.filter(object_id=customer.pk).count() == 1
    # The manager sees the Sales1 customer (Shanghai subtree) and is told; Bob (Guangzhou, own
    # records only) cannot see it, so he is not told — not even that the record exists.
    [n] = Notification.objects.filter(kind="mention")
    assert n.recipient == manager and n.actor == alice
    assert "Golden Bridge" in n.title and "please check the price" in n.body
    assert n.url == f"/customers/{customer.pk}/"
    assert not Notification.objects.filter(recipient=bob).exists()


@pytest.mark.django_db
def test_mentions_through_the_api_and_in_chinese_text(alice, manager):
    customer = _customer(alice, "长江实业")
    response = api_as(alice).post(f"/api/v1/customers/{customer.pk}/notes/", {"body": "请@manager看一下报价"},
                                  format="json")
    assert response.status_code == 201
    assert Notification.objects.filter(kind="mention", recipient=manager).count() == 1


@pytest.mark.django_db
def test_a_bulk_transfer_becomes_one_notification_and_one_email(alice, bob, admin, smtp,
                                                                 django_capture_on_commit_callbacks):
    customers = [_customer(alice, name) for name in ("North Star", "Blue Sea", "Red River")]
    with django_capture_on_commit_callbacks(execute=True):
        services.transfer(admin, Customer, [c.pk for c in customers], bob)
    [n] = Notification.objects.filter(recipient=bob, kind="transferred")
    assert n.count == 3 and n.title == "Root transferred 3 Customers to you"
    assert set(n.body.splitlines()) == {"North Star", "Blue Sea", "Red River"}
    assert n.url == "/customers/"
    run_jobs()
    assert smtp.messages == []  # the e-mail waits for the burst to end
    run_jobs(now=timezone.now() + timedelta(minutes=2))
    assert len(smtp.messages) == 1 and "Root transferred 3 Customers to you" in smtp.bodies()[0]
    # Once read, the next transfer is news again.
    browser(bob).post("/notifications/read-all/")
    with django_capture_on_commit_callbacks(execute=True):
        services.transfer(admin, Customer, [_customer(alice, "Late One").pk], bob)
    assert Notification.objects.filter(recipient=bob, kind="transferred").count() == 2
