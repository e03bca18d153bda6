"""How a patient gets to each page the browser tests look at, by filling forms for real."""

from tests.demo_guide import PARTS

from .conftest import PUMP

STATIC_PAGES = {
    "home": "/",
    "procedure-list": "/procedures/",
    "procedure": PUMP,
    **{f"part-{part}": f"{PUMP}{part}/" for part in PARTS},
    "guide-all": f"{PUMP}all/",
    "handout": f"{PUMP}handout/",
    "tool-decision": f"{PUMP}tools/decision/",
    "tool-questions": f"{PUMP}tools/questions/",
    "tool-diary": f"{PUMP}tools/diary/",
    "tool-card": f"{PUMP}tools/card/",
    "glossary": "/glossary/",
    "language-help": "/language-help/",
    "consultation-form": "/appointments/consultation/",
    "call-back-form": "/appointments/call-back/",
    "not-found": "/no-such-page/",
}

SAFETY_QUESTIONS = ["safety_pump_alarm", "safety_fever", "safety_breathing", "safety_withdrawal"]


def answer_safety(page, answer="no", **overrides):
    for name in SAFETY_QUESTIONS:
        value = overrides.get(name, answer)
        page.check(f'input[name="{name}"][value="{value}"]')


def fill_consultation(page, **safety):
    answer_safety(page, **safety)
    page.fill("#id_name", "Test Patient Browser")
    page.fill("#id_phone", "(202) 555-0142")
    page.fill("#id_email", "browser.test@example.com")
    page.check('input[name="contact_method"][value="phone"]')
    page.check('input[name="preferred_time"][value="morning"]')
    page.check('input[name="voicemail_ok"][value="yes"]')
    page.check('input[name="patient_type"][value="new"]')
    page.fill("#id_reason", "Back pain for two years.")
    page.check("#id_data_consent")


def fill_call_back(page, **safety):
    """A patient who has a pump asks for a call back (no voice message, please)."""
    page.check('input[name="patient_type"][value="has_pump"]')
    answer_safety(page, **safety)
    page.fill("#id_name", "Test Patient Browser")
    page.fill("#id_phone", "(202) 555-0143")
    page.check('input[name="preferred_time"][value="afternoon"]')
    page.check('input[name="voicemail_ok"][value="no"]')
    page.fill("#id_reason", "Questions about the pump.")


def send(page):
    page.click("#submit-id-send")
    page.wait_for_load_state()


# The Spanish version of a page: its name with this in front ("es-home"), its address
# with /es in front.
SPANISH = "es-"


def reach(page, name):
    """Open the named page the way a patient would; returns the page's path."""
    prefix = ""
    if name.startswith(SPANISH):
        name, prefix = name.removeprefix(SPANISH), "/es"
    if name in STATIC_PAGES:
        page.goto(prefix + STATIC_PAGES[name])
    elif name == "consultation-errors":
        page.goto(prefix + STATIC_PAGES["consultation-form"])
        send(page)
    elif name == "call-back-errors":
        page.goto(prefix + STATIC_PAGES["call-back-form"])
        send(page)
    elif name == "confirmation":
        page.goto(prefix + STATIC_PAGES["consultation-form"])
        fill_consultation(page)
        send(page)
    elif name == "call-now":
        page.goto(prefix + STATIC_PAGES["call-back-form"])
        fill_call_back(page, safety_pump_alarm="yes")
        send(page)
    elif name == "admin-login":
        page.goto("/admin/login/")
    else:
        raise ValueError(name)
    return page.url


ENGLISH_PAGES = [
    *STATIC_PAGES,
    "consultation-errors",
    "call-back-errors",
    "confirmation",
    "call-now",
]
PUBLIC_PAGES = [*ENGLISH_PAGES, *(SPANISH + name for name in ENGLISH_PAGES)]
ALL_PAGES = [*PUBLIC_PAGES, "admin-login"]
