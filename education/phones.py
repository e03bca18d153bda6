"""The clinic's phone numbers inside editors' text.

A number typed into a content block goes stale the day the clinic changes it, and a
patient in trouble dials the old one. So content never holds a clinic number: editors
type a token ("[clinic phone]", "[after-hours phone]") and the page shows the number
saved in ClinicSettings, as a tap-to-call link. "911" in text becomes a link too.

`typed_numbers()` is the rule the models' clean() and the demo-content tests share;
`with_phone_links()` is what the public templates use to draw text.
"""

import re

from markupsafe import Markup, escape

# Token -> the ClinicSettings field it stands for.
TOKENS = {
    "[clinic phone]": "phone",
    "[after-hours phone]": "after_hours_phone",
}

# A token, or 911 standing on its own (not inside a longer number).
_LINKED = re.compile(
    "|".join(re.escape(token) for token in TOKENS) + r"|(?<![\w-])911(?![\w-])",
)

# A US-style phone number as people type it: 555-010-0140, (555) 010-0140,
# 555.010.0140, +1 555 010 0140, or a 7-digit 010-0140.
_TYPED = re.compile(
    r"(?<![\w-])(?:\+?1[\s.-])?(?:\(\d{3}\)\s?|\d{3}[\s.-])?\d{3}[\s.-]\d{4}(?![\w-])"
)

# Something that looks like a phone token but is not one of ours ("[phone]").
_LOOKS_LIKE_TOKEN = re.compile(r"\[[^\]\n]{0,40}phone[^\]\n]{0,40}\]", re.IGNORECASE)


def typed_numbers(text):
    """Phone numbers typed into `text`, and tokens misspelled: both are mistakes."""
    mistakes = _TYPED.findall(text)
    mistakes += [t for t in _LOOKS_LIKE_TOKEN.findall(text) if t not in TOKENS]
    return mistakes


def tel_href(phone):
    """A phone number as written on the page, as the digits a tel: link needs."""
    phone = str(phone)
    return ("+" if phone.strip().startswith("+") else "") + "".join(c for c in phone if c.isdigit())


def tel_link(number):
    """A tap-to-call link that never breaks across lines (class "tel" in site.css)."""
    return Markup('<a class="tel" href="tel:{}">{}</a>').format(tel_href(number), number)


def clinic_number(clinic, token):
    """The number a token stands for; the main number where no after-hours one is saved."""
    return getattr(clinic, TOKENS[token], "") or getattr(clinic, "phone", "")


def with_phone_links(text, clinic, draw=escape):
    """`text` as HTML: its plain parts drawn by `draw` (escape, or a glossary linker),
    its tokens and 911 as tap-to-call links to the clinic's current numbers."""
    html = Markup()
    start = 0
    for match in _LINKED.finditer(text):
        html += draw(text[start : match.start()])
        found = match[0]
        number = found if found == "911" else clinic_number(clinic, found)
        html += tel_link(number) if number else escape(found)
        start = match.end()
    return html + draw(text[start:])
