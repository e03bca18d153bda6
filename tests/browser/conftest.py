"""Real-browser tests: Debian's Chromium driven by Playwright against the live server.

Chromium comes from Debian (`make test` installs it when missing); Playwright never
downloads a browser. The flags keep Chromium off the network: the machines have
none, and a patient's page must not need one.
"""

import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import sync_playwright

from scripts.common import CHROMIUM, CHROMIUM_ARGS

# Playwright's sync API runs an event loop in the test thread; the ORM calls the
# tests make there are ordinary blocking calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PHONE = {"width": 360, "height": 800}
SMALL_PHONE = {"width": 320, "height": 640}
DESKTOP = {"width": 1280, "height": 900}
PUMP = "/procedures/intrathecal-pain-pump/"


def pytest_terminal_summary(terminalreporter):
    if ARTIFACTS.exists() and any(ARTIFACTS.iterdir()):
        terminalreporter.write_line(f"Screenshots of every public page: {ARTIFACTS}")


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: `make test` installs it with apt-get.")
    with sync_playwright() as playwright:
        # Playwright starts Chromium with a fresh, temporary profile every time.
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def demo(transactional_db):
    call_command("load_demo_content", stdout=io.StringIO())


class Watched:
    """A browser tab that remembers every request it made and every console error."""

    def __init__(self, page):
        self.page = page
        self.requests = []
        self.errors = []
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _console(self, message):
        # Chromium reports a 404 page's own status as a console error; that one is
        # the page working as meant. Anything else (a failed file, a CSP violation,
        # a script error) counts.
        if message.type != "error":
            return
        if "404" in message.text and message.location.get("url") == self.page.url:
            return
        self.errors.append(f"{message.text} ({message.location.get('url')})")


@pytest.fixture
def open_page(browser, live_server):
    """open_page(viewport=...) -> a fresh context's Watched tab on the live server."""
    contexts = []

    def open_page(viewport=DESKTOP, **options):
        context = browser.new_context(viewport=viewport, base_url=live_server.url, **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return Watched(context.new_page())

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(open_page):
    return open_page().page
