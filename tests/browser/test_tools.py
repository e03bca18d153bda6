"""The guide's tools in a real browser, used as a patient would: what they type fills in
the page and its printout, is checked by axe in every state, and never leaves the
browser (no request carries it; nothing is kept but the diary's own entries)."""

import io
import re
import unicodedata
from urllib.parse import urlsplit

import pytest
from pypdf import PdfReader

from education.models import Procedure

from .conftest import DESKTOP, PHONE, PUMP
from .test_accessibility import axe_violations
from .test_layout import ID1_PX, record_pages

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# Typed into every field that takes text: if it shows up in any request, an answer left.
MARK = "Qzxv"


class Sent:
    """Every request a tab makes: method, address and body."""

    def __init__(self, page):
        self.requests = []
        page.on("request", lambda request: self.requests.append(request))

    def suspicious(self, since=0):
        """Requests since the `since`-th that could carry an answer: any that is not a
        plain GET of a file from our own static files (no query string), on this host."""
        found = []
        for request in self.requests[since:]:
            address = urlsplit(request.url)
            if not (
                request.method == "GET"
                and address.hostname in ("localhost", "127.0.0.1")
                and address.path.startswith("/static/")
                and not address.query
                and not request.post_data
            ):
                found.append(f"{request.method} {request.url}")
        return found

    def carrying(self, *answers):
        """Requests whose address or body holds one of the answers."""
        found = []
        for request in self.requests:
            sent = request.url + (request.post_data or "")
            if any(answer.lower() in sent.lower() for answer in answers):
                found.append(request.url)
        return found


def assert_nothing_kept(page, storage_allowed=False):
    assert page.context.cookies() == []
    kept = page.evaluate("() => [localStorage.length, sessionStorage.length]")
    assert kept == [kept[0] if storage_allowed else 0, 0]


def printed(page):
    pdf = PdfReader(io.BytesIO(page.pdf(format="Letter", print_background=False)))
    text = " ".join(p.extract_text() for p in pdf.pages)
    return pdf, re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def open_tool(open_page, tool, prefix="", viewport=DESKTOP):
    watched = open_page(viewport=viewport)
    sent = Sent(watched.page)
    watched.page.goto(f"{prefix}{PUMP}tools/{tool}/")
    return watched, sent


# The pump card ------------------------------------------------------------------------


def fill_card(page, long=False):
    name = f"{MARK} Maria-Guadalupe Fernandez de la Torre" if long else f"{MARK} Ana Patient"
    page.get_by_label("Your name").fill(name[:40])
    page.get_by_label("Your pump").select_option(label="Medtronic SynchroMed II")
    page.get_by_label("Morphine").check()
    if long:
        for medicine in ("Ziconotide", "Baclofen", "Clonidine", "Bupivacaine"):
            page.get_by_label(medicine, exact=False).first.check()
    page.get_by_label("Dose", exact=True).fill(f"{MARK} 2.5 mg a day, bolus 0.1 mg up to 4")
    page.get_by_label("Next refill or alarm date").fill("2027-01-15")
    return name[:40]


def test_the_pump_card_fills_in_from_what_the_patient_types_and_prints(open_page, demo):
    watched, sent = open_tool(open_page, "card")
    page = watched.page
    loaded = len(sent.requests)
    name = fill_card(page)

    card = page.locator(".pump-card")
    assert card.locator('[data-card-field="name"]').inner_text() == name
    assert card.locator('[data-card-field="pump"]').inner_text() == "Medtronic SynchroMed II"
    medicine = card.locator('[data-card-field="medicine"]').inner_text()
    assert medicine == f"Morphine: {MARK} 2.5 mg a day, bolus 0.1 mg up to 4"
    assert card.locator('[data-card-field="refill"]').inner_text() == "January 15, 2027"

    # The sheet keeps the notes for this pump and this medicine only.
    procedure = Procedure.objects.get(language="en")
    sheet = page.locator(".emergency-sheet")
    for pump in procedure.pump_models.all():
        shown = pump.name == "SynchroMed II"
        assert sheet.get_by_text(pump.mri_rule).is_visible() is shown, pump.name
    for note in procedure.medicines.exclude(emergency_note=""):
        shown = note.name == "Morphine"
        assert sheet.get_by_text(note.emergency_note).is_visible() is shown, note.name

    pdf, text = printed(page)
    record_pages("pump card and sheet, filled in (en)", len(pdf.pages))
    assert len(pdf.pages) == 1
    assert re.sub(r"\s+", "", name) in text
    assert "Typeyourdetails" not in text  # the panel is not printed
    synchromed = procedure.pump_models.get(name="SynchroMed II")
    prometra = procedure.pump_models.get(name="Prometra")
    assert re.sub(r"\s+", "", synchromed.mri_rule) in text
    assert re.sub(r"\s+", "", prometra.mri_rule) not in text

    # Nothing was sent while filling in, and nothing is kept.
    assert sent.suspicious(since=loaded) == []
    assert sent.carrying(MARK) == []
    assert_nothing_kept(page)
    assert not watched.errors

    # "Clear what I typed" empties the card, and the sheet shows every note again.
    page.get_by_role("button", name="Clear what I typed").click()
    assert card.locator('[data-card-field="name"]').inner_text() == ""
    assert sheet.get_by_text(prometra.mri_rule).is_visible()
    assert page.get_by_label("Your name").evaluate("el => el === document.activeElement")


