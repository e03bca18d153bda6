"""The public pages' Jinja2 environment (clinic_site/jinja2.py)."""

import pytest
from django.template import engines
from django.utils import translation

ENV = engines["jinja2"].env

CASES = [
    ("{{ _('Call %(phone)s', phone=phone) }}", {"phone": "<b>555</b> & 'x'"}),
    ("{% trans phone=phone %}Call {{ phone }}{% endtrans %}", {"phone": "<b>1</b>"}),
    (
        "{{ ngettext('%(num)s day for %(who)s', '%(num)s days for %(who)s', n, who=w) }}",
        {"n": 1, "w": "<b>you</b>"},
    ),
]


@pytest.mark.parametrize(("source", "context"), CASES)
def test_variables_in_translated_strings_are_escaped(source, context):
    html = ENV.from_string(source).render(context)
    assert "<b>" not in html and "&lt;b&gt;" in html


def test_a_percent_sign_in_a_translated_string_prints_once():
    assert ENV.from_string("{{ _('Nearly 100%% of people') }}").render() == "Nearly 100% of people"


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
