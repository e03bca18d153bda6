"""The request workflow in one place: submit, change status, log a call, notify the front desk.

Views and the admin call these functions; nothing here happens in signals or in
`save()`. Logs and emails carry the reference only, never patient details.
"""

import datetime
import logging
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _gettext
from django.utils.translation import gettext_lazy as _

from .business_days import add_business_days
from .models import Request, RequestEvent
from .references import new_reference

logger = logging.getLogger(__name__)

Status = Request.Status
DUPLICATE_WINDOW = datetime.timedelta(days=14)

# Which status may follow which. Nothing goes back to "new" (someone has looked at it);
# a closed request may be reopened as "contacted" when the patient gets back in touch.
TRANSITIONS = {
    Status.NEW: {Status.CONTACTED, Status.SCHEDULED, Status.CLOSED},
    Status.CONTACTED: {Status.SCHEDULED, Status.CLOSED},
    Status.SCHEDULED: {Status.CONTACTED, Status.CLOSED},
    Status.CLOSED: {Status.CONTACTED},
}


# Submitting ---------------------------------------------------------------------------


def submit_request(form, kind):
    """Save a patient's request and notify the front desk once it is committed.

    `form` is a valid public request form (ModelForm on Request). Returns the request.
    """
    request = form.save(commit=False)
    request.kind = kind
    request.urgent = any(request.safety_answers)
    # Reads first, outside the transaction: on SQLite a transaction holds the one write
    # lock from its start, and every other send waits for it (the benchmark's POST p99).
    request.possible_duplicate_of = find_possible_duplicate(request)
    for attempt in range(3):
        request.reference = _unused_reference()
        try:
            with transaction.atomic():
                request.save()
                RequestEvent.objects.create(request=request, action=RequestEvent.Action.SUBMITTED)
                transaction.on_commit(partial(enqueue_notification, request.pk))
            break
        except IntegrityError:
            # Another send took the same reference in between: draw a new one.
            request.pk = None
            if attempt == 2:
                raise
    logger.info("Request %s saved (%s, urgent=%s).", request.reference, kind, request.urgent)
    return request


def _unused_reference():
    # 2**40 values: a clash is very unlikely, and the unique constraint is the backstop.
    while True:
        reference = new_reference()
        if not Request.objects.filter(reference=reference).exists():
            return reference


def find_possible_duplicate(request):
    """The latest request with the same phone or email in the 14 days before this one."""
    same_contact = Q()
    if request.phone:
        same_contact |= Q(phone=request.phone)
    if request.email:
        same_contact |= Q(email__iexact=request.email)
    if not same_contact:
        return None
    submitted_at = request.submitted_at or timezone.now()
    return (
        Request.objects.filter(same_contact, submitted_at__gte=submitted_at - DUPLICATE_WINDOW)
        .exclude(pk=request.pk)
        .order_by("-submitted_at")
        .first()
    )


# Status workflow ----------------------------------------------------------------------


def check_transition(current, new, closing_reason=""):
    """Refuse a status change that makes no sense, with a message staff can act on."""
    if new == Status.CLOSED and not closing_reason:
        raise ValidationError(_("Choose a closing reason to close the request."), code="reason")
    if new != Status.CLOSED and closing_reason:
        raise ValidationError(
            _("Only a closed request has a closing reason. Clear the reason."), code="reason"
        )
    if current == new:
        return
    if new not in TRANSITIONS[current]:
        raise ValidationError(
            _("A request cannot go from “%(current)s” to “%(new)s”."),
            code="transition",
            params={"current": Status(current).label, "new": Status(new).label},
        )


def change_status(request, new_status, *, by, closing_reason=""):
    """Move a request to a new status, or raise ValidationError. Records who did it."""
    if new_status != Status.CLOSED:
        closing_reason = ""
    check_transition(request.status, new_status, closing_reason)
    if (request.status, request.closing_reason) == (new_status, closing_reason):
        return False
    old_status = request.status
    request.status, request.closing_reason = new_status, closing_reason
    request.save(update_fields=["status", "closing_reason", "updated_at"])
    _record(request, RequestEvent.Action.STATUS, by, old_status, _status_value(request))
    return True


def _status_value(request):
    if request.status == Status.CLOSED:
        return f"{request.status}: {request.closing_reason}"
    return request.status


def assign(request, user, *, by):
    """Assign the request to a staff member (or nobody). Records who did it."""
    if request.assigned_to_id == (user and user.pk):
        return False
    old = request.assigned_to.get_username() if request.assigned_to else ""
    request.assigned_to = user
    request.save(update_fields=["assigned_to", "updated_at"])
    _record(request, RequestEvent.Action.ASSIGNED, by, old, user.get_username() if user else "")
    return True


def save_staff_edit(request, *, before, by):
    """Save the admin change form's edits and record each change in the history.

    `before` is the request as it was in the database. The form has already checked the
    status change with `check_transition`; it is checked again here, so no path skips it.
    """
    check_transition(before.status, request.status, request.closing_reason)
    request.save()
    if (before.status, before.closing_reason) != (request.status, request.closing_reason):
        _record(request, RequestEvent.Action.STATUS, by, before.status, _status_value(request))
    if before.assigned_to_id != request.assigned_to_id:
        _record(
            request,
            RequestEvent.Action.ASSIGNED,
            by,
            before.assigned_to.get_username() if before.assigned_to else "",
            request.assigned_to.get_username() if request.assigned_to else "",
        )
    if before.next_follow_up != request.next_follow_up:
        _record(
            request,
            RequestEvent.Action.FOLLOW_UP,
            by,
            _date_value(before.next_follow_up),
            _date_value(request.next_follow_up),
        )
    if before.staff_notes != request.staff_notes:
        _record(request, RequestEvent.Action.NOTES, by)


