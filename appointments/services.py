"""The request workflow in one place: submit, change status, log a call, queue the email.

Views and the admin call these functions; nothing here happens in signals or in
`save()`. Logs and emails carry the reference only, never patient details.
"""

import datetime
import logging
from functools import partial

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _gettext
from django.utils.translation import gettext_lazy as _
from django_tasks import TaskResultStatus
from django_tasks.exceptions import TaskResultDoesNotExist

from . import business_days, tasks
from .models import ContactAttempt, Request, RequestEvent
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

    `form` is a valid public request form (ModelForm on Request). Returns the request, or
    the one its form token already made (the same form sent twice at the same moment:
    the unique `submission_token` lets only one in, the other finds it).
    """
    request = form.save(commit=False)
    request.kind = kind
    request.form_language = translation.get_language()  # from the form's address
    request.urgent = any(request.safety_answers)
    request.submission_token = form.submission_key()
    # Reads first, outside the transaction: on SQLite a transaction holds the one write
    # lock from its start, and every other send waits for it (the benchmark's POST p99).
    # Two sends at the same moment both read before either is saved, so neither sees the
    # other here: mark_possible_duplicate looks again once this one is committed.
    request.possible_duplicate_of = find_possible_duplicate(request)
    for attempt in range(3):
        request.reference = _unused_reference()
        try:
            with transaction.atomic():
                request.save()
                RequestEvent.objects.create(request=request, action=RequestEvent.Action.SUBMITTED)
                transaction.on_commit(partial(mark_possible_duplicate, request))
                transaction.on_commit(partial(enqueue_notification, request.pk))
            break
        except IntegrityError:
            request.pk = None
            # The same form token, saved by the other of two sends at the same moment:
            # that request is this one. Nothing more is saved.
            if request.submission_token and (sent := find_sent_request(request.submission_token)):
                logger.info("Request %s was already saved from this form.", sent.reference)
                return sent
            # Another send took the same reference in between: draw a new one. Any
            # other refusal (a check constraint) is a bug to see, not to retry.
            taken = Request.objects.filter(reference=request.reference).exists()
            if attempt == 2 or not taken:
                raise
    logger.info("Request %s saved (%s, urgent=%s).", request.reference, kind, request.urgent)
    return request


def find_sent_request(submission_key):
    """The request a form token (its stored hash) already made, or None."""
    return Request.objects.filter(submission_token=submission_key).first()


def _unused_reference():
    # 2**40 values: a clash is very unlikely, and the unique constraint is the backstop.
    while True:
        reference = new_reference()
        if not Request.objects.filter(reference=reference).exists():
            return reference


def _same_contact(request):
    same_contact = Q()
    if request.phone:
        same_contact |= Q(phone=request.phone)
    if request.email:
        same_contact |= Q(email__iexact=request.email)
    return same_contact


def find_possible_duplicate(request):
    """The latest request with the same phone or email in the 14 days before this one."""
    same_contact = _same_contact(request)
    if not same_contact:
        return None
    submitted_at = request.submitted_at or timezone.now()
    return (
        Request.objects.filter(same_contact, submitted_at__gte=submitted_at - DUPLICATE_WINDOW)
        .exclude(pk=request.pk)
        .order_by("-submitted_at")
        .first()
    )


def mark_possible_duplicate(request):
    """After commit: mark the newer of this request and any same-contact one 14 days around.

    Two sends at the same moment each looked for a duplicate before either was saved
    (find_possible_duplicate), so neither found the other. Each looks again once it is
    committed, both ways: the one that looks last sees both, and the newer of the pair
    is marked if it has no mark yet. Small reads along the submitted_at index, outside
    any transaction; a write only when something is to be marked (rare). Never raises:
    the request is already saved.
    """
    try:
        same_contact = _same_contact(request)
        if not same_contact:
            return
        at = request.submitted_at
        window = Request.objects.filter(same_contact).exclude(pk=request.pk)
        if request.possible_duplicate_of_id is None:
            older = (
                window.filter(submitted_at__gte=at - DUPLICATE_WINDOW)
                .filter(Q(submitted_at__lt=at) | Q(submitted_at=at, pk__lt=request.pk))
                .order_by("-submitted_at", "-pk")
                .values_list("pk", flat=True)
                .first()
            )
            if older is not None:
                Request.objects.filter(pk=request.pk, possible_duplicate_of__isnull=True).update(
                    possible_duplicate_of=older
                )
                request.possible_duplicate_of_id = older
        # Newer ones without a mark: normally none, so this reads next to nothing.
        newer_unmarked = window.filter(
            Q(submitted_at__gt=at) | Q(submitted_at=at, pk__gt=request.pk),
            submitted_at__lte=at + DUPLICATE_WINDOW,
            possible_duplicate_of__isnull=True,
        )
        newer_unmarked.update(possible_duplicate_of=request.pk)
    except Exception:  # The request is saved; a missed mark must not fail the patient's send.
        logger.exception("Could not check request %s for duplicates.", request.reference)


# Status workflow ---------------------------------------------------------------------


class StaleEdit(Exception):
    """Someone else saved the request after this form was opened."""


def check_transition(current, new, closing_reason="", appointment_at=None):
    """Refuse a status change that makes no sense, with a message staff can act on."""
    if new == Status.CLOSED and not closing_reason:
        raise ValidationError(_("Choose a closing reason to close the request."), code="reason")
    if new != Status.CLOSED and closing_reason:
        raise ValidationError(
            _("Only a closed request has a closing reason. Clear the reason."), code="reason"
        )
    if new == Status.SCHEDULED and appointment_at is None:
        raise ValidationError(
            _("Enter the appointment date and time to mark the request scheduled."),
            code="appointment",
        )
    if current == new:
        return
    if new not in TRANSITIONS[current]:
        raise ValidationError(
            _("A request cannot go from “%(current)s” to “%(new)s”."),
            code="transition",
            params={"current": Status(current).label, "new": Status(new).label},
        )


def _save(request, fields):
    """Save these fields and count the version up, so forms opened before are refused."""
    request.version += 1
    request.save(update_fields=[*fields, "version", "updated_at"])


def change_status(request, new_status, *, by, closing_reason=""):
    """Move a request to a new status, or raise ValidationError. Records who did it."""
    if new_status != Status.CLOSED:
        closing_reason = ""
    check_transition(request.status, new_status, closing_reason, request.appointment_at)
    if (request.status, request.closing_reason) == (new_status, closing_reason):
        return False
    old_status = request.status
    request.status, request.closing_reason = new_status, closing_reason
    _save(request, ["status", "closing_reason"])
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
    _save(request, ["assigned_to"])
    RequestEvent.objects.record(
        request, RequestEvent.Action.ASSIGNED, by, old, user.get_username() if user else ""
    )
    return True


# The fields staff edit on the request, and how the history names a change to each.
STAFF_FIELDS = [
    "status",
    "closing_reason",
    "assigned_to",
    "next_follow_up",
    "appointment_at",
    "appointment_with",
    "staff_notes",
]


def save_staff_edit(request, *, version, by):
    """Save what staff changed on the request, only that, and record each change.

    `request` carries the values from the form; `version` is the version the form was
    opened at. If anyone saved the request since, nothing is saved and StaleEdit is
    raised: the form must be reloaded, so a save never undoes a colleague's notes,
    assignment or follow-up. Otherwise the database still holds what the person saw,
    so every difference from it is theirs, and only those fields are written.
    """
    with transaction.atomic():
        before = Request.objects.select_for_update().get(pk=request.pk)
        if before.version != version:
            raise StaleEdit
        changed = [
            name
            for name in STAFF_FIELDS
            if getattr(request, _attname(name)) != getattr(before, _attname(name))
        ]
        if not changed:
            return
        check_transition(
            before.status, request.status, request.closing_reason, request.appointment_at
        )
        request.version = before.version
        _save(request, changed)
        _record_staff_edit(request, before, by)


def _attname(name):
    return Request._meta.get_field(name).attname


def _record_staff_edit(request, before, by):
    Action = RequestEvent.Action
    if (before.status, before.closing_reason) != (request.status, request.closing_reason):
        RequestEvent.objects.record(
            request, Action.STATUS, by, before.status, _status_value(request)
        )
    if before.assigned_to_id != request.assigned_to_id:
        RequestEvent.objects.record(
            request,
            Action.ASSIGNED,
            by,
            before.assigned_to.get_username() if before.assigned_to else "",
            request.assigned_to.get_username() if request.assigned_to else "",
        )
    if before.next_follow_up != request.next_follow_up:
        RequestEvent.objects.record(
            request,
            Action.FOLLOW_UP,
            by,
            _date_value(before.next_follow_up),
            _date_value(request.next_follow_up),
        )
    if (before.appointment_at, before.appointment_with) != (
        request.appointment_at,
        request.appointment_with,
    ):
        # The time only: who or where may name a person, and the history stays terse.
        RequestEvent.objects.record(
            request,
            Action.APPOINTMENT,
            by,
            _moment_value(before.appointment_at),
            _moment_value(request.appointment_at),
        )
    if before.staff_notes != request.staff_notes:
        RequestEvent.objects.record(request, Action.NOTES, by)


def _date_value(day):
    return day.isoformat() if day else ""


def _moment_value(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


# Call log -----------------------------------------------------------------------------

NOT_REACHED = {
    ContactAttempt.Outcome.NO_ANSWER,
    ContactAttempt.Outcome.VOICEMAIL,
    ContactAttempt.Outcome.WRONG_NUMBER,
}


def log_call(attempt, *, by, propose_follow_up=True):
    """Save a new call; only reaching the patient moves a new request to contacted.

    A call that did not reach the patient keeps the request open and proposes the next
    try by urgency (business_days.next_try: urgent, later the same day), unless staff
    set a follow-up themselves in the same save (`propose_follow_up=False`).
    Returns a list of sentences saying what else changed, for the admin message.
    """
    request = attempt.request
    attempt.called_by = by
    attempt.save()
    RequestEvent.objects.record(request, RequestEvent.Action.CALL, by, "", attempt.outcome)
    done = []
    reached = attempt.outcome == ContactAttempt.Outcome.REACHED
    if reached and request.status == Status.NEW:
        change_status(request, Status.CONTACTED, by=by)
        done.append(_gettext("Request %(reference)s moved to contacted.") % _ref(request))
    if propose_follow_up and request.is_open and attempt.outcome in NOT_REACHED:
        follow_up = business_days.next_try(request.urgent, attempt.called_at)
        if request.next_follow_up != follow_up:
            old = _date_value(request.next_follow_up)
            request.next_follow_up = follow_up
            _save(request, ["next_follow_up"])
            RequestEvent.objects.record(
                request, RequestEvent.Action.FOLLOW_UP, by, old, follow_up.isoformat()
            )
        done.append(
            _gettext("Still open. Next try for %(reference)s: %(day)s.")
            % {**_ref(request), "day": _day_words(follow_up)}
        )
    return done


def correct_call(attempt, *, before, by):
    """A superuser's change to a logged call: saved, and the history says so and by whom."""
    attempt.save()
    RequestEvent.objects.record(
        attempt.request, RequestEvent.Action.CALL_CORRECTED, by, before.outcome, attempt.outcome
    )


