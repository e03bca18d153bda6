"""The second sign-in step for staff, setting it up with a set-up link, and backup codes.

Staff sign in with their password on the admin's own login page. With
STAFF_TWO_FACTOR_REQUIRED on, StaffTwoFactorMiddleware then sends them to `two_factor`:
they type the code their authenticator app shows, or one of their backup codes, and
`django_otp.login` marks the session verified. Someone with neither is told to ask a
superuser for a set-up link: a password alone never sets anything up, or whoever
guessed it could.

`enrol` is where a set-up link leads (accounts.models explains the links). The person
signs in with their own password, scans the QR code, types the code their app shows,
and gets ten backup codes, shown once (`backup_codes`). A new phone: a superuser removes
the old app in the admin and makes a new link.

Every page here needs an active staff account signed in with its password; each is
never cached, and the posted codes are hidden from error reports.
"""

import base64
import functools
import logging
from urllib.parse import urlencode

import django_otp
import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import services
from .forms import AppCodeForm, SignInCodeForm
from .models import EnrolmentLink

logger = logging.getLogger(__name__)

# Session keys. The link's hash, never its token; the app being set up in this session;
# new backup codes between making them and showing them (once) on the next page.
LINK_HASH = "accounts_enrolment_link_hash"
NEW_APP = "accounts_enrolment_device"
NEW_CODES = "accounts_new_backup_codes"


def staff_only(view):
    """Signed in with a password, active and staff; anyone else goes to the admin login."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not (user.is_authenticated and user.is_active and user.is_staff):
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        return view(request, *args, **kwargs)

    return wrapper


def next_url(request):
    """Where to go once verified: a page on this site, else the admin's front page."""
    url = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME, "")
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return reverse("admin:index")


def with_next(url_name, goto):
    return f"{reverse(url_name)}?{urlencode({REDIRECT_FIELD_NAME: goto})}"


def confirmed_app(user):
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("pk").first()


# The code at each sign-in.


@never_cache
@sensitive_post_parameters("code")
@staff_only
def two_factor(request):
    """Ask for the code from the staff member's app, or one of their backup codes."""
    goto = next_url(request)
    if request.user.is_verified():
        return redirect(goto)
    app, backup = confirmed_app(request.user), services.backup_device(request.user)
    if app is None and backup is None:
        return render(
            request,
            "accounts/no_device.html",
            page_context(request, _("Ask for a set-up link")),
        )
    form = SignInCodeForm(app, backup, data=request.POST if request.method == "POST" else None)
    if form.is_valid():
        sign_in(request, form.device)
        if form.used_backup_code:
            left = services.backup_codes_left(request.user)
            logger.info("%s signed in with a backup code.", request.user.get_username())
            messages.warning(
                request,
                ngettext(
                    "You used a backup code. You have %(count)d left.",
                    "You used a backup code. You have %(count)d left.",
                    left,
                )
                % {"count": left},
            )
        return redirect(goto)
    if form.is_bound:
        logger.warning("A wrong sign-in code was typed for %s.", request.user.get_username())
    return render(
        request,
        "accounts/two_factor.html",
        page_context(request, _("Type your sign-in code"), form=form, next=goto),
    )


# Setting up, with a set-up link.


@never_cache
@sensitive_variables("token")
@sensitive_post_parameters("code")
def enrol(request):
    """Where a set-up link leads: keep the token's hash in the session, drop the token.

    The address the browser shows, keeps in its history and sends on as Referer then
    holds no token. Someone not signed in goes to the admin login and comes back here.
    """
    token = request.GET.get("token")
    if token is not None:
        request.session[LINK_HASH] = EnrolmentLink.hash_token(token)
        request.session.pop(NEW_APP, None)
        return redirect("accounts:enrol")
    return set_up_app(request)


