from django.conf import settings
from django.http import Http404
from django.urls import reverse
from django.utils.translation import get_language, gettext, override
from django.utils.translation import gettext_lazy as _
from django.views.generic import DetailView, ListView, TemplateView

from . import language_help, tools
from .blocks import Guide
from .models import GlossaryTerm, Procedure
from .terms import TermLinker


class LanguageFallbackMixin:
    """A page whose content is not written in the reader's language yet is drawn whole
    in the site's default language, under a notice in the reader's language: never
    mixed. `fallback_from` is the language the reader asked for when the page is drawn
    in another (else None)."""

    fallback_from = None

    def page_language(self):
        """The language the page is drawn in."""
        if self.fallback_from:
            return settings.LANGUAGE_CODE
        return get_language()

    def use_fallback(self):
        """Called when the content is missing in the reader's language: True when the
        default language's content should be drawn instead."""
        if get_language() == settings.LANGUAGE_CODE:
            return False
        self.fallback_from = get_language()
        return True

    def fallback_notice(self):
        """The notice over a page drawn in another language, in the reader's language."""
        if not self.fallback_from:
            return None
        return {
            "language": self.fallback_from,
            "title": gettext("This page is not in Spanish yet"),
            "text": gettext(
                "Below is the page in English. If you want help in Spanish, call us. "
                "An interpreter is free."
            ),
            "link": reverse("education:home"),
            "link_text": gettext("See our pages in Spanish"),
        }

    def get_context_data(self, **kwargs):
        notice = self.fallback_notice()  # while the reader's language is active
        with override(self.page_language()):
            context = super().get_context_data(**kwargs)
        context["fallback_notice"] = notice
        return context

    def render_to_response(self, context, **response_kwargs):
        """Rendered here, in the page's own language (Django would render it later, in
        the language of the address)."""
        response = super().render_to_response(context, **response_kwargs)
        with override(self.page_language()):
            response.render()
        return response


class HomeView(TemplateView):
    template_name = "education/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["procedures"] = Procedure.objects.published().for_language(get_language())
        return context


class ProcedureListView(ListView):
    template_name = "education/procedure_list.html"
    context_object_name = "procedures"

    def get_queryset(self):
        return Procedure.objects.published().for_language(get_language())


class GuideView(LanguageFallbackMixin, DetailView):
    """A page of a procedure's guide: the overview, one part, the whole guide to print,
    or the take-home handout. Only published pages, to everyone: staff see drafts in
    the admin's preview (GuidePreviewView).

    Each loads its own blocks, and the guide's parts, in a fixed number of queries
    (Procedure.objects.with_content()), and draws them (blocks.Guide).
    """

    context_object_name = "procedure"
    template_name = "education/guide.html"
    # The part shown: None for the overview (see get_part), Guide.ALL for everything.
    page = None
    indexed = True  # search engines list this page under its own address
    preview = False

    def get_queryset(self):
        return self.with_content().published()

    def with_content(self):
        """The pages with the blocks this page shows (Procedure.objects.with_content)."""
        return Procedure.objects.with_content(self.part_address())

    def get_object(self, queryset=None):
        """The published page at this address in the reader's language, else (with a
        notice) the one in the site's default language."""
        pages = self.get_queryset().filter(slug=self.kwargs["slug"])
        page = pages.filter(language=get_language()).first()
        if page is None and self.use_fallback():
            page = pages.filter(language=settings.LANGUAGE_CODE).first()
        if page is None:
            raise Http404(_("No page at this address."))
        return page

    def page_language(self):
        return self.object.language

    def guide_address(self):
        """The address of the guide's overview, which its other pages extend."""
        return None  # the procedure's own

    def part_address(self):
        """Which blocks to load: the overview's (None), or every part's (Guide.ALL)."""
        return self.page

    def get_part(self):
        return self.page

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        guide = Guide(self.object, self.get_part(), self.guide_address())
        previous_page, next_page = guide.neighbours()
        context.update(
            guide=guide,
            part=guide.part,
            blocks=guide.blocks(),
            linker=TermLinker(self.object.glossary_terms.all()),
            help_part=guide.help_part,
            previous_page=previous_page,
            next_page=next_page,
            canonical_url=settings.SITE_URL
            + (
                self.request.path
                if self.indexed and not self.fallback_from
                else self.object.get_absolute_url()
            ),
            guide_url=settings.SITE_URL + self.object.get_absolute_url(),
            indexed=self.indexed and not self.fallback_from,
            preview=self.preview,
        )
        return context


