"""Setting up two-step sign-in with a one-time set-up link, and backup codes.

A superuser makes a link for one person (the user's page in the admin, or
`manage.py enrolment_link`). It works once, for that person only, until it expires, and
only its hash is stored. At the end the person gets ten single-use backup codes, shown
once; they work at the code step, each once, with django-otp's throttling.
"""

import io
import logging
import re
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from accounts.models import EnrolmentLink
from tests.test_admin_access import sign_in
from tests.test_two_factor import (
    code,
    confirmed_device,
    no_inline_style_or_script,
    password_login,
    wrong_code,
)

pytestmark = pytest.mark.django_db

ADMIN = reverse("admin:index")
LOGIN = reverse("admin:login")
TWO_FACTOR = reverse("accounts:two_factor")
ENROL = reverse("accounts:enrol")
BACKUP_CODES = reverse("accounts:backup_codes")


@pytest.fixture
def required(settings):
    settings.STAFF_TWO_FACTOR_REQUIRED = True


@pytest.fixture
def newcomer(db, django_user_model):
    """New staff: a password, no app yet."""
    from tests.conftest import make_staff

    return make_staff(django_user_model, "newcomer", "Front desk")


def new_link(user, made_by=None):
    """A set-up link's path (with its token), as the person receives it."""
    _link, token = services.make_enrolment_link(user, made_by)
    return services.enrolment_path(token)


def open_link(client, path, username):
    """Open the link, sign in with the password when asked, land on the set-up page."""
    response = client.get(path)
    if response["Location"].startswith(ENROL):
        response = client.get(response["Location"])
    if response.status_code == 302 and response["Location"].startswith(LOGIN):
        password_login(client, username, next_url=ENROL)
        response = client.get(ENROL)
    return response


def new_app(user):
    return TOTPDevice.objects.get(user=user, confirmed=False)


def finish(client, user):
    """Type the code the new app shows; returns the response."""
    return client.post(ENROL, {"code": code(new_app(user))})


def shown_codes(html):
    return [c.replace(" ", "") for c in re.findall(r"<li><code>([a-z2-7 ]{9})</code></li>", html)]


def enrolled(client, user):
    """Enrol `user` through a link; returns their backup codes."""
    open_link(client, new_link(user), user.get_username())
    assert finish(client, user)["Location"] == BACKUP_CODES
    return shown_codes(client.get(BACKUP_CODES).content.decode())


def password_only(client, username):
    client.post(reverse("admin:logout"))
    password_login(client, username)


# The whole way: from the link to the admin.


