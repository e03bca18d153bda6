"""The public request forms. They carry every rule about what a patient may send.

Both forms share the safety screen, the spam traps and the error summary (`RequestForm`);
each lists its own fields. Messages say what to do, in plain words.
"""

import logging
import re
import time

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Fieldset, Layout, Submit
from django import forms
from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.core import signing
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField
from phonenumber_field.phonenumber import to_python as to_phone_number
from phonenumbers import example_number

from education.models import Procedure

from .models import Request

logger = logging.getLogger(__name__)

TOKEN_SALT = "appointments.form-started"
HONEYPOT = "website"
SAFETY_FIELDS = [
    "safety_pump_alarm",
    "safety_fever",
    "safety_breathing",
    "safety_withdrawal",
]
YES_NO = [("yes", _("Yes")), ("no", _("No"))]

# Characters nobody types into a one-line box: control characters (line breaks and tabs
# too) and the invisible marks that reverse how text is shown (they can disguise a name
# in the admin). The reason box may keep its line breaks and tabs.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
CONTROL_CHARACTERS_IN_TEXT = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
)


def refuse_control_characters(value, pattern=CONTROL_CHARACTERS):
    if pattern.search(value or ""):
        raise forms.ValidationError(
            _("This has a hidden character we cannot use. Please type it again."),
            code="control_character",
        )
    return value


def _is_yes(value):
    return value == "yes"


def yes_no_field(label, required_message):
    return forms.TypedChoiceField(
        label=label,
        choices=YES_NO,
        coerce=_is_yes,
        widget=forms.RadioSelect,
        error_messages={"required": required_message},
    )


def start_token(started_at=None):
    """A signed time stamp for the hidden field that times how long the form took."""
    return signing.dumps(time.time() if started_at is None else started_at, salt=TOKEN_SALT)


