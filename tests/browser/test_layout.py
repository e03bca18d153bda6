"""Phones, zoom and print: every page reads on a 320 px screen, at 200% and on paper."""

import io
import re
import unicodedata

import pytest
from pypdf import PdfReader

from education.models import ClinicSettings, Procedure

from .conftest import ARTIFACTS, DESKTOP, PHONE, PUMP, SMALL_PHONE
from .pages import PUBLIC_PAGES, SPANISH, reach

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# Every element that shows text, with its size and whether it sticks out sideways or
# is cut off by a parent that hides overflow. Visually hidden elements (1 px boxes,
# the honeypot) are not read by sight and are left out.
LAYOUT = """() => {
    const width = document.documentElement.clientWidth;
    const small = [], outside = [], clipped = [];
    for (const el of document.body.querySelectorAll("*")) {
        const style = getComputedStyle(el);
        const rect = el.getBoundingClientRect();
        if (rect.width <= 1 || rect.height <= 1 || style.visibility === "hidden") continue;
        const ownText = [...el.childNodes].some(
            n => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
        const label = el.tagName + "." + el.className + ": "
            + (el.textContent || "").trim().slice(0, 40);
        if (ownText && parseFloat(style.fontSize) < 16) small.push(label + " " + style.fontSize);
        if (rect.right > width + 1 || rect.left < -1) outside.push(label);
        const hides = ["hidden", "clip"].includes(style.overflowX);
        if (hides && el.scrollWidth > el.clientWidth + 1) clipped.push(label);
    }
    return {
        scrollWidth: document.documentElement.scrollWidth, width,
        small, outside, clipped,
    };
}"""


@pytest.fixture(autouse=True)
def _no_timing_trap(settings):
    settings.REQUEST_MIN_FILL_SECONDS = 0


@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_at_320_px_no_page_scrolls_sideways_and_text_is_at_least_16_px(open_page, demo, name):
    page = open_page(viewport=SMALL_PHONE).page
    reach(page, name)
    layout = page.evaluate(LAYOUT)
    assert layout["scrollWidth"] <= layout["width"], layout["outside"]
    assert layout["outside"] == []
    assert layout["small"] == []
    # Every phone number is a tap-to-call link, and none breaks across two lines.
    broken = page.evaluate(BROKEN_NUMBERS)
    assert broken == []


# Phone numbers drawn on more than one line: a tel: link's number (the link itself, or
# its "tel" part inside a button) that the browser split into several line boxes.
BROKEN_NUMBERS = """() => [...document.querySelectorAll('a[href^="tel:"]')]
    .map(link => link.querySelector(".tel") || link)
    .filter(el => el.getClientRects().length > 1)
    .map(el => el.textContent.trim())"""


@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_at_200_percent_zoom_nothing_is_cut_off(open_page, demo, name):
    # 200% zoom on a 1280 x 900 window leaves a 640 x 450 CSS-pixel viewport.
    page = open_page(viewport={"width": 640, "height": 450}, device_scale_factor=2).page
    reach(page, name)
    layout = page.evaluate(LAYOUT)
    assert layout["scrollWidth"] <= layout["width"], layout["outside"]
    assert layout["outside"] == []
    assert layout["clipped"] == []


def test_the_contents_links_move_to_their_sections(open_page, demo):
    page = open_page(viewport=PHONE).page
    part = f"{PUMP}is-it-right-for-me/"
    page.goto(part)
    links = page.locator("nav.contents a")
    targets = [
        href.lstrip("#")
        for href in links.evaluate_all("els => els.map(e => e.getAttribute('href'))")
    ]
    assert len(targets) >= 4
    for target in targets:
        page.goto(part)
        page.click(f'nav.contents a[href="#{target}"]')
        page.wait_for_function(f"location.hash === '#{target}'")
        top = page.evaluate(f"document.getElementById('{target}').getBoundingClientRect().top")
        assert -2 <= top < PHONE["height"] / 2, (target, top)


