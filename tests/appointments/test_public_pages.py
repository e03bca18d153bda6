"""The public forms: rendering, post/redirect/get, safety screen, form token, spam trap,
duplicates, confirmation."""

import html as html_lib
import logging
import re
import time

import pytest
from django.core import signing
from django.urls import reverse

from appointments import services
from appointments.forms import TOKEN_SALT, start_token, token_key
from appointments.models import DiscardedSend, Request
from education.models import ClinicSettings, Procedure
from education.readability import SAFETY_TARGET_GRADE, TARGET_GRADE, grade

from .factories import call_back_data as factory_call_back_data
from .factories import consultation_data, make_request, old_token

pytestmark = pytest.mark.django_db

CONSULTATION = reverse("appointments:consultation")
CALL_BACK = reverse("appointments:call_back")
RESEND = "Please check your answers, then press “{}”."


def call_back_data(**overrides):
    """The factory's call-back, with the two questions the form now asks every time."""
    return factory_call_back_data(**{"patient_type": "new", "voicemail_ok": "yes", **overrides})


def token_in(response):
    return re.search(r'name="started" value="([^"]+)"', response.content.decode()).group(1)


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
    assert saved.voicemail_ok is True
    assert saved.patient_type == Request.PatientType.NEW


def test_a_request_records_the_language_of_its_form_and_the_interpreter_wish(send):
    send(CALL_BACK, call_back_data(name="Test English"))
    response = send("/es" + CALL_BACK, call_back_data(name="Test Spanish", needs_interpreter="on"))
    english, spanish = Request.objects.order_by("name")
    assert (english.form_language, english.needs_interpreter) == ("en", False)
    assert (spanish.form_language, spanish.needs_interpreter) == ("es", True)
    # The confirmation stays in the patient's language.
    assert response["Location"] == "/es" + reverse("appointments:thanks", args=[spanish.reference])


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
    data = consultation_data(patient_type="has_pump", **{question: "yes"})
    response = send(CONSULTATION, data, follow=True)
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
    data = call_back_data(patient_type="has_pump", safety_pump_alarm="yes", name="")
    html = client.post(CALL_BACK, data).content
    assert b"Do not wait for us to call you" in html
    assert b"There is a problem" in html


def test_all_no_answers_do_not_show_call_now(send):
    response = send(CONSULTATION, consultation_data(), follow=True)
    assert b"Do not wait for us to call you" not in response.content


# The pump questions.


def test_a_pump_alarm_yes_from_a_person_with_a_pump_is_urgent(send):
    data = call_back_data(patient_type="has_pump", safety_pump_alarm="yes")
    response = send(CALL_BACK, data)
    saved = Request.objects.get()
    assert saved.urgent and saved.safety_pump_alarm
    assert saved.patient_type == Request.PatientType.HAS_PUMP
    assert response["Location"].endswith("/call-now/")


@pytest.mark.parametrize(
    ("url", "data"), [(CONSULTATION, consultation_data), (CALL_BACK, call_back_data)]
)
def test_i_dont_have_a_pump_answers_are_stored_as_no_and_not_urgent(send, url, data):
    answers = {"safety_pump_alarm": "no_pump", "safety_withdrawal": "no_pump"}
    response = send(url, data(patient_type="new", **answers))
    saved = Request.objects.get()
    assert not saved.urgent
    assert saved.safety_pump_alarm is False and saved.safety_withdrawal is False
    assert saved.patient_type == Request.PatientType.NEW
    assert not response["Location"].endswith("/call-now/")


def test_no_pump_with_a_yes_to_the_alarm_is_urgent_when_in_doubt(send):
    response = send(CALL_BACK, call_back_data(patient_type="new", safety_pump_alarm="yes"))
    saved = Request.objects.get()
    assert saved.urgent and saved.safety_pump_alarm
    assert response["Location"].endswith("/call-now/")


def test_a_pump_with_i_dont_have_a_pump_gets_the_form_back_with_a_clear_message(client):
    data = call_back_data(patient_type="has_pump", safety_withdrawal="no_pump")
    response = client.post(CALL_BACK, data)
    page = html_lib.unescape(response.content.decode())
    assert response.status_code == 200
    assert (
        '<a href="#id_safety_withdrawal_0">You said you have a pain pump. Choose yes or no here.'
        in page
    )
    assert not Request.objects.exists()


