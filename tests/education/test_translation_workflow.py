"""The Spanish version of a page: started from the English one, rewritten block by block,
approved like any page, and marked out of date when the English page changes."""

import pytest
from django.contrib.admin.models import LogEntry

from education import translations, versions, workflow
from education.models import Procedure, Section, WarningSign

from .factories import change_url, draft_of, fill_procedure, make_procedure
from .test_workflow import admin_url, signed_in

pytestmark = pytest.mark.django_db

SPANISH_BODY = "La bomba es pequeña. Está bajo la piel. Una enfermera la llena cada mes."
HARD_SPANISH = (
    "La administración intratecal de morfina sin conservantes requiere una evaluación "
    "multidisciplinaria exhaustiva y una vigilancia longitudinal meticulosa."
)


def spanish_of(demo):
    return demo.translations.get()


def test_each_english_page_shows_where_its_spanish_version_stands(editor_client, demo):
    changelist = editor_client.get(admin_url("changelist")).content.decode()
    assert "Spanish version" in changelist and "Published" in changelist
    page = editor_client.get(change_url(demo)).content.decode()
    assert "Spanish version: Published" in page
    assert admin_url("change", spanish_of(demo).pk) in page
    spanish = editor_client.get(change_url(spanish_of(demo))).content.decode()
    assert "This page is the Spanish version of “Intrathecal pain pump”" in spanish


def test_a_spanish_version_goes_out_of_date_when_the_english_page_changes(editor, reviewer, demo):
    spanish = spanish_of(demo)
    assert translations.state(demo, "es") == translations.State.PUBLISHED
    # A review that changes nothing leaves it up to date...
    workflow.confirm_review(demo, reviewer, note="")
    assert translations.state(demo, "es") == translations.State.PUBLISHED
    # ...a changed English page does not.
    draft = draft_of(demo, editor)
    Section.objects.filter(procedure=draft).update(heading="Renamed")
    workflow.submit(draft, editor)
    workflow.approve(draft, reviewer, note="Headings renamed.")
    assert translations.state(demo, "es") == translations.State.OUT_OF_DATE
    # The Spanish page, brought up to date and approved again, follows the new version.
    spanish_draft = workflow.start_draft(spanish, editor)
    workflow.submit(spanish_draft, editor)
    workflow.approve(spanish_draft, reviewer, note="Al día con el inglés.")
    spanish.refresh_from_db()
    assert spanish.source_version == demo.revisions.count()
    assert translations.state(demo, "es") == translations.State.PUBLISHED


def test_a_spanish_version_is_started_from_the_english_page_and_approved_like_any(
    client, editor, reviewer
):
    page = fill_procedure(make_procedure(slug="new", status=Procedure.Status.DRAFT), 2)
    WarningSign.objects.filter(procedure=page).update(urgency=WarningSign.Urgency.EMERGENCY)
    workflow.submit(page, editor)
    workflow.approve(page, reviewer, note="New page.")
    assert translations.state(page, "es") == translations.State.MISSING

    editor_client = signed_in(type(client), editor)
    assert "Start the Spanish version" in editor_client.get(change_url(page)).content.decode()
    response = editor_client.post(admin_url("translate", page.pk))
    spanish = Procedure.objects.get(language="es")
    assert response["Location"] == change_url(spanish)
    assert (spanish.translation_of, spanish.slug) == (page, page.slug)
    assert spanish.parts.count() == page.parts.count() and not spanish.is_published
    assert set(spanish.sections.values_list("uid", flat=True)).isdisjoint(
        page.sections.values_list("uid", flat=True)
    )
    entry = LogEntry.objects.get(object_id=str(spanish.pk))
    assert entry.get_change_message() == f"Spanish version of “{page.title}” started."
    # Asking again opens the same one.
    assert versions.start_translation(page, "es") == spanish
    assert translations.state(page, "es") == translations.State.DRAFT
    # Until it is approved, Spanish readers get the English page with a notice.
    assert "Esta página todavía no está en español" in client.get("/es/procedures/new/").text

    # The gate measures it with the Spanish formulas.
    workflow.submit(spanish, editor)
    Section.objects.filter(procedure=spanish).update(body=HARD_SPANISH)
    reasons = workflow.approval_problems(spanish, reviewer)
    assert len(reasons) == Section.objects.filter(procedure=spanish).count() > 0, reasons
    assert reasons[0].startswith("Section “Part 0”: Fernández-Huerta ")
    assert reasons[0].endswith("it must be Fernández-Huerta 70 and INFLESZ 65 or higher.")
    Section.objects.filter(procedure=spanish).update(body=SPANISH_BODY)
    assert workflow.approval_problems(spanish, reviewer) == []
    workflow.approve(spanish, reviewer, note="Versión en español.")
    assert translations.state(page, "es") == translations.State.PUBLISHED
    html = client.get("/es/procedures/new/").text
    assert '<html lang="es">' in html and SPANISH_BODY in html


def test_a_spanish_page_keeps_its_english_pages_address(editor_client, editor, demo):
    """The language switch leads from one to the other by the same address."""
    english_draft = draft_of(demo, editor)
    spanish_draft = draft_of(spanish_of(demo), editor)
    assert spanish_draft.translation_of == demo and spanish_draft.language == "es"
    assert 'name="slug"' in editor_client.get(change_url(english_draft)).content.decode()
    assert 'name="slug"' not in editor_client.get(change_url(spanish_draft)).content.decode()


def test_only_english_pages_are_copied_into_new_pages(demo):
    with pytest.raises(ValueError):
        versions.copy_page(spanish_of(demo))


def test_only_those_who_may_add_pages_start_a_spanish_version(client, reviewer, front_desk, demo):
    demo.translations.all().delete()
    for user in (reviewer, front_desk):
        response = signed_in(type(client), user).post(admin_url("translate", demo.pk))
        assert response.status_code == 403, user
    assert not Procedure.objects.filter(language="es").exists()
