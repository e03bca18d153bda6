"""The front desk's queue in the admin: list, filters, search, change form, actions, export."""

import csv
import datetime
import io

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from appointments.models import ContactAttempt, Request
from clinic_site.cache import page_cache

from .factories import make_request

pytestmark = pytest.mark.django_db

S = Request.Status
CHANGELIST = reverse("admin:appointments_request_changelist")
EXPORT = reverse("admin:appointments_request_export")


def change_url(request):
    return reverse("admin:appointments_request_change", args=[request.pk])


def days_ago(days):
    return timezone.now() - datetime.timedelta(days=days)


def listed(response):
    return [obj.reference for obj in response.context["cl"].result_list]


def change_form_data(request, **overrides):
    """What the change form posts back, plus an optional new call in `call`."""
    call = overrides.pop("call", None)
    events = request.events.count()
    data = {
        "status": request.status,
        "closing_reason": request.closing_reason,
        "assigned_to": request.assigned_to_id or "",
        "next_follow_up": request.next_follow_up.isoformat() if request.next_follow_up else "",
        "appointment_at_0": "",
        "appointment_at_1": "",
        "appointment_with": request.appointment_with,
        "staff_notes": request.staff_notes,
        "seen_version": request.version,
        "attempts-TOTAL_FORMS": "1" if call else "0",
        "attempts-INITIAL_FORMS": "0",
        "attempts-MIN_NUM_FORMS": "0",
        "attempts-MAX_NUM_FORMS": "1000",
        "events-TOTAL_FORMS": str(events),
        "events-INITIAL_FORMS": str(events),
        "events-MIN_NUM_FORMS": "0",
        "events-MAX_NUM_FORMS": "1000",
    }
    for index, event in enumerate(request.events.all()):
        data[f"events-{index}-id"] = event.pk
        data[f"events-{index}-request"] = request.pk
    if call:
        data.update(
            {
                "attempts-0-called_at_0": call.get("date", "2026-11-20"),
                "attempts-0-called_at_1": call.get("time", "10:00:00"),
                "attempts-0-outcome": call["outcome"],
                "attempts-0-notes": call.get("notes", ""),
            }
        )
    data.update(overrides)
    return data


# The queue.


def test_the_queue_opens_on_todays_calls_urgent_then_overdue_then_due_then_new(
    front_desk_client,
):
    make_request(reference="NEWAAAA2", submitted_at=timezone.now())
    make_request(reference="OLDAAAA2", submitted_at=days_ago(8))
    make_request(
        reference="DUEAAAA2",
        status=S.CONTACTED,
        next_follow_up=timezone.localdate(),
        submitted_at=days_ago(9),
    )
    make_request(reference="URGAAAA2", urgent=True, submitted_at=timezone.now())
    make_request(
        reference="LATERAA2",
        status=S.CONTACTED,
        next_follow_up=timezone.localdate() + datetime.timedelta(days=3),
    )
    make_request(reference="CLSAAAA2", status=S.CLOSED, closing_reason="booked")
    response = front_desk_client.get(CHANGELIST)
    assert listed(response) == ["URGAAAA2", "OLDAAAA2", "DUEAAAA2", "NEWAAAA2"]
    assert listed(front_desk_client.get(CHANGELIST + "?show=open")) == [
        "URGAAAA2",
        "OLDAAAA2",
        "DUEAAAA2",
        "NEWAAAA2",
        "LATERAA2",
    ]


def test_closed_and_all_requests_are_one_filter_away(front_desk_client):
    make_request(reference="OPENAAA2")
    make_request(reference="CLSAAAA2", status=S.CLOSED, closing_reason="booked")
    assert listed(front_desk_client.get(CHANGELIST + "?show=closed")) == ["CLSAAAA2"]
    assert len(listed(front_desk_client.get(CHANGELIST + "?show=all"))) == 2


def test_the_queue_marks_overdue_requests_in_words(front_desk_client, settings):
    settings.RESPONSE_TARGET_ROUTINE_BUSINESS_DAYS = 1
    make_request(reference="LATEAAA2", submitted_at=days_ago(6))
    make_request(reference="FRESHAA2", submitted_at=timezone.now())
    make_request(reference="DONEAAA2", status=S.CONTACTED, submitted_at=days_ago(6))
    html = front_desk_client.get(CHANGELIST).content.decode()
    late_row = next(row for row in html.split("<tr") if "LATEAAA2" in row)
    assert "OVERDUE" in late_row
    assert html.count("OVERDUE") == 1
    overdue = front_desk_client.get(CHANGELIST + "?overdue=yes")
    assert listed(overdue) == ["LATEAAA2"]


