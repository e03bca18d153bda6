"""Small factories for education content."""

import datetime

from education.blocks import GUIDE_BLOCKS
from education.models import (
    FAQ,
    Condition,
    DecisionChance,
    DecisionOption,
    DecisionValue,
    DiaryTime,
    DoctorQuestion,
    GlossaryTerm,
    GuidePart,
    LivingTopic,
    Medicine,
    Phase,
    PhaseStep,
    Procedure,
    PumpModel,
    RecoveryRestriction,
    Reference,
    Risk,
    Section,
    WarningSign,
)


def make_procedure(slug="test-pump", status=Procedure.Status.PUBLISHED, **fields):
    defaults = {
        "title": "Test pump",
        "summary": "A small pump that gives medicine.",
        "reviewer_name": "Dr Example",
        "reviewer_credentials": "MD",
        "last_reviewed": datetime.date(2026, 1, 1),
        "next_review_due": datetime.date(2027, 1, 1),
    }
    return Procedure.objects.create(slug=slug, status=status, **(defaults | fields))


def fill_procedure(procedure, count):
    """Give the procedure `count` records of every kind of child content, and a guide
    of three parts: the records go to the parts in turn (some stay on the overview)."""
    parts = [
        GuidePart.objects.create(procedure=procedure, order=n, title=f"Part {n}", slug=f"p{n}")
        for n in range(3)
    ]
    for n in range(count):
        reference = Reference.objects.create(procedure=procedure, order=n, title=f"Source {n}")
        Section.objects.create(
            procedure=procedure, order=n, heading=f"Part {n}", anchor=f"part-{n}", body="Text."
        )
        Condition.objects.create(procedure=procedure, order=n, name=f"Condition {n}")
        Medicine.objects.create(
            procedure=procedure,
            order=n,
            name=f"Medicine {n}",
            purpose="For pain.",
            approval=Medicine.Approval.APPROVED,
        )
        phase = Phase.objects.create(
            procedure=procedure,
            order=n,
            name=f"Stage {n}",
            anchor=f"stage-{n}",
            purpose="p",
            anesthesia="a",
            incisions="i",
            duration="d",
            afterwards="h",
            next_step="n",
            reversible="r",
        )
        PhaseStep.objects.create(phase=phase, order=n, title=f"Step {n}")
        Risk.objects.create(
            procedure=procedure,
            order=n,
            group=list(Risk.Group)[n % 4],
            name=f"Risk {n}",
            frequency="about 1 in 100",
            reference=reference,
        )
        RecoveryRestriction.objects.create(
            procedure=procedure, order=n, period=f"{n} weeks", activity=f"No lifting {n}"
        )
        LivingTopic.objects.create(procedure=procedure, order=n, title=f"Topic {n}", body="Text.")
        WarningSign.objects.create(
            procedure=procedure,
            order=n,
            urgency=list(WarningSign.Urgency)[n % len(WarningSign.Urgency)],
            sign=f"Sign {n}",
        )
        FAQ.objects.create(procedure=procedure, order=n, question=f"Question {n}?", answer="Yes.")
        DoctorQuestion.objects.create(procedure=procedure, order=n, question=f"Ask {n}?")
        PumpModel.objects.create(
            procedure=procedure,
            order=n,
            maker="Maker",
            name=f"Pump {n}",
            mri_rule="Call us first.",
            reference=reference,
        )
        DiaryTime.objects.create(procedure=procedure, order=n, label=f"{n} hours after")
        DecisionOption.objects.create(
            procedure=procedure,
            order=n,
            name=f"Option {n}",
            involves="You have a test.",
            good="It may help.",
            hard="It may hurt.",
        )
        DecisionChance.objects.create(
            procedure=procedure,
            order=n,
            kind=list(DecisionChance.Kind)[n % 2],
            outcome=f"Felt better {n}",
            studied="100 people, at 6 months",
            first_label="With it",
            first_count=10 * n,
            second_label="Without it" if n % 2 else "",
            second_count=n if n % 2 else None,
            reference=reference,
        )
        DecisionValue.objects.create(
            procedure=procedure,
            order=n,
            leans=list(DecisionValue.Leans)[n % 2],
            statement=f"Reason {n}.",
        )
        term = GlossaryTerm.objects.create(
            term=f"{procedure.slug} word {n}",
            slug=f"{procedure.slug}-word-{n}",
            definition="A word.",
        )
        procedure.glossary_terms.add(term)
    # Every third record on each part, the rest on the overview (a tool's blocks are in
    # no part).
    for kind in GUIDE_BLOCKS:
        records = list(kind.model.objects.filter(procedure=procedure))
        for n, record in enumerate(records):
            record.part = parts[n % 3] if n % 4 else None
            record.save(update_fields=["part"])
    return procedure


def change_url(procedure, part=None):
    """A draft's admin page: its first tab, or the tab of the part with this address."""
    from django.urls import reverse

    url = reverse("admin:education_procedure_change", args=[procedure.pk])
    return f"{url}?part={part}" if part else url


def draft_of(procedure, user):
    """The page's draft, as "Edit this page" makes it."""
    from education import workflow

    return workflow.start_draft(procedure, user)


def procedure_change_data(client, procedure, part=None):
    """A draft's admin change form (one tab) as the browser would post it unchanged:
    the main form's values and every inline formset (management form and rows)."""
    page = client.get(change_url(procedure, part))
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "hero_image"}
    data["glossary_terms"] = [term.pk for term in procedure.glossary_terms.all()]
    data["related"] = [page.pk for page in procedure.related.all()]
    for inline in page.context["inline_admin_formsets"]:
        fields = [*inline.formset.management_form]
        fields += [field for row in inline.formset.forms for field in row]
        data.update({f.html_name: f.value() for f in fields if f.value() is not None})
    return data