def test_the_consultation_form_asks_if_you_have_a_pump_once(client):
    page = client.get(CONSULTATION).content.decode()
    assert page.count("Do you have a pain pump now?") == 1
    assert page.count('name="patient_type"') == 2  # yes and no
    assert "new to the clinic" not in page
    assert page.index('name="patient_type"') < page.index('name="safety_pump_alarm"')


def test_the_call_back_form_asks_about_voice_messages(client, send):
    page = client.get(CALL_BACK).content.decode()
    assert re.search(r"<legend[^>]*>\s*Can we leave a voice message on this phone\?", page)
    assert page.index('name="phone"') < page.index('name="voicemail_ok"')
    response = client.post(CALL_BACK, call_back_data(voicemail_ok=None))
    assert '<a href="#id_voicemail_ok_0">Choose if we can leave a voice message' in (
        response.content.decode()
    )
    send(CALL_BACK, call_back_data(voicemail_ok="no"))
    assert Request.objects.get().voicemail_ok is False


# "Is this urgent?" before any question.


@pytest.mark.parametrize("url", [CONSULTATION, CALL_BACK])
def test_the_is_this_urgent_box_comes_before_the_first_field_with_tel_links(client, url):
    page = client.get(url).content.decode()
    box = page.index('class="urgent-check"')
    first_field = re.search(r"<(input|select|textarea)(?![^>]*type=\"hidden\")", page).start()
    assert box < first_field
    end = page.index("</section>", box)
    inside = page[box:end]
    assert "Is this urgent?" in inside
    assert re.search(r'<a class="button button--danger" href="tel:911">', inside)
    assert re.search(r'<a class="button[^"]*" href="tel:2025550100">', inside)
    assert re.search(r'<a class="button[^"]*" href="tel:2025550199">', inside)


def test_the_is_this_urgent_box_works_with_only_the_clinic_number(client, clinic):
    clinic.after_hours_phone = ""
    clinic.save()
    page = client.get(CALL_BACK).content.decode()
    assert 'href="tel:2025550100">Call the clinic: <span class="tel">(202) 555-0100</span>' in page


# The form token: never mistake a person for a bot.


def test_a_fast_send_gets_the_form_back_then_the_next_press_stores_it(client, send):
    data = call_back_data(started=start_token(), name="Test Patient Fast")
    response = client.post(CALL_BACK, data)
    page = response.content.decode()
    assert response.status_code == 200
    assert Request.objects.count() == 0
    assert not DiscardedSend.objects.exists()
    assert "There is a problem" in page
    assert RESEND.format("Please call me") in page
    assert 'value="Test Patient Fast"' in page  # everything typed is still there
    assert "Questions about the pump trial." in page
    assert 'value="no_pump"' in page
    fresh = token_in(response)
    assert fresh != data["started"]
    response = send(CALL_BACK, {**data, "started": fresh})
    assert response.status_code == 302
    assert Request.objects.get().name == "Test Patient Fast"


def test_the_minimum_fill_time_is_a_setting(send, settings):
    settings.REQUEST_MIN_FILL_SECONDS = 0
    send(CALL_BACK, call_back_data(started=start_token()))
    assert Request.objects.count() == 1


@pytest.mark.parametrize(
    "token",
    ["", "forged", start_token()[:-3] + "abc", signing.dumps(time.time() - 60, salt="other")],
    ids=["empty", "forged", "bad-signature", "other-salt"],
)
def test_a_token_that_does_not_verify_gets_the_form_back(client, token):
    response = client.post(CONSULTATION, consultation_data(started=token))
    assert response.status_code == 200
    assert RESEND.format("Send my request") in response.content.decode()
    assert token_in(response) != token
    assert not Request.objects.exists()
    assert not DiscardedSend.objects.exists()


def test_a_missing_token_gets_the_form_back(client):
    response = client.post(CALL_BACK, call_back_data(started=None))
    assert response.status_code == 200
    assert RESEND.format("Please call me") in response.content.decode()


def test_a_token_signed_with_an_old_key_in_secret_key_fallbacks_is_stored(send, settings):
    token = signing.dumps({"t": time.time() - 60, "n": "rotation"}, key="old-key", salt=TOKEN_SALT)
    settings.SECRET_KEY = "the-new-key"
    settings.SECRET_KEY_FALLBACKS = ["old-key"]
    response = send(CONSULTATION, consultation_data(started=token))
    assert response.status_code == 302
    assert Request.objects.get().submission_token == token_key(token)


