"""Drafts and clinical sign-off: nothing reaches patients until a clinical reviewer
approves it. The one place for the rules; the admin only calls these.

- A page that was never approved is not on the site and is edited as it is.
- A page with an approved version (on the site, or taken off it) is changed through
  its draft: `start_draft()` copies it into a working copy, editors change that, and
  the public keeps seeing the approved version.
- An editor sends a draft for review (`submit()`). A clinical reviewer sends it back
  with a comment (`send_back()`) or approves it (`approve()`): the draft's content
  replaces the page's, the page goes on the site and a Revision records who approved
  what, when, and the "what changed" note patients see. Nobody approves a draft they
  changed, and approval is refused while the page fails the publish gate
  (`approval_problems()`).
- A reviewer can confirm an unchanged page is still right (`confirm_review()`), make
  an old version into a draft again (`restore()`), or take a page off the site
  (`unpublish()`); only a page off the site can be deleted.
"""

import datetime
import hashlib
import json

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from . import readability, versions
from .models import Procedure, Revision, Risk, WarningSign

# The next review, unless the reviewer chooses another date.
REVIEW_INTERVAL = datetime.timedelta(days=365)
APPROVE_PERMISSION = "education.approve_procedure"


class Refused(Exception):
    """A step that cannot be taken, with a message for each reason (shown to staff)."""

    def __init__(self, *reasons):
        super().__init__(" ".join(reasons))
        self.reasons = list(reasons)


def reviewer_identity(user):
    """(name, credentials) as the page shows its reviewer: the account's full name and
    the credentials on its staff profile (accounts.StaffProfile)."""
    profile = getattr(user, "staff_profile", None)
    return user.get_full_name().strip(), (profile.credentials.strip() if profile else "")


