"""Admin for content editors and clinical reviewers.

A page that is on the site (or was, and was taken off) is never changed in place: its
admin page is a read-only summary with "Edit this page", which opens its draft (a
working copy, education/workflow.py). A draft, and a new page, are edited part by part:
the page's own fields and its guide's parts on the first tab, each part's blocks on
its own tab (`?part=<address>`). Reviewers preview a draft, see what changed, and
approve it or send it back (admin_views.py holds those pages).
"""

from django import forms
from django.contrib import admin
from django.db import models
from django.db.models import Exists, OuterRef
from django.http import HttpResponseRedirect
from django.urls import path
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from . import admin_views, images, readability, translations, workflow
from .admin_review_dates import ReviewDateFilter, review_date_marker
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
    Revision,
)

# The tab of a draft's admin page: a part's address, or nothing for the page's own
# fields, its parts and the overview's blocks.
PART_PARAMETER = "part"


def part_address(request):
    return request.GET.get(PART_PARAMETER) or None


# Inlines: one per kind of block (education/blocks.py), in page order. A kind gets a
# plain stacked or tabular inline with its fields; these add what some kinds need.


# Where the block sits (its part, its order) goes last: an editor looks for the words.
PLACE = ("part", "order")


class SectionInlineExtras:
    prepopulated_fields = {"anchor": ["heading"]}
    fields = [
        ("heading", "anchor"),
        "body",
        ("diagram", "diagram_alt"),
        "diagram_caption",
        PLACE,
    ]


class PhaseInlineExtras:
    show_change_link = True
    prepopulated_fields = {"anchor": ["name"]}
    verbose_name_plural = _("phases (save, then use “Change” to edit each phase's steps)")
    fields = [
        ("name", "anchor"),
        "intro",
        ("purpose", "anesthesia"),
        ("incisions", "duration"),
        ("afterwards", "next_step"),
        "reversible",
        PLACE,
    ]


class MedicineInlineExtras:
    fields = ["name", "approval", "purpose", "approval_note", "emergency_note", *PLACE]


class PumpModelInlineExtras:
    # A tool's block: on the page's first tab, in no part.
    fields = ["maker", "name", "mri_rule", "alarm", "reference", "order"]


class DiaryTimeInlineExtras:
    fields = ["label", "order"]


class DecisionOptionInlineExtras:
    fields = ["name", "involves", ("good", "hard"), "order"]


class DecisionChanceInlineExtras:
    fields = [
        ("kind", "outcome"),
        "studied",
        ("first_label", "first_count"),
        ("second_label", "second_count"),
        "certainty",
        "reference",
        "order",
    ]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        # Who was studied and how sure we are run to a sentence or two: room to read.
        if db_field.name in ("studied", "certainty"):
            kwargs["widget"] = forms.Textarea(attrs={"rows": 2})
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class DecisionValueInlineExtras:
    fields = ["leans", "statement", "order"]


class RiskInlineExtras:
    fields = ["name", "group", "description", "frequency", "reference", *PLACE]


class LivingTopicInlineExtras:
    fields = ["title", "body", PLACE]


class FAQInlineExtras:
    fields = ["question", "answer", ("answered_in", *PLACE)]


class ReferenceInlineExtras:
    fields = ["title", "publisher", "year", "url", *PLACE]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.URLField):
            kwargs["assume_scheme"] = "https"
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class BlockInline:
    """What every block's inline does: it shows the blocks of the tab's part (or of the
    overview), new blocks go to that part, and a block's part (a question's "more in
    part", a risk's source) is chosen among this procedure's own."""

    extra = 0

    def get_queryset(self, request):
        address = part_address(request)
        records = super().get_queryset(request)
        if address is None:
            return records.filter(part__isnull=True)
        return records.filter(part__slug=address)

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
        if "part" in fields and obj is not None:
            fields["part"].initial = obj.parts.filter(slug=part_address(request)).first()
        return formset


class GuidePartInline(admin.TabularInline):
    """The guide's parts, on the first tab: each has its own tab for its blocks."""

    model = GuidePart
    extra = 0
    view_on_site = False  # a draft's part is not on the site
    fields = ["order", "title", "slug", "summary", "blocks"]
    readonly_fields = ["blocks"]
    prepopulated_fields = {"slug": ["title"]}
    verbose_name_plural = _("guide parts (each has its own tab for its blocks)")

    @admin.display(description=_("blocks"))
    def blocks(self, part):
        if part.pk is None:
            return _("Save first.")
        return format_html(
            '<a href="?{}">{}</a>', urlencode({PART_PARAMETER: part.slug}), _("Edit its blocks")
        )


