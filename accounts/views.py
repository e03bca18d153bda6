"""The second sign-in step for staff, and setting it up the first time.

Staff sign in with their password on the admin's own login page. With
STAFF_TWO_FACTOR_REQUIRED on, StaffTwoFactorMiddleware then sends them here: someone
with a confirmed device types its code; someone without one sets up an authenticator
app first (scan the QR code or type the key, then type a code to prove it works). Either
way `django_otp.login` marks the session verified and the admin opens.

Losing the phone means asking a superuser to delete the person's device in the admin
(Otp_Totp > TOTP devices); their next sign-in starts a new set-up.
"""

import base64
import functools
import logging
from urllib.parse import urlencode

import django_otp
import qrcode
import qrcode.image.svg
from django.contrib import admin, messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django_otp.plugins.otp_totp.models import TOTPDevice

from .forms import CodeForm

logger = logging.getLogger(__name__)


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


def confirmed_device(user):
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("pk").first()


@never_cache
@sensitive_post_parameters("code")
@staff_only
def two_factor(request):
    """Ask for the code from the staff member's app."""
    goto = next_url(request)
    if request.user.is_verified():
        return redirect(goto)
    device = confirmed_device(request.user)
    if device is None:
        setup = reverse("accounts:two_factor_setup")
        return redirect(f"{setup}?{urlencode({REDIRECT_FIELD_NAME: goto})}")
    form = CodeForm(device, data=request.POST if request.method == "POST" else None)
    if form.is_valid():
        sign_in(request, form.device)
        return redirect(goto)
    if form.is_bound:
        logger.warning("A wrong sign-in code was typed for %s.", request.user.get_username())
    return render(
        request,
        "accounts/two_factor.html",
        page_context(request, _("Type your sign-in code"), form=form, next=goto),
    )


@never_cache
@sensitive_post_parameters("code")
@staff_only
def two_factor_setup(request):
    """Set up an authenticator app: scan or type the key, then prove it with a code."""
    goto = next_url(request)
    if confirmed_device(request.user) is not None:
        # One device each. A new phone needs a superuser to reset the old device.
        verify = reverse("accounts:two_factor")
        return redirect(f"{verify}?{urlencode({REDIRECT_FIELD_NAME: goto})}")
    # The same key until it is confirmed, so reloading the page keeps the QR code.
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(
            user=request.user, name=_("Authenticator app"), confirmed=False
        )
    form = CodeForm(device, data=request.POST if request.method == "POST" else None)
    if form.is_valid():
        device = form.device
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        sign_in(request, device)
        logger.info("%s set up two-step sign-in.", request.user.get_username())
        messages.success(request, _("Two-step sign-in is set up. You are signed in."))
        return redirect(goto)
    return render(
        request,
        "accounts/two_factor_setup.html",
        page_context(
            request,
            _("Set up two-step sign-in"),
            form=form,
            next=goto,
            qr_code=qr_code_data_uri(device.config_url),
            key=spaced_key(device),
        ),
    )


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
