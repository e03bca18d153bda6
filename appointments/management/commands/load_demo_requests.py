"""Demo staff logins and a handful of obviously fake requests, for local use only.

Idempotent: users are created or reset to the printed passwords; the demo requests
(fixed references starting DEM) are created only where missing. Refuses to run with
DEBUG off, so the known passwords never reach a real server.
"""

import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import StaffProfile
from appointments.business_days import add_business_days
from appointments.models import ContactAttempt, Request, RequestEvent
from education.models import Procedure

USERS = [
    # username, password, group (None for the superuser)
    ("frontdesk", "frontdesk-local-only", "Front desk"),
    ("editor", "editor-local-only", "Content editors"),
    ("reviewer", "reviewer-local-only", "Clinical reviewers"),
    ("admin", "admin-local-only", None),
]
# How the demo reviewer signs the pages they approve: name and credentials.
DEMO_REVIEWER = {"first_name": "Demo", "last_name": "Reviewer (placeholder)"}
DEMO_REVIEWER_CREDENTIALS = "MD"

S = Request.Status
CALL_BACK = Request.Kind.CALL_BACK
HAS_PUMP = Request.PatientType.HAS_PUMP
# Each demo request: its fixed reference, then what differs from a new consultation.
# Together they show every row of the worklist: urgent, overdue, a follow-up due today,
# an interpreter, no voicemail, a booked appointment, a closed one, a duplicate.
DEMO_REQUESTS = [
    (
        "DEMAAAA2",
        {
            "name": "Test Patient One",
            "phone": "+12025550101",
            "urgent": True,
            "patient_type": HAS_PUMP,
            "voicemail_ok": False,
            "hours_ago": 3,
        },
    ),
    ("DEMAAAA3", {"name": "Test Patient Two", "email": "two@example.com", "days_ago": 4}),
    (
        "DEMAAAA4",
        {"name": "Test Patient Three", "kind": CALL_BACK, "status": S.CONTACTED, "follow_up": 0},
    ),
    (
        "DEMAAAA5",
        {"name": "Test Patient Four", "phone": "", "status": S.SCHEDULED, "appointment_in": 6},
    ),
    (
        "DEMAAAA6",
        {"name": "Test Patient Five", "status": S.CLOSED, "closing_reason": "could_not_reach"},
    ),
    (
        "DEMAAAA7",
        {"name": "Test Patient One", "phone": "+12025550101", "kind": CALL_BACK, "hours_ago": 1},
    ),
    (
        "DEMAAAA8",
        {
            "name": "Test Patient Six",
            "language": "Spanish",
            "needs_interpreter": True,
            "patient_type": HAS_PUMP,
            "hours_ago": 2,
        },
    ),
]


