"""Form validation: every field, good and bad values, on both public forms."""

import time
import tomllib
from pathlib import Path

import pytest
from django.core import signing
from django.utils import translation

from appointments.forms import (
    TOKEN_SALT,
    CallBackRequestForm,
    ConsultationRequestForm,
    start_token,
    token_key,
    token_time,
)
from education.models import Procedure

from .factories import call_back_data as factory_call_back_data
from .factories import consultation_data

pytestmark = pytest.mark.django_db

DEMO_GUIDE = Path(__file__).resolve().parents[2] / "education" / "demo" / "intrathecal_pump.toml"


def call_back_data(**overrides):
    """The factory's call-back, with the two questions the form now asks every time."""
    return factory_call_back_data(**{"patient_type": "new", "voicemail_ok": "yes", **overrides})


def consultation(**overrides):
    form = ConsultationRequestForm(data=consultation_data(**overrides))
    form.is_valid()
    return form


def call_back(**overrides):
    form = CallBackRequestForm(data=call_back_data(**overrides))
    form.is_valid()
    return form


@pytest.fixture
def procedure(db):
    return Procedure.objects.create(
        title="Pain pump", slug="pain-pump", summary="A pump.", status="published"
    )


def test_a_complete_consultation_form_is_valid():
    form = consultation()
    assert form.errors == {}


def test_a_complete_call_back_form_is_valid():
    form = call_back()
    assert form.errors == {}


# Name


def test_name_is_required():
    assert consultation(name="")["name"].errors == ["Enter your name."]
    assert call_back(name="   ")["name"].errors == ["Enter your name."]


def test_name_has_extra_spaces_removed():
    assert consultation(name="  Test   Patient ").cleaned_data["name"] == "Test Patient"


def test_a_one_letter_name_is_refused():
    assert consultation(name="T")["name"].errors == ["Enter your name."]


def test_a_name_over_120_characters_is_refused():
    assert consultation(name="T" * 121)["name"].errors


# Phone


@pytest.mark.parametrize(
    "typed", ["(202) 555-0101", "202-555-0101", "202.555.0101", "+1 202 555 0101"]
)
def test_phone_numbers_in_any_usual_format_are_stored_the_same_way(typed):
    assert str(consultation(phone=typed).cleaned_data["phone"]) == "+12025550101"


@pytest.mark.parametrize("typed", ["12345", "555-0101", "call me", "(555) 555-0101"])
def test_phone_numbers_that_cannot_be_called_are_refused(typed):
    errors = consultation(phone=typed)["phone"].errors
    assert errors and errors[0].startswith("Enter a phone number with the area code")


def test_the_default_phone_region_is_a_setting(settings):
    settings.PHONENUMBER_DEFAULT_REGION = "GB"
    form = consultation(phone="020 7946 0958")
    assert str(form.cleaned_data["phone"]) == "+442079460958"


def test_a_call_back_needs_a_phone_number():
    assert call_back(phone="")["phone"].errors == ["Enter your phone number, so we can call you."]


def test_phone_inputs_use_the_phone_keyboard_and_autofill():
    html = str(ConsultationRequestForm()["phone"])
    assert 'type="tel"' in html
    assert 'inputmode="tel"' in html
    assert 'autocomplete="tel"' in html


# Email and the phone-or-email rule


def test_email_is_optional_when_a_phone_is_given():
    assert consultation(email="").errors == {}


def test_phone_is_optional_when_an_email_is_given_and_email_is_chosen():
    form = consultation(phone="", contact_method="email", voicemail_ok="")
    assert form.errors == {}


def test_a_consultation_needs_a_phone_or_an_email():
    form = consultation(phone="", email="", contact_method="email")
    assert form["phone"].errors == ["Enter a phone number or an email, so we can reach you."]


def test_an_invalid_email_is_refused():
    assert consultation(email="not-an-email")["email"].errors == [
        "Enter an email address like name@example.com."
    ]


