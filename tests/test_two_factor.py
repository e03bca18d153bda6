"""Two-step sign-in for staff: password, then a code from an authenticator app (TOTP).

With STAFF_TWO_FACTOR_REQUIRED on, no admin page opens until the code (or a backup code)
is typed. Someone with neither is told to ask for a set-up link: a password alone sets
nothing up (tests/test_enrolment.py has the links and backup codes). Off (the local
demo, and these tests unless they turn it on), the admin login works with the password
alone.
"""

import base64
import re

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.test_admin_access import admin_pages, make_objects, outcome, persona_user, sign_in
from tests.test_settings import SETUP, run_python

pytestmark = pytest.mark.django_db

PASSWORD = "test-password-123"
ADMIN = reverse("admin:index")
LOGIN = reverse("admin:login")
TWO_FACTOR = reverse("accounts:two_factor")
ENROL = reverse("accounts:enrol")
BACKUP_CODES = reverse("accounts:backup_codes")


@pytest.fixture
def required(settings):
    settings.STAFF_TWO_FACTOR_REQUIRED = True


def code(device, steps_ahead=0):
    """The code the staff member's app shows now (or `steps_ahead` 30-second steps on)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift + steps_ahead)
    return f"{totp.token():0{device.digits}d}"


def wrong_code(device):
    """A code that no time step near now accepts."""
    near = {code(device, steps) for steps in (-2, -1, 0, 1, 2)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in near)


def password_login(client, username, next_url=ADMIN):
    """The real admin login form (django-axes needs the request, so no client.login())."""
    response = client.post(LOGIN, {"username": username, "password": PASSWORD, "next": next_url})
    assert response.status_code == 302, "the password was not accepted"
    return response


def confirmed_device(user):
    return TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)


def no_inline_style_or_script(html):
    assert "style=" not in html
    assert "<style" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)


# The setting.


def test_two_factor_is_required_by_default_with_debug_off_and_not_in_the_local_demo():
    show = SETUP + "from django.conf import settings; print(settings.STAFF_TWO_FACTOR_REQUIRED)"
    production = {
        "DEBUG": "false",
        "SECRET_KEY": "x" * 50,
        "ALLOWED_HOSTS": "clinic.example",
        "ALLOW_SQLITE": "true",
    }
    assert run_python(show, **production).stdout.strip() == "True"
    # An empty value (a copied .env.example line) keeps the default, never turns it off.
    assert run_python(show, STAFF_TWO_FACTOR_REQUIRED="", **production).stdout.strip() == "True"
    assert run_python(show, DEBUG="true").stdout.strip() == "False"
    assert run_python(show, DEBUG="true", STAFF_TWO_FACTOR_REQUIRED="true").stdout == "True\n"
    off = run_python(show, STAFF_TWO_FACTOR_REQUIRED="false", **production)
    assert off.stdout.strip() == "False"


def test_the_local_demo_says_two_factor_is_off(db, settings, capsys):
    settings.DEBUG = True  # the demo command refuses to run without it
    call_command("load_demo_requests")
    assert "Two-step sign-in is off" in capsys.readouterr().out


# Off: the password opens the admin (as the browser tests expect).


def test_with_two_factor_off_the_password_alone_opens_the_admin(client, editor):
    password_login(client, "editor")
    assert client.get(ADMIN).status_code == 200


# On, with nothing set up: a password alone sets nothing up.


def test_with_two_factor_on_a_password_alone_leads_to_the_code_page(required, client, editor):
    password_login(client, "editor")
    response = client.get(ADMIN)
    assert response.status_code == 302
    assert response["Location"] == f"{TWO_FACTOR}?next={ADMIN}"


def test_staff_without_an_app_are_told_to_ask_for_a_set_up_link(required, client, editor):
    password_login(client, "editor")
    response = client.get(TWO_FACTOR)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Ask a superuser for a set-up link" in html
    # No set-up form, no QR code, no key, no code field: nothing to set up here.
    assert 'name="code"' not in html
    assert "data:image/svg" not in html and "setup-key" not in html
    assert f'action="{reverse("admin:logout")}"' in html
    no_inline_style_or_script(html)
    assert not TOTPDevice.objects.filter(user=editor).exists()
    # Posting a code does nothing either.
    assert client.post(TWO_FACTOR, {"code": "123456"}).status_code == 200
    assert client.get(ADMIN).status_code == 302


def test_password_only_set_up_is_no_longer_possible(required, client, editor):
    password_login(client, "editor")
    # The old set-up page is gone: it leads to the code page, which sets nothing up.
    response = client.get("/admin/two-factor/set-up/", follow=True)
    assert response.redirect_chain[-1][0].startswith(TWO_FACTOR)
    assert "Ask a superuser for a set-up link" in response.content.decode()
    # The set-up page without a link: refused, nothing created, admin still closed.
    response = client.get(ENROL)
    assert response.status_code == 404
    assert "This set-up link does not work" in response.content.decode()
    response = client.post(ENROL, {"code": "123456"})
    assert response.status_code == 404
    assert not TOTPDevice.objects.filter(user=editor).exists()
    assert client.get(ADMIN)["Location"].startswith(TWO_FACTOR)


def test_the_code_field_says_a_backup_code_works_too(required, client, front_desk):
    confirmed_device(front_desk)
    password_login(client, "frontdesk")
    html = client.get(TWO_FACTOR).content.decode()
    assert '<label for="id_code">6-digit code or backup code' in html
    field = re.search(r"<input[^>]*name=\"code\"[^>]*>", html).group(0)
    assert 'autocomplete="one-time-code"' in field
    assert 'aria-describedby="id_code_helptext"' in field
    # Backup codes have letters: no number-only keyboard.
    assert "inputmode" not in field
    assert "No phone with you? Type one of your backup codes instead." in html
    assert f'href="{BACKUP_CODES}"' in html
    no_inline_style_or_script(html)


def test_a_wrong_code_is_refused_with_an_error_on_the_field(required, client, front_desk):
    device = confirmed_device(front_desk)
    password_login(client, "frontdesk")
    response = client.post(TWO_FACTOR, {"code": wrong_code(device), "next": ADMIN})
    assert response.status_code == 200
    html = response.content.decode()
    field = re.search(r"<input[^>]*name=\"code\"[^>]*>", html).group(0)
    assert 'aria-invalid="true"' in field
    assert 'aria-describedby="id_code_helptext id_code_error"' in field
    assert re.search(r'id="id_code_error"[^>]*>\s*<li>That code did not work', html)
    assert "<title>Error:" in html
    assert client.get(ADMIN).status_code == 302


def test_something_that_is_not_a_code_is_explained(required, client, front_desk):
    device = confirmed_device(front_desk)
    password_login(client, "frontdesk")
    response = client.post(TWO_FACTOR, {"code": "12ab", "next": ADMIN})
    assert "Type the 6 numbers your app shows" in response.content.decode()
    device.refresh_from_db()
    assert device.throttling_failure_count == 0  # not counted as a guess


def test_spaces_in_a_typed_code_are_ignored(required, client, front_desk):
    device = confirmed_device(front_desk)
    password_login(client, "frontdesk")
    typed = code(device)
    response = client.post(TWO_FACTOR, {"code": f" {typed[:3]} {typed[3:]} ", "next": ADMIN})
    assert response.status_code == 302
    assert client.get(ADMIN).status_code == 200


# On, with an app already set up: the code, every time.


def test_staff_with_an_app_are_asked_for_the_code_not_a_new_setup(required, client, front_desk):
    device = confirmed_device(front_desk)
    password_login(client, "frontdesk")
    page = client.get(TWO_FACTOR + "?next=/admin/appointments/request/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Type your sign-in code" in html
    assert "data:image/svg" not in html and "setup-key" not in html
    no_inline_style_or_script(html)

    response = client.post(
        TWO_FACTOR, {"code": code(device), "next": "/admin/appointments/request/"}
    )
    assert response["Location"] == "/admin/appointments/request/"
    assert client.get("/admin/appointments/request/").status_code == 200


def test_a_code_works_only_once(required, client, front_desk):
    device = confirmed_device(front_desk)
    used = code(device)
    password_login(client, "frontdesk")
    assert client.post(TWO_FACTOR, {"code": used})["Location"] == ADMIN
    client.post(reverse("admin:logout"))
    password_login(client, "frontdesk")
    response = client.post(TWO_FACTOR, {"code": used})
    assert response.status_code == 200
    assert "That code did not work" in response.content.decode()
    # The next code from the app is fine.
    device.refresh_from_db()
    device.throttle_reset()
    assert client.post(TWO_FACTOR, {"code": code(device, steps_ahead=1)}).status_code == 302


def test_guessing_is_slowed_down(required, client, front_desk):
    device = confirmed_device(front_desk)
    password_login(client, "frontdesk")
    client.post(TWO_FACTOR, {"code": wrong_code(device)})
    # Right after a wrong guess even the right code waits.
    response = client.post(TWO_FACTOR, {"code": code(device)})
    assert re.search(r"Too many wrong codes. Wait \d+ seconds?, then", response.content.decode())
    assert client.get(ADMIN).status_code == 302


def test_the_session_gets_a_new_key_when_the_code_is_accepted(required, client, front_desk):
    device = confirmed_device(front_desk)
    password_login(client, "frontdesk")
    before = client.session.session_key
    client.post(TWO_FACTOR, {"code": code(device)})
    assert client.session.session_key != before
    assert client.get(ADMIN).status_code == 200


def test_only_pages_on_this_site_are_followed_after_the_code(required, client, front_desk):
    device = confirmed_device(front_desk)
    password_login(client, "frontdesk")
    response = client.post(TWO_FACTOR, {"code": code(device), "next": "https://evil.example/"})
    assert response["Location"] == ADMIN


def test_the_sign_in_step_pages_need_a_staff_password_first(required, client, django_user_model):
    for url in [TWO_FACTOR, ENROL, BACKUP_CODES]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(LOGIN)
    patient = django_user_model.objects.create_user(username="not-staff", password=PASSWORD)
    client.force_login(patient)
    for url in [TWO_FACTOR, ENROL, BACKUP_CODES]:
        assert client.get(url)["Location"].startswith(LOGIN)
    assert not TOTPDevice.objects.filter(user=patient).exists()


def test_the_code_page_offers_a_way_out_and_help_for_a_lost_phone(required, client, front_desk):
    confirmed_device(front_desk)
    password_login(client, "frontdesk")
    html = client.get(TWO_FACTOR).content.decode()
    assert f'action="{reverse("admin:logout")}"' in html
    assert "Ask a superuser to remove your old app and make you a set-up link" in html


def test_the_sign_in_step_pages_are_never_cached(required, client, front_desk):
    confirmed_device(front_desk)
    password_login(client, "frontdesk")
    for url in [TWO_FACTOR, ENROL, BACKUP_CODES]:
        assert "no-store" in client.get(url)["Cache-Control"], url


# The admin refuses every role until the code is typed.


@pytest.mark.parametrize("persona", ["editor", "reviewer", "frontdesk", "superuser"])
def test_with_two_factor_on_every_admin_page_waits_for_the_code(
    required, client, django_user_model, persona
):
    objects = make_objects(django_user_model)
    user = persona_user(persona, django_user_model)
    confirmed_device(user)  # set up, but no code typed in this session
    not_sent = []
    for page in admin_pages(objects):
        if page.key in {"login", "logout"}:
            continue
        client.logout()
        sign_in(client, user)
        got = outcome(page, getattr(client, page.method)(page.url))
        if got != "to two-factor":
            not_sent.append(f"{page!r}: {got}")
    assert not_sent == []


def test_a_session_verified_by_a_device_of_someone_else_is_not_verified(
    required, client, editor, front_desk
):
    theirs = confirmed_device(front_desk)
    sign_in(client, editor, theirs)
    assert client.get(ADMIN)["Location"].startswith(TWO_FACTOR)


# Resetting a lost phone.


def test_a_superuser_resets_a_lost_device_and_the_next_sign_in_needs_a_set_up_link(
    required, client, django_user_model, superuser, front_desk
):
    lost = confirmed_device(front_desk)
    desk = client.__class__()
    sign_in(desk, front_desk, lost)
    assert desk.get(ADMIN).status_code == 200

    sign_in(client, superuser, confirmed_device(superuser))
    delete = reverse("admin:otp_totp_totpdevice_delete", args=[lost.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 302
    assert not TOTPDevice.objects.filter(user=front_desk).exists()

    # The front desk's open session is no longer verified, and nothing can be set up
    # without a new set-up link.
    response = desk.get(ADMIN, follow=True)
    assert response.redirect_chain[-1][0].startswith(TWO_FACTOR)
    assert "Ask a superuser for a set-up link" in response.content.decode()


def test_the_device_admin_never_shows_the_secret_key(required, client, superuser, editor):
    device = confirmed_device(editor)
    sign_in(client, superuser, confirmed_device(superuser))
    html = client.get(reverse("admin:otp_totp_totpdevice_change", args=[device.pk])).content
    assert device.key.encode() not in html
    assert base64.b32encode(device.bin_key).rstrip(b"=") not in html
    config = reverse("admin:otp_totp_totpdevice_config", args=[device.pk])
    assert client.get(config).status_code == 403


def test_staff_groups_cannot_reset_devices(front_desk, editor):
    for user in [front_desk, editor]:
        assert not user.has_perm("otp_totp.delete_totpdevice")
    assert not Group.objects.filter(permissions__content_type__app_label="otp_totp").exists()
