"""Link the first use of each glossary word on a page to its explanation."""

import re
from functools import cache

from markupsafe import Markup, escape


@cache
def _pattern(words):
    """A regex matching any of `words` (escaped, lowercase) as whole words."""
    alternatives = "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<!\w)({alternatives})(?!\w)", re.IGNORECASE)


class TermLinker:
    """Links each term once per page, in the order the page is rendered.

    The text is escaped first and searched in one pass, longest terms first, so a
    link is never placed inside another; only the links added here are HTML.
    A plain substring test picks the words a text may hold before any regex runs,
    and once every word is linked the text is only escaped (profiling showed the
    regex over every block cost several milliseconds a page). It uses Jinja2's own
    markupsafe, whose escaping is in C, not Django's escape(): the page calls it about
    90 times.
    """

    def __init__(self, terms):
        self.slugs = {}
        for term in terms:
            self.slugs.setdefault(str(escape(term.term)).lower(), term.slug)
        self.waiting = set(self.slugs)  # words not linked yet

    def _link(self, match):
        word = match[1].lower()
        if word not in self.waiting:
            return match[0]
        self.waiting.discard(word)
        # match[1] is already escaped text.
        return f'<a class="term" href="#term-{escape(self.slugs[word])}">{match[1]}</a>'

    def __call__(self, text):
        html = str(escape(text))
        if self.waiting:
            lowered = html.lower()
            if any(word in lowered for word in self.waiting):
                # All words present, linked or not, so "spinal fluid" still wins over
                # "fluid" inside it.
                present = frozenset(word for word in self.slugs if word in lowered)
                html = _pattern(present).sub(self._link, html)
        return Markup(html)
