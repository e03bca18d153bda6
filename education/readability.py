"""Reading grade of procedure content (US grade level, Flesch-Kincaid, via textstat).

One place for the rule so the admin, the publish gate (workflow.py), the tests and the
demo content agree on what "grade 8 or below" means. Body text is graded block by
block; the "when to get help" signs box by box (one box per urgency), each read as a
list of short sentences.
"""

import textstat
from django.utils.translation import gettext as _

TARGET_GRADE = 8.0
SAFETY_TARGET_GRADE = 6.0


def grade(text):
    """Flesch-Kincaid grade of a text; 0 for an empty one."""
    text = text.strip()
    return round(textstat.flesch_kincaid_grade(text), 1) if text else 0.0


def as_sentence(text):
    """Short list items ("Slow breathing") read as sentences, not one run-on."""
    text = text.strip()
    return text if not text or text[-1] in ".?!" else text + "."


def prose_blocks(procedure):
    """[(name, text)]: the procedure's running text, one block each, in page order."""
    blocks = [(_("Summary"), procedure.summary), (_("Key points"), procedure.key_points)]
    blocks += [
        (_("Section “%(name)s”") % {"name": section.heading}, section.body)
        for section in procedure.sections.all()
    ]
    for phase in procedure.phases.all():
        blocks.append((_("Stage “%(name)s”") % {"name": phase.name}, phase.intro))
        blocks += [
            (
                _("Stage “%(name)s”, step “%(step)s”") % {"name": phase.name, "step": step.title},
                f"{as_sentence(step.title)} {step.detail}",
            )
            for step in phase.steps.all()
        ]
    blocks += [
        (
            _("Risk “%(name)s”") % {"name": risk.name},
            f"{as_sentence(risk.name)} {risk.description} {risk.frequency}",
        )
        for risk in procedure.risks.all()
    ]
    blocks += [
        (_("Everyday-life topic “%(name)s”") % {"name": topic.title}, topic.body)
        for topic in procedure.living_topics.all()
    ]
    blocks += [
        (
            _("Question “%(name)s”") % {"name": faq.question},
            f"{as_sentence(faq.question)} {faq.answer}",
        )
        for faq in procedure.faqs.all()
    ]
    return [(name, text) for name, text in blocks if text.strip()]


def safety_boxes(procedure):
    """[(name, text)]: each "when to get help" box (one per urgency, in the page's
    order), its signs read as a list of short sentences."""
    signs = list(procedure.warning_signs.all())
    boxes = []
    for value, label in procedure.warning_signs.model.Urgency.choices:
        text = " ".join(
            f"{as_sentence(sign.sign)} {as_sentence(sign.what_to_do)}".strip()
            for sign in signs
            if sign.urgency == value
        )
        if text:
            boxes.append((_("“%(box)s” box") % {"box": label}, text))
    return boxes


def hard_blocks(procedure):
    """[(name, grade, limit)] for each block above its limit: body text above grade 8,
    a "when to get help" box above grade 6. Hardest first within each."""
    body = [(name, grade(text), TARGET_GRADE) for name, text in prose_blocks(procedure)]
    safety = [(name, grade(text), SAFETY_TARGET_GRADE) for name, text in safety_boxes(procedure)]
    too_hard = [block for block in body + safety if block[1] > block[2]]
    return sorted(too_hard, key=lambda block: (block[2], -block[1]))


def procedure_grade(procedure):
    return grade(" ".join(text for _name, text in prose_blocks(procedure)))


def safety_grade(procedure):
    """The hardest "when to get help" box's grade."""
    return max((grade(text) for _name, text in safety_boxes(procedure)), default=0.0)
