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


@pytest.mark.parametrize("prefix", ["", "/es"])
def test_no_tool_of_the_demo_guide_has_a_form_or_a_field_that_belongs_to_one(client, demo, prefix):
    """Fields with no form cannot be sent (the browser tests show no request carries
    them); no field names a form elsewhere on the page either."""
    for tool in ["decision", "questions", "diary", "card"]:
        response = client.get(f"{prefix}/procedures/intrathecal-pain-pump/tools/{tool}/")
        assert response.status_code == 200, tool
        assert "<form" not in response.text and " form=" not in response.text, tool
        assert "formaction" not in response.text, tool


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
    # Blank, to fill in by hand: the fields to type in are in a panel hidden until
    # card.js shows it, and nothing outside it takes input.
    panel = re.search(
        r'<section class="tool-fill print-hidden"[^>]* data-card-fill hidden>.*?</section>',
        html,
        re.S,
    )
    assert panel and "<input" in panel.group()
    outside = html.replace(panel.group(), "")
    assert "<input" not in outside and "<select" not in outside
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


# The decision aid and the trial diary.

DECISION = "/procedures/intrathecal-pain-pump/tools/decision/"
DIARY = "/procedures/intrathecal-pain-pump/tools/diary/"


def test_the_decision_aid_sets_the_options_side_by_side_with_the_same_headings(client, demo):
    html = client.get(DECISION).text
    names = re.findall(r'<h3 id="option-\d+">(.*?)</h3>', html)
    assert names == [o.name for o in demo.decision_options.all()]
    assert len(names) == 3 and names[0] == "Keep my current treatment"  # doing nothing new
    for heading in ["What it involves", "What may be good", "What may be hard"]:
        assert html.count(f"<h4>{heading}</h4>") == 3
    assert "<strong>The decision:</strong> Should I have a trial now, or not for now?" in html


def test_each_chance_is_n_in_100_with_100_people_drawn_and_its_source(client, demo):
    html = client.get(DECISION).text
    chances = list(demo.decision_chances.select_related("reference"))
    assert len(chances) == 8
    drawn = re.findall(r'<svg class="icon-array".*?</svg>', html, re.S)
    assert len(drawn) == sum(len(c.groups()) for c in chances)
    for chance in chances:
        for label, count in chance.groups():
            assert f"<strong>{count} in 100</strong> {label}" in html
        ref = chance.reference
        assert f'href="/procedures/intrathecal-pain-pump/sources/#ref-{ref.pk}"' in html
        assert f"Source: {ref.publisher}, {ref.year}" in html
    # Help first, then harm, each under its heading.
    assert html.index("Chances of help") < html.index("Chances of harm")


@pytest.mark.parametrize(
    ("count", "full", "rest"), [(0, 0, 0), (2, 0, 2), (58, 5, 8), (100, 10, 0)]
)
def test_an_icon_array_fills_whole_rows_from_the_bottom_then_the_rest(count, full, rest):
    from django.template import engines

    svg = engines["jinja2"].get_template("education/tools/icon_array.html").render({"count": count})
    filled = re.findall(
        r'<rect y="(\d+)" width="(\d+)" height="(\d+)" fill="url\(#person-filled\)"/>', svg
    )
    expected = []
    if full:
        expected.append((str(100 - full * 10), "100", str(full * 10)))
    if rest:
        expected.append((str(90 - full * 10), str(rest * 10), "10"))
    assert filled == expected
    assert 'aria-hidden="true"' in svg  # the words next to it say the number


def test_the_values_exercise_the_leaning_and_sure_are_radio_groups(client, demo):
    html = client.get(DECISION).text
    reasons = demo.decision_values.all()
    for reason in reasons:
        assert f"<legend>{reason.statement}</legend>" in html
    names = set(re.findall(r'type="radio" id="[^"]+" name="([^"]+)"', html))
    assert len(names) == len(reasons) + 1 + 4  # each reason, the leaning, SURE's 4
    for question in [
        "Do you feel SURE about the best choice for you?",
        "Do you know the benefits and risks of each option?",
        "Are you clear about which benefits and risks matter most to you?",
        "Do you have enough support and advice to make a choice?",
    ]:
        assert f"<legend>{question}</legend>" in html
    assert "Légaré F et al. Are you SURE? Canadian Family Physician, 2010." in html
    assert "nuestra traducción de la prueba SURE" in client.get(f"/es{DECISION}").text


def test_a_decision_chance_compares_two_groups_or_none(demo):
    from django.core.exceptions import ValidationError

    chance = demo.decision_chances.first()
    chance.second_count = None
    with pytest.raises(ValidationError):
        chance.full_clean()
    chance.second_label = ""
    chance.full_clean()
    chance.first_count = 101
    with pytest.raises(ValidationError):
        chance.full_clean()


def test_the_diary_has_a_row_for_each_time_the_clinic_set(client, demo):
    html = client.get(DIARY).text
    times = [t.label for t in demo.diary_times.all()]
    assert len(times) == 7
    assert re.findall(r'<th scope="row" id="diary-when-\d+">(.*?)</th>', html) == times
    # Every field is named by its time and its column.
    for n in range(1, len(times) + 1):
        assert f'aria-labelledby="diary-when-{n} diary-pain-head"' in html
    assert "at least half less than usual (50% less or more)" in html  # the rule


def test_the_new_tools_blocks_go_with_every_version_and_translation(editor, demo):
    from education import versions

    content = versions.snapshot(demo)
    for name in ["decision_options", "decision_chances", "decision_values", "diary_times"]:
        assert len(content[name]) == getattr(demo, name).count() > 0, name
    assert all(c["reference"] for c in content["decision_chances"])
    spanish = demo.translations.get()
    assert spanish.decision_chances.count() == 8
    assert spanish.decision_options.first().name == "Seguir con mi tratamiento de ahora"
