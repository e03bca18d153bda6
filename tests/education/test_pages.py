import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic_site.cache import page_cache
from education.blocks import BLOCKS
from education.models import ClinicSettings, Procedure
from education.tools import TOOLS
from education.views import GlossaryView

from .factories import fill_procedure, make_procedure

pytestmark = pytest.mark.django_db

PUMP_URL = "/procedures/intrathecal-pain-pump/"
PUBLIC_URLS = ["/", "/procedures/", PUMP_URL, "/glossary/"]


def html(response):
    return response.content.decode()


@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_every_public_page_has_one_h1_a_skip_link_and_a_tap_to_call_link(client, demo, url):
    page = html(client.get(url))
    assert page.count("<h1") == 1
    assert '<a class="skip-link" href="#main">' in page
    assert '<main id="main"' in page
    assert 'href="tel:5550100140"' in page


@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_reading_a_page_sets_no_cookie(client, demo, url):
    response = client.get(url)
    assert response.status_code == 200
    assert not response.cookies


def test_home_page_shows_what_the_clinic_treats_the_procedures_and_both_calls_to_action(
    client, demo
):
    page = html(client.get("/"))
    assert demo.get_absolute_url() in page
    assert "/appointments/consultation/" in page
    assert "/appointments/call-back/" in page
    assert 'Call <span class="tel">(555) 010-0140</span>' in page


def test_procedure_list_shows_published_procedures_and_hides_drafts(client, demo):
    make_procedure(slug="secret-draft", title="Secret draft", status=Procedure.Status.DRAFT)
    page = html(client.get("/procedures/"))
    assert "Intrathecal pain pump" in page
    assert "Secret draft" not in page


def part_urls(procedure):
    return [part.get_absolute_url() for part in procedure.parts.all()]


def test_the_overview_opens_with_help_key_points_and_the_guides_parts(client, demo):
    page = html(client.get(PUMP_URL))
    help_strip = page.index('class="help-strip"')
    assert help_strip < page.index('id="key-points"') < page.index('id="guide-contents"')
    key_points = page.split('id="key-points"')[1].split("</section>")[0]
    assert key_points.count("<li>") == len(demo.key_point_list()) == 6
    for part in demo.parts.all():
        assert f'href="{part.get_absolute_url()}"' in page


@pytest.mark.parametrize("index", range(9))
def test_every_part_has_its_own_address_help_first_the_contents_and_neighbours(client, demo, index):
    parts = list(demo.parts.all())
    part = parts[index]
    page = html(client.get(part.get_absolute_url()))
    assert f'<h1 id="top">{part.title}</h1>' in page
    assert page.index('class="help-strip"') < page.index('id="guide-contents"')
    assert 'href="tel:911"' in page and 'href="tel:5550100199"' in page
    assert f'<span aria-current="page">{part.title}</span>' in page
    assert f'<link rel="canonical" href="http://127.0.0.1:8000{part.get_absolute_url()}">' in page
    previous_url = parts[index - 1].get_absolute_url() if index else PUMP_URL
    assert f'href="{previous_url}" rel="prev"' in page
    if index + 1 < len(parts):
        assert f'href="{parts[index + 1].get_absolute_url()}" rel="next"' in page
    else:
        assert 'rel="next"' not in page


def test_each_block_shows_once_in_its_part_in_reading_order(client, demo):
    anchors = []
    for url in [PUMP_URL, *part_urls(demo)]:
        page = html(client.get(url))
        anchors += [
            h
            for h in re.findall(r'<h2 id="([^"]+)"', page)
            if h not in {"contents", "guide-contents", "help-strip-title", "key-points"}
            and not h.startswith("cta-")
        ]
    fixed = [kind.anchor for kind in BLOCKS if kind.anchor]
    assert [a for a in anchors if a in fixed] == fixed
    assert len(anchors) == len(set(anchors))
    assert anchors[0] == "what-it-is"


def test_every_contents_link_leads_to_a_heading_on_the_page(client, demo):
    for url in [PUMP_URL, *part_urls(demo)]:
        page = html(client.get(url))
        if '<nav class="contents"' not in page:
            continue
        contents = page.split('<nav class="contents"')[1].split("</nav>")[0]
        for target in re.findall(r'href="#([^"]+)"', contents):
            assert f'id="{target}"' in page, (url, target)


