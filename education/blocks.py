"""The kinds of block a procedure page is made of: the one list everything else follows.

Each kind names its records (the Procedure's related name), where it sits on the page
(its anchor and heading), the template that draws it (templates/education/blocks/) and
how editors see it in the admin. From this list come the page's contents links and
body (`page_blocks`), the anchors editors may not use, the queries that load a page
(`Procedure.objects.with_content()`), the admin's inlines and their order, and the
demo loader. A new kind of block needs its model, an entry here and one template.

This module imports no models (models.py reads the anchors from it); a kind finds its
model through the Procedure's related name.
"""

from dataclasses import dataclass

from django.apps import apps
from django.utils.translation import gettext_lazy as _

from .tools import TOOLS, has_tool_name


@dataclass(frozen=True)
class BlockKind:
    related_name: str
    # The block's own anchor and heading. None for sections: each section is a block
    # of its own, with the heading and anchor its editor gave it.
    anchor: str | None
    heading: str | None
    # The template that draws it in the guide; None for a tool's block.
    template: str | None
    # An inline in the procedure's admin page: stacked for long texts (its fields laid
    # out in education/admin.py), a table row per block otherwise. Not for the glossary
    # words, which are picked on the procedure itself.
    inline: bool = True
    stacked: bool = False
    # Records shown in the order of this choices field's values (risk groups,
    # urgency), otherwise in the editor's order.
    group_by: str | None = None
    # Loaded with the records: a foreign key each one shows, records hanging off each.
    select_related: tuple = ()
    prefetch_related: tuple = ()
    # A block made for one of the guide's tools (education/tools.py, its slug): shown on
    # that tool's page only, never in the guide; edited on the page's first tab.
    tool: str | None = None

    @property
    def model(self):
        procedure = apps.get_model("education", "Procedure")
        return procedure._meta.get_field(self.related_name).related_model


BLOCKS = [
    BlockKind("sections", None, None, "section", stacked=True),
    BlockKind(
        "conditions",
        "conditions",
        _("Conditions it may help"),
        "conditions",
    ),
    BlockKind(
        "medicines",
        "medicines",
        _("Medicines used"),
        "medicines",
    ),
    BlockKind(
        "pump_models",
        None,
        _("Pump models"),
        None,
        select_related=("reference",),
        tool="card",
    ),
    BlockKind("diary_times", None, _("Trial diary times"), None, tool="diary"),
    BlockKind(
        "decision_options", None, _("Decision aid: options"), None, tool="decision", stacked=True
    ),
    BlockKind(
        "decision_chances",
        None,
        _("Decision aid: chances"),
        None,
        group_by="kind",
        select_related=("reference",),
        tool="decision",
        stacked=True,
    ),
    BlockKind(
        "decision_values",
        None,
        _("Decision aid: what matters to you"),
        None,
        group_by="leans",
        tool="decision",
    ),
    BlockKind(
        "phases",
        "stages",
        _("The stages of treatment"),
        "stages",
        stacked=True,
        prefetch_related=("steps",),
    ),
    BlockKind(
        "risks",
        "risks",
        _("Risks and side effects"),
        "risks",
        group_by="group",
        select_related=("reference",),
    ),
    BlockKind(
        "recovery_restrictions",
        "recovery",
        _("Recovery"),
        "recovery",
    ),
    BlockKind(
        "living_topics",
        "everyday-life",
        _("Everyday life afterwards"),
        "everyday-life",
        stacked=True,
    ),
    BlockKind(
        "warning_signs",
        "when-to-get-help",
        _("When to get help"),
        "when-to-get-help",
        group_by="urgency",
    ),
    BlockKind(
        "faqs",
        "questions-and-answers",
        _("Questions and answers"),
        "questions-and-answers",
        stacked=True,
    ),
    BlockKind(
        "doctor_questions",
        "ask-your-doctor",
        _("Questions to ask your doctor"),
        "ask-your-doctor",
    ),
    BlockKind("references", "sources", _("Sources"), "sources"),
]

# The blocks the guide's pages show (the others are its tools').
GUIDE_BLOCKS = [kind for kind in BLOCKS if kind.tool is None]

# Anchors the page uses itself: a section or phase that took one would break a link.
PAGE_ANCHORS = {"top", "main", "contents", *(kind.anchor for kind in BLOCKS if kind.anchor)}
RESERVED_PREFIXES = ("term-", "ref-", "cta-")


def by_choice(records, field):
    """[(value, label, [records])] in the order of the field's choices, none empty."""
    groups = [
        (value, label, [record for record in records if getattr(record, field.attname) == value])
        for value, label in field.choices
    ]
    return [group for group in groups if group[2]]


