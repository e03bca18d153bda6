"""Admin for content editors: every word of every procedure page, in reading order."""

from django.contrib import admin
from django.db import models
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from . import readability
from .audit import ContentAuditMixin
from .blocks import BLOCKS
from .models import (
    ClinicSettings,
    GlossaryTerm,
    GuidePart,
    Phase,
    PhaseStep,
    Procedure,
    Reference,
)

# Inlines: one per kind of block (education/blocks.py), in page order. A kind gets a
# plain stacked or tabular inline with its fields; these add what some kinds need.


class SectionInlineExtras:
    prepopulated_fields = {"anchor": ["heading"]}


class PhaseInlineExtras:
    show_change_link = True
    prepopulated_fields = {"anchor": ["name"]}
    verbose_name_plural = _("phases (save, then use “Change” to edit each phase's steps)")


class BlockInline:
    """What every block's inline does: its part (and a question's "more in part", a
    risk's source) is chosen among this procedure's own."""

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        fields = formset.form.base_fields
        for name, model in (
            ("part", GuidePart),
            ("answered_in", GuidePart),
            ("reference", Reference),
        ):
            if name in fields:
                fields[name].queryset = (
                    model.objects.filter(procedure=obj) if obj else model.objects.none()
                )
        return formset


class ReferenceInlineExtras:
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


class GuidePartInline(admin.TabularInline):
    """The guide's parts, first: every block below says which part shows it."""

    model = GuidePart
    extra = 0
    prepopulated_fields = {"slug": ["title"]}
    verbose_name_plural = _("guide parts (each block below says which part shows it)")


INLINE_EXTRAS = {
    "sections": SectionInlineExtras,
    "phases": PhaseInlineExtras,
    "references": ReferenceInlineExtras,
}


def block_inline(kind):
    """The admin inline for one kind of block: its model's fields, stacked for long
    texts, tabular otherwise, with the extras above where a kind has some."""
    bases = (BlockInline, admin.StackedInline if kind.stacked else admin.TabularInline)
    if kind.related_name in INLINE_EXTRAS:
        bases = (INLINE_EXTRAS[kind.related_name], *bases)
    return type(f"{kind.model.__name__}Inline", bases, {"model": kind.model, "extra": 0})


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
                "fields": ["title", "slug", "status", "summary", "key_points", "reading_grade"],
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
    inlines = [GuidePartInline, *(block_inline(kind) for kind in BLOCKS if kind.inline)]

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


class PhaseStepInline(admin.TabularInline):
    model = PhaseStep
    extra = 0
    fields = ["order", "title", "detail"]


@admin.register(Phase)
class PhaseAdmin(ContentAuditMixin, admin.ModelAdmin):
    list_display = ["name", "procedure", "order"]
    list_filter = ["procedure"]
    list_select_related = ["procedure"]
    search_fields = ["name", "procedure__title"]
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