def test_the_queue_shows_attempts_follow_up_and_assignee(front_desk_client, front_desk):
    request = make_request(
        reference="WORKAAA2",
        status=S.CONTACTED,
        assigned_to=front_desk,
        next_follow_up=datetime.date(2030, 1, 7),
    )
    ContactAttempt.objects.create(request=request, outcome="voicemail")
    ContactAttempt.objects.create(request=request, outcome="no_answer")
    response = front_desk_client.get(CHANGELIST + "?show=open")
    html = response.content.decode()
    assert "2 calls, last: no answer" in html
    assert "frontdesk" in html
    assert "Next try: Mon Jan 7" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind__exact=call_back", ["CALLAAA2"]),
        ("urgent__exact=1", ["URGAAAA2"]),
        ("assigned=mine", ["MINEAAA2"]),
        ("assigned=unassigned", ["URGAAAA2", "CALLAAA2", "DUPAAAA2"]),
        ("duplicate=yes", ["DUPAAAA2"]),
        ("show=contacted", ["MINEAAA2"]),
    ],
)
def test_the_queue_filters(front_desk_client, front_desk, query, expected):
    make_request(reference="URGAAAA2", urgent=True)
    make_request(reference="CALLAAA2", kind=Request.Kind.CALL_BACK, data_consent=False)
    mine = make_request(reference="MINEAAA2", status=S.CONTACTED, assigned_to=front_desk)
    make_request(reference="DUPAAAA2", possible_duplicate_of=mine)
    assert listed(front_desk_client.get(f"{CHANGELIST}?{query}")) == expected


def test_the_queue_filters_by_date(front_desk_client):
    make_request(reference="OLDAAAA2", submitted_at=days_ago(40))
    make_request(reference="TODAYAA2")
    changelist = front_desk_client.get(CHANGELIST).context["cl"]
    date_filter = next(f for f in changelist.filter_specs if f.title == "submitted")
    today = next(c for c in date_filter.choices(changelist) if c["display"] == "Today")
    assert listed(front_desk_client.get(CHANGELIST + today["query_string"])) == ["TODAYAA2"]


@pytest.mark.parametrize(
    "term",
    [
        "ZXCVBNM2",
        "zxcvbnm2",
        "Findable",
        "findable patient",
        "(202) 555-0142",
        "2025550142",
        "+1 202-555-0142",
        "findme@example",
    ],
)
def test_search_finds_by_reference_name_phone_or_email(front_desk_client, term):
    make_request(
        reference="ZXCVBNM2",
        name="Test Findable Patient",
        phone="+12025550142",
        email="findme@example.com",
    )
    make_request(reference="OTHERAA2")
    assert listed(front_desk_client.get(CHANGELIST, {"q": term})) == ["ZXCVBNM2"]


def test_possible_duplicates_are_marked_in_the_queue_and_on_the_request(front_desk_client):
    first = make_request(reference="FIRSTAA2")
    second = make_request(reference="SECONDA2", possible_duplicate_of=first)
    assert "possible duplicate" in front_desk_client.get(CHANGELIST).content.decode()
    html = front_desk_client.get(change_url(second)).content.decode()
    assert f'<a href="{change_url(first)}">FIRSTAA2</a>' in html


def test_the_queue_query_count_stays_flat_as_requests_grow(front_desk_client, front_desk):
    def count_queries():
        page_cache().clear()  # the clinic settings are cached after the first page
        with CaptureQueriesContext(connection) as queries:
            assert front_desk_client.get(CHANGELIST).status_code == 200
        return len(queries)

    for _ in range(2):
        make_request(assigned_to=front_desk)
    few = count_queries()
    for number in range(20):
        request = make_request(assigned_to=front_desk if number % 2 else None)
        ContactAttempt.objects.create(request=request, outcome="voicemail", called_by=front_desk)
        if number % 3 == 0:
            make_request(possible_duplicate_of=request)
    assert count_queries() == few


