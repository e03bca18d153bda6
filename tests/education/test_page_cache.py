"""Reading pages are cached for anonymous patients and refreshed the moment content changes."""

import gzip

import pytest
from django.urls import reverse

from education import workflow
from education.models import ClinicSettings, Procedure, Risk
from tests.demo_guide import PARTS, PUMP

from .factories import change_url, draft_of, make_procedure, procedure_change_data

pytestmark = pytest.mark.django_db

READING_PAGES = [
    "/",
    "/procedures/",
    PUMP,
    *(f"{PUMP}{part}/" for part in PARTS),
    f"{PUMP}all/",
    f"{PUMP}handout/",
    "/glossary/",
]


@pytest.mark.parametrize("url", READING_PAGES)
def test_a_cached_reading_page_needs_no_database_query(
    client, demo, url, django_assert_num_queries
):
    first = client.get(url)
    with django_assert_num_queries(0):
        second = client.get(url)
    assert second.status_code == 200
    assert second.content == first.content
    assert not second.cookies


def test_an_approved_change_shows_at_once_and_a_draft_never(client, editor, reviewer, demo):
    url = demo.parts.get(slug="risks").get_absolute_url()
    client.get(url)  # now cached
    draft = draft_of(demo, editor)
    risk = draft.risks.first()
    staff = type(client)()
    staff.force_login(editor)
    data = procedure_change_data(staff, draft, "risks")
    data["risks-0-description"] = "Fresh wording from the editor."
    response = staff.post(change_url(draft, "risks"), data)
    assert response.status_code == 302
    assert Risk.objects.get(pk=risk.pk).description == "Fresh wording from the editor."
    assert "Fresh wording from the editor." not in client.get(url).content.decode()

    workflow.submit(draft, editor)
    workflow.approve(draft, reviewer, note="We reworded a risk.")
    assert "Fresh wording from the editor." in client.get(url).content.decode()


def test_any_content_change_empties_the_cache(client, demo):
    client.get("/")
    clinic = ClinicSettings.load()
    clinic.phone = "(555) 010-0777"
    clinic.save()
    assert "(555) 010-0777" in client.get("/").content.decode()
    client.get("/glossary/")
    term = demo.glossary_terms.first()
    term.delete()
    assert f'id="{term.slug}"' not in client.get("/glossary/").content.decode()


def test_unpublishing_a_procedure_takes_its_page_down_at_once(client, demo):
    url = demo.get_absolute_url()
    assert client.get(url).status_code == 200
    Procedure.objects.filter(pk=demo.pk).update(status=Procedure.Status.DRAFT)  # no signal
    assert client.get(url).status_code == 200  # an update() skips signals: still cached
    demo.refresh_from_db()
    demo.save()
    assert client.get(url).status_code == 404


def test_pages_with_a_form_are_never_cached(client, demo):
    def token(response):
        return response.content.decode().split('name="csrfmiddlewaretoken" value="')[1][:32]

    # A cached page would hand every visitor the same (masked) CSRF token.
    first = client.get("/appointments/consultation/")
    assert token(first) != token(client.get("/appointments/consultation/"))


def test_signed_in_staff_always_get_a_fresh_page_and_never_a_draft(
    client, editor, demo, django_assert_max_num_queries
):
    url = demo.get_absolute_url()
    client.get(url)  # cached for patients
    client.force_login(editor)
    with django_assert_max_num_queries(30) as queries:
        assert client.get(url).status_code == 200
    assert len(queries) > 0  # rendered for them, not the patients' copy
    make_procedure(slug="draft", status=Procedure.Status.DRAFT)
    assert client.get("/procedures/draft/").status_code == 404
    client.logout()
    assert client.get("/procedures/draft/").status_code == 404


@pytest.mark.parametrize("accept_encoding", ["gzip, deflate, br, zstd", "gzip"])
def test_cached_pages_are_stored_gzipped_once(
    client, demo, django_assert_num_queries, accept_encoding
):
    url = demo.get_absolute_url()
    first = client.get(url, headers={"accept-encoding": accept_encoding})
    assert first["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in first["Vary"]
    with django_assert_num_queries(0):
        second = client.get(url, headers={"accept-encoding": accept_encoding})
    assert second.content == first.content  # the stored bytes, not compressed again
    assert "Intrathecal pain pump" in gzip.decompress(second.content).decode()
    # Another browser on the same page gets its own encoding, not the stored one.
    plain = client.get(url)
    assert "Content-Encoding" not in plain
    assert b"Intrathecal pain pump" in plain.content


def test_every_page_is_compressed_by_djangos_own_gzip(superuser_client, settings):
    """Django's GZipMiddleware pads each response at random (against BREACH): the admin
    shows patient data and echoes search text, so no page skips it."""
    assert "django.middleware.gzip.GZipMiddleware" in settings.MIDDLEWARE
    url = reverse("admin:appointments_request_changelist") + "?q=search+text"
    sizes = set()
    for _ in range(5):
        response = superuser_client.get(url, headers={"accept-encoding": "gzip, br, zstd"})
        assert response["Content-Encoding"] == "gzip"
        assert b"search text" in gzip.decompress(response.content)
        sizes.add(len(response.content))
    assert len(sizes) > 1  # the random padding


@pytest.mark.parametrize("part", PARTS)
def test_every_part_empties_from_the_cache_when_its_content_changes(client, demo, part):
    url = f"{PUMP}{part}/"
    client.get(url)  # now cached
    guide_part = demo.parts.get(slug=part)
    guide_part.title = "A new title from the editor"
    guide_part.save()
    assert "A new title from the editor" in client.get(url).content.decode()
