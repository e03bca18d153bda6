"""axe-core finds no WCAG 2.0/2.1/2.2 A or AA problem on any page a patient can reach."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from .pages import ALL_PAGES, reach

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

AXE = Axe()
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


def axe_violations(page):
    results = AXE.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    return results.violations_count, results.generate_report()


@pytest.fixture(autouse=True)
def _no_timing_trap(settings):
    settings.REQUEST_MIN_FILL_SECONDS = 0


@pytest.mark.parametrize("name", ALL_PAGES)
@pytest.mark.parametrize("width", [360, 1280])
def test_axe_finds_no_wcag_a_or_aa_violations(open_page, demo, name, width):
    page = open_page(viewport={"width": width, "height": 900}).page
    reach(page, name)
    count, report = axe_violations(page)
    assert count == 0, report


@pytest.mark.parametrize(
    ("name", "questions"), [("consultation-errors", 11), ("call-back-errors", 8)]
)
def test_the_error_pages_axe_checks_show_an_error_for_every_required_question(
    open_page, demo, name, questions
):
    page = open_page().page
    reach(page, name)
    hrefs = page.locator(".error-summary a").evaluate_all(
        "links => links.map(link => link.getAttribute('href'))"
    )
    assert len(hrefs) >= questions
    for href in hrefs:
        assert page.locator(href).count() == 1, href


@pytest.mark.parametrize("width", [360, 1280])
def test_axe_finds_nothing_with_a_glossary_meaning_open(open_page, demo, width):
    page = open_page(viewport={"width": width, "height": 900}).page
    page.goto("/procedures/intrathecal-pain-pump/how-it-works/")
    page.locator('button.term[popovertarget="def-catheter"]').click()
    assert page.locator("#def-catheter").evaluate("el => el.matches(':popover-open')")
    count, report = axe_violations(page)
    assert count == 0, report