def test_a_token_signed_with_an_unknown_key_gets_the_form_back_and_then_works(
    client, send, settings
):
    token = signing.dumps({"t": time.time() - 60, "n": "x"}, key="unknown-key", salt=TOKEN_SALT)
    settings.SECRET_KEY_FALLBACKS = ["old-key"]
    response = client.post(CONSULTATION, consultation_data(started=token))
    assert response.status_code == 200
    assert RESEND.format("Send my request") in response.content.decode()
    assert not Request.objects.exists()
    send(CONSULTATION, consultation_data(started=token_in(response)))
    assert Request.objects.count() == 1


def test_an_old_format_token_a_bare_number_still_works(send):
    token = signing.dumps(time.time() - 60, salt=TOKEN_SALT)
    assert send(CALL_BACK, call_back_data(started=token)).status_code == 302
    assert Request.objects.count() == 1


def test_a_patient_who_left_the_tab_open_for_an_hour_can_still_send(send):
    send(CONSULTATION, consultation_data(started=old_token(seconds=3600)))
    assert Request.objects.count() == 1


def test_a_form_open_for_days_asks_to_send_again_and_then_works(client, send):
    stale = start_token(time.time() - 4 * 24 * 3600)
    response = client.post(CONSULTATION, consultation_data(started=stale))
    html = response.content.decode()
    assert response.status_code == 200
    assert "This page was open for a long time" in html
    fresh = token_in(response)
    assert fresh != stale
    send(CONSULTATION, consultation_data(started=fresh))
    assert Request.objects.count() == 1


# The spam trap: the hidden "website" box.


@pytest.mark.parametrize(
    ("url", "data", "kind"),
    [(CONSULTATION, consultation_data, "consultation"), (CALL_BACK, call_back_data, "call_back")],
)
def test_a_filled_honeypot_gets_the_normal_confirmation_is_stored_nowhere_and_counted(
    send, mailoutbox, url, data, kind
):
    for _ in range(2):
        response = send(url, data(website="http://spam.example"))
        assert response.status_code == 302
        assert re.fullmatch(r"/appointments/thanks/[2-9A-HJ-NP-Z]{8}/", response["Location"])
    assert Request.objects.count() == 0
    assert mailoutbox == []
    counted = DiscardedSend.objects.get()
    assert (counted.form, counted.reason, counted.count) == (kind, "honeypot", 2)


def test_the_honeypot_log_carries_no_patient_details(send, caplog):
    with caplog.at_level(logging.DEBUG):
        send(CALL_BACK, call_back_data(website="x", safety_fever="yes"))
    assert "honeypot" in caplog.text
    for private in ["Test Patient", "555", "0102", "pump trial", "example"]:
        assert private not in caplog.text


def test_a_bot_that_says_yes_sees_the_call_now_page(send):
    response = send(CALL_BACK, call_back_data(website="x", safety_fever="yes"))
    assert "/call-now/" in response["Location"]
    assert Request.objects.count() == 0


# The same form sent twice: one request, the same confirmation.


def test_a_replayed_token_gives_one_request_and_the_same_confirmation(send, mailoutbox):
    data = consultation_data()
    first = send(CONSULTATION, data)
    again = send(CONSULTATION, data)  # a double click, or back and send again
    saved = Request.objects.get()
    assert first["Location"] == again["Location"]
    assert first["Location"] == reverse("appointments:thanks", args=[saved.reference])
    assert saved.submission_token == token_key(data["started"])
    assert len(mailoutbox) == 1


def test_a_replayed_urgent_send_gets_the_urgent_confirmation_even_if_changed(send):
    data = call_back_data(patient_type="has_pump", safety_pump_alarm="yes")
    first = send(CALL_BACK, data)
    # Back, change an answer, send again with the same page's token: still one request.
    again = send(CALL_BACK, {**data, "safety_pump_alarm": "no", "name": ""})
    saved = Request.objects.get()
    assert first["Location"] == again["Location"]
    assert again["Location"] == reverse("appointments:thanks_urgent", args=[saved.reference])


