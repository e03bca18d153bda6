"""Set-up links: the only way a staff member adds an authenticator app.

A password alone must never be enough to set up two-step sign-in, or whoever guessed
the password could set it up first. So a superuser makes a link for one person (the
"Set-up link" button on the user's page in the admin, or `manage.py enrolment_link
USERNAME`) and gives it to them. The link carries a random token. Only the token's
SHA-256 hash is stored: the database, its backups and the admin never hold a link that
works. The token has 256 random bits, so a plain hash is enough (no slow password hash).

A link works once, for its own user only, until it expires (STAFF_ENROLMENT_LINK_HOURS).
Making a new link for someone voids their older unused one. Rows are kept as a record of
who made a link for whom, and when it was used.
"""

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class EnrolmentLinkQuerySet(models.QuerySet):
    def open(self):
        """Neither used nor voided (it may still have expired)."""
        return self.filter(used_at=None, voided_at=None)

    def usable(self, now=None):
        """Open and not expired: these can still set up an app."""
        return self.open().filter(expires_at__gt=now or timezone.now())


class EnrolmentLink(models.Model):
    """One set-up link for one staff member: the hash of its token and what became of it.

    At most one open link per person (a database constraint): making a new one voids the
    old one first (`accounts.services.make_enrolment_link`).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="enrolment_links",
        verbose_name=_("for"),
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("made by"),
        help_text=_("Empty when made on the server with manage.py enrolment_link."),
    )
    created_at = models.DateTimeField(_("made"), default=timezone.now)
    expires_at = models.DateTimeField(_("works until"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    voided_at = models.DateTimeField(
        _("replaced"),
        null=True,
        blank=True,
        help_text=_("When a newer link for the same person replaced it."),
    )

    objects = EnrolmentLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("set-up link")
        verbose_name_plural = _("set-up links")
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(used_at=None, voided_at=None),
                name="accounts_one_open_enrolment_link_per_user",
                violation_error_message=_("This person already has an open set-up link."),
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("created_at")),
                name="accounts_enrolment_link_expires_after_it_is_made",
                violation_error_message=_("A set-up link must expire after it is made."),
            ),
            models.CheckConstraint(
                condition=Q(used_at=None) | Q(voided_at=None),
                name="accounts_enrolment_link_used_or_replaced_not_both",
                violation_error_message=_("A set-up link is either used or replaced."),
            ),
        ]

    def __str__(self):
        return _("Set-up link for %(username)s") % {"username": self.user.get_username()}

    @staticmethod
    def hash_token(token):
        return hashlib.sha256(token.encode()).hexdigest()

    def status(self, now=None):
        """What became of the link, in words for the admin."""
        if self.used_at:
            return _("used")
        if self.voided_at:
            return _("replaced by a newer link")
        if self.expires_at <= (now or timezone.now()):
            return _("expired")
        return _("not used yet")


class StaffProfile(models.Model):
    """What a staff member's account adds to Django's user: the credentials a clinical
    reviewer's name carries on the pages they approve ("Rita Reviewer, MD").

    Set by a superuser on the user's page ("Staff profile"). A reviewer without a full
    name and credentials cannot approve a page (education/workflow.py).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="staff_profile",
        verbose_name=_("user"),
    )
    credentials = models.CharField(
        _("credentials"),
        max_length=120,
        blank=True,
        help_text=_(
            "As the pages show them after the person's name, for example “MD” or "
            "“MD, pain medicine”. Needed to approve pages as a clinical reviewer."
        ),
    )

    class Meta:
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")

    def __str__(self):
        return self.user.get_username()
