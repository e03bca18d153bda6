"""Review dates that are kept: which guide pages are past their medical review date.

Every guide page names the day its doctor should check it again
(`Procedure.next_review_due`). This module is the one place that says what that date
means today, and everything that shows it follows it:

- the public review line (templates/education/blocks/review_line.html, through the
  Jinja2 global `review_due`, which is `due_state`), which says plainly when a page
  is late for its check;
- the admin: the "review date" filter and the marker in the list of pages
  (admin_review_dates.py) and the box on the admin home (templatetags/review_dates.py);
- the daily reminder email to the clinical reviewers (`send_reminders()`, sent by the
  task in tasks.py, queued by `manage.py send_review_reminders`), which also empties
  the page cache on the day a page turns late (`empty_page_cache_if_a_page_turned_late`).

"Today" is the clinic's day (settings.TIME_ZONE, `timezone.localdate()`), never the
server's or UTC's. Only pages on the site count (`Procedure.objects.published()`): a
draft is not seen by patients. A published page with no next-review date needs
attention too: nobody has said when it will be checked.

Nothing here ever carries patient details (content has none) or a list of staff: each
reminder goes to one person, and logs name no address.
"""

import datetime
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.cache import caches
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _gettext
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts import roles

from .models import Procedure

logger = logging.getLogger(__name__)

# A page whose review falls within this many days is "due soon".
DUE_SOON_DAYS = 30


class Due(models.TextChoices):
    """Where a page stands with its next medical review."""

    OVERDUE = "overdue", _("Overdue")
    DUE_SOON = "due_soon", _("Due in 30 days")  # DUE_SOON_DAYS
    CURRENT = "current", _("Current")
    NO_DATE = "no_date", _("No date")


def today():
    """The clinic's today."""
    return timezone.localdate()


def condition(due, day=None):
    """The database condition for one state on `day` (default: today)."""
    day = day or today()
    soon = day + datetime.timedelta(days=DUE_SOON_DAYS)
    return {
        Due.OVERDUE: Q(next_review_due__lt=day),
        Due.DUE_SOON: Q(next_review_due__gte=day, next_review_due__lte=soon),
        Due.CURRENT: Q(next_review_due__gt=soon),
        Due.NO_DATE: Q(next_review_due__isnull=True),
    }[Due(due)]


def pages(due, day=None):
    """The published pages in one state on `day` (default: today), soonest due first."""
    published = Procedure.objects.published()
    return published.filter(condition(due, day)).order_by("next_review_due", "title")


def due_state(procedure, day=None):
    """One page's state on `day` (default: today), from its dates alone (as `condition`).

    The public templates have it as `review_due(procedure)`; a Due is a str, so they
    compare it with text ("overdue")."""
    due = procedure.next_review_due
    day = day or today()
    if due is None:
        return Due.NO_DATE
    if due < day:
        return Due.OVERDUE
    if due <= day + datetime.timedelta(days=DUE_SOON_DAYS):
        return Due.DUE_SOON
    return Due.CURRENT


def format_date(day):
    return formats.date_format(day, "DATE_FORMAT")


# The page cache. Public pages are rendered once and kept until content changes, so a
# page that turns late at midnight would go on saying "next review due" from the cache.
# The daily command empties the cache on the day that happens (apps do not import
# clinic_site: the cache is reached by its name, as ClinicSettings.load() does).


def turned_late(day=None):
    """Published pages that turned late at the start of `day`: due the day before."""
    day = day or today()
    return Procedure.objects.published().filter(next_review_due=day - datetime.timedelta(days=1))


def empty_page_cache_if_a_page_turned_late(day=None):
    """Empty the public page cache when a page turned late today, so its review line
    says so from now on. Returns how many pages turned late."""
    count = turned_late(day).count()
    if count:
        caches["pages"].clear()
    return count


# The reminder email.


class RemindersNotSent(Exception):
    """Some reminder emails could not be sent. Its message carries counts and error
    class names only, never an address."""


def recipients():
    """Email addresses of active clinical reviewers and active superusers, once each."""
    users = (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(groups__name=roles.CLINICAL_REVIEWERS) | Q(is_superuser=True))
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )
    addresses = {}
    for address in users:
        addresses.setdefault(address.strip().lower(), address.strip())
    return sorted(addresses.values(), key=str.lower)


def admin_link(procedure):
    return settings.SITE_URL + reverse("admin:education_procedure_change", args=[procedure.pk])


