"""Explain the first use of each glossary word on a page, in place.

The word becomes a button that opens its definition right there (the HTML popover
attribute: no JavaScript, the reader keeps their place; a browser without popovers
shows the definition inline instead). Printed, the definition follows the word.
"""

import re
from functools import cache

from django.utils.translation import gettext as _
from markupsafe import Markup, escape


@cache
def _pattern(words):
    """A regex matching any of `words` (escaped, lowercase) as whole words."""
    alternatives = "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<!\w)({alternatives})(?!\w)", re.IGNORECASE)


class TermLinker:
    """Explains each term once per page, in the order the page is rendered.

    The text is escaped first and searched in one pass, longest terms first, so an
    explanation is never placed inside another; only the buttons added here are HTML.
    A plain substring test picks the words a text may hold before any regex runs,
    and once every word is linked the text is only escaped (profiling showed the
    regex over every block cost several milliseconds a page). It uses Jinja2's own
    markupsafe, whose escaping is in C, not Django's escape(): the page calls it about
    90 times.
    """

    def __init__(self, terms):
        self.terms = {}
        for term in terms:
            self.terms.setdefault(str(escape(term.term)).lower(), term)
        self.waiting = set(self.terms)  # words not explained yet

    def _link(self, match):
        word = match[1].lower()
        if word not in self.waiting:
            return match[0]
        self.waiting.discard(word)
        term = self.terms[word]
        # match[1] is already escaped text.
        return str(
            Markup(
                '<button type="button" class="term" popovertarget="def-{slug}">{word}</button>'
                '<span class="term-definition" id="def-{slug}" popover>'
                "<strong>{name}:</strong> {definition} "
                '<button type="button" class="term-close" popovertarget="def-{slug}" '
                'popovertargetaction="hide">{close}</button></span>'
            ).format(
                slug=term.slug,
                word=Markup(match[1]),
                name=term.term,
                definition=term.definition,
                close=_("Close"),
            )
        )

    def __call__(self, text):
        html = str(escape(text))
        if self.waiting:
            lowered = html.lower()
            if any(word in lowered for word in self.waiting):
                # All words present, linked or not, so "spinal fluid" still wins over
                # "fluid" inside it.
                present = frozenset(word for word in self.terms if word in lowered)
                html = _pattern(present).sub(self._link, html)
        return Markup(html)
