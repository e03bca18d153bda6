"""The procedure page's own loader returns exactly what the ORM sees, in page order."""

import pytest
from django.forms.models import model_to_dict

from education.content import TEXT_BLOCKS, ProcedureContent

from .factories import fill_procedure, make_procedure

pytestmark = pytest.mark.django_db


def as_dicts(objects):
    return [model_to_dict(obj) for obj in objects]


@pytest.mark.parametrize("count", [0, 1, 7])
def test_the_loader_returns_every_block_exactly_as_stored(count):
    procedure = fill_procedure(make_procedure(slug=f"p{count}"), count)
    fill_procedure(make_procedure(slug=f"other{count}"), 2)  # another page's blocks stay out
    content = ProcedureContent.load(procedure)
    for name in TEXT_BLOCKS:
        assert as_dicts(getattr(content, name)) == as_dicts(getattr(procedure, name).all()), name
    assert as_dicts(content.phases) == as_dicts(procedure.phases.all())
    for phase in content.phases:
        assert as_dicts(phase.step_list) == as_dicts(phase.steps.all())
    assert as_dicts(content.risks) == as_dicts(procedure.risks.all())
    for risk in content.risks:
        assert risk.reference == procedure.risks.get(pk=risk.pk).reference
    assert content.glossary_terms == list(procedure.glossary_terms.all())


def test_the_loader_keeps_the_editors_order_and_the_demo_content(demo):
    content = ProcedureContent.load(demo)
    assert [s.heading for s in content.sections] == [s.heading for s in demo.sections.all()]
    assert [f.question for f in content.faqs] == [f.question for f in demo.faqs.all()]
    assert [r.title for r in content.references] == [r.title for r in demo.references.all()]


def test_only_published_related_pages_are_listed(demo):
    from education.models import Procedure

    draft = make_procedure(slug="draft-related", status=Procedure.Status.DRAFT)
    live = make_procedure(slug="live-related")
    demo.related.add(draft, live)
    assert ProcedureContent.load(demo).related == [live]
