"""Every public page renders the same HTML as the stored copy in tests/golden/.

A guard for changes that should not change what patients see (a refactor of the read
path, the template helpers): the pages are rendered with the demo content and compared
with the stored copies, apart from what differs on every request (CSRF and timing
tokens). When a change is meant to alter a page, rewrite the copies and review the diff:

    GOLDEN_UPDATE=1 .venv/bin/python -m pytest tests/test_golden_pages.py
    git diff tests/golden/
"""

import os
import re
from pathlib import Path

import pytest
from django.test import Client

from appointments.models import Request
from tests.appointments.factories import make_request

pytestmark = pytest.mark.django_db

GOLDEN = Path(__file__).parent / "golden"
REFERENCE = "ABCDEFGH"

PAGES = {
    "home": ("get", "/"),
    "procedure-list": ("get", "/procedures/"),
    "procedure": ("get", "/procedures/intrathecal-pain-pump/"),
    "procedure-part": ("get", "/procedures/intrathecal-pain-pump/risks/"),
    "procedure-all": ("get", "/procedures/intrathecal-pain-pump/all/"),
    "handout": ("get", "/procedures/intrathecal-pain-pump/handout/"),
    "tool-questions": ("get", "/procedures/intrathecal-pain-pump/tools/questions/"),
    "es-procedure": ("get", "/es/procedures/intrathecal-pain-pump/"),
    "glossary": ("get", "/glossary/"),
    "consultation-form": ("get", "/appointments/consultation/"),
    "consultation-errors": ("post", "/appointments/consultation/"),
    "call-back-form": ("get", "/appointments/call-back/"),
    "call-back-errors": ("post", "/appointments/call-back/"),
    "thanks": ("get", f"/appointments/thanks/{REFERENCE}/"),
    "thanks-call-now": ("get", f"/appointments/thanks/{REFERENCE}/call-now/"),
    "not-found": ("get", "/no-such-page/"),
}

# What differs from run to run: form tokens, and the database ids in the references'
# anchors (PostgreSQL does not reuse ids between tests).
VOLATILE = [
    (re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"'), 'name="csrfmiddlewaretoken"'),
    (re.compile(r'name="started" value="[^"]+"'), 'name="started"'),
    (re.compile(r"\bref-\d+"), "ref-N"),
]


def normalized(html):
    for pattern, replacement in VOLATILE:
        html = pattern.sub(replacement, html)
    return html


@pytest.mark.parametrize("name", PAGES)
def test_public_page_is_unchanged(demo, name):
    make_request(reference=REFERENCE, status=Request.Status.NEW)
    method, url = PAGES[name]
    response = getattr(Client(), method)(url, {})
    html = normalized(response.content.decode())
    path = GOLDEN / f"{name}.html"
    if os.environ.get("GOLDEN_UPDATE"):
        path.write_text(html, encoding="utf-8")
    assert html == path.read_text(encoding="utf-8"), f"{name} differs from {path}"