INLINE_EXTRAS = {
    "sections": SectionInlineExtras,
    "phases": PhaseInlineExtras,
    "medicines": MedicineInlineExtras,
    "pump_models": PumpModelInlineExtras,
    "diary_times": DiaryTimeInlineExtras,
    "decision_options": DecisionOptionInlineExtras,
    "decision_chances": DecisionChanceInlineExtras,
    "decision_values": DecisionValueInlineExtras,
    "risks": RiskInlineExtras,
    "living_topics": LivingTopicInlineExtras,
    "faqs": FAQInlineExtras,
    "references": ReferenceInlineExtras,
}


class TabularBlockInline(BlockInline, admin.TabularInline):
    """A row per block, fitted to the screen (education/static/education/admin.css):
    long texts in small boxes that wrap, so every column fits at 1280 px."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        long_text = isinstance(db_field, models.TextField) or (
            isinstance(db_field, models.CharField)
            and not db_field.choices
            and (db_field.max_length or 0) >= 200
        )
        if long_text:
            kwargs["widget"] = forms.Textarea(attrs={"rows": 3 if db_field.max_length else 4})
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class StackedBlockInline(BlockInline, admin.StackedInline):
    """A box per block, its fields a few to a line (INLINE_EXTRAS)."""

    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 5})}}


def block_inline(kind):
    """The admin inline for one kind of block: its model's fields, stacked for long
    texts, tabular otherwise, with the extras above where a kind has some."""
    bases = (StackedBlockInline if kind.stacked else TabularBlockInline,)
    if kind.related_name in INLINE_EXTRAS:
        bases = (INLINE_EXTRAS[kind.related_name], *bases)
    return type(f"{kind.model.__name__}Inline", bases, {"model": kind.model})


BLOCK_INLINES = {kind.related_name: block_inline(kind) for kind in BLOCKS if kind.inline}
TOOL_BLOCK_MODELS = {kind.model for kind in BLOCKS if kind.tool}


class ReviewFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("on_site", _("On the site")),
            ("waiting", _("Waiting for clinical review")),
            ("sent_back", _("Sent back by a reviewer")),
            ("drafts", _("Drafts")),
            ("off_site", _("Not on the site")),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "on_site":
            return queryset.published()
        if value == "waiting":
            return queryset.filter(review_state=Procedure.ReviewState.SUBMITTED)
        if value == "sent_back":
            editing = queryset.filter(review_state=Procedure.ReviewState.EDITING)
            return editing.exclude(review_comment="")
        if value == "drafts":
            return queryset.exclude(draft_of=None)
        if value == "off_site":
            return queryset.pages().exclude(status=Procedure.Status.PUBLISHED)
        return queryset


class PictureUploadField(forms.ImageField):
    """The main picture's upload box. Refuses, with a message the editor can act on, a
    file too big, not a picture, with too many pixels or a shape the page cannot show
    (the limits are in education/images.py), before Django's own image check."""

    def to_python(self, data):
        if data not in self.empty_values:
            images.check_upload(data)
        return super().to_python(data)