def test_the_email_domain_is_lowercased():
    assert consultation(email="Test@EXAMPLE.com").cleaned_data["email"] == "Test@example.com"


# Contact method, time, voicemail


def test_choosing_email_without_an_email_is_refused():
    form = consultation(contact_method="email", email="")
    assert form["email"].errors == ["You chose email: enter your email address."]


def test_choosing_a_phone_call_without_a_phone_is_refused():
    form = consultation(contact_method="phone", phone="", voicemail_ok="")
    assert form["phone"].errors == ["You chose a phone call: enter your phone number."]


@pytest.mark.parametrize("field", ["contact_method", "preferred_time", "patient_type"])
def test_radio_questions_need_an_answer(field):
    assert consultation(**{field: ""})[field].errors


@pytest.mark.parametrize("field", ["contact_method", "preferred_time", "patient_type"])
def test_radio_questions_refuse_made_up_answers(field):
    assert consultation(**{field: "sometimes"})[field].errors


def test_voicemail_consent_is_needed_when_a_phone_is_given():
    assert consultation(voicemail_ok="")["voicemail_ok"].errors == [
        "Choose if we can leave a voice message on this phone."
    ]


@pytest.mark.parametrize(("answer", "stored"), [("yes", True), ("no", False)])
def test_voicemail_consent_is_stored_as_yes_or_no(answer, stored):
    assert consultation(voicemail_ok=answer).cleaned_data["voicemail_ok"] is stored


# Procedure


def test_the_procedure_is_chosen_by_its_web_address(procedure):
    assert consultation(procedure="pain-pump").cleaned_data["procedure"] == procedure


def test_an_unpublished_procedure_cannot_be_chosen(procedure):
    procedure.status = "draft"
    procedure.save()
    assert consultation(procedure="pain-pump")["procedure"].errors


@pytest.fixture
def spanish_page(procedure):
    return Procedure.objects.create(
        language="es",
        translation_of=procedure,
        title="Bomba para el dolor",
        slug="pain-pump",
        summary="Una bomba.",
        status="published",
    )


def offered(form):
    return [label for value, label in form.fields["procedure"].choices if value]


def test_a_page_and_its_spanish_version_are_one_choice_in_english(spanish_page, procedure):
    """They share their address: the English form offers the English page once, and
    the answer is that page (two pages with one address once made this a server error)."""
    form = consultation(procedure="pain-pump")
    assert offered(form) == ["Pain pump"]
    assert form.cleaned_data["procedure"] == procedure


def test_the_spanish_form_offers_the_spanish_page_and_records_the_english_one(
    spanish_page, procedure
):
    with translation.override("es"):
        form = consultation(procedure="pain-pump")
        assert offered(form) == ["Bomba para el dolor"]
    assert not form.errors
    assert form.cleaned_data["procedure"] == procedure


def test_the_spanish_form_offers_an_english_page_that_has_no_spanish_version(procedure):
    with translation.override("es"):
        form = consultation(procedure="pain-pump")
        assert offered(form) == ["Pain pump"]
    assert form.cleaned_data["procedure"] == procedure


def test_the_procedure_is_optional():
    assert consultation(procedure="").cleaned_data["procedure"] is None


# Reason, referring doctor, language, interpreter


def test_a_reason_is_required():
    assert consultation(reason="  ")["reason"].errors == [
        "Tell us in a few words why you are asking for a visit."
    ]
    assert call_back(reason="")["reason"].errors == [
        "Tell us in a few words what you want to talk about."
    ]


def test_a_reason_over_500_characters_is_refused():
    assert consultation(reason="a" * 501)["reason"].errors == [
        "Make this shorter: 500 letters at most."
    ]


def test_the_referring_doctor_is_optional_and_tidied():
    assert consultation(referring_doctor="").errors == {}
    assert consultation(referring_doctor=" Dr  Example ").cleaned_data["referring_doctor"] == (
        "Dr Example"
    )


