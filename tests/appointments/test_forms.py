"""Form validation: every field, good and bad values, on both public forms."""

import pytest

from appointments.forms import CallBackRequestForm, ConsultationRequestForm
from education.models import Procedure

from .factories import call_back_data, consultation_data

pytestmark = pytest.mark.django_db


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
def test_every_safety_question_needs_a_yes_or_no(field):
    assert consultation(**{field: ""})[field].errors
    assert call_back(**{field: "maybe"})[field].errors
    assert consultation(**{field: "yes"}).cleaned_data[field] is True


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