@admin.register(Procedure)
class ProcedureAdmin(ContentAuditMixin, admin.ModelAdmin):
    list_display = [
        "title",
        "language",
        "state",
        "spanish",
        "last_reviewed",
        review_date_marker,
        "updated_at",
    ]
    list_filter = ["language", ReviewFilter, ReviewDateFilter]
    search_fields = ["title", "summary"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["glossary_terms", "related"]
    readonly_fields = [
        "reading_grade",
        "status",
        "reviewer_name",
        "reviewer_credentials",
        "last_reviewed",
        "next_review_due",
    ]
    change_form_template = "admin/education/procedure/change_form.html"
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
                "fields": ["title", "slug", "summary", "key_points", "reading_grade"],
            },
        ),
        (
            _("Main picture"),
            {
                "classes": ["collapse"],
                "description": _(
                    "Optional. A picture needs a description for people who cannot see it."
                ),
                "fields": ["hero_image", "hero_image_alt"],
            },
        ),
        (_("Links"), {"classes": ["collapse"], "fields": ["glossary_terms", "related"]}),
        (
            _("Medical review"),
            {
                "classes": ["collapse"],
                "description": _(
                    "Set when a clinical reviewer approves the page, and shown on it as "
                    "“Reviewed by … Last reviewed …”."
                ),
                "fields": [
                    "status",
                    "reviewer_name",
                    "reviewer_credentials",
                    "last_reviewed",
                    "next_review_due",
                ],
            },
        ),
    ]
    inlines = [GuidePartInline, *BLOCK_INLINES.values()]
    formfield_overrides = {
        models.ImageField: {"form_class": PictureUploadField, "help_text": images.UPLOAD_HELP}
    }

    # The main picture: a new one is stored under its content's name with its WebP
    # copies made now; the one it replaces (or a deleted page's) is removed once nothing
    # uses it, a live page, a draft or an approved version (images.in_use()).

    def save_model(self, request, obj, form, change):
        old_picture = ""
        if "hero_image" in form.changed_data:
            if change:
                stored = Procedure.objects.filter(pk=obj.pk).values_list("hero_image", flat=True)
                old_picture = stored.first() or ""
            upload = form.cleaned_data.get("hero_image")
            if upload:
                obj.hero_image = images.store(upload)
        super().save_model(request, obj, form, change)
        if old_picture != obj.hero_image.name:
            images.remove_unused([old_picture])

    def delete_model(self, request, obj):
        pictures = images.page_pictures(obj)
        super().delete_model(request, obj)
        images.remove_unused(pictures)

    def delete_queryset(self, request, queryset):
        pictures = set().union(*(images.page_pictures(page) for page in queryset))
        super().delete_queryset(request, queryset)
        images.remove_unused(pictures)

    def get_queryset(self, request):
        versions = Revision.objects.filter(procedure=OuterRef("pk"))
        return (
            super()
            .get_queryset(request)
            .annotate(approved_before=Exists(versions))
            .prefetch_related("translations")  # the Spanish column
        )

    @admin.display(description=_("Spanish version"))
    def spanish(self, obj):
        """Where the page's Spanish version stands (education/translations.py); on a
        Spanish page, the English page it translates."""
        if obj.translation_of_id:
            return format_html("{} “{}”", _("Translation of"), obj.translation_of.title)
        if obj.is_draft_copy:
            return ""
        return translations.state(obj, "es").label

    # Who may do what: a page with an approved version changes only through its draft,
    # and a page on the site cannot be deleted.

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or workflow.may_edit(obj))

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or obj.is_draft_copy or not obj.is_published)

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        # A page's stages go with it: PhaseAdmin refuses to delete a stage of a page
        # with an approved version only on its own.
        perms_needed.discard(Phase._meta.verbose_name)
        return deleted, counts, perms_needed, protected

    def get_actions(self, request):
        # One page at a time, from its own page, so a page on the site is never
        # deleted with others.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def view_on_site(self, obj):
        return obj.get_absolute_url() if obj.is_published and not obj.is_draft_copy else None

    # The tabs of a draft: the page itself, or one part's blocks.

    def tab_part(self, request, obj):
        address = part_address(request)
        return obj.parts.filter(slug=address).first() if obj and address else None

    def get_fieldsets(self, request, obj=None):
        if self.tab_part(request, obj):
            return [(None, {"fields": ["title"]})]
        return super().get_fieldsets(request, obj)

    def get_prepopulated_fields(self, request, obj=None):
        if self.tab_part(request, obj) or (obj is not None and obj.translation_of_id):
            return {}
        return super().get_prepopulated_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if obj is not None and obj.translation_of_id:
            # A translation lives at its English page's address (under /es/), so the
            # language switch leads from one to the other.
            fields = [*fields, "slug"]
        return [*fields, "title"] if self.tab_part(request, obj) else fields

    def get_inline_instances(self, request, obj=None):
        if obj is None or not workflow.may_edit(obj):
            return []
        part = self.tab_part(request, obj)
        instances = super().get_inline_instances(request, obj)
        if part is not None or part_address(request) is not None:
            # A part's tab: its blocks; the guide's parts and the tools' blocks are on
            # the first tab.
            instances = [
                i
                for i in instances
                if not isinstance(i, GuidePartInline) and i.model not in TOOL_BLOCK_MODELS
            ]
        # The kinds with blocks on this tab first; the others fold away at the end,
        # to open when adding one.
        empty = []
        for instance in instances:
            if not isinstance(instance, BlockInline):
                continue
            if not instance.model.objects.filter(procedure=obj, part=part).exists():
                instance.classes = ["collapse"]
                empty.append(instance)
        return [i for i in instances if i not in empty] + empty

    def response_change(self, request, obj):
        response = super().response_change(request, obj)
        if "_continue" in request.POST and part_address(request):
            return HttpResponseRedirect(request.get_full_path())
        return response

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if form.has_changed() or any(formset.has_changed() for formset in formsets):
            workflow.record_edit(form.instance, request.user)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_queryset(request).filter(pk=object_id).first()
        context = admin_views.change_form_context(self, request, obj) if obj else {}
        return super().change_view(
            request, object_id, form_url, {**context, **(extra_context or {})}
        )

    # The workflow's own pages: admin_views.py.

    def get_urls(self):
        def view(function):
            return self.admin_site.admin_view(
                lambda request, *args, **kwargs: function(request, self, *args, **kwargs)
            )

        name = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("<int:pk>/preview/", view(admin_views.preview), name=f"{name}_preview"),
            path(
                "<int:pk>/preview/<slug:part>/",
                view(admin_views.preview),
                name=f"{name}_preview_part",
            ),
            path(
                "<int:pk>/preview/tools/<slug:tool>/",
                view(admin_views.preview_tool),
                name=f"{name}_preview_tool",
            ),
            path("<int:pk>/edit/", view(admin_views.start_draft), name=f"{name}_start_draft"),
            path("<int:pk>/changes/", view(admin_views.changes), name=f"{name}_changes"),
            path("<int:pk>/submit/", view(admin_views.submit), name=f"{name}_submit"),
            path("<int:pk>/review/", view(admin_views.review), name=f"{name}_review"),
            path("<int:pk>/versions/", view(admin_views.versions_list), name=f"{name}_versions"),
            path(
                "<int:pk>/versions/compare/",
                view(admin_views.compare),
                name=f"{name}_compare",
            ),
            path(
                "<int:pk>/versions/<int:number>/restore/",
                view(admin_views.restore),
                name=f"{name}_restore",
            ),
            path("<int:pk>/unpublish/", view(admin_views.unpublish), name=f"{name}_unpublish"),
            path("<int:pk>/copy/", view(admin_views.copy), name=f"{name}_copy"),
            path("<int:pk>/translate/", view(admin_views.translate), name=f"{name}_translate"),
            *super().get_urls(),
        ]

    @admin.display(description=_("state"))
    def state(self, obj):
        return admin_views.state_text(obj)

    @admin.display(description=_("how easy it is to read"))
    def reading_grade(self, obj):
        if obj is None or obj.pk is None:
            return _("Shown after the first save.")
        page, box = readability.page_reading(obj), readability.safety_reading(obj)
        summary = format_html(
            "<p>{}: <strong>{}</strong> ({}). {}: <strong>{}</strong> ({}).</p>",
            _("Whole page"),
            page.score,
            _("aim for %s") % page.target,
            _("Hardest “When to get help” box"),
            box.score,
            _("aim for %s") % box.target,
        )
        hard = readability.hard_blocks(obj)
        if not hard:
            return summary
        return summary + format_html(
            "<p>{}</p><ul>{}</ul>",
            _(
                "Too hard to read, so a reviewer cannot approve the page yet (shorter "
                "sentences and simpler words help):"
            ),
            format_html_join(
                "",
                "<li>{}: {} ({})</li>",
                ((name, r.score, _("aim for %s") % r.target) for name, r in hard),
            ),
        )


