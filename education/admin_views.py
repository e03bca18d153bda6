"""The admin pages of the drafts-and-approval workflow (education/workflow.py).

Each is a view function of (request, model_admin, pk, ...), routed by
ProcedureAdmin.get_urls() through `admin_site.admin_view`, so only signed-in staff
reach them, and with STAFF_TWO_FACTOR_REQUIRED only after their code. Each checks the
permission its step needs; changes are POSTs; every step is written to the page's
admin history.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from . import translations, versions, workflow
from .models import Procedure
from .views import GuidePreviewView, ToolPreviewView


def admin_url(action, *args):
    return reverse(f"admin:education_procedure_{action}", args=args)


def state_text(procedure):
    """One line on where a page or draft stands, for the list and its admin page."""
    waiting = procedure.review_state == Procedure.ReviewState.SUBMITTED
    if procedure.is_draft_copy:
        if waiting:
            return _("Draft of a page on the site: waiting for clinical review")
        return _("Draft of a page on the site: being edited")
    if procedure.is_published:
        return _("On the site")
    if not procedure.is_locked():
        if waiting:
            return _("New page, not on the site: waiting for clinical review")
        return _("New page, not on the site: being edited")
    return _("Taken off the site")


def change_form_context(model_admin, request, procedure):
    """What the page's admin page shows above its form: where it stands, what the
    person may do next, and (for drafts) the tabs of its parts."""
    user = request.user
    editable = workflow.may_edit(procedure)
    can_change = model_admin.has_change_permission(request)
    can_approve = user.has_perm(workflow.APPROVE_PERMISSION)
    draft = None
    if not editable:
        draft = Procedure.objects.filter(draft_of=procedure).first()
    tabs = []
    if editable:
        current = request.GET.get("part") or None
        base = admin_url("change", procedure.pk)
        tabs = [(_("The page and its overview"), base, current is None)]
        tabs += [
            (part.title, f"{base}?{urlencode({'part': part.slug})}", part.slug == current)
            for part in procedure.parts.all()
        ]
    waiting = procedure.review_state == Procedure.ReviewState.SUBMITTED
    return {
        "workflow": {
            "state": state_text(procedure),
            "editable": editable,
            "draft": draft,
            "live": procedure.draft_of,
            "waiting": waiting,
            "tabs": tabs,
            "can_start_draft": can_change and not editable,
            "can_submit": can_change and editable and not waiting,
            "can_review": can_approve and editable and waiting,
            "can_confirm": can_approve and not editable,
            "can_unpublish": can_approve and not editable and procedure.is_published,
            "can_copy": model_admin.has_add_permission(request) and not procedure.translation_of_id,
            "has_versions": not procedure.is_draft_copy and procedure.revisions.exists(),
        },
        "languages": language_context(model_admin, request, procedure),
    }


def language_context(model_admin, request, procedure):
    """The page's other language, for its admin page: a translation names its English
    page; an English page says where its Spanish version stands and links to it, or
    offers to start it."""
    if procedure.is_draft_copy:
        return None
    if procedure.translation_of_id:
        english = procedure.translation_of
        return {
            "english": english,
            "english_url": admin_url("change", english.pk),
            "state": translations.state(english, procedure.language).label,
        }
    spanish = translations.translation_in(procedure, "es")
    return {
        "state": translations.state(procedure, "es").label,
        "spanish_url": admin_url("change", spanish.pk) if spanish else None,
        "can_translate": spanish is None and model_admin.has_add_permission(request),
    }


def get_procedure(model_admin, request, pk):
    procedure = get_object_or_404(model_admin.get_queryset(request), pk=pk)
    if not model_admin.has_view_permission(request, procedure):
        raise PermissionDenied
    return procedure


def require_approver(request):
    if not request.user.has_perm(workflow.APPROVE_PERMISSION):
        raise PermissionDenied


def render(model_admin, request, template, procedure, title, **context):
    return TemplateResponse(
        request,
        f"admin/education/procedure/{template}",
        {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.opts,
            "original": procedure,
            "title": title,
            "change_url": admin_url("change", procedure.pk),
            **context,
        },
    )


def refused(request, error):
    for reason in error.reasons:
        messages.error(request, reason)


def preview(request, model_admin, pk, part=None):
    """The page as patients will see it (education/views.py GuidePreviewView)."""
    get_procedure(model_admin, request, pk)
    return GuidePreviewView.as_view()(request, pk=pk, part=part)


def preview_tool(request, model_admin, pk, tool):
    """One of the page's tools as patients will see it (ToolPreviewView)."""
    get_procedure(model_admin, request, pk)
    return ToolPreviewView.as_view()(request, pk=pk, tool=tool)


@require_POST
def start_draft(request, model_admin, pk):
    page = get_procedure(model_admin, request, pk)
    if not model_admin.has_change_permission(request):
        raise PermissionDenied
    draft = workflow.start_draft(page, request.user)
    return HttpResponseRedirect(admin_url("change", draft.pk))


