"""The one field staff fill in at the second sign-in step, in its two forms.

`AppCodeForm`: while setting up, the 6-digit code the new app shows (proves the app
works). `SignInCodeForm`: at each sign-in, the app's code or one of the person's backup
codes. Either way django-otp checks the code against one device: it refuses a code used
before and slows guessing down (each wrong code doubles the wait), for app codes and
backup codes alike.
"""

import math
import re

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp import verify_token

APP_CODE = re.compile(r"\d{6}")
# otp_static's StaticToken.random_token(): 8 characters of lower-case base32.
BACKUP_CODE = re.compile(r"[a-z2-7]{8}")


def code_widget(**attrs):
    return forms.TextInput(
        attrs={
            "autocomplete": "one-time-code",
            "autocapitalize": "off",
            "spellcheck": "false",
            "autofocus": True,
            **attrs,
        }
    )


def typed(value):
    """The code without the spaces and dashes people type or copy along with it."""
    return re.sub(r"[\s-]", "", value).lower()


def check(device, code):
    """The device after django-otp accepted `code` (saved: the code cannot be used again).

    Raises ValidationError while the device is throttled or when the code is wrong.
    """
    allowed, details = device.verify_is_allowed()
    if not allowed:
        wait = (details or {}).get("locked_until", timezone.now()) - timezone.now()
        seconds = max(1, math.ceil(wait.total_seconds()))
        raise forms.ValidationError(
            ngettext(
                "Too many wrong codes. Wait %(seconds)d second, then try again.",
                "Too many wrong codes. Wait %(seconds)d seconds, then try again.",
                seconds,
            )
            % {"seconds": seconds},
            code="throttled",
        )
    verified = verify_token(device.user, device.persistent_id, code)
    if verified is None:
        raise forms.ValidationError(_("That code did not work."), code="wrong")
    return verified


class AppCodeForm(forms.Form):
    """The code a new app shows, checked against the app's (not yet confirmed) device.

    After a valid form, `device` is the device as saved by the check, so callers save it
    without undoing that.
    """

    code = forms.CharField(
        label=_("6-digit code"),
        help_text=_("The numbers your authenticator app shows now. They change every 30 seconds."),
        max_length=20,
        widget=code_widget(inputmode="numeric"),
    )

    def __init__(self, device, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.device = device

    def clean_code(self):
        code = typed(self.cleaned_data["code"])
        if not APP_CODE.fullmatch(code):
            raise forms.ValidationError(
                _("Type the 6 numbers your app shows, for example 123456."), code="format"
            )
        try:
            self.device = check(self.device, code)
        except forms.ValidationError as error:
            if error.code == "wrong":
                error = forms.ValidationError(
                    _(
                        "That code did not work. Type the code your app shows now, before it "
                        "changes."
                    ),
                    code="wrong",
                )
            raise error from None
        return code


class SignInCodeForm(forms.Form):
    """The app's code or a backup code, each checked against its own device.

    `app` and `backup` are the person's confirmed devices (either may be None). After a
    valid form, `device` is the one that accepted the code.
    """

    code = forms.CharField(
        label=_("6-digit code or backup code"),
        help_text=_(
            "The 6 numbers your authenticator app shows now. No phone with you? Type one "
            "of your backup codes instead."
        ),
        max_length=40,
        # Backup codes have letters: no number-only keyboard.
        widget=code_widget(),
    )

    def __init__(self, app, backup, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.app, self.backup, self.device = app, backup, None

    @property
    def used_backup_code(self):
        return self.device is not None and self.device == self.backup

    def clean_code(self):
        code = typed(self.cleaned_data["code"])
        if APP_CODE.fullmatch(code):
            device = self.app
            missing = _("Your app is not set up. Type one of your backup codes.")
        elif BACKUP_CODE.fullmatch(code):
            device = self.backup
            missing = _("You have no backup codes left. Type the code your app shows.")
        else:
            raise forms.ValidationError(
                _(
                    "Type the 6 numbers your app shows (for example 123456), or a backup "
                    "code of 8 letters and numbers."
                ),
                code="format",
            )
        if device is None:
            raise forms.ValidationError(missing, code="no_device")
        try:
            self.device = check(device, code)
        except forms.ValidationError as error:
            if error.code == "wrong":
                error = forms.ValidationError(
                    _(
                        "That code did not work. Type the code your app shows now, or a "
                        "backup code you have not used before."
                    ),
                    code="wrong",
                )
            raise error from None
        return code
