"""Patient-education content, held as structured records rather than one text blob.

A Procedure is the page; everything on it (sections, risks, phases, warning signs...)
is an ordered child record, so editors change one fact in one place, the page renders
each kind of block the same way everywhere, and a new procedure (a spinal cord
stimulator, say) needs content, not code.
"""

import logging
import re
import uuid

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Prefetch, Q, Subquery
from django.urls import reverse
from django.utils.translation import get_language, override
from django.utils.translation import gettext_lazy as _

from . import phones
from .blocks import BLOCKS, PAGE_ANCHORS, RESERVED_PREFIXES
from .tools import TOOLS, has_tool_name

ORDER_HELP = _("Lower numbers come first on the page.")

logger = logging.getLogger(__name__)


class PictureField(models.ImageField):
    """An ImageField whose width and height columns never break a page.

    Django reads a picture's size from its file when one is assigned, and when a row
    whose size columns are empty is loaded. A missing or unreadable file (or storage
    that does not answer) would raise there, in the middle of drawing a page or
    approving a draft. Here it is logged, by file name, and the size left empty:
    education/templating.py's picture() then leaves the picture out.
    """

    def update_dimension_fields(self, instance, force=False, *args, **kwargs):
        try:
            super().update_dimension_fields(instance, force, *args, **kwargs)
        except Exception:  # the storage's or Pillow's errors, whatever the backend
            name = instance.__dict__.get(self.attname)
            logger.warning("Picture %s could not be read: its size is unknown.", name)
            setattr(instance, self.width_field, None)
            setattr(instance, self.height_field, None)


def validate_anchor(value):
    if value in PAGE_ANCHORS or value.startswith(RESERVED_PREFIXES):
        raise ValidationError(
            _("“%(value)s” is used by the page itself. Choose another anchor."),
            params={"value": value},
        )


def check_phone_numbers(instance):
    """Refuse clinic numbers typed into an education record's text (education/phones.py):
    the number must come from the clinic settings, so it is never stale."""
    errors = {}
    for field in instance._meta.concrete_fields:
        # Web addresses may hold digits in any pattern; they are never shown as text.
        if isinstance(field, models.CharField | models.TextField) and not isinstance(
            field, models.URLField
        ):
            mistakes = phones.typed_numbers(getattr(instance, field.attname) or "")
            if mistakes:
                errors[field.name] = _(
                    "Remove “%(found)s”: write [clinic phone] or [after-hours phone] instead, "
                    "so the page always shows the clinic's current number."
                ) % {"found": mistakes[0]}
    if errors:
        raise ValidationError(errors)


class ClinicSettings(models.Model):
    """The clinic's name, numbers and hours, shown in the header, footer and calls to action.

    A single row (pk=1) so editors change the phone number in one place.
    """

    name = models.CharField(_("clinic name"), max_length=120)
    home_heading = models.CharField(
        _("home page heading"),
        max_length=150,
        blank=True,
        help_text=_("The big title on the home page."),
    )
    home_intro = models.TextField(
        _("home page introduction"),
        blank=True,
        help_text=_("Two or three plain sentences: what the clinic treats and how it can help."),
    )
    phone = models.CharField(
        _("main phone"),
        max_length=30,
        help_text=_("Shown on every page and used for the tap-to-call link."),
    )
    after_hours_phone = models.CharField(
        _("after-hours phone"),
        max_length=30,
        blank=True,
        help_text=_("For urgent pump problems when the clinic is closed."),
    )
    address = models.TextField(_("address"), blank=True)
    hours = models.TextField(
        _("opening hours"), blank=True, help_text=_("One line per day or range.")
    )
    # The same texts for the Spanish pages (/es/...), written for Spanish readers.
    home_heading_es = models.CharField(_("home page heading, Spanish"), max_length=150, blank=True)
    home_intro_es = models.TextField(_("home page introduction, Spanish"), blank=True)
    hours_es = models.TextField(
        _("opening hours, Spanish"), blank=True, help_text=_("One line per day or range.")
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("clinic settings")
        verbose_name_plural = _("clinic settings")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="clinic_settings_single_row"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)

    def text(self, name):
        """The clinic's text `name` (home_heading, home_intro, hours) in the language of
        the page being drawn: on a Spanish page its Spanish field, which may be empty
        (the page then says nothing rather than mix in English)."""
        language = get_language()
        if language == settings.LANGUAGE_CODE:
            return getattr(self, name)
        return getattr(self, f"{name}_{language}", "")

    @classmethod
    def load(cls):
        """The clinic's settings, or unsaved placeholders until an editor fills them in.

        Every page shows them, so they are kept in the page cache, which any content
        change (this model's included) empties.
        """
        cache = caches["pages"]
        clinic = cache.get("clinic-settings")
        if clinic is None:
            clinic = cls.objects.filter(pk=1).first() or cls(
                pk=1, name=settings.CLINIC_NAME, phone=settings.CLINIC_PHONE
            )
            cache.set("clinic-settings", clinic)
        return clinic