def test_the_whole_guide_prints_on_one_page_with_every_part_and_no_duplicate_ids(client, demo):
    page = html(client.get(PUMP_URL + "all/"))
    for part in demo.parts.all():
        assert f'<h2 id="part-{part.slug}">{part.title}</h2>' in page
    ids = re.findall(r' id="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    assert '<meta name="robots" content="noindex">' in page
    assert f'<link rel="canonical" href="http://127.0.0.1:8000{PUMP_URL}">' in page


def test_every_page_shows_the_review_line_and_the_sources_part_the_references(client, demo):
    for url in [PUMP_URL, *part_urls(demo)]:
        page = html(client.get(url))
        assert "Reviewed by:" in page
        assert 'Last reviewed: <time datetime="2026-12-01">' in page
    sources = html(client.get(PUMP_URL + "sources/"))
    for reference in demo.references.all():
        assert f'id="ref-{reference.pk}"' in sources


def test_the_trial_and_the_implant_are_compared_side_by_side(client, demo):
    page = html(client.get(PUMP_URL + "trial-and-implant/"))
    table = page.split('<table class="compare">')[1].split("</table>")[0]
    assert '<th scope="col">The trial</th>' in table
    assert "Can it be undone" in table
    assert table.count('<th scope="row">') == 7


def test_when_to_get_help_boxes_say_their_urgency_in_words(client, demo):
    page = html(client.get(PUMP_URL + "when-to-get-help/"))
    for label in [
        "Call 911 now",
        "Call us now, day or night",
        "Call us today",
        "Tell us at your next visit",
    ]:
        assert label in page
    assert 'href="tel:911"' in page


def test_risk_frequencies_link_to_their_source_on_the_sources_part(client, demo):
    risk = demo.risks.exclude(reference=None).first()
    page = html(client.get(PUMP_URL + "risks/"))
    assert risk.frequency in page
    assert f'href="{PUMP_URL}sources/#ref-{risk.reference.pk}"' in page


def test_a_question_links_to_the_part_that_answers_it(client, demo):
    page = html(client.get(PUMP_URL + "questions/"))
    assert f'<a href="{PUMP_URL}living-with-a-pump/">More in “Living with a pump”</a>' in page


def test_glossary_words_are_explained_in_place_once_per_page(client, demo):
    page = html(client.get(PUMP_URL + "how-it-works/"))
    assert page.count('<button type="button" class="term" popovertarget="def-catheter">') == 1
    assert 'id="def-catheter" popover>' in page
    assert "A thin, soft tube." in page


def test_procedure_page_links_to_both_forms_with_the_procedure_preselected(client, demo):
    page = html(client.get(PUMP_URL))
    assert "/appointments/consultation/?procedure=intrathecal-pain-pump" in page
    assert "/appointments/call-back/" in page


def test_glossary_page_lists_every_term_with_an_anchor(client, demo):
    page = html(client.get("/glossary/"))
    for term in demo.glossary_terms.all():
        assert f'id="{term.slug}"' in page


def test_a_draft_is_not_found_for_the_public(client):
    make_procedure(slug="draft", status=Procedure.Status.DRAFT)
    assert client.get("/procedures/draft/").status_code == 404


def test_a_draft_is_not_found_for_staff_who_cannot_edit_procedures(client, django_user_model):
    make_procedure(slug="draft", status=Procedure.Status.DRAFT)
    client.force_login(django_user_model.objects.create_user("viewer", is_staff=True))
    assert client.get("/procedures/draft/").status_code == 404


def test_drafts_are_never_on_the_public_site_but_staff_preview_them_in_the_admin(client, editor):
    draft = make_procedure(slug="draft", status=Procedure.Status.DRAFT)
    client.force_login(editor)
    assert client.get("/procedures/draft/").status_code == 404
    response = client.get(reverse("admin:education_procedure_preview", args=[draft.pk]))
    assert response.status_code == 200
    assert "This page is not on the site" in html(response)
    assert 'name="robots" content="noindex"' in html(response)


def test_unknown_pages_get_the_sites_own_404_page(client, demo):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "We could not find that page" in html(response)
    assert 'href="tel:5550100140"' in html(response)


def test_a_server_error_shows_the_sites_error_page_without_details(client, settings, monkeypatch):
    settings.CLINIC_PHONE = "(555) 010-0140"

    def broken(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(GlossaryView, "get", broken)
    client.raise_request_exception = False
    response = client.get("/glossary/")
    assert response.status_code == 500
    page = html(response)
    assert "Something went wrong on our side" in page
    assert 'href="tel:5550100140"' in page
    assert "secret internal detail" not in page


def test_procedure_page_query_count_does_not_grow_with_content(client):
    small = fill_procedure(make_procedure(slug="small"), 5)
    large = fill_procedure(make_procedure(slug="large"), 50)
    counts = {}
    for procedure in (small, large):
        urls = [procedure.get_absolute_url(), *part_urls(procedure)]
        urls += [f"{procedure.get_absolute_url()}all/", f"{procedure.get_absolute_url()}handout/"]
        urls += [f"{procedure.get_absolute_url()}tools/{tool.slug}/" for tool in TOOLS]
        for n, url in enumerate(urls):
            page_cache().clear()  # measure a full render, not a cached page
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            counts.setdefault(n, []).append(len(queries))
    # Each page of the guide: the same count with 5 records of every kind as with 50.
    assert all(small == large for small, large in counts.values()), counts
    # The procedure, one query per kind of block (education/blocks.py), the phases'
    # steps, the parts, the glossary words, related pages (overview) and the clinic's
    # details: at most 20.
    assert max(max(pair) for pair in counts.values()) <= 20, counts


def test_a_procedure_with_little_content_shows_no_empty_blocks(client):
    """A new procedure (a spinal cord stimulator, say) needs content, not code."""
    procedure = make_procedure(slug="stimulator", title="Spinal cord stimulator")
    page = html(client.get(procedure.get_absolute_url()))
    headings = re.findall(r'<h2 id="([^"]+)"', page)
    assert [h for h in headings if not h.startswith("cta-")] == ["help-strip-title"]
    assert "Spinal cord stimulator" in page


def test_every_anchor_the_page_uses_itself_is_reserved_from_editors(demo):
    from education.blocks import BLOCKS, PAGE_ANCHORS, Guide

    pump = Procedure.objects.with_content().get(pk=demo.pk)
    fixed = {block["anchor"] for block in Guide(pump, Guide.ALL).blocks() if "items" in block}
    assert fixed == {kind.anchor for kind in BLOCKS if kind.anchor}
    assert fixed <= PAGE_ANCHORS


def test_editor_text_with_line_breaks_is_escaped_on_the_page(client, demo):
    demo.summary = "<b>Bold</b> claim\nnext line"
    demo.save()
    clinic = ClinicSettings.load()
    clinic.address = "1 Main St <script>x</script>\nSpringfield"
    clinic.save()
    page = client.get(demo.get_absolute_url()).content.decode()
    assert "&lt;b&gt;Bold&lt;/b&gt; claim<br>next line" in page
    assert "1 Main St &lt;script&gt;x&lt;/script&gt;<br>Springfield" in page
    assert "<script>" not in page