def test_two_sends_with_the_same_token_at_the_same_moment_make_one_request(
    send, monkeypatch, mailoutbox, caplog
):
    """The other send commits between this one's check and its save: the unique token
    refuses the second row, and this send answers with the request the other made."""
    data = call_back_data(patient_type="has_pump", safety_withdrawal="yes")
    other = make_request(
        kind=Request.Kind.CALL_BACK, urgent=True, submission_token=token_key(data["started"])
    )
    real_check = services.find_possible_duplicate
    seen = []

    def check_for_duplicates(request):
        seen.append(request)
        return real_check(request)

    monkeypatch.setattr(services, "find_possible_duplicate", check_for_duplicates)
    # The view's own look-up ran before the other send committed: it found nothing then.
    real_lookup = services.find_sent_request
    monkeypatch.setattr(
        services, "find_sent_request", lambda key: real_lookup(key) if seen else None
    )
    with caplog.at_level(logging.INFO, logger="appointments.services"):
        response = send(CALL_BACK, data)
    assert seen, "the send got as far as saving"
    assert f"Request {other.reference} was already saved from this form." in caplog.text
    assert Request.objects.get() == other
    assert response["Location"] == reverse("appointments:thanks_urgent", args=[other.reference])
    assert mailoutbox == []  # the other send's notification is the only one


def test_a_reference_clash_is_still_retried_not_taken_for_a_replay(send, monkeypatch):
    make_request(reference="SAMEREF2")
    draws = iter(["SAMEREF2", "FRESHREF"])
    monkeypatch.setattr(services, "_unused_reference", lambda: next(draws))
    response = send(CALL_BACK, call_back_data())
    assert response["Location"] == reverse("appointments:thanks", args=["FRESHREF"])
    assert Request.objects.count() == 2


# Two sends at the same moment with the same phone: the newer is a possible duplicate.


def test_same_phone_sends_at_the_same_moment_mark_the_newer_one(send, monkeypatch):
    # Each send's check ran before the other was saved, so neither found the other.
    monkeypatch.setattr(services, "find_possible_duplicate", lambda request: None)
    send(CALL_BACK, call_back_data(phone="(202) 555-0123"))
    send(CONSULTATION, consultation_data(phone="202-555-0123", email="other@example.com"))
    older, newer = Request.objects.order_by("submitted_at", "pk")
    assert older.possible_duplicate_of is None
    assert newer.possible_duplicate_of == older


def test_the_check_after_commit_marks_the_newer_one_whichever_looks_last():
    older = make_request(phone="+12025550123", email="a@example.com")
    newer = make_request(phone="+12025550123", email="b@example.com")
    # The newer one looked first, before the older one was committed: it found nothing.
    # The older one looks last and marks the newer one.
    services.mark_possible_duplicate(older)
    newer.refresh_from_db()
    older.refresh_from_db()
    assert newer.possible_duplicate_of == older
    assert older.possible_duplicate_of is None
    # Looking again changes nothing.
    services.mark_possible_duplicate(newer)
    services.mark_possible_duplicate(older)
    newer.refresh_from_db()
    assert newer.possible_duplicate_of == older


def test_the_check_after_commit_keeps_an_existing_mark_and_the_14_day_window():
    first = make_request(email="same@example.com", phone="+12025550131")
    second = make_request(
        email="SAME@example.com", phone="+12025550132", possible_duplicate_of=first
    )
    third = make_request(email="same@example.com", phone="+12025550133")
    far = make_request(
        email="same@example.com",
        phone="+12025550134",
        submitted_at=first.submitted_at - services.DUPLICATE_WINDOW * 2,
    )
    services.mark_possible_duplicate(first)
    for request in (second, third, far):
        request.refresh_from_db()
    assert second.possible_duplicate_of == first  # kept
    assert third.possible_duplicate_of == first
    assert far.possible_duplicate_of is None


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


def test_with_other_problems_the_send_again_message_is_not_added(client, send):
    data = call_back_data(started=start_token(), name="")
    response = client.post(CALL_BACK, data)
    page = response.content.decode()
    assert '<a href="#id_name">Enter your name.</a>' in page
    assert "Please check your answers" not in page
    # The fresh token is in the form all the same: fixing the name is enough.
    send(CALL_BACK, {**data, "name": "Test Patient Fixed", "started": token_in(response)})
    assert Request.objects.get().name == "Test Patient Fixed"


def test_a_form_given_back_is_logged_without_patient_details(client, caplog):
    with caplog.at_level(logging.INFO, logger="appointments"):
        client.post(CALL_BACK, call_back_data(started=start_token()))
    assert "Gave a call_back form back to send again (too_fast)." in caplog.text
    for private in ["Test Patient", "555", "0102", "pump trial"]:
        assert private not in caplog.text
