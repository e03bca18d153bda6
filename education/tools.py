"""The patient tools of a procedure's guide: pages to use at home and to print.

Each tool is a page of the guide at <guide>/tools/<slug>/ (education/urls.py), drawn
by templates/education/tools/<slug>.html from the guide's blocks (education/blocks.py),
so editors write its content in the admin, in each language, through the same review
as the rest of the guide. A guide offers a tool only when it has records of the block
the tool is made of (`needs`).

Nothing a patient types or chooses in a tool leaves the browser: the pages have no
form that submits, and what a tool works out (a summary to print) is done by its
script, from our own static files, as an enhancement. Without JavaScript each tool is
a blank sheet to print and fill in by hand.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Tool:
    slug: str
    title: str
    summary: str
    # The block (a Procedure related name) the tool is made of: no records, no tool.
    needs: str

    @property
    def template(self):
        return f"education/tools/{self.slug}.html"


TOOLS = [
    Tool(
        "decision",
        _("Is a trial right for me?"),
        _("Your options side by side, what matters most to you, and a summary to print."),
        "decision_options",
    ),
    Tool(
        "questions",
        _("Questions to ask your doctor"),
        _("A list to print, with space to write the answers."),
        "doctor_questions",
    ),
    Tool(
        "diary",
        _("Trial diary"),
        _("Write down your pain during the trial. It works out how much it has eased."),
        "diary_times",
    ),
    Tool(
        "card",
        _("Pump card and emergency sheet"),
        _("A wallet card, and a sheet for emergency staff and your family, to print."),
        "pump_models",
    ),
]

BY_SLUG = {tool.slug: tool for tool in TOOLS}


def has_tool_name(tool):
    """The annotation on a procedure that says whether its guide offers `tool`
    (Procedure.objects.with_content)."""
    return f"has_tool_{tool.slug}"