def test_the_comparison_table_and_risk_lists_read_on_a_small_phone(open_page, demo):
    page = open_page(viewport=SMALL_PHONE).page
    page.goto(f"{PUMP}trial-and-implant/")
    width = page.evaluate("document.documentElement.clientWidth")
    cells = page.locator("table.compare tbody td")
    assert cells.count() == 14
    for box in cells.evaluate_all("els => els.map(e => e.getBoundingClientRect().toJSON())"):
        assert box["left"] >= 0 and box["right"] <= width
        assert box["width"] >= width * 0.7  # one phase per line, not squeezed columns
    # Each stacked cell says which stage it describes.
    first = cells.first.evaluate("e => getComputedStyle(e, '::before').content")
    assert "The trial" in first
    page.goto(f"{PUMP}risks/")
    risks = page.locator(".risk")
    assert risks.count() == Procedure.objects.get(language="en").risks.count()
    for box in risks.evaluate_all("els => els.map(e => e.getBoundingClientRect().toJSON())"):
        assert box["right"] <= width


def printed_pages(page, path):
    page.goto(path)
    return PdfReader(io.BytesIO(page.pdf(format="Letter", print_background=False)))


def test_the_whole_guide_prints_clean(page, demo):
    pdf = printed_pages(page, f"{PUMP}all/")
    # NFKC turns the PDF's ligatures (the "fi" in "Benefits") back into letters.
    text = " ".join(p.extract_text() for p in pdf.pages)
    text = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text))
    procedure = Procedure.objects.get(language="en")

    def printed(words):
        return re.sub(r"\s+", " ", words) in text

    for section in procedure.sections.all():
        assert printed(section.heading)
        assert printed(section.body.split(".")[0])
    for risk in procedure.risks.all():
        assert printed(risk.name)
    assert printed(procedure.faqs.last().question)
    assert printed(procedure.doctor_questions.last().question)
    assert printed("Reviewed by: The clinic's medical director (demo placeholder), MD.")
    assert printed("Next review due:")
    assert printed(ClinicSettings.load().phone)
    for chrome in [
        "Skip to main content",
        "On this page",
        "In this guide",
        "Request a visit",
        "Talk to us",
    ]:
        assert not printed(chrome), chrome
    # Words are explained in the text, as on screen.
    assert re.search(r"catheter \( ?A thin, soft tube\. In a pain pump", text)
    record_pages("whole guide", len(pdf.pages))
    assert len(pdf.pages) <= 20


def test_the_take_home_handout_prints_on_one_or_two_pages(page, demo):
    pdf = printed_pages(page, f"{PUMP}handout/")
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in pdf.pages))
    for words in ["Key points", "When to get help", "Call 911 now", "Recovery after surgery"]:
        assert words in text, words
    assert "(555) 010-0199" in text and "(555) 010-0140" in text
    assert "Questions to ask your doctor" in text
    record_pages("handout", len(pdf.pages))
    assert len(pdf.pages) <= 2


@pytest.mark.parametrize("prefix", ["", "/es"])
def test_the_questions_sheet_prints_on_one_page_with_every_question(page, demo, prefix):
    pdf = printed_pages(page, f"{prefix}{PUMP}tools/questions/")
    # Without any spaces: a question may break over two lines of its column. NFKC: the
    # PDF's ligatures ("fi") back into letters.
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", pdf.pages[0].extract_text()))
    language = "es" if prefix else "en"
    questions = Procedure.objects.get(language=language).doctor_questions.all()
    assert questions.count() == 14
    for question in questions:
        assert re.sub(r"\s+", "", question.question) in text, question.question
    page_chrome = {
        "en": ["Skip to main content", "Request a visit", "use your browser's Print"],
        "es": ["Ir al contenido principal", "Pedir una cita", "opción Imprimir de su navegador"],
    }
    for chrome in page_chrome[language]:
        assert re.sub(r"\s+", "", chrome) not in text, chrome
    record_pages(f"questions sheet ({language})", len(pdf.pages))
    assert len(pdf.pages) == 1


# ISO/IEC 7810 ID-1, a bank card: 85.60 x 53.98 mm, in CSS pixels (96 to the inch).
ID1_PX = (85.60 / 25.4 * 96, 53.98 / 25.4 * 96)


