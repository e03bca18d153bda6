"""Reading grade of procedure content (US grade level, Flesch-Kincaid, via textstat).

One place for the rule so the admin, the tests and the demo content agree on what
"grade 8 or below" means.
"""

import textstat

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
    """The procedure's running text, one string per block, in page order."""
    blocks = [procedure.summary, procedure.key_points]
    blocks += [section.body for section in procedure.sections.all()]
    for phase in procedure.phases.all():
        blocks.append(phase.intro)
        blocks += [f"{as_sentence(step.title)} {step.detail}" for step in phase.steps.all()]
    blocks += [
        f"{as_sentence(risk.name)} {risk.description} {risk.frequency}"
        for risk in procedure.risks.all()
    ]
    blocks += [topic.body for topic in procedure.living_topics.all()]
    blocks += [f"{as_sentence(faq.question)} {faq.answer}" for faq in procedure.faqs.all()]
    return [block for block in blocks if block.strip()]


def safety_text(procedure):
    """The "when to get help" boxes, read as a list of short sentences."""
    return " ".join(
        f"{as_sentence(sign.sign)} {as_sentence(sign.what_to_do)}".strip()
        for sign in procedure.warning_signs.all()
    )


def procedure_grade(procedure):
    return grade(" ".join(prose_blocks(procedure)))