class GlossaryTerm(models.Model):
    """A word patients may not know, explained once and linked from every page that uses it."""

    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    term = models.CharField(_("term"), max_length=80)
    slug = models.SlugField(_("anchor"), max_length=80)
    definition = models.TextField(
        _("definition"), help_text=_("One or two short sentences in everyday words.")
    )

    class Meta:
        verbose_name = _("glossary term")
        verbose_name_plural = _("glossary terms")
        ordering = ["language", "term"]
        constraints = [
            models.UniqueConstraint(
                fields=["language", "term"],
                name="glossary_term_unique_per_language",
                violation_error_message=_("This word is already in the glossary."),
            ),
            models.UniqueConstraint(
                fields=["language", "slug"],
                name="glossary_slug_unique_per_language",
                violation_error_message=_("Another word already has this anchor."),
            ),
        ]

    def __str__(self):
        return self.term

    def get_absolute_url(self):
        with override(self.language):
            return f"{reverse('education:glossary')}#{self.slug}"


# with_content(): the blocks of every part of a guide (its whole-guide page).
EVERY_PART = "all"


class ProcedureQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=Procedure.Status.PUBLISHED)

    def pages(self):
        """Pages, without the drafts of live pages (working copies)."""
        return self.filter(draft_of__isnull=True)

    def for_language(self, language):
        """The pages a reader of `language` is offered: those in it, and the pages in
        the site's default language that have no published page in it yet (they are
        shown whole in that language, with a notice: GuideView)."""
        if language == settings.LANGUAGE_CODE:
            return self.filter(language=language)
        translated = Procedure.objects.published().filter(language=language)
        return self.filter(
            Q(language=language)
            | Q(language=settings.LANGUAGE_CODE) & ~Q(pk__in=translated.values("translation_of"))
        )

    def with_content(self, part=EVERY_PART, tool=None):
        """Each procedure with the blocks of its guide (education/blocks.py) that one
        page shows: those of the part with this address, of the overview (None), or
        of every part (EVERY_PART), and for a tool's page (`tool`, its slug) the blocks
        made for that tool. With them: the guide's parts, its glossary words,
        `help_part_slug` (where its warning signs are) and, for the overview, its
        published related pages, and which tools its guide offers (education/tools.py:
        `has_tool_<slug>`). One query per kind of block, however much content."""
        lookups = []
        for kind in BLOCKS:
            if kind.tool is not None and kind.tool != tool:
                continue  # a tool's blocks load on that tool's page only
            records = kind.model.objects.select_related(*kind.select_related)
            if kind.tool is None and part is None:
                records = records.filter(part__isnull=True)
            elif kind.tool is None and part != EVERY_PART:
                records = records.filter(part__slug=part)
            lookups.append(Prefetch(kind.related_name, queryset=records))
            lookups += [f"{kind.related_name}__{name}" for name in kind.prefetch_related]
        if part is None:  # related pages are listed on the overview
            lookups.append(Prefetch("related", queryset=Procedure.objects.published()))
        first_warning = WarningSign.objects.filter(procedure=OuterRef("pk")).order_by("order", "pk")
        tools = {
            has_tool_name(tool): Exists(
                self.model._meta.get_field(tool.needs).related_model.objects.filter(
                    procedure=OuterRef("pk")
                )
            )
            for tool in TOOLS
        }
        return self.prefetch_related(*lookups, "parts", "glossary_terms").annotate(
            help_part_slug=Subquery(first_warning.values("part__slug")[:1]), **tools
        )


