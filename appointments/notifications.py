"""The front-desk email about a new request: its words, sending it, and which to retry.

Sent by the background task (tasks.py), queued by the workflow (services.py). The email
carries the reference, the kind, the urgency and a staff link, never patient details.
"""

import datetime
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _gettext

from .models import Request, RequestEvent

logger = logging.getLogger(__name__)


def send_notification(request_id):
    """Email the front-desk inbox about one request: reference, kind, urgency, admin link.

    Records the outcome on the request (sent, or failed with the error) and never
    raises, so a mail server failure only leaves a visible, retryable mark.
    """
    request = Request.objects.filter(pk=request_id).first()
    if request is None or request.notification_status == Request.NotificationStatus.SENT:
        return False
    try:
        subject, body = notification_message(request)
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [settings.FRONT_DESK_EMAIL])
    except Exception as exc:  # SMTP and socket errors vary; all are retried.
        logger.warning(
            "Notification for request %s failed (attempt %s of queuing): %s",
            request.reference,
            request.notification_attempts,
            type(exc).__name__,
        )
        request.notification_status = Request.NotificationStatus.FAILED
        request.notification_error = error_text(exc)
        request.save(update_fields=["notification_status", "notification_error", "updated_at"])
        RequestEvent.objects.record(
            request, RequestEvent.Action.NOTIFY_FAILED, None, "", type(exc).__name__
        )
        return False
    request.notification_status = Request.NotificationStatus.SENT
    request.notification_error = ""
    request.notification_sent_at = timezone.now()
    request.save(
        update_fields=[
            "notification_status",
            "notification_error",
            "notification_sent_at",
            "updated_at",
        ]
    )
    RequestEvent.objects.record(request, RequestEvent.Action.NOTIFIED, None)
    return True


def notification_message(request):
    """Subject and body of the front-desk email. No name, phone, email or reason."""
    link = settings.SITE_URL + reverse("admin:appointments_request_change", args=[request.pk])
    values = {
        "reference": request.reference,
        "kind": request.get_kind_display(),
        "urgency": _gettext("URGENT") if request.urgent else _gettext("not urgent"),
        "link": link,
    }
    subject = _gettext("New request %(reference)s: %(kind)s (%(urgency)s)") % values
    lines = [
        _gettext("A new request came in through the website."),
        "",
        _gettext("Reference: %(reference)s") % values,
        _gettext("Kind: %(kind)s") % values,
        _gettext("Urgency: %(urgency)s") % values,
        "",
        _gettext("Open it in the staff site (you will need to sign in):"),
        link,
        "",
        _gettext("Patient details are only in the staff site, never in email."),
    ]
    if request.urgent:
        lines.insert(1, _gettext("The patient answered yes to a safety question. Call them first."))
    return subject, "\n".join(lines) + "\n"


def error_text(exc, prefix=""):
    # The class and message of a mail or queue error: about our server, not the patient.
    text = f"{type(exc).__name__}: {exc}"
    return (f"{prefix}: {text}" if prefix else text)[:200]


def notifications_to_retry(now=None):
    """Requests whose notification failed (under the attempt limit) or seems stuck.

    "Stuck" means still waiting after NOTIFICATION_STUCK_MINUTES: the queue may have lost
    it. Attempts count each queuing, so a worker that is down does not get a new task
    every run (and services.retry_notification skips a task still waiting).
    """
    now = now or timezone.now()
    stuck_before = now - datetime.timedelta(minutes=settings.NOTIFICATION_STUCK_MINUTES)
    return Request.objects.filter(
        Q(notification_status=Request.NotificationStatus.FAILED)
        | Q(notification_status=Request.NotificationStatus.PENDING, submitted_at__lt=stuck_before),
        notification_attempts__lt=settings.NOTIFICATION_MAX_ATTEMPTS,
    )
