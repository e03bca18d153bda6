"""Bad input on both public forms and the staff sign-in: never a 500, never stored.

A corpus of broken and hostile sends, one parametrized case each: missing or forged
CSRF tokens, bodies over the size limits, text over its maximum length, NUL bytes,
control characters, line breaks in names and emails, HTML and script, right-to-left
and emoji text, invalid phones and emails, invalid choices, wrong methods, stale or
forged form timestamps, and odd encodings. Each one gets a 4xx or a validation message
on the page, and invalid input stores nothing.

Two kinds of case are not refusals, on purpose, and say so:
- a filled honeypot (the hidden "website" box) gets the same confirmation page a
  person gets, so a bot learns nothing; nothing is stored, and it is counted. A form
  timestamp that is forged, too fresh or missing is not taken for a bot: a person may
  have sent it, so the form comes back with a message, like any other mistake;
- text that is only unusual (other alphabets, emoji, HTML typed into a box) is valid:
  it is stored as typed, re-shown escaped, and shown escaped to staff (the tests at
  the end cover the admin list, change page, history and the CSV export).
"""

import csv
import io
import re
import time

import pytest
from django.conf import settings
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from appointments.forms import TOKEN_SALT, start_token
from appointments.models import ContactAttempt, DiscardedSend, Request
from education.models import Procedure

from .appointments import factories
from .appointments.factories import consultation_data, form_as_sent, old_token, shown_text

pytestmark = pytest.mark.django_db


def call_back_data(**overrides):
    """The factory's call-back, with the two questions the form now asks every time."""
    return factories.call_back_data(**{"patient_type": "new", "voicemail_ok": "yes", **overrides})


PUBLIC = {
    "consultation": ("appointments:consultation", consultation_data),
    "call_back": ("appointments:call_back", call_back_data),
}
FORMS = [*PUBLIC, "login"]
MAX_LENGTH = {"name": 120, "email": 254, "reason": 500, "referring_doctor": 120, "language": 60}
# The text boxes of each public form (the consultation form has them all).
TEXT_FIELDS = {
    "consultation": ["name", "phone", "email", "reason", "referring_doctor", "language"],
    "call_back": ["name", "phone", "reason"],
}
CHOICE_FIELDS = {
    "consultation": [
        "contact_method",
        "preferred_time",
        "patient_type",
        "procedure",
        "voicemail_ok",
        "safety_pump_alarm",
    ],
    "call_back": ["patient_type", "voicemail_ok", "preferred_time", "safety_fever"],
}
STAFF_PASSWORD = "test-password-123"


@pytest.fixture(autouse=True)
def _staff_member(front_desk):
    """A real staff account, so a sign-in case could succeed if the checks were missing."""
    return front_desk


def url_of(form):
    return reverse("admin:login") if form == "login" else reverse(PUBLIC[form][0])


def data_for(form, **overrides):
    if form == "login":
        data = {"username": "frontdesk", "password": "not-the-password", "next": "/admin/"}
        data.update(overrides)
        return {key: value for key, value in data.items() if value is not None}
    return PUBLIC[form][1](**overrides)


def html(response):
    return response.content.decode(response.charset or "utf-8", errors="replace")


# What each case expects ------------------------------------------------------------------


def assert_nothing_stored(client, form):
    if form == "login":
        assert "_auth_user_id" not in client.session
    else:
        assert not Request.objects.exists()


def assert_refused(response, client, form, field=None):
    """A 4xx, or the form again with a message (on the field, when one is named)."""
    assert response.status_code < 500
    if response.status_code == 200:
        if form == "login":
            page_form = response.context["form"]  # the admin's own (Django) template
        else:
            page_form = form_as_sent(response)
            # The form rebuilt from the request is the one on the page: every one of
            # its messages is shown.
            for messages in page_form.errors.values():
                for message in messages:
                    assert message in shown_text(response), f"not on the page: {message}"
        assert page_form.errors, "the form came back without a message"
        if field and form != "login":
            assert page_form[field].errors, f"no message on {field}: {page_form.errors}"
            for message in page_form[field].errors:
                assert escape(message) in html(response)
        if form == "login":
            assert "Please enter the correct username and password" in html(response) or any(
                page_form[name].errors for name in ("username", "password")
            )
        else:
            assert "There is a problem" in html(response)
    else:
        assert 400 <= response.status_code < 500, response.status_code
    assert_nothing_stored(client, form)