class Procedure(models.Model):
    """A treatment the clinic offers, and the page that explains it to patients."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Not on the site")
        PUBLISHED = "published", _("On the site")

    class ReviewState(models.TextChoices):
        EDITING = "editing", _("Being edited")
        SUBMITTED = "submitted", _("Waiting for clinical review")

    # A page in another language is its own page (own parts, blocks, glossary words,
    # drafts and clinical approval) linked to the page in the site's language it says
    # the same as; its address is that page's, under /es/ (education/translations.py).
    language = models.CharField(
        _("language"),
        max_length=8,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        editable=False,
    )
    translation_of = models.ForeignKey(
        "self",
        verbose_name=_("translation of"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        editable=False,
        related_name="translations",
    )
    # The English page's approved version this translation was approved against: a
    # newer English version means the translation is out of date.
    source_version = models.PositiveIntegerField(
        _("version of the English page"), null=True, blank=True, editable=False
    )
    title = models.CharField(_("title"), max_length=120)
    slug = models.SlugField(
        _("web address"),
        max_length=80,
        help_text=_("The last part of the page's address. Changing it breaks old links."),
    )
    summary = models.TextField(
        _("summary"),
        help_text=_("Two or three plain sentences: what it is and who it is for."),
    )
    # Stored under its content's name with its WebP copies made at upload
    # (education/images.py); its size is kept here, so drawing the page never opens it.
    hero_image = PictureField(
        _("main picture"),
        upload_to="procedures/",
        blank=True,
        width_field="hero_image_width",
        height_field="hero_image_height",
    )
    hero_image_width = models.PositiveIntegerField(
        _("picture width"), null=True, blank=True, editable=False
    )
    hero_image_height = models.PositiveIntegerField(
        _("picture height"), null=True, blank=True, editable=False
    )
    hero_image_alt = models.CharField(
        _("picture description (alt text)"),
        max_length=250,
        blank=True,
        help_text=_("Required when there is a picture: describe it for someone who cannot see it."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    reviewer_name = models.CharField(
        _("reviewed by"),
        max_length=120,
        blank=True,
        help_text=_("The doctor who checked this page, e.g. “the clinic's medical director”."),
    )
    reviewer_credentials = models.CharField(
        _("reviewer credentials"), max_length=120, blank=True, help_text=_("For example: MD.")
    )
    last_reviewed = models.DateField(_("last reviewed"), null=True, blank=True)
    next_review_due = models.DateField(_("next review due"), null=True, blank=True)
    # "What changed on <date>: <note>": the last approval that said what changed
    # (its Revision keeps the record; the page shows this copy, as it shows its
    # reviewer's name).
    update_note = models.CharField(
        _("what changed in the last update"), max_length=300, blank=True, editable=False
    )
    updated_on = models.DateField(_("last update"), null=True, blank=True, editable=False)
    key_points = models.TextField(
        _("key points"),
        blank=True,
        help_text=_(
            "3 to 7 short points, one per line: what a patient most needs to know. "
            "They open the guide's overview."
        ),
    )
    glossary_terms = models.ManyToManyField(
        GlossaryTerm,
        verbose_name=_("words explained on this page"),
        blank=True,
        related_name="procedures",
        help_text=_("The first use of each word on the page links to its meaning."),
    )
    related = models.ManyToManyField(
        "self", verbose_name=_("related pages"), blank=True, symmetrical=True
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    # Drafts and clinical review (education/workflow.py). Patients only ever see a
    # version a clinical reviewer approved: a page that was never approved is edited
    # as it is (it is not on the site); a page with an approved version is changed
    # through its draft, a working copy that replaces it when approved.
    draft_of = models.OneToOneField(
        "self",
        verbose_name=_("draft of"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        editable=False,
        related_name="draft",
    )
    review_state = models.CharField(
        _("review"),
        max_length=10,
        choices=ReviewState.choices,
        default=ReviewState.EDITING,
        editable=False,
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent for review by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("sent for review"), null=True, blank=True, editable=False)
    review_comment = models.TextField(_("reviewer's comment"), blank=True, editable=False)
    edited_by = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("edited by"),
        blank=True,
        editable=False,
        related_name="+",
        help_text=_("Everyone who changed this draft: none of them may approve it."),
    )

    objects = ProcedureQuerySet.as_manager()

    class Meta:
        verbose_name = _("procedure")
        verbose_name_plural = _("procedures")
        # A page, then its draft.
        ordering = ["title", models.F("draft_of").asc(nulls_first=True)]
        permissions = [
            ("approve_procedure", _("Can approve, send back, revert and unpublish pages")),
        ]
        constraints = [
            # A draft of a live page shares its address until it replaces it.
            models.UniqueConstraint(
                fields=["language", "slug"],
                condition=Q(draft_of__isnull=True),
                name="procedure_slug_unique_among_pages",
                violation_error_message=_("Another page already has this web address."),
            ),
            # A page in another language always names the page it translates.
            models.CheckConstraint(
                condition=Q(language=settings.LANGUAGE_CODE, translation_of__isnull=True)
                | (~Q(language=settings.LANGUAGE_CODE) & Q(translation_of__isnull=False)),
                name="procedure_translation_has_its_source",
            ),
            models.CheckConstraint(
                condition=Q(hero_image="") | ~Q(hero_image_alt=""),
                name="procedure_image_has_alt_text",
                violation_error_message=_("Describe the picture in the alt text field."),
            ),
            models.CheckConstraint(
                condition=Q(next_review_due__isnull=True)
                | Q(last_reviewed__isnull=True)
                | Q(next_review_due__gt=models.F("last_reviewed")),
                name="procedure_review_due_after_last_review",
                violation_error_message=_("The next review must come after the last review."),
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        with override(self.language):
            return reverse("education:procedure_detail", kwargs={"slug": self.slug})

    def clean(self):
        super().clean()
        check_phone_numbers(self)
        if self.key_points and not 3 <= len(self.key_point_list()) <= 7:
            raise ValidationError(
                {"key_points": _("Write 3 to 7 key points, one per line.")}, code="key_points"
            )

    def key_point_list(self):
        return [line.strip() for line in self.key_points.splitlines() if line.strip()]

    @property
    def is_published(self):
        return self.status == self.Status.PUBLISHED

    @property
    def is_draft_copy(self):
        """A working copy of a live page (it replaces that page when approved)."""
        return self.draft_of_id is not None

    @property
    def page(self):
        """The page patients see at this address: itself, or the page it is a draft of."""
        return self.draft_of if self.is_draft_copy else self

    def new_draft(self):
        """An unsaved working copy of this page (the content comes from versions.py)."""
        return Procedure(
            draft_of=self,
            status=self.Status.DRAFT,
            language=self.language,
            translation_of_id=self.translation_of_id,
        )

    def is_locked(self):
        """True for a page with an approved version: it changes only through a draft.
        A page that was never approved, and a draft, are edited as they are."""
        if self.is_draft_copy:
            return False
        return self.is_published or self.revisions.exists()


# Part addresses the guide uses itself: the whole guide to print, and the handout.
RESERVED_PART_SLUGS = {"all", "handout"}


def validate_part_slug(value):
    if value in RESERVED_PART_SLUGS:
        raise ValidationError(
            _("“%(value)s” is used by the guide itself. Choose another address."),
            params={"value": value},
        )


class GuidePart(models.Model):
    """One part of a procedure's guide, with its own address (for example "the trial").

    A patient opens or bookmarks one part instead of scrolling the whole guide; every
    block of content says which part shows it (blocks with no part stay on the
    overview).
    """

    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="parts")
    # The same part in every version of the page (drafts, revisions), so versions can
    # be compared part by part.
    uid = models.UUIDField(default=uuid.uuid4, editable=False)
    order = models.PositiveIntegerField(_("order"), default=0, help_text=ORDER_HELP)
    title = models.CharField(
        _("title"), max_length=80, help_text=_("Short, for example: “The trial”.")
    )
    slug = models.SlugField(
        _("web address"),
        max_length=60,
        validators=[validate_part_slug],
        help_text=_("The last part of this part's address. Changing it breaks old links."),
    )
    summary = models.CharField(
        _("summary"),
        max_length=200,
        blank=True,
        help_text=_("One plain sentence for the guide's list of parts."),
    )

    class Meta:
        verbose_name = _("guide part")
        verbose_name_plural = _("guide parts")
        ordering = ["order", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["procedure", "slug"], name="guide_part_slug_unique_per_procedure"
            )
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        with override(self.procedure.language):
            return reverse(
                "education:guide_part", kwargs={"slug": self.procedure.slug, "part": self.slug}
            )


class ProcedureChild(models.Model):
    """Common shape of the ordered content blocks on a procedure page."""

    # The same block in every version of the page (drafts, revisions), so versions can
    # be compared block by block.
    uid = models.UUIDField(default=uuid.uuid4, editable=False)
    order = models.PositiveIntegerField(_("order"), default=0, help_text=ORDER_HELP)
    part = models.ForeignKey(
        GuidePart,
        verbose_name=_("guide part"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The part of the guide that shows it. Empty: the guide's overview."),
    )

    class Meta:
        abstract = True
        ordering = ["order", "pk"]

    def clean(self):
        super().clean()
        check_phone_numbers(self)
        if self.part_id and self.part.procedure_id != self.procedure_id:
            raise ValidationError({"part": _("Choose a part of this procedure's guide.")})


class Reference(ProcedureChild):
    """A source the page's facts come from, listed at the end of the page."""

    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="references")
    title = models.CharField(_("title"), max_length=300)
    publisher = models.CharField(_("publisher"), max_length=200, blank=True)
    year = models.CharField(_("year"), max_length=20, blank=True)
    url = models.URLField(_("web address"), blank=True)

    class Meta(ProcedureChild.Meta):
        verbose_name = _("reference")
        verbose_name_plural = _("references")

    def __str__(self):
        return self.title


