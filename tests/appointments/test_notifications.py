"""The front-desk email: sent after commit, no patient details, failures kept and retried."""

import datetime
import io
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from appointments import notifications
from appointments.models import Request

from .factories import consultation_data, make_request

pytestmark = pytest.mark.django_db

BROKEN = "tests.appointments.mail.BrokenEmailBackend"
LOCMEM = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def send(client, django_capture_on_commit_callbacks):
    def post(data):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("appointments:consultation"), data)

    return post


def test_a_new_request_emails_the_front_desk_inbox(send, mailoutbox, settings):
    settings.FRONT_DESK_EMAIL = "desk@clinic.example"
    settings.SITE_URL = "https://clinic.example"
    send(consultation_data(safety_pump_alarm="yes"))
    saved = Request.objects.get()
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["desk@clinic.example"]
    assert saved.reference in message.subject
    assert "URGENT" in message.subject
    assert "Consultation" in message.subject
    link = f"https://clinic.example/admin/appointments/request/{saved.pk}/change/"
    assert link in message.body
    saved.refresh_from_db()
    assert saved.notification_status == Request.NotificationStatus.SENT
    assert saved.notification_attempts == 1


def test_the_email_carries_no_patient_details(send, mailoutbox):
    send(
        consultation_data(
            name="Test Patient Unique",
            email="unique.person@example.com",
            referring_doctor="Dr Uniquename",
            reason="Unique reason text",
            language="Uniquelanguage",
        )
    )
    message = mailoutbox[0]
    text = message.subject + message.body + "".join(str(a) for a in message.alternatives)
    for private in ["Unique", "unique", "555", "0101", "example.com"]:
        assert private not in text


def test_nothing_is_sent_before_the_request_is_committed(client, mailoutbox):
    # Without running on-commit callbacks, the transaction never "commits".
    client.post(reverse("appointments:consultation"), consultation_data())
    assert Request.objects.count() == 1
    assert mailoutbox == []


def test_a_mail_server_failure_keeps_the_request_and_shows_the_failure(send, mailoutbox, settings):
    settings.EMAIL_BACKEND = BROKEN
    response = send(consultation_data())
    assert response.status_code == 302
    saved = Request.objects.get()
    assert saved.notification_status == Request.NotificationStatus.FAILED
    assert saved.notification_attempts == 1
    assert saved.notification_error.startswith("SMTPConnectError")
    assert "Test Patient" not in saved.notification_error
    assert saved.events.filter(action="notify_failed").exists()


def test_a_failed_notification_is_retried_by_the_command(
    send, mailoutbox, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = BROKEN
    send(consultation_data())
    settings.EMAIL_BACKEND = LOCMEM
    output = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("retry_notifications", stdout=output)
    assert "Queued 1 notification(s) again." in output.getvalue()
    saved = Request.objects.get()
    assert saved.notification_status == Request.NotificationStatus.SENT
    assert saved.notification_attempts == 2
    assert saved.notification_error == ""
    assert len(mailoutbox) == 1


def test_the_retry_command_stops_after_the_attempt_limit(settings, mailoutbox):
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    make_request(notification_status="failed", notification_attempts=3)
    assert not notifications.notifications_to_retry().exists()


def test_the_retry_command_picks_up_a_notification_stuck_in_the_queue(settings):
    settings.NOTIFICATION_STUCK_MINUTES = 30
    stuck = make_request(submitted_at=timezone.now() - datetime.timedelta(minutes=31))
    make_request()  # just sent: still waiting normally
    make_request(notification_status="sent", submitted_at=stuck.submitted_at)
    assert list(notifications.notifications_to_retry()) == [stuck]


def test_a_notification_already_sent_is_not_sent_twice(mailoutbox):
    request = make_request(notification_status="sent")
    assert notifications.send_notification(request.pk) is False
    assert mailoutbox == []


def test_a_queue_failure_does_not_lose_the_request(send, monkeypatch):
    from appointments import tasks

    def refuse(*args, **kwargs):
        raise ConnectionError("queue down")

    monkeypatch.setattr(tasks, "notify_front_desk", SimpleNamespace(enqueue=refuse))
    response = send(consultation_data())
    assert response.status_code == 302
    saved = Request.objects.get()
    assert saved.notification_status == Request.NotificationStatus.FAILED
    assert saved.notification_error.startswith("queue: ConnectionError")