def test_a_referring_doctor_over_120_characters_is_refused():
    assert consultation(referring_doctor="D" * 121)["referring_doctor"].errors


def test_language_is_optional_and_too_long_is_refused():
    assert consultation(language="").errors == {}
    assert consultation(language="L" * 61)["language"].errors


def test_interpreter_need_is_a_checkbox():
    assert consultation(needs_interpreter="on").cleaned_data["needs_interpreter"] is True
    assert consultation().cleaned_data["needs_interpreter"] is False


# Consent


def test_a_consultation_needs_the_data_consent():
    assert consultation(data_consent=None)["data_consent"].errors == [
        "Check the box to say you agree, so we can contact you."
    ]


def test_the_consent_label_says_what_the_clinic_does_with_the_data():
    label = str(ConsultationRequestForm()["data_consent"].label)
    assert "uses it only to contact me" in label


# Safety questions


@pytest.mark.parametrize(
    "field", ["safety_pump_alarm", "safety_fever", "safety_breathing", "safety_withdrawal"]
)
def test_every_safety_question_needs_an_answer(field):
    assert consultation(**{field: ""})[field].errors
    assert call_back(**{field: "maybe"})[field].errors
    assert consultation(**{field: "yes"}, patient_type="has_pump").cleaned_data[field] is True


@pytest.mark.parametrize("field", ["safety_fever", "safety_breathing"])
def test_questions_for_everyone_have_no_i_dont_have_a_pump_answer(field):
    assert consultation(**{field: "no_pump"})[field].errors


@pytest.mark.parametrize("form", [consultation, call_back])
def test_do_you_have_a_pump_needs_an_answer(form):
    assert form(patient_type="")["patient_type"].errors == [
        "Answer yes or no: do you have a pain pump now?"
    ]
    assert form(patient_type="maybe")["patient_type"].errors


@pytest.mark.parametrize("form", [consultation, call_back])
@pytest.mark.parametrize("field", ["safety_pump_alarm", "safety_withdrawal"])
def test_i_dont_have_a_pump_is_stored_as_no(form, field):
    bound = form(patient_type="new", **{field: "no_pump"})
    assert bound.errors == {}
    assert bound.cleaned_data[field] is False


@pytest.mark.parametrize("form", [consultation, call_back])
@pytest.mark.parametrize("field", ["safety_pump_alarm", "safety_withdrawal"])
def test_no_pump_but_yes_to_a_pump_question_counts_as_yes(form, field):
    """When in doubt, a yes counts: the request goes through (urgent), never held back."""
    bound = form(patient_type="new", **{field: "yes"})
    assert bound.errors == {}
    assert bound.cleaned_data[field] is True


@pytest.mark.parametrize("field", ["safety_pump_alarm", "safety_withdrawal"])
def test_a_pump_and_i_dont_have_a_pump_is_an_error_too(field):
    assert call_back(patient_type="has_pump", **{field: "no_pump"})[field].errors == [
        "You said you have a pain pump. Choose yes or no here."
    ]


def test_a_person_without_a_pump_may_answer_no_to_the_pump_questions():
    form = consultation(patient_type="new", safety_pump_alarm="no", safety_withdrawal="no")
    assert form.errors == {}


def test_the_consultation_form_asks_about_a_pump_once_before_the_pump_questions():
    form = ConsultationRequestForm()
    order = list(form.fields)
    assert order.index("patient_type") < order.index("safety_pump_alarm")
    names = [
        name
        for fieldset in form.helper.layout.fields
        for name in getattr(fieldset, "fields", [])
        if isinstance(name, str)
    ]
    assert names.count("patient_type") == 1
    assert str(form["patient_type"].label) == "Do you have a pain pump now?"


def guide_signs(start):
    """The guide's warning sign (demo content, clinically reviewed) starting with `start`."""
    guide = tomllib.loads(DEMO_GUIDE.read_text(encoding="utf-8"))
    signs = [
        sign["sign"]
        for procedure in guide["procedures"]
        for sign in procedure.get("warning_signs", [])
        if sign["sign"].startswith(start)
    ]
    assert len(signs) == 1, start
    return signs[0]


