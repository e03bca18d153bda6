"""The editors' and reviewers' screens in a real browser at 1280 px: nothing scrolls
sideways, every tab of a draft opens, and a block is found from its tab."""

import pytest

from education import workflow
from education.models import Procedure
from tests.conftest import make_staff

from .conftest import ARTIFACTS, DESKTOP
from .test_privacy_and_errors import log_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def sideways(page):
    """Elements wider than the window (empty when nothing scrolls sideways)."""
    return page.evaluate(
        """() => document.documentElement.scrollWidth > window.innerWidth
            ? [...document.querySelectorAll('#content *')]
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                .slice(0, 5).map(e => e.tagName + '.' + e.className)
            : []"""
    )


def test_no_editor_or_reviewer_screen_scrolls_sideways_at_1280_px(
    open_page, demo, django_user_model
):
    editor = make_staff(django_user_model, "screens-editor", "Content editors")
    page_on_site = Procedure.objects.get(language="en")
    draft = workflow.start_draft(page_on_site, editor)
    workflow.submit(draft, editor)
    base = f"/admin/education/procedure/{draft.pk}/"
    urls = [
        "/admin/",
        "/admin/education/procedure/",
        f"/admin/education/procedure/{page_on_site.pk}/change/",
        f"{base}change/",
        *(f"{base}change/?part={part.slug}" for part in draft.parts.all()),
        f"{base}changes/",
        f"/admin/education/procedure/{page_on_site.pk}/versions/",
    ]
    tab = open_page(viewport=DESKTOP)
    log_in(tab.page, editor.username)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for url in urls:
        response = tab.page.goto(url)
        assert response.status == 200, url
        assert sideways(tab.page) == [], url
    tab.page.goto(f"{base}change/?part=risks")
    tab.page.screenshot(path=ARTIFACTS / "admin-draft-risks-1280.png", full_page=False)
    assert tab.errors == []


def test_an_editor_finds_a_block_on_its_tab_and_the_tabs_say_where_they_are(
    open_page, demo, django_user_model
):
    editor = make_staff(django_user_model, "tabs-editor", "Content editors")
    draft = workflow.start_draft(Procedure.objects.get(language="en"), editor)
    tab = open_page(viewport=DESKTOP)
    log_in(tab.page, editor.username)
    tab.page.goto(f"/admin/education/procedure/{draft.pk}/change/")
    tab.page.click(".part-tabs >> text=When to get help")
    current = tab.page.locator('.part-tabs [aria-current="page"]')
    assert current.inner_text() == "When to get help"
    # The tab's blocks come first, open; the kinds it has none of are folded away.
    first_group = tab.page.locator(".inline-group").first
    assert first_group.locator("h2").inner_text().lower() == "warning signs"
    first_sign = draft.warning_signs.filter(part__slug="when-to-get-help").first()
    assert tab.page.input_value("#id_warning_signs-0-sign") == first_sign.sign
    assert tab.page.locator(".inline-group details:not([open])").count() >= 5
