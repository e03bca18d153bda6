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
# Each demo request: its fixed reference, then what differs from a new consultation.
DEMO_REQUESTS = [
    ("DEMAAAA2", {"name": "Test Patient One", "phone": "+12025550101", "urgent": True}),
    ("DEMAAAA3", {"name": "Test Patient Two", "email": "two@example.com", "days_ago": 4}),
    ("DEMAAAA4", {"name": "Test Patient Three", "kind": CALL_BACK, "status": S.CONTACTED}),
    ("DEMAAAA5", {"name": "Test Patient Four", "phone": "", "status": S.SCHEDULED}),
    (
        "DEMAAAA6",
        {"name": "Test Patient Five", "status": S.CLOSED, "closing_reason": "could_not_reach"},
    ),
    (
        "DEMAAAA7",
        {"name": "Test Patient One", "phone": "+12025550101", "kind": CALL_BACK, "days_ago": 0},
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
                **demo,
            }
            kind, status = values["kind"], values["status"]
            consultation = kind == Request.Kind.CONSULTATION
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
                    "submitted_at": now - datetime.timedelta(days=values["days_ago"], hours=1),
                    "reason": "Demo request: not a real patient.",
                    "contact_method": "phone" if values["phone"] else "email",
                    "preferred_time": Request.TimeOfDay.MORNING,
                    "voicemail_ok": True if consultation and values["phone"] else None,
                    "data_consent": consultation,
                    "patient_type": Request.PatientType.NEW if consultation else "",
                    "procedure": procedure if consultation else None,
                    "possible_duplicate_of": first if reference == "DEMAAAA7" else None,
                    "assigned_to": front_desk if status != S.NEW else None,
                    "next_follow_up": add_business_days(timezone.localdate(), 1)
                    if status in (S.CONTACTED, S.SCHEDULED)
                    else None,
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
                ContactAttempt.objects.create(
                    request=request,
                    called_by=front_desk,
                    called_at=request.submitted_at + datetime.timedelta(hours=3),
                    outcome=ContactAttempt.Outcome.VOICEMAIL,
                    notes="Demo call.",
                )
        return created
