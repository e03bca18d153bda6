"""Staff sign-in lockout (django-axes): wrong passwords pause sign-in for a while.

These tests post the real admin sign-in form. (Django's `client.login()` passes no
request, which django-axes needs; other tests use `force_login`.)
"""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.db.models import F
from django.urls import reverse

from education.readability import grade

pytestmark = pytest.mark.django_db

LOGIN = reverse("admin:login")
PASSWORD = "test-password-123"


def sign_in(client, username, password, **extra):
    return client.post(
        LOGIN, {"username": username, "password": password, "next": "/admin/"}, **extra
    )


def signed_in(client):
    return "_auth_user_id" in client.session


def fail(client, username, times, **extra):
    return [sign_in(client, username, "wrong-password", **extra) for _ in range(times)]


def wind_back(minutes):
    """As if every recorded failure happened `minutes` earlier."""
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=minutes))


def test_the_defaults_are_five_tries_and_fifteen_minutes(settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    assert timedelta(hours=settings.AXES_COOLOFF_TIME) == timedelta(minutes=15)
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_five_wrong_passwords_then_even_the_right_one_is_refused(client, front_desk):
    responses = fail(client, "frontdesk", 5)
    assert [response.status_code for response in responses] == [200, 200, 200, 200, 429]
    assert "Please enter the correct username and password" in responses[0].content.decode()

    response = sign_in(client, "frontdesk", PASSWORD)

    assert response.status_code == 429
    assert "Sign-in paused" in response.content.decode()
    assert not signed_in(client)


def test_four_wrong_passwords_do_not_lock_anyone_out(client, front_desk):
    fail(client, "frontdesk", 4)
    response = sign_in(client, "frontdesk", PASSWORD)
    assert response.status_code == 302
    assert signed_in(client)


def test_another_user_from_the_same_address_is_not_locked_out(client, front_desk, editor):
    fail(client, "frontdesk", 5)
    response = sign_in(client, "editor", PASSWORD)
    assert response.status_code == 302
    assert signed_in(client)


def test_the_same_user_from_another_address_is_not_locked_out(client, front_desk):
    fail(client, "frontdesk", 5)
    response = sign_in(client, "frontdesk", PASSWORD, REMOTE_ADDR="198.51.100.20")
    assert response.status_code == 302
    assert signed_in(client)


def test_behind_a_proxy_the_lockout_follows_the_client_not_the_proxy(client, front_desk, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    locked, other = "203.0.113.7", "203.0.113.8"  # two clients behind one proxy
    fail(client, "frontdesk", 5, HTTP_X_FORWARDED_FOR=locked)
    assert sign_in(client, "frontdesk", PASSWORD, HTTP_X_FORWARDED_FOR=locked).status_code == 429
    response = sign_in(client, "frontdesk", PASSWORD, HTTP_X_FORWARDED_FOR=other)
    assert response.status_code == 302


def test_after_the_cool_off_the_right_password_works(client, front_desk):
    fail(client, "frontdesk", 5)
    wind_back(minutes=14)
    assert sign_in(client, "frontdesk", PASSWORD).status_code == 429
    wind_back(minutes=2)

    response = sign_in(client, "frontdesk", PASSWORD)

    assert response.status_code == 302
    assert signed_in(client)


def test_tries_while_locked_out_do_not_restart_the_wait(client, front_desk):
    fail(client, "frontdesk", 5)
    wind_back(minutes=10)
    fail(client, "frontdesk", 3)  # still locked: these are refused, not counted
    wind_back(minutes=6)
    assert sign_in(client, "frontdesk", PASSWORD).status_code == 302


def test_the_right_password_clears_the_count(client, front_desk):
    fail(client, "frontdesk", 4)
    assert sign_in(client, "frontdesk", PASSWORD).status_code == 302
    client.logout()
    responses = fail(client, "frontdesk", 4)
    assert [response.status_code for response in responses] == [200] * 4
    assert sign_in(client, "frontdesk", PASSWORD).status_code == 302


def test_the_lockout_page_is_plain_language_in_the_site_design(client, front_desk):
    response = fail(client, "frontdesk", 5)[-1]
    page = response.content.decode()
    assert response.status_code == 429
    assert 'href="#main"' in page  # the site's own layout, with its skip link
    assert "Wait 15 minutes. Then try again." in page
    assert "frontdesk" not in page  # the user name typed is not repeated
    main = page.split("<main", 1)[1].split("</main>", 1)[0]
    text = " ".join(part.split(">", 1)[-1] for part in main.split("<"))
    assert grade(text) <= 8


def test_axes_keeps_no_password_and_only_attempts_within_the_cool_off(client, front_desk):
    fail(client, "frontdesk", 2)
    attempt = AccessAttempt.objects.get()
    assert "wrong-password" not in attempt.post_data
    assert attempt.failures_since_start == 2
    wind_back(minutes=16)
    fail(client, "frontdesk", 1)  # any new attempt clears the expired ones first
    assert AccessAttempt.objects.get().failures_since_start == 1


def test_a_user_name_too_long_for_any_account_is_counted_cut_to_size(client, front_desk):
    """Axes stores user names in 255 characters: a longer one was a 500 on PostgreSQL."""
    long_name = "frontdesk" + "x" * 20_000
    responses = fail(client, long_name, 5)
    assert [response.status_code for response in responses] == [200, 200, 200, 200, 429]
    assert AccessAttempt.objects.get().username == long_name[:150]
    assert sign_in(client, "frontdesk", PASSWORD).status_code == 302
