"""The request workflow in services.py: status transitions, call log, duplicates, overdue."""

import datetime
import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from appointments import services
from appointments.forms import CallBackRequestForm, ConsultationRequestForm
from appointments.models import ContactAttempt, Request, RequestEvent

from .factories import call_back_data, consultation_data, make_request

pytestmark = pytest.mark.django_db

S = Request.Status
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def at(year, month, day, hour=0, minute=0):
    return datetime.datetime(year, month, day, hour, minute, tzinfo=NEW_YORK)


# Status transitions.


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (S.NEW, S.CONTACTED),
        (S.NEW, S.SCHEDULED),
        (S.CONTACTED, S.SCHEDULED),
        (S.SCHEDULED, S.CONTACTED),
        (S.CLOSED, S.CONTACTED),
    ],
)
def test_sensible_status_changes_are_made_and_recorded(front_desk, start, end):
    request = make_request(
        status=start,
        closing_reason="booked" if start == S.CLOSED else "",
        appointment_at=at(2030, 1, 7, 10),
    )
    assert services.change_status(request, end, by=front_desk)
    request.refresh_from_db()
    assert request.status == end
    assert request.closing_reason == ""
    event = request.events.get(action=RequestEvent.Action.STATUS)
    assert (event.actor, event.old_value, event.new_value) == (front_desk, start, end)


@pytest.mark.parametrize("start", [S.CONTACTED, S.SCHEDULED, S.CLOSED])
def test_nothing_goes_back_to_new(front_desk, start):
    request = make_request(status=start, closing_reason="booked" if start == S.CLOSED else "")
    with pytest.raises(ValidationError, match="cannot go from"):
        services.change_status(request, S.NEW, by=front_desk)
    request.refresh_from_db()
    assert request.status == start
    assert not request.events.exists()


def test_a_closed_request_cannot_jump_to_scheduled(front_desk):
    request = make_request(
        status=S.CLOSED, closing_reason="declined", appointment_at=at(2030, 1, 7, 10)
    )
    with pytest.raises(ValidationError, match="cannot go from “Closed” to “Scheduled”"):
        services.change_status(request, S.SCHEDULED, by=front_desk)


def test_closing_needs_a_reason(front_desk):
    request = make_request()
    with pytest.raises(ValidationError, match="closing reason"):
        services.change_status(request, S.CLOSED, by=front_desk)
    services.change_status(request, S.CLOSED, by=front_desk, closing_reason="booked")
    request.refresh_from_db()
    assert (request.status, request.closing_reason) == (S.CLOSED, "booked")
    assert request.events.get().new_value == "closed: booked"


def test_the_database_refuses_a_closed_request_without_a_reason():
    request = make_request()
    with pytest.raises(IntegrityError), transaction.atomic():
        Request.objects.filter(pk=request.pk).update(status=S.CLOSED)


def test_the_database_refuses_a_reason_on_an_open_request():
    request = make_request()
    with pytest.raises(IntegrityError), transaction.atomic():
        Request.objects.filter(pk=request.pk).update(closing_reason="booked")


def test_str_shows_the_reference_and_no_patient_details():
    request = make_request(reference="ABCD2345", name="Test Patient Secret")
    assert str(request) == "Request ABCD2345"


# Call log.


def test_a_call_with_no_answer_keeps_a_new_request_new_and_proposes_the_next_try(front_desk):
    request = make_request()
    friday_morning = at(2026, 11, 20, 10)
    attempt = ContactAttempt(request=request, outcome="no_answer", called_at=friday_morning)
    done = services.log_call(attempt, by=front_desk)
    request.refresh_from_db()
    assert request.status == S.NEW
    assert request.next_follow_up == datetime.date(2026, 11, 23)  # the Monday after
    assert attempt.called_by == front_desk
    assert request.attempts.count() == 1
    assert len(done) == 1
    actions = list(request.events.values_list("action", flat=True))
    assert actions == ["call", "follow_up"]


