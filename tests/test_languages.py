"""English at the site's addresses, Spanish under /es/: the address alone decides."""

import re

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from education.language_help import NOTICES
from education.models import GlossaryTerm

PAGES = [
    "/",
    "/procedures/",
    "/glossary/",
    "/procedures/intrathecal-pain-pump/",
    "/appointments/consultation/",
    "/appointments/call-back/",
    "/language-help/",
]

pytestmark = pytest.mark.django_db

PUMP = "/procedures/intrathecal-pain-pump/"


def links(html, rel):
    return dict(re.findall(rf'<link rel="{rel}" hreflang="([^"]+)" href="([^"]+)">', html))


@pytest.mark.parametrize("path", PAGES)
def test_every_patient_page_is_in_english_and_in_spanish_under_es(client, demo, path):
    english = client.get(path)
    spanish = client.get("/es" + path)
    assert english.status_code == spanish.status_code == 200
    assert '<html lang="en">' in english.text
    assert '<html lang="es">' in spanish.text
    assert english["Content-Language"] == "en"
    assert spanish["Content-Language"] == "es"


@pytest.mark.parametrize("path", PAGES)
def test_the_language_switch_leads_to_the_same_page_in_the_other_language(client, demo, path):
    english = client.get(path).text
    switch = '<a class="language-switch" href="/es{}" hreflang="es" lang="es">Español</a>'
    assert switch.format(path) in english
    spanish = client.get("/es" + path).text
    assert f'<a class="language-switch" href="{path}" hreflang="en" lang="en">English</a>' in (
        spanish
    )


@override_settings(SITE_URL="https://clinic.example")
@pytest.mark.parametrize("path", PAGES)
def test_search_engines_get_each_language_and_the_canonical_address(client, demo, path):
    for prefix, language in (("", "en"), ("/es", "es")):
        html = client.get(prefix + path).text
        assert links(html, "alternate") == {
            "en": f"https://clinic.example{path}",
            "es": f"https://clinic.example/es{path}",
            "x-default": f"https://clinic.example{path}",
        }
        canonical = re.findall(r'<link rel="canonical" href="([^"]+)">', html)
        assert canonical == [f"https://clinic.example{prefix}{path}"], language