def assert_discarded(response, form):
    """A honeypot hit: the normal confirmation page, nothing stored, the discard counted."""
    assert response.status_code == 302
    assert "/appointments/thanks/" in response["Location"]
    assert not Request.objects.exists()
    assert DiscardedSend.objects.get(form=form, reason="honeypot").count >= 1


def assert_given_back(response, client, form):
    """A form timestamp we cannot use: the form back, to check and send again."""
    assert_refused(response, client, form, "started")
    assert "Please check your answers, then press" in shown_text(response)
    assert not DiscardedSend.objects.exists()


def assert_stored(response, field, expected):
    assert response.status_code == 302, form_as_sent(response).errors
    assert "/appointments/thanks/" in response["Location"]
    assert getattr(Request.objects.get(), field) == expected


# 1. Missing or forged CSRF token ----------------------------------------------------------

CSRF_CASES = ["no-token-no-cookie", "cookie-no-token", "token-no-cookie", "wrong-token", "junk"]


def csrf_token_from(response):
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html(response)).group(1)


@pytest.mark.parametrize("variant", CSRF_CASES)
@pytest.mark.parametrize("form", FORMS)
def test_a_missing_or_forged_csrf_token_is_refused(form, variant):
    browser = Client(enforce_csrf_checks=True)
    data = data_for(form, password=STAFF_PASSWORD) if form == "login" else data_for(form)
    if variant != "no-token-no-cookie":
        token = csrf_token_from(browser.get(url_of(form)))
        other = csrf_token_from(Client(enforce_csrf_checks=True).get(url_of(form)))
        data["csrfmiddlewaretoken"] = {
            "cookie-no-token": None,
            "token-no-cookie": token,
            "wrong-token": other,
            "junk": "<script>alert(1)</script>" * 3,
        }[variant]
        data = {key: value for key, value in data.items() if value is not None}
        if variant == "token-no-cookie":
            del browser.cookies[settings.CSRF_COOKIE_NAME]
    response = browser.post(url_of(form), data)
    assert response.status_code == 403
    assert_nothing_stored(browser, form)


@pytest.mark.parametrize("form", FORMS)
def test_the_same_send_with_its_real_csrf_token_goes_through(form):
    """The control for the CSRF cases: they fail because of the token, nothing else."""
    browser = Client(enforce_csrf_checks=True)
    token = csrf_token_from(browser.get(url_of(form)))
    data = data_for(form, password=STAFF_PASSWORD) if form == "login" else data_for(form)
    response = browser.post(url_of(form), {**data, "csrfmiddlewaretoken": token})
    assert response.status_code == 302


# 2. Bodies over the size limits ------------------------------------------------------------

SIZE_CASES = ["one-huge-field", "too-many-fields", "multipart-huge-field", "too-many-files"]


@pytest.mark.parametrize("variant", SIZE_CASES)
@pytest.mark.parametrize("form", FORMS)
def test_a_body_over_the_size_limits_gets_400(client, form, variant):
    data = data_for(form)
    url = url_of(form)
    if variant == "one-huge-field":
        big = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
        response = client.post(
            url,
            f"name={big}&reason={big}&username={big}",
            content_type="application/x-www-form-urlencoded",
        )
    elif variant == "too-many-fields":
        extra = "&".join(f"f{n}=1" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
        response = client.post(url, extra, content_type="application/x-www-form-urlencoded")
    elif variant == "multipart-huge-field":
        key = "username" if form == "login" else "reason"
        data[key] = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
        response = client.post(url, data)  # the test client sends multipart
    else:
        files = {
            f"file{n}": io.BytesIO(b"x") for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)
        }
        response = client.post(url, {**data, **files})
    assert response.status_code == 400
    assert_nothing_stored(client, form)


# 3. Text over its maximum length -------------------------------------------------------------