def source_field(help_text):
    """A block's source: one of its page's references. A reference that backs a fact
    cannot be deleted on its own (the admin says which block uses it); it goes with
    its page."""
    return models.ForeignKey(
        Reference,
        verbose_name=_("source"),
        on_delete=models.RESTRICT,
        null=True,
        blank=True,
        related_name="+",
        help_text=help_text,
    )


class Section(ProcedureChild):
    """A block of plain text with its own heading (what it is, how it works, benefits...)."""

    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="sections")
    heading = models.CharField(_("heading"), max_length=150)
    anchor = models.SlugField(
        _("anchor"),
        max_length=60,
        validators=[validate_anchor],
        help_text=_("Used in the contents links: lowercase letters, numbers and dashes."),
    )
    body = models.TextField(_("text"), help_text=_("Leave an empty line between paragraphs."))

    class Diagram(models.TextChoices):
        """Diagrams the site ships (static/img/diagrams/<value>.svg), drawn by the team."""

        PUMP_PLACEMENT = "pump-placement", _("Where the pump and its tube go")

    diagram = models.CharField(_("diagram"), max_length=40, choices=Diagram.choices, blank=True)
    diagram_alt = models.CharField(
        _("diagram description (alt text)"),
        max_length=300,
        blank=True,
        help_text=_("Required with a diagram: say what it shows, for someone who cannot see it."),
    )
    diagram_caption = models.CharField(
        _("diagram caption"), max_length=300, blank=True, help_text=_("Shown under it.")
    )

    class Meta(ProcedureChild.Meta):
        verbose_name = _("section")
        verbose_name_plural = _("sections")
        constraints = [
            models.UniqueConstraint(
                fields=["procedure", "anchor"], name="section_anchor_unique_per_procedure"
            ),
            models.CheckConstraint(
                condition=Q(diagram="") | ~Q(diagram_alt=""),
                name="section_diagram_has_alt_text",
                violation_error_message=_("Describe the diagram in the alt text field."),
            ),
        ]

    def __str__(self):
        return self.heading


