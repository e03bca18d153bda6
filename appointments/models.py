"""Requests from patients (a consultation or a call back) and the front desk's work on them.

One `Request` model holds both kinds: they share the contact details, the safety screen,
the status workflow and the queue, and a call-back simply leaves the consultation-only
fields blank. The call log (`ContactAttempt`) and the history (`RequestEvent`) are child
rows so every call and every change is kept, with who and when, and neither ever copies
patient details (they are shown next to the request, never instead of it).
"""

from django.conf import settings
from django.db import models
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from . import business_days
from .references import LENGTH as REFERENCE_LENGTH


class RequestQuerySet(models.QuerySet):
    def open(self):
        return self.exclude(status=Request.Status.CLOSED)

    @staticmethod
    def overdue_condition(now=None):
        """The overdue rule, for urgent and routine requests alike (business_days.py).

        Overdue: nobody has reached the patient (still new) after the response target
        for its urgency, or an open request's next follow-up day has passed.
        """
        cutoffs = business_days.response_cutoffs(now)
        still_new = Q(status=Request.Status.NEW) & (
            Q(urgent=True, submitted_at__lt=cutoffs["urgent"])
            | Q(urgent=False, submitted_at__lt=cutoffs["routine"])
        )
        # "isnull=False" first: a comparison with NULL would make the whole rule NULL.
        follow_up_missed = ~Q(status=Request.Status.CLOSED) & Q(
            next_follow_up__isnull=False, next_follow_up__lt=timezone.localdate(now)
        )
        return still_new | follow_up_missed

    def overdue(self):
        return self.filter(self.overdue_condition())

    def with_overdue(self, condition=None):
        """Each request with `is_overdue`, for the worklist's column and the export.

        `condition` is overdue_condition() when the caller already has it.
        """
        condition = self.overdue_condition() if condition is None else condition
        return self.annotate(is_overdue=ExpressionWrapper(condition, output_field=BooleanField()))