def test_the_browser_language_never_changes_the_page(client, demo):
    """One address, one page: no Accept-Language negotiation, so no Vary on it either
    (the proxy in front would keep a copy per browser setting)."""
    english = client.get("/", HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9")
    assert '<html lang="en">' in english.text
    assert "Accept-Language" not in english.get("Vary", "")
    spanish = client.get("/es/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert '<html lang="es">' in spanish.text
    assert "Accept-Language" not in spanish.get("Vary", "")


def test_the_page_cache_keeps_the_languages_apart(client, demo):
    assert '<html lang="en">' in client.get("/glossary/").text
    assert '<html lang="es">' in client.get("/es/glossary/").text
    # Both served from the cache now, each still in its own language.
    assert '<html lang="en">' in client.get("/glossary/").text
    assert '<html lang="es">' in client.get("/es/glossary/").text


def test_a_missing_page_is_answered_in_the_language_of_its_address(client, demo):
    english = client.get("/no-such-page/")
    spanish = client.get("/es/no-such-page/")
    assert english.status_code == spanish.status_code == 404
    assert '<html lang="en">' in english.text
    assert '<html lang="es">' in spanish.text
    # An error has no canonical address.
    assert 'rel="canonical"' not in spanish.text


def test_staff_pages_are_english_only(client):
    assert client.get("/es/admin/").status_code == 404
    response = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="es")
    assert '<html lang="en"' in response.text


def test_the_switch_on_a_missing_page_leads_to_the_home_page_in_the_other_language(client, db):
    assert 'class="language-switch" href="/es/"' in client.get("/no-such-page/").text
    assert 'class="language-switch" href="/"' in client.get("/es/no-such-page/").text


# The Spanish guide, and the English one for a page not yet written in Spanish.


def test_the_spanish_guide_is_all_spanish(client, demo):
    html = client.get("/es" + PUMP).text
    assert "<h1" in html and "Bomba intratecal para el dolor" in html
    for english in ["Intrathecal pain pump", "Get help now", "What it is and how it works"]:
        assert english not in html
    # The same part, in each language, by the same address.
    assert client.get("/es" + PUMP + "risks/").status_code == 200


def test_a_guide_not_yet_in_spanish_is_shown_whole_in_english_with_a_spanish_notice(client, demo):
    demo.translations.all().delete()
    response = client.get("/es" + PUMP)
    html = response.text
    assert response.status_code == 200
    assert '<html lang="en">' in html  # the whole page, its header and footer too
    assert '<section class="language-fallback" lang="es"' in html
    assert "Esta página todavía no está en español" in html
    assert "Get help now" in html and "Pida ayuda ahora" not in html
    # Search engines keep to the English page; no Spanish version is offered.
    assert f'<link rel="canonical" href="http://127.0.0.1:8000{PUMP}">' in html
    assert '<meta name="robots" content="noindex">' in html
    assert 'rel="alternate" hreflang="es"' not in html
    assert "language-switch" not in html
    # The Spanish list offers it, saying it is in English.
    listing = client.get("/es/procedures/").text
    assert '<li class="card" lang="en">' in listing
    assert '<span class="card__language" lang="es">(en inglés)</span>' in listing


def test_the_spanish_glossary_falls_back_to_english_when_empty(client, demo):
    assert "Catéter" in client.get("/es/glossary/").text
    GlossaryTerm.objects.filter(language="es").delete()
    html = client.get("/es/glossary/").text
    assert '<html lang="en">' in html and "Catheter" in html
    assert "Esta página todavía no está en español" in html


def test_the_spanish_home_page_has_the_clinics_spanish_texts(client, demo):
    html = client.get("/es/").text
    assert "Ayuda para el dolor que no se quita" in html
    assert "Lunes a viernes" in html
    assert "Bomba intratecal para el dolor" in html
    assert "Help for pain" not in html


def test_sources_on_a_spanish_page_are_marked_english(client, demo):
    html = client.get("/es" + PUMP + "sources/").text
    assert re.search(r'<li id="ref-\d+" lang="en">', html)


# Language help: on every page, in English and Spanish; its page in 15 more languages.


@pytest.mark.parametrize("path", PAGES)
def test_every_page_carries_the_free_language_help_notice_in_both_languages(client, demo, path):
    for prefix in ("", "/es"):
        html = client.get(prefix + path).text
        assert '<span lang="en">Free language help' in html
        assert '<span lang="es">Ayuda gratis con el idioma' in html
        assert f'<a href="{prefix}/language-help/">' in html


def test_the_language_help_page_has_the_notice_in_15_languages_each_marked(client, demo):
    html = client.get("/es/language-help/").text
    assert "<h1>Ayuda con el idioma</h1>" in html
    items = re.findall(
        r'<li lang="([^"]+)" dir="(ltr|rtl)"><strong>[^<]+</strong>: (.+?)</li>', html
    )
    assert [code for code, _direction, _text in items] == [n.code for n in NOTICES]
    assert len(items) == 15
    assert {code for code, direction, _text in items if direction == "rtl"} == {"ar", "fa"}
    # Each gives the clinic's number, kept left to right inside right-to-left text.
    for _code, _direction, text in items:
        assert '<a href="tel:5550100140"><bdi class="tel">(555) 010-0140</bdi></a>' in text
    assert "711" in html and "intérprete" in html


@pytest.mark.parametrize("path", [PUMP, PUMP + "risks/", PUMP + "all/", "/", "/glossary/"])
def test_a_spanish_page_costs_the_queries_of_its_english_page(client, demo, path):
    counts = []
    for prefix in ("", "/es"):
        caches["pages"].clear()  # each drawn afresh, the clinic's settings read again
        with CaptureQueriesContext(connection) as queries:
            assert client.get(prefix + path).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_a_refused_form_is_answered_in_the_language_of_its_address(db):
    """The CSRF failure page (403), like the 404, speaks the page's language."""
    strict = Client(enforce_csrf_checks=True)
    for prefix, language, title in (("", "en", "Please send"), ("/es", "es", "Por favor")):
        response = strict.post(prefix + "/appointments/call-back/", {})
        assert response.status_code == 403
        assert f'<html lang="{language}">' in response.text
        assert title in response.text


@pytest.mark.parametrize("prefix", ["", "/es"])
def test_a_consultation_asked_from_the_guide_is_sent_in_either_language(
    client, demo, prefix, django_capture_on_commit_callbacks
):
    """The guide's button preselects the pump (?procedure=<address>), and both pages of
    the pump share that address: the send goes through, and the front desk sees the
    English page, whichever form it came from."""
    from appointments.models import Request
    from tests.appointments.factories import consultation_data

    form = client.get(f"{prefix}/appointments/consultation/?procedure={demo.slug}").text
    assert form.count(f'value="{demo.slug}"') == 1
    assert re.search(rf'value="{demo.slug}"\s+selected', form)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"{prefix}/appointments/consultation/", consultation_data(procedure=demo.slug)
        )
    assert response.status_code == 302
    assert Request.objects.get().procedure == demo