class Condition(ProcedureChild):
    """A condition the procedure may help."""

    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="conditions")
    name = models.CharField(_("condition"), max_length=150)
    description = models.CharField(
        _("short explanation"), max_length=300, blank=True, help_text=_("Optional, one sentence.")
    )

    class Meta(ProcedureChild.Meta):
        verbose_name = _("condition it may help")
        verbose_name_plural = _("conditions it may help")

    def __str__(self):
        return self.name


class Medicine(ProcedureChild):
    """A medicine used with the procedure, and how far it is approved for that use."""

    class Approval(models.TextChoices):
        APPROVED = "approved", _("FDA-approved")
        OFF_LABEL = "off_label", _("Off-label (not FDA-approved for this use)")

    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="medicines")
    name = models.CharField(_("medicine"), max_length=100)
    purpose = models.CharField(_("what it is for"), max_length=300)
    approval = models.CharField(_("approval"), max_length=20, choices=Approval.choices)
    approval_note = models.CharField(
        _("approval note"),
        max_length=300,
        blank=True,
        help_text=_("What exactly is approved, e.g. “Approved for spasticity, not for pain.”"),
    )

    emergency_note = models.TextField(
        _("for the pump card"),
        blank=True,
        help_text=_(
            "What emergency staff and family must know when this medicine is in the pump, "
            "in short plain sentences: the danger signs and what to do. It is printed on "
            "the pump card and the emergency sheet of a patient who has this medicine. "
            "Empty: the medicine is not offered on the card."
        ),
    )

    class Meta(ProcedureChild.Meta):
        verbose_name = _("medicine")
        verbose_name_plural = _("medicines")

    def __str__(self):
        return self.name


class PumpModel(ProcedureChild):
    """A pump a patient of this guide may have, with the rules that differ by model (MRI,
    alarms), for the pump card and emergency sheet (education/tools.py). Not shown in
    the guide itself, and not in any part: always on the page's first tab."""

    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="pump_models")
    maker = models.CharField(_("maker"), max_length=80)
    name = models.CharField(
        _("model"), max_length=80, help_text=_("As the pump ID card names it, e.g. SynchroMed II.")
    )
    mri_rule = models.TextField(
        _("MRI rule"),
        help_text=_(
            "What must happen before and after an MRI scan with this pump, in short plain "
            "sentences, for the patient and the MRI staff."
        ),
    )
    alarm = models.TextField(
        _("alarms"),
        blank=True,
        help_text=_("What the pump's alarm sounds like and what to do. Empty: not known."),
    )
    reference = source_field(_("Where the MRI rule comes from (one of this page's references)."))

    class Meta(ProcedureChild.Meta):
        verbose_name = _("pump model (for the pump card)")
        verbose_name_plural = _("pump models (for the pump card)")

    def __str__(self):
        return f"{self.maker} {self.name}"


class DiaryTime(ProcedureChild):
    """A time in the trial when the patient writes down their pain and what they were
    doing, for the trial diary (education/tools.py). The clinic sets the times; they are
    the diary's rows, in order. Not shown in the guide, and in no part."""

    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="diary_times")
    label = models.CharField(
        _("when"),
        max_length=80,
        help_text=_("As the patient will read it, e.g. “2 hours after the trial dose”."),
    )

    class Meta(ProcedureChild.Meta):
        verbose_name = _("time to write in the trial diary")
        verbose_name_plural = _("times to write in the trial diary")

    def __str__(self):
        return self.label


