"""The front desk's worklist in a real browser at 1280 px: every column on screen,
the list itself included (Django's admin scrolls a wide table inside its own box)."""

import io

import pytest
from django.core.management import call_command

from accounts import roles
from tests.conftest import make_staff

from .conftest import ARTIFACTS, DESKTOP
from .test_privacy_and_errors import log_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

WIDER_THAN_ITS_BOX = """() => [document.documentElement, ...document.querySelectorAll(
        '#content *, .results')]
    .filter(e => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible'
                 || e === document.documentElement && e.scrollWidth > window.innerWidth)
    .map(e => e.tagName + '.' + e.className)"""


def test_the_worklist_and_call_sheet_fit_1280_px_with_every_column(
    open_page, demo, django_user_model, settings
):
    # Transactional tests empty every table after each test: make the roles again.
    roles.create_groups()
    settings.DEBUG = True  # the demo requests refuse to load otherwise
    call_command("load_demo_requests", stdout=io.StringIO())
    settings.DEBUG = False
    desk = make_staff(django_user_model, "screen-desk", "Front desk")
    tab = open_page(viewport=DESKTOP)
    log_in(tab.page, desk.username)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for url in [
        "/admin/appointments/request/",
        "/admin/appointments/request/?show=open",
        "/admin/appointments/request/?show=all",
        "/admin/appointments/request/call-sheet/?show=open",
        "/admin/appointments/closureday/",
    ]:
        assert tab.page.goto(url).status == 200, url
        assert tab.page.evaluate(WIDER_THAN_ITS_BOX) == [], url
    tab.page.goto("/admin/appointments/request/?show=open")
    header = tab.page.locator("#result_list thead th").last
    box = header.bounding_box()
    assert box["x"] + box["width"] <= DESKTOP["width"]
    assert header.inner_text().lower() == "assigned to"
    tab.page.screenshot(path=ARTIFACTS / "admin-worklist-1280.png", full_page=True)
    assert tab.errors == []