OVER_LENGTH = [
    ("consultation", "name", "T" * 121),
    ("consultation", "email", "t" * 243 + "@example.com"),
    ("consultation", "reason", "R" * 501),
    ("consultation", "referring_doctor", "D" * 121),
    ("consultation", "language", "L" * 61),
    ("consultation", "phone", "2" * 31),
    ("consultation", "phone", "(202) 555-0101" * 400),
    ("call_back", "name", "T" * 121),
    ("call_back", "reason", "R" * 501),
    ("call_back", "phone", "2" * 31),
    ("call_back", "phone", "(202) 555-0101" * 400),
    ("login", "username", "u" * 151),
    ("login", "username", "u" * 20_000),
    ("login", "password", "p" * 20_000),
]


@pytest.mark.parametrize(
    ("form", "field", "value"),
    [
        pytest.param(*case, id=f"{case[0]}-{case[1]}-{len(case[2])}-characters")
        for case in OVER_LENGTH
    ],
)
def test_text_over_its_maximum_length_gets_a_message(client, form, field, value):
    response = client.post(url_of(form), data_for(form, **{field: value}))
    assert_refused(response, client, form, field)


@pytest.mark.parametrize("field", MAX_LENGTH)
def test_text_at_its_maximum_length_is_accepted(client, field):
    """The control for the length cases: the limit is where the model says."""
    value = "t" * 242 + "@example.com" if field == "email" else "T" * MAX_LENGTH[field]
    response = client.post(url_of("consultation"), data_for("consultation", **{field: value}))
    assert_stored(response, field, value)


# 4. NUL bytes --------------------------------------------------------------------------------


NUL_CASES = [
    *(
        (form, field, where)
        for form, fields in TEXT_FIELDS.items()
        for field in fields
        for where in ("start", "middle", "end")
    ),
    *((form, field, "middle") for form, fields in CHOICE_FIELDS.items() for field in fields),
    *(("login", field, where) for field in ("username", "password") for where in ("start", "end")),
]


def with_nul(value, where):
    return {
        "start": "\x00" + value,
        "middle": value[:2] + "\x00" + value[2:],
        "end": value + "\x00",
    }[where]


@pytest.mark.parametrize(("form", "field", "where"), NUL_CASES)
def test_a_nul_byte_in_any_field_gets_a_message(client, form, field, where):
    value = data_for(form).get(field) or "some-value"
    response = client.post(url_of(form), data_for(form, **{field: with_nul(value, where)}))
    assert_refused(response, client, form, field)


@pytest.mark.parametrize("form", PUBLIC)
def test_a_nul_byte_in_the_honeypot_is_discarded(client, form):
    response = client.post(url_of(form), data_for(form, website="\x00"))
    assert_discarded(response, form)


@pytest.mark.parametrize("form", PUBLIC)
def test_a_nul_byte_as_the_form_timestamp_gives_the_form_back(client, form):
    response = client.post(url_of(form), data_for(form, started="\x00"))
    assert_given_back(response, client, form)


# 5. Control characters ----------------------------------------------------------------------

CONTROL_CHARACTERS = {"SOH": "\x01", "BEL": "\x07", "ESC": "\x1b[31m", "DEL": "\x7f", "NEL": "\x85"}
# The boxes where patients type their own words.
FREE_TEXT_FIELDS = [
    ("consultation", "name"),
    ("call_back", "name"),
    ("consultation", "reason"),
    ("call_back", "reason"),
    ("consultation", "referring_doctor"),
    ("consultation", "language"),
]
CONTROL_FIELDS = [*FREE_TEXT_FIELDS, ("consultation", "email"), ("login", "username")]


@pytest.mark.parametrize("char", CONTROL_CHARACTERS.values(), ids=CONTROL_CHARACTERS)
@pytest.mark.parametrize(("form", "field"), CONTROL_FIELDS)
def test_a_control_character_gets_a_message(client, form, field, char):
    value = {"email": "test.one@example.com", "username": "frontdesk"}.get(field, "Test Patient")
    value = value[:4] + char + value[4:]
    response = client.post(url_of(form), data_for(form, **{field: value}))
    assert_refused(response, client, form, field)


