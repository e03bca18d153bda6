"""The front desk's worklist: today's calls first, every row enough to make the call.

The list opens on "Today's calls": urgent requests nobody has reached, then overdue,
then follow-ups due today, then new ones. Each row has the name, a tap-to-call phone,
the best time, whether a voicemail may be left, the language, and the status with the
next follow-up or appointment, so staff work the list without opening every row.

Submitted data is read-only; staff edit status, assignment, follow-up, appointment and
notes, and log calls inline. A logged call is a record: only a superuser changes one.
Every change goes through services.py, which records who did what; a save from a form
opened before a colleague's save is refused instead of undoing it.
"""

import csv
import datetime
import logging
import re

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, IntegerField, Q, Sum, Value, When
from django.http import HttpResponse, HttpResponseBadRequest
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince
from django.utils.translation import get_language_info, ngettext
from django.utils.translation import gettext_lazy as _
from phonenumber_field.phonenumber import to_python as to_phone_number
from phonenumbers import region_code_for_number

from . import admin_calendar, business_days, services  # noqa: F401 (registers ClosureDay)
from .forms import SAFETY_FIELDS
from .models import ContactAttempt, DiscardedSend, Request, RequestEvent
from .references import ReferenceConverter

logger = logging.getLogger(__name__)

FRONT_DESK_GROUP = "Front desk"
REFERENCE = re.compile(ReferenceConverter.regex)


# Filters ------------------------------------------------------------------------------


Status = Request.Status


def needs_call_today(today):
    """Open requests with a call to make today: new ones, and follow-ups due by today.

    A contacted request without a follow-up day is here too, so it cannot be forgotten.
    """
    return (
        Q(status=Status.NEW)
        | Q(status=Status.CONTACTED)
        & (Q(next_follow_up__isnull=True) | Q(next_follow_up__lte=today))
        | Q(status=Status.SCHEDULED, next_follow_up__lte=today)
    )


def worklist_priority(today, overdue):
    """0 urgent and not yet reached, 1 overdue, 2 follow-up due today, 3 new, 4 the rest."""
    return Case(
        When(Q(urgent=True, status=Status.NEW), then=Value(0)),
        When(overdue, then=Value(1)),
        When(~Q(status=Status.CLOSED) & Q(next_follow_up__lte=today), then=Value(2)),
        When(status=Status.NEW, then=Value(3)),
        default=Value(4),
        output_field=IntegerField(),
    )


SHOW_CHOICES = [
    ("today", _("Today's calls")),
    ("open", _("All open (not closed)")),
    *Status.choices,
    ("all", _("All")),
]
# Views worked in priority order (urgent first...); the others list the newest first.
WORKED_VIEWS = {"today", "open", Status.NEW, Status.CONTACTED, Status.SCHEDULED}


def chosen_view(request):
    """The list's "show" choice: today's calls unless another is chosen; with a search
    term and no choice, every request (a search must find a closed one too). Odd values
    are ignored."""
    value = request.GET.get("show", "")
    if value in dict(SHOW_CHOICES):
        return value
    return "all" if request.GET.get("q", "").strip() else "today"


class ShowFilter(admin.SimpleListFilter):
    """The list opens on today's calls; a search looks through every request instead."""

    title = _("show")
    parameter_name = "show"

    def lookups(self, request, model_admin):
        return SHOW_CHOICES

    def __init__(self, request, params, model, model_admin):
        self.chosen = chosen_view(request)
        super().__init__(request, params, model, model_admin)

    def value(self):
        return self.chosen

    def queryset(self, request, queryset):
        value = self.value()
        if value == "today":
            return queryset.filter(needs_call_today(timezone.localdate()))
        if value == "open":
            return queryset.open()
        if value in Status.values:
            return queryset.filter(status=value)
        return queryset

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


