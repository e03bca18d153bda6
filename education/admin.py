"""Admin for content editors: every word of every procedure page, in reading order."""

from django.contrib import admin
from django.db import models
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from . import readability
from .audit import ContentAuditMixin
from .models import (
    FAQ,
    ClinicSettings,
    Condition,
    DoctorQuestion,
    GlossaryTerm,
    LivingTopic,
    Medicine,
    Phase,
    PhaseStep,
    Procedure,
    RecoveryRestriction,
    Reference,
    Risk,
    Section,
    WarningSign,
)


class OrderedInline(admin.StackedInline):
    extra = 0


class OrderedTabularInline(admin.TabularInline):
    extra = 0


class SectionInline(OrderedInline):
    model = Section
    fields = ["order", "heading", "anchor", "body"]
    prepopulated_fields = {"anchor": ["heading"]}


class ConditionInline(OrderedTabularInline):
    model = Condition
    fields = ["order", "name", "description"]


class MedicineInline(OrderedTabularInline):
    model = Medicine
    fields = ["order", "name", "purpose", "approval", "approval_note"]


class PhaseInline(OrderedInline):
    model = Phase
    show_change_link = True
    fields = ["order", "name", "anchor", "intro", *Phase.COMPARED_FIELDS]
    prepopulated_fields = {"anchor": ["name"]}
    verbose_name_plural = _("phases (save, then use “Change” to edit each phase's steps)")


class RiskInline(OrderedTabularInline):
    model = Risk
    fields = ["order", "group", "name", "description", "frequency", "reference"]

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        # A risk's source is one of this page's own references.
        formset.form.base_fields["reference"].queryset = (
            Reference.objects.filter(procedure=obj) if obj else Reference.objects.none()
        )
        return formset


class RecoveryRestrictionInline(OrderedTabularInline):
    model = RecoveryRestriction
    fields = ["order", "period", "activity", "reason"]


class LivingTopicInline(OrderedInline):
    model = LivingTopic
    fields = ["order", "title", "body"]


class WarningSignInline(OrderedTabularInline):
    model = WarningSign
    fields = ["order", "urgency", "sign", "what_to_do"]


class FAQInline(OrderedInline):
    model = FAQ
    fields = ["order", "question", "answer"]


class DoctorQuestionInline(OrderedTabularInline):
    model = DoctorQuestion
    fields = ["order", "question"]


class ReferenceInline(OrderedTabularInline):
    model = Reference
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fields = ["order", "title", "publisher", "year", "url"]


@admin.register(Procedure)
class ProcedureAdmin(ContentAuditMixin, admin.ModelAdmin):
    list_display = ["title", "status", "last_reviewed", "next_review_due", "updated_at"]
    list_filter = ["status"]
    search_fields = ["title", "summary"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["glossary_terms", "related"]
    readonly_fields = ["reading_grade"]
    fieldsets = [
        (
            None,
            {
                "description": _(
                    "Never type a clinic phone number in any text on this page: write "
                    "[clinic phone] or [after-hours phone], and the page shows the "
                    "number saved in the clinic settings as a tap-to-call link. “911” "
                    "becomes a tap-to-call link by itself."
                ),
                "fields": ["title", "slug", "status", "summary", "reading_grade"],
            },
        ),
        (
            _("Main picture"),
            {
                "description": _(
                    "Optional. A picture needs a description for people who cannot see it."
                ),
                "fields": ["hero_image", "hero_image_alt"],
            },
        ),
        (
            _("Medical review"),
            {
                "description": _(
                    "Shown on the page as “Reviewed by … Last reviewed … Next review due …”."
                ),
                "fields": [
                    "reviewer_name",
                    "reviewer_credentials",
                    "last_reviewed",
                    "next_review_due",
                ],
            },
        ),
        (_("Links"), {"fields": ["glossary_terms", "related"]}),
    ]
    # Inlines in the order the page reads.
    inlines = [
        SectionInline,
        ConditionInline,
        MedicineInline,
        PhaseInline,
        RiskInline,
        RecoveryRestrictionInline,
        LivingTopicInline,
        WarningSignInline,
        FAQInline,
        DoctorQuestionInline,
        ReferenceInline,
    ]

    @admin.display(description=_("reading grade (US school grade)"))
    def reading_grade(self, obj):
        if obj is None or obj.pk is None:
            return _("Shown after the first save.")
        blocks = readability.prose_blocks(obj)
        page = readability.grade(" ".join(blocks))
        safety = readability.grade(readability.safety_text(obj))
        hard = sorted(
            ((readability.grade(block), block) for block in blocks),
            key=lambda pair: pair[0],
            reverse=True,
        )
        hard = [(score, block) for score, block in hard if score > readability.TARGET_GRADE][:5]
        summary = format_html(
            "<p>{}: <strong>{}</strong> ({}). {}: <strong>{}</strong> ({}).</p>",
            _("Whole page"),
            page,
            _("aim for 8 or lower"),
            _("“When to get help” boxes"),
            safety,
            _("aim for 6 or lower"),
        )
        if not hard:
            return summary
        return summary + format_html(
            "<p>{}</p><ul>{}</ul>",
            _("Hardest to read (shorter sentences and simpler words help):"),
            format_html_join("", "<li>{}: {}</li>", ((s, b[:120] + "…") for s, b in hard)),
        )


class PhaseStepInline(OrderedTabularInline):
    model = PhaseStep
    fields = ["order", "title", "detail"]


@admin.register(Phase)
class PhaseAdmin(ContentAuditMixin, admin.ModelAdmin):
    list_display = ["name", "procedure", "order"]
    list_filter = ["procedure"]
    list_select_related = ["procedure"]
    search_fields = ["name", "procedure__title"]
    fields = ["procedure", "order", "name", "anchor", "intro", *Phase.COMPARED_FIELDS]
    inlines = [PhaseStepInline]


@admin.register(GlossaryTerm)
class GlossaryTermAdmin(ContentAuditMixin, admin.ModelAdmin):
    list_display = ["term", "definition"]
    search_fields = ["term", "definition"]
    prepopulated_fields = {"slug": ["term"]}


@admin.register(ClinicSettings)
class ClinicSettingsAdmin(ContentAuditMixin, admin.ModelAdmin):
    list_display = ["name", "phone", "after_hours_phone"]
    fieldsets = [
        (None, {"fields": ["name", "phone", "after_hours_phone", "address", "hours"]}),
        (_("Home page"), {"fields": ["home_heading", "home_intro"]}),
    ]

    def has_add_permission(self, request):
        # One row only: add it once, then change it.
        return super().has_add_permission(request) and not ClinicSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False