@pytest.mark.parametrize("char", ["\x01", "\x07"], ids=["SOH", "BEL"])
def test_a_control_character_in_a_quoted_email_gets_a_message(client, char):
    """Django's email check allows control characters inside a quoted "local part"."""
    response = client.post(
        url_of("consultation"), data_for("consultation", email=f'"te{char}st"@example.com')
    )
    assert_refused(response, client, "consultation", "email")


# 6. Line breaks in names and emails ----------------------------------------------------------

LINE_BREAKS = {
    "CRLF": "Test\r\nPatient",
    "LF": "Test\nPatient",
    "CR": "Test\rPatient",
    "header": "Test\r\nBcc: someone@example.com",
}
LINE_BREAK_FIELDS = [
    ("consultation", "name"),
    ("call_back", "name"),
    ("consultation", "email"),
    ("login", "username"),
]


@pytest.mark.parametrize("value", LINE_BREAKS.values(), ids=LINE_BREAKS)
@pytest.mark.parametrize(("form", "field"), LINE_BREAK_FIELDS)
def test_a_line_break_in_a_name_or_email_gets_a_message(client, form, field, value):
    if field == "email":
        value = value.replace("Test", "test@example.com", 1).replace("Patient", "x@example.com")
    response = client.post(url_of(form), data_for(form, **{field: value}))
    assert_refused(response, client, form, field)


@pytest.mark.parametrize("form", PUBLIC)
def test_line_breaks_in_the_reason_are_kept(client, form):
    """The reason box is several lines: line breaks there are normal writing."""
    reason = "Back pain.\r\nWorse at night."
    response = client.post(url_of(form), data_for(form, reason=reason))
    assert_stored(response, "reason", reason)


# 7. HTML and script ------------------------------------------------------------------------

PAYLOADS = {
    "script": "<script>alert(1)</script>",
    "attribute": '"><img src=x onerror=alert(1)>',
    "textarea": "</textarea><script>alert(1)</script>",
    "svg": "<svg/onload=alert(1)>",
    "js-url": "javascript:alert(1)//",
    "template": "{{ 7|add:7 }}{% debug %}",
    "sql": "x' OR '1'='1'; DROP TABLE appointments_request; --",
}
HTML_FIELDS = FREE_TEXT_FIELDS


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS)
@pytest.mark.parametrize(("form", "field"), HTML_FIELDS)
def test_html_is_shown_back_escaped_and_stored_as_plain_text(client, form, field, payload):
    # With a mistake elsewhere the form comes back: the text is in it, escaped.
    broken = {"safety_fever": "maybe"}
    response = client.post(url_of(form), data_for(form, **{field: payload}, **broken))
    assert_refused(response, client, form, "safety_fever")
    page = html(response)
    # Shown as the text typed (escaped), never run as HTML or as a template.
    assert escape(payload) in page
    if "<" in payload:
        assert payload not in page
    # Sent again without the mistake, it is stored as typed: it is only text.
    response = client.post(url_of(form), data_for(form, **{field: payload}))
    assert_stored(response, field, payload)


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS)
def test_html_as_a_user_name_is_refused_and_shown_back_escaped(client, payload):
    response = client.post(url_of("login"), data_for("login", username=payload))
    assert_refused(response, client, "login")
    if "<" in payload:
        assert payload not in html(response)


@pytest.mark.parametrize(
    "email", ["<script>@example.com", "test@<script>.com", "test@example.com<script>"]
)
def test_html_in_an_email_gets_a_message(client, email):
    response = client.post(url_of("consultation"), data_for("consultation", email=email))
    assert_refused(response, client, "consultation", "email")
    assert "<script>" not in html(response)


# 8. Right-to-left and emoji text -------------------------------------------------------------

WORLD_TEXT = {
    "arabic": "محمد الأحمد",
    "hebrew": "דוד כהן",
    "mixed-direction": "Test مريض Patient",
    "rtl-mark": "Test\u200fPatient",
    "emoji": "Test 😀 Patient",
    "emoji-zwj": "Test 👩‍⚕️ Patient",
    "accents": "Zoë Ångström-Ñúñez",
    "chinese": "李小龙",
}


