"""Staff sessions end after a quiet spell, when the browser closes, and when the account
is switched off; public pages make no session at all."""

import datetime

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.education.factories import make_procedure
from tests.test_admin_access import sign_in
from tests.test_settings import SETUP, run_python

pytestmark = pytest.mark.django_db

ADMIN = reverse("admin:index")
LOGIN = reverse("admin:login")


def password_login(client, username):
    response = client.post(
        LOGIN, {"username": username, "password": "test-password-123", "next": ADMIN}
    )
    assert response.status_code == 302
    return response


def stored_session(client):
    return Session.objects.get(
        session_key=client.cookies[django_settings.SESSION_COOKIE_NAME].value
    )


def idle_for(client, minutes):
    """Move the stored session as if its last request was `minutes` ago."""
    session = stored_session(client)
    last_request = timezone.now() - datetime.timedelta(minutes=minutes)
    session.expire_date = last_request + datetime.timedelta(
        seconds=django_settings.SESSION_COOKIE_AGE
    )
    session.save()


def signed_in(client):
    response = client.get(ADMIN)
    if response.status_code == 200:
        return True
    assert response["Location"].startswith(LOGIN)
    return False


# Idle time.


def test_the_idle_limit_is_30_minutes_unless_set():
    show = SETUP + "from django.conf import settings as s; print(s.SESSION_COOKIE_AGE)"
    assert run_python(show, DEBUG="true").stdout.strip() == str(30 * 60)
    assert run_python(show, DEBUG="true", SESSION_IDLE_MINUTES="10").stdout.strip() == str(10 * 60)


def test_a_staff_session_idle_past_the_limit_is_signed_out(client, front_desk):
    password_login(client, "frontdesk")
    idle_for(client, 31)
    assert not signed_in(client)


def test_a_staff_session_idle_just_under_the_limit_still_works(client, front_desk):
    password_login(client, "frontdesk")
    idle_for(client, 29)
    assert signed_in(client)


def test_each_request_starts_the_idle_clock_again(client, front_desk):
    password_login(client, "frontdesk")
    idle_for(client, 29)
    assert signed_in(client)
    # That request counted as activity: 29 more quiet minutes are fine again ...
    expires = stored_session(client).expire_date
    limit = datetime.timedelta(seconds=django_settings.SESSION_COOKIE_AGE)
    assert expires > timezone.now() + limit - datetime.timedelta(seconds=30)
    idle_for(client, 29)
    assert signed_in(client)
    # ... and 31 are not.
    idle_for(client, 31)
    assert not signed_in(client)


def test_the_idle_limit_follows_the_setting(client, front_desk, settings):
    settings.SESSION_COOKIE_AGE = 5 * 60
    password_login(client, "frontdesk")
    idle_for(client, 6)
    assert not signed_in(client)


def test_the_session_cookie_ends_when_the_browser_closes(client, front_desk):
    response = password_login(client, "frontdesk")
    cookie = response.cookies[django_settings.SESSION_COOKIE_NAME]
    assert cookie.value
    assert not cookie["max-age"] and not cookie["expires"]
    assert cookie["httponly"]


# Public pages.


@pytest.mark.parametrize("url", ["/", "/procedures/", "/procedures/test-pump/", "/glossary/"])
def test_reading_public_pages_makes_no_session_and_sets_no_cookie(client, url):
    make_procedure()
    response = client.get(url)
    assert response.status_code == 200
    assert not response.cookies
    assert not Session.objects.exists()


# Switching an account off.


def test_switching_off_an_account_ends_its_open_session_at_once(client, front_desk):
    password_login(client, "frontdesk")
    assert signed_in(client)
    # django-axes' backend comes first but only watches logins; the session belongs to
    # Django's ModelBackend, which loads no inactive user.
    assert django_settings.AUTHENTICATION_BACKENDS[0].startswith("axes.")
    assert client.session[BACKEND_SESSION_KEY] == "django.contrib.auth.backends.ModelBackend"
    front_desk.is_active = False
    front_desk.save()
    assert not signed_in(client)
    assert client.get(reverse("admin:appointments_request_changelist"))["Location"].startswith(
        LOGIN
    )


def test_a_switched_off_account_cannot_sign_in_again(client, front_desk):
    front_desk.is_active = False
    front_desk.save()
    response = client.post(
        LOGIN, {"username": "frontdesk", "password": "test-password-123", "next": ADMIN}
    )
    assert response.status_code == 200  # the login form again, with an error
    assert not signed_in(client)


def test_switching_off_a_two_factor_verified_session_ends_it_too(client, editor, settings):
    settings.STAFF_TWO_FACTOR_REQUIRED = True
    sign_in(client, editor, TOTPDevice.objects.create(user=editor, name="Phone", confirmed=True))
    assert signed_in(client)
    editor.is_active = False
    editor.save()
    assert not signed_in(client)