def test_the_longest_details_still_fit_on_the_printed_wallet_card(open_page, demo):
    watched, _ = open_tool(open_page, "card")
    page = watched.page
    fill_card(page, long=True)
    page.emulate_media(media="print")
    for side in page.locator(".pump-card__side").evaluate_all(
        "els => els.map(e => ({w: e.getBoundingClientRect().width,"
        " h: e.getBoundingClientRect().height, overflow: e.scrollHeight > e.clientHeight}))"
    ):
        assert abs(side["w"] - ID1_PX[0]) < 1 and abs(side["h"] - ID1_PX[1]) < 1, side
        assert not side["overflow"], side
    pdf, _ = printed(page)
    assert len(pdf.pages) == 1


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
@pytest.mark.parametrize("prefix", ["", "/es"])
def test_axe_finds_nothing_on_the_filled_in_pump_card(open_page, demo, viewport, prefix):
    watched, _ = open_tool(open_page, "card", prefix, viewport)
    page = watched.page
    page.locator("#card-name").fill("Ana")
    page.locator("#card-pump").select_option(index=1)
    page.locator("#card-medicine-1").check()
    page.locator("#card-dose").fill("2 mg")
    page.locator("#card-refill").fill("2027-01-15")
    count, report = axe_violations(page)
    assert count == 0, report
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


def test_without_javascript_the_card_is_blank_with_no_fields_to_type_in(open_page, demo):
    page = open_page(java_script_enabled=False).page
    page.goto(f"{PUMP}tools/card/")
    assert not page.locator("[data-card-fill]").is_visible()
    assert page.locator(".pump-card").is_visible()
    slots = page.locator("[data-card-field]").all_inner_texts()
    assert len(slots) == 8 and set(slots) == {""}


# The trial diary --------------------------------------------------------------------


def diary_relief(page):
    return page.locator("[data-diary-relief]").all_inner_texts()


def fill_diary(page):
    page.get_by_label("My usual pain before the trial (0 to 10)").fill("8")
    for n, pain in [(1, "6"), (2, "4"), (3, "3")]:
        page.locator(f"#diary-pain-{n}").fill(pain)
    page.locator("#diary-doing-1").fill(f"{MARK} walking to the kitchen")
    page.locator("#diary-notes-2").fill(f"{MARK} itchy skin")


def test_the_diary_works_out_the_relief_in_numbers_and_words(open_page, demo):
    watched, sent = open_tool(open_page, "diary")
    page = watched.page
    loaded = len(sent.requests)
    fill_diary(page)
    assert diary_relief(page)[:4] == [
        "25% less",
        "50% less: at least half",
        "63% less: at least half",
        "",
    ]
    result = page.locator("[data-diary-result]").inner_text()
    assert result == (
        "Your best time so far: 63% less pain than usual (4 hours after). "
        "At 2 of 3 times, your pain was at least half less than usual."
    )
    # More pain than usual, and the same, in words.
    page.locator("#diary-pain-4").fill("9")
    page.locator("#diary-pain-5").fill("8")
    assert diary_relief(page)[3:5] == ["More pain than usual", "The same as usual"]
    # Nothing is sent, and nothing is kept unless the patient asks.
    assert sent.suspicious(since=loaded) == [] and sent.carrying(MARK) == []
    assert_nothing_kept(page)
    pdf, text = printed(page)
    record_pages("trial diary, filled in (en)", len(pdf.pages))
    assert len(pdf.pages) == 1
    assert "63%less:atleasthalf" in text and f"{MARK}walkingtothekitchen" in text
    assert not watched.errors


