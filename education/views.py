from django.http import Http404
from django.utils.translation import gettext_lazy as _
from django.views.generic import DetailView, ListView, TemplateView

from . import queries
from .content import ProcedureContent
from .models import GlossaryTerm, Procedure
from .terms import TermLinker


class HomeView(TemplateView):
    template_name = "education/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["procedures"] = Procedure.objects.published()
        return context


class ProcedureListView(ListView):
    template_name = "education/procedure_list.html"
    context_object_name = "procedures"

    def get_queryset(self):
        return Procedure.objects.published()


def published_procedure(slug):
    return Procedure.objects.published().filter(slug=slug)


def procedure_or_draft(slug):
    return Procedure.objects.filter(slug=slug)


class ProcedureDetailView(DetailView):
    """The procedure page. Drafts are 404 except to staff who may edit procedures."""

    template_name = "education/procedure_detail.html"
    context_object_name = "procedure"

    def get_object(self, queryset=None):
        """The procedure by its slug, in one query compiled once (education/queries.py)."""
        can_edit = self.request.user.has_perm("education.change_procedure")
        found = queries.fetch(
            procedure_or_draft if can_edit else published_procedure, self.kwargs["slug"]
        )
        if not found:
            raise Http404(_("No procedure page has this address."))
        return found[0]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        content = ProcedureContent.load(self.object)
        context["content"] = content
        context["blocks"] = page_blocks(content)
        context["linker"] = TermLinker(content.glossary_terms)
        return context


def page_blocks(content):
    """The procedure page's blocks in reading order, skipping empty ones.

    One list feeds both the contents links and the page body, so they always agree.
    Each block is rendered by its own small template in education/blocks/.
    """
    blocks = [
        {
            "anchor": section.anchor,
            "heading": section.heading,
            "template": "section",
            "section": section,
        }
        for section in content.sections
    ]
    fixed = [
        ("conditions", _("Conditions it may help"), content.conditions),
        ("medicines", _("Medicines used"), content.medicines),
        ("stages", _("The stages of treatment"), content.phases),
        ("risks", _("Risks and side effects"), content.risks_by_group()),
        ("recovery", _("Recovery"), content.recovery_restrictions),
        ("everyday-life", _("Everyday life afterwards"), content.living_topics),
        ("when-to-get-help", _("When to get help"), content.warning_signs_by_urgency()),
        ("questions-and-answers", _("Questions and answers"), content.faqs),
        ("ask-your-doctor", _("Questions to ask your doctor"), content.doctor_questions),
        ("words", _("Words used on this page"), content.glossary_terms),
        ("sources", _("Sources and medical review"), content.references),
    ]
    blocks += [
        {"anchor": anchor, "heading": heading, "template": anchor, "items": items}
        for anchor, heading, items in fixed
        if items or anchor == "sources"
    ]
    return blocks


class GlossaryView(ListView):
    template_name = "education/glossary.html"
    context_object_name = "terms"

    def get_queryset(self):
        return GlossaryTerm.objects.all()
