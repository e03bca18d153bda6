"""The request forms in a real browser: help before the first question, a fast send given
back (not lost), the pump questions answered by people with and without a pump."""

import pytest

from appointments.models import DiscardedSend, Request

from .conftest import PHONE, SMALL_PHONE
from .test_accessibility import axe_violations

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

CONSULTATION = "/appointments/consultation/"
CALL_BACK = "/appointments/call-back/"


def fill_call_back(page, has_pump="new", **answers):
    pump_answer = "no_pump" if has_pump == "new" else "no"
    safety = {
        "safety_pump_alarm": pump_answer,
        "safety_withdrawal": pump_answer,
        "safety_fever": "no",
        "safety_breathing": "no",
        **answers,
    }
    page.check(f'input[name="patient_type"][value="{has_pump}"]')
    for name, value in safety.items():
        page.check(f'input[name="{name}"][value="{value}"]')
    page.fill("#id_name", "Test Patient Forms")
    page.fill("#id_phone", "(202) 555-0146")
    page.check('input[name="voicemail_ok"][value="no"]')
    page.check('input[name="preferred_time"][value="any"]')
    page.fill("#id_reason", "Questions about the pump trial.")


def send(page):
    with page.expect_navigation():
        page.click("#submit-id-send")


@pytest.mark.parametrize("url", [CONSULTATION, CALL_BACK])
@pytest.mark.parametrize("viewport", [SMALL_PHONE, PHONE], ids=["320", "360"])
def test_is_this_urgent_is_on_the_first_phone_screen_before_any_question(
    open_page, demo, url, viewport
):
    page = open_page(viewport=viewport).page
    page.goto(url)
    box = page.locator(".urgent-check")
    call_911 = box.locator('a[href="tel:911"]').bounding_box()
    assert call_911["y"] + call_911["height"] <= viewport["height"]
    first_question = page.locator("form fieldset fieldset").first.bounding_box()
    assert box.bounding_box()["y"] + box.bounding_box()["height"] <= first_question["y"]
    # Tap-to-call buttons: 911 and both clinic numbers, each at least 44 px high.
    links = box.locator('a[href^="tel:"]')
    assert links.count() == 3
    for height in links.evaluate_all("els => els.map(e => e.getBoundingClientRect().height)"):
        assert height >= 44


def test_a_send_faster_than_the_timing_trap_comes_back_and_the_next_press_is_stored(
    open_page, demo, settings
):
    # Browser autofill: everything filled in at once, sent straight away.
    settings.REQUEST_MIN_FILL_SECONDS = 600
    page = open_page(viewport=PHONE).page
    page.goto(CALL_BACK)
    fill_call_back(page)
    send(page)
    assert page.url.endswith(CALL_BACK)
    summary = page.locator("#error-summary")
    assert "Please check your answers, then press “Please call me”." in summary.inner_text()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert page.input_value("#id_name") == "Test Patient Forms"
    assert page.is_checked('input[name="safety_pump_alarm"][value="no_pump"]')
    assert page.is_checked('input[name="voicemail_ok"][value="no"]')
    assert not Request.objects.exists()
    assert not DiscardedSend.objects.exists()
    count, report = axe_violations(page)
    assert count == 0, report

    send(page)  # the same answers, pressed again
    assert "/appointments/thanks/" in page.url
    saved = Request.objects.get()
    assert saved.name == "Test Patient Forms"
    assert saved.voicemail_ok is False
    assert not saved.urgent
    assert saved.reference in page.locator(".reference").inner_text()


def test_a_person_with_a_beeping_pump_gets_the_call_now_page(open_page, demo, settings):
    settings.REQUEST_MIN_FILL_SECONDS = 0
    page = open_page(viewport=PHONE).page
    page.goto(CALL_BACK)
    fill_call_back(page, has_pump="has_pump", safety_pump_alarm="yes")
    send(page)
    assert page.url.endswith("/call-now/")
    assert "Do not wait for us to call you" in page.content()
    assert Request.objects.get().urgent
    count, report = axe_violations(page)
    assert count == 0, report


def test_a_person_without_a_pump_is_not_urgent(open_page, demo, settings):
    settings.REQUEST_MIN_FILL_SECONDS = 0
    page = open_page(viewport=PHONE).page
    page.goto(CONSULTATION)
    page.check('input[name="patient_type"][value="new"]')
    for name in ["safety_pump_alarm", "safety_withdrawal"]:
        page.check(f'input[name="{name}"][value="no_pump"]')
    for name in ["safety_fever", "safety_breathing"]:
        page.check(f'input[name="{name}"][value="no"]')
    page.fill("#id_name", "Test Patient No Pump")
    page.fill("#id_email", "no.pump@example.com")
    page.check('input[name="contact_method"][value="email"]')
    page.check('input[name="preferred_time"][value="morning"]')
    page.fill("#id_reason", "Back pain for two years.")
    page.check("#id_data_consent")
    send(page)
    assert page.locator("h1").inner_text() == "We have your request"
    saved = Request.objects.get()
    assert not saved.urgent
    assert saved.patient_type == Request.PatientType.NEW


def test_a_spanish_speaking_patient_asks_for_a_call_and_the_front_desk_sees_it(
    open_page, demo, settings, django_user_model
):
    """The journey in Spanish: from the Spanish home page to the call-back form, sent
    with an interpreter wanted; the worklist row says so."""
    from accounts import roles
    from tests.conftest import make_staff

    from .test_privacy_and_errors import log_in

    settings.REQUEST_MIN_FILL_SECONDS = 0
    page = open_page(viewport=PHONE).page
    page.goto("/")
    page.click("a.language-switch")
    assert page.url.endswith("/es/")
    page.click("text=Pídanos que le llamemos")
    assert page.url.endswith("/es" + CALL_BACK)
    assert page.locator("html").get_attribute("lang") == "es"
    fill_call_back(page)
    page.check("#id_needs_interpreter")
    send(page)
    assert "/es/appointments/thanks/" in page.url
    assert page.locator("h1").inner_text() == "Recibimos su solicitud"
    saved = Request.objects.get()
    assert (saved.form_language, saved.needs_interpreter) == ("es", True)
    count, report = axe_violations(page)
    assert count == 0, report

    roles.create_groups()  # transactional tests empty every table after each test
    desk = make_staff(django_user_model, "spanish-desk", "Front desk")
    staff = open_page().page
    log_in(staff, desk.username)
    staff.goto("/admin/appointments/request/")
    row = staff.locator("#result_list tbody tr", has_text="Test Patient Forms")
    assert "Spanish form, interpreter wanted" in row.inner_text()
