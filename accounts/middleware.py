"""Every admin page needs the second sign-in step when STAFF_TWO_FACTOR_REQUIRED is on."""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse

# Reachable with a password only: signing in (as someone else) and signing out.
OPEN_ADMIN_PAGES = {"login", "logout"}


class StaffTwoFactorMiddleware:
    """Send staff who signed in with a password only to the code page.

    Runs after django-otp's OTPMiddleware, which gives `request.user.is_verified()`:
    true once a confirmed device (the app, or the backup codes) accepted a code in this
    session (`django_otp.login`). Staff with neither see, on the code page, that they
    need a set-up link; nothing here sets anything up.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not settings.STAFF_TWO_FACTOR_REQUIRED:
            return None
        match = request.resolver_match
        if "admin" not in match.namespaces or match.url_name in OPEN_ADMIN_PAGES:
            return None
        user = request.user
        if not (user.is_authenticated and user.is_staff) or user.is_verified():
            # Anonymous and non-staff users get the admin's own login page.
            return None
        return redirect_to_login(request.get_full_path(), reverse("accounts:two_factor"))
