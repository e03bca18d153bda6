"""The request workflow in one place: submit, change status, log a call, queue the email.

Views and the admin call these functions; nothing here happens in signals or in
`save()`. Logs and emails carry the reference only, never patient details.
"""

import datetime
import logging
from functools import partial

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _gettext
from django.utils.translation import gettext_lazy as _

from . import tasks
from .business_days import add_business_days
from .models import Request, RequestEvent
from .notifications import error_text
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
    RequestEvent.objects.record(
        request, RequestEvent.Action.STATUS, by, old_status, _status_value(request)
    )
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
    RequestEvent.objects.record(
        request, RequestEvent.Action.ASSIGNED, by, old, user.get_username() if user else ""
    )
    return True


def save_staff_edit(request, *, before, by):
    """Save the admin change form's edits and record each change in the history.

    `before` is the request as it was in the database. The form has already checked the
    status change with `check_transition`; it is checked again here, so no path skips it.
    """
    check_transition(before.status, request.status, request.closing_reason)
    request.save()
    if (before.status, before.closing_reason) != (request.status, request.closing_reason):
        RequestEvent.objects.record(
            request, RequestEvent.Action.STATUS, by, before.status, _status_value(request)
        )
    if before.assigned_to_id != request.assigned_to_id:
        RequestEvent.objects.record(
            request,
            RequestEvent.Action.ASSIGNED,
            by,
            before.assigned_to.get_username() if before.assigned_to else "",
            request.assigned_to.get_username() if request.assigned_to else "",
        )
    if before.next_follow_up != request.next_follow_up:
        RequestEvent.objects.record(
            request,
            RequestEvent.Action.FOLLOW_UP,
            by,
            _date_value(before.next_follow_up),
            _date_value(request.next_follow_up),
        )
    if before.staff_notes != request.staff_notes:
        RequestEvent.objects.record(request, RequestEvent.Action.NOTES, by)


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
    RequestEvent.objects.record(request, RequestEvent.Action.CALL, by, "", attempt.outcome)
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
            RequestEvent.objects.record(
                request, RequestEvent.Action.FOLLOW_UP, by, old, follow_up.isoformat()
            )
            done.append(
                _gettext("Next follow-up for %(reference)s proposed: %(day)s.")
                % {**_ref(request), "day": follow_up.isoformat()}
            )
    return done


def _ref(request):
    return {"reference": request.reference}


# Notifying the front desk -------------------------------------------------------------


def enqueue_notification(request_id):
    """Queue the notification email. Never raises: a request must not fail because of it.

    If the queue itself is unreachable the request is marked failed, which makes the
    retry command (and the admin's "Retry notification") pick it up.
    """
    try:
        tasks.notify_front_desk.enqueue(request_id)
    except Exception as exc:  # Any queue failure must leave the request safe.
        logger.exception("Could not queue the notification for request id %s.", request_id)
        Request.objects.filter(pk=request_id).update(
            notification_status=Request.NotificationStatus.FAILED,
            notification_error=error_text(exc, prefix="queue"),
        )


def retry_notification(request, *, by=None):
    """Queue the notification again for a request that was not sent. Returns True if queued."""
    if request.notification_status == Request.NotificationStatus.SENT:
        return False
    RequestEvent.objects.record(
        request, RequestEvent.Action.NOTIFY_RETRY, by, "", str(request.notification_attempts)
    )
    transaction.on_commit(partial(enqueue_notification, request.pk))
    return True