@pytest.mark.parametrize("text", WORLD_TEXT.values(), ids=WORLD_TEXT)
@pytest.mark.parametrize(
    ("form", "field"),
    [("consultation", "name"), ("call_back", "name"), ("consultation", "reason")],
)
def test_other_alphabets_and_emoji_are_valid_and_kept_exactly(client, form, field, text):
    response = client.post(url_of(form), data_for(form, **{field: text}))
    assert_stored(response, field, text)


DIRECTION_OVERRIDES = {"RLO": "Test\u202etneitaP\u202c", "isolate": "Test \u2066Patient\u2069"}


@pytest.mark.parametrize("text", DIRECTION_OVERRIDES.values(), ids=DIRECTION_OVERRIDES)
@pytest.mark.parametrize(
    ("form", "field"),
    [
        ("consultation", "name"),
        ("call_back", "name"),
        ("consultation", "referring_doctor"),
    ],
)
def test_a_direction_override_in_a_name_gets_a_message(client, form, field, text):
    """Invisible marks that reverse how text is shown could disguise a name in the admin."""
    response = client.post(url_of(form), data_for(form, **{field: text}))
    assert_refused(response, client, form, field)


@pytest.mark.parametrize("email", ["😀@example.com", "محمد@example.com", "test@exa mple.com"])
def test_emoji_or_arabic_letters_in_an_email_get_a_message(client, email):
    response = client.post(url_of("consultation"), data_for("consultation", email=email))
    assert_refused(response, client, "consultation", "email")


@pytest.mark.parametrize("username", ["محمد", "😀", "frontdesk\u202e"])
def test_rtl_or_emoji_user_names_are_refused(client, username):
    response = client.post(
        url_of("login"), data_for("login", username=username, password=STAFF_PASSWORD)
    )
    assert_refused(response, client, "login")


# 9. Invalid phone numbers and emails -------------------------------------------------------

INVALID_PHONES = [
    "12",
    "phone",
    "555-0101",
    "+1 202",
    "(202) 555-010",
    "0000000000",
    "(202) 555-0101-0101-0101",
    "+999 1234 5678",
    "1-800-FLOWERS-NOW-PLEASE",
]


@pytest.mark.parametrize("phone", INVALID_PHONES)
@pytest.mark.parametrize("form", PUBLIC)
def test_an_invalid_phone_number_gets_a_message(client, form, phone):
    response = client.post(url_of(form), data_for(form, phone=phone))
    assert_refused(response, client, form, "phone")
    assert "Enter a phone number with the area code" in html(response)


INVALID_EMAILS = [
    "plainaddress",
    "@example.com",
    "test@",
    "test@example",
    "test..one@example.com",
    "test@example..com",
    "test one@example.com",
    "<test@example.com>",
    "test@example.com, other@example.com",
    "test@-example.com",
    "test@exam_ple.com",
    "test@[300.1.1.1]",
]


@pytest.mark.parametrize("email", INVALID_EMAILS)
def test_an_invalid_email_gets_a_message(client, email):
    response = client.post(url_of("consultation"), data_for("consultation", email=email))
    assert_refused(response, client, "consultation", "email")
    assert "Enter an email address like name@example.com." in html(response)


INVALID_CHOICES = [
    ("consultation", "contact_method", "fax"),
    ("consultation", "preferred_time", "midnight"),
    ("consultation", "patient_type", "other"),
    ("consultation", "procedure", "no-such-procedure"),
    ("consultation", "voicemail_ok", "maybe"),
    ("consultation", "safety_pump_alarm", "maybe"),
    ("consultation", "safety_fever", ""),
    ("call_back", "preferred_time", "midnight"),
    ("call_back", "safety_breathing", "perhaps"),
    ("call_back", "safety_withdrawal", "1"),
]


@pytest.mark.parametrize(("form", "field", "value"), INVALID_CHOICES)
def test_an_invalid_choice_gets_a_message(client, form, field, value):
    response = client.post(url_of(form), data_for(form, **{field: value}))
    assert_refused(response, client, form, field)


# 10. Wrong methods ------------------------------------------------------------------------

WRONG_METHODS = ["put", "patch", "delete", "trace", "propfind"]


def send_with(client, method, url, data):
    body = "&".join(f"{key}={value}" for key, value in data.items())
    return client.generic(
        method.upper(), url, body, content_type="application/x-www-form-urlencoded"
    )


