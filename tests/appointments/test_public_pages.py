"""The public forms: rendering, post/redirect/get, safety screen, spam traps, confirmation."""

import re
import time

import pytest
from django.urls import reverse

from appointments.forms import start_token
from appointments.models import Request
from education.models import ClinicSettings, Procedure
from education.readability import SAFETY_TARGET_GRADE, TARGET_GRADE, grade

from .factories import call_back_data, consultation_data, old_token

pytestmark = pytest.mark.django_db

CONSULTATION = reverse("appointments:consultation")
CALL_BACK = reverse("appointments:call_back")


@pytest.fixture(autouse=True)
def clinic(db):
    return ClinicSettings.objects.create(
        name="Test Pain Clinic", phone="(202) 555-0100", after_hours_phone="(202) 555-0199"
    )


@pytest.fixture
def send(client, django_capture_on_commit_callbacks):
    def post(url, data, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data, **kwargs)

    return post


# The forms render and work without JavaScript.


@pytest.mark.parametrize("url", [CONSULTATION, CALL_BACK])
def test_the_form_pages_render_without_any_script(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert b"<script" not in response.content
    assert b'name="started"' in response.content


def test_the_consultation_form_preselects_the_procedure_page_the_patient_came_from(client):
    Procedure.objects.create(title="Pain pump", slug="pain-pump", summary="x", status="published")
    response = client.get(CONSULTATION + "?procedure=pain-pump")
    assert re.search(rb'<option value="pain-pump"\s+selected>', response.content)


def test_an_unknown_procedure_in_the_address_is_ignored(client):
    response = client.get(CONSULTATION + "?procedure=<script>")
    assert response.status_code == 200
    assert b"&lt;script&gt;" not in response.content


def test_radio_groups_are_fieldsets_with_legends(client):
    html = client.get(CONSULTATION).content.decode()
    assert re.search(r"<fieldset>\s*<legend[^>]*>\s*When is the best time to call you\?", html)


# Post/redirect/get and the confirmation page.


def test_a_valid_consultation_is_saved_and_redirects_to_the_confirmation(send):
    response = send(CONSULTATION, consultation_data())
    saved = Request.objects.get()
    assert saved.kind == Request.Kind.CONSULTATION
    assert saved.name == "Test Patient One"
    assert str(saved.phone) == "+12025550101"
    assert saved.data_consent is True
    assert not saved.urgent
    assert response.status_code == 302
    assert response["Location"] == reverse("appointments:thanks", args=[saved.reference])


def test_a_valid_call_back_is_saved_with_its_kind(send):
    send(CALL_BACK, call_back_data())
    saved = Request.objects.get()
    assert saved.kind == Request.Kind.CALL_BACK
    assert saved.preferred_time == "afternoon"
    assert saved.voicemail_ok is None


def test_the_confirmation_shows_the_reference_next_steps_and_clinic_phone_only(client, send):
    response = send(CONSULTATION, consultation_data(), follow=True)
    saved = Request.objects.get()
    html = response.content.decode()
    assert saved.reference in html
    assert "What happens next" in html
    assert "within 1 business day" in html
    assert 'href="tel:2025550100"' in html
    for private in ["Test Patient", "555-0101", "example.com", "Back pain"]:
        assert private not in html


def test_reloading_the_confirmation_does_not_send_again(client, send):
    response = send(CONSULTATION, consultation_data(), follow=True)
    client.get(response.redirect_chain[-1][0])
    assert Request.objects.count() == 1


def test_the_confirmation_address_only_accepts_well_formed_references(client):
    assert client.get("/appointments/thanks/ABCD2345/").status_code == 200
    assert client.get("/appointments/thanks/abcd2345/").status_code == 404
    assert client.get("/appointments/thanks/ABCD0O1I/").status_code == 404


# Errors: summary, field messages, values kept.


def test_errors_show_a_summary_linking_to_each_field_and_keep_the_values(client):
    response = client.post(CONSULTATION, consultation_data(name="", phone="12345"))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('role="alert"') == 1
    assert "There is a problem" in html
    assert '<a href="#id_name">Enter your name.</a>' in html
    assert '<a href="#id_phone">' in html
    assert "<title>Error:" in html
    assert 'value="12345"' in html
    assert "Back pain for two years." in html
    assert 'value="test.one@example.com"' in html
    assert Request.objects.count() == 0


def test_field_errors_are_tied_to_their_fields(client):
    html = client.post(CONSULTATION, consultation_data(name="")).content.decode()
    assert re.search(r'<input[^>]*aria-describedby="id_name_error"[^>]*id="id_name"', html)
    assert 'id="id_name_error"' in html


# Safety screen.


@pytest.mark.parametrize(
    "question", ["safety_pump_alarm", "safety_fever", "safety_breathing", "safety_withdrawal"]
)
def test_any_yes_saves_the_request_as_urgent_and_shows_call_now(send, question):
    response = send(CONSULTATION, consultation_data(**{question: "yes"}), follow=True)
    saved = Request.objects.get()
    assert saved.urgent
    assert response.redirect_chain[0][0] == reverse(
        "appointments:thanks_urgent", args=[saved.reference]
    )
    html = response.content.decode()
    assert "Do not wait for us to call you" in html
    assert 'href="tel:911"' in html
    assert 'href="tel:2025550100"' in html
    assert 'href="tel:2025550199"' in html
    assert saved.reference in html


def test_a_call_back_with_a_yes_is_urgent_too(send):
    send(CALL_BACK, call_back_data(safety_breathing="yes"))
    assert Request.objects.get().urgent


def test_a_yes_on_a_form_with_errors_still_shows_call_now(client):
    html = client.post(CALL_BACK, call_back_data(safety_pump_alarm="yes", name="")).content
    assert b"Do not wait for us to call you" in html
    assert b"There is a problem" in html


def test_all_no_answers_do_not_show_call_now(send):
    response = send(CONSULTATION, consultation_data(), follow=True)
    assert b"Do not wait for us to call you" not in response.content


# Spam traps.


def test_a_filled_honeypot_gets_the_normal_confirmation_and_is_stored_nowhere(send, mailoutbox):
    response = send(CONSULTATION, consultation_data(website="http://spam.example"))
    assert response.status_code == 302
    assert re.fullmatch(r"/appointments/thanks/[2-9A-HJ-NP-Z]{8}/", response["Location"])
    assert Request.objects.count() == 0
    assert mailoutbox == []


def test_a_form_sent_faster_than_a_person_could_is_treated_as_a_bot(send):
    response = send(CALL_BACK, call_back_data(started=start_token()))
    assert response.status_code == 302
    assert Request.objects.count() == 0


def test_the_minimum_fill_time_is_a_setting(send, settings):
    settings.REQUEST_MIN_FILL_SECONDS = 0
    send(CALL_BACK, call_back_data(started=start_token()))
    assert Request.objects.count() == 1


@pytest.mark.parametrize("token", ["", "forged", start_token()[:-3] + "abc"])
def test_a_missing_or_forged_timing_token_is_treated_as_a_bot(send, token):
    response = send(CALL_BACK, call_back_data(started=token))
    assert response.status_code == 302
    assert Request.objects.count() == 0


def test_a_bot_that_says_yes_sees_the_call_now_page(send):
    response = send(CALL_BACK, call_back_data(website="x", safety_fever="yes"))
    assert "/call-now/" in response["Location"]
    assert Request.objects.count() == 0


def test_a_patient_who_left_the_tab_open_for_an_hour_can_still_send(send):
    send(CONSULTATION, consultation_data(started=old_token(seconds=3600)))
    assert Request.objects.count() == 1


def test_a_form_open_for_days_asks_to_send_again_and_then_works(client, send):
    stale = start_token(time.time() - 4 * 24 * 3600)
    response = client.post(CONSULTATION, consultation_data(started=stale))
    html = response.content.decode()
    assert response.status_code == 200
    assert "This page was open for a long time" in html
    fresh = re.search(r'name="started" value="([^"]+)"', html).group(1)
    assert fresh != stale
    send(CONSULTATION, consultation_data(started=fresh))
    assert Request.objects.count() == 1


# Plain language.


def visible_text(response):
    html = response.content.decode()
    main = html[html.index("<main") : html.index("</main>")]
    main = re.sub(r"<(input|select|textarea)[^>]*>", " ", main)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


@pytest.mark.parametrize("url", [CONSULTATION, CALL_BACK, "/appointments/thanks/ABCD2345/"])
def test_the_patient_pages_read_at_grade_8_or_below(client, url):
    assert grade(visible_text(client.get(url))) <= TARGET_GRADE


def test_the_call_now_page_reads_at_grade_6_or_below(client):
    response = client.get("/appointments/thanks/ABCD2345/call-now/")
    assert grade(visible_text(response)) <= SAFETY_TARGET_GRADE
