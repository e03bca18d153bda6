"""The front desk's day (issue 15): honest call outcomes, the worklist, booked means
scheduled, no lost updates, the call log as a record, odd URLs, and the retry command."""

import csv
import datetime
import io
import zoneinfo

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from appointments import services
from appointments.models import ContactAttempt, DiscardedSend, Request, RequestEvent

from .factories import make_request

pytestmark = pytest.mark.django_db

S = Request.Status
CHANGELIST = reverse("admin:appointments_request_changelist")
CALL_SHEET = reverse("admin:appointments_request_call_sheet")
EXPORT = reverse("admin:appointments_request_export")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def change_url(request):
    return reverse("admin:appointments_request_change", args=[request.pk])


def at(*args):
    return datetime.datetime(*args, tzinfo=NEW_YORK)


def listed(response):
    return [obj.reference for obj in response.context["cl"].result_list]


def form_data(response, **overrides):
    """What the change form on `response` posts back as it is, with `overrides`.

    Built from the rendered form, so it carries the version the page was opened at.
    """
    context = response.context
    form = context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if name == "appointment_at":
            moment = field.to_python(value) if not isinstance(value, datetime.datetime) else value
            data["appointment_at_0"] = timezone.localtime(moment).date() if moment else ""
            data["appointment_at_1"] = timezone.localtime(moment).time() if moment else ""
            continue
        data[name] = "" if value is None else value
    for formset in context["inline_admin_formsets"]:
        management = formset.formset.management_form
        prefix = formset.formset.prefix
        for name in ["TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS"]:
            data[f"{prefix}-{name}"] = management[name].value()
        data[f"{prefix}-TOTAL_FORMS"] = formset.formset.initial_form_count()
        for index, inline_form in enumerate(formset.formset.initial_forms):
            data[f"{prefix}-{index}-id"] = inline_form.instance.pk
            data[f"{prefix}-{index}-request"] = inline_form.instance.request_id
    data.update(overrides)
    return data


def with_call(data, outcome, when=None, notes=""):
    """Add one new call row to the change form's data."""
    index = int(data["attempts-TOTAL_FORMS"])
    when = timezone.localtime(when or timezone.now())
    data.update(
        {
            "attempts-TOTAL_FORMS": index + 1,
            f"attempts-{index}-called_at_0": when.date().isoformat(),
            f"attempts-{index}-called_at_1": when.strftime("%H:%M:%S"),
            f"attempts-{index}-outcome": outcome,
            f"attempts-{index}-notes": notes,
        }
    )
    return data


# 1. Call outcomes drive the status honestly.


@pytest.mark.parametrize("outcome", ["no_answer", "voicemail", "wrong_number"])
def test_a_call_that_does_not_reach_the_patient_keeps_the_request_new(front_desk, outcome):
    request = make_request(urgent=True)
    called_at = at(2026, 12, 1, 10, 0)  # a Tuesday morning
    attempt = ContactAttempt(request=request, outcome=outcome, called_at=called_at)
    done = services.log_call(attempt, by=front_desk)
    request.refresh_from_db()
    assert request.status == S.NEW
    assert request.attempts.count() == 1
    assert request.next_follow_up == datetime.date(2026, 12, 1)  # urgent: the same day
    assert any("Still open" in sentence for sentence in done)


def test_a_routine_call_with_no_answer_proposes_the_next_open_day(front_desk):
    request = make_request()
    attempt = ContactAttempt(
        request=request, outcome="no_answer", called_at=at(2026, 12, 4, 10, 0)
    )  # a Friday
    services.log_call(attempt, by=front_desk)
    request.refresh_from_db()
    assert (request.status, request.next_follow_up) == (S.NEW, datetime.date(2026, 12, 7))


def test_only_reaching_the_patient_moves_a_request_to_contacted(front_desk):
    request = make_request(urgent=True, next_follow_up=datetime.date(2026, 12, 1))
    services.log_call(ContactAttempt(request=request, outcome="no_answer"), by=front_desk)
    services.log_call(ContactAttempt(request=request, outcome="reached"), by=front_desk)
    request.refresh_from_db()
    assert request.status == S.CONTACTED
    calls = list(request.events.filter(action="call").values_list("new_value", "actor"))
    assert calls == [("no_answer", front_desk.pk), ("reached", front_desk.pk)]


# 2 and 3. The worklist.


