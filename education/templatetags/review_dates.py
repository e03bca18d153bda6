"""The admin home's review box: how many guide pages are late for their medical review.

`{% load review_dates %}{% review_date_box as box %}` in the admin home
(education/templates/admin/index_review_dates.html). Only for staff who can act on a
review: those who may change or approve procedures (content editors, clinical
reviewers, superusers). The front desk may read the content but not change it, so the
box would only be noise on their work screen.
"""

from django import template
from django.urls import reverse

from education.admin_review_dates import PARAMETER
from education.review_dates import Due, pages

register = template.Library()


def can_act(user):
    return (
        user.is_active
        and user.is_staff
        and (
            user.has_perm("education.change_procedure")
            or user.has_perm("education.approve_procedure")
        )
    )


@register.simple_tag(takes_context=True)
def review_date_box(context):
    """{"overdue": n, "no_date": n, "overdue_url": ..., "no_date_url": ...}, or None
    when there is nothing to show or the user cannot act on it."""
    request = context.get("request")
    if request is None or not can_act(request.user):
        return None
    overdue, no_date = pages(Due.OVERDUE).count(), pages(Due.NO_DATE).count()
    if not (overdue or no_date):
        return None
    changelist = reverse("admin:education_procedure_changelist")
    return {
        "overdue": overdue,
        "no_date": no_date,
        "overdue_url": f"{changelist}?{PARAMETER}={Due.OVERDUE}",
        "no_date_url": f"{changelist}?{PARAMETER}={Due.NO_DATE}",
    }


@register.simple_tag(takes_context=True)
def drafts_box(context):
    """{"waiting": n, "waiting_url": ...} for clinical reviewers: the drafts that wait
    for them; {"sent_back": n, "sent_back_url": ...} for editors: drafts a reviewer
    sent back with a comment. None when there is nothing for this person."""
    from education.models import Procedure

    request = context.get("request")
    if request is None or not (request.user.is_active and request.user.is_staff):
        return None
    changelist = reverse("admin:education_procedure_changelist")
    box = {}
    if request.user.has_perm("education.approve_procedure"):
        waiting = Procedure.objects.filter(review_state=Procedure.ReviewState.SUBMITTED)
        box["waiting"] = waiting.count()
        box["waiting_url"] = f"{changelist}?state=waiting"
    if request.user.has_perm("education.change_procedure"):
        sent_back = Procedure.objects.filter(review_state=Procedure.ReviewState.EDITING)
        box["sent_back"] = sent_back.exclude(review_comment="").count()
        box["sent_back_url"] = f"{changelist}?state=sent_back"
    return box if box.get("waiting") or box.get("sent_back") else None
