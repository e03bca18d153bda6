import pytest
from django.contrib import admin
from django.urls import reverse

from education.models import GlossaryTerm, Procedure

from .factories import draft_of, procedure_change_data

pytestmark = pytest.mark.django_db

EDUCATION_ADMINS = [model for model in admin.site._registry if model._meta.app_label == "education"]


def admin_url(model, action, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{action}", args=args)


@pytest.mark.parametrize("model", EDUCATION_ADMINS, ids=lambda m: m.__name__)
def test_admin_changelist_search_add_and_change_pages_open(superuser_client, demo, model):
    assert superuser_client.get(admin_url(model, "changelist")).status_code == 200
    assert superuser_client.get(admin_url(model, "changelist"), {"q": "pump"}).status_code == 200
    obj = model.objects.first()
    assert obj is not None
    assert superuser_client.get(admin_url(model, "change", obj.pk)).status_code == 200
    add = superuser_client.get(admin_url(model, "add"))
    # Clinic settings is a single row: once it exists it can only be changed. Stages
    # are added on their page.
    refused = model._meta.model_name in ("clinicsettings", "phase")
    assert add.status_code == (403 if refused else 200)


def test_procedure_change_page_shows_the_reading_grade_and_a_view_on_site_link(
    superuser_client, demo
):
    page = superuser_client.get(admin_url(Procedure, "change", demo.pk)).content.decode()
    assert "Whole page" in page
    assert "aim for grade 8 or lower" in page
    assert 'class="viewsitelink"' in page


def test_a_drafts_first_tab_holds_its_parts_and_every_kind_of_block_inline(
    superuser_client, superuser, demo
):
    draft = draft_of(demo, superuser)
    page = superuser_client.get(admin_url(Procedure, "change", draft.pk)).content.decode()
    for prefix in [
        "parts",
        "sections",
        "conditions",
        "medicines",
        "phases",
        "risks",
        "recovery_restrictions",
        "living_topics",
        "warning_signs",
        "faqs",
        "doctor_questions",
        "references",
    ]:
        assert f'name="{prefix}-TOTAL_FORMS"' in page, prefix


def test_an_editor_change_shows_on_the_public_page(editor_client, demo, client):
    term = GlossaryTerm.objects.get(slug="catheter")
    response = editor_client.post(
        admin_url(GlossaryTerm, "change", term.pk),
        {
            "language": "en",
            "term": "Catheter",
            "slug": "catheter",
            "definition": "A thin soft tube. Edited.",
        },
    )
    assert response.status_code == 302
    assert "A thin soft tube. Edited." in client.get("/glossary/").content.decode()


def test_saving_a_picture_without_alt_text_shows_an_error_to_the_editor(
    superuser_client, superuser, demo
):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (400, 300), "white").save(buffer, "PNG")  # within the picture limits
    draft = draft_of(demo, superuser)
    data = procedure_change_data(superuser_client, draft)
    data.update(
        hero_image=SimpleUploadedFile("pump.png", buffer.getvalue(), content_type="image/png"),
        hero_image_alt="",
    )
    response = superuser_client.post(admin_url(Procedure, "change", draft.pk), data)
    assert response.status_code == 200
    assert "Describe the picture in the alt text field." in response.content.decode()
    draft.refresh_from_db()
    assert not draft.hero_image