def test_a_pain_score_that_is_not_0_to_10_says_so_at_the_field(open_page, demo):
    watched, _ = open_tool(open_page, "diary", viewport=PHONE)
    page = watched.page
    page.get_by_label("My usual pain before the trial (0 to 10)").fill("8")
    field = page.locator("#diary-pain-1")
    for wrong in ["12", "x", "-1", "5.5"]:
        field.fill(wrong)
        assert field.get_attribute("aria-invalid") == "true", wrong
        error = page.locator("#diary-pain-1-error")
        assert error.is_visible() and error.inner_text() == "Write a whole number from 0 to 10."
        assert diary_relief(page)[0] == ""
    # The error is the field's description: a screen reader reads it with the field.
    assert field.get_attribute("aria-describedby") == "diary-pain-1-error"
    count, report = axe_violations(page)
    assert count == 0, report
    field.fill("4")
    assert field.get_attribute("aria-invalid") is None
    assert not page.locator("#diary-pain-1-error").is_visible()


def test_the_diary_keeps_entries_only_when_asked_and_deletes_them(open_page, demo):
    watched, sent = open_tool(open_page, "diary")
    page = watched.page
    fill_diary(page)
    assert_nothing_kept(page)
    page.get_by_label("Keep my entries on this device, so I can come back to them").check()
    assert page.get_by_role("status").filter(has_text="kept on this device").is_visible()
    stored = page.evaluate("() => Object.keys(localStorage)")
    assert stored == ["trial-diary:intrathecal-pain-pump"]
    assert page.context.cookies() == []
    # Back later, in a new tab of the same browser: the entries are there.
    again = page.context.new_page()
    again.goto(f"{PUMP}tools/diary/")
    assert again.locator("#diary-doing-1").input_value() == f"{MARK} walking to the kitchen"
    assert again.locator("#diary-keep").is_checked()
    assert diary_relief(again)[2] == "63% less: at least half"
    # "Delete my entries" asks first; no: nothing is deleted.
    again.once("dialog", lambda dialog: dialog.dismiss())
    again.get_by_role("button", name="Delete my entries").click()
    assert again.evaluate("() => localStorage.length") == 1
    again.once("dialog", lambda dialog: dialog.accept())
    again.get_by_role("button", name="Delete my entries").click()
    assert again.evaluate("() => [localStorage.length, sessionStorage.length]") == [0, 0]
    assert again.locator("#diary-doing-1").input_value() == ""
    assert not again.locator("#diary-keep").is_checked()
    assert again.get_by_role("status").filter(has_text="Your entries are deleted.").is_visible()
    # Unticking "keep" forgets them too.
    page.get_by_label("Keep my entries on this device, so I can come back to them").check()
    page.get_by_label("Keep my entries on this device, so I can come back to them").uncheck()
    assert page.evaluate("() => localStorage.length") == 0
    assert sent.carrying(MARK) == [] and sent.suspicious(since=1) == []


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
@pytest.mark.parametrize("prefix", ["", "/es"])
def test_axe_finds_nothing_on_the_filled_in_diary(open_page, demo, viewport, prefix):
    watched, _ = open_tool(open_page, "diary", prefix, viewport)
    page = watched.page
    page.locator("#diary-usual").fill("8")
    page.locator("#diary-pain-1").fill("3")
    page.locator("#diary-pain-2").fill("11")  # an error showing too
    page.locator("#diary-keep").check()
    count, report = axe_violations(page)
    assert count == 0, report
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


@pytest.mark.parametrize("prefix", ["", "/es"])
def test_the_blank_diary_prints_on_one_page_without_javascript(open_page, demo, prefix):
    page = open_page(java_script_enabled=False).page
    page.goto(f"{prefix}{PUMP}tools/diary/")
    assert not page.locator("[data-diary-keep]").is_visible()
    assert page.locator("[data-diary-nokeep]").is_visible()  # "not sent or saved"
    pdf, text = printed(page)
    language = "es" if prefix else "en"
    for time in Procedure.objects.get(language=language).diary_times.all():
        assert re.sub(r"\s+", "", time.label) in text
    record_pages(f"trial diary, blank ({language})", len(pdf.pages))
    assert len(pdf.pages) == 1


# The decision aid ---------------------------------------------------------------------


