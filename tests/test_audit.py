"""The audit trail: who changed what, and when, for requests and for content.

Requests: the admin history (LogEntry) and the request's own history (RequestEvent) say
who did what and when, by reference and field name; no patient detail is copied into
them, or into logs, sessions, messages or email, which outlive the request (deleting a
request leaves a history line with its reference only).
Content: the admin history also keeps the old and new words of every changed field.
"""

import logging

import pytest
from django import forms
from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.contrib.sessions.models import Session
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from appointments.models import Request, RequestEvent
from education.models import GlossaryTerm, Procedure
from tests.appointments.factories import consultation_data
from tests.education.factories import fill_procedure, make_procedure

pytestmark = pytest.mark.django_db

# What the patient types, each piece easy to spot wherever it might be copied.
PATIENT = {
    "name": "Zebulon Quixote",
    "phone": "(202) 555-0177",
    "email": "zq.patient@example.com",
    "reason": "Pump site itches since Tuesday.",
    "referring_doctor": "Dr Hollyhock",
}
STAFF_NOTES = "Quixote prefers mornings, lives alone."
CALL_NOTES = "Talked about the itching pump site."
APPOINTMENT_WITH = "Dr Quixotic-Named, room 2"
TRACES = [
    "Zebulon",
    "Quixote",
    "555-0177",
    "5550177",
    "zq.patient",
    "itches",
    "Hollyhock",
    "lives alone",
    "itching",
    "Quixotic",
]


def traces_in(text):
    return [trace for trace in TRACES if trace.lower() in str(text).lower()]


def everything_kept():
    """All the places that outlive a request or a page view, as text to search."""
    kept = []
    for entry in LogEntry.objects.all():
        kept += [f"LogEntry {entry.object_repr}", f"LogEntry {entry.change_message}"]
        kept.append(f"LogEntry shown {entry.get_change_message()}")
    for event in RequestEvent.objects.all():
        kept.append(f"RequestEvent {event.old_value} {event.new_value}")
    for session in Session.objects.all():
        kept.append(f"Session {session.get_decoded()}")
    for message in mail.outbox:
        kept.append(f"Email {message.subject} {message.body}")
    return kept


def shown_messages(response):
    return [str(message) for message in response.context["messages"]]


def test_a_request_worked_and_deleted_in_the_admin_leaves_no_patient_detail_behind(
    client, front_desk, superuser, caplog, django_capture_on_commit_callbacks, settings
):
    settings.REQUEST_MIN_FILL_SECONDS = 0
    caplog.set_level(logging.INFO)
    kept_messages = []

    # The patient asks for a consultation; the front desk is emailed.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/appointments/consultation/", consultation_data(**PATIENT))
    assert response.status_code == 302
    request = Request.objects.get()
    assert request.name == PATIENT["name"]
    assert len(mail.outbox) == 1

    # The front desk logs a call, writes notes and books the visit.
    client.force_login(front_desk)
    change = reverse("admin:appointments_request_change", args=[request.pk])
    from tests.appointments.test_admin import change_form_data

    data = change_form_data(
        request,
        status="scheduled",
        appointment_at_0="2030-01-07",
        appointment_at_1="10:30",
        appointment_with=APPOINTMENT_WITH,
        staff_notes=STAFF_NOTES,
        call={"outcome": "reached", "notes": CALL_NOTES},
    )
    response = client.post(change, data, follow=True)
    assert response.status_code == 200
    kept_messages += shown_messages(response)
    request.refresh_from_db()
    assert request.status == "scheduled" and request.staff_notes == STAFF_NOTES
    entry = LogEntry.objects.get(action_flag=CHANGE)
    assert entry.user == front_desk
    assert entry.object_repr == f"Request {request.reference}"
    assert "Staff notes" in entry.get_change_message()  # what changed: named, not copied

    # A search by name and an export happen too.
    changelist = reverse("admin:appointments_request_changelist")
    assert client.get(changelist, {"q": "Quixote"}).status_code == 200
    assert client.get(reverse("admin:appointments_request_export")).status_code == 200

    # The superuser deletes it.
    client.force_login(superuser)
    delete = reverse("admin:appointments_request_delete", args=[request.pk])
    response = client.post(delete, {"post": "yes"}, follow=True)
    assert response.status_code == 200
    kept_messages += shown_messages(response)
    assert not Request.objects.exists()
    deletion = LogEntry.objects.get(action_flag=DELETION)
    assert deletion.user == superuser
    assert deletion.object_repr == f"Request {request.reference}"

    kept = everything_kept()
    kept += [f"Log {record.name}: {record.getMessage()}" for record in caplog.records]
    kept += [f"Message {text}" for text in kept_messages]
    assert [line for line in kept if traces_in(line)] == []
    # The checks looked at something: the history, the logs and the messages.
    assert any(request.reference in line for line in kept if line.startswith("LogEntry"))
    assert any(request.reference in line for line in kept if line.startswith("Log "))
    assert any(request.reference in line for line in kept if line.startswith("Message"))