def test_an_urgent_request_is_overdue_after_two_clinic_hours_a_routine_one_is_not(
    front_desk_client, settings
):
    settings.RESPONSE_TARGET_URGENT_BUSINESS_HOURS = 2
    settings.RESPONSE_TARGET_ROUTINE_BUSINESS_DAYS = 1
    now = at(2026, 12, 1, 14, 0)  # Tuesday 2 pm
    urgent = make_request(urgent=True, submitted_at=at(2026, 12, 1, 9, 0))
    routine = make_request(submitted_at=at(2026, 12, 1, 9, 0))
    overdue = set(Request.objects.filter(Request.objects.overdue_condition(now)))
    assert urgent in overdue
    assert routine not in overdue


def test_each_row_has_what_the_call_needs(front_desk_client, front_desk):
    make_request(
        reference="ROWAAAA2",
        name="Test Rowpatient",
        phone="+12025550177",
        preferred_time="morning",
        voicemail_ok=False,
        language="Spanish",
        needs_interpreter=True,
        patient_type="has_pump",
        assigned_to=front_desk,
        status=S.SCHEDULED,
        appointment_at=at(2030, 1, 7, 10, 30),
        appointment_with="Dr Example, room 2",
        next_follow_up=timezone.localdate(),
    )
    html = front_desk_client.get(CHANGELIST).content.decode()
    row = next(part for part in html.split("<tr") if "ROWAAAA2" in part)
    for expected in [
        "Test Rowpatient",
        'href="tel:+12025550177"',
        "(202) 555-0177",
        "Morning",
        "No voicemail",
        "Spanish, interpreter wanted",
        "Has a pump",
        "Scheduled",
        "Appointment: Mon Jan 7, 10:30 AM, Dr Example, room 2",
        "Next try: today",
        "frontdesk",
    ]:
        assert expected in row, expected
    # Minimum necessary: the reason and the email stay on the request's own page.
    assert "Test reason." not in row


def test_mine_and_unassigned_views(front_desk_client, front_desk, superuser):
    make_request(reference="MINEAAA2", assigned_to=front_desk)
    make_request(reference="THEIRSA2", assigned_to=superuser)
    make_request(reference="NOBODYA2")
    assert listed(front_desk_client.get(CHANGELIST + "?assigned=mine")) == ["MINEAAA2"]
    assert listed(front_desk_client.get(CHANGELIST + "?assigned=unassigned")) == ["NOBODYA2"]


def test_a_search_looks_through_every_request_not_only_todays(front_desk_client):
    make_request(
        reference="CLOSEDA2", name="Test Oldcase", status=S.CLOSED, closing_reason="booked"
    )
    assert listed(front_desk_client.get(CHANGELIST)) == []
    assert listed(front_desk_client.get(CHANGELIST, {"q": "Oldcase"})) == ["CLOSEDA2"]


@pytest.mark.parametrize(
    "typed", ["(202) 555-0142", "202.555.0142", "+1 202 555 0142", "2025550142"]
)
def test_the_phone_search_matches_the_whole_number_in_any_format(front_desk_client, typed):
    make_request(reference="PHONEAA2", phone="+12025550142")
    make_request(reference="OTHERAA2", phone="+12025550143")
    assert listed(front_desk_client.get(CHANGELIST, {"q": typed})) == ["PHONEAA2"]


def test_a_partial_phone_number_says_to_type_the_whole_number(front_desk_client):
    make_request(phone="+12025550142")
    response = front_desk_client.get(CHANGELIST, {"q": "0142"}, follow=True)
    assert listed(response) == []
    assert "type the whole number with the area code" in response.content.decode()


def test_the_phone_search_uses_the_phone_index():
    indexes = connection.introspection.get_constraints(connection.cursor(), Request._meta.db_table)
    assert indexes["request_phone_idx"]["columns"] == ["phone"]
    # The plan: SQLite uses the index at any size. PostgreSQL picks a sequential scan on
    # a table this small; `make bench` (bench_queue.py) checks its plan at 100,000 rows.
    if connection.vendor == "sqlite":
        assert "request_phone_idx" in Request.objects.filter(phone="+12025550142").explain()


