import io

import pytest
from django.apps import apps
from django.core.management import call_command

from education import readability
from education.blocks import BLOCKS
from education.models import ClinicSettings, GlossaryTerm, Procedure, WarningSign

pytestmark = pytest.mark.django_db


def load():
    out = io.StringIO()
    call_command("load_demo_content", stdout=out)
    return out.getvalue()


def education_counts():
    return {
        model.__name__: model.objects.count()
        for model in apps.get_app_config("education").get_models()
    }


def test_demo_loader_creates_a_complete_published_page_set():
    load()
    pump = Procedure.objects.published().get(slug="intrathecal-pain-pump", language="en")
    for related in [
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
        "glossary_terms",
    ]:
        assert getattr(pump, related).exists(), related
    assert {risk.group for risk in pump.risks.all()} == {"surgery", "device", "medicine", "rare"}
    assert {sign.urgency for sign in pump.warning_signs.all()} == set(WarningSign.Urgency)
    assert all(phase.steps.exists() for phase in pump.phases.all())
    assert "555" in ClinicSettings.load().phone


def test_running_the_demo_loader_twice_changes_nothing():
    load()
    before = education_counts()
    assert "nothing changed" in load()
    assert education_counts() == before


def test_the_demo_loader_never_overwrites_edits_made_in_the_admin():
    load()
    pump = Procedure.objects.get(slug="intrathecal-pain-pump", language="en")
    pump.summary = "Edited by the clinic."
    pump.save()
    pump.sections.first().delete()
    clinic = ClinicSettings.load()
    clinic.phone = "(555) 999-0000"
    clinic.save()
    term = GlossaryTerm.objects.get(slug="catheter")
    term.definition = "Edited."
    term.save()
    sections = pump.sections.count()

    load()

    pump.refresh_from_db()
    assert pump.summary == "Edited by the clinic."
    assert pump.sections.count() == sections
    assert ClinicSettings.load().phone == "(555) 999-0000"
    assert GlossaryTerm.objects.get(slug="catheter").definition == "Edited."


@pytest.mark.parametrize("language", ["en", "es"])
def test_demo_content_reads_easily_in_each_language(language):
    """English at US grade 8 or below; Spanish at Fernández-Huerta 70 and INFLESZ 65 or
    more: the page as a whole and every block."""
    load()
    pump = Procedure.objects.get(slug="intrathecal-pain-pump", language=language)
    assert not readability.page_reading(pump).too_hard
    too_hard = [
        (name, readability.measure(text, language).score)
        for name, text in readability.prose_blocks(pump)
        if readability.measure(text, language).too_hard
    ]
    assert too_hard == []


@pytest.mark.parametrize("language", ["en", "es"])
def test_demo_safety_boxes_read_simpler_still(language):
    load()
    pump = Procedure.objects.get(slug="intrathecal-pain-pump", language=language)
    boxes = readability.safety_boxes(pump)
    assert len(boxes) == 4  # one per urgency
    assert not readability.safety_reading(pump).too_hard
    assert readability.hard_blocks(pump) == []


def test_demo_glossary_definitions_read_easily_in_their_language():
    load()
    too_hard = [
        term.term
        for term in GlossaryTerm.objects.all()
        if len(term.definition.split()) >= 10
        and readability.measure(term.definition, term.language).too_hard
    ]
    assert too_hard == []
    assert GlossaryTerm.objects.filter(language="es").count() == 19


def test_spanish_measure_tells_hard_text_from_plain_text():
    plain = "La bomba es pequeña. Está bajo la piel. Una enfermera la llena."
    hard = (
        "La administración intratecal de morfina sin conservantes requiere una "
        "evaluación multidisciplinaria exhaustiva, una titulación individualizada y "
        "una vigilancia longitudinal meticulosa de la depresión respiratoria."
    )
    assert not readability.measure(plain, "es", safety=True).too_hard
    assert readability.measure(hard, "es").too_hard
    # The English measure knows nothing of Spanish syllables, nor the Spanish of English.
    assert readability.spanish_scores(plain)[0] > 90


def test_grade_measure_tells_hard_text_from_plain_text():
    plain = "The pump is small. It sits under your skin. A nurse fills it."
    hard = (
        "Intrathecal administration of preservative-free morphine necessitates "
        "comprehensive multidisciplinary evaluation, individualized titration and "
        "meticulous longitudinal surveillance for respiratory depression."
    )
    assert readability.grade(plain) <= 4 < readability.TARGET_GRADE < readability.grade(hard)


def test_demo_text_fits_its_fields():
    """SQLite stores a text longer than its field; PostgreSQL refuses it. Every demo
    text, in every language, fits."""
    load()
    records = [*Procedure.objects.all(), *GlossaryTerm.objects.all(), ClinicSettings.load()]
    for page in Procedure.objects.all():
        records += page.parts.all()
        for kind in BLOCKS:
            records += getattr(page, kind.related_name).all()
        for phase in page.phases.all():
            records += phase.steps.all()
    too_long = [
        (type(record).__name__, field.name, len(value), field.max_length)
        for record in records
        for field in record._meta.concrete_fields
        if field.max_length
        and isinstance(value := getattr(record, field.attname), str)
        and len(value) > field.max_length
    ]
    assert too_long == []


def test_grade_of_a_few_short_words_is_shown_as_zero_not_below():
    """Flesch-Kincaid gives "A test." grade -3.0: an editor sees grade 0."""
    assert readability.grade("A test.") == 0.0
    assert readability.measure("A test.", "en").score == "reading grade 0.0"