def test_deleting_requests_with_the_list_action_keeps_only_their_references(
    superuser_client, superuser
):
    from tests.appointments.factories import make_request

    requests = [make_request(name="Zebulon Quixote"), make_request(email="zq.patient@x.org")]
    changelist = reverse("admin:appointments_request_changelist")
    response = superuser_client.post(
        changelist + "?show=all",
        {
            "action": "delete_selected",
            "_selected_action": [r.pk for r in requests],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    assert not Request.objects.exists()
    reprs = set(LogEntry.objects.filter(action_flag=DELETION).values_list("object_repr", flat=True))
    assert reprs == {f"Request {r.reference}" for r in requests}
    assert [line for line in everything_kept() if traces_in(line)] == []


# Content: who, when, and the words before and after.


def change_form_data(client, url):
    """What the admin change form posts back unchanged: the page and all its inlines."""
    page = client.get(url)
    assert page.status_code == 200
    all_forms = [page.context["adminform"].form]
    for inline in page.context["inline_admin_formsets"]:
        all_forms += [inline.formset.management_form, *inline.formset.forms]
    data = {}
    for form in all_forms:
        for field in form:
            value = field.value()
            if isinstance(field.field, forms.FileField) or value is None or value is False:
                continue
            data[field.html_name] = "on" if value is True else value
    return data


def history_of(obj):
    return LogEntry.objects.filter(object_id=str(obj.pk)).order_by("-action_time", "-pk")


def test_an_editors_change_records_who_when_and_the_words_before_and_after(editor_client, editor):
    term = GlossaryTerm.objects.create(term="Catheter", slug="catheter", definition="A tube.")
    url = reverse("admin:education_glossaryterm_change", args=[term.pk])
    data = change_form_data(editor_client, url) | {"definition": "A thin soft tube."}
    before = timezone.now()
    assert editor_client.post(url, data).status_code == 302

    entry = history_of(term).get()
    assert entry.user == editor
    assert entry.action_time >= before
    assert entry.get_change_message() == "Changed Definition: “A tube.” → “A thin soft tube.”."
    # The page's History link shows it to staff.
    history = editor_client.get(reverse("admin:education_glossaryterm_history", args=[term.pk]))
    assert "“A tube.” → “A thin soft tube.”" in history.content.decode()


def test_changes_inside_a_procedure_page_name_the_block_and_its_old_and_new_words(
    editor_client,
):
    # A page that was never approved is edited as it is, tab by tab; here its first tab.
    procedure = fill_procedure(make_procedure(status=Procedure.Status.DRAFT), 1)
    procedure.parts.all().delete()  # every block on the first tab
    section = procedure.sections.get()
    url = reverse("admin:education_procedure_change", args=[procedure.pk])
    data = change_form_data(editor_client, url)
    data |= {
        "summary": "A small pump under the skin.",
        "glossary_terms": [],
        "sections-0-body": "New words for this part.",
        "faqs-TOTAL_FORMS": "2",
        "faqs-1-order": "1",
        "faqs-1-question": "Does it hurt?",
        "faqs-1-answer": "A little.",
    }
    response = editor_client.post(url, data)
    assert response.status_code == 302, response.context["errors"]

    message = history_of(procedure).get().get_change_message()
    assert message == (
        "Changed Summary: “A small pump that gives medicine.” → “A small pump under the skin.” "
        "and Words explained on this page: “test-pump word 0” → (empty). "
        f"Changed Text: “Text.” → “New words for this part.” for section “{section}”. "
        "Added question and answer “Does it hurt?”."
    )


def test_an_unchanged_save_records_no_words(editor_client):
    term = GlossaryTerm.objects.create(term="Pump", slug="pump", definition="A device.")
    url = reverse("admin:education_glossaryterm_change", args=[term.pk])
    assert editor_client.post(url, change_form_data(editor_client, url)).status_code == 302
    assert history_of(term).get().get_change_message() == "No fields changed."


def test_request_history_names_fields_without_their_values(front_desk_client):
    from tests.appointments.factories import make_request
    from tests.appointments.test_admin import change_form_data as request_form_data

    request = make_request()
    url = reverse("admin:appointments_request_change", args=[request.pk])
    data = request_form_data(request, staff_notes=STAFF_NOTES)
    assert front_desk_client.post(url, data).status_code == 302
    message = history_of(request).get().get_change_message()
    assert message == "Changed Staff notes."