class Command(BaseCommand):
    help = "Create demo staff users (printed passwords) and fake requests. DEBUG only."

    @transaction.atomic
    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Refusing to create demo logins with DEBUG off.")
        users = self.create_users()
        created = self.create_requests(users["frontdesk"])
        self.stdout.write(f"Demo requests created: {created}.")
        self.stdout.write("Demo logins (this computer only; DEBUG is on):")
        for username, password, group in USERS:
            self.stdout.write(f"  {username} / {password}  ({group or 'superuser'})")
        if settings.STAFF_TWO_FACTOR_REQUIRED:
            self.stdout.write(
                "Two-step sign-in is on (STAFF_TWO_FACTOR_REQUIRED): after the password, "
                "each login needs an authenticator app, set up with a one-time link from "
                "`manage.py enrolment_link USERNAME`."
            )
        else:
            self.stdout.write(
                "Two-step sign-in is off in the demo (STAFF_TWO_FACTOR_REQUIRED is false "
                "with DEBUG on): the password alone opens the admin."
            )

    def create_users(self):
        User = get_user_model()
        users = {}
        for username, password, group in USERS:
            user, _ = User.objects.get_or_create(username=username)
            user.is_staff = True
            user.is_superuser = group is None
            user.email = f"{username}@example.com"
            user.set_password(password)
            user.save()
            if group:
                user.groups.set([Group.objects.get(name=group)])
            users[username] = user
        reviewer = users["reviewer"]
        User.objects.filter(pk=reviewer.pk).update(**DEMO_REVIEWER)
        StaffProfile.objects.update_or_create(
            user=reviewer, defaults={"credentials": DEMO_REVIEWER_CREDENTIALS}
        )
        return users

    def create_requests(self, front_desk):
        now = timezone.now()
        procedure = Procedure.objects.published().first()
        created = 0
        first = None
        for number, (reference, demo) in enumerate(DEMO_REQUESTS, start=1):
            values = {
                "phone": f"+1202555010{number}",
                "email": f"patient{number}@example.com",
                "kind": Request.Kind.CONSULTATION,
                "urgent": False,
                "status": S.NEW,
                "closing_reason": "",
                "days_ago": number,
                "hours_ago": 1,
                "patient_type": Request.PatientType.NEW,
                "voicemail_ok": True,
                "language": "",
                "needs_interpreter": False,
                "follow_up": None,
                "appointment_in": None,
                **demo,
            }
            kind, status = values["kind"], values["status"]
            consultation = kind == Request.Kind.CONSULTATION
            submitted_at = now - datetime.timedelta(hours=values["hours_ago"])
            if "hours_ago" not in demo:
                submitted_at -= datetime.timedelta(days=values["days_ago"])
            follow_up = values["follow_up"]
            appointment_in = values["appointment_in"]
            request, was_created = Request.objects.get_or_create(
                reference=reference,
                defaults={
                    "name": values["name"],
                    "phone": values["phone"],
                    "email": values["email"],
                    "kind": kind,
                    "urgent": values["urgent"],
                    "safety_pump_alarm": values["urgent"],
                    "status": status,
                    "closing_reason": values["closing_reason"],
                    "submitted_at": submitted_at,
                    "reason": "Demo request: not a real patient.",
                    "contact_method": "phone" if values["phone"] else "email",
                    "preferred_time": Request.TimeOfDay.MORNING,
                    "voicemail_ok": values["voicemail_ok"] if values["phone"] else None,
                    "language": values["language"],
                    "needs_interpreter": values["needs_interpreter"],
                    "data_consent": consultation,
                    "patient_type": values["patient_type"],
                    "procedure": procedure if consultation else None,
                    "possible_duplicate_of": first if reference == "DEMAAAA7" else None,
                    "assigned_to": front_desk if status != S.NEW else None,
                    "next_follow_up": add_business_days(timezone.localdate(), follow_up)
                    if follow_up
                    else (timezone.localdate() if follow_up == 0 else None),
                    "appointment_at": _at_ten(
                        add_business_days(timezone.localdate(), appointment_in)
                    )
                    if appointment_in
                    else None,
                    "appointment_with": "Demo clinic, room 2" if appointment_in else "",
                    # Demo data: pretend the front desk was told, except one failure
                    # to show how a failed email looks in the admin.
                    "notification_status": "failed" if reference == "DEMAAAA3" else "sent",
                    "notification_attempts": 1,
                    "notification_error": "SMTPConnectError: demo failure"
                    if reference == "DEMAAAA3"
                    else "",
                },
            )
            first = first or request
            if not was_created:
                continue
            created += 1
            RequestEvent.objects.create(
                request=request, action=RequestEvent.Action.SUBMITTED, at=request.submitted_at
            )
            if status != S.NEW:
                # Contacted means someone reached the patient (after one missed try).
                for hours, outcome in [(2, "no_answer"), (3, "reached")]:
                    ContactAttempt.objects.create(
                        request=request,
                        called_by=front_desk,
                        called_at=request.submitted_at + datetime.timedelta(hours=hours),
                        outcome=outcome,
                        notes="Demo call.",
                    )
        return created


def _at_ten(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(10, 0)))
