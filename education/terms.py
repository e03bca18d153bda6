"""Link the first use of each glossary word on a page to its explanation."""

import re

from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe


class TermLinker:
    """Links each term once per page, in the order the page is rendered.

    The text is escaped first and searched in one pass, longest terms first, so a
    link is never placed inside another; only the links added here are HTML.
    """

    do_not_call_in_templates = True

    def __init__(self, terms):
        self.slugs = {}
        for term in sorted(terms, key=lambda term: len(term.term), reverse=True):
            self.slugs.setdefault(str(escape(term.term)).lower(), term.slug)
        words = "|".join(re.escape(word) for word in self.slugs)
        self.pattern = re.compile(rf"(?<!\w)({words})(?!\w)", re.IGNORECASE) if words else None
        self.linked = set()

    def _link(self, match):
        slug = self.slugs[match[1].lower()]
        if slug in self.linked:
            return match[0]
        self.linked.add(slug)
        return format_html('<a class="term" href="#term-{}">{}</a>', slug, mark_safe(match[1]))

    def __call__(self, text):
        html = str(escape(text))
        if self.pattern:
            html = self.pattern.sub(self._link, html)
        return mark_safe(html)
