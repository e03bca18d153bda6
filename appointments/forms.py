"""The public request forms. They carry every rule about what a patient may send.

Both forms share the safety screen, the form token, the spam trap and the error summary
(`RequestForm`); each lists its own fields. Messages say what to do, in plain words.

The safety screen asks "Do you have a pain pump now?" first (the `patient_type` field,
so the consultation form does not ask it twice). The two pump questions can be answered
"I don't have a pump", which is stored as no: a person without a pump is never made
urgent by them. When the answers disagree, we never guess a "no":
- "no pump" and then "yes" to a pump question: when in doubt, a yes counts. The
  request is sent and urgent (the front desk sorts it out on the phone), rather than
  held back from someone whose pump may be beeping;
- "I have a pump" and then "I don't have a pump" to a pump question: that question has
  no real answer, so the patient is asked to choose yes or no.

The form token (hidden field "started") is signed, carries when the form was shown and
a random nonce, and is used once: the request it made stores its hash, so the same token
sent again (a double click, the back button) finds that request instead of making a
second one. A token that is too fresh (browser autofill) or that does not verify (an old
secret key) gives the form back with a fresh token: a person is never mistaken for a bot.
"""

import hashlib
import logging
import math
import re
import secrets
import time

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Fieldset, Layout, Submit
from django import forms
from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.core import signing
from django.utils.functional import lazy
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import format_lazy
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField
from phonenumber_field.phonenumber import to_python as to_phone_number
from phonenumbers import example_number

from education.models import Procedure

from .models import Request

logger = logging.getLogger(__name__)

TOKEN_SALT = "appointments.form-started"
TOKEN_FIELD = "started"
HONEYPOT = "website"
# In page order. The two pump questions come first, right after "Do you have a pump?".
PUMP_FIELDS = ["safety_pump_alarm", "safety_withdrawal"]
SAFETY_FIELDS = [*PUMP_FIELDS, "safety_fever", "safety_breathing"]

# The language questions, the same on both forms (the form's own language is recorded
# too: services.submit_request).
LANGUAGE_FIELDS = ["language", "needs_interpreter"]
LANGUAGE_LABELS = {
    "language": _("What language do you want to speak with us? (optional)"),
    "needs_interpreter": _("I would like an interpreter"),
}
LANGUAGE_HELP = {
    "language": _("For example: English, Spanish, Vietnamese."),
    "needs_interpreter": _("An interpreter is free for you."),
}
LANGUAGE_ERRORS = {"language": {"max_length": _("Make this shorter, please.")}}
YES, NO, NO_PUMP = "yes", "no", "no_pump"
YES_NO = [(YES, _("Yes")), (NO, _("No"))]
YES_NO_NO_PUMP = [*YES_NO, (NO_PUMP, _("I don't have a pump"))]
HAS_PUMP_CHOICES = [
    (Request.PatientType.HAS_PUMP, _("Yes, I have a pain pump")),
    (Request.PatientType.NEW, _("No, I do not have a pump")),
]

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
    return value == YES


def yes_no_field(label, required_message, choices=YES_NO):
    """A required radio question stored as a boolean: "yes" is True, any other answer False."""
    return forms.TypedChoiceField(
        label=label,
        choices=choices,
        coerce=_is_yes,
        widget=forms.RadioSelect,
        error_messages={"required": required_message},
    )


def question_with_hints(question, *hints):
    """A question's label with lines of explanation under it, translated when shown.

    It stays inside the <legend> (or <label>), so a screen reader reads the question and
    its explanation together, before the answers.
    """

    def render():
        lines = format_html_join("", '<span class="question-hint">{}</span>', ((h,) for h in hints))
        return format_html("{}{}", question, lines)

    return lazy(render, SafeString)()


# The form token ---------------------------------------------------------------------------


def start_token(started_at=None):
    """A signed, single-use token for the hidden field: when the form was shown, and a nonce."""
    started_at = time.time() if started_at is None else started_at
    return signing.dumps({"t": started_at, "n": secrets.token_urlsafe(16)}, salt=TOKEN_SALT)


