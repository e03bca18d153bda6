import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from education.models import ClinicSettings, Procedure, Section

from .factories import make_procedure

pytestmark = pytest.mark.django_db


def test_published_returns_only_published_procedures():
    live = make_procedure(slug="live")
    make_procedure(slug="draft", status=Procedure.Status.DRAFT)
    assert list(Procedure.objects.published()) == [live]


def test_new_procedures_start_as_drafts():
    procedure = Procedure(title="New", slug="new", summary="Text.")
    assert procedure.status == Procedure.Status.DRAFT


def test_a_picture_without_alt_text_is_refused_by_validation():
    procedure = make_procedure()
    procedure.hero_image = "procedures/pump.jpg"
    with pytest.raises(ValidationError) as error:
        procedure.full_clean()
    assert "Describe the picture" in str(error.value)


def test_a_picture_without_alt_text_is_refused_by_the_database():
    procedure = make_procedure()
    procedure.hero_image = "procedures/pump.jpg"
    with pytest.raises(IntegrityError), transaction.atomic():
        procedure.save()


def test_a_picture_with_alt_text_is_accepted():
    procedure = make_procedure()
    procedure.hero_image = "procedures/pump.jpg"
    procedure.hero_image_alt = "A round metal pump next to a coin for size."
    procedure.full_clean()
    procedure.save()


def test_next_review_must_come_after_the_last_review():
    procedure = make_procedure()
    procedure.next_review_due = procedure.last_reviewed - datetime.timedelta(days=1)
    with pytest.raises(ValidationError):
        procedure.full_clean()


def test_child_records_follow_their_order_field_not_creation_order():
    procedure = make_procedure()
    for order, heading in [(3, "Third"), (1, "First"), (2, "Second")]:
        Section.objects.create(
            procedure=procedure, order=order, heading=heading, anchor=heading.lower(), body="x"
        )
    assert [s.heading for s in procedure.sections.all()] == ["First", "Second", "Third"]


def test_section_anchors_are_unique_within_a_procedure():
    procedure = make_procedure()
    Section.objects.create(procedure=procedure, heading="A", anchor="same", body="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        Section.objects.create(procedure=procedure, heading="B", anchor="same", body="x")


@pytest.mark.parametrize("anchor", ["risks", "sources", "term-catheter", "ref-1", "top"])
def test_a_section_cannot_take_an_anchor_the_page_uses_itself(anchor):
    section = Section(procedure=make_procedure(), heading="A", anchor=anchor, body="x")
    with pytest.raises(ValidationError):
        section.full_clean()


def test_clinic_settings_always_save_as_the_single_row():
    ClinicSettings(name="First", phone="555").save()
    ClinicSettings(name="Second", phone="555").save()
    assert ClinicSettings.objects.count() == 1
    assert ClinicSettings.load().name == "Second"


def test_clinic_settings_fall_back_to_settings_before_an_editor_saves_them(settings):
    settings.CLINIC_NAME = "Fallback Clinic"
    settings.CLINIC_PHONE = "555-0100"
    clinic = ClinicSettings.load()
    assert (clinic.name, clinic.phone) == ("Fallback Clinic", "555-0100")


def test_procedure_url_uses_its_slug():
    assert make_procedure(slug="pump").get_absolute_url() == "/procedures/pump/"