def test_new_staff_enrol_with_a_link_and_get_backup_codes_once(required, client, newcomer):
    path = new_link(newcomer)

    # Not signed in: the token leaves the address at once, then the admin login.
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == ENROL
    response = client.get(ENROL)
    assert response["Location"] == f"{LOGIN}?next={ENROL}"
    password_login(client, "newcomer", next_url=ENROL)

    # Back on the link: a QR code, the key, a code field.
    response = client.get(ENROL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "data:image/svg+xml;base64," in html and 'id="setup-key"' in html
    assert '<label for="id_code">6-digit code' in html
    assert 'inputmode="numeric"' in html
    no_inline_style_or_script(html)
    assert client.get(ADMIN).status_code == 302  # nothing opens before the code

    # The right code: the app is confirmed, the session verified, the link used.
    response = finish(client, newcomer)
    assert response["Location"] == BACKUP_CODES
    app = TOTPDevice.objects.get(user=newcomer)
    assert app.confirmed
    assert client.session[DEVICE_ID_SESSION_KEY] == app.persistent_id
    assert EnrolmentLink.objects.get(user=newcomer).used_at is not None

    # Ten backup codes, shown once, with the plain instruction.
    html = client.get(BACKUP_CODES).content.decode()
    codes = shown_codes(html)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert "Print this page, or write these codes down, now." in html
    assert sorted(codes) == sorted(
        StaticToken.objects.filter(device__user=newcomer).values_list("token", flat=True)
    )
    again = client.get(BACKUP_CODES).content.decode()
    assert shown_codes(again) == []
    assert "You have 10 backup codes left." in again

    assert client.get(ADMIN).status_code == 200


def test_the_set_up_page_keeps_its_key_on_reload_and_never_reuses_an_older_one(
    required, client, newcomer
):
    # An unconfirmed app left by the old password-only set-up: its key may have been seen.
    old = TOTPDevice.objects.create(user=newcomer, name="Old", confirmed=False)
    open_link(client, new_link(newcomer), "newcomer")
    device = new_app(newcomer)
    assert device.pk != old.pk
    key = re.search(r'id="setup-key">([A-Z2-7 ]+)<', client.get(ENROL).content.decode())[1]
    assert client.get(ENROL).content.decode().count(key) == 1
    assert TOTPDevice.objects.filter(user=newcomer).count() == 1


def test_a_wrong_code_does_not_use_the_link(required, client, newcomer):
    open_link(client, new_link(newcomer), "newcomer")
    response = client.post(ENROL, {"code": wrong_code(new_app(newcomer))})
    assert response.status_code == 200
    assert "That code did not work" in response.content.decode()
    assert EnrolmentLink.objects.get().used_at is None
    assert not TOTPDevice.objects.filter(confirmed=True).exists()


# The link works once, for one person, until it expires.


def test_a_link_is_refused_the_second_time(required, client, newcomer):
    path = new_link(newcomer)
    open_link(client, path, "newcomer")
    finish(client, newcomer)
    client.get(BACKUP_CODES)

    response = open_link(client, path, "newcomer")
    assert response.status_code == 410
    assert "This set-up link was used already" in response.content.decode()
    assert 'name="code"' not in response.content.decode()
    assert TOTPDevice.objects.filter(user=newcomer).count() == 1


def test_a_link_that_was_used_is_refused_even_to_someone_else_who_has_its_password(
    required, client, newcomer
):
    path = new_link(newcomer)
    open_link(client, path, "newcomer")
    finish(client, newcomer)
    guesser = client.__class__()
    response = open_link(guesser, path, "newcomer")
    assert response.status_code == 410
    assert TOTPDevice.objects.filter(user=newcomer).count() == 1


def test_an_expired_link_is_refused(required, client, newcomer, settings):
    path = new_link(newcomer)
    EnrolmentLink.objects.update(
        created_at=timezone.now() - timedelta(hours=73), expires_at=timezone.now()
    )
    response = open_link(client, path, "newcomer")
    assert response.status_code == 410
    assert "This set-up link has expired. Links work for 72 hours." in response.content.decode()
    assert not TOTPDevice.objects.filter(user=newcomer).exists()


def test_a_link_that_expires_while_the_page_is_open_does_not_set_up(required, client, newcomer):
    open_link(client, new_link(newcomer), "newcomer")
    device = new_app(newcomer)
    EnrolmentLink.objects.update(
        created_at=timezone.now() - timedelta(hours=73),
        expires_at=timezone.now() - timedelta(seconds=1),
    )
    response = client.post(ENROL, {"code": code(device)})
    assert response.status_code == 410
    device.refresh_from_db()
    assert not device.confirmed
    assert client.get(ADMIN).status_code == 302


def test_a_link_opened_by_someone_else_signed_in_is_refused(
    required, client, newcomer, editor, caplog
):
    path = new_link(newcomer)
    password_login(client, "editor")
    with caplog.at_level(logging.WARNING, logger="accounts"):
        response = open_link(client, path, "editor")
    assert response.status_code == 403
    html = response.content.decode()
    assert "This set-up link was made for someone else. You are signed in as editor." in html
    assert "newcomer" not in html
    assert client.post(ENROL, {"code": "123456"}).status_code == 403
    assert not TOTPDevice.objects.exists()
    assert "editor opened a set-up link made for someone else." in caplog.messages

    # The link still works for the person it was made for.
    mine = client.__class__()
    assert open_link(mine, path, "newcomer").status_code == 200


def test_signing_in_as_someone_else_after_opening_the_link_is_refused(
    required, client, newcomer, editor
):
    response = client.get(new_link(newcomer))
    password_login(client, "editor", next_url=ENROL)  # not the person the link is for
    response = client.get(ENROL)
    assert response.status_code == 403
    assert not TOTPDevice.objects.exists()


def test_a_new_link_voids_the_older_unused_one(required, client, newcomer):
    old = new_link(newcomer)
    new = new_link(newcomer)
    response = open_link(client, old, "newcomer")
    assert response.status_code == 410
    assert "replaced by a newer one" in response.content.decode()
    assert open_link(client, new, "newcomer").status_code == 200
    assert EnrolmentLink.objects.open().count() == 1


def test_someone_with_an_app_cannot_add_a_second_one_with_a_link(required, client, newcomer):
    path = new_link(newcomer)
    confirmed_device(newcomer)
    response = open_link(client, path, "newcomer")
    assert response.status_code == 409
    assert "You already have an authenticator app" in response.content.decode()
    assert TOTPDevice.objects.filter(user=newcomer).count() == 1


def test_a_made_up_token_is_refused(required, client, newcomer):
    new_link(newcomer)
    response = open_link(client, f"{ENROL}?token=made-up", "newcomer")
    assert response.status_code == 404
    assert not TOTPDevice.objects.exists()


def test_only_the_hash_of_the_token_is_stored_and_logged_nowhere(
    required, client, newcomer, superuser, caplog
):
    sign_in(client, superuser, confirmed_device(superuser))
    url = reverse("admin:auth_user_set_up_link", args=[newcomer.pk])
    with caplog.at_level(logging.INFO):
        html = client.post(url).content.decode()
        token = re.search(r'id="set-up-link"[^>]*>[^<]*\?token=([^<]+)<', html)[1]
        enrolment = client.__class__()
        open_link(enrolment, f"{ENROL}?token={token}", "newcomer")
        finish(enrolment, newcomer)
    link = EnrolmentLink.objects.get()
    assert link.token_hash == EnrolmentLink.hash_token(token) != token
    stored = [
        str(row) for model in (EnrolmentLink, LogEntry) for row in model.objects.values_list()
    ]
    stored += [session.session_data for session in Session.objects.all()]
    stored += [str(s.get_decoded()) for s in Session.objects.all()]
    assert not any(token in text for text in stored)
    assert not any(token in record.getMessage() for record in caplog.records)
    # Made and used, with user names only.
    assert "admin made a set-up link for newcomer." in caplog.messages
    assert "newcomer set up two-step sign-in with a set-up link." in caplog.messages


# The admin: superusers make links; everyone else is refused.


def test_a_superuser_makes_a_link_on_the_users_page_and_sees_it_once(
    required, client, newcomer, superuser
):
    sign_in(client, superuser, confirmed_device(superuser))
    change = client.get(reverse("admin:auth_user_change", args=[newcomer.pk])).content.decode()
    url = reverse("admin:auth_user_set_up_link", args=[newcomer.pk])
    assert f'href="{url}"' in change

    page = client.get(url).content.decode()
    assert "The link works once, only for newcomer, for 72 hours." in page
    assert not EnrolmentLink.objects.exists()  # opening the page makes nothing

    made = client.post(url)
    html = made.content.decode()
    assert made.status_code == 200
    assert "no-store" in made["Cache-Control"]
    assert '<label for="set-up-link">Set-up link</label>' in html
    link = re.search(
        r'id="set-up-link"[^>]*>(http://testserver/admin/two-factor/enrol/[^<]+)<', html
    )
    assert link
    assert EnrolmentLink.objects.get().created_by == superuser
    # Not shown again: the user's page shows only what became of it.
    change = client.get(reverse("admin:auth_user_change", args=[newcomer.pk])).content.decode()
    assert link[1] not in change and "not used yet" in change
    no_inline_style_or_script(html)


def test_staff_who_are_not_superusers_cannot_make_links(
    client, newcomer, editor, django_user_model
):
    url = reverse("admin:auth_user_set_up_link", args=[newcomer.pk])
    # Even with every permission on users, only a superuser makes set-up links.
    from django.contrib.auth.models import Permission

    editor.user_permissions.set(Permission.objects.filter(content_type__app_label="auth"))
    client.force_login(editor)
    assert client.post(url).status_code == 403
    assert client.get(url).status_code == 403
    assert not EnrolmentLink.objects.exists()
    client.logout()
    assert client.post(url)["Location"].startswith(LOGIN)


def test_no_link_for_someone_who_still_has_an_app_or_is_not_staff(
    client, newcomer, superuser, django_user_model
):
    confirmed_device(newcomer)
    client.force_login(superuser)
    response = client.post(reverse("admin:auth_user_set_up_link", args=[newcomer.pk]))
    assert response.status_code == 409
    assert "newcomer already has an authenticator app" in response.content.decode()
    patient = django_user_model.objects.create_user("not-staff")
    response = client.post(reverse("admin:auth_user_set_up_link", args=[patient.pk]))
    assert response.status_code == 409
    assert not EnrolmentLink.objects.exists()


def test_the_admin_shows_who_has_an_app_and_how_many_backup_codes_are_left(
    client, newcomer, superuser
):
    enrolled(client, newcomer)
    client.logout()
    client.force_login(superuser)
    StaticToken.objects.filter(device__user=newcomer).first().delete()
    changelist = client.get(reverse("admin:auth_user_changelist")).content.decode()
    row = re.search(r"<tr>(?:(?!</tr>).)*>newcomer</a>(?:(?!</tr>).)*</tr>", changelist, re.S)[0]
    assert 'class="field-backup_codes_left">9</td>' in row
    assert 'alt="True"' in row
    change = client.get(reverse("admin:auth_user_change", args=[newcomer.pk])).content.decode()
    assert "Backup codes left" in change and '<div class="readonly">9</div>' in change
    assert "used" in change
    # Codes are never shown in the admin, and otp_static's own admin is not there.
    for token in StaticToken.objects.values_list("token", flat=True):
        assert token not in change and token not in changelist
    assert "staticdevice" not in client.get(ADMIN).content.decode()


# The first superuser of a new server: the command line.


def test_the_command_prints_a_link_for_the_first_superuser(required, client, superuser):
    out = io.StringIO()
    call_command("enrolment_link", "admin", stdout=out)
    text = out.getvalue()
    url = re.search(r"^http://127\.0\.0\.1:8000(/admin/two-factor/enrol/\?token=\S+)$", text, re.M)
    assert url, text
    assert "works once, only for admin" in text
    link = EnrolmentLink.objects.get()
    assert link.created_by is None
    open_link(client, url[1], "admin")
    assert finish(client, superuser)["Location"] == BACKUP_CODES
    assert client.get(ADMIN).status_code == 200


def test_the_command_refuses_unknown_and_non_staff_users_and_keeps_an_app_unless_told(
    superuser, django_user_model
):
    with pytest.raises(CommandError, match="There is no user"):
        call_command("enrolment_link", "nobody", stdout=io.StringIO())
    django_user_model.objects.create_user("not-staff")
    with pytest.raises(CommandError, match="is not active staff"):
        call_command("enrolment_link", "not-staff", stdout=io.StringIO())
    confirmed_device(superuser)
    with pytest.raises(CommandError, match="already has an authenticator app"):
        call_command("enrolment_link", "admin", stdout=io.StringIO())
    assert not EnrolmentLink.objects.exists()
    call_command("enrolment_link", "admin", "--remove-old-app", stdout=io.StringIO())
    assert not TOTPDevice.objects.filter(user=superuser).exists()
    assert EnrolmentLink.objects.usable().count() == 1


# Backup codes at the code step.


def test_a_backup_code_works_once(required, client, newcomer):
    codes = enrolled(client, newcomer)
    password_only(client, "newcomer")
    response = client.post(TWO_FACTOR, {"code": codes[0].upper(), "next": ADMIN})
    assert response["Location"] == ADMIN
    static = StaticDevice.objects.get(user=newcomer)
    assert client.session[DEVICE_ID_SESSION_KEY] == static.persistent_id
    assert "You used a backup code. You have 9 left." in client.get(ADMIN).content.decode()

    password_only(client, "newcomer")
    response = client.post(TWO_FACTOR, {"code": codes[0], "next": ADMIN})
    assert response.status_code == 200
    assert "That code did not work" in response.content.decode()
    assert client.get(ADMIN).status_code == 302
    assert services.backup_codes_left(newcomer) == 9


def test_wrong_backup_codes_are_slowed_down_like_app_codes(required, client, newcomer):
    codes = enrolled(client, newcomer)
    password_only(client, "newcomer")
    client.post(TWO_FACTOR, {"code": "zzzzzzzz"})
    response = client.post(TWO_FACTOR, {"code": codes[1]})
    assert re.search(r"Too many wrong codes. Wait \d+ seconds?, then", response.content.decode())
    assert client.get(ADMIN).status_code == 302
    assert services.backup_codes_left(newcomer) == 10  # the right code was not used up
    assert StaticDevice.objects.get(user=newcomer).throttling_failure_count == 1


def test_backup_codes_work_after_the_app_was_removed(required, client, newcomer):
    codes = enrolled(client, newcomer)
    TOTPDevice.objects.filter(user=newcomer).delete()  # a lost phone
    password_only(client, "newcomer")
    html = client.get(TWO_FACTOR).content.decode()
    assert 'name="code"' in html
    assert client.post(TWO_FACTOR, {"code": "123456"}).status_code == 200
    assert client.post(TWO_FACTOR, {"code": codes[2]})["Location"] == ADMIN


def test_someone_whose_backup_codes_ran_out_and_whose_app_was_removed_needs_a_link(
    required, client, newcomer
):
    enrolled(client, newcomer)
    TOTPDevice.objects.filter(user=newcomer).delete()
    StaticToken.objects.filter(device__user=newcomer).delete()
    password_only(client, "newcomer")
    html = client.get(TWO_FACTOR).content.decode()
    assert "Ask a superuser for a set-up link" in html
    assert 'name="code"' not in html


# A new set.


def test_a_new_set_of_backup_codes_voids_the_old_one(required, client, newcomer):
    old = enrolled(client, newcomer)
    page = client.get(BACKUP_CODES).content.decode()
    assert "Make a new set of backup codes" in page
    response = client.post(BACKUP_CODES)
    assert response["Location"] == BACKUP_CODES
    new = shown_codes(client.get(BACKUP_CODES).content.decode())
    assert len(new) == 10 and not set(new) & set(old)

    password_only(client, "newcomer")
    assert client.post(TWO_FACTOR, {"code": old[0]}).status_code == 200
    StaticDevice.objects.update(throttling_failure_count=0, throttling_failure_timestamp=None)
    assert client.post(TWO_FACTOR, {"code": new[0]})["Location"] == ADMIN


def test_a_session_verified_by_a_backup_code_cannot_make_new_ones(required, client, newcomer):
    codes = enrolled(client, newcomer)
    password_only(client, "newcomer")
    client.post(TWO_FACTOR, {"code": codes[0]})
    page = client.get(BACKUP_CODES).content.decode()
    assert "sign in with the code from your app" in page
    assert 'type="submit" value="Make a new set' not in page
    assert client.post(BACKUP_CODES).status_code == 403
    assert services.backup_codes_left(newcomer) == 9


def test_making_new_backup_codes_needs_the_second_step_first(required, client, newcomer):
    enrolled(client, newcomer)
    password_only(client, "newcomer")
    response = client.post(BACKUP_CODES)
    assert response["Location"] == f"{TWO_FACTOR}?next={BACKUP_CODES}"
    assert services.backup_codes_left(newcomer) == 10
