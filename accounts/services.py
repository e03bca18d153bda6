"""Setting up two-step sign-in: making set-up links, using one, and backup codes.

The workflows behind the views, the user admin and `manage.py enrolment_link`, in one
place. Logs carry user names only: never a token, a link or a code.

Backup codes are django-otp's own static device (`otp_static`): one StaticDevice per
person holding ten single-use StaticTokens. django-otp checks them with the same
throttling as app codes (each wrong code doubles the wait) and deletes each one as it is
used. It stores them as typed (that is its design), so they are never shown in the
admin: the user's page shows only how many are left.
"""

import logging
import secrets
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import EnrolmentLink

logger = logging.getLogger(__name__)

BACKUP_CODE_COUNT = 10


class LinkNotUsable(Exception):
    """The link was used, replaced or expired between opening it and finishing."""


def make_enrolment_link(user, made_by=None):
    """A new set-up link for `user`; their older unused links stop working.

    Returns (link, token). The token is in no database row and no log: the caller shows
    it once (`enrolment_url`) and forgets it.
    """
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        # Two clicks at once on "Make a set-up link": the second waits for the first.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        EnrolmentLink.objects.filter(user=user).open().update(voided_at=now)
        link = EnrolmentLink.objects.create(
            user=user,
            token_hash=EnrolmentLink.hash_token(token),
            created_by=made_by,
            created_at=now,
            expires_at=now + timedelta(hours=settings.STAFF_ENROLMENT_LINK_HOURS),
        )
    logger.info(
        "%s made a set-up link for %s.",
        made_by.get_username() if made_by else "The server command line",
        user.get_username(),
    )
    return link, token


def enrolment_path(token):
    """The link's path and query. The token goes in the query string, which the access
    log leaves out (gunicorn.conf.py); the page moves it out of the address at once."""
    return f"{reverse('accounts:enrol')}?{urlencode({'token': token})}"


def has_app(user):
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).exists()


def remove_app(user):
    """Delete the person's authenticator app (a new phone needs a new set-up link)."""
    count, _deleted = TOTPDevice.objects.filter(user=user).delete()
    logger.info("The authenticator app of %s was removed.", user.get_username())
    return count


def finish_enrolment(link, device):
    """Use `link`: confirm the app `device` (its code was checked) and make backup codes.

    Marks the link used only if it still is usable at this moment, in one UPDATE, so two
    tabs finishing at once cannot both use it. Returns the new backup codes.
    """
    now = timezone.now()
    with transaction.atomic():
        used = EnrolmentLink.objects.usable(now).filter(pk=link.pk, user=device.user_id)
        if not used.update(used_at=now):
            raise LinkNotUsable
        TOTPDevice.objects.filter(user=device.user_id).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = new_backup_codes(device.user)
    logger.info("%s set up two-step sign-in with a set-up link.", device.user.get_username())
    return codes


def backup_device(user):
    """The person's backup codes (a confirmed StaticDevice with codes left), or None."""
    devices = StaticDevice.objects.devices_for_user(user, confirmed=True)
    return devices.filter(token_set__isnull=False).distinct().order_by("pk").first()


def backup_codes_left(user):
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def new_backup_codes(user):
    """Ten new single-use codes for `user`; their old ones stop working. Returns them."""
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name=_("Backup codes"), confirmed=True)
        codes = [StaticToken.random_token() for _n in range(BACKUP_CODE_COUNT)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    logger.info("%s got a new set of backup codes.", user.get_username())
    return codes
