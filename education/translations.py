"""Pages in other languages: where a page's translation stands.

A translation is a page of its own (Procedure.language, translation_of): its own parts,
blocks and glossary words, edited through drafts and approved by a clinical reviewer
like any page, at its English page's address under the language's prefix (/es/...).
versions.start_translation() begins one as a copy of the English page for editors to
rewrite block by block. Until it is published, readers of that language get the whole
English page with a notice in their language (views.LanguageFallbackMixin).

When a reviewer approves a translation, the English page's version it matches is kept
(Procedure.source_version); once the English page has a newer approved version with
different content, the translation is out of date until it is approved again.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class State(models.TextChoices):
    MISSING = "missing", _("Missing")
    DRAFT = "draft", _("Draft, not on the site")
    PUBLISHED = "published", _("Published")
    OUT_OF_DATE = "out_of_date", _("Out of date: the English page changed since")


def translation_in(page, language):
    """The page's translation into `language` (not a draft copy), or None. Uses the
    prefetched `translations` when the caller loaded them."""
    return next(
        (
            translation
            for translation in page.translations.all()
            if translation.language == language and translation.draft_of_id is None
        ),
        None,
    )


def state(page, language):
    """Where the English `page`'s translation into `language` stands (State)."""
    translation = translation_in(page, language)
    if translation is None:
        return State.MISSING
    if not translation.is_published:
        return State.DRAFT
    if is_out_of_date(page, translation):
        return State.OUT_OF_DATE
    return State.PUBLISHED


def is_out_of_date(page, translation):
    """True when the English page's latest approved version says something other than
    the version the translation was approved against. Reads the two versions' content
    only when their numbers differ (a review that changed nothing adds a version)."""
    latest = page.revisions.order_by("-number").values_list("number", flat=True).first()
    if latest is None or latest == translation.source_version:
        return False
    numbers = [latest, translation.source_version]
    content = dict(page.revisions.filter(number__in=numbers).values_list("number", "content"))
    return content.get(translation.source_version) != content[latest]
