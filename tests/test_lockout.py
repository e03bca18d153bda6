"""Staff sign-in lockout (django-axes): wrong passwords pause sign-in for a while.

Five wrong passwords within 15 minutes pause one user name (from any address), and
pause one address (for any user name). An IPv6 address counts with its whole /64, an
IPv4 address alone: the form rate limit's rule (appointments.ratelimit.client_network).

These tests post the real admin sign-in form. (Django's `client.login()` passes no
request, which django-axes needs; other tests use `force_login`.)
"""

import io
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
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
    # Two locks, each on its own: one user name from anywhere; one address, any user name.
    assert settings.AXES_LOCKOUT_PARAMETERS == ["username", "ip_address"]
    assert settings.AXES_CLIENT_IP_CALLABLE == "appointments.ratelimit.client_network"


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


def test_another_user_from_the_same_address_is_locked_out_too(client, front_desk, editor):
    fail(client, "frontdesk", 5)
    response = sign_in(client, "editor", PASSWORD)
    assert response.status_code == 429
    assert not signed_in(client)


def test_the_same_user_from_another_address_is_locked_out_too(client, front_desk):
    fail(client, "frontdesk", 5)
    response = sign_in(client, "frontdesk", PASSWORD, REMOTE_ADDR="198.51.100.20")
    assert response.status_code == 429
    assert not signed_in(client)


def test_one_user_name_is_locked_after_five_tries_from_five_addresses(client, front_desk, editor):
    addresses = [f"198.51.100.{n}" for n in range(1, 6)]
    responses = [
        sign_in(client, "frontdesk", "wrong-password", REMOTE_ADDR=address) for address in addresses
    ]
    assert [response.status_code for response in responses] == [200, 200, 200, 200, 429]
    elsewhere = {"REMOTE_ADDR": "192.0.2.44"}
    assert sign_in(client, "frontdesk", PASSWORD, **elsewhere).status_code == 429
    # The pause is on that user name, not on those addresses.
    assert sign_in(client, "editor", PASSWORD, REMOTE_ADDR=addresses[0]).status_code == 302


def test_one_address_trying_many_accounts_is_locked_before_the_end(client, django_user_model):
    """4 tries on each of 7 accounts from one address: the old lock never fired."""
    names = [f"staff{n}" for n in range(7)]
    for name in names:
        django_user_model.objects.create_user(name, password=PASSWORD, is_staff=True)
    statuses = [
        sign_in(client, name, "wrong-password").status_code for name in names for _ in range(4)
    ]
    assert statuses[:4] == [200] * 4
    assert statuses[4] == 429  # the fifth wrong password, on the second account
    assert set(statuses[5:]) == {429}
    # Even a right password of an account not tried yet waits, from that address.
    django_user_model.objects.create_user("staff-new", password=PASSWORD, is_staff=True)
    assert sign_in(client, "staff-new", PASSWORD).status_code == 429
    assert sign_in(client, "staff-new", PASSWORD, REMOTE_ADDR="192.0.2.44").status_code == 302


def test_addresses_in_one_ipv6_64_count_as_one(client, django_user_model, editor):
    """Twelve addresses of one /64 each got five tries under the old lock."""
    network = "2001:db8:1:2"
    names = [f"guess{n}" for n in range(12)]  # a new user name each time: only the /64 counts
    statuses = [
        sign_in(client, name, "wrong-password", REMOTE_ADDR=f"{network}::{n + 1:x}").status_code
        for n, name in enumerate(names)
    ]
    assert statuses[:4] == [200] * 4
    assert set(statuses[4:]) == {429}
    # Any address in that /64, even one far from the others, waits.
    far = f"{network}:ffff:ffff:ffff:fffe"
    assert sign_in(client, "editor", PASSWORD, REMOTE_ADDR=far).status_code == 429
    # The next /64 is someone else.
    response = sign_in(client, "editor", PASSWORD, REMOTE_ADDR="2001:db8:1:3::1")
    assert response.status_code == 302
    # Stored as the /64 (its first address); tries while paused are not counted.
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"2001:db8:1:2::"}
    assert AccessAttempt.objects.count() == 5


def test_an_ipv4_neighbour_is_not_locked_by_another_ipv4_address(client, editor):
    for n in range(5):
        sign_in(client, f"guess{n}", "wrong-password", REMOTE_ADDR="203.0.113.7")
    assert sign_in(client, "editor", PASSWORD, REMOTE_ADDR="203.0.113.7").status_code == 429
    response = sign_in(client, "editor", PASSWORD, REMOTE_ADDR="203.0.113.8")
    assert response.status_code == 302
    assert signed_in(client)


def test_behind_a_proxy_the_lockout_follows_the_client_not_the_proxy(client, editor, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    locked, other = "203.0.113.7", "203.0.113.8"  # two clients behind one proxy
    for n in range(5):
        sign_in(client, f"guess{n}", "wrong-password", HTTP_X_FORWARDED_FOR=locked)
    assert sign_in(client, "editor", PASSWORD, HTTP_X_FORWARDED_FOR=locked).status_code == 429
    response = sign_in(client, "editor", PASSWORD, HTTP_X_FORWARDED_FOR=other)
    assert response.status_code == 302


def test_a_right_password_from_the_address_clears_its_count(client, front_desk, editor):
    """A shared office address pauses only after five wrong passwords in a row."""
    fail(client, "frontdesk", 4)
    assert sign_in(client, "editor", PASSWORD).status_code == 302
    client.logout()
    responses = fail(client, "frontdesk", 4)
    assert [response.status_code for response in responses] == [200] * 4


def test_a_superuser_can_end_a_pause_at_once(client, front_desk):
    fail(client, "frontdesk", 5)
    assert sign_in(client, "frontdesk", PASSWORD).status_code == 429
    call_command("axes_reset", stdout=io.StringIO())
    assert sign_in(client, "frontdesk", PASSWORD).status_code == 302


def test_after_the_cool_off_the_right_password_works(client, front_desk):
    fail(client, "frontdesk", 5)
    wind_back(minutes=14)
    assert sign_in(client, "frontdesk", PASSWORD).status_code == 429
    wind_back(minutes=2)

    response = sign_in(client, "frontdesk", PASSWORD)

    assert response.status_code == 302
    assert signed_in(client)


def test_after_the_cool_off_an_address_locked_across_names_signs_in_again(client, editor):
    for n in range(5):
        sign_in(client, f"guess{n}", "wrong-password")
    assert sign_in(client, "editor", PASSWORD).status_code == 429
    wind_back(minutes=16)
    assert sign_in(client, "editor", PASSWORD).status_code == 302


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
    # That (cut) name and this address wait; the real account, elsewhere, does not.
    assert sign_in(client, "frontdesk", PASSWORD, REMOTE_ADDR="192.0.2.44").status_code == 302