@staff_only
def set_up_app(request):
    """Scan the QR code (or type the key), then prove it with a code; then backup codes."""
    link_hash = request.session.get(LINK_HASH)
    link = EnrolmentLink.objects.filter(token_hash=link_hash).first() if link_hash else None
    refused = refusal(request, link)
    if refused:
        return refused
    device = app_being_set_up(request)
    form = AppCodeForm(device, data=request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            codes = services.finish_enrolment(link, form.device)
        except services.LinkNotUsable:
            return refusal(request, EnrolmentLink.objects.get(pk=link.pk))
        for key in (LINK_HASH, NEW_APP):
            request.session.pop(key, None)
        sign_in(request, form.device)
        request.session[NEW_CODES] = codes
        messages.success(request, _("Two-step sign-in is set up. You are signed in."))
        return redirect("accounts:backup_codes")
    return render(
        request,
        "accounts/two_factor_setup.html",
        page_context(
            request,
            _("Set up two-step sign-in"),
            form=form,
            qr_code=qr_code_data_uri(device.config_url),
            key=spaced_key(device),
        ),
    )


def refusal(request, link):
    """The page saying why this link cannot set anything up, or None when it can."""
    user = request.user
    status = 410
    if link is None:
        status = 404
        reason = _(
            "This set-up link does not work. Check that you opened all of it, or ask a "
            "superuser for a new one."
        )
    elif link.user_id != user.pk:
        status = 403
        reason = _(
            "This set-up link was made for someone else. You are signed in as "
            "%(username)s. Sign out, open the link again, and sign in as the person it "
            "was made for."
        ) % {"username": user.get_username()}
        logger.warning("%s opened a set-up link made for someone else.", user.get_username())
    elif link.used_at:
        reason = _("This set-up link was used already. Each link works once.")
    elif link.voided_at:
        reason = _("This set-up link was replaced by a newer one. Use the newest link.")
    elif link.expires_at <= timezone.now():
        reason = ngettext(
            "This set-up link has expired. Links work for %(hours)d hour.",
            "This set-up link has expired. Links work for %(hours)d hours.",
            settings.STAFF_ENROLMENT_LINK_HOURS,
        ) % {"hours": settings.STAFF_ENROLMENT_LINK_HOURS}
    elif services.has_app(user):
        status = 409
        reason = _(
            "You already have an authenticator app set up. To move to a new phone, ask a "
            "superuser to remove the old app and make you a new set-up link."
        )
    else:
        return None
    return render(
        request,
        "accounts/enrol_refused.html",
        page_context(request, _("This set-up link cannot be used"), reason=reason),
        status=status,
    )


def app_being_set_up(request):
    """This session's new app (the same key until confirmed, so reloading keeps the QR
    code). Any other unconfirmed app of this person is deleted: only this page ever
    showed its key."""
    unconfirmed = TOTPDevice.objects.filter(user=request.user, confirmed=False)
    pk = request.session.get(NEW_APP)
    device = unconfirmed.filter(pk=pk).first() if isinstance(pk, int) else None
    if device is None:
        unconfirmed.delete()
        device = TOTPDevice.objects.create(
            user=request.user, name=_("Authenticator app"), confirmed=False
        )
        request.session[NEW_APP] = device.pk
    return device


# Backup codes.


@never_cache
@staff_only
def backup_codes(request):
    """New backup codes, shown once; or how many are left, and a button for a new set.

    Making a new set needs a session verified with the app: a backup code (or a stolen
    sheet of them) cannot make more.
    """
    if not request.user.is_verified():
        return redirect_to_login(request.get_full_path(), reverse("accounts:two_factor"))
    codes = request.session.pop(NEW_CODES, None)
    if codes:
        return render(
            request,
            "accounts/backup_codes_new.html",
            page_context(request, _("Your backup codes"), codes=[spaced(c) for c in codes]),
        )
    verified_with_app = isinstance(request.user.otp_device, TOTPDevice)
    if request.method == "POST" and verified_with_app:
        request.session[NEW_CODES] = services.new_backup_codes(request.user)
        return redirect("accounts:backup_codes")
    return render(
        request,
        "accounts/backup_codes.html",
        page_context(
            request,
            _("Backup codes"),
            left=services.backup_codes_left(request.user),
            verified_with_app=verified_with_app,
        ),
        status=403 if request.method == "POST" else 200,
    )


def spaced(code):
    """A backup code in two groups of four, easier to copy by hand ("abcd efgh")."""
    return f"{code[:4]} {code[4:]}"


# Shared.


def sign_in(request, device):
    """Mark the session verified by this device, under a new session key."""
    request.session.cycle_key()
    django_otp.login(request, device)


def page_context(request, title, **context):
    return {**admin.site.each_context(request), "title": title, **context}


def qr_code_data_uri(text):
    """The QR code as an SVG image in a data: URI (black on white, so dark mode scans)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathFillImage)
    encoded = base64.b64encode(image.to_string()).decode("ascii")
    return f"data:image/svg+xml;base64,{encoded}"


def spaced_key(device):
    """The secret in the form apps ask for when typed by hand: base32, in groups of 4."""
    key = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))
