from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from django.views.generic import DetailView, ListView, TemplateView

from .models import GlossaryTerm, Phase, Procedure, Risk
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


class ProcedureDetailView(DetailView):
    """The procedure page. Drafts are 404 except to staff who may edit procedures."""

    template_name = "education/procedure_detail.html"
    context_object_name = "procedure"

    def get_queryset(self):
        procedures = Procedure.objects.all()
        if not self.request.user.has_perm("education.change_procedure"):
            procedures = procedures.published()
        # One query per kind of block, whatever the amount of content.
        return procedures.prefetch_related(
            "sections",
            "conditions",
            "medicines",
            Prefetch("phases", queryset=Phase.objects.prefetch_related("steps")),
            Prefetch("risks", queryset=Risk.objects.select_related("reference")),
            "recovery_restrictions",
            "living_topics",
            "warning_signs",
            "faqs",
            "doctor_questions",
            "references",
            "glossary_terms",
            Prefetch("related", queryset=Procedure.objects.published()),
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["blocks"] = page_blocks(self.object)
        context["linker"] = TermLinker(self.object.glossary_terms.all())
        return context


def page_blocks(procedure):
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
        for section in procedure.sections.all()
    ]
    fixed = [
        ("conditions", _("Conditions it may help"), procedure.conditions.all()),
        ("medicines", _("Medicines used"), procedure.medicines.all()),
        ("stages", _("The stages of treatment"), procedure.phases.all()),
        ("risks", _("Risks and side effects"), procedure.risks_by_group()),
        ("recovery", _("Recovery"), procedure.recovery_restrictions.all()),
        ("everyday-life", _("Everyday life afterwards"), procedure.living_topics.all()),
        ("when-to-get-help", _("When to get help"), procedure.warning_signs_by_urgency()),
        ("questions-and-answers", _("Questions and answers"), procedure.faqs.all()),
        ("ask-your-doctor", _("Questions to ask your doctor"), procedure.doctor_questions.all()),
        ("words", _("Words used on this page"), procedure.glossary_terms.all()),
        ("sources", _("Sources and medical review"), procedure.references.all()),
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
