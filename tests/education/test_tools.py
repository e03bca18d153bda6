"""The guide's tools (education/tools.py): where they are offered, what they show, and
that nothing on them can send what a patient writes."""

import re

import pytest
from django.conf import settings
from django.urls import reverse

from education.models import DoctorQuestion, GuidePart

from .factories import make_procedure

pytestmark = pytest.mark.django_db

QUESTIONS = "/procedures/test-pump/tools/questions/"


@pytest.fixture
def page():
    procedure = make_procedure()
    part = GuidePart.objects.create(procedure=procedure, order=1, title="Asking", slug="asking")
    for n, text in enumerate(["Is it safe?", "How long does it last?"], start=1):
        DoctorQuestion.objects.create(procedure=procedure, order=n, question=text, part=part)
    DoctorQuestion.objects.create(procedure=procedure, order=0, question="Who does the refill?")
    return procedure


def test_every_page_of_the_guide_lists_its_tools(client, page):
    for url in ["/procedures/test-pump/", "/procedures/test-pump/asking/"]:
        html = client.get(url).text
        assert "Tools to use at home" in html
        assert f'href="{QUESTIONS}"' in html


def test_the_questions_block_links_to_its_sheet(client, page):
    html = client.get("/procedures/test-pump/asking/").text
    assert re.search(rf'<a href="{QUESTIONS}">Print them with space to write the answers</a>', html)


def test_the_questions_sheet_has_every_question_of_the_guide_with_lines_to_write_on(client, page):
    response = client.get(QUESTIONS)
    assert response.status_code == 200
    html = response.text
    asked = re.findall(r"<li>\s*<p>(.*?)</p>", html)
    assert asked == ["Who does the refill?", "Is it safe?", "How long does it last?"]
    assert html.count('class="answer-lines"') == 3
    assert '<h1 id="top">Questions to ask your doctor</h1>' in html
    assert f'<link rel="canonical" href="{settings.SITE_URL}{QUESTIONS}">' in html
    assert 'href="/procedures/test-pump/"' in html  # back to the guide


def test_a_tool_page_has_nothing_that_could_send_what_a_patient_writes(client, page):
    html = client.get(QUESTIONS).text
    assert "<form" not in html
    assert "<input" not in html and "<textarea" not in html


def test_a_guide_without_questions_has_no_sheet_and_no_link(client):
    make_procedure()
    assert client.get(QUESTIONS).status_code == 404
    assert "Tools to use at home" not in client.get("/procedures/test-pump/").text


def test_an_unknown_tool_or_an_unpublished_page_has_no_tool(client, page):
    assert client.get("/procedures/test-pump/tools/nothing/").status_code == 404
    page.status = "draft"
    page.save()
    assert client.get(QUESTIONS).status_code == 404


def test_staff_preview_a_drafts_tool_and_patients_cannot(client, editor_client, page):
    page.status = "draft"
    page.save()
    url = reverse("admin:education_procedure_preview_tool", args=[page.pk, "questions"])
    response = editor_client.get(url)
    assert response.status_code == 200
    assert "Is it safe?" in response.text
    assert '<meta name="robots" content="noindex">' in response.text
    client.logout()
    assert client.get(url).status_code == 302  # to the sign-in page


# The pump card's content: blocks made for a tool (education/blocks.py, `tool`).


def test_a_tools_blocks_never_show_in_the_guide(client):
    from education.models import PumpModel

    procedure = make_procedure()
    PumpModel.objects.create(
        procedure=procedure, maker="Maker", name="Pump Nine", mri_rule="Empty it first."
    )
    for url in ["/procedures/test-pump/", "/procedures/test-pump/all/"]:
        html = client.get(url).text
        assert "Pump Nine" not in html and "Empty it first." not in html


def test_the_pump_models_and_card_notes_go_with_every_version_and_translation(editor, demo):
    from education import versions

    english = demo
    content = versions.snapshot(english)
    assert [p["name"] for p in content["pump_models"]] == [
        "SynchroMed II",
        "Prometra",
        "Prometra II",
    ]
    assert all(p["reference"] for p in content["pump_models"])  # each cites a source
    notes = {m["name"]: m["emergency_note"] for m in content["medicines"]}
    assert "call 911" in notes["Baclofen"] and "Never stop baclofen" in notes["Baclofen"]
    spanish = english.translations.get()
    pumps = ["SynchroMed II", "Prometra", "Prometra II"]
    assert [p.name for p in spanish.pump_models.all()] == pumps
    assert "llame al 911" in spanish.medicines.get(name="Baclofeno").emergency_note


def test_the_pump_card_is_a_blank_card_and_sheet_from_the_guides_blocks(client, demo):
    response = client.get("/procedures/intrathecal-pain-pump/tools/card/")
    assert response.status_code == 200
    html = response.text
    assert "<input" not in html and "<textarea" not in html  # blank, to fill in by hand
    for pump in demo.pump_models.all():
        assert f"<h4>{pump.maker} {pump.name}</h4>" in html
    assert html.count("Ask the pump clinic what this pump's alarms sound like.") == 2
    noted = [m.name for m in demo.medicines.exclude(emergency_note="")]
    assert noted == [
        "Morphine",
        "Ziconotide",
        "Baclofen",
        "Other opioids (such as hydromorphone or fentanyl)",
    ]
    for name in noted:
        assert f"<h4>{name}</h4>" in html
    assert "<h4>Clonidine or bupivacaine</h4>" not in html  # no note: not on the card
    assert "(555) 010-0199" in html  # the after-hours line on the card


def test_a_guide_without_pump_models_has_no_card(client, page):
    assert client.get("/procedures/test-pump/tools/card/").status_code == 404
    assert "tools/card/" not in client.get("/procedures/test-pump/").text