def test_the_list_fits_the_job_without_a_query_per_row(front_desk_client, front_desk):
    def count():
        with CaptureQueriesContext(connection) as queries:
            front_desk_client.get(CHANGELIST + "?show=all")
        return len(queries)

    make_request(assigned_to=front_desk)
    few = count()
    for number in range(15):
        request = make_request(
            assigned_to=front_desk if number % 2 else None,
            status=S.SCHEDULED if number % 3 == 0 else S.NEW,
            appointment_at=at(2030, 1, 7, 10, 0) if number % 3 == 0 else None,
        )
        ContactAttempt.objects.create(request=request, outcome="no_answer")
    assert count() == few


# The call sheet and the CSV.


def test_the_call_sheet_lists_the_current_list_with_no_message_where_asked(front_desk_client):
    make_request(reference="NOVMAAA2", name="Test Novoicemail", voicemail_ok=False, urgent=True)
    make_request(reference="VMOKAAA2", name="Test Voicemailok", voicemail_ok=True)
    make_request(reference="CLSDAAA2", status=S.CLOSED, closing_reason="booked")
    response = front_desk_client.get(CALL_SHEET)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert "NOVMAAA2" in html and "VMOKAAA2" in html and "CLSDAAA2" not in html
    row = next(part for part in html.split("<tr") if "NOVMAAA2" in part)
    assert 'class="no-message"' in row and "do not leave a message" in row
    assert "URGENT" in row
    assert "Test reason." not in html  # minimum necessary
    only_urgent = front_desk_client.get(CALL_SHEET + "?urgent__exact=1").content.decode()
    assert "VMOKAAA2" not in only_urgent


def test_the_call_sheet_needs_the_front_desk_role(editor_client):
    assert editor_client.get(CALL_SHEET).status_code == 403


def test_the_csv_carries_what_is_needed_to_work_offline(front_desk_client):
    make_request(
        reference="CSVAAAA2",
        reason="Test reason for the file.",
        voicemail_ok=False,
        language="Spanish",
        needs_interpreter=True,
        status=S.SCHEDULED,
        appointment_at=at(2030, 1, 7, 10, 30),
        appointment_with="Room 2",
    )
    rows = list(
        csv.DictReader(io.StringIO(front_desk_client.get(EXPORT + "?show=all").content.decode()))
    )
    row = rows[0]
    assert row["reason"] == "Test reason for the file."
    assert row["voicemail allowed"] == "no"
    assert (row["language"], row["needs an interpreter"]) == ("Spanish", "yes")
    assert row["form language"] == "English"
    assert (row["appointment"], row["provider or location"]) == ("2030-01-07 10:30", "Room 2")


def test_a_request_sent_from_the_spanish_form_says_so_on_its_row(front_desk_client):
    make_request(reference="ROWSPAN2", form_language="es", needs_interpreter=True)
    make_request(reference="ROWSPAN3", form_language="es", language="Mam")
    html = front_desk_client.get(CHANGELIST).content.decode()
    rows = {ref: next(p for p in html.split("<tr") if ref in p) for ref in ("ROWSPAN2", "ROWSPAN3")}
    assert "Spanish form, interpreter wanted" in rows["ROWSPAN2"]
    assert "Spanish form, Mam" in rows["ROWSPAN3"]


# 4. Scheduled means booked.


def test_scheduled_needs_an_appointment_date_and_time(front_desk_client):
    request = make_request(status=S.CONTACTED)
    page = front_desk_client.get(change_url(request))
    response = front_desk_client.post(change_url(request), form_data(page, status="scheduled"))
    assert response.status_code == 200
    assert "Enter the appointment date and time to mark the request scheduled." in (
        response.content.decode()
    )
    request.refresh_from_db()
    assert request.status == S.CONTACTED


def test_booking_an_appointment_is_shown_and_recorded(front_desk_client, front_desk):
    request = make_request(status=S.CONTACTED)
    page = front_desk_client.get(change_url(request))
    front_desk_client.post(
        change_url(request),
        form_data(
            page,
            status="scheduled",
            appointment_at_0="2030-01-07",
            appointment_at_1="10:30",
            appointment_with="Dr Example",
        ),
    )
    request.refresh_from_db()
    assert request.status == S.SCHEDULED
    assert timezone.localtime(request.appointment_at) == at(2030, 1, 7, 10, 30)
    event = request.events.get(action="appointment")
    assert (event.new_value, event.actor) == ("2030-01-07 10:30", front_desk)
    assert "Dr Example" not in event.new_value  # the history stays terse


