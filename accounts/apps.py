from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """Staff sign-in: the second step (a code from an authenticator app, or a backup
    code), setting it up with a one-time set-up link, and the user admin that makes them.

    One model, `EnrolmentLink` (the hash of each set-up link). The devices are
    django-otp's: `TOTPDevice` for the app, `StaticDevice` for the backup codes.
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = _("Staff sign-in")