def fingerprint(content):
    """A short checksum of a version: the reviewer approves the content they read."""
    text = json.dumps(content, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def default_next_review(today=None):
    return (today or timezone.localdate()) + REVIEW_INTERVAL


def may_edit(procedure):
    """Can this page's content be changed in place? Only drafts: a working copy, or a
    page that was never approved."""
    return not procedure.is_locked()


@transaction.atomic
def start_draft(page, user):
    """The page's draft, made now from the page's content if it has none yet."""
    if may_edit(page):
        return page
    page = Procedure.objects.select_for_update().get(pk=page.pk)
    draft = Procedure.objects.filter(draft_of=page).first()
    if draft is None:
        draft = page.new_draft()
        versions.replace_content(draft, versions.snapshot(page))
    return draft


def record_edit(draft, user):
    """`user` changed this draft: they may no longer approve it."""
    draft.edited_by.add(user)


def submit(draft, user):
    if not may_edit(draft):
        raise Refused(_("Only a draft can be sent for review."))
    draft.review_state = Procedure.ReviewState.SUBMITTED
    draft.submitted_by, draft.submitted_at = user, timezone.now()
    draft.review_comment = ""
    draft.save(update_fields=["review_state", "submitted_by", "submitted_at", "review_comment"])


def send_back(draft, reviewer, comment):
    comment = comment.strip()
    if draft.review_state != Procedure.ReviewState.SUBMITTED:
        raise Refused(_("This draft is not waiting for review."))
    if not comment:
        raise Refused(_("Say what needs to change, so the editor knows what to do."))
    draft.review_state = Procedure.ReviewState.EDITING
    draft.review_comment = comment
    draft.save(update_fields=["review_state", "review_comment"])


def approval_problems(procedure, reviewer):
    """Why `reviewer` may not approve this version of the page: [] when they may.

    The publish gate: a named reviewer with credentials, sources, every frequency
    backed by one of the page's own sources, each pump model's MRI rule too, a "Call
    911" box, body text at grade 8 or below and "when to get help" boxes and the pump
    card's texts at grade 6 or below. And nobody approves a
    draft they changed."""
    problems = []
    if not reviewer.has_perm(APPROVE_PERMISSION):
        problems.append(_("Only clinical reviewers can approve pages."))
    if procedure.pk and procedure.edited_by.filter(pk=reviewer.pk).exists():
        problems.append(_("You changed this draft, so another clinical reviewer must approve it."))
    name, credentials = reviewer_identity(reviewer)
    if not (name and credentials):
        problems.append(
            _(
                "Medical review: the page names its reviewer with their credentials. Ask "
                "an administrator to add your full name and credentials (for example MD) "
                "to your staff account."
            )
        )
    slug_taken = (
        Procedure.objects.pages()
        .filter(language=procedure.language, slug=procedure.slug)
        .exclude(pk=procedure.page.pk)
        .exists()
    )
    if slug_taken:
        problems.append(
            _("Web address: another page already uses “%(slug)s”.") % {"slug": procedure.slug}
        )
    if not procedure.references.exists():
        problems.append(_("Sources: the page lists no sources."))
    for risk in procedure.risks.select_related("reference"):
        if not risk.frequency:
            continue
        if not sourced_here(risk, procedure):
            problems.append(
                _("Risk “%(name)s”: its frequency needs a source from this page's sources.")
                % {"name": risk.name}
            )
        elif not Risk.DENOMINATOR.search(risk.frequency):
            problems.append(
                _("Risk “%(name)s”: its frequency must say what it is out of.")
                % {"name": risk.name}
            )
    for pump in procedure.pump_models.select_related("reference"):
        if not sourced_here(pump, procedure):
            problems.append(
                _("Pump model “%(name)s”: its MRI rule needs a source from this page's sources.")
                % {"name": str(pump)}
            )
    for chance in procedure.decision_chances.select_related("reference"):
        if not sourced_here(chance, procedure):
            problems.append(
                _(
                    "Decision aid chance “%(name)s”: its numbers need a source from this "
                    "page's sources."
                )
                % {"name": chance.outcome}
            )
    if not procedure.warning_signs.filter(urgency=WarningSign.Urgency.EMERGENCY).exists():
        problems.append(
            _("When to get help: no sign is in the “%(box)s” box.")
            % {"box": WarningSign.Urgency.EMERGENCY.label}
        )
    for name, reading in readability.hard_blocks(procedure):
        problems.append(
            _("%(block)s: %(score)s; it must be %(target)s.")
            % {"block": name, "score": reading.score, "target": reading.target}
        )
    return problems


def sourced_here(block, procedure):
    """Whether a block's source (models.source_field, loaded with the block) is one of
    this page's own references: a source on another page is no source for this one."""
    return block.reference is not None and block.reference.procedure_id == procedure.pk


def check_next_review(next_review_due, today):
    if next_review_due is not None and next_review_due <= today:
        raise Refused(_("The next review must be after today."))


@transaction.atomic
def approve(draft, reviewer, note="", next_review_due=None, seen=None):
    """Publish a draft sent for review: its content becomes the page's. Returns the new
    Revision. `seen`: the fingerprint of the version the reviewer read; if the draft
    changed since, nothing is approved."""
    draft = Procedure.objects.select_for_update().get(pk=draft.pk)
    if not may_edit(draft) or draft.review_state != Procedure.ReviewState.SUBMITTED:
        raise Refused(_("This draft is not waiting for review."))
    content = versions.snapshot(draft)
    if seen is not None and seen != fingerprint(content):
        raise Refused(_("The draft changed while you were reading it. Look at the changes again."))
    problems = approval_problems(draft, reviewer)
    if problems:
        raise Refused(*problems)
    today = timezone.localdate()
    check_next_review(next_review_due, today)
    page, submitted_by = draft.page, draft.submitted_by
    if draft.is_draft_copy:
        page = Procedure.objects.select_for_update().get(pk=page.pk)
        keep_first_version(page)
        draft.delete()
        versions.replace_content(page, content)
    return record_approval(page, reviewer, note, next_review_due, submitted_by)


@transaction.atomic
def confirm_review(page, reviewer, note="", next_review_due=None):
    """A reviewer checked a page with an approved version and it is still right (or
    puts a page that was taken off the site back on it): a new approved version with
    the same content."""
    page = Procedure.objects.select_for_update().get(pk=page.pk)
    if may_edit(page):
        raise Refused(_("This page has no approved version yet: send it for review instead."))
    last = page.revisions.order_by("-number").first()
    if last is not None and versions.snapshot(page) != last.content:
        # Only a draft changes a page with an approved version; a reviewer confirms
        # exactly what was approved, never something changed since.
        raise Refused(
            _(
                "This page is not what was last approved. Edit it through a draft and "
                "send the draft for review."
            )
        )
    problems = approval_problems(page, reviewer)
    if problems:
        raise Refused(*problems)
    check_next_review(next_review_due, timezone.localdate())
    keep_first_version(page)
    return record_approval(page, reviewer, note, next_review_due, submitted_by=None)


def keep_first_version(page):
    """A page published before versions were kept gets its content recorded as it was,
    before anything replaces it: nothing patients were shown is lost."""
    if page.revisions.exists():
        return
    reviewed = page.last_reviewed or timezone.localdate()
    Revision.objects.create(
        procedure=page,
        number=1,
        content=versions.snapshot(page),
        approved_at=timezone.make_aware(datetime.datetime.combine(reviewed, datetime.time())),
        reviewer_name=page.reviewer_name,
        reviewer_credentials=page.reviewer_credentials,
    )


def record_approval(page, reviewer, note, next_review_due, submitted_by):
    name, credentials = reviewer_identity(reviewer)
    today = timezone.localdate()
    page.status = Procedure.Status.PUBLISHED
    page.reviewer_name, page.reviewer_credentials = name, credentials
    page.last_reviewed = today
    page.next_review_due = next_review_due or default_next_review(today)
    if note.strip():
        page.update_note, page.updated_on = note.strip(), today
    if page.translation_of_id:
        # What the translation was checked against: a newer English version makes it
        # out of date (education/translations.py).
        source = page.translation_of.revisions.aggregate(last=Max("number"))["last"]
        page.source_version = source
    page.review_state = Procedure.ReviewState.EDITING
    page.submitted_by, page.submitted_at, page.review_comment = None, None, ""
    page.save()
    page.edited_by.clear()
    number = (page.revisions.aggregate(last=Max("number"))["last"] or 0) + 1
    return Revision.objects.create(
        procedure=page,
        number=number,
        content=versions.snapshot(page),
        note=note.strip(),
        approved_at=timezone.now(),
        approved_by=reviewer,
        reviewer_name=name,
        reviewer_credentials=credentials,
        submitted_by=submitted_by,
    )


@transaction.atomic
def restore(page, revision, user):
    """Make an approved version into the page's draft again; it needs approval like
    any other change."""
    if revision.procedure_id != page.pk:
        raise Refused(_("That version belongs to another page."))
    if Procedure.objects.filter(draft_of=page).exists():
        raise Refused(
            _(
                "This page already has a draft. Approve it or delete it before you restore "
                "an old version."
            )
        )
    draft = page.new_draft()
    versions.replace_content(draft, revision.content)
    record_edit(draft, user)
    return draft


def unpublish(page):
    """Take a page off the site, with its translations (they say the same thing). Its
    approved versions are kept; approving it again (confirm_review) or approving its
    draft puts it back, and each translation likewise."""
    if page.is_draft_copy or not page.is_published:
        raise Refused(_("This page is not on the site."))
    page.status = Procedure.Status.DRAFT
    page.save(update_fields=["status", "updated_at"])
    for translation in page.translations.pages().published():
        translation.status = Procedure.Status.DRAFT
        translation.save(update_fields=["status", "updated_at"])