@pytest.mark.parametrize("prefix", ["", "/es"])
def test_the_pump_card_prints_at_wallet_size_with_its_sheet_on_one_page(page, demo, prefix):
    pdf = printed_pages(page, f"{prefix}{PUMP}tools/card/")
    language = "es" if prefix else "en"
    record_pages(f"pump card and emergency sheet ({language})", len(pdf.pages))
    assert len(pdf.pages) == 1
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", pdf.pages[0].extract_text()))
    procedure = Procedure.objects.get(language=language)
    for pump in procedure.pump_models.all():
        assert re.sub(r"\s+", "", pump.mri_rule) in text, pump.name
    for medicine in procedure.medicines.exclude(emergency_note=""):
        assert re.sub(r"\s+", "", medicine.emergency_note) in text, medicine.name
    # Each side of the card, on paper, is exactly a bank card, and nothing spills out.
    page.emulate_media(media="print")
    sides = page.locator(".pump-card__side")
    assert sides.count() == 2
    for side in sides.evaluate_all(
        "els => els.map(e => ({w: e.getBoundingClientRect().width,"
        " h: e.getBoundingClientRect().height, overflow: e.scrollHeight > e.clientHeight}))"
    ):
        assert abs(side["w"] - ID1_PX[0]) < 1 and abs(side["h"] - ID1_PX[1]) < 1, side
        assert not side["overflow"], side


def test_the_print_button_prints_and_is_there_only_with_javascript(open_page, demo):
    for javascript in (True, False):
        watched = open_page(java_script_enabled=javascript)
        page = watched.page
        page.goto(f"{PUMP}tools/questions/")
        button = page.get_by_role("button", name="Print this page")
        if javascript:
            page.evaluate("window.print = () => { window.printed = true; }")
            button.click()
            assert page.evaluate("window.printed") is True
        else:
            assert button.count() == 0
            assert page.get_by_text("To print, use your browser's Print command.").is_visible()
        assert not watched.errors


def record_pages(name, count):
    """Printed page counts, for people (and the closing note) to read."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with (ARTIFACTS / "printed-pages.txt").open("a") as out:
        out.write(f"{name}: {count} pages\n")


# Loads the pictures a full-page screenshot would otherwise show blank (lazy ones below
# the fold are fetched only when scrolled to) and names any that did not load.
LOAD_PICTURES = """async () => {
    const images = [...document.images];
    for (const image of images) image.loading = "eager";
    await Promise.all(images.map(image => image.decode().catch(() => null)));
    return images.filter(image => !image.complete || image.naturalWidth === 0)
        .map(image => image.currentSrc || image.src);
}"""


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_screenshots_of_every_public_page(open_page, demo, viewport):
    """Pictures for people to look at, each with every picture on it loaded; the folder
    is printed at the end of the run."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name in PUBLIC_PAGES:
        page = open_page(viewport=viewport).page
        reach(page, name)
        assert page.evaluate(LOAD_PICTURES) == [], f"{name}: pictures that did not load"
        path = ARTIFACTS / f"{name}-{viewport['width']}x{viewport['height']}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 5_000


GUIDE_PAGES = [
    name
    for name in PUBLIC_PAGES
    if name.removeprefix(SPANISH) == "procedure" or name.removeprefix(SPANISH).startswith("part-")
]


@pytest.mark.parametrize("name", GUIDE_PAGES)
def test_help_is_on_the_first_phone_screen_of_every_page_of_the_guide(open_page, demo, name):
    page = open_page(viewport=PHONE).page
    reach(page, name)
    for selector in ['.help-strip a[href="tel:911"]', '.help-strip a[href="tel:5550100199"]']:
        box = page.locator(selector).bounding_box()
        assert box["y"] + box["height"] <= PHONE["height"], (selector, box)


def test_help_stays_on_the_first_phone_screen_of_a_guide_shown_in_english_to_a_spanish_reader(
    open_page, demo
):
    """The notice that the page is not in Spanish yet does not push help down."""
    Procedure.objects.filter(language="es").delete()
    page = open_page(viewport=PHONE).page
    page.goto("/es" + PUMP)
    assert page.locator(".language-fallback").is_visible()
    for selector in ['.help-strip a[href="tel:911"]', '.help-strip a[href="tel:5550100199"]']:
        box = page.locator(selector).bounding_box()
        assert box["y"] + box["height"] <= PHONE["height"], (selector, box)
