"""How easy procedure content is to read, measured in the page's own language.

One place for the rule so the admin, the publish gate (workflow.py), the tests and the
demo content agree on it. Body text is measured block by block; the "when to get help"
signs box by box (one box per urgency), each read as a list of short sentences, with a
stricter target.

- English: the US school grade (Flesch-Kincaid): 8 or lower, boxes 6 or lower.
- Spanish: Flesch-Kincaid means nothing for Spanish. Its own formulas, both higher for
  easier text: Fernández-Huerta 70 or more and INFLESZ (Szigriszt-Pazos) 65 or more
  ("fairly easy"), boxes 80 and 75.

textstat computes both (0.7.8, which needs no download); Spanish syllables are counted
by a textstat of its own set to Spanish, so the English one is never switched.
"""

from typing import NamedTuple

import textstat
from django.utils.translation import gettext as _
from textstat.textstat import textstatistics

TARGET_GRADE = 8.0
SAFETY_TARGET_GRADE = 6.0

# Spanish: (Fernández-Huerta, INFLESZ) at least.
SPANISH_TARGET = (70.0, 65.0)
SPANISH_SAFETY_TARGET = (80.0, 75.0)
spanish = textstatistics()
spanish.set_lang("es")


class Reading(NamedTuple):
    """How one text reads against its target, in words for the admin and the gate."""

    score: str  # "grade 9.1", "Fernández-Huerta 62.0, INFLESZ 58.0"
    target: str  # "8 or lower"
    too_hard: bool
    hardness: float  # to sort: higher is harder


def spanish_scores(text):
    """(Fernández-Huerta, INFLESZ) of a Spanish text; (100, 100) for an empty one."""
    text = text.strip()
    if not text:
        return (100.0, 100.0)
    return (round(spanish.fernandez_huerta(text), 1), round(spanish.szigriszt_pazos(text), 1))


def measure(text, language, safety=False):
    """How `text` in `language` reads against the body or the safety-box target."""
    if language == "es":
        huerta, inflesz = spanish_scores(text)
        least_huerta, least_inflesz = SPANISH_SAFETY_TARGET if safety else SPANISH_TARGET
        return Reading(
            _("Fernández-Huerta %(huerta)s, INFLESZ %(inflesz)s")
            % {"huerta": huerta, "inflesz": inflesz},
            _("Fernández-Huerta %(huerta)s and INFLESZ %(inflesz)s or higher")
            % {"huerta": f"{least_huerta:g}", "inflesz": f"{least_inflesz:g}"},
            huerta < least_huerta or inflesz < least_inflesz,
            -min(huerta - least_huerta, inflesz - least_inflesz),
        )
    limit = SAFETY_TARGET_GRADE if safety else TARGET_GRADE
    value = grade(text)
    return Reading(
        _("reading grade %(grade)s") % {"grade": value},
        _("grade %(limit)s or lower") % {"limit": f"{limit:g}"},
        value > limit,
        value - limit,
    )


def grade(text):
    """Flesch-Kincaid grade of a text; 0 for an empty one. The formula goes below 0 for
    a few very short words ("A test." is grade -3.0): shown as 0, the lowest grade."""
    text = text.strip()
    return max(0.0, round(textstat.flesch_kincaid_grade(text), 1)) if text else 0.0


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
    # The decision aid's (education/tools.py), read like the guide.
    blocks += [
        (
            _("Decision aid option “%(name)s”") % {"name": option.name},
            f"{option.involves} {option.good} {option.hard}",
        )
        for option in procedure.decision_options.all()
    ]
    blocks += [
        (
            _("Decision aid chance “%(name)s”") % {"name": chance.outcome},
            f"{as_sentence(chance.outcome)} {as_sentence(chance.studied)} {chance.certainty}",
        )
        for chance in procedure.decision_chances.all()
    ]
    reasons = " ".join(as_sentence(value.statement) for value in procedure.decision_values.all())
    blocks.append((_("Decision aid reasons"), reasons))
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


def card_texts(procedure):
    """[(name, text)]: what the pump card and emergency sheet print (education/tools.py),
    held to the safety boxes' target: read in an emergency."""
    texts = [
        (_("Medicine “%(name)s”, for the pump card") % {"name": m.name}, m.emergency_note)
        for m in procedure.medicines.all()
    ]
    texts += [
        (_("Pump model “%(name)s”") % {"name": str(pump)}, f"{pump.mri_rule} {pump.alarm}")
        for pump in procedure.pump_models.all()
    ]
    return [(name, text) for name, text in texts if text.strip()]


def hard_blocks(procedure):
    """[(name, Reading)] for each block that misses its target in the page's language:
    the "when to get help" boxes and the pump card's texts first, then the body text,
    hardest first within each."""
    language = procedure.language
    safety = [
        (name, measure(text, language, True))
        for name, text in [*safety_boxes(procedure), *card_texts(procedure)]
    ]
    body = [(name, measure(text, language)) for name, text in prose_blocks(procedure)]
    return [*hardest_first(safety), *hardest_first(body)]


def hardest_first(blocks):
    too_hard = [block for block in blocks if block[1].too_hard]
    return sorted(too_hard, key=lambda block: -block[1].hardness)


def page_reading(procedure):
    """How the page's body text reads as a whole."""
    text = " ".join(text for _name, text in prose_blocks(procedure))
    return measure(text, procedure.language)


def safety_reading(procedure):
    """How the hardest "when to get help" box reads."""
    boxes = [measure(text, procedure.language, True) for _name, text in safety_boxes(procedure)]
    return max(boxes, key=lambda reading: reading.hardness, default=measure("", "en", True))