class Request(models.Model):
    """A patient's request to be contacted, worked by the front desk until it is closed.

    Submitted fields are read-only to staff (the admin shows them, never edits them);
    status, assignment, follow-up and notes are the staff's. `reference` is what the
    patient sees and what staff search by, so `__str__` uses it and never a name.
    """

    class Kind(models.TextChoices):
        CONSULTATION = "consultation", _("Consultation")
        CALL_BACK = "call_back", _("Call back")

    class Status(models.TextChoices):
        NEW = "new", _("New")
        CONTACTED = "contacted", _("Contacted")
        SCHEDULED = "scheduled", _("Scheduled")
        CLOSED = "closed", _("Closed")

    class ClosingReason(models.TextChoices):
        BOOKED = "booked", _("Booked")
        NOT_CANDIDATE = "not_candidate", _("Not a candidate")
        COULD_NOT_REACH = "could_not_reach", _("Could not reach")
        DECLINED = "declined", _("Declined")
        DUPLICATE = "duplicate", _("Duplicate")

    class ContactMethod(models.TextChoices):
        PHONE = "phone", _("Phone call")
        EMAIL = "email", _("Email")

    class TimeOfDay(models.TextChoices):
        MORNING = "morning", _("Morning (9 am to noon)")
        AFTERNOON = "afternoon", _("Afternoon (noon to 5 pm)")
        ANY = "any", _("Any time")

    class PatientType(models.TextChoices):
        # The forms ask "Do you have a pain pump now?"; "new" is the answer no.
        NEW = "new", _("No pump yet")
        HAS_PUMP = "has_pump", _("Has a pump")

    class NotificationStatus(models.TextChoices):
        PENDING = "pending", _("Waiting to send")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    # What the request is and where it stands.
    reference = models.CharField(
        _("reference"), max_length=REFERENCE_LENGTH, unique=True, editable=False
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    urgent = models.BooleanField(
        _("urgent"),
        default=False,
        help_text=_("Set when the patient answered yes to a safety question."),
    )
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now, db_index=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.NEW
    )
    closing_reason = models.CharField(
        _("closing reason"),
        max_length=20,
        choices=ClosingReason.choices,
        blank=True,
        help_text=_("Required when the request is closed, and only then."),
    )

    # What the patient told us (read-only to staff).
    name = models.CharField(_("name"), max_length=120)
    phone = PhoneNumberField(_("phone"), blank=True)
    email = models.EmailField(_("email"), blank=True)
    contact_method = models.CharField(
        _("preferred contact"), max_length=10, choices=ContactMethod.choices, blank=True
    )
    preferred_time = models.CharField(
        _("best time to call"), max_length=10, choices=TimeOfDay.choices, blank=True
    )
    patient_type = models.CharField(
        _("pain pump"), max_length=10, choices=PatientType.choices, blank=True
    )
    procedure = models.ForeignKey(
        "education.Procedure",
        verbose_name=_("asking about"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reason = models.TextField(_("reason"), max_length=500)
    referring_doctor = models.CharField(_("referring doctor"), max_length=120, blank=True)
    language = models.CharField(_("language"), max_length=60, blank=True)
    needs_interpreter = models.BooleanField(_("needs an interpreter"), default=False)
    # The language of the form the patient filled in (settings.LANGUAGES: its address,
    # /es/... for Spanish), set by services.submit_request.
    form_language = models.CharField(_("form language"), max_length=8, default="en", editable=False)
    voicemail_ok = models.BooleanField(
        _("voicemail allowed"),
        null=True,
        blank=True,
        help_text=_("Empty when the form did not ask (call-back requests sent before it did)."),
    )
    data_consent = models.BooleanField(_("agreed to data use"), default=False)

    # The safety screen: any yes makes the request urgent.
    safety_pump_alarm = models.BooleanField(_("pump alarm"), default=False)
    safety_fever = models.BooleanField(_("fever with wound problem or stiff neck"), default=False)
    safety_breathing = models.BooleanField(_("very sleepy or slow breathing"), default=False)
    safety_withdrawal = models.BooleanField(_("signs of withdrawal"), default=False)

    possible_duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("possible duplicate of"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="possible_duplicates",
        help_text=_("An earlier request with the same phone or email in the 14 days before."),
    )

    # The front desk's work.
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_requests",
    )
    next_follow_up = models.DateField(
        _("next follow-up"),
        null=True,
        blank=True,
        help_text=_(
            "Logging a call the patient did not answer proposes the next try (urgent: "
            "later the same day). Change it if needed."
        ),
    )
    appointment_at = models.DateTimeField(
        _("appointment"),
        null=True,
        blank=True,
        help_text=_("Date and time of the booked visit. Needed to mark the request scheduled."),
    )
    appointment_with = models.CharField(
        _("provider or location"),
        max_length=120,
        blank=True,
        help_text=_("Optional: who the visit is with, or where."),
    )
    staff_notes = models.TextField(
        _("staff notes"),
        blank=True,
        help_text=_("Only staff see these. The history records that notes changed, not what."),
    )

    # The email to the front-desk inbox, retried until sent (see services.py).
    notification_status = models.CharField(
        _("notification"),
        max_length=10,
        choices=NotificationStatus.choices,
        default=NotificationStatus.PENDING,
    )
    notification_attempts = models.PositiveSmallIntegerField(
        _("notification attempts"),
        default=0,
        help_text=_("Each time the email was queued, whether or not it was sent yet."),
    )
    notification_error = models.CharField(_("last notification error"), max_length=200, blank=True)
    notification_sent_at = models.DateTimeField(_("notification sent"), null=True, blank=True)
    # The queued task's id: the retry command skips a request whose task still waits.
    notification_task = models.CharField(
        _("notification task"), max_length=64, blank=True, editable=False
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # Counted up by every staff save: a form opened before someone else's save is
    # refused instead of overwriting it (services.save_staff_edit).
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    # A hash of the public form's one-time token: a replayed or double-clicked send finds
    # the request it already made instead of making a second one. NULL (not "") where
    # there is none, so the unique constraint leaves those rows alone.
    submission_token = models.CharField(  # noqa: DJ001
        _("form token (hash)"), max_length=64, unique=True, null=True, editable=False
    )

    objects = RequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("request")
        verbose_name_plural = _("requests")
        ordering = ["-urgent", "submitted_at"]
        permissions = [("export_request", _("Can export requests as CSV"))]
        indexes = [
            models.Index(fields=["status", "urgent", "submitted_at"], name="request_queue_idx"),
            # Search by phone: the number typed in any format is matched exactly (E.164).
            models.Index(fields=["phone"], name="request_phone_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(status="closed") & ~Q(closing_reason=""))
                | (~Q(status="closed") & Q(closing_reason="")),
                name="request_closing_reason_only_when_closed",
                violation_error_message=_("A closed request needs a closing reason."),
            ),
            models.CheckConstraint(
                condition=~Q(phone="") | ~Q(email=""),
                name="request_has_phone_or_email",
                violation_error_message=_("A request needs a phone number or an email."),
            ),
            models.CheckConstraint(
                condition=Q(kind="call_back") | Q(data_consent=True),
                name="request_consultation_has_consent",
                violation_error_message=_("A consultation request needs the data consent."),
            ),
            models.CheckConstraint(
                condition=~Q(status="scheduled") | Q(appointment_at__isnull=False),
                name="request_scheduled_has_appointment",
                violation_error_message=_("A scheduled request needs the appointment date."),
            ),
            models.CheckConstraint(
                condition=Q(kind="consultation") | ~Q(phone=""),
                name="request_call_back_has_phone",
                violation_error_message=_("A call-back request needs a phone number."),
            ),
        ]

    def __str__(self):
        return _("Request %(reference)s") % {"reference": self.reference}

    @property
    def safety_answers(self):
        return [
            self.safety_pump_alarm,
            self.safety_fever,
            self.safety_breathing,
            self.safety_withdrawal,
        ]

    @property
    def is_open(self):
        return self.status != self.Status.CLOSED


class ContactAttempt(models.Model):
    """One call (or try) by the front desk: the call log the queue's attempt count comes from.

    Kept as rows, not a counter, so staff see who called when and what happened, and
    the next person picks up where the last one stopped.
    """

    class Outcome(models.TextChoices):
        REACHED = "reached", _("Reached")
        VOICEMAIL = "voicemail", _("Left voicemail")
        NO_ANSWER = "no_answer", _("No answer")
        WRONG_NUMBER = "wrong_number", _("Wrong number")

    request = models.ForeignKey(
        Request, verbose_name=_("request"), on_delete=models.CASCADE, related_name="attempts"
    )
    called_at = models.DateTimeField(_("when"), default=timezone.now)
    called_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    notes = models.TextField(
        _("notes"), blank=True, help_text=_("What was said or agreed. Keep it short.")
    )

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        ordering = ["called_at"]

    def __str__(self):
        return _("Call on request %(reference)s") % {"reference": self.request.reference}


class RequestEventManager(models.Manager):
    def record(self, request, action, by, old="", new=""):
        """Add one history entry: who (`by`, or None for the system) did what, from, to."""
        return self.create(
            request=request, action=action, actor=by, old_value=old[:80], new_value=new[:80]
        )


class RequestEvent(models.Model):
    """The request's history: who changed what and when, in words staff can read.

    Values are status codes, dates and usernames only; a notes change is recorded as
    "notes edited" without the text, so the history never copies patient details.
    It cascades with the request: deleting a request (retention) deletes its history.
    """

    class Action(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        STATUS = "status", _("Status changed")
        ASSIGNED = "assigned", _("Assignment changed")
        FOLLOW_UP = "follow_up", _("Next follow-up changed")
        NOTES = "notes", _("Staff notes edited")
        APPOINTMENT = "appointment", _("Appointment changed")
        CALL = "call", _("Call logged")
        CALL_CORRECTED = "call_corrected", _("Logged call changed")
        NOTIFIED = "notified", _("Front desk notified")
        NOTIFY_FAILED = "notify_failed", _("Notification failed")
        NOTIFY_RETRY = "notify_retry", _("Notification retried")

    request = models.ForeignKey(
        Request, verbose_name=_("request"), on_delete=models.CASCADE, related_name="events"
    )
    at = models.DateTimeField(_("when"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    action = models.CharField(_("what"), max_length=20, choices=Action.choices)
    old_value = models.CharField(_("from"), max_length=80, blank=True)
    new_value = models.CharField(_("to"), max_length=80, blank=True)

    objects = RequestEventManager()

    class Meta:
        verbose_name = _("history entry")
        verbose_name_plural = _("history")
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.get_action_display()} ({timezone.localtime(self.at):%Y-%m-%d %H:%M})"


class ClosureDay(models.Model):
    """A day the clinic is closed (or open on a public holiday), added by staff.

    Public holidays come from the `holidays` library for CLINIC_HOLIDAYS_COUNTRY and
    CLINIC_HOLIDAYS_SUBDIVISION; these rows add the clinic's own closures (a staff
    day, a snow day) or keep it open on a holiday it works. business_days.py reads both.
    """

    day = models.DateField(_("day"), unique=True)
    name = models.CharField(_("why"), max_length=80)
    open = models.BooleanField(
        _("open that day"),
        default=False,
        help_text=_("Tick if the clinic works on this public holiday."),
    )

    class Meta:
        verbose_name = _("closure day")
        verbose_name_plural = _("closure days")
        ordering = ["-day"]

    def __str__(self):
        return f"{self.day:%Y-%m-%d} {self.name}"


class DiscardedSendManager(models.Manager):
    def count_one(self, form, reason, day=None):
        """Add one to today's count for this form and trap (safe with many workers)."""
        day = day or timezone.localdate()
        row, _created = self.get_or_create(day=day, form=form, reason=reason)
        self.filter(pk=row.pk).update(count=models.F("count") + 1)


class DiscardedSend(models.Model):
    """How many sends of a public form were thrown away as spam, per day, form and trap.

    Nothing a person sends is kept when a trap catches it, so this count is the only
    trace: the admin shows it, and a sudden rise means real patients are being lost.
    """

    day = models.DateField(_("day"))
    form = models.CharField(_("form"), max_length=20)
    reason = models.CharField(_("trap"), max_length=20)
    count = models.PositiveIntegerField(_("discarded"), default=0)

    objects = DiscardedSendManager()

    class Meta:
        verbose_name = _("discarded send")
        verbose_name_plural = _("discarded sends")
        ordering = ["-day", "form", "reason"]
        constraints = [
            models.UniqueConstraint(fields=["day", "form", "reason"], name="discarded_send_unique")
        ]

    def __str__(self):
        return f"{self.day:%Y-%m-%d} {self.form} {self.reason}: {self.count}"


class RateLimitCounter(models.Model):
    """How many times one client sent one public form in one time window (see ratelimit.py).

    A row per (form, client, window), counted up in the database so every web worker
    sees the same number. `client` is a keyed hash of the address, never the address:
    an IP address is personal data. Rows of ended windows are deleted as new ones start.
    """

    scope = models.CharField(_("form"), max_length=40)
    client = models.CharField(_("client (keyed hash)"), max_length=64)
    window_start = models.DateTimeField(_("window start"))
    count = models.PositiveIntegerField(_("sends"), default=0)

    class Meta:
        verbose_name = _("rate limit counter")
        verbose_name_plural = _("rate limit counters")
        ordering = ["-window_start", "scope"]
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "client", "window_start"], name="ratelimit_counter_unique"
            )
        ]
        indexes = [models.Index(fields=["window_start"], name="ratelimit_window_idx")]

    def __str__(self):
        return f"{self.scope} {self.window_start:%Y-%m-%d %H:%M}: {self.count}"