def test_the_database_refuses_scheduled_without_an_appointment():
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        make_request(status=S.SCHEDULED, appointment_at=None)


# 5. No lost updates.


def test_a_save_from_a_form_opened_before_a_colleagues_save_is_refused(
    front_desk, superuser, django_user_model
):
    request = make_request()
    first, second = Client(), Client()
    first.force_login(front_desk)
    second.force_login(superuser)
    first_page = first.get(change_url(request))
    second_page = second.get(change_url(request))

    saved = first.post(
        change_url(request),
        form_data(first_page, staff_notes="Patient asked for mornings.", assigned_to=front_desk.pk),
    )
    assert saved.status_code == 302
    refused = second.post(
        change_url(request), form_data(second_page, staff_notes="Left a message.")
    )
    assert refused.status_code == 200
    text = refused.content.decode()
    assert "Someone else saved this request after you opened it (by frontdesk" in text
    assert "Left a message." in text  # their text is still there to copy

    request.refresh_from_db()
    assert request.staff_notes == "Patient asked for mornings."
    assert request.assigned_to == front_desk
    assert not request.events.filter(actor=superuser).exists()


def test_a_refused_save_logs_no_call_either(front_desk_client, superuser):
    request = make_request()
    page = front_desk_client.get(change_url(request))
    services.assign(request, superuser, by=superuser)  # a colleague's save in between
    data = with_call(form_data(page), "reached")
    response = front_desk_client.post(change_url(request), data)
    assert response.status_code == 200
    assert not request.attempts.exists()


def test_a_save_writes_only_the_fields_that_changed(front_desk_client, front_desk):
    request = make_request(staff_notes="Old notes.", assigned_to=front_desk)
    page = front_desk_client.get(change_url(request))
    with CaptureQueriesContext(connection) as queries:
        front_desk_client.post(change_url(request), form_data(page, next_follow_up="2030-01-07"))
    updates = [
        query["sql"]
        for query in queries
        if query["sql"].startswith("UPDATE") and "appointments_request" in query["sql"]
    ]
    assert len(updates) == 1
    assert "next_follow_up" in updates[0]
    for untouched in ["staff_notes", "assigned_to", "status", "appointment_at"]:
        assert untouched not in updates[0]
    request.refresh_from_db()
    assert request.next_follow_up == datetime.date(2030, 1, 7)


def test_every_staff_change_counts_the_version_up(front_desk, superuser):
    request = make_request()
    version = request.version
    services.assign(request, front_desk, by=superuser)
    services.log_call(ContactAttempt(request=request, outcome="no_answer"), by=front_desk)
    request.refresh_from_db()
    assert request.version > version + 1


# 6. The call log is a record.


def test_the_front_desk_cannot_change_a_logged_call(front_desk_client, superuser):
    request = make_request()
    call = ContactAttempt.objects.create(
        request=request, outcome="no_answer", notes="Rang twice.", called_by=superuser
    )
    page = front_desk_client.get(change_url(request))
    html = page.content.decode()
    assert 'name="attempts-0-outcome"' not in html  # shown read-only
    data = form_data(page)
    data.update({"attempts-0-outcome": "reached", "attempts-0-notes": "Changed."})
    front_desk_client.post(change_url(request), data)
    call.refresh_from_db()
    assert (call.outcome, call.notes, call.called_by) == ("no_answer", "Rang twice.", superuser)


def test_a_superusers_correction_is_in_the_history(superuser_client, superuser, front_desk):
    request = make_request()
    ContactAttempt.objects.create(request=request, outcome="no_answer", called_by=front_desk)
    page = superuser_client.get(change_url(request))
    data = form_data(page)
    call = request.attempts.get()
    data.update(
        {
            "attempts-0-called_at_0": timezone.localtime(call.called_at).date().isoformat(),
            "attempts-0-called_at_1": timezone.localtime(call.called_at).strftime("%H:%M:%S"),
            "attempts-0-outcome": "voicemail",
            "attempts-0-notes": "",
        }
    )
    assert superuser_client.post(change_url(request), data).status_code == 302
    event = request.events.get(action=RequestEvent.Action.CALL_CORRECTED)
    assert (event.old_value, event.new_value, event.actor) == ("no_answer", "voicemail", superuser)


