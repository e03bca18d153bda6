"""The Jinja2 environment of the public pages (templates/): TEMPLATES names `environment`.

Patients' pages are Jinja2 templates: the procedure page renders in about half the time
it took with Django's engine (3.4 ms instead of 6.3 ms, glossary links included). The
admin, the staff two-factor pages and crispy-forms' own field templates stay Django
templates (the second engine in TEMPLATES).

What the templates have besides their context:
- globals: `url()` and `static()` (as Django's {% url %} and {% static %}), `crispy()`
  (as {% crispy form %}), `picture()` (an uploaded picture at the sizes shown) and
  `get_language()`;
- filters: the education helpers (education/templating.py) and the few Django filters
  the pages use;
- i18n: `_()` and {% trans %} through Django's own gettext, so the strings are
  translated with the rest of the site. (Django's makemessages finds `_("...")` in
  these files but not {% trans %} blocks: collect them with Babel's Jinja2 extractor,
  jinja2.ext.babel_extract, when the first translation is made.)

Autoescaping is always on. Undefined names are errors (StrictUndefined), in tests and in
production alike: a mistyped name fails its page's tests instead of printing nothing.
A template that may get a name or not says so (`is defined`, `|default`).
"""

from functools import lru_cache

from crispy_forms.utils import render_crispy_form
from django.conf import settings
from django.template import defaultfilters
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language, gettext, ngettext
from jinja2 import Environment, StrictUndefined, pass_context
from markupsafe import Markup

from education import phones, templating


def url(viewname, *args, **kwargs):
    """Django's {% url %}: url("education:procedure_detail", slug=procedure.slug).

    reverse() takes about 11 us and every page makes ten calls for the same few
    addresses, so answers are kept per process. An address depends only on the URLconf
    and the script prefix (the site's folder on the server), and both are in the key.
    """
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    return _reverse(urlconf, get_script_prefix(), viewname, args, tuple(kwargs.items()))


@lru_cache(maxsize=1024)
def _reverse(urlconf, prefix, viewname, args, kwargs):
    return reverse(viewname, urlconf=urlconf, args=args or None, kwargs=dict(kwargs) or None)


@pass_context
def crispy(context, form):
    """The form as {% crispy form %} draws it, with crispy-forms' own (Django) templates.

    The page's CSRF token goes along, so a POST form carries it as before.
    """
    return render_crispy_form(
        form, context={"csrf_token": context["csrf_token"], "request": context["request"]}
    )


def gettext_markup(message, **variables):
    """Jinja's newstyle gettext without its two wrapper calls (the same result).

    Jinja's `_()` looks `gettext` up in the context and calls it through two layers;
    skipping them saved about 0.25 ms on the procedure page's 110 strings. The
    translation is trusted (Markup), the variables are escaped as they are put in, and
    "%%" is a percent sign, as with Jinja's own. Autoescaping is always on here.
    """
    translated = Markup(gettext(message))
    if variables or "%" in translated:
        return translated % variables
    return translated


def ngettext_markup(singular, plural, number, **variables):
    """Jinja's newstyle ngettext, as gettext_markup above: {{ num }} is the number."""
    variables.setdefault("num", number)
    return Markup(ngettext(singular, plural, number)) % variables


def environment(**options):
    """Django's Jinja2 backend calls this with its options (the loader for templates/)."""
    options.update(
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
    )
    env = Environment(**options)
    # Installing Jinja's own callables compiles {% trans %} for newstyle gettext; ours
    # then take their place (the same result, fewer calls).
    env.install_gettext_callables(gettext, ngettext, newstyle=True)
    env.globals.update(_=gettext_markup, gettext=gettext_markup, ngettext=ngettext_markup)
    env.globals.update(
        url=url,
        static=static,
        crispy=crispy,
        picture=templating.picture,
        get_language=get_language,
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