def token_time(token):
    """When the form with this token was shown (seconds since the epoch), or None.

    None when the token does not verify with SECRET_KEY or one of SECRET_KEY_FALLBACKS
    (Django's signing reads both), or holds no time. Tokens from before the nonce (a
    bare number) still verify.
    """
    try:
        value = signing.loads(str(token or ""), salt=TOKEN_SALT)
    except signing.BadSignature:
        return None
    if isinstance(value, dict):
        value = value.get("t")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return value


def token_key(token):
    """What the request stores of the token that made it: its SHA-256, in hex."""
    return hashlib.sha256(str(token).encode("utf-8", "replace")).hexdigest()


class RequestForm(forms.ModelForm):
    """What both public forms share: safety questions, token, spam trap, phone, error summary."""

    patient_type = forms.ChoiceField(
        label=_("Do you have a pain pump now?"),
        choices=HAS_PUMP_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": _("Answer yes or no: do you have a pain pump now?")},
    )
    safety_pump_alarm = yes_no_field(
        _("Is your pump alarm beeping?"),
        _(
            "Choose an answer: is your pump alarm beeping? "
            "If you have no pump, choose “I don't have a pump”."
        ),
        YES_NO_NO_PUMP,
    )
    # The signs are the guide's own warning signs (the "call us now" box of "When to get
    # help"), in its words. More pain alone is not among them: a flare is not urgent.
    safety_withdrawal = yes_no_field(
        question_with_hints(
            _("Do you have signs of withdrawal from your pump medicine?"),
            _(
                "With an opioid, like morphine: several of these at once: sweating, "
                "yawning, runny nose, goose bumps, belly cramps or diarrhea."
            ),
            _("With baclofen: new itching without a rash, tingling, or spasms coming back."),
        ),
        _(
            "Choose an answer: do you have signs of withdrawal? "
            "If you have no pump, choose “I don't have a pump”."
        ),
        YES_NO_NO_PUMP,
    )
    safety_fever = yes_no_field(
        _("Do you have a fever and a red, leaking or painful wound, or a stiff neck?"),
        _("Answer yes or no: do you have a fever with a wound problem or a stiff neck?"),
    )
    safety_breathing = yes_no_field(
        _("Are you very sleepy, hard to wake up, or breathing slowly?"),
        _("Answer yes or no: are you very sleepy or breathing slowly?"),
    )
    preferred_time = forms.ChoiceField(
        label=_("When is the best time to call you?"),
        choices=Request.TimeOfDay.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the best time to call you.")},
    )
    voicemail_ok = forms.TypedChoiceField(
        label=_("Can we leave a voice message on this phone?"),
        choices=[
            (YES, _("Yes, you can leave a message")),
            (NO, _("No, please do not leave a message")),
        ],
        coerce=_is_yes,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose if we can leave a voice message on this phone.")},
    )
    website = forms.CharField(
        label=_("Leave this box empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    # A plain Field: no validator of its own (a CharField refuses NUL characters) may
    # answer before clean_started(), which always puts a fresh token in the form.
    started = forms.Field(required=False, widget=forms.HiddenInput)

    submit_label = _("Send my request")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The token as sent, before validation may put a fresh one in the form.
        self.sent_token = str(self.data.get(self.add_prefix(TOKEN_FIELD)) or "")
        self.fields[TOKEN_FIELD].initial = start_token()
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
            "patient_type",
            HTML(
                '<p class="form-note">{% load i18n %}{% translate "If you have any of the '
                "problems below right now, call 911 or call the clinic. Do not wait for us "
                'to call you." %}</p>'
            ),
            *SAFETY_FIELDS,
        )

    def trap_fields(self):
        return [Div(HONEYPOT, css_class="form-trap", hidden=True), TOKEN_FIELD]

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

    def clean_language(self):
        return " ".join(refuse_control_characters(self.cleaned_data["language"]).split())

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        return refuse_control_characters(reason, CONTROL_CHARACTERS_IN_TEXT)

    def clean_started(self):
        """Give the form back, with a fresh token, when the token cannot be used as sent.

        - Too fresh (sent sooner than REQUEST_MIN_FILL_SECONDS: browser autofill does
          that) or not verifying (missing, changed, or signed with a key we no longer
          have): a person may have sent it, so they are asked to check and send again.
        - Older than REQUEST_FORM_MAX_AGE_HOURS: that stops a bot replaying one old
          token forever; a patient who left the tab open just presses Send again.

        Everything they typed stays in the form. The fresh token already counts as
        "filled in slowly", so pressing Send straight away works.
        """
        started_at = token_time(self.sent_token)
        age = None if started_at is None else time.time() - started_at
        if age is not None and age >= settings.REQUEST_MIN_FILL_SECONDS:
            if age <= settings.REQUEST_FORM_MAX_AGE_HOURS * 3600:
                return self.sent_token
            message = _(
                "This page was open for a long time, so we could not send it. "
                "Check your answers, then press “%(send)s” again."
            )
            code = "expired"
        else:
            message = _(
                "Your request is not sent yet. Please check your answers, then press “%(send)s”."
            )
            code = "too_fast" if age is not None else "bad_token"
        self.data = self.data.copy()
        self.data[self.add_prefix(TOKEN_FIELD)] = start_token(
            time.time() - settings.REQUEST_MIN_FILL_SECONDS
        )
        raise forms.ValidationError(message, code=code, params={"send": self.submit_label})

    def clean(self):
        cleaned = super().clean()
        # "I have a pump", then "I don't have a pump" to a pump question: no real answer.
        # (The other way round, "no pump" then "yes", is kept: a yes always counts.)
        if cleaned.get("patient_type") == Request.PatientType.HAS_PUMP:
            for name in PUMP_FIELDS:
                if name not in self.errors and self.data.get(self.add_prefix(name)) == NO_PUMP:
                    self.add_error(
                        name,
                        forms.ValidationError(
                            _("You said you have a pain pump. Choose yes or no here."),
                            code="pump_no_pump",
                        ),
                    )
        return cleaned

    def full_clean(self):
        super().full_clean()
        # With other problems to fix, "check your answers and send again" adds nothing:
        # the fresh token is in the form either way. Alone, it is the only message.
        self.token_problem = None  # "too_fast", "bad_token" or "expired", for the log
        if self.is_bound and TOKEN_FIELD in self._errors:
            self.token_problem = self._errors[TOKEN_FIELD].as_data()[0].code
            if len(self._errors) > 1:
                del self._errors[TOKEN_FIELD]

    # The token and the spam trap --------------------------------------------------------

    def submission_key(self):
        """The hash stored with the request this token makes; None if it does not verify."""
        if token_time(self.sent_token) is None:
            return None
        return token_key(self.sent_token)

    def honeypot_filled(self):
        """A bot filled the box people cannot see. Checked before validation.

        The bot gets the normal confirmation page and nothing is stored (the view
        counts it). Nothing else about a send is taken as a sign of a bot.
        """
        return bool(str(self.data.get(self.add_prefix(HONEYPOT)) or "").strip())

    def safety_yes(self):
        """True when any safety question was answered yes, even if the form has errors."""
        return any(self.data.get(self.add_prefix(name)) == YES for name in SAFETY_FIELDS)

    # Error summary ----------------------------------------------------------------------

    def error_summary(self):
        """[(anchor or "", message)]: page-wide messages first, then the fields in page order."""
        items = [("", error) for error in self.non_field_errors()]
        items += [("", error) for field in self.hidden_fields() for error in field.errors]
        for bound_field in self.visible_fields():
            for error in bound_field.errors:
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
            "patient_type",
            *SAFETY_FIELDS,
            "name",
            "phone",
            "email",
            "contact_method",
            "preferred_time",
            "voicemail_ok",
            "procedure",
            "reason",
            "referring_doctor",
            *LANGUAGE_FIELDS,
            "data_consent",
        ]
        labels = {
            "name": _("Your full name"),
            "phone": _("Phone number"),
            "email": _("Email (optional if you give a phone number)"),
            "reason": _("In a few words, why are you asking for a visit?"),
            "referring_doctor": _("Which doctor sent you to us? (optional)"),
            **LANGUAGE_LABELS,
        }
        help_texts = {
            "phone": _("Include the area code. You can leave it empty if you give an email."),
            "reason": _("For example: “back pain for 2 years” or “my pump needs a refill”."),
            **LANGUAGE_HELP,
        }
        error_messages = {
            "name": {"required": _("Enter your name.")},
            "email": {"invalid": _("Enter an email address like name@example.com.")},
            "reason": {
                "required": _("Tell us in a few words why you are asking for a visit."),
                "max_length": _("Make this shorter: %(limit_value)d letters at most."),
            },
            "referring_doctor": {"max_length": _("Make this shorter, please.")},
            **LANGUAGE_ERRORS,
        }
        widgets = {
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "reason": forms.Textarea(attrs={"rows": 3}),
            "referring_doctor": forms.TextInput(attrs={"autocomplete": "off"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phone"].required = False
        # The pages of the reader's language (an English page where there is no Spanish
        # one yet, as the guide list shows): one choice per treatment, whose address
        # (slug) is the same in both languages.
        self.fields["procedure"].queryset = Procedure.objects.published().for_language(
            get_language()
        )

    def clean_procedure(self):
        """A Spanish page counts as the English page it translates: the front desk works
        in English, and one treatment is one choice in the worklist's filter."""
        procedure = self.cleaned_data["procedure"]
        if procedure is not None and procedure.translation_of_id:
            return procedure.translation_of
        return procedure

    def get_layout(self):
        return Layout(
            self.safety_fieldset(),
            Fieldset(_("About you"), "name", "phone", "email"),
            Fieldset(_("How to reach you"), "contact_method", "preferred_time", "voicemail_ok"),
            Fieldset(_("Your visit"), "procedure", "reason", "referring_doctor"),
            Fieldset(_("Language"), *LANGUAGE_FIELDS),
            Fieldset(_("Your details"), "data_consent"),
            *self.trap_fields(),
        )

    def clean_email(self):
        email = refuse_control_characters(self.cleaned_data["email"].strip())
        return BaseUserManager.normalize_email(email)

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
        if phone and cleaned.get("voicemail_ok") is None and "voicemail_ok" not in self.errors:
            self.add_error(
                "voicemail_ok", _("Choose if we can leave a voice message on this phone.")
            )
        return cleaned


class CallBackRequestForm(RequestForm):
    """The shortest way to be called: name, phone, voicemail, best time and a few words."""

    submit_label = _("Please call me")

    class Meta:
        model = Request
        fields = [
            "patient_type",
            *SAFETY_FIELDS,
            "name",
            "phone",
            "voicemail_ok",
            "preferred_time",
            "reason",
            *LANGUAGE_FIELDS,
        ]
        labels = {
            "name": _("Your full name"),
            "phone": _("Phone number"),
            "reason": _("In a few words, what would you like to talk about?"),
            **LANGUAGE_LABELS,
        }
        help_texts = {
            "phone": _("Include the area code."),
            "reason": _("For example: “questions about the pump trial”."),
            **LANGUAGE_HELP,
        }
        error_messages = {
            "name": {"required": _("Enter your name.")},
            "reason": {
                "required": _("Tell us in a few words what you want to talk about."),
                "max_length": _("Make this shorter: %(limit_value)d letters at most."),
            },
            **LANGUAGE_ERRORS,
        }
        widgets = {"reason": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phone"].required = True
        # The phone is required here, so the voicemail question is too.
        self.fields["voicemail_ok"].required = True

    def get_layout(self):
        return Layout(
            self.safety_fieldset(),
            Fieldset(_("About you"), "name", "phone", "voicemail_ok", "preferred_time", "reason"),
            Fieldset(_("Language"), *LANGUAGE_FIELDS),
            HTML(
                '<p class="form-note">{% load i18n %}{% translate "We keep what you write '
                'here only to call you back. Only clinic staff can see it." %}</p>'
            ),
            *self.trap_fields(),
        )
