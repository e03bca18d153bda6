"""Property tests (Hypothesis): no input makes a public form or the sign-in answer 500.

Each form gets any mix of its own fields, filled with anything (valid values, any
text, huge text, NUL and control characters), plus unknown fields. The answer must be
the confirmation (valid, a honeypot hit, or the same form sent again), the form again
with a message and nothing stored, or a 4xx. The sign-in must never let a wrong password in.
"""

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appointments.forms import SAFETY_FIELDS, token_key
from appointments.models import Request

from .appointments import factories
from .appointments.factories import consultation_data, form_as_sent, old_token

pytestmark = pytest.mark.django_db


def call_back_data(**overrides):
    """The factory's call-back, with the two questions the form now asks every time."""
    return factories.call_back_data(**{"patient_type": "new", "voicemail_ok": "yes", **overrides})


# Hypothesis runs many examples inside one test (and one database transaction); the
# fixtures used (client, settings, the database) are safe to share between examples.
PROPERTY = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

anything = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(max_codepoint=0x9F)),  # ASCII and control characters
    st.text(min_size=100, max_size=2000),
    st.sampled_from(["", " ", "\x00", "yes", "no", "on", "0", "<script>alert(1)</script>"]),
)


def form_values(valid):
    """Per field: the valid value, or anything at all."""
    return st.fixed_dictionaries(
        {}, optional={field: st.one_of(st.just(value), anything) for field, value in valid.items()}
    )


def public_form_data(factory):
    valid = factory()
    return st.tuples(
        form_values(valid),
        st.sets(st.sampled_from(sorted(valid)), max_size=3),  # fields to leave out
        st.dictionaries(st.text(min_size=1, max_size=20), anything, max_size=3),  # extras
        st.booleans(),  # a real form timestamp, or whatever was drawn
    ).map(lambda parts: build(valid, *parts))


def build(valid, chosen, missing, extra, real_token):
    data = {**extra, **valid, **chosen}
    for field in missing:
        data.pop(field, None)
    # A form token is used once: the valid one drawn here (shared by every example)
    # would make each send after the first a replay of it. Each example gets its own.
    if real_token or data.get("started") == valid["started"]:
        data["started"] = old_token()
    return data


def assert_no_500_and_nothing_stored_unless_accepted(client, url, data):
    before = Request.objects.count()
    response = client.post(url, data)
    assert response.status_code < 500
    if response.status_code == 200:
        assert form_as_sent(response).errors
        assert "There is a problem" in response.content.decode()
        assert Request.objects.count() == before
    elif response.status_code == 302:
        assert "/appointments/thanks/" in response["Location"]
        assert Request.objects.count() <= before + 1  # a valid send makes one request at most
    else:
        assert 400 <= response.status_code < 500
        assert Request.objects.count() == before
    return response


@pytest.fixture
def no_rate_limit(settings):
    # Sixty sends from one address in one test: lift the limit here (it has its own tests).
    settings.REQUEST_RATE_LIMIT = 10_000


@PROPERTY
@given(data=public_form_data(consultation_data))
def test_no_consultation_form_input_gives_a_500(client, no_rate_limit, data):
    assert_no_500_and_nothing_stored_unless_accepted(
        client, reverse("appointments:consultation"), data
    )


@PROPERTY
@given(data=public_form_data(call_back_data))
def test_no_call_back_form_input_gives_a_500(client, no_rate_limit, data):
    assert_no_500_and_nothing_stored_unless_accepted(
        client, reverse("appointments:call_back"), data
    )


@PROPERTY
@given(
    username=st.one_of(st.just("frontdesk"), anything),
    password=st.one_of(st.just("wrong-password"), anything),
    extra=st.dictionaries(st.text(min_size=1, max_size=20), anything, max_size=3),
)
def test_no_sign_in_input_gives_a_500_or_lets_a_wrong_password_in(
    client, front_desk, username, password, extra
):
    response = client.post(
        reverse("admin:login"), {**extra, "username": username, "password": password}
    )
    assert response.status_code in (200, 429)  # the form with a message, or locked out
    assert "_auth_user_id" not in client.session


@PROPERTY
@given(
    safety=st.lists(
        st.sampled_from(["yes", "no", "no_pump", "", "\x00", "maybe"]), min_size=4, max_size=4
    ),
    has_pump=st.sampled_from(["has_pump", "new", "", "maybe"]),
)
def test_any_safety_answer_mix_gives_no_500(client, no_rate_limit, safety, has_pump):
    answers = dict(zip(SAFETY_FIELDS, safety, strict=True))
    data = call_back_data(patient_type=has_pump, **answers)
    response = assert_no_500_and_nothing_stored_unless_accepted(
        client, reverse("appointments:call_back"), data
    )
    if response.status_code == 302:
        # A yes, and only a yes, makes a request urgent ("I don't have a pump" is a no).
        saved = Request.objects.get(submission_token=token_key(data["started"]))
        assert saved.urgent == ("yes" in safety)
        assert [getattr(saved, name) for name in SAFETY_FIELDS] == [a == "yes" for a in safety]
    if has_pump == "has_pump" and "no_pump" in safety[:2]:
        assert response.status_code == 200  # a pump, but "I don't have a pump": no answer