def _day_words(day):
    if day == timezone.localdate():
        return _gettext("today")
    return day.isoformat()


def _ref(request):
    return {"reference": request.reference}


# Notifying the front desk -------------------------------------------------------------


def enqueue_notification(request_id):
    """Queue the notification email. Never raises: a request must not fail because of it.

    Each queuing counts as an attempt (NOTIFICATION_MAX_ATTEMPTS caps them) and keeps
    the task's id, so the retry command can see that a task is still waiting. If the
    queue itself is unreachable the request is marked failed, which makes the retry
    command (and the admin's "Retry notification") pick it up. One write either way.
    """
    attempt = {"notification_attempts": F("notification_attempts") + 1}
    try:
        result = tasks.notify_front_desk.enqueue(request_id)
    except Exception as exc:  # Any queue failure must leave the request safe.
        logger.exception("Could not queue the notification for request id %s.", request_id)
        Request.objects.filter(pk=request_id).update(
            **attempt,
            notification_status=Request.NotificationStatus.FAILED,
            notification_error=error_text(exc, prefix="queue"),
            notification_task="",
        )
        return
    Request.objects.filter(pk=request_id).update(**attempt, notification_task=result.id)


def notification_waiting(request):
    """True while the request's queued email task has not run yet (or is running)."""
    if not request.notification_task:
        return False
    try:
        result = tasks.notify_front_desk.get_result(request.notification_task)
    except (NotImplementedError, TaskResultDoesNotExist):
        # A backend that keeps no results (tests), or the task row is gone: not waiting.
        return False
    return result.status in (TaskResultStatus.READY, TaskResultStatus.RUNNING)


def retry_notification(request, *, by=None):
    """Queue the notification again for a request that was not sent. Returns True if queued.

    A request whose earlier task is still waiting for the worker is left alone: queuing
    another would only send the same email twice when the worker comes back.
    """
    if request.notification_status == Request.NotificationStatus.SENT:
        return False
    if notification_waiting(request):
        return False
    RequestEvent.objects.record(
        request, RequestEvent.Action.NOTIFY_RETRY, by, "", str(request.notification_attempts)
    )
    transaction.on_commit(partial(enqueue_notification, request.pk))
    return True
