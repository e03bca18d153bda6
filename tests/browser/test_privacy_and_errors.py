"""Patients' browsers talk to this site only, keep no cookies for reading, and log no errors."""

from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from accounts.models import StaffProfile
from appointments.models import ClosureDay, Request
from education.models import Procedure
from tests.appointments.factories import make_request
from tests.conftest import make_staff

from .pages import PUBLIC_PAGES, reach

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

READING_PAGES = ["home", "procedure-list", "procedure", "glossary", "not-found"]
PASSWORD = "test-password-123"


@pytest.fixture(autouse=True)
def _no_timing_trap(settings):
    settings.REQUEST_MIN_FILL_SECONDS = 0


def log_in(page, username):
    page.goto("/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click('input[type="submit"]')
    assert "/admin/login/" not in page.url


@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_every_request_a_public_page_makes_goes_to_the_sites_own_host(
    open_page, live_server, demo, name
):
    tab = open_page()
    reach(tab.page, name)
    own = urlsplit(live_server.url).netloc
    others = [url for url in tab.requests if urlsplit(url).netloc != own]
    assert others == []
    assert len(tab.requests) >= 2  # the page and its stylesheet at least


def test_reading_pages_sets_no_cookie(open_page, demo):
    tab = open_page()
    for name in READING_PAGES:
        reach(tab.page, name)
    assert tab.page.context.cookies() == []


@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_public_pages_have_a_strict_csp_and_log_no_console_errors(open_page, demo, name):
    tab = open_page()
    responses = []
    tab.page.on("response", lambda r: r.request.resource_type == "document" and responses.append(r))
    reach(tab.page, name)
    policy = responses[-1].headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "unsafe-inline" not in policy
    assert tab.errors == []


STAFF_PAGES = {
    "Front desk": [
        "/admin/",
        "/admin/appointments/request/",
        "/admin/appointments/request/?status__exact=closed",
        "/admin/appointments/request/{request}/change/",
        "/admin/education/procedure/",
    ],
    "Content editors": [
        "/admin/",
        "/admin/education/procedure/",
        "/admin/education/procedure/{procedure}/change/",
        "/admin/education/procedure/{procedure}/preview/",
        "/admin/education/procedure/{procedure}/versions/",
        "/admin/education/procedure/add/",
        "/admin/education/phase/",
        "/admin/education/glossaryterm/",
        "/admin/education/clinicsettings/",
    ],
    "Clinical reviewers": [
        "/admin/",
        "/admin/education/procedure/",
        "/admin/education/procedure/{procedure}/change/",
        "/admin/education/procedure/{procedure}/review/",
        "/admin/education/procedure/{procedure}/unpublish/",
        "/admin/education/procedure/{procedure}/preview/risks/",
    ],
}


@pytest.mark.parametrize("group", STAFF_PAGES)
def test_admin_pages_each_role_uses_log_no_console_errors(
    open_page, demo, group, django_user_model
):
    user = make_staff(django_user_model, f"browser-{group.split()[0].lower()}", group)
    ids = {"request": make_request().pk, "procedure": Procedure.objects.get(language="en").pk}
    tab = open_page()
    log_in(tab.page, user.username)
    for url in STAFF_PAGES[group]:
        response = tab.page.goto(url.format(**ids))
        assert response.status == 200, url
        assert "default-src 'none'" in response.headers["content-security-policy"]
    assert tab.errors == []


def test_a_full_journey_from_request_to_booking_and_a_content_fix(
    open_page, live_server, demo, django_user_model, settings
):
    # The clinic is open now, whatever the day and hour the test runs (so an urgent
    # missed call's next try is "today"): every day, all day, holidays included.
    settings.CLINIC_DAYS = list(range(7))
    settings.CLINIC_OPENS, settings.CLINIC_CLOSES = "00:00", "23:59"
    settings.URGENT_RETRY_MINUTES = 0
    ClosureDay.objects.create(day=timezone.localdate(), name="Open (test)", open=True)
    older = make_request(name="Test Patient Older")

    # A patient with a beeping pump asks for a call back.
    patient = open_page().page
    patient.goto("/")
    patient.click("text=Ask us to call you")
    patient.check('input[name="patient_type"][value="has_pump"]')
    for name in ["safety_fever", "safety_breathing", "safety_withdrawal"]:
        patient.check(f'input[name="{name}"][value="no"]')
    patient.check('input[name="safety_pump_alarm"][value="yes"]')
    patient.fill("#id_name", "Test Patient Journey")
    patient.fill("#id_phone", "(202) 555-0145")
    patient.check('input[name="preferred_time"][value="morning"]')
    patient.check('input[name="voicemail_ok"][value="no"]')
    patient.fill("#id_reason", "My pump is beeping.")
    with patient.expect_navigation():
        patient.click("#submit-id-send")
    assert "Do not wait for us to call you" in patient.content()
    reference = patient.locator(".reference").inner_text().strip()

    # The front desk sees it at the top of today's calls, with the name and the phone.
    desk_user = make_staff(django_user_model, "journey-desk", "Front desk")
    desk = open_page().page
    log_in(desk, desk_user.username)
    desk.goto("/admin/appointments/request/")
    first_row = desk.locator("#result_list tbody tr").first
    row_text = first_row.inner_text()
    assert reference in row_text and "URGENT" in row_text
    assert "Test Patient Journey" in row_text and "No voicemail" in row_text
    assert first_row.locator('a[href="tel:+12025550145"]').inner_text() == "(202) 555-0145"
    assert older.reference in desk.locator("#result_list tbody tr").nth(1).inner_text()

    # No answer: the request stays new, and the next try is today.
    first_row.locator(f"text={reference}").click()
    desk.wait_for_load_state()
    desk.select_option("#id_attempts-0-outcome", "no_answer")
    with desk.expect_navigation():
        desk.click('input[name="_continue"]')
    assert "Call logged. Still open. Next try for" in desk.content()
    saved = Request.objects.get(reference=reference)
    assert (saved.status, saved.next_follow_up) == (Request.Status.NEW, timezone.localdate())

    # Reached: contacted. Then the appointment is booked, with its date and time.
    desk.select_option("#id_attempts-1-outcome", "reached")
    desk.fill("#id_attempts-1-notes", "Pump refilled early; visit booked.")
    with desk.expect_navigation():
        desk.click('input[name="_continue"]')
    saved.refresh_from_db()
    assert saved.status == Request.Status.CONTACTED
    desk.select_option("#id_status", "scheduled")
    with desk.expect_navigation():
        desk.click('input[name="_continue"]')
    assert "Enter the appointment date and time" in desk.content()
    desk.fill("#id_appointment_at_0", "2030-01-07")
    desk.fill("#id_appointment_at_1", "10:30")
    desk.fill("#id_appointment_with", "Pump clinic, room 2")
    with desk.expect_navigation():
        desk.click('input[name="_save"]')
    saved.refresh_from_db()
    assert saved.status == Request.Status.SCHEDULED
    assert list(saved.attempts.values_list("outcome", flat=True)) == ["no_answer", "reached"]
    assert saved.urgent
    desk.goto("/admin/appointments/request/?show=open")
    row = desk.locator("#result_list tbody tr", has_text=reference).inner_text()
    assert "Appointment: Mon Jan 7, 10:30 AM, Pump clinic, room 2" in row

    # A content editor rewords a risk in a draft and sends it for review; patients
    # see the change only once a clinical reviewer approves it.
    editor_user = make_staff(django_user_model, "journey-editor", "Content editors")
    editor = open_page().page
    log_in(editor, editor_user.username)
    procedure = Procedure.objects.get(language="en")
    editor.goto(f"/admin/education/procedure/{procedure.pk}/change/")
    with editor.expect_navigation():
        editor.click("text=Edit this page")
    editor.click(".part-tabs >> text=Risks and side effects")
    new_wording = "Any surgery can let germs in. We give you medicine to help prevent this."
    editor.fill("#id_risks-0-description", new_wording)
    with editor.expect_navigation():
        editor.click('input[name="_continue"]')
    with editor.expect_navigation():
        editor.click("text=Send for clinical review")
    assert "waiting for clinical review" in editor.content()
    reader = open_page().page
    risks_page = procedure.parts.get(slug="risks").get_absolute_url()
    reader.goto(risks_page)
    assert new_wording not in reader.content()

    reviewer_user = make_staff(django_user_model, "journey-reviewer", "Clinical reviewers")
    reviewer_user.first_name, reviewer_user.last_name = "Journey", "Reviewer"
    reviewer_user.save()
    StaffProfile.objects.create(user=reviewer_user, credentials="MD")
    reviewer = open_page().page
    log_in(reviewer, reviewer_user.username)
    reviewer.goto("/admin/education/procedure/?state=waiting")
    with reviewer.expect_navigation():
        reviewer.click("#result_list tbody tr a")
    with reviewer.expect_navigation():
        reviewer.click("text=Review: approve or send back")
    assert new_wording in reviewer.content()
    reviewer.fill("#id_note", "We made the infection risk clearer.")
    with reviewer.expect_navigation():
        reviewer.click('input[name="approve"]')
    assert "Patients now see version 2" in reviewer.content()
    reader.goto(risks_page)
    assert new_wording in reader.content()
    assert "We made the infection risk clearer." in reader.content()
    assert "Journey Reviewer, MD" in reader.content()