def test_the_withdrawal_question_lists_the_guides_signs_and_not_more_pain_alone():
    label = str(ConsultationRequestForm()["safety_withdrawal"].label)
    opioid = guide_signs("On an opioid: several of these at once: ")
    baclofen = guide_signs("On baclofen: new itching")
    assert opioid.split(": ", 2)[2] in label  # "sweating, yawning, ... or diarrhea."
    assert baclofen.split(": ", 1)[1] in label  # "new itching without a rash, ..."
    assert "pain" not in label.lower()


def test_the_call_back_form_asks_about_voice_messages_and_needs_an_answer():
    form = CallBackRequestForm()
    assert str(form["voicemail_ok"].label) == "Can we leave a voice message on this phone?"
    assert call_back(voicemail_ok=None)["voicemail_ok"].errors == [
        "Choose if we can leave a voice message on this phone."
    ]
    assert call_back(voicemail_ok="no").cleaned_data["voicemail_ok"] is False
    assert call_back(voicemail_ok="yes").cleaned_data["voicemail_ok"] is True
    assert call_back(voicemail_ok="maybe")["voicemail_ok"].errors


# The form token


def test_a_new_token_carries_the_time_and_a_nonce_and_is_never_the_same_twice():
    now = time.time()
    first, second = start_token(now), start_token(now)
    assert first != second
    assert token_time(first) == token_time(second) == now
    assert token_key(first) != token_key(second)
    assert len(token_key(first)) == 64


def test_an_old_format_token_a_bare_number_still_verifies():
    assert token_time(signing.dumps(123.5, salt=TOKEN_SALT)) == 123.5


@pytest.mark.parametrize(
    "token",
    [
        "",
        "forged",
        signing.dumps({"t": 1.0, "n": "x"}, salt="another.salt"),
        signing.dumps({"t": "yesterday", "n": "x"}, salt=TOKEN_SALT),
        signing.dumps(True, salt=TOKEN_SALT),
        signing.dumps(["not", "a", "time"], salt=TOKEN_SALT),
    ],
)
def test_a_token_that_does_not_verify_or_holds_no_time_has_no_time(token):
    assert token_time(token) is None


def test_a_token_signed_with_a_key_in_secret_key_fallbacks_verifies(settings):
    token = signing.dumps({"t": 100.0, "n": "x"}, key="the-old-key", salt=TOKEN_SALT)
    settings.SECRET_KEY_FALLBACKS = []
    assert token_time(token) is None
    settings.SECRET_KEY_FALLBACKS = ["the-old-key"]
    assert token_time(token) == 100.0


def test_a_form_sent_too_fast_gets_a_message_and_a_fresh_slow_enough_token(settings):
    form = call_back(started=start_token())
    assert [error.code for error in form.errors.as_data()["started"]] == ["too_fast"]
    fresh = form.data["started"]
    assert time.time() - token_time(fresh) >= settings.REQUEST_MIN_FILL_SECONDS
    assert call_back(started=fresh).errors == {}


# Error summary


def test_the_error_summary_lists_problems_in_page_order_with_links():
    form = consultation(safety_fever="", name="", contact_method="")
    assert form.error_summary() == [
        (
            "id_safety_fever_0",
            "Answer yes or no: do you have a fever with a wound problem or a stiff neck?",
        ),
        ("id_name", "Enter your name."),
        ("id_contact_method_0", "Choose how we should contact you."),
    ]


def test_a_call_back_needs_a_best_time_from_the_list():
    assert call_back(preferred_time="")["preferred_time"].errors == [
        "Choose the best time to call you."
    ]
    assert call_back(preferred_time="midnight")["preferred_time"].errors
    assert call_back(preferred_time="any").cleaned_data["preferred_time"] == "any"
