"""A patient who cannot use a mouse can find the form, fill it, send it and see the result."""

import pytest

from appointments.models import Request

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# What the keyboard user types at each stop, by field name. Radios: the first option
# is reached by Tab; ArrowDown moves to (and selects) the next one.
TEXT = {
    "name": "Test Patient Keyboard",
    "phone": "(202) 555-0144",
    "email": "keyboard.test@example.com",
    "reason": "Back pain for two years.",
}
RADIO_ARROWS = {  # how many ArrowDown presses from the first option
    "safety_pump_alarm": 1,  # No
    "safety_fever": 1,
    "safety_breathing": 1,
    "safety_withdrawal": 1,
    "contact_method": 0,  # Phone call
    "preferred_time": 0,  # Morning
    "voicemail_ok": 0,  # Yes
    "patient_type": 0,  # Yes, I have a pain pump
}
CHECK = {"data_consent"}

FOCUS_STATE = """() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    return {
        tag: el.tagName.toLowerCase(),
        type: el.type || "",
        name: el.name || "",
        id: el.id || "",
        cls: el.className || "",
        text: (el.innerText || el.value || "").trim().slice(0, 60),
        checked: !!el.checked,
        visible: (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2)
                 || style.boxShadow !== "none",
    };
}"""


@pytest.fixture(autouse=True)
def _no_timing_trap(settings):
    settings.REQUEST_MIN_FILL_SECONDS = 0


def focused(page):
    return page.evaluate(FOCUS_STATE)


def tab(page):
    page.keyboard.press("Tab")
    state = focused(page)
    assert state["visible"], f"focus is not visible on {state}"
    return state


def tab_to(page, predicate, limit=40):
    for _ in range(limit):
        state = tab(page)
        if predicate(state):
            return state
    raise AssertionError("never reached the element with the keyboard")


def test_a_keyboard_user_goes_from_the_skip_link_to_a_sent_consultation_request(page, demo):
    page.goto("/")
    first = tab(page)
    assert "skip-link" in first["cls"]
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    tab_to(page, lambda s: s["tag"] == "a" and s["text"] == "Request a consultation")
    page.keyboard.press("Enter")
    page.wait_for_url("**/appointments/consultation/**")

    done_radios = set()
    for _ in range(80):
        state = tab(page)
        name = state["name"]
        if name in TEXT:
            page.keyboard.type(TEXT[name])
        elif state["type"] == "radio" and name not in done_radios:
            for _ in range(RADIO_ARROWS[name]):
                page.keyboard.press("ArrowDown")
            if RADIO_ARROWS[name] == 0:
                page.keyboard.press("Space")
            done_radios.add(name)
        elif name in CHECK:
            page.keyboard.press("Space")
        elif state["type"] == "submit":
            page.keyboard.press("Enter")
            break
    else:
        raise AssertionError("never reached the send button")

    page.wait_for_url("**/appointments/thanks/**")
    assert page.locator("h1").inner_text() == "We have your request"
    assert done_radios == set(RADIO_ARROWS)
    saved = Request.objects.get(name="Test Patient Keyboard")
    assert not saved.urgent
    assert saved.reference in page.locator(".reference").inner_text()


def test_after_a_failed_send_focus_lands_on_the_error_summary(page, demo):
    page.goto("/appointments/consultation/")
    tab_to(page, lambda s: s["type"] == "submit", limit=80)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_function("document.activeElement.id !== ''")
    assert page.evaluate("document.activeElement.id") == "error-summary"
    # The first link in the summary takes the keyboard user to the field.
    tab(page)
    page.keyboard.press("Enter")
    target = page.evaluate("location.hash").lstrip("#")
    assert target
    assert page.locator(f"#{target}").is_visible()


def test_a_glossary_word_opens_its_meaning_in_place_from_the_keyboard(page, demo):
    page.goto("/procedures/intrathecal-pain-pump/how-it-works/")
    word = page.locator('button.term[popovertarget="def-catheter"]')
    word.focus()
    assert focused(page)["visible"]
    page.keyboard.press("Enter")
    meaning = page.locator("#def-catheter")
    assert meaning.evaluate("el => el.matches(':popover-open')")
    assert "A thin, soft tube." in meaning.inner_text()
    page.keyboard.press("Escape")
    assert not meaning.evaluate("el => el.matches(':popover-open')")
    # The reader is where they were: no jump to another page or the end of this one.
    assert page.url.endswith("/how-it-works/")
