"""Review dates in the list of guide pages: a filter and a marker (rules: review_dates.py).

ProcedureAdmin takes both:

    from .admin_review_dates import ReviewDateFilter, review_date_marker

    list_display = [..., review_date_marker, ...]
    list_filter = [..., ReviewDateFilter]

The filter's address (`?review_date=overdue`) is the one the admin home box and the
reminder email link to. The marker says the state in words with an icon, so it reads
without colour.
"""

from django.contrib import admin
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.translation import gettext as _gettext
from django.utils.translation import gettext_lazy as _

from .review_dates import Due, condition, due_state, format_date

PARAMETER = "review_date"


class ReviewDateFilter(admin.SimpleListFilter):
    """Published pages by their next medical review: overdue, due in 30 days, current,
    or with no date. Drafts are in none of them (patients do not see them)."""

    title = _("review date (pages on the site)")
    parameter_name = PARAMETER

    def lookups(self, request, model_admin):
        return Due.choices

    def queryset(self, request, queryset):
        if self.value() not in Due.values:
            return queryset
        return queryset.published().filter(condition(self.value()))


# (icon, words) per state: the words carry the meaning; the icon is decoration.
ICONS = {
    Due.OVERDUE: "admin/img/icon-alert.svg",
    Due.NO_DATE: "admin/img/icon-alert.svg",
    Due.DUE_SOON: "admin/img/icon-clock.svg",
}


def unbroken(text):
    """Kept on one line in the list's narrow column."""
    return text.replace(" ", "\N{NO-BREAK SPACE}")


@admin.display(description=_("next review"), ordering="next_review_due")
def review_date_marker(procedure):
    """The review state of a published page in words, with an icon: "Overdue", "Due
    soon" or "No date", and the date under it. A current page, and a draft (patients
    do not see it), show the date alone."""
    due = procedure.next_review_due
    state = due_state(procedure)
    if not procedure.is_published or state == Due.CURRENT:
        return format_date(due) if due else "-"
    label = {
        Due.OVERDUE: _gettext("Overdue"),
        Due.DUE_SOON: _gettext("Due soon"),
        Due.NO_DATE: _gettext("No date"),
    }[state]
    return format_html(
        '<span class="review-date-{}"><img src="{}" alt="" width="14" height="14"> '
        "<strong>{}</strong>{}</span>",
        state,
        static(ICONS[state]),
        unbroken(label),
        format_html("<br>{}", unbroken(format_date(due))) if due else "",
    )
