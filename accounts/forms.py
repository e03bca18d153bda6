"""The one field staff fill in at the second sign-in step: the code their app shows."""

import math
import re

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp import verify_token


class CodeForm(forms.Form):
    """Checks a code against one device (django-otp refuses replays and slows guessing).

    After a valid form, `device` is the device as saved by the check (its last-used
    time step moved on), so callers save it without undoing that.
    """

    code = forms.CharField(
        label=_("6-digit code"),
        help_text=_("The numbers your authenticator app shows now. They change every 30 seconds."),
        max_length=20,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autocapitalize": "off",
                "spellcheck": "false",
                "autofocus": True,
            }
        ),
    )

    def __init__(self, device, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.device = device

    def clean_code(self):
        code = re.sub(r"[\s-]", "", self.cleaned_data["code"])
        if not re.fullmatch(r"\d{6}", code):
            raise forms.ValidationError(
                _("Type the 6 numbers your app shows, for example 123456."), code="format"
            )
        allowed, details = self.device.verify_is_allowed()
        if not allowed:
            # Each wrong code doubles the wait before the next try (django-otp).
            wait = (details or {}).get("locked_until", timezone.now()) - timezone.now()
            seconds = max(1, math.ceil(wait.total_seconds()))
            raise forms.ValidationError(
                ngettext(
                    "Too many wrong codes. Wait %(seconds)d second, then type the code "
                    "your app shows.",
                    "Too many wrong codes. Wait %(seconds)d seconds, then type the code "
                    "your app shows.",
                    seconds,
                )
                % {"seconds": seconds},
                code="throttled",
            )
        verified = verify_token(self.device.user, self.device.persistent_id, code)
        if verified is None:
            raise forms.ValidationError(
                _("That code did not work. Type the code your app shows now, before it changes."),
                code="wrong",
            )
        self.device = verified
        return code
