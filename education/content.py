"""Everything a procedure page shows, fetched in a fixed, small number of queries.

Django's prefetch_related costs one query per kind of block (15 for a procedure page),
and profiling showed where the page's time went: about 7 ms of the ORM building
queries and objects for 0.3 ms of SQL. So the page loads its content here instead:

- the nine kinds of block that hold only text (sections, conditions, medicines,
  recovery, everyday life, warning signs, questions and answers, questions for the
  doctor, references) come back in ONE `UNION ALL` query, padded to the same columns;
- phases, steps and risks come in one query each, glossary words and related pages in
  one each: seven queries whatever the amount of content;
- the SQL is built once per process (the UNION from the models' own metadata, the
  other queries by compiling ordinary querysets once, education/queries.py: compiling
  them anew took 2 ms a page for 0.3 ms of SQL), and rows become ordinary model
  instances, so templates see the same objects the admin edits.

The admin and the reading-grade check keep using the ORM; only the page uses this.
"""

from dataclasses import dataclass, field
from functools import cache

from django.db import connection, models

from . import queries
from .models import (
    FAQ,
    Condition,
    DoctorQuestion,
    GlossaryTerm,
    LivingTopic,
    Medicine,
    Phase,
    PhaseStep,
    Procedure,
    RecoveryRestriction,
    Reference,
    Risk,
    Section,
    WarningSign,
)

# The text-only blocks, by the name the page uses for them.
TEXT_BLOCKS = {
    "sections": Section,
    "conditions": Condition,
    "medicines": Medicine,
    "recovery_restrictions": RecoveryRestriction,
    "living_topics": LivingTopic,
    "warning_signs": WarningSign,
    "faqs": FAQ,
    "doctor_questions": DoctorQuestion,
    "references": Reference,
}


@cache
def text_fields(model):
    """The model's own text columns, in declaration order."""
    return [
        f for f in model._meta.concrete_fields if isinstance(f, models.CharField | models.TextField)
    ]


@cache
def _columns(model):
    """The row the UNION gives for `model`, by field: id, order, procedure, its texts."""
    return ["id", "order", "procedure_id", *(f.attname for f in text_fields(model))]


@cache
def _text_blocks_sql():
    quote = connection.ops.quote_name
    width = max(len(text_fields(model)) for model in TEXT_BLOCKS.values())
    selects = []
    for kind, model in TEXT_BLOCKS.items():
        # Rows are read back in the model's own field order (see _text_blocks).
        if [f.attname for f in model._meta.concrete_fields] != _columns(model):
            raise ValueError(f"{model.__name__}: a text block holds only order and texts")
        columns = [quote(f.column) for f in text_fields(model)]
        columns += ["NULL"] * (width - len(columns))
        selects.append(
            f"SELECT '{kind}' AS kind, {quote('id')}, {quote('order')}, {quote('procedure_id')}, "
            f"{', '.join(columns)} FROM {quote(model._meta.db_table)} "
            f"WHERE {quote('procedure_id')} = %s"
        )
    return " UNION ALL ".join(selects) + " ORDER BY 1, 3, 2"


def _text_blocks(procedure):
    rows = {kind: [] for kind in TEXT_BLOCKS}
    for kind, *row in queries.rows(_text_blocks_sql(), [procedure.pk] * len(TEXT_BLOCKS)):
        # The row is padded with NULLs to the widest kind: keep this kind's own columns.
        rows[kind].append(row[: len(_columns(TEXT_BLOCKS[kind]))])
    return {
        kind: queries.instances(TEXT_BLOCKS[kind], _columns(TEXT_BLOCKS[kind]), kind_rows)
        for kind, kind_rows in rows.items()
    }


# The page's other queries, as ordinary querysets for one procedure (compiled once:
# education/queries.py).
def phases_of(pk):
    return Phase.objects.filter(procedure=pk)


def steps_of(pk):
    return PhaseStep.objects.filter(phase__procedure=pk)


def risks_of(pk):
    return Risk.objects.filter(procedure=pk)


def glossary_terms_of(pk):
    return GlossaryTerm.objects.filter(procedures=pk)


def related_to(pk):
    return Procedure.objects.published().filter(related=pk)


@dataclass
class ProcedureContent:
    """A procedure's blocks as plain lists, in page order within each kind."""

    sections: list = field(default_factory=list)
    conditions: list = field(default_factory=list)
    medicines: list = field(default_factory=list)
    phases: list = field(default_factory=list)
    risks: list = field(default_factory=list)
    recovery_restrictions: list = field(default_factory=list)
    living_topics: list = field(default_factory=list)
    warning_signs: list = field(default_factory=list)
    faqs: list = field(default_factory=list)
    doctor_questions: list = field(default_factory=list)
    references: list = field(default_factory=list)
    glossary_terms: list = field(default_factory=list)
    related: list = field(default_factory=list)

    @classmethod
    def load(cls, procedure):
        content = cls(**_text_blocks(procedure))
        content.phases = queries.fetch(phases_of, procedure.pk)
        steps = queries.fetch(steps_of, procedure.pk)
        for phase in content.phases:
            phase.step_list = [step for step in steps if step.phase_id == phase.pk]
        references = {reference.pk: reference for reference in content.references}
        content.risks = queries.fetch(risks_of, procedure.pk)
        for risk in content.risks:
            # One of this page's own references (or none): no query per risk.
            risk.reference = references.get(risk.reference_id)
        content.glossary_terms = queries.fetch(glossary_terms_of, procedure.pk)
        content.related = queries.fetch(related_to, procedure.pk)
        return content

    def risks_by_group(self):
        """[(group, [risks])] in the fixed group order."""
        return _by_choice(self.risks, "group", Risk.Group)

    def warning_signs_by_urgency(self):
        """[(urgency, [signs])], most urgent first."""
        return _by_choice(self.warning_signs, "urgency", WarningSign.Urgency)


def _by_choice(items, attribute, choices):
    groups = [(choice, [i for i in items if getattr(i, attribute) == choice]) for choice in choices]
    return [(choice, members) for choice, members in groups if members]