@pytest.mark.parametrize("method", WRONG_METHODS)
@pytest.mark.parametrize("form", PUBLIC)
def test_a_wrong_method_on_a_public_form_gets_405(client, form, method):
    response = send_with(client, method, url_of(form), data_for(form, started="x"))
    assert response.status_code == 405
    assert_nothing_stored(client, form)


@pytest.mark.parametrize("method", WRONG_METHODS)
def test_a_wrong_method_on_the_sign_in_is_refused(client, method):
    response = send_with(
        client, method, url_of("login"), data_for("login", password=STAFF_PASSWORD)
    )
    # PUT shows the form again (Django's LoginView reads only POST data): "required".
    assert_refused(response, client, "login")
    if method != "put":
        assert response.status_code == 405


# 11. Stale or forged form timestamps --------------------------------------------------------


def stale_token(hours):
    return start_token(time.time() - hours * 3600)


TIMESTAMPS_REFUSED = {
    "stale-73h": lambda: stale_token(settings.REQUEST_FORM_MAX_AGE_HOURS + 1),
    "stale-1-year": lambda: stale_token(24 * 365),
}
TIMESTAMPS_GIVEN_BACK = {
    "tampered": lambda: old_token()[:-3] + "abc",
    "other-salt": lambda: signing.dumps(time.time() - 60, salt="something.else"),
    "other-key": lambda: signing.dumps(time.time() - 60, key="not-our-key", salt=TOKEN_SALT),
    "not-a-number": lambda: signing.dumps("yesterday", salt=TOKEN_SALT),
    "no-time": lambda: signing.dumps({"n": "nonce-only"}, salt=TOKEN_SALT),
    "time-not-a-number": lambda: signing.dumps({"t": "yesterday", "n": "x"}, salt=TOKEN_SALT),
    "too-fast": lambda: start_token(time.time() - 1),
    "from-the-future": lambda: start_token(time.time() + 3600),
    "empty": lambda: "",
    "missing": lambda: None,
    "garbage": lambda: "<script>alert(1)</script>",
    "huge": lambda: "A" * 10_000,
}


@pytest.mark.parametrize("token", TIMESTAMPS_REFUSED.values(), ids=TIMESTAMPS_REFUSED)
@pytest.mark.parametrize("form", PUBLIC)
def test_a_stale_form_timestamp_gets_a_message(client, form, token):
    response = client.post(url_of(form), data_for(form, started=token()))
    assert_refused(response, client, form, "started")
    assert "This page was open for a long time" in html(response)


@pytest.mark.parametrize("token", TIMESTAMPS_GIVEN_BACK.values(), ids=TIMESTAMPS_GIVEN_BACK)
@pytest.mark.parametrize("form", PUBLIC)
def test_a_forged_or_too_fresh_form_timestamp_gives_the_form_back(client, form, token):
    response = client.post(url_of(form), data_for(form, started=token()))
    assert_given_back(response, client, form)


@pytest.mark.parametrize("form", PUBLIC)
def test_a_filled_honeypot_is_discarded(client, form):
    response = client.post(url_of(form), data_for(form, website="https://spam.example"))
    assert_discarded(response, form)


# 12. Odd encodings and content types ---------------------------------------------------------

ENCODINGS = {
    "invalid-utf8": ("application/x-www-form-urlencoded", b"name=%FF%FE%00&reason=%C0%AF"),
    "raw-bytes": ("application/x-www-form-urlencoded", b"name=\xff\xfe&username=\xc3\x28"),
    "unknown-charset": ("application/x-www-form-urlencoded; charset=no-such-charset", b"a=b"),
    "json": ("application/json", b'{"name": "<script>", "username": "frontdesk"}'),
    "text-plain": ("text/plain", b"name=Test"),
    "only-separators": ("application/x-www-form-urlencoded", b"&&&===&=&"),
    "broken-multipart": ("multipart/form-data; boundary=x", b"--x\r\nbroken\r\n--x--"),
    "multipart-no-boundary": ("multipart/form-data", b"name=Test"),
}