def answer_decision(page):
    page.get_by_role("group", name="I want more pain relief than I have now.").get_by_label(
        "Matters a lot"
    ).check()
    page.get_by_role("group", name="I want to stay away from surgery and its risks.").get_by_label(
        "Matters a little"
    ).check()
    page.get_by_role("radio", name="Have a pump trial").check()
    for question, answer in [
        ("Do you feel SURE about the best choice for you?", "Yes"),
        ("Do you know the benefits and risks of each option?", "No"),
        ("Are you clear about which benefits and risks matter most to you?", "Yes"),
        ("Do you have enough support and advice to make a choice?", "No"),
    ]:
        page.get_by_role("group", name=question).get_by_label(answer, exact=True).check()


def test_the_sure_answers_say_what_can_help_and_the_summary_prints_on_one_page(open_page, demo):
    watched, sent = open_tool(open_page, "decision")
    page = watched.page
    loaded = len(sent.requests)
    result = page.locator("[data-sure-result]")
    assert result.inner_text() == ""
    answer_decision(page)
    assert [line for line in result.inner_text().splitlines() if line] == [
        "You answered no to at least one question. That is common. Here is what can help:",
        "Read steps 1 and 2 again, and write down your questions for your doctor.",
        "Bring someone you trust to your visit, or call us with your questions.",
    ]
    for question in ["Do you know the benefits", "Do you have enough support"]:
        page.get_by_role("group", name=re.compile(question)).get_by_label("Yes", exact=True).check()
    assert result.inner_text() == (
        "You answered yes to all 4. You seem ready to talk with your doctor about your choice."
    )
    pdf, text = printed(page)
    record_pages("decision aid summary, answered (en)", len(pdf.pages))
    assert len(pdf.pages) == 1
    assert "Whatmattersmosttoyou" in text and "Areyousureaboutyourchoice?" in text
    assert "Whatstudiesfound" not in text  # the options and numbers stay on screen
    assert sent.suspicious(since=loaded) == []
    assert_nothing_kept(page)
    assert not watched.errors


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
@pytest.mark.parametrize("prefix", ["", "/es"])
def test_axe_finds_nothing_on_the_answered_decision_aid(open_page, demo, viewport, prefix):
    watched, _ = open_tool(open_page, "decision", prefix, viewport)
    page = watched.page
    page.locator("#value-toward-1-a-lot").check()
    page.locator("#leaning-unsure").check()
    for key in ["sure", "understand", "risk", "encouragement"]:
        page.locator(f"#sure-{key}-no").check()
    assert page.locator("[data-sure-result] li").count() == 4
    count, report = axe_violations(page)
    assert count == 0, report
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


@pytest.mark.parametrize("prefix", ["", "/es"])
def test_without_javascript_the_decision_aid_works_and_prints_its_blank_summary(
    open_page, demo, prefix
):
    page = open_page(java_script_enabled=False).page
    page.goto(f"{prefix}{PUMP}tools/decision/")
    page.locator("#sure-sure-no").check()  # radio buttons need no script
    assert page.locator("#sure-sure-no").is_checked()
    assert page.locator("[data-sure-static]").is_visible()
    pdf, _ = printed(page)
    record_pages(f"decision aid summary, blank ({'es' if prefix else 'en'})", len(pdf.pages))
    assert len(pdf.pages) == 1


def test_using_every_tool_with_the_keyboard_alone(open_page, demo):
    """Tab to each field and answer it from the keyboard: the card, the diary, the
    decision aid."""
    watched, _ = open_tool(open_page, "card")
    page = watched.page
    page.locator("#card-name").focus()
    page.keyboard.type("Ana")
    page.keyboard.press("Tab")  # the pump list
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")  # the first medicine
    page.keyboard.press("Space")
    assert page.locator('[data-card-field="name"]').first.inner_text() == "Ana"
    assert page.locator("#card-medicine-1").is_checked()
    assert page.locator('[data-card-field="pump"]').first.inner_text() != ""

    page.goto(f"{PUMP}tools/diary/")
    page.locator("#diary-usual").focus()
    page.keyboard.type("6")
    page.keyboard.press("Tab")  # the first time's pain
    page.keyboard.type("3")
    assert diary_relief(page)[0] == "50% less: at least half"

    page.goto(f"{PUMP}tools/decision/")
    page.locator("#sure-sure-yes").focus()
    page.keyboard.press("ArrowRight")  # to "No" in the same group
    assert page.locator("#sure-sure-no").is_checked()
    assert not watched.errors