# The change form.


def test_submitted_data_is_read_only_and_staff_fields_are_editable(front_desk_client):
    request = make_request(name="Test Patient Original")
    response = front_desk_client.get(change_url(request))
    form = response.context["adminform"].form
    assert set(form.fields) == {
        "status",
        "closing_reason",
        "assigned_to",
        "next_follow_up",
        "appointment_at",
        "appointment_with",
        "staff_notes",
        "seen_version",
    }
    front_desk_client.post(change_url(request), change_form_data(request, name="Changed"))
    request.refresh_from_db()
    assert request.name == "Test Patient Original"


def test_staff_can_change_status_and_notes_and_the_change_is_recorded(
    front_desk_client, front_desk
):
    request = make_request()
    response = front_desk_client.post(
        change_url(request),
        change_form_data(
            request,
            status="scheduled",
            appointment_at_0="2030-01-07",
            appointment_at_1="10:30",
            staff_notes="Booked for Monday.",
        ),
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == S.SCHEDULED
    assert request.staff_notes == "Booked for Monday."
    actions = set(request.events.values_list("action", "actor__username"))
    assert actions == {
        ("status", "frontdesk"),
        ("notes", "frontdesk"),
        ("appointment", "frontdesk"),
    }
    entry = LogEntry.objects.get(object_id=str(request.pk))
    assert entry.user == front_desk
    assert entry.object_repr == f"Request {request.reference}"


def test_an_impossible_status_change_is_refused_with_a_message(front_desk_client):
    request = make_request(status=S.CONTACTED)
    response = front_desk_client.post(change_url(request), change_form_data(request, status="new"))
    assert response.status_code == 200
    assert "A request cannot go from “Contacted” to “New”." in response.content.decode()
    request.refresh_from_db()
    assert request.status == S.CONTACTED


def test_closing_without_a_reason_is_refused_with_a_message(front_desk_client):
    request = make_request()
    response = front_desk_client.post(
        change_url(request), change_form_data(request, status="closed")
    )
    assert "Choose a closing reason to close the request." in response.content.decode()
    request.refresh_from_db()
    assert request.status == S.NEW


def test_reopening_a_closed_request_clears_its_closing_reason(front_desk_client):
    request = make_request(status=S.CLOSED, closing_reason="could_not_reach")
    front_desk_client.post(change_url(request), change_form_data(request, status="contacted"))
    request.refresh_from_db()
    assert (request.status, request.closing_reason) == (S.CONTACTED, "")


def test_logging_a_reached_call_inline_moves_a_new_request_to_contacted(
    front_desk_client, front_desk
):
    request = make_request()
    response = front_desk_client.post(
        change_url(request),
        change_form_data(request, call={"outcome": "reached", "date": "2026-11-20"}),
        follow=True,
    )
    request.refresh_from_db()
    assert request.status == S.CONTACTED
    assert request.next_follow_up is None
    attempt = request.attempts.get()
    assert (attempt.outcome, attempt.called_by) == ("reached", front_desk)
    shown = [str(message) for message in response.context["messages"]]
    assert any("Call logged." in message and "moved to contacted" in message for message in shown)


def test_a_follow_up_typed_with_the_call_is_kept(front_desk_client):
    request = make_request()
    front_desk_client.post(
        change_url(request),
        change_form_data(request, next_follow_up="2030-01-07", call={"outcome": "reached"}),
    )
    request.refresh_from_db()
    assert request.next_follow_up == datetime.date(2030, 1, 7)


def test_the_history_is_shown_on_the_request(front_desk_client, front_desk):
    request = make_request()
    front_desk_client.post(change_url(request), change_form_data(request, status="contacted"))
    html = front_desk_client.get(change_url(request)).content.decode()
    assert "History (who changed what, and when)" in html
    assert "Status changed" in html


def test_a_failed_notification_is_visible_on_the_request(front_desk_client):
    request = make_request(
        notification_status="failed", notification_attempts=2, notification_error="SMTPError: x"
    )
    html = front_desk_client.get(change_url(request)).content.decode()
    assert "Failed" in html
    assert "SMTPError: x" in html


# Actions.


def post_action(client, action, requests, **extra):
    return client.post(
        CHANGELIST + "?show=all",
        {"action": action, "_selected_action": [r.pk for r in requests], **extra},
        follow=True,
    )


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def test_assign_to_me_assigns_and_reports(front_desk_client, front_desk, superuser):
    mine = make_request(assigned_to=front_desk)
    others = [make_request(), make_request(assigned_to=superuser)]
    response = post_action(front_desk_client, "assign_to_me", [mine, *others])
    assert messages_of(response) == [
        "Assigned 2 requests to you. 1 was left as it was (already yours)."
    ]
    assert Request.objects.filter(assigned_to=front_desk).count() == 3


def test_mark_closed_closes_with_the_chosen_reason_and_reports(front_desk_client):
    open_ones = [make_request(), make_request(status=S.CONTACTED)]
    closed = make_request(status=S.CLOSED, closing_reason="booked")
    response = post_action(
        front_desk_client, "mark_closed", [*open_ones, closed], closing_reason="duplicate"
    )
    assert messages_of(response) == [
        "Closed 2 requests as “Duplicate”. 1 was left as it was (already closed)."
    ]
    assert Request.objects.filter(closing_reason="duplicate").count() == 2
    closed.refresh_from_db()
    assert closed.closing_reason == "booked"


def test_mark_closed_without_a_reason_changes_nothing(front_desk_client):
    request = make_request()
    response = post_action(front_desk_client, "mark_closed", [request], closing_reason="")
    assert "Choose a closing reason" in messages_of(response)[0]
    request.refresh_from_db()
    assert request.status == S.NEW


def test_retry_notification_sends_failed_ones_and_reports(
    front_desk_client, mailoutbox, django_capture_on_commit_callbacks
):
    failed = make_request(notification_status="failed", notification_attempts=5)
    sent = make_request(notification_status="sent")
    with django_capture_on_commit_callbacks(execute=True):
        response = post_action(front_desk_client, "retry_notification", [failed, sent])
    assert messages_of(response) == [
        "Queued the email to the front desk again for 1 request. "
        "1 was left as it was (already sent or still waiting)."
    ]
    failed.refresh_from_db()
    assert failed.notification_status == "sent"
    assert len(mailoutbox) == 1


# CSV export.


def read_csv(response):
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_the_front_desk_exports_the_filtered_list_as_csv(front_desk_client):
    make_request(reference="CALLAAA2", kind="call_back", data_consent=False, name="Test A")
    make_request(reference="CONSAAA2", name="Test B")
    response = front_desk_client.get(EXPORT + "?kind__exact=call_back")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0][:3] == ["reference", "kind", "urgent"]
    assert [row[0] for row in rows[1:]] == ["CALLAAA2"]
    assert "Test A" in rows[1]