@pytest.mark.parametrize(("content_type", "body"), ENCODINGS.values(), ids=ENCODINGS)
@pytest.mark.parametrize("form", FORMS)
def test_odd_encodings_and_content_types_are_refused(client, form, content_type, body):
    response = client.generic("POST", url_of(form), body, content_type=content_type)
    assert response.status_code < 500
    assert_nothing_stored(client, form)
    if form == "login":
        assert_refused(response, client, form)
    elif response.status_code == 200:
        assert_refused(response, client, form)  # no form timestamp, nothing else: form back
        assert not DiscardedSend.objects.exists()
    else:
        assert response.status_code == 400


# Where staff see stored text: escaped in the admin, neutralised in the CSV ----------------

SCRIPT = "<script>alert(1)</script>"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture
def hostile_request(client, superuser):
    """A request sent through the public form with script in every text box."""
    Procedure.objects.create(
        title="Pump <b>test</b>", slug="pump", summary="A pump.", status="published"
    )
    response = client.post(
        url_of("consultation"),
        data_for(
            "consultation",
            name=SCRIPT,
            email='"<script>alert(1)</script>"@example.com',
            reason="</textarea>" + SCRIPT,
            referring_doctor='"><img src=x onerror=alert(1)>',
            language="<svg/onload=alert(1)>",
            procedure="pump",
        ),
    )
    assert response.status_code == 302
    return Request.objects.get()


HOSTILE_STRINGS = [
    SCRIPT,
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    "</textarea><script>",
    "<b>test</b>",
]


def assert_escaped(page):
    for raw in HOSTILE_STRINGS:
        assert raw not in page, f"unescaped: {raw}"


def test_the_admin_list_shows_hostile_text_escaped(front_desk_client, hostile_request):
    response = front_desk_client.get(
        reverse("admin:appointments_request_changelist"), {"q": SCRIPT}
    )
    page = html(response)
    assert hostile_request.reference in page  # the search found it
    assert_escaped(page)
    assert ESCAPED_SCRIPT in page  # the search box shows what was typed


def test_the_admin_change_page_shows_hostile_text_escaped(
    front_desk_client, front_desk, hostile_request
):
    ContactAttempt.objects.create(
        request=hostile_request, outcome="reached", notes=SCRIPT, called_by=front_desk
    )
    url = reverse("admin:appointments_request_change", args=[hostile_request.pk])
    page = html(front_desk_client.get(url))
    assert_escaped(page)
    assert page.count(ESCAPED_SCRIPT) >= 3  # name, email, reason, call notes
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page


def test_the_admin_history_shows_hostile_text_escaped(superuser_client, superuser, hostile_request):
    superuser.first_name = SCRIPT
    superuser.save()
    url = reverse("admin:appointments_request_change", args=[hostile_request.pk])
    response = superuser_client.post(
        url,
        {
            "status": "contacted",
            "closing_reason": "",
            "assigned_to": superuser.pk,
            "next_follow_up": "",
            "staff_notes": SCRIPT,
            "seen_version": hostile_request.version,
            "attempts-TOTAL_FORMS": "0",
            "attempts-INITIAL_FORMS": "0",
            "events-TOTAL_FORMS": "0",
            "events-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert hostile_request.events.filter(action="notes").exists()
    for page_url in (url, reverse("admin:appointments_request_history", args=[hostile_request.pk])):
        page = html(superuser_client.get(page_url))
        assert_escaped(page)
    assert ESCAPED_SCRIPT in page  # the staff member's name on the history page


FORMULAS = [
    '=HYPERLINK("http://evil.example","x")',
    "+1+1",
    "-1+1",
    "@SUM(1+1)",
    "=cmd|' /C calc'!A0",
]


@pytest.mark.parametrize("formula", FORMULAS)
def test_the_csv_export_neutralises_spreadsheet_formulas(client, front_desk_client, formula):
    response = client.post(
        url_of("consultation"),
        data_for("consultation", name=formula, email="=1+1@example.com"),
    )
    assert response.status_code == 302
    export = front_desk_client.get(reverse("admin:appointments_request_export"), {"show": "all"})
    assert export.status_code == 200
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    assert len(rows) == 2
    for cell in rows[1]:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert "'" + formula in rows[1]
    assert "'=1+1@example.com" in rows[1]
