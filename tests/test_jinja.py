"""The public pages' Jinja2 environment (clinic_site/jinja2.py)."""

import pytest
from django.template import engines
from django.utils import translation
from jinja2 import Environment
from markupsafe import Markup

from clinic_site.jinja2 import gettext_markup, ngettext_markup

ENV = engines["jinja2"].env


def jinja_own():
    """Jinja2's own newstyle callables over Django's gettext, as installed by default."""
    env = Environment(autoescape=True, extensions=["jinja2.ext.i18n"])
    env.install_gettext_callables(translation.gettext, translation.ngettext, newstyle=True)
    return env


CASES = [
    ("{{ _('Back to top') }}", {}),
    ("{{ _('Call %(phone)s', phone=phone) }}", {"phone": "<b>555</b> & 'x'"}),
    ("{{ _('Nearly 100%% of people') }}", {}),
    ("{{ gettext('A %(a)s and %(b)s', a=a, b=b) }}", {"a": '"quoted"', "b": 3}),
    ("{% trans phone=phone %}Call {{ phone }}{% endtrans %}", {"phone": "<i>1</i>"}),
    ("{% trans %}Wait {{ minutes }} minutes.{% endtrans %}", {"minutes": 15}),
    (
        "{% trans tries=n %}Wrong {{ tries }} time.{% pluralize %}Wrong {{ tries }} times."
        "{% endtrans %}",
        {"n": 1},
    ),
    (
        "{% trans tries=n %}Wrong {{ tries }} time.{% pluralize %}Wrong {{ tries }} times."
        "{% endtrans %}",
        {"n": 4},
    ),
    ("{{ ngettext('%(num)s day', '%(num)s days', n) }}", {"n": 2}),
    (
        "{{ ngettext('%(num)s day for %(who)s', '%(num)s days for %(who)s', n, who=w) }}",
        {"n": 1, "w": "<you>"},
    ),
]


@pytest.mark.parametrize(("source", "context"), CASES)
def test_the_lean_gettext_renders_exactly_as_jinjas_own(source, context):
    ours = ENV.from_string(source).render(context)
    assert ours == jinja_own().from_string(source).render(context)
    assert "<b>" not in ours and "<i>" not in ours and "<you>" not in ours


def test_translations_are_trusted_and_variables_escaped():
    assert gettext_markup("Back to top") == Markup("Back to top")
    assert isinstance(gettext_markup("Back to top"), Markup)
    assert gettext_markup("Hi %(name)s", name="<b>") == "Hi &lt;b&gt;"
    assert gettext_markup("100%% sure") == "100% sure"
    assert ngettext_markup("%(num)s day", "%(num)s days", 3) == "3 days"


def test_the_active_language_is_used():
    with translation.override("en"):
        assert ENV.from_string("{{ _('Back to top') }}").render() == "Back to top"


def test_url_answers_as_reverse_under_any_script_prefix_and_urlconf(settings):
    from django.urls import clear_script_prefix, reverse, set_script_prefix

    from clinic_site.jinja2 import url

    assert url("education:procedure_detail", slug="pump") == "/procedures/pump/"
    assert url("education:procedure_detail", slug="other") == "/procedures/other/"
    assert url("appointments:consultation") == reverse("appointments:consultation")
    set_script_prefix("/clinic/")
    try:
        assert url("education:procedure_detail", slug="pump") == "/clinic/procedures/pump/"
    finally:
        clear_script_prefix()
    assert url("education:procedure_detail", slug="pump") == "/procedures/pump/"
    settings.ROOT_URLCONF = "tests.urls_elsewhere"
    assert url("education:procedure_detail", slug="pump") == "/elsewhere/procedures/pump/"