class RequestForm(forms.ModelForm):
    """What both public forms share: safety questions, spam traps, phone, error summary."""

    safety_pump_alarm = yes_no_field(
        _("Is your pump alarm beeping?"), _("Answer yes or no: is your pump alarm beeping?")
    )
    safety_fever = yes_no_field(
        _("Do you have a fever and a red, leaking or painful wound, or a stiff neck?"),
        _("Answer yes or no: do you have a fever with a wound problem or a stiff neck?"),
    )
    safety_breathing = yes_no_field(
        _("Are you very sleepy, hard to wake up, or breathing slowly?"),
        _("Answer yes or no: are you very sleepy or breathing slowly?"),
    )
    safety_withdrawal = yes_no_field(
        _(
            "Do you have signs of withdrawal: sweating, shaking, goosebumps, "
            "stomach cramps or much more pain than usual?"
        ),
        _("Answer yes or no: do you have signs of withdrawal?"),
    )
    preferred_time = forms.ChoiceField(
        label=_("When is the best time to call you?"),
        choices=Request.TimeOfDay.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the best time to call you.")},
    )
    website = forms.CharField(
        label=_("Leave this box empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    started = forms.CharField(required=False, widget=forms.HiddenInput)

    submit_label = _("Send my request")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["started"].initial = start_token()
        # Built here, not at import, so the region follows the setting (and tests).
        region = settings.PHONENUMBER_DEFAULT_REGION
        self.fields["phone"] = PhoneNumberField(
            label=self.fields["phone"].label,
            region=region,
            required=self.fields["phone"].required,
            help_text=self.fields["phone"].help_text,
            error_messages={
                "required": _("Enter your phone number, so we can call you."),
                "invalid": format_lazy(
                    _("Enter a phone number with the area code, like {example}."),
                    example=to_phone_number(example_number(region)).as_national,
                ),
            },
        )
        self.fields["phone"].widget.attrs.update(
            {"autocomplete": "tel", "inputmode": "tel", "maxlength": "30"}
        )
        self.fields["name"].widget.attrs.update({"autocomplete": "name"})
        self.helper = FormHelper()
        self.helper.attrs = {"novalidate": True}
        self.helper.layout = self.get_layout()
        self.helper.add_input(Submit("send", self.submit_label))

    def safety_fieldset(self):
        return Fieldset(
            _("First, some safety questions"),
            HTML(
                '<p class="form-note">{% load i18n %}{% translate "If you have any of these '
                'right now, call 911 or call the clinic. Do not wait for us to call you." %}</p>'
            ),
            *SAFETY_FIELDS,
        )

    def trap_fields(self):
        return [Div(HONEYPOT, css_class="form-trap", hidden=True), "started"]

    def clean_phone(self):
        # The phone box reads the number out of what was typed; refuse hidden characters
        # in what was typed, not only in the number.
        refuse_control_characters(self.data.get(self.add_prefix("phone"), ""))
        return self.cleaned_data["phone"]

    def clean_name(self):
        name = " ".join(refuse_control_characters(self.cleaned_data["name"]).split())
        if len(name) < 2:
            raise forms.ValidationError(_("Enter your name."), code="short")
        return name

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        return refuse_control_characters(reason, CONTROL_CHARACTERS_IN_TEXT)

    def clean_started(self):
        """A form shown more than REQUEST_FORM_MAX_AGE_HOURS ago asks to be sent again.

        That stops a bot replaying one old token forever; a patient who left the tab
        open just presses Send again, with everything they typed still there.
        """
        token = self.cleaned_data["started"]
        started_at = self._started_at()
        max_age = settings.REQUEST_FORM_MAX_AGE_HOURS * 3600
        if started_at is not None and time.time() - started_at > max_age:
            # A fresh token that already counts as "filled in slowly", so pressing
            # Send straight away works.
            self.data = self.data.copy()
            self.data[self.add_prefix("started")] = start_token(
                time.time() - settings.REQUEST_MIN_FILL_SECONDS
            )
            raise forms.ValidationError(
                _(
                    "This page was open for a long time, so we could not send it. "
                    "Check your answers, then press “%(send)s” again."
                ),
                code="expired",
                params={"send": self.submit_label},
            )
        return token

    # Spam traps -------------------------------------------------------------------------

    def _started_at(self):
        """When the form was shown (seconds since the epoch), or None if the token is bad."""
        try:
            started_at = signing.loads(
                self.data.get(self.add_prefix("started"), ""), salt=TOKEN_SALT
            )
        except signing.BadSignature:
            return None
        return started_at if isinstance(started_at, int | float) else None

    def spam_reason(self):
        """Why this submission looks like a bot, or None. Checked before validation.

        A bot gets the normal confirmation page and nothing is stored. A person who
        left the page open too long is not a bot: clean_started() asks them to resend.
        """
        if self.data.get(self.add_prefix(HONEYPOT), "").strip():
            return "honeypot"
        started_at = self._started_at()
        if started_at is None:
            return "token"
        if time.time() - started_at < settings.REQUEST_MIN_FILL_SECONDS:
            return "too fast"
        return None

    def safety_yes(self):
        """True when any safety question was answered yes, even if the form has errors."""
        return any(self.data.get(self.add_prefix(name)) == "yes" for name in SAFETY_FIELDS)

    # Error summary ----------------------------------------------------------------------

    def error_summary(self):
        """[(anchor or "", message)] in page order, for the summary at the top."""
        items = [("", error) for error in self.non_field_errors()]
        for bound_field in self:
            for error in bound_field.errors:
                anchor = ""
                if not bound_field.is_hidden:
                    anchor = bound_field.id_for_label or f"{bound_field.auto_id}_0"
                items.append((anchor, error))
        return items


class ConsultationRequestForm(RequestForm):
    """A request for a first visit or a pump review: everything the front desk asks first."""

    procedure = forms.ModelChoiceField(
        label=_("What treatment are you asking about? (optional)"),
        queryset=Procedure.objects.none(),
        to_field_name="slug",
        required=False,
        empty_label=_("I am not sure"),
    )
    contact_method = forms.ChoiceField(
        label=_("How should we contact you?"),
        choices=Request.ContactMethod.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how we should contact you.")},
    )
    patient_type = forms.ChoiceField(
        label=_("Are you new to the clinic, or do you already have a pain pump?"),
        choices=[
            (Request.PatientType.NEW, _("I am new to the clinic")),
            (Request.PatientType.HAS_PUMP, _("I already have a pain pump")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Tell us if you are new or already have a pump.")},
    )
    voicemail_ok = forms.TypedChoiceField(
        label=_("Can we leave a voice message on this phone?"),
        choices=[
            ("yes", _("Yes, you can leave a message")),
            ("no", _("No, please do not leave a message")),
        ],
        coerce=_is_yes,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )
    data_consent = forms.BooleanField(
        label=_(
            "I agree that the clinic keeps what I wrote here and uses it only to contact "
            "me about this request. Only clinic staff can see it."
        ),
        error_messages={"required": _("Check the box to say you agree, so we can contact you.")},
    )

    class Meta:
        model = Request
        # In the order the form asks (the safety questions first).
        fields = [
            *SAFETY_FIELDS,
            "name",
            "phone",
            "email",
            "contact_method",
            "preferred_time",
            "voicemail_ok",
            "patient_type",
            "procedure",
            "reason",
            "referring_doctor",
            "language",
            "needs_interpreter",
            "data_consent",
        ]
        labels = {
            "name": _("Your full name"),
            "phone": _("Phone number"),
            "email": _("Email (optional if you give a phone number)"),
            "reason": _("In a few words, why are you asking for a visit?"),
            "referring_doctor": _("Which doctor sent you to us? (optional)"),
            "language": _("What language do you want to speak with us? (optional)"),
            "needs_interpreter": _("I would like an interpreter"),
        }
        help_texts = {
            "phone": _("Include the area code. You can leave it empty if you give an email."),
            "reason": _("For example: “back pain for 2 years” or “my pump needs a refill”."),
            "language": _("For example: English, Spanish, Vietnamese."),
        }
        error_messages = {
            "name": {"required": _("Enter your name.")},
            "email": {"invalid": _("Enter an email address like name@example.com.")},
            "reason": {
                "required": _("Tell us in a few words why you are asking for a visit."),
                "max_length": _("Make this shorter: %(limit_value)d letters at most."),
            },
            "referring_doctor": {"max_length": _("Make this shorter, please.")},
            "language": {"max_length": _("Make this shorter, please.")},
        }
        widgets = {
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "reason": forms.Textarea(attrs={"rows": 3}),
            "referring_doctor": forms.TextInput(attrs={"autocomplete": "off"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phone"].required = False
        self.fields["procedure"].queryset = Procedure.objects.published()

    def get_layout(self):
        return Layout(
            self.safety_fieldset(),
            Fieldset(_("About you"), "name", "phone", "email"),
            Fieldset(_("How to reach you"), "contact_method", "preferred_time", "voicemail_ok"),
            Fieldset(_("Your visit"), "patient_type", "procedure", "reason", "referring_doctor"),
            Fieldset(_("Language"), "language", "needs_interpreter"),
            Fieldset(_("Your details"), "data_consent"),
            *self.trap_fields(),
        )

    def clean_email(self):
        email = refuse_control_characters(self.cleaned_data["email"].strip())
        return BaseUserManager.normalize_email(email)

    def clean_language(self):
        return " ".join(refuse_control_characters(self.cleaned_data["language"]).split())

    def clean_referring_doctor(self):
        return " ".join(refuse_control_characters(self.cleaned_data["referring_doctor"]).split())

    def clean(self):
        cleaned = super().clean()
        phone, email = cleaned.get("phone"), cleaned.get("email")
        method = cleaned.get("contact_method")
        phone_ok = "phone" not in self.errors
        email_ok = "email" not in self.errors
        if phone_ok and email_ok and not phone and not email:
            self.add_error("phone", _("Enter a phone number or an email, so we can reach you."))
        elif method == Request.ContactMethod.PHONE and phone_ok and not phone:
            self.add_error("phone", _("You chose a phone call: enter your phone number."))
        elif method == Request.ContactMethod.EMAIL and email_ok and not email:
            self.add_error("email", _("You chose email: enter your email address."))
        if phone and cleaned.get("voicemail_ok") is None:
            self.add_error(
                "voicemail_ok", _("Choose if we can leave a voice message on this phone.")
            )
        return cleaned


class CallBackRequestForm(RequestForm):
    """The shortest way to be called: name, phone, best time and a few words."""

    submit_label = _("Please call me")

    class Meta:
        model = Request
        fields = [*SAFETY_FIELDS, "name", "phone", "preferred_time", "reason"]
        labels = {
            "name": _("Your full name"),
            "phone": _("Phone number"),
            "reason": _("In a few words, what would you like to talk about?"),
        }
        help_texts = {
            "phone": _("Include the area code."),
            "reason": _("For example: “questions about the pump trial”."),
        }
        error_messages = {
            "name": {"required": _("Enter your name.")},
            "reason": {
                "required": _("Tell us in a few words what you want to talk about."),
                "max_length": _("Make this shorter: %(limit_value)d letters at most."),
            },
        }
        widgets = {"reason": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phone"].required = True

    def get_layout(self):
        return Layout(
            self.safety_fieldset(),
            Fieldset(_("About you"), "name", "phone", "preferred_time", "reason"),
            HTML(
                '<p class="form-note">{% load i18n %}{% translate "We keep what you write '
                'here only to call you back. Only clinic staff can see it." %}</p>'
            ),
            *self.trap_fields(),
        )
