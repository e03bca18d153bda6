"""The front desk's queue: open requests, urgent first then oldest, worked to an outcome.

Submitted data is read-only; staff edit status, assignment, follow-up and notes, and log
calls inline. Every change goes through services.py, which records who did what.
"""

import csv
import logging
import re

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import HttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from phonenumbers import region_code_for_number

from . import services
from .forms import SAFETY_FIELDS
from .models import ContactAttempt, Request, RequestEvent

logger = logging.getLogger(__name__)

FRONT_DESK_GROUP = "Front desk"


# Filters ------------------------------------------------------------------------------


class StatusFilter(admin.SimpleListFilter):
    """Opens on open requests (anything not closed): what needs work."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("open", _("Open (not closed)")), *Request.Status.choices, ("all", _("All"))]

    def value(self):
        return super().value() or "open"

    def queryset(self, request, queryset):
        value = self.value()
        if value == "open":
            return queryset.open()
        if value in Request.Status.values:
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


class AssignedFilter(admin.SimpleListFilter):
    title = _("assigned to")
    parameter_name = "assigned"

    def lookups(self, request, model_admin):
        staff = (
            get_user_model()
            .objects.filter(assigned_requests__isnull=False)
            .distinct()
            .order_by("username")
        )
        return [
            ("me", _("Me")),
            ("nobody", _("Nobody")),
            *((str(user.pk), user.get_username()) for user in staff),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "me":
            return queryset.filter(assigned_to=request.user)
        if value == "nobody":
            return queryset.filter(assigned_to__isnull=True)
        if value and value.isdigit():
            return queryset.filter(assigned_to_id=value)
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
    """Staff edits. The status change is checked by services.check_transition."""

    class Meta:
        model = Request
        fields = ["status", "closing_reason", "assigned_to", "next_follow_up", "staff_notes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "status" in self.fields and self.instance.pk:
            allowed = services.TRANSITIONS[self.instance.status]
            self.fields["status"].help_text = _("From “%(current)s” it can go to: %(allowed)s.") % {
                "current": self.instance.get_status_display(),
                "allowed": ", ".join(
                    str(label) for value, label in Request.Status.choices if value in allowed
                ),
            }
        if "assigned_to" in self.fields:
            self.fields["assigned_to"].queryset = (
                get_user_model()
                .objects.filter(is_active=True, is_staff=True)
                .filter(Q(groups__name=FRONT_DESK_GROUP) | Q(is_superuser=True))
                .distinct()
                .order_by("username")
            )

    def clean(self):
        cleaned = super().clean()
        status = cleaned.get("status")
        if status is None:
            return cleaned
        if status != Request.Status.CLOSED:
            cleaned["closing_reason"] = ""
        try:
            services.check_transition(
                self.instance.status, status, cleaned.get("closing_reason", "")
            )
        except ValidationError as error:
            field = "closing_reason" if error.code == "reason" else "status"
            self.add_error(field, error)
        return cleaned


class RequestActionForm(ActionForm):
    closing_reason = forms.ChoiceField(
        label=_("Closing reason (for “Mark closed”):"),
        choices=[("", "---------"), *Request.ClosingReason.choices],
        required=False,
    )


# Inlines ------------------------------------------------------------------------------


class ContactAttemptInline(admin.TabularInline):
    model = ContactAttempt
    fields = ["called_at", "outcome", "notes", "called_by"]
    readonly_fields = ["called_by"]
    extra = 1
    can_delete = False
    verbose_name = _("call")
    verbose_name_plural = _("Calls (log each try, even with no answer)")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("called_by")


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


# The queue ----------------------------------------------------------------------------


SUBMITTED_FIELDS = [
    "name",
    "phone_number",
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
REQUEST_FIELDS = [
    "reference",
    "kind",
    "urgency",
    "safety_summary",
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


@admin.register(Request)
class RequestAdmin(admin.ModelAdmin):
    form = RequestAdminForm
    action_form = RequestActionForm
    list_display = [
        "reference_marked",
        "kind",
        "urgency",
        "status_display",
        "age",
        "attempt_count",
        "next_follow_up",
        "assigned_to",
    ]
    list_filter = [
        StatusFilter,
        "kind",
        "urgent",
        OverdueFilter,
        AssignedFilter,
        "submitted_at",
        DuplicateFilter,
        "notification_status",
    ]
    list_select_related = ["assigned_to"]
    list_per_page = 50
    ordering = ["-urgent", "submitted_at"]
    search_fields = ["reference", "name", "phone", "email"]
    search_help_text = _("Search by reference, name, phone or email.")
    readonly_fields = [*REQUEST_FIELDS, *SUBMITTED_FIELDS, *NOTIFICATION_FIELDS]
    inlines = [ContactAttemptInline, RequestEventInline]
    actions = ["assign_to_me", "mark_closed", "retry_notification"]
    fieldsets = [
        (
            _("Work on this request"),
            {
                "fields": [
                    "status",
                    "closing_reason",
                    "assigned_to",
                    "next_follow_up",
                    "staff_notes",
                ],
                "description": _(
                    "Status goes new → contacted → scheduled → closed. Closing needs a "
                    "reason. Logging a call below moves a new request to contacted."
                ),
            },
        ),
        (
            _("Request"),
            {
                "fields": REQUEST_FIELDS,
                "description": _("Urgent means the patient said yes to a safety question."),
            },
        ),
        (
            _("What the patient sent"),
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

    def get_queryset(self, request):
        return (
            super().get_queryset(request).with_overdue().annotate(attempt_count=Count("attempts"))
        )

    def get_search_results(self, request, queryset, search_term):
        """Reference (exact), name and email (any part), phone (digits in any format)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        digits = re.sub(r"\D", "", term)
        if len(digits) >= 4 and not re.search(r"[^\d\s()+.\-]", term):
            return queryset.filter(phone__contains=digits), False
        for word in term.split():
            queryset = queryset.filter(
                Q(reference__iexact=word) | Q(name__icontains=word) | Q(email__icontains=word)
            )
        return queryset, False

    def has_add_permission(self, request):
        # Requests come from patients through the website.
        return False

    # Columns and read-only fields.

    @admin.display(description=_("reference"), ordering="reference")
    def reference_marked(self, obj):
        if obj.possible_duplicate_of_id:
            return format_html(
                '{} <span class="duplicate-mark">({})</span>',
                obj.reference,
                _("possible duplicate"),
            )
        return obj.reference

    @admin.display(description=_("urgency"), ordering="-urgent")
    def urgency(self, obj):
        if obj.urgent:
            return format_html("<strong>{}</strong>", _("Urgent"))
        return _("Routine")

    @admin.display(description=_("status"), ordering="status")
    def status_display(self, obj):
        if obj.status == Request.Status.CLOSED:
            return f"{obj.get_status_display()}: {obj.get_closing_reason_display()}"
        return obj.get_status_display()

    @admin.display(description=_("age"), ordering="submitted_at")
    def age(self, obj):
        age = timesince(obj.submitted_at, timezone.now(), depth=1)
        if obj.is_overdue:
            return format_html('{} <strong class="overdue">{}</strong>', age, _("OVERDUE"))
        return age

    @admin.display(description=_("calls"), ordering="attempt_count")
    def attempt_count(self, obj):
        return obj.attempt_count

    @admin.display(description=_("phone"))
    def phone_number(self, obj):
        return _phone(obj.phone) or "-"

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

    def save_model(self, request, obj, form, change):
        before = Request.objects.select_related("assigned_to").get(pk=obj.pk)
        services.save_staff_edit(obj, before=before, by=request.user)

    def save_formset(self, request, form, formset, change):
        if formset.model is not ContactAttempt:
            formset.save()
            return
        follow_up_set_by_staff = "next_follow_up" in form.changed_data
        for attempt in formset.save(commit=False):
            if attempt.pk:
                attempt.save()
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
                services.change_status(
                    obj, Request.Status.CLOSED, by=request.user, closing_reason=reason
                )
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
            + self._unchanged_note(queryset, queued, _("already sent")),
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

    # CSV export of the filtered list (front desk and superusers only).

    def has_export_permission(self, request):
        return request.user.has_perm("appointments.export_request")

    def get_urls(self):
        export = path(
            "export/",
            self.admin_site.admin_view(self.export_view),
            name="appointments_request_export",
        )
        return [export, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_export": self.has_export_permission(request)}
        return super().changelist_view(request, extra_context)

    def export_view(self, request):
        """The list as filtered and searched on screen, as a CSV file."""
        if not self.has_export_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
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


EXPORT_COLUMNS = [
    (_("reference"), lambda r: r.reference),
    (_("kind"), lambda r: r.get_kind_display()),
    (_("urgent"), lambda r: _("yes") if r.urgent else _("no")),
    (_("status"), lambda r: r.get_status_display()),
    (_("closing reason"), lambda r: r.get_closing_reason_display()),
    (_("submitted"), lambda r: _local(r.submitted_at)),
    (_("overdue"), lambda r: _("yes") if r.is_overdue else _("no")),
    (_("calls"), lambda r: r.attempt_count),
    (_("next follow-up"), lambda r: r.next_follow_up or ""),
    (_("assigned to"), lambda r: r.assigned_to.get_username() if r.assigned_to else ""),
    (_("name"), lambda r: r.name),
    (_("phone"), lambda r: _phone(r.phone)),
    (_("email"), lambda r: r.email),
    (_("preferred contact"), lambda r: r.get_contact_method_display()),
    (_("best time"), lambda r: r.get_preferred_time_display()),
    (_("asking about"), lambda r: r.procedure.title if r.procedure else ""),
    (_("possible duplicate"), lambda r: _("yes") if r.possible_duplicate_of_id else ""),
]