class DecisionOption(ProcedureChild):
    """One of the choices in the guide's decision aid ("Is a trial right for me?",
    education/tools.py), set beside the others with the same rows: what it involves,
    what may be good and what may be hard about it. Doing nothing new is one of them."""

    procedure = models.ForeignKey(
        Procedure, on_delete=models.CASCADE, related_name="decision_options"
    )
    name = models.CharField(_("option"), max_length=100)
    involves = models.TextField(_("what it involves"))
    good = models.TextField(_("what may be good about it"))
    hard = models.TextField(_("what may be hard about it"))

    class Meta(ProcedureChild.Meta):
        verbose_name = _("option (for the decision aid)")
        verbose_name_plural = _("options (for the decision aid)")

    def __str__(self):
        return self.name


class DecisionChance(ProcedureChild):
    """What a study found, as "N in 100" people, drawn as 100 icons: one group, or two
    groups side by side (say, with and without a pump), for the decision aid. Each
    needs its source and the group it is about, so nobody reads it as a promise."""

    class Kind(models.TextChoices):
        BENEFIT = "benefit", _("A chance of help")
        HARM = "harm", _("A chance of harm")

    procedure = models.ForeignKey(
        Procedure, on_delete=models.CASCADE, related_name="decision_chances"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    outcome = models.CharField(
        _("what happened"),
        max_length=200,
        help_text=_("For example: “Had at least half their pain gone”."),
    )
    studied = models.CharField(
        _("who was studied, and when"),
        max_length=300,
        help_text=_("For example: “100 people with leg pain after back surgery, at 6 months”."),
    )
    first_label = models.CharField(
        _("group"),
        max_length=100,
        help_text=_("Read after “N in 100”, so in small letters: e.g. “with a stimulator”."),
    )
    first_count = models.PositiveSmallIntegerField(_("in 100"), validators=[MaxValueValidator(100)])
    second_label = models.CharField(
        _("compared with (group)"),
        max_length=100,
        blank=True,
        help_text=_("Empty: no comparison. Read like the group: e.g. “with usual care alone”."),
    )
    second_count = models.PositiveSmallIntegerField(
        _("compared with (in 100)"), null=True, blank=True, validators=[MaxValueValidator(100)]
    )
    certainty = models.CharField(
        _("how sure we are"),
        max_length=300,
        blank=True,
        help_text=_("What limits the numbers: a small study, who paid for it, a range."),
    )
    reference = source_field(_("The study the numbers come from (one of this page's references)."))

    class Meta(ProcedureChild.Meta):
        verbose_name = _("chance (for the decision aid)")
        verbose_name_plural = _("chances (for the decision aid)")

    def __str__(self):
        return self.outcome

    def clean(self):
        super().clean()
        if bool(self.second_label) != (self.second_count is not None):
            raise ValidationError(
                _("To compare, give both the second group and its number in 100; or neither.")
            )

    def groups(self):
        """[(label, count)]: one group, or two to compare."""
        groups = [(self.first_label, self.first_count)]
        if self.second_label and self.second_count is not None:
            groups.append((self.second_label, self.second_count))
        return groups


class DecisionValue(ProcedureChild):
    """A reason people give for or against a trial, for the decision aid's "what matters
    most to you": the patient marks how much it matters to them."""

    class Leans(models.TextChoices):
        TOWARD = "toward", _("A reason to have a trial")
        AWAY = "away", _("A reason not to have a trial now")

    procedure = models.ForeignKey(
        Procedure, on_delete=models.CASCADE, related_name="decision_values"
    )
    leans = models.CharField(_("it is"), max_length=10, choices=Leans.choices)
    statement = models.CharField(
        _("reason"),
        max_length=200,
        help_text=_("As a patient would say it, e.g. “I want to take fewer pain pills.”"),
    )

    class Meta(ProcedureChild.Meta):
        verbose_name = _("reason (for the decision aid)")
        verbose_name_plural = _("reasons (for the decision aid)")

    def __str__(self):
        return self.statement


class Phase(ProcedureChild):
    """A stage of treatment (the trial, the implant), described by the same attributes
    so the page can set the stages side by side in one table. Each attribute is
    optional: the table shows the rows some stage fills in, so a treatment whose
    stages differ in other ways leaves these empty."""

    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="phases")
    name = models.CharField(_("name"), max_length=80, help_text=_("For example: The trial."))
    anchor = models.SlugField(
        _("anchor"),
        max_length=60,
        validators=[validate_anchor],
        help_text=_("Links to this stage's steps: lowercase letters, numbers and dashes."),
    )
    intro = models.TextField(_("introduction"), blank=True)
    purpose = models.CharField(_("purpose"), max_length=300, blank=True)
    anesthesia = models.CharField(_("anesthesia"), max_length=300, blank=True)
    incisions = models.CharField(_("incisions"), max_length=300, blank=True)
    duration = models.CharField(_("how long it takes"), max_length=300, blank=True)
    afterwards = models.CharField(_("where you go after"), max_length=300, blank=True)
    next_step = models.CharField(_("what decides the next step"), max_length=300, blank=True)
    reversible = models.CharField(_("can it be undone"), max_length=300, blank=True)

    # The attributes compared side by side, in table order.
    COMPARED_FIELDS = [
        "purpose",
        "anesthesia",
        "incisions",
        "duration",
        "afterwards",
        "next_step",
        "reversible",
    ]

    class Meta(ProcedureChild.Meta):
        verbose_name = _("phase")
        verbose_name_plural = _("phases")
        constraints = [
            models.UniqueConstraint(
                fields=["procedure", "anchor"], name="phase_anchor_unique_per_procedure"
            )
        ]

    def __str__(self):
        return self.name