class Guide:
    """A procedure's guide: its parts, and which part shows what.

    Built from a procedure loaded with `Procedure.objects.with_content()`. `part` is
    the page being drawn: a GuidePart, None for the overview, or ALL for the whole
    guide on one page (to print).
    """

    ALL = "all"
    HANDOUT = "handout"
    # A tool's page (education/tools.py): it shows no block of the guide's own, so its
    # links to them go to their parts.
    TOOL = "tool"

    def __init__(self, procedure, part=None, address=None):
        """`address`: the overview's address, which every other page of the guide
        extends (education/urls.py): the procedure's own on the site, the admin's
        preview address for a draft."""
        self.procedure = procedure
        self.part = part
        self.parts = list(procedure.parts.all())
        self.by_id = {p.pk: p for p in self.parts}
        # Each page's address, worked out once for the page's many links.
        self.address = address or procedure.get_absolute_url()
        self.urls = {p.pk: f"{self.address}{p.slug}/" for p in self.parts}
        self.urls[None] = self.address
        self.whole_url = f"{self.address}{self.ALL}/"
        self.handout_url = f"{self.address}{self.HANDOUT}/"
        by_slug = {p.slug: p for p in self.parts}
        # Where the warning signs are, for the "Get help now" strip's link.
        self.help_part = by_slug.get(getattr(procedure, "help_part_slug", None))
        # The tools the guide offers (education/tools.py), each with its address.
        self.tools = [
            (tool, f"{self.address}tools/{tool.slug}/")
            for tool in TOOLS
            if getattr(procedure, has_tool_name(tool), False)
        ]

    def tool_url(self, slug):
        """The address of one of the guide's tools; None when it does not offer it."""
        return next((url for tool, url in self.tools if tool.slug == slug), None)

    def shows(self, record):
        if self.part == self.ALL:
            return True
        if self.part == self.TOOL:
            return False
        return record.part_id == (self.part.pk if self.part else None)

    def url(self, part_id):
        """The address of a part (None: the overview)."""
        return self.urls.get(part_id, self.urls[None])

    def href(self, record, anchor):
        """A link to `#anchor` where `record` is shown: on this page, or on its part."""
        if self.shows(record):
            return f"#{anchor}"
        return f"{self.url(record.part_id)}#{anchor}"

    def neighbours(self):
        """(previous, next) pages of the guide around this part: (title, url) or None."""
        if self.part in (self.ALL, self.TOOL):
            return None, None
        pages = [(self.procedure.title, self.urls[None])]
        pages += [(p.title, self.urls[p.pk]) for p in self.parts]
        here = 0 if self.part is None else self.parts.index(self.part) + 1
        return (
            pages[here - 1] if here > 0 else None,
            pages[here + 1] if here + 1 < len(pages) else None,
        )

    def blocks(self):
        """The page's blocks in reading order, without empty ones.

        One list feeds both the page's contents links and its body, so they always
        agree. Each block is drawn by education/blocks/<template>.html with `items`
        (or `section`).
        """
        blocks = []
        for kind in GUIDE_BLOCKS:
            records = [r for r in getattr(self.procedure, kind.related_name).all() if self.shows(r)]
            if kind.anchor is None:
                blocks += [
                    {
                        "anchor": r.anchor,
                        "heading": r.heading,
                        "template": kind.template,
                        "section": r,
                    }
                    for r in records
                ]
            elif records:
                items = records
                if kind.group_by:
                    items = by_choice(records, kind.model._meta.get_field(kind.group_by))
                blocks.append(
                    {
                        "anchor": kind.anchor,
                        "heading": kind.heading,
                        "template": kind.template,
                        "items": items,
                    }
                )
        return blocks

    def tool_blocks(self, slug):
        """The blocks made for one of the guide's tools, by related name: the records,
        or [(value, label, records)] for a kind grouped by a choice (`group_by`)."""
        blocks = {}
        for kind in BLOCKS:
            if kind.tool != slug:
                continue
            records = list(getattr(self.procedure, kind.related_name).all())
            if kind.group_by:
                records = by_choice(records, kind.model._meta.get_field(kind.group_by))
            blocks[kind.related_name] = records
        return blocks

    def blocks_by_part(self):
        """For the whole guide on one page: [(part, blocks)], the overview's first (part
        None). An anchor used by an earlier part gets the part's address added, so
        every id on the page stays unique."""
        pages, used = [], set()
        for part in [None, *self.parts]:
            blocks = Guide(self.procedure, part, self.address).blocks()
            for block in blocks:
                if block["anchor"] in used:
                    block["anchor"] = f"{block['anchor']}-{part.slug}"
                used.add(block["anchor"])
            if blocks:
                pages.append((part, blocks))
        return pages


def page_blocks(procedure, part=None):
    return Guide(procedure, part).blocks()