def test_the_export_link_keeps_the_filters_on_screen(front_desk_client):
    html = front_desk_client.get(CHANGELIST + "?kind__exact=call_back").content.decode()
    assert f'href="{EXPORT}?kind__exact=call_back"' in html


def test_csv_cells_cannot_run_as_spreadsheet_formulas(front_desk_client):
    make_request(name="=HYPERLINK(1)")
    rows = read_csv(front_desk_client.get(EXPORT))
    assert "'=HYPERLINK(1)" in rows[1]


def test_content_editors_cannot_export_or_see_the_link(editor_client):
    assert editor_client.get(EXPORT).status_code == 403


def test_staff_without_the_export_permission_cannot_export(client, django_user_model):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_request"))
    client.force_login(user)
    assert client.get(CHANGELIST).status_code == 200
    assert "Export this list" not in client.get(CHANGELIST).content.decode()
    assert client.get(EXPORT).status_code == 403


def test_anonymous_users_are_sent_to_log_in_for_the_export(client):
    response = client.get(EXPORT)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


# Smoke: every page of the registered model.


def test_admin_pages_work_for_the_superuser(superuser_client):
    request = make_request()
    assert superuser_client.get(CHANGELIST).status_code == 200
    assert superuser_client.get(CHANGELIST, {"q": "Test"}).status_code == 200
    assert superuser_client.get(change_url(request)).status_code == 200
    assert superuser_client.get(EXPORT).status_code == 200
    # Requests come from patients: nobody adds them in the admin.
    assert superuser_client.get(reverse("admin:appointments_request_add")).status_code == 403