class PhaseStep(models.Model):
    """One step of a phase, in the order it happens."""

    phase = models.ForeignKey(Phase, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveIntegerField(_("order"), default=0, help_text=ORDER_HELP)
    title = models.CharField(_("step"), max_length=150)
    detail = models.TextField(_("detail"), blank=True)

    class Meta:
        verbose_name = _("step")
        verbose_name_plural = _("steps")
        ordering = ["order", "pk"]

    def __str__(self):
        return self.title

    def clean(self):
        super().clean()
        check_phone_numbers(self)


class Risk(ProcedureChild):
    """A risk or side effect, grouped by where it comes from, with how often it happens.

    A frequency is only shown with its source, and always with its denominator
    ("about 3 in 100 people who had a scan"). Where no good source gives a number the
    field stays empty and the page says so, rather than "rarely".
    """

    class Group(models.TextChoices):
        SURGERY = "surgery", _("From the surgery")
        DEVICE = "device", _("From the device")
        MEDICINE = "medicine", _("From the medicine")
        RARE = "rare", _("Rare but serious")

    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="risks")
    group = models.CharField(_("group"), max_length=20, choices=Group.choices)
    name = models.CharField(_("risk"), max_length=150)
    description = models.TextField(_("what it means"), blank=True)
    frequency = models.CharField(
        _("how often"),
        max_length=300,
        blank=True,
        help_text=_(
            "Only when a source gives a number, with its denominator and who was "
            "counted: “About 3 in 100 people who had a scan.” Choose the source below. "
            "Leave empty when no source gives a number: the page then says so."
        ),
    )
    reference = source_field(_("Where the frequency comes from (one of this page's references)."))

    # "3 in 100", "6 of 208", "1 in 10,000" (Spanish: "3 de cada 100", "6 de 208"): a
    # count and what it is out of.
    DENOMINATOR = re.compile(r"\b\d[\d,.]*\s+(?:in|of|out of|de cada|de)\s+\d[\d,]*\b")

    class Meta(ProcedureChild.Meta):
        verbose_name = _("risk")
        verbose_name_plural = _("risks")
        constraints = [
            models.CheckConstraint(
                condition=Q(frequency="") | Q(reference__isnull=False),
                name="risk_frequency_has_a_source",
                violation_error_message=_("Choose the source of the frequency."),
            )
        ]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if self.frequency and not self.DENOMINATOR.search(self.frequency):
            raise ValidationError(
                {
                    "frequency": _(
                        "Give the number with what it is out of, for example "
                        "“About 3 in 100 people who had a scan.”"
                    )
                }
            )


class RecoveryRestriction(ProcedureChild):
    """Something to avoid (or do) while healing, for how long, and why."""

    procedure = models.ForeignKey(
        Procedure, on_delete=models.CASCADE, related_name="recovery_restrictions"
    )
    period = models.CharField(
        _("when, in words"),
        max_length=100,
        help_text=_(
            "How the timeline says it, for example “For the first 6 to 8 weeks”. "
            "Steps with the same words are grouped."
        ),
    )
    starts_day = models.PositiveSmallIntegerField(
        _("starts on day"),
        default=0,
        help_text=_("Days after surgery when it starts: 0 is the day of surgery."),
    )
    ends_day = models.PositiveSmallIntegerField(
        _("ends on day"),
        null=True,
        blank=True,
        help_text=_(
            "Days after surgery when it ends, at the latest (8 weeks is 56). Empty: no "
            "fixed end (until the surgeon says, or for as long as you have the pump)."
        ),
    )
    activity = models.CharField(_("activity"), max_length=200)
    reason = models.CharField(_("why"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("recovery restriction")
        verbose_name_plural = _("recovery restrictions")
        # A timeline: by when it starts, then what ends first; no end comes last.
        ordering = ["starts_day", models.F("ends_day").asc(nulls_last=True), "order", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_day__isnull=True) | Q(ends_day__gte=models.F("starts_day")),
                name="recovery_ends_after_it_starts",
                violation_error_message=_("The end day cannot come before the start day."),
            )
        ]

    def __str__(self):
        return self.activity