def _date_value(day):
    return day.isoformat() if day else ""


# Call log -----------------------------------------------------------------------------


def log_call(attempt, *, by, propose_follow_up=True):
    """Save a call attempt; a new request becomes contacted and gets a next follow-up.

    The follow-up proposed is the next business day after the call, unless staff set
    one themselves in the same save (`propose_follow_up=False`) or the request is closed.
    Returns a list of sentences saying what else changed, for the admin message.
    """
    request = attempt.request
    attempt.called_by = attempt.called_by or by
    attempt.save()
    _record(request, RequestEvent.Action.CALL, by, "", attempt.outcome)
    done = []
    if request.status == Status.NEW:
        change_status(request, Status.CONTACTED, by=by)
        done.append(_gettext("Request %(reference)s moved to contacted.") % _ref(request))
    if propose_follow_up and request.is_open:
        follow_up = add_business_days(timezone.localdate(attempt.called_at), 1)
        if request.next_follow_up != follow_up:
            old = _date_value(request.next_follow_up)
            request.next_follow_up = follow_up
            request.save(update_fields=["next_follow_up", "updated_at"])
            _record(request, RequestEvent.Action.FOLLOW_UP, by, old, follow_up.isoformat())
            done.append(
                _gettext("Next follow-up for %(reference)s proposed: %(day)s.")
                % {**_ref(request), "day": follow_up.isoformat()}
            )
    return done


def _ref(request):
    return {"reference": request.reference}


def _record(request, action, by, old="", new=""):
    RequestEvent.objects.create(
        request=request, action=action, actor=by, old_value=old[:80], new_value=new[:80]
    )


# Notifying the front desk -------------------------------------------------------------


def enqueue_notification(request_id):
    """Queue the notification email. Never raises: a request must not fail because of it.

    If the queue itself is unreachable the request is marked failed, which makes the
    retry command (and the admin's "Retry notification") pick it up.
    """
    from .tasks import notify_front_desk

    try:
        notify_front_desk.enqueue(request_id)
    except Exception as exc:  # Any queue failure must leave the request safe.
        logger.exception("Could not queue the notification for request id %s.", request_id)
        Request.objects.filter(pk=request_id).update(
            notification_status=Request.NotificationStatus.FAILED,
            notification_error=_error_text(exc, prefix="queue"),
        )


def send_notification(request_id):
    """Email the front-desk inbox about one request: reference, kind, urgency, admin link.

    Records the outcome on the request (sent, or failed with the error) and never
    raises, so a mail server failure only leaves a visible, retryable mark.
    """
    request = Request.objects.filter(pk=request_id).first()
    if request is None or request.notification_status == Request.NotificationStatus.SENT:
        return False
    request.notification_attempts += 1
    try:
        subject, body = notification_message(request)
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [settings.FRONT_DESK_EMAIL])
    except Exception as exc:  # SMTP and socket errors vary; all are retried.
        logger.warning(
            "Notification for request %s failed (attempt %s): %s",
            request.reference,
            request.notification_attempts,
            type(exc).__name__,
        )
        request.notification_status = Request.NotificationStatus.FAILED
        request.notification_error = _error_text(exc)
        request.save(
            update_fields=[
                "notification_status",
                "notification_attempts",
                "notification_error",
                "updated_at",
            ]
        )
        _record(request, RequestEvent.Action.NOTIFY_FAILED, None, "", type(exc).__name__)
        return False
    request.notification_status = Request.NotificationStatus.SENT
    request.notification_error = ""
    request.notification_sent_at = timezone.now()
    request.save(
        update_fields=[
            "notification_status",
            "notification_attempts",
            "notification_error",
            "notification_sent_at",
            "updated_at",
        ]
    )
    _record(request, RequestEvent.Action.NOTIFIED, None)
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


def _error_text(exc, prefix=""):
    # The class and message of a mail or queue error: about our server, not the patient.
    text = f"{type(exc).__name__}: {exc}"
    return (f"{prefix}: {text}" if prefix else text)[:200]


def retry_notification(request, *, by=None):
    """Queue the notification again for a request that was not sent. Returns True if queued."""
    if request.notification_status == Request.NotificationStatus.SENT:
        return False
    _record(request, RequestEvent.Action.NOTIFY_RETRY, by, "", str(request.notification_attempts))
    transaction.on_commit(partial(enqueue_notification, request.pk))
    return True


def notifications_to_retry(now=None):
    """Requests whose notification failed (under the attempt limit) or seems stuck.

    "Stuck" means still waiting after NOTIFICATION_STUCK_MINUTES: the queue may have lost
    it. Sending twice is harmless (the task skips a request already sent).
    """
    now = now or timezone.now()
    stuck_before = now - datetime.timedelta(minutes=settings.NOTIFICATION_STUCK_MINUTES)
    return Request.objects.filter(
        Q(notification_status=Request.NotificationStatus.FAILED)
        | Q(notification_status=Request.NotificationStatus.PENDING, submitted_at__lt=stuck_before),
        notification_attempts__lt=settings.NOTIFICATION_MAX_ATTEMPTS,
    )
