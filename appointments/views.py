"""Public request pages: thin views that validate, call services, and redirect (PRG)."""

import logging

from django.conf import settings
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView, TemplateView

from . import services
from .forms import CallBackRequestForm, ConsultationRequestForm
from .models import DiscardedSend, Request
from .ratelimit import RateLimitMixin
from .references import new_reference

logger = logging.getLogger(__name__)


def redirect_to_thanks(reference, urgent):
    name = "appointments:thanks_urgent" if urgent else "appointments:thanks"
    return redirect(name, reference=reference)


class RequestFormView(RateLimitMixin, FormView):
    """Shows a request form; on a valid send, saves it and redirects to the confirmation.

    Sends are rate limited per client address and form (ratelimit.py); reading is not.
    A filled honeypot gets a confirmation with a reference that does not exist and is
    counted (DiscardedSend); the same form token sent twice gets the first request's
    confirmation; a token that is too fresh or does not verify gets the form back.
    """

    template_name = "appointments/request_form.html"
    # PUT, PATCH and DELETE get 405 (FormView would treat PUT as a send).
    http_method_names = ["get", "post", "head", "options"]
    kind = None
    title = ""
    intro = ""

    def get_rate_limit_scope(self):
        return f"form:{self.kind}"

    def post(self, request, *args, **kwargs):
        form = self.get_form()
        if form.honeypot_filled():
            # Same answer a person gets, so a bot learns nothing; nothing is stored, but
            # every discard is counted (the admin shows the counts). No patient details
            # in the log.
            DiscardedSend.objects.count_one(self.kind, "honeypot")
            logger.info("Discarded a %s form caught by the honeypot.", self.kind)
            return redirect_to_thanks(new_reference(), form.safety_yes())
        if (key := form.submission_key()) and (sent := services.find_sent_request(key)):
            # The same form sent again (a double click, the back button): the same
            # confirmation, never a second request.
            logger.info("A %s form was sent again: request %s.", self.kind, sent.reference)
            return redirect_to_thanks(sent.reference, sent.urgent)
        if form.is_valid():
            return self.form_valid(form)
        return self.form_invalid(form)

    def form_valid(self, form):
        saved = services.submit_request(form, self.kind)
        return redirect_to_thanks(saved.reference, saved.urgent)

    def form_invalid(self, form):
        if form.token_problem:
            # Too fast, a token that does not verify, or a page open for days: the
            # patient gets the form back to send again. In the log, without details.
            logger.info("Gave a %s form back to send again (%s).", self.kind, form.token_problem)
        return super().form_invalid(form)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["form"]
        context.update(
            title=self.title,
            intro=self.intro,
            show_safety_warning=form.is_bound and form.safety_yes(),
        )
        return context


class ConsultationRequestView(RequestFormView):
    form_class = ConsultationRequestForm
    kind = Request.Kind.CONSULTATION
    title = _("Request a consultation")
    intro = _(
        "Ask for a visit to talk about a pain pump or your treatment. "
        "It takes about two minutes. We will call you to set up a time."
    )

    def get_initial(self):
        # The procedure page the patient came from (?procedure=<slug>) is preselected;
        # an unknown or unpublished slug is simply not among the choices.
        return {"procedure": self.request.GET.get("procedure", "")[:80]}


class CallBackRequestView(RequestFormView):
    form_class = CallBackRequestForm
    kind = Request.Kind.CALL_BACK
    title = _("Ask us to call you")
    intro = _("Leave your number and we will call you back. It takes about one minute.")


class ThanksView(TemplateView):
    """The confirmation: the reference, what happens next and the clinic's number.

    It reads nothing from the database and shows no patient data, so a guessed
    reference reveals nothing and a bot's page looks like everyone else's.
    The urgent variant (any safety answer was yes) says to call now instead of waiting.
    """

    template_name = "appointments/thanks.html"
    urgent = False

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            urgent=self.urgent, target_days=settings.RESPONSE_TARGET_ROUTINE_BUSINESS_DAYS
        )
        return context

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        response["X-Robots-Tag"] = "noindex"
        return response