class LivingTopic(ProcedureChild):
    """Day-to-day life with the device: refills, alarms, battery, MRI, ID card, travel."""

    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="living_topics")
    title = models.CharField(_("topic"), max_length=150)
    body = models.TextField(_("text"), help_text=_("Leave an empty line between paragraphs."))

    class Meta(ProcedureChild.Meta):
        verbose_name = _("living-with topic")
        verbose_name_plural = _("living-with topics")

    def __str__(self):
        return self.title


class WarningSign(ProcedureChild):
    """A sign that needs help, with how fast to act. Urgency drives the box it goes in.

    Four levels, because "call us today" cannot say what a stopped pump needs: call
    911; call the clinic now, day or night (the after-hours line, or the emergency room
    if no one answers); call the clinic today; mention it at the next visit.
    """

    class Urgency(models.TextChoices):
        EMERGENCY = "emergency", _("Call 911 now")
        NOW = "now", _("Call us now, day or night")
        TODAY = "today", _("Call us today")
        NEXT_VISIT = "next_visit", _("Tell us at your next visit")

    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="warning_signs")
    urgency = models.CharField(
        _("urgency"),
        max_length=20,
        choices=Urgency.choices,
        help_text=_(
            "Call 911: breathing, waking, spinal cord or infection emergencies. Call us "
            "now: anything that means the pump has stopped or the medicine is "
            "missing (alarms, withdrawal, a missed refill)."
        ),
    )
    sign = models.CharField(
        _("sign"),
        max_length=200,
        help_text=_(
            "Short and simple: one sign per line, written so a family member can "
            "spot it too (“Cannot be woken up”)."
        ),
    )
    what_to_do = models.CharField(
        _("what to do"),
        max_length=200,
        blank=True,
        help_text=_(
            "Optional: a step for this sign besides the box's call, for example "
            "“Give naloxone (Narcan) if you have it.”"
        ),
    )

    class Meta(ProcedureChild.Meta):
        verbose_name = _("warning sign")
        verbose_name_plural = _("warning signs")

    def __str__(self):
        return self.sign


class FAQ(ProcedureChild):
    """A question patients often ask, with a short answer."""

    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="faqs")
    question = models.CharField(_("question"), max_length=200)
    answer = models.TextField(_("answer"))
    answered_in = models.ForeignKey(
        GuidePart,
        verbose_name=_("more in part"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_(
            "The part of the guide that answers this in full. Keep the answer short: the "
            "page links to that part instead of saying it twice."
        ),
    )

    class Meta(ProcedureChild.Meta):
        verbose_name = _("question and answer")
        verbose_name_plural = _("questions and answers")

    def __str__(self):
        return self.question


class DoctorQuestion(ProcedureChild):
    """A question the patient can take to their doctor (printable list)."""

    procedure = models.ForeignKey(
        Procedure, on_delete=models.CASCADE, related_name="doctor_questions"
    )
    question = models.CharField(_("question"), max_length=200)

    class Meta(ProcedureChild.Meta):
        verbose_name = _("question to ask your doctor")
        verbose_name_plural = _("questions to ask your doctor")

    def __str__(self):
        return self.question


class Revision(models.Model):
    """An approved version of a page: what it said, who approved it, when, and why.

    Written by workflow.approve() each time a clinical reviewer approves the page (and
    by the demo loader). `content` is the whole page as education/versions.py writes it
    (the page's fields, its parts and every block, each block with its uid), so two
    versions can be compared and an old one made into a draft again.
    """

    procedure = models.ForeignKey(
        Procedure, on_delete=models.CASCADE, related_name="revisions", verbose_name=_("page")
    )
    number = models.PositiveIntegerField(_("version"))
    content = models.JSONField(_("content"), encoder=DjangoJSONEncoder, editable=False)
    note = models.CharField(
        _("what changed"),
        max_length=300,
        blank=True,
        help_text=_("Shown on the page: “Updated 1 March 2027: …”."),
    )
    approved_at = models.DateTimeField(_("approved"))
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # As the page showed them, kept if the account is later removed.
    reviewer_name = models.CharField(_("reviewed by"), max_length=120)
    reviewer_credentials = models.CharField(_("reviewer credentials"), max_length=120)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent for review by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("approved version")
        verbose_name_plural = _("approved versions")
        ordering = ["procedure", "-number"]
        # Written only by approval (workflow.py): nobody adds, changes or deletes one.
        default_permissions = ["view"]
        constraints = [
            models.UniqueConstraint(
                fields=["procedure", "number"], name="revision_number_unique_per_page"
            )
        ]

    def __str__(self):
        return _("Version %(number)s") % {"number": self.number}