def compared_to(procedure):
    """The version a draft is compared with: the page on the site (its approved
    content); None for a page that was never approved."""
    if procedure.is_draft_copy:
        return versions.snapshot(procedure.draft_of)
    last = procedure.revisions.order_by("-number").first()
    return last.content if last else None


def changes(request, model_admin, pk):
    procedure = get_procedure(model_admin, request, pk)
    old = compared_to(procedure)
    return render(
        model_admin,
        request,
        "changes.html",
        procedure,
        _("What changed in “%(title)s”") % {"title": procedure.title},
        new_page=old is None,
        groups=versions.changes(old, versions.snapshot(procedure)) if old else [],
    )


@require_POST
def submit(request, model_admin, pk):
    procedure = get_procedure(model_admin, request, pk)
    if not model_admin.has_change_permission(request, procedure):
        raise PermissionDenied
    try:
        workflow.submit(procedure, request.user)
    except workflow.Refused as error:
        refused(request, error)
    else:
        model_admin.log_change(request, procedure, _("Sent for clinical review."))
        messages.success(
            request, _("Sent for clinical review. A clinical reviewer will approve it or reply.")
        )
    return HttpResponseRedirect(admin_url("change", procedure.pk))


class ApproveForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("What changed in this update"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy(
            "One or two plain sentences patients read on the page, for example “We "
            "added what to do when the pump alarm sounds.” Needed when the page changed."
        ),
    )
    next_review_due = forms.DateField(
        label=gettext_lazy("Next review due"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("When a clinical reviewer should check the page again."),
    )
    seen = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, changed=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.changed = changed

    def clean_note(self):
        note = self.cleaned_data["note"].strip()
        if self.changed and not note:
            raise forms.ValidationError(
                _("Say in a sentence what changed: patients see it on the page.")
            )
        return note

    def clean_next_review_due(self):
        date = self.cleaned_data["next_review_due"]
        if date <= timezone.localdate():
            raise forms.ValidationError(_("Choose a date after today."))
        return date


class SendBackForm(forms.Form):
    comment = forms.CharField(
        label=gettext_lazy("What needs to change"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("The editor sees this at the top of the draft."),
    )


def review(request, model_admin, pk):
    """Approve a draft sent for review, or send it back with a comment; for a page with
    an approved version and no draft in review, confirm it is still right."""
    require_approver(request)
    procedure = get_procedure(model_admin, request, pk)
    editable = workflow.may_edit(procedure)
    if editable and procedure.review_state != Procedure.ReviewState.SUBMITTED:
        messages.info(request, _("This draft is not waiting for review."))
        return HttpResponseRedirect(admin_url("change", procedure.pk))
    content = versions.snapshot(procedure)
    old = compared_to(procedure) if editable else None
    groups = versions.changes(old, content) if old else []
    changed = editable  # a draft changes the page; confirming a review does not
    initial = {
        "next_review_due": workflow.default_next_review(),
        "seen": workflow.fingerprint(content),
    }
    approve_form = ApproveForm(initial=initial, changed=changed)
    send_back_form = SendBackForm()
    if request.method == "POST" and "send_back" in request.POST and editable:
        send_back_form = SendBackForm(request.POST)
        if send_back_form.is_valid():
            try:
                workflow.send_back(procedure, request.user, send_back_form.cleaned_data["comment"])
            except workflow.Refused as error:
                refused(request, error)
            else:
                model_admin.log_change(request, procedure, _("Sent back to the editor."))
                messages.success(request, _("Sent back to the editor with your comment."))
                return HttpResponseRedirect(admin_url("changelist"))
    elif request.method == "POST":
        approve_form = ApproveForm(request.POST, changed=changed)
        if approve_form.is_valid():
            data = approve_form.cleaned_data
            try:
                if editable:
                    revision = workflow.approve(
                        procedure,
                        request.user,
                        note=data["note"],
                        next_review_due=data["next_review_due"],
                        seen=data["seen"],
                    )
                else:
                    revision = workflow.confirm_review(
                        procedure,
                        request.user,
                        note=data["note"],
                        next_review_due=data["next_review_due"],
                    )
            except workflow.Refused as error:
                refused(request, error)
            else:
                page = revision.procedure
                model_admin.log_change(
                    request,
                    page,
                    _("Approved version %(number)s. %(note)s")
                    % {"number": revision.number, "note": revision.note},
                )
                messages.success(
                    request,
                    _("Approved. Patients now see version %(number)s of “%(title)s”.")
                    % {"number": revision.number, "title": page.title},
                )
                return HttpResponseRedirect(admin_url("change", page.pk))
    problems = workflow.approval_problems(procedure, request.user)
    return render(
        model_admin,
        request,
        "review.html",
        procedure,
        (_("Review “%(title)s”") if editable else _("Confirm “%(title)s” is still right"))
        % {"title": procedure.title},
        editable=editable,
        problems=problems,
        groups=groups,
        new_page=editable and old is None,
        approve_form=approve_form,
        send_back_form=send_back_form,
        preview_url=admin_url("preview", procedure.pk),
    )


def versions_list(request, model_admin, pk):
    procedure = get_procedure(model_admin, request, pk)
    if procedure.is_draft_copy:
        return HttpResponseRedirect(admin_url("versions", procedure.draft_of_id))
    revisions = list(procedure.revisions.select_related("approved_by"))
    return render(
        model_admin,
        request,
        "versions.html",
        procedure,
        _("Approved versions of “%(title)s”") % {"title": procedure.title},
        revisions=revisions,
        can_restore=request.user.has_perm(workflow.APPROVE_PERMISSION),
        has_draft=Procedure.objects.filter(draft_of=procedure).exists(),
    )


def compare(request, model_admin, pk):
    procedure = get_procedure(model_admin, request, pk)
    numbers = {}
    for name in ("old", "new"):
        try:
            numbers[name] = int(request.GET.get(name, ""))
        except ValueError:
            messages.error(request, _("Choose two versions to compare."))
            return HttpResponseRedirect(admin_url("versions", procedure.pk))
    found = {r.number: r for r in procedure.revisions.filter(number__in=numbers.values())}
    if set(numbers.values()) - set(found):
        raise Http404(_("This page has no such version."))
    old, new = found[numbers["old"]], found[numbers["new"]]
    return render(
        model_admin,
        request,
        "changes.html",
        procedure,
        _("Version %(old)s compared with version %(new)s") % {"old": old.number, "new": new.number},
        groups=versions.changes(old.content, new.content),
        old=old,
        new=new,
        versions_url=admin_url("versions", procedure.pk),
    )


@require_POST
def restore(request, model_admin, pk, number):
    require_approver(request)
    page = get_procedure(model_admin, request, pk)
    revision = get_object_or_404(page.revisions, number=number)
    try:
        draft = workflow.restore(page, revision, request.user)
    except workflow.Refused as error:
        refused(request, error)
        return HttpResponseRedirect(admin_url("versions", page.pk))
    model_admin.log_change(
        request, page, _("Version %(number)s made into a draft.") % {"number": number}
    )
    messages.success(
        request,
        _(
            "Version %(number)s is now this page's draft. Another clinical reviewer must "
            "approve it before patients see it."
        )
        % {"number": number},
    )
    return HttpResponseRedirect(admin_url("change", draft.pk))


def unpublish(request, model_admin, pk):
    require_approver(request)
    page = get_procedure(model_admin, request, pk)
    if request.method == "POST":
        try:
            workflow.unpublish(page)
        except workflow.Refused as error:
            refused(request, error)
        else:
            model_admin.log_change(request, page, _("Taken off the site."))
            messages.success(
                request,
                _("“%(title)s” is off the site. Its approved versions are kept.")
                % {"title": page.title},
            )
        return HttpResponseRedirect(admin_url("change", page.pk))
    return render(
        model_admin,
        request,
        "unpublish.html",
        page,
        _("Take “%(title)s” off the site?") % {"title": page.title},
    )


@require_POST
def translate(request, model_admin, pk):
    """Start the Spanish version of an English page: a copy of its parts and blocks to
    rewrite in Spanish, block by block, then send for clinical review like any page."""
    page = get_procedure(model_admin, request, pk)
    if not model_admin.has_add_permission(request) or page.translation_of_id:
        raise PermissionDenied
    if page.is_draft_copy:
        page = page.draft_of
    translation = versions.start_translation(page, "es")
    workflow.record_edit(translation, request.user)
    model_admin.log_addition(
        request, translation, _("Spanish version of “%(title)s” started.") % {"title": page.title}
    )
    messages.success(
        request,
        _(
            "This is the Spanish version of “%(title)s”, still in English: rewrite each "
            "part and block in Spanish, and choose its Spanish glossary words. It is not "
            "on the site until a clinical reviewer approves it; until then Spanish "
            "readers see the English page with a notice."
        )
        % {"title": page.title},
    )
    return HttpResponseRedirect(admin_url("change", translation.pk))


@require_POST
def copy(request, model_admin, pk):
    procedure = get_procedure(model_admin, request, pk)
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    new = versions.copy_page(procedure)
    workflow.record_edit(new, request.user)
    model_admin.log_addition(
        request, new, _("Copied from “%(title)s”.") % {"title": procedure.title}
    )
    messages.success(
        request,
        _(
            "This new page is a copy of “%(title)s”. Change its title, address and "
            "content; it is not on the site until a clinical reviewer approves it."
        )
        % {"title": procedure.title},
    )
    return HttpResponseRedirect(admin_url("change", new.pk))
