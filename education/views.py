from django.views.generic import DetailView, ListView, TemplateView

from .blocks import page_blocks
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


class ProcedureDetailView(DetailView):
    """The procedure page. Drafts are 404 except to staff who may edit procedures."""

    template_name = "education/procedure_detail.html"
    context_object_name = "procedure"

    def get_queryset(self):
        procedures = Procedure.objects.with_content()
        if self.request.user.has_perm("education.change_procedure"):
            return procedures
        return procedures.published()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["blocks"] = page_blocks(self.object)
        context["linker"] = TermLinker(self.object.glossary_terms.all())
        return context


class GlossaryView(ListView):
    template_name = "education/glossary.html"
    context_object_name = "terms"

    def get_queryset(self):
        return GlossaryTerm.objects.all()