class PhaseStepInline(admin.TabularInline):
    model = PhaseStep
    extra = 0
    fields = ["order", "title", "detail"]


@admin.register(Phase)
class PhaseAdmin(ContentAuditMixin, admin.ModelAdmin):
    """A stage's steps. Stages are added on their page; their steps are changed here,
    only while the page is a draft."""

    list_display = ["name", "procedure", "order"]
    list_filter = ["procedure"]
    list_select_related = ["procedure"]
    search_fields = ["name", "procedure__title"]
    inlines = [PhaseStepInline]

    def has_module_permission(self, request):
        return False  # reached from its page's "Change" link

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or workflow.may_edit(obj.procedure))

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or workflow.may_edit(obj.procedure))

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if form.has_changed() or any(formset.has_changed() for formset in formsets):
            workflow.record_edit(form.instance.procedure, request.user)


@admin.register(GlossaryTerm)
class GlossaryTermAdmin(ContentAuditMixin, admin.ModelAdmin):
    list_display = ["term", "language", "definition"]
    list_filter = ["language"]
    search_fields = ["term", "definition"]
    fields = ["language", "term", "slug", "definition"]
    prepopulated_fields = {"slug": ["term"]}


@admin.register(ClinicSettings)
class ClinicSettingsAdmin(ContentAuditMixin, admin.ModelAdmin):
    list_display = ["name", "phone", "after_hours_phone"]
    fieldsets = [
        (None, {"fields": ["name", "phone", "after_hours_phone", "address", "hours"]}),
        (_("Home page"), {"fields": ["home_heading", "home_intro"]}),
        (
            _("Spanish pages"),
            {
                "fields": ["home_heading_es", "home_intro_es", "hours_es"],
                "description": _(
                    "The same texts for the Spanish pages, written for Spanish readers. "
                    "Left empty, the Spanish home page shows the clinic's name only."
                ),
            },
        ),
    ]

    def has_add_permission(self, request):
        # One row only: add it once, then change it.
        return super().has_add_permission(request) and not ClinicSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False