class GuidePartView(GuideView):
    def part_address(self):
        return self.kwargs["part"]

    def get_part(self):
        part = next((p for p in self.object.parts.all() if p.slug == self.kwargs["part"]), None)
        if part is None:
            raise Http404(_("This guide has no part at this address."))
        return part


class GuideAllView(GuideView):
    """The whole guide on one page, to print. Search engines keep to the parts."""

    page = Guide.ALL
    indexed = False


class HandoutView(GuideView):
    """A one- or two-page summary to print and take home (from the whole guide)."""

    template_name = "education/handout.html"
    page = Guide.ALL


class ToolMixin:
    """One of the guide's tools (education/tools.py), at <guide>/tools/<tool>/: drawn
    from the blocks of every part of the guide, by the tool's own template. A guide
    without content for the tool has no such page."""

    page = Guide.ALL

    def with_content(self):
        """Every part's blocks, and the blocks made for this tool."""
        return Procedure.objects.with_content(Guide.ALL, tool=self.get_tool().slug)

    def get_part(self):
        return Guide.TOOL

    def get_tool(self):
        tool = tools.BY_SLUG.get(self.kwargs["tool"])
        if tool is None:
            raise Http404(_("This guide has no tool at this address."))
        return tool

    def get_object(self, queryset=None):
        page = super().get_object(queryset)
        if not getattr(page, tools.has_tool_name(self.get_tool())):
            raise Http404(_("This guide has no tool at this address."))
        return page

    def get_template_names(self):
        return [self.get_tool().template]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tool = self.get_tool()
        context.update(
            tool=tool,
            part=None,
            records=getattr(self.object, tool.needs).all(),
            tool_blocks=context["guide"].tool_blocks(tool.slug),
        )
        return context


class ToolView(ToolMixin, GuideView):
    pass


class GuidePreviewView(GuidePartView):
    """A draft (or any version staff may see) exactly as patients will see it, page by
    page: served under the admin (ProcedureAdmin.get_urls), so only to signed-in,
    two-factor verified staff who may view procedures, never cached, never indexed.
    `part` is a part's address, Guide.ALL, Guide.HANDOUT or absent (the overview)."""

    indexed = False
    preview = True

    def get_queryset(self):
        return self.with_content()

    def get_object(self, queryset=None):
        """Any version staff may see, by its id (DetailView's own lookup), drawn in its
        own language."""
        return DetailView.get_object(self, queryset)

    def part_address(self):
        part = self.kwargs.get("part")
        return Guide.ALL if part == Guide.HANDOUT else part

    def get_part(self):
        if self.kwargs.get("part") in (None, Guide.ALL, Guide.HANDOUT):
            return self.part_address()
        return super().get_part()

    def get_template_names(self):
        if self.kwargs.get("part") == Guide.HANDOUT:
            return [HandoutView.template_name]
        return super().get_template_names()

    def guide_address(self):
        return reverse("admin:education_procedure_preview", args=[self.object.pk])


class ToolPreviewView(ToolMixin, GuidePreviewView):
    """A draft's tool as patients will see it (under the admin, as GuidePreviewView)."""

    def get_part(self):
        return Guide.ALL


class LanguageHelpView(TemplateView):
    """Free language help: how to get an interpreter or another format, and the notice
    of free help in the 15 languages most spoken in the US (education/language_help.py)."""

    template_name = "education/language_help.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["notices"] = language_help.NOTICES
        return context


class GlossaryView(LanguageFallbackMixin, ListView):
    template_name = "education/glossary.html"
    context_object_name = "terms"

    def get_queryset(self):
        terms = GlossaryTerm.objects.filter(language=get_language())
        if not terms.exists() and self.use_fallback():
            terms = GlossaryTerm.objects.filter(language=settings.LANGUAGE_CODE)
        return terms
