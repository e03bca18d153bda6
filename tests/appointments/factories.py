"""Small helpers to build requests and form data for the appointments tests.

All data is obviously fake: "Test Patient" names, 555-01xx numbers, example.com emails.
"""

import datetime
import html
import itertools
import time

from django.utils import timezone

from appointments.forms import start_token
from appointments.models import Request

_numbers = itertools.count(1)


def old_token(seconds=60):
    """A form token as if the form was shown `seconds` ago (past the timing trap)."""
    return start_token(time.time() - seconds)


def safety(answer="no", **overrides):
    answers = {
        "safety_pump_alarm": answer,
        "safety_fever": answer,
        "safety_breathing": answer,
        "safety_withdrawal": answer,
    }
    answers.update(overrides)
    return answers


def consultation_data(**overrides):
    data = {
        "name": "Test Patient One",
        "phone": "(202) 555-0101",
        "email": "test.one@example.com",
        "contact_method": "phone",
        "preferred_time": "morning",
        "voicemail_ok": "yes",
        "patient_type": "new",
        "procedure": "",
        "reason": "Back pain for two years.",
        "referring_doctor": "Dr Example",
        "language": "English",
        "data_consent": "on",
        "website": "",
        "started": old_token(),
        **safety(),
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def call_back_data(**overrides):
    data = {
        "name": "Test Patient Two",
        "phone": "(202) 555-0102",
        "preferred_time": "afternoon",
        "voicemail_ok": "yes",
        "patient_type": "new",
        "reason": "Questions about the pump trial.",
        "website": "",
        "started": old_token(),
        **safety(),
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def make_request(**fields):
    """A saved request, as if submitted through the site, with fields overridden."""
    number = next(_numbers)
    values = {
        "reference": f"TEST{number:04d}".replace("0", "A").replace("1", "B"),
        "kind": Request.Kind.CONSULTATION,
        "name": f"Test Patient {number}",
        "phone": f"+1202555{number % 100:04d}",
        "email": f"test{number}@example.com",
        "reason": "Test reason.",
        "data_consent": True,
        "submitted_at": timezone.now(),
    }
    values.update(fields)
    if values.get("status") == Request.Status.SCHEDULED:
        # "Scheduled" means booked: a date and time (the database insists).
        values.setdefault("appointment_at", timezone.now() + datetime.timedelta(days=7))
    return Request.objects.create(**values)


def form_as_sent(response):
    """The public form bound to what the test posted and validated, as the view did it.

    The public pages are Jinja2 templates, and the test client records the context of
    Django templates only, so `response.context` does not hold the page's form.
    """
    request = response.wsgi_request
    view = request.resolver_match.func.view_class()
    view.setup(request)
    form = view.get_form()
    form.is_valid()
    return form


def shown_text(response):
    """The page as text, entities resolved: what a patient reads (tags and all)."""
    return html.unescape(response.content.decode(response.charset or "utf-8"))
