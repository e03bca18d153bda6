from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """Staff sign-in: the second step (a code from an authenticator app) and its set-up.

    No models: devices are django-otp's `TOTPDevice`, reset by a superuser in the admin.
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = _("Staff sign-in")