def test_nobody_can_delete_a_logged_call_from_the_request(superuser_client):
    request = make_request()
    ContactAttempt.objects.create(request=request, outcome="no_answer")
    page = superuser_client.get(change_url(request))
    assert 'name="attempts-0-DELETE"' not in page.content.decode()


def test_a_call_cannot_be_logged_in_the_future(front_desk_client):
    request = make_request()
    page = front_desk_client.get(change_url(request))
    data = with_call(form_data(page), "reached", when=timezone.now() + datetime.timedelta(days=1))
    response = front_desk_client.post(change_url(request), data)
    assert "A call cannot be in the future." in response.content.decode()
    assert not request.attempts.exists()


def test_a_call_logged_in_the_admin_is_in_the_history_with_who(front_desk_client, front_desk):
    request = make_request(urgent=True)
    page = front_desk_client.get(change_url(request))
    response = front_desk_client.post(
        change_url(request), with_call(form_data(page), "no_answer"), follow=True
    )
    assert "Call logged. Still open." in response.content.decode()
    event = request.events.get(action="call")
    assert (event.actor, event.new_value) == (front_desk, "no_answer")
    request.refresh_from_db()
    assert request.status == S.NEW


# 7 (staff side). Discarded sends are counted where staff see them.


def test_todays_discarded_sends_show_on_the_list(front_desk_client):
    DiscardedSend.objects.count_one("consultation", "honeypot")
    DiscardedSend.objects.count_one("consultation", "honeypot")
    DiscardedSend.objects.count_one("call_back", "honeypot")
    html = front_desk_client.get(CHANGELIST).content.decode()
    assert "Today 3 form sends were thrown away as spam." in html
    listing = front_desk_client.get(reverse("admin:appointments_discardedsend_changelist"))
    assert listing.status_code == 200
    assert DiscardedSend.objects.get(form="consultation").count == 2


def test_nobody_edits_the_discarded_count(front_desk_client, superuser_client):
    row = DiscardedSend.objects.create(
        day=timezone.localdate(), form="x", reason="honeypot", count=1
    )
    url = reverse("admin:appointments_discardedsend_change", args=[row.pk])
    superuser_client.post(url, {"count": 0})
    row.refresh_from_db()
    assert row.count == 1


# 9. Odd URLs and the retry command.


ODD_VALUES = ["²", "'", "-1", "9" * 30, "x" * 300, "%", "1.5", "true", "", "me"]
PARAMETERS = [
    "show",
    "assigned",
    "overdue",
    "kind__exact",
    "urgent__exact",
    "submitted_at__gte",
    "duplicate",
    "notification_status__exact",
    "o",
    "p",
    "q",
]


@pytest.mark.parametrize("parameter", PARAMETERS)
def test_odd_filter_values_never_give_a_server_error(front_desk_client, parameter):
    make_request()
    for value in ODD_VALUES:
        for url in [CHANGELIST, CALL_SHEET, EXPORT]:
            response = front_desk_client.get(url, {parameter: value})
            assert response.status_code in (200, 302, 400), (url, value, response.status_code)


def test_a_nul_character_in_the_address_is_refused(front_desk_client):
    for url in [CHANGELIST, CALL_SHEET, EXPORT]:
        assert front_desk_client.get(url, {"q": "a\x00b"}).status_code == 400


@pytest.fixture
def database_queue(settings):
    """The real queue (tasks stored in the database), with no worker running."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def test_the_retry_command_does_not_pile_up_tasks_while_the_worker_is_down(
    database_queue, settings, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    settings.NOTIFICATION_STUCK_MINUTES = 30
    request = make_request(submitted_at=timezone.now() - datetime.timedelta(hours=2))
    for _run in range(7):
        with django_capture_on_commit_callbacks(execute=True):
            call_command("retry_notifications", stdout=io.StringIO())
    request.refresh_from_db()
    assert DBTaskResult.objects.count() == 1
    assert request.notification_attempts == 1
    assert request.notification_status == Request.NotificationStatus.PENDING


def test_queued_attempts_count_toward_the_cap(
    database_queue, settings, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    request = make_request(notification_status="failed", notification_attempts=2)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("retry_notifications", stdout=io.StringIO())
    request.refresh_from_db()
    assert request.notification_attempts == 3
    # The task is lost (its row deleted): the cap stops a fourth try.
    DBTaskResult.objects.all().delete()
    output = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("retry_notifications", stdout=output)
    assert "Queued 0 notification(s) again." in output.getvalue()