def list_link(due):
    return f"{settings.SITE_URL}{reverse('admin:education_procedure_changelist')}?review_date={due}"


def reminder_pages(day=None):
    """The pages a reminder lists, by state: overdue, due soon, no date."""
    day = day or today()
    return {due: list(pages(due, day)) for due in (Due.OVERDUE, Due.DUE_SOON, Due.NO_DATE)}


def reminder_message(listed):
    """Subject and plain-text body of the reminder: titles, dates and staff links."""
    overdue, due_soon, no_date = listed[Due.OVERDUE], listed[Due.DUE_SOON], listed[Due.NO_DATE]
    subject = _gettext("Guide pages to review: %(overdue)s past their date, %(soon)s due soon") % {
        "overdue": len(overdue),
        "soon": len(due_soon),
    }
    if no_date:
        subject += _gettext(", %(count)s with no date") % {"count": len(no_date)}
    lines = [_gettext("Some guide pages on the website need their medical review."), ""]
    sections = [
        (
            overdue,
            Due.OVERDUE,
            _gettext("Past their review date (%(count)s):"),
            _gettext("was due %(date)s"),
        ),
        (
            due_soon,
            Due.DUE_SOON,
            _gettext("Due in the next %(days)s days (%(count)s):"),
            _gettext("due %(date)s"),
        ),
        (no_date, Due.NO_DATE, _gettext("No review date set (%(count)s):"), ""),
    ]
    for procedures, due, heading, when in sections:
        if not procedures:
            continue
        lines.append(heading % {"count": len(procedures), "days": DUE_SOON_DAYS})
        for procedure in procedures:
            line = f"- {procedure.title}"
            if when:
                line += f": {when % {'date': format_date(procedure.next_review_due)}}"
            lines += [line, f"  {admin_link(procedure)}"]
        lines += [_gettext("All of them in the staff site:"), f"  {list_link(due)}", ""]
    lines += [
        _gettext(
            "After a doctor checks a page, set its “last reviewed” and “next review due” "
            "dates in the staff site (you will need to sign in)."
        ),
        _gettext("You get this email because you are a clinical reviewer or a site administrator."),
    ]
    return subject, "\n".join(lines) + "\n"


def send_reminders(day=None):
    """Email each reviewer and superuser (one message each, so nobody sees the others'
    addresses) the pages that need review. Nothing to review: no email.

    Returns counts. When any email fails, logs the count and the error's class (no
    address) and raises RemindersNotSent, so the task shows as failed and the daily
    command reports it to cron; the next day's run sends again.
    """
    listed = reminder_pages(day)
    counts = {due.value: len(procedures) for due, procedures in listed.items()}
    if not any(counts.values()):
        return {**counts, "emails": 0}
    addresses = recipients()
    if not addresses:
        summary = _gettext(
            "No review reminder sent: no active clinical reviewer or superuser has an "
            "email address."
        )
        logger.warning("%s", summary)
        raise RemindersNotSent(summary)
    subject, body = reminder_message(listed)
    sent, errors = 0, []
    try:
        with mail.get_connection() as connection:
            for address in addresses:
                message = mail.EmailMessage(
                    subject, body, settings.DEFAULT_FROM_EMAIL, [address], connection=connection
                )
                try:
                    message.send()
                except Exception as exc:  # SMTP and socket errors vary; the rest still go.
                    errors.append(type(exc).__name__)
                else:
                    sent += 1
    except Exception as exc:  # Opening or closing the connection.
        errors.append(type(exc).__name__)
    failed = len(addresses) - sent
    if failed:
        summary = ngettext(
            "%(failed)s of %(total)s review reminder email not sent (%(errors)s).",
            "%(failed)s of %(total)s review reminder emails not sent (%(errors)s).",
            len(addresses),
        ) % {"failed": failed, "total": len(addresses), "errors": ", ".join(sorted(set(errors)))}
        logger.warning("%s", summary)
        raise RemindersNotSent(summary)
    if errors:  # every email went; only closing the connection failed
        logger.warning("Review reminder: closing the mail connection failed (%s).", errors[-1])
    logger.info(
        "Review reminder sent to %s people (%s overdue, %s due soon, %s with no date).",
        sent,
        counts[Due.OVERDUE],
        counts[Due.DUE_SOON],
        counts[Due.NO_DATE],
    )
    return {**counts, "emails": sent}