class OverdueFilter(admin.SimpleListFilter):
    title = _("past the response target")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("Overdue")), ("no", _("Not overdue"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.overdue()
        if self.value() == "no":
            return queryset.exclude(Request.objects.overdue_condition())
        return queryset


def front_desk_staff():
    """Who can be assigned a request: active front-desk staff and superusers."""
    return (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True)
        .filter(Q(groups__name=FRONT_DESK_GROUP) | Q(is_superuser=True))
        .distinct()
        .order_by("username")
    )


class AssignedFilter(admin.SimpleListFilter):
    title = _("assigned to")
    parameter_name = "assigned"

    def lookups(self, request, model_admin):
        return [
            ("mine", _("Mine")),
            ("unassigned", _("Unassigned")),
            *((str(user.pk), user.get_username()) for user in front_desk_staff()),
        ]

    def queryset(self, request, queryset):
        value = self.value() or ""
        if value == "mine":
            return queryset.filter(assigned_to=request.user)
        if value == "unassigned":
            return queryset.filter(assigned_to__isnull=True)
        # ASCII digits only ("²".isdigit() is true); any other value is ignored.
        if value.isascii() and value.isdigit() and len(value) < 10:
            return queryset.filter(assigned_to_id=int(value))
        return queryset


class DuplicateFilter(admin.SimpleListFilter):
    title = _("possible duplicate")
    parameter_name = "duplicate"

    def lookups(self, request, model_admin):
        return [("yes", _("Possible duplicate")), ("no", _("No"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(possible_duplicate_of__isnull=False)
        if self.value() == "no":
            return queryset.filter(possible_duplicate_of__isnull=True)
        return queryset


# Forms --------------------------------------------------------------------------------


class RequestAdminForm(forms.ModelForm):
    """Staff edits. The status change is checked by services.check_transition.

    `seen_version` is the request's version when the form was shown: if a colleague
    saved the request since, the save is refused (services.save_staff_edit).
    """

    seen_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Request
        fields = services.STAFF_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["seen_version"].initial = self.instance.version
        if "status" in self.fields and self.instance.pk:
            allowed = services.TRANSITIONS[self.instance.status]
            self.fields["status"].help_text = _("From “%(current)s” it can go to: %(allowed)s.") % {
                "current": self.instance.get_status_display(),
                "allowed": ", ".join(
                    str(label) for value, label in Status.choices if value in allowed
                ),
            }
        if "assigned_to" in self.fields:
            self.fields["assigned_to"].queryset = front_desk_staff()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("seen_version") != self.instance.version:
            raise ValidationError(stale_message(self.instance), code="stale")
        status = cleaned.get("status")
        if status is None:
            return cleaned
        if status != Status.CLOSED:
            cleaned["closing_reason"] = ""
        try:
            services.check_transition(
                self.instance.status,
                status,
                cleaned.get("closing_reason", ""),
                cleaned.get("appointment_at"),
            )
        except ValidationError as error:
            field = {"reason": "closing_reason", "appointment": "appointment_at"}.get(
                error.code, "status"
            )
            self.add_error(field, error)
        return cleaned


def stale_message(request):
    """What a person reads when a colleague saved the request after they opened it."""
    last = request.events.exclude(actor=None).select_related("actor").last()
    who = (
        _(" (by %(user)s at %(time)s)")
        % {"user": last.actor.get_username(), "time": timezone.localtime(last.at).strftime("%H:%M")}
        if last
        else ""
    )
    return _(
        "Someone else saved this request after you opened it%(who)s. Nothing was saved: "
        "not your changes and not a new call. Your text is still in the form below: copy "
        "what you need, open the request again, then make your changes there."
    ) % {"who": who}


class ContactAttemptForm(forms.ModelForm):
    class Meta:
        widgets = {"notes": forms.Textarea(attrs={"rows": 2, "cols": 50})}

    def clean_called_at(self):
        called_at = self.cleaned_data["called_at"]
        if called_at and called_at > timezone.now() + datetime.timedelta(minutes=5):
            raise ValidationError(_("A call cannot be in the future. Check the date and time."))
        return called_at


class RequestActionForm(ActionForm):
    closing_reason = forms.ChoiceField(
        label=_("Closing reason (for “Mark closed”):"),
        choices=[("", "---------"), *Request.ClosingReason.choices],
        required=False,
    )


# Inlines ------------------------------------------------------------------------------


class ContactAttemptInline(admin.TabularInline):
    """The call log: add a row for each try. A saved row is a record: read-only to all
    but superusers, whose changes the history shows; a correction is a new row."""

    model = ContactAttempt
    form = ContactAttemptForm
    fields = ["called_at", "outcome", "notes", "called_by"]
    readonly_fields = ["called_by"]
    extra = 1
    can_delete = False
    verbose_name = _("call")
    verbose_name_plural = _(
        "Calls (log each try, even with no answer; to correct one, add a new row)"
    )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("called_by")

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser


class RequestEventInline(admin.TabularInline):
    """The history: read-only for everyone."""

    model = RequestEvent
    fields = ["at", "actor", "action", "old_value", "new_value"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("History (who changed what, and when)")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# The worklist -------------------------------------------------------------------------


CALL_FIELDS = [
    "urgency",
    "safety_summary",
    "name",
    "phone_link",
    "preferred_time",
    "voicemail",
    "language_needs",
    "patient_type",
    "reason",
]
SUBMITTED_FIELDS = [
    "email",
    "contact_method",
    "procedure",
    "referring_doctor",
    "data_consent",
]
REQUEST_FIELDS = [
    "reference",
    "kind",
    "submitted_at",
    "age",
    "duplicate_link",
]
NOTIFICATION_FIELDS = [
    "notification_status",
    "notification_attempts",
    "notification_error",
    "notification_sent_at",
]


class WorklistChangeList(ChangeList):
    """The list page's rows, each given the moment it is due (one query for the page)."""

    def get_results(self, request):
        super().get_results(request)
        waiting = [row for row in self.result_list if row.status == Status.NEW]
        # Always one query, rows or not, so the page's query count never changes.
        calendar = business_days.Calendar.covering(
            [row.submitted_at for row in waiting] or [timezone.now()]
        )
        for row in waiting:
            row.due_at = calendar.due_at(row.submitted_at, row.urgent)


@admin.register(Request)
class RequestAdmin(admin.ModelAdmin):
    form = RequestAdminForm
    action_form = RequestActionForm
    list_display = [
        "request_column",
        "patient_column",
        "call_column",
        "status_column",
        "assigned_to",
    ]
    # The reference in the first column is the link (the phone is a link of its own).
    list_display_links = None
    sortable_by = []
    list_filter = [
        ShowFilter,
        AssignedFilter,
        OverdueFilter,
        "kind",
        "urgent",
        "submitted_at",
        DuplicateFilter,
        "notification_status",
    ]
    list_select_related = ["assigned_to"]
    list_per_page = 50
    show_full_result_count = False
    search_fields = ["reference", "name", "phone", "email"]
    search_help_text = _(
        "Search all requests by reference, name, email, or the whole phone number (any format)."
    )
    readonly_fields = [*CALL_FIELDS, *REQUEST_FIELDS, *SUBMITTED_FIELDS, *NOTIFICATION_FIELDS]
    inlines = [ContactAttemptInline, RequestEventInline]
    actions = ["assign_to_me", "mark_closed", "retry_notification"]
    fieldsets = [
        (
            _("Call the patient"),
            {
                "fields": CALL_FIELDS,
                "description": _("Urgent means the patient said yes to a safety question."),
            },
        ),
        (
            _("Work on this request"),
            {
                "fields": [*services.STAFF_FIELDS, "seen_version"],
                "description": _(
                    "Status goes new → contacted → scheduled → closed. Only a call that "
                    "reaches the patient moves a new request to contacted. Scheduled "
                    "needs the appointment date and time. Closing needs a reason."
                ),
            },
        ),
        (_("Request"), {"fields": REQUEST_FIELDS}),
        (
            _("What else the patient sent"),
            {
                "fields": SUBMITTED_FIELDS,
                "description": _(
                    "Sent by the patient, so it cannot be edited. Put corrections in "
                    "the staff notes."
                ),
            },
        ),
        (
            _("Email to the front desk"),
            {
                "fields": NOTIFICATION_FIELDS,
                "classes": ["collapse"],
                "description": _(
                    "If it failed, it is retried automatically. Use the action "
                    "“Retry notification” to send it again now."
                ),
            },
        ),
    ]

    class Media:
        css = {"all": ["appointments/admin.css"]}

    def get_queryset(self, request):
        # Built here rather than from super(), which orders before the annotation exists.
        today = timezone.localdate()
        overdue = Request.objects.overdue_condition()
        return (
            Request.objects.with_overdue(overdue)
            .annotate(priority=worklist_priority(today, overdue))
            .prefetch_related("attempts")
            .order_by(*self.get_ordering(request))
        )

    def get_ordering(self, request):
        if chosen_view(request) in WORKED_VIEWS:
            return ["priority", "submitted_at"]
        # Closed and all requests, and searches: the newest first, along the index.
        return ["-submitted_at"]

    def get_changelist(self, request, **kwargs):
        return WorklistChangeList

    def get_search_results(self, request, queryset, search_term):
        """A reference, the whole phone number (any format), an email, or name words.

        The reference and the phone are matched exactly through their indexes (the
        phone on its stored form, E.164, so "(202) 555-0101", "202.555.0101" and
        "+12025550101" all find it); an email (with "@") and name words match any part.
        """
        term = search_term.strip()
        if not term:
            return queryset, False
        if REFERENCE.fullmatch(term.upper()):
            by_reference = queryset.filter(reference=term.upper())
            if by_reference.exists():
                return by_reference, False
        if not re.search(r"[^\d\s()+.\-]", term) and len(re.sub(r"\D", "", term)) >= 4:
            number = to_phone_number(term)
            if number is not None and number.is_valid():
                return queryset.filter(phone=number), False
            self.message_user(
                request,
                _("To find a phone number, type the whole number with the area code."),
                messages.WARNING,
            )
            return queryset.none(), False
        if "@" in term:
            return queryset.filter(email__icontains=term), False
        for word in term.split():
            queryset = queryset.filter(name__icontains=word)
        return queryset, False

    def has_add_permission(self, request):
        # Requests come from patients through the website.
        return False

    # The list's columns: each stacks what a call needs, so the list fits 1280 px.

    @admin.display(description=_("request"))
    def request_column(self, obj):
        url = reverse("admin:appointments_request_change", args=[obj.pk])
        marks = []
        if obj.urgent:
            marks.append(format_html('<strong class="urgent">{}</strong>', _("URGENT")))
        if obj.is_overdue:
            marks.append(format_html('<strong class="overdue">{}</strong>', _("OVERDUE")))
        if obj.possible_duplicate_of_id:
            marks.append(
                format_html('<span class="duplicate-mark">{}</span>', _("possible duplicate"))
            )
        lines = [
            format_html(
                '<a href="{}" class="reference">{}</a>{}',
                url,
                obj.reference,
                format_html_join("", " {}", ((mark,) for mark in marks)),
            ),
            format_html("{} · {}", obj.get_kind_display(), self.age(obj, marked=False)),
        ]
        if obj.status == Status.NEW and getattr(obj, "due_at", None):
            lines.append(format_html("{} {}", _("Due"), moment_words(obj.due_at)))
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines))

    @admin.display(description=_("patient"))
    def patient_column(self, obj):
        lines = [format_html("<strong>{}</strong>", obj.name)]
        if obj.patient_type:
            lines.append(obj.get_patient_type_display())
        if language := self.language_needs(obj):
            lines.append(language)
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines))

    @admin.display(description=_("call"))
    def call_column(self, obj):
        if obj.phone or not obj.email:
            lines = [self.phone_link(obj)]
        else:
            lines = [format_html("{} {}", _("Email:"), obj.email)]
        if obj.preferred_time:
            lines.append(SHORT_TIMES[obj.preferred_time])
        lines.append(voicemail_words(obj.voicemail_ok, short=True))
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines))

    @admin.display(description=_("status"))
    def status_column(self, obj):
        lines = [self.status_display(obj)]
        calls = list(obj.attempts.all())
        if calls:
            lines.append(
                ngettext(
                    "%(count)d call, last: %(outcome)s",
                    "%(count)d calls, last: %(outcome)s",
                    len(calls),
                )
                % {"count": len(calls), "outcome": calls[-1].get_outcome_display().lower()}
            )
        if obj.next_follow_up and obj.is_open:
            lines.append(format_html("{} {}", _("Next try:"), day_words(obj.next_follow_up)))
        if obj.appointment_at:
            lines.append(format_html("{} {}", _("Appointment:"), appointment_words(obj)))
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines))

    # Read-only fields of the change form.

    @admin.display(description=_("phone"))
    def phone_link(self, obj):
        if not obj.phone:
            return "-"
        return format_html('<a href="tel:{}">{}</a>', obj.phone.as_e164, _phone(obj.phone))

    @admin.display(description=_("voicemail"))
    def voicemail(self, obj):
        return voicemail_words(obj.voicemail_ok)

    @admin.display(description=_("language"))
    def language_needs(self, obj):
        """The form's language when it was not English, the language the patient asked
        for, and whether they want an interpreter: "Spanish form, Mam, interpreter
        wanted"."""
        parts = []
        if obj.form_language != settings.LANGUAGE_CODE:
            language = get_language_info(obj.form_language)["name"]
            parts.append(_("%(language)s form") % {"language": language})
        if obj.language:
            parts.append(obj.language)
        if obj.needs_interpreter:
            parts.append(str(_("interpreter wanted")))
        return ", ".join(parts)

    @admin.display(description=_("urgency"))
    def urgency(self, obj):
        if obj.urgent:
            return format_html("<strong>{}</strong>", _("Urgent"))
        return _("Routine")

    @admin.display(description=_("status"))
    def status_display(self, obj):
        if obj.status == Status.CLOSED:
            return f"{obj.get_status_display()}: {obj.get_closing_reason_display()}"
        return obj.get_status_display()

    @admin.display(description=_("age"))
    def age(self, obj, marked=True):
        age = _("%(time)s ago") % {"time": timesince(obj.submitted_at, timezone.now(), depth=1)}
        # get_queryset() annotates is_overdue for the list and the request's page alike.
        if marked and obj.is_overdue:
            return format_html('{} <strong class="overdue">{}</strong>', age, _("OVERDUE"))
        return age

    @admin.display(description=_("safety answers"))
    def safety_summary(self, obj):
        yes = [
            str(Request._meta.get_field(name).verbose_name)
            for name in SAFETY_FIELDS
            if getattr(obj, name)
        ]
        return ", ".join(yes) if yes else _("No to all")

    @admin.display(description=_("possible duplicate of"))
    def duplicate_link(self, obj):
        earlier = obj.possible_duplicate_of
        if earlier is None:
            return "-"
        url = reverse("admin:appointments_request_change", args=[earlier.pk])
        return format_html('<a href="{}">{}</a>', url, earlier.reference)

    # Saving: every change goes through services, which records who did it.

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None and request.method == "POST":
            # The admin's save is one transaction: lock the row, so two saves of one
            # request queue up and the second one sees the first one's version.
            obj.version = (
                Request.objects.select_for_update().values_list("version", flat=True).get(pk=obj.pk)
            )
        return obj

    def save_model(self, request, obj, form, change):
        services.save_staff_edit(obj, version=form.cleaned_data["seen_version"], by=request.user)

    def save_formset(self, request, form, formset, change):
        if formset.model is not ContactAttempt:
            formset.save()
            return
        follow_up_set_by_staff = "next_follow_up" in form.changed_data
        attempts = formset.save(commit=False)
        # Only superusers can change a logged call (the inline is read-only to others);
        # the history keeps what it said before.
        before = {
            attempt.pk: ContactAttempt.objects.get(pk=attempt.pk)
            for attempt, _fields in formset.changed_objects
        }
        for attempt in attempts:
            if attempt.pk:
                services.correct_call(attempt, before=before[attempt.pk], by=request.user)
                continue
            done = services.log_call(
                attempt, by=request.user, propose_follow_up=not follow_up_set_by_staff
            )
            self.message_user(request, " ".join([str(_("Call logged.")), *done]))
        formset.save_m2m()

    # Actions.

    @admin.action(description=_("Assign to me"), permissions=["change"])
    def assign_to_me(self, request, queryset):
        changed = sum(services.assign(obj, request.user, by=request.user) for obj in queryset)
        self.message_user(
            request,
            ngettext(
                "Assigned %(count)d request to you.",
                "Assigned %(count)d requests to you.",
                changed,
            )
            % {"count": changed}
            + self._unchanged_note(queryset, changed, _("already yours")),
            messages.SUCCESS,
        )

    @admin.action(description=_("Mark closed (choose a closing reason)"), permissions=["change"])
    def mark_closed(self, request, queryset):
        reason = request.POST.get("closing_reason", "")
        if reason not in Request.ClosingReason.values:
            self.message_user(
                request,
                _("Choose a closing reason next to the action, then press Go. Nothing changed."),
                messages.ERROR,
            )
            return
        closed = 0
        for obj in queryset:
            if obj.is_open:
                services.change_status(obj, Status.CLOSED, by=request.user, closing_reason=reason)
                closed += 1
        self.message_user(
            request,
            ngettext(
                "Closed %(count)d request as “%(reason)s”.",
                "Closed %(count)d requests as “%(reason)s”.",
                closed,
            )
            % {"count": closed, "reason": Request.ClosingReason(reason).label}
            + self._unchanged_note(queryset, closed, _("already closed")),
            messages.SUCCESS,
        )

    @admin.action(description=_("Retry notification"), permissions=["change"])
    def retry_notification(self, request, queryset):
        queued = sum(services.retry_notification(obj, by=request.user) for obj in queryset)
        self.message_user(
            request,
            ngettext(
                "Queued the email to the front desk again for %(count)d request.",
                "Queued the email to the front desk again for %(count)d requests.",
                queued,
            )
            % {"count": queued}
            + self._unchanged_note(queryset, queued, _("already sent or still waiting")),
            messages.SUCCESS,
        )

    def _unchanged_note(self, queryset, changed, why):
        skipped = len(queryset) - changed
        if not skipped:
            return ""
        return " " + ngettext(
            "%(count)d was left as it was (%(why)s).",
            "%(count)d were left as they were (%(why)s).",
            skipped,
        ) % {"count": skipped, "why": why}

    # The list page, the CSV export and the printable call sheet.

    def has_export_permission(self, request):
        return request.user.has_perm("appointments.export_request")

    def get_urls(self):
        return [
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="appointments_request_export",
            ),
            path(
                "call-sheet/",
                self.admin_site.admin_view(self.call_sheet_view),
                name="appointments_request_call_sheet",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        if refused := refuse_odd_query(request):
            return refused
        discarded = DiscardedSend.objects.filter(day=timezone.localdate()).aggregate(
            total=Sum("count")
        )["total"]
        extra_context = {
            **(extra_context or {}),
            "can_export": self.has_export_permission(request),
            "discarded_today": discarded or 0,
            "can_see_discarded": request.user.has_perm("appointments.view_discardedsend"),
        }
        return super().changelist_view(request, extra_context)

    def export_view(self, request):
        """The list as filtered and searched on screen, as a CSV file."""
        if not self.has_export_permission(request):
            raise PermissionDenied
        changelist, refused = self.list_on_screen(request)
        if refused:
            return refused
        rows = changelist.queryset.select_related("procedure")
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        stamp = timezone.localtime().strftime("%Y-%m-%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="requests-{stamp}.csv"'
        response["Cache-Control"] = "no-store"
        writer = csv.writer(response)
        writer.writerow([str(label) for label, _value in EXPORT_COLUMNS])
        count = 0
        for obj in rows:
            writer.writerow([csv_safe(value(obj)) for _label, value in EXPORT_COLUMNS])
            count += 1
        logger.info("%s exported %d requests as CSV.", request.user.get_username(), count)
        return response

    def list_on_screen(self, request):
        """(the list as filtered and searched on screen, None), or (None, a 400 answer)
        when the address makes no sense: a NUL character, or filters that the list page
        itself answers with "?e=1"."""
        if refused := refuse_odd_query(request):
            return None, refused
        try:
            return self.get_changelist_instance(request), None
        except IncorrectLookupParameters:
            return None, HttpResponseBadRequest(_("The filters in this address are not valid."))

    def call_sheet_view(self, request):
        """The list on screen as a printable sheet: what is needed to make each call."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist, refused = self.list_on_screen(request)
        if refused:
            return refused
        rows = list(changelist.queryset[: settings.CALL_SHEET_MAX_ROWS])
        logger.info(
            "%s printed a call sheet of %d requests.", request.user.get_username(), len(rows)
        )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Call sheet"),
            "rows": [call_sheet_row(self, obj) for obj in rows],
            "more": changelist.queryset.count() > len(rows),
            "limit": settings.CALL_SHEET_MAX_ROWS,
            "printed_at": timezone.localtime(),
            "back": reverse("admin:appointments_request_changelist")
            + changelist.get_query_string(),
            "opts": self.opts,
        }
        response = TemplateResponse(request, "admin/appointments/request/call_sheet.html", context)
        response["Cache-Control"] = "no-store"
        return response


def refuse_odd_query(request):
    """A 400 for a NUL character anywhere in the query (PostgreSQL cannot store one)."""
    if any("\x00" in key or "\x00" in value for key, value in request.GET.items()):
        return HttpResponseBadRequest(_("This address has a character we cannot use."))
    return None


# The best time to call, short enough for a list cell.
SHORT_TIMES = {
    Request.TimeOfDay.MORNING: _("Mornings"),
    Request.TimeOfDay.AFTERNOON: _("Afternoons"),
    Request.TimeOfDay.ANY: _("Any time"),
}


def voicemail_words(voicemail_ok, short=False):
    """Never suggest a message may be left unless the patient said so."""
    if voicemail_ok:
        return _("Voicemail OK") if short else _("Yes, a message may be left")
    if voicemail_ok is False:
        return (
            format_html("<strong>{}</strong>", _("No voicemail"))
            if short
            else format_html("<strong>{}</strong>", _("No: do not leave a message"))
        )
    return _("Voicemail not asked") if short else _("Not asked: do not leave a message")


def day_words(day):
    today = timezone.localdate()
    if day == today:
        return _("today")
    if day < today:
        return format_html('<strong class="overdue">{}</strong>', day.strftime("%a %b %-d"))
    return day.strftime("%a %b %-d")


def moment_words(moment):
    """ "10:30 AM" today, else "Tue Dec 8, 10:30 AM"."""
    moment = timezone.localtime(moment)
    if moment.date() == timezone.localdate():
        return moment.strftime("%-I:%M %p")
    return moment.strftime("%a %b %-d, %-I:%M %p")


def appointment_words(obj):
    when = timezone.localtime(obj.appointment_at).strftime("%a %b %-d, %-I:%M %p")
    return f"{when}, {obj.appointment_with}" if obj.appointment_with else when


def call_sheet_row(model_admin, obj):
    calls = list(obj.attempts.all())
    return {
        "reference": obj.reference,
        "urgent": obj.urgent,
        "overdue": obj.is_overdue,
        "kind": obj.get_kind_display(),
        "name": obj.name,
        "phone": _phone(obj.phone),
        "email": obj.email if not obj.phone else "",
        "best_time": SHORT_TIMES.get(obj.preferred_time, ""),
        "voicemail": voicemail_words(obj.voicemail_ok),
        "voicemail_ok": bool(obj.voicemail_ok),
        "language": model_admin.language_needs(obj),
        "patient_type": obj.get_patient_type_display(),
        "calls": len(calls),
        "last_outcome": calls[-1].get_outcome_display() if calls else "",
        "next_follow_up": obj.next_follow_up,
    }


def csv_safe(value):
    """Text a spreadsheet will not run as a formula (=, +, -, @ at the start)."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def _local(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def _phone(number):
    # National format for the clinic's own country ("(202) 555-0101"), else international.
    if not number:
        return ""
    if region_code_for_number(number) == settings.PHONENUMBER_DEFAULT_REGION:
        return number.as_national
    return number.as_international


def _yes_no(value):
    return {True: _("yes"), False: _("no")}.get(value, "")


EXPORT_COLUMNS = [
    (_("reference"), lambda r: r.reference),
    (_("kind"), lambda r: r.get_kind_display()),
    (_("urgent"), lambda r: _yes_no(r.urgent)),
    (_("status"), lambda r: r.get_status_display()),
    (_("closing reason"), lambda r: r.get_closing_reason_display()),
    (_("submitted"), lambda r: _local(r.submitted_at)),
    (_("overdue"), lambda r: _yes_no(r.is_overdue)),
    (_("calls"), lambda r: len(r.attempts.all())),
    (_("next follow-up"), lambda r: r.next_follow_up or ""),
    (_("appointment"), lambda r: _local(r.appointment_at)),
    (_("provider or location"), lambda r: r.appointment_with),
    (_("assigned to"), lambda r: r.assigned_to.get_username() if r.assigned_to else ""),
    (_("name"), lambda r: r.name),
    (_("phone"), lambda r: _phone(r.phone)),
    (_("email"), lambda r: r.email),
    (_("preferred contact"), lambda r: r.get_contact_method_display()),
    (_("best time"), lambda r: r.get_preferred_time_display()),
    (_("voicemail allowed"), lambda r: _yes_no(r.voicemail_ok) or _("not asked")),
    (_("form language"), lambda r: get_language_info(r.form_language)["name"]),
    (_("language"), lambda r: r.language),
    (_("needs an interpreter"), lambda r: _yes_no(r.needs_interpreter)),
    (_("pain pump"), lambda r: r.get_patient_type_display()),
    (_("asking about"), lambda r: r.procedure.title if r.procedure else ""),
    (_("reason"), lambda r: r.reason),
    (_("possible duplicate"), lambda r: _("yes") if r.possible_duplicate_of_id else ""),
]


@admin.register(DiscardedSend)
class DiscardedSendAdmin(admin.ModelAdmin):
    """The daily count of form sends thrown away as spam: read-only, for everyone who
    works the queue. A sudden rise means real patients may be caught by a trap."""

    list_display = ["day", "form", "reason", "count"]
    list_filter = ["form", "reason"]
    date_hierarchy = "day"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