def test_reaching_the_patient_moves_a_new_request_to_contacted(front_desk):
    request = make_request()
    attempt = ContactAttempt(request=request, outcome="reached", called_at=at(2026, 11, 20, 10))
    done = services.log_call(attempt, by=front_desk)
    request.refresh_from_db()
    assert request.status == S.CONTACTED
    assert request.next_follow_up is None
    assert len(done) == 1
    actions = list(request.events.values_list("action", flat=True))
    assert actions == ["call", "status"]


def test_logging_a_call_on_a_scheduled_request_keeps_its_status(front_desk):
    request = make_request(status=S.SCHEDULED)
    services.log_call(ContactAttempt(request=request, outcome="reached"), by=front_desk)
    request.refresh_from_db()
    assert request.status == S.SCHEDULED


def test_a_follow_up_set_by_staff_is_not_overwritten(front_desk):
    chosen = datetime.date(2030, 1, 7)
    request = make_request(next_follow_up=chosen)
    services.log_call(
        ContactAttempt(request=request, outcome="voicemail"),
        by=front_desk,
        propose_follow_up=False,
    )
    request.refresh_from_db()
    assert request.next_follow_up == chosen


def test_a_closed_request_gets_no_follow_up_proposed(front_desk):
    request = make_request(status=S.CLOSED, closing_reason="declined")
    services.log_call(ContactAttempt(request=request, outcome="reached"), by=front_desk)
    request.refresh_from_db()
    assert request.next_follow_up is None


# Staff edits record who changed what, never the notes themselves.


def test_staff_edits_are_recorded_without_copying_notes(front_desk):
    request = make_request()
    request.staff_notes = "Private note about Test Patient"
    request.assigned_to = front_desk
    services.save_staff_edit(request, version=request.version, by=front_desk)
    events = {event.action: event for event in request.events.all()}
    assert events["assigned"].new_value == "frontdesk"
    assert events["notes"].old_value == events["notes"].new_value == ""
    assert not RequestEvent.objects.filter(new_value__contains="Private").exists()


def test_deleting_a_request_deletes_its_calls_and_history(front_desk):
    request = make_request()
    services.log_call(ContactAttempt(request=request, outcome="reached"), by=front_desk)
    request.delete()
    assert not ContactAttempt.objects.exists()
    assert not RequestEvent.objects.exists()


# Duplicates.


def submit(**overrides):
    form = ConsultationRequestForm(data=consultation_data(**overrides))
    assert form.is_valid(), form.errors
    return services.submit_request(form, Request.Kind.CONSULTATION)


def test_a_request_with_the_same_phone_within_14_days_is_marked_possible_duplicate():
    first = make_request(phone="+12025550101", email="", submitted_at=_days_ago(13))
    second = submit(phone="202 555 0101", email="other@example.com")
    assert second.possible_duplicate_of == first


def test_a_request_with_the_same_email_in_other_case_is_marked_possible_duplicate():
    first = make_request(phone="+12025550177", email="test.one@example.com")
    second = submit(email="TEST.ONE@example.com", phone="(202) 555-0188")
    assert second.possible_duplicate_of == first


def test_a_request_older_than_14_days_is_not_a_duplicate():
    make_request(phone="+12025550101", submitted_at=_days_ago(15))
    assert submit().possible_duplicate_of is None


def test_different_contact_details_are_not_duplicates():
    make_request(phone="+12025550150", email="someone@example.com")
    assert submit().possible_duplicate_of is None


def _days_ago(days):
    return timezone.now() - datetime.timedelta(days=days)


def test_a_reference_taken_at_the_same_moment_is_replaced_and_nothing_is_lost(monkeypatch):
    existing = make_request(reference="SAMEREF2")
    draws = iter(["SAMEREF2", "FRESHREF"])
    # The existence check misses the clash (as when two sends race), the database doesn't.
    monkeypatch.setattr(services, "_unused_reference", lambda: next(draws))
    form = CallBackRequestForm(data=call_back_data())
    assert form.is_valid(), form.errors
    saved = services.submit_request(form, Request.Kind.CALL_BACK)
    assert saved.reference == "FRESHREF"
    assert Request.objects.filter(reference="SAMEREF2").get() == existing
    assert Request.objects.get(reference="FRESHREF").events.count() == 1
