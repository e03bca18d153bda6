"""The Jinja2 environment of the public pages (templates/): TEMPLATES names `environment`.

Patients' pages are Jinja2 templates: the procedure page renders in about half the time
it took with Django's engine (3.4 ms instead of 6.3 ms, glossary links included). The
admin, the staff two-factor pages and crispy-forms' own field templates stay Django
templates (the second engine in TEMPLATES).

What the templates have besides their context:
- globals: `url()` and `static()` (as Django's {% url %} and {% static %}), `crispy()`
  (as {% crispy form %}), `picture()` (an uploaded picture at the sizes shown),
  `get_language()` and `page_languages()` (this page's address in each language: the
  language switch, hreflang links);
- filters: the education helpers (education/templating.py) and the few Django filters
  the pages use;
- i18n: `_()` and {% trans %} through Django's own gettext, so the strings are
  translated with the rest of the site (locale/; `make messages` collects them with
  Babel, whose Jinja2 extractor reads {% trans %} blocks, which makemessages cannot).

Autoescaping is always on. Undefined names are errors (StrictUndefined), in tests and in
production alike: a mistyped name fails its page's tests instead of printing nothing.
A template that may get a name or not says so (`is defined`, `|default`).
"""

from typing import NamedTuple

from crispy_forms.utils import render_crispy_form
from django.conf import settings
from django.template import defaultfilters
from django.templatetags.static import static
from django.urls import reverse, translate_url
from django.utils.translation import get_language, gettext, ngettext, override
from jinja2 import Environment, StrictUndefined, pass_context

from education import phones, review_dates, templating


def url(viewname, *args, **kwargs):
    """Django's {% url %}: url("education:procedure_detail", slug=procedure.slug)."""
    return reverse(viewname, args=args or None, kwargs=kwargs or None)


class PageLanguage(NamedTuple):
    code: str
    name: str  # in that language: "Español"
    path: str  # this page in that language
    url: str  # the same, whole (settings.SITE_URL): for search engines


def page_languages(request):
    """This page in every language, the site's default language first. Django's
    translate_url resolves the path and reverses it in each language; an address that is
    no page (a 404) leads to the home page in the other language."""
    current = get_language()
    languages = []
    for code, name in settings.LANGUAGES:
        path = translate_url(request.path, code)
        if path == request.path and code != current:
            with override(code):
                path = reverse("education:home")
        languages.append(PageLanguage(code, name, path, settings.SITE_URL + path))
    return languages


@pass_context
def crispy(context, form):
    """The form as {% crispy form %} draws it, with crispy-forms' own (Django) templates.

    The page's CSRF token goes along, so a POST form carries it as before.
    """
    return render_crispy_form(
        form, context={"csrf_token": context["csrf_token"], "request": context["request"]}
    )


def environment(**options):
    """Django's Jinja2 backend calls this with its options (the loader for templates/)."""
    options.update(
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
    )
    env = Environment(**options)
    env.install_gettext_callables(gettext, ngettext, newstyle=True)
    env.globals.update(
        url=url,
        static=static,
        crispy=crispy,
        picture=templating.picture,
        get_language=get_language,
        page_languages=page_languages,
        # A guide page's review state, so a late page says so (education/review_dates.py).
        review_due=review_dates.due_state,
    )
    env.filters.update(
        linkterms=templating.linkterms,
        paragraphs=templating.paragraphs,
        grouped=templating.grouped,
        compare_rows=templating.compare_rows,
        tel_href=phones.tel_href,
        # Escapes the text itself (unless already safe), then marks the <br>s safe.
        linebreaksbr=defaultfilters.linebreaksbr,
        truncatewords=defaultfilters.truncatewords,
        capfirst=defaultfilters.capfirst,
        date=defaultfilters.date,
    )
    return env
