"""A procedure's guide in parts: addresses, the overview, the handout, the timeline,
and the editors' rules for parts."""

import html
import re

import pytest
from django.core.exceptions import ValidationError

from education.models import GuidePart, RecoveryRestriction

from .factories import change_url, draft_of, make_procedure

pytestmark = pytest.mark.django_db

PUMP = "/procedures/intrathecal-pain-pump/"


def words_of(page):
    main = page.split('<main id="main"')[1].split("</main>")[0]
    main = re.sub(r'<span class="term-definition".*?</span>', "", main, flags=re.S)
    main = re.sub(r'<aside class="(help-strip|cta)".*?</aside>', "", main, flags=re.S)
    main = re.sub(r'<nav class="guide-contents".*?</nav>', "", main, flags=re.S)
    return len(html.unescape(re.sub(r"<[^>]+>", " ", main)).split())


def test_no_part_of_the_demo_guide_is_longer_than_about_1500_words(client, demo):
    for url in [PUMP, *(part.get_absolute_url() for part in demo.parts.all())]:
        assert words_of(client.get(url).content.decode()) <= 1500, url


def test_an_unknown_part_is_not_found(client, demo):
    assert client.get(PUMP + "no-such-part/").status_code == 404


def test_the_handout_has_key_points_help_with_numbers_recovery_and_questions(client, demo):
    page = client.get(PUMP + "handout/").content.decode()
    for heading in ["Key points", "When to get help", "Recovery after surgery"]:
        assert f">{heading}</h2>" in page
    assert "Questions to ask your doctor" in page
    assert 'href="tel:5550100199"' in page and 'href="tel:5550100140"' in page
    assert "Call 911 now" in page
    assert "http://127.0.0.1:8000/procedures/intrathecal-pain-pump/" in page


def test_recovery_steps_read_as_a_timeline_by_when_they_start_and_end(demo):
    steps = list(demo.recovery_restrictions.all())
    keys = [(s.starts_day, s.ends_day if s.ends_day is not None else 10**6) for s in steps]
    assert keys == sorted(keys)
    assert steps[0].period == "On the day you go home"
    assert steps[-1].period.startswith("After you heal")


def test_a_recovery_step_cannot_end_before_it_starts(demo):
    step = demo.recovery_restrictions.first()
    step.starts_day, step.ends_day = 10, 5
    with pytest.raises(ValidationError, match="cannot come before"):
        step.full_clean()


def test_key_points_are_three_to_seven_lines(demo):
    demo.key_points = "One.\nTwo."
    with pytest.raises(ValidationError, match="3 to 7"):
        demo.full_clean()
    demo.key_points = "\n".join(f"Point {n}." for n in range(8))
    with pytest.raises(ValidationError, match="3 to 7"):
        demo.full_clean()
    demo.key_points = ""
    demo.full_clean()  # a draft may have none yet


def test_the_guide_keeps_its_own_addresses_for_the_whole_guide_and_the_handout(demo):
    for slug in ["all", "handout"]:
        with pytest.raises(ValidationError, match="used by the guide itself"):
            GuidePart(procedure=demo, title="X", slug=slug).full_clean()


def test_a_block_can_only_go_in_a_part_of_its_own_procedure(demo):
    other = GuidePart.objects.create(procedure=make_procedure(slug="other"), title="O", slug="o")
    step = demo.recovery_restrictions.first()
    step.part = other
    with pytest.raises(ValidationError, match="this procedure's guide"):
        step.full_clean()


def test_deleting_a_part_moves_its_blocks_to_the_overview_and_loses_none(client, demo):
    risks = demo.risks.count()
    demo.parts.get(slug="risks").delete()
    assert demo.risks.count() == risks
    page = client.get(PUMP).content.decode()
    assert 'id="risks"' in page


def test_the_admin_lets_editors_place_each_block_in_a_part(superuser_client, superuser, demo):
    draft = draft_of(demo, superuser)
    first_tab = superuser_client.get(change_url(draft)).content.decode()
    assert "guide parts (each has its own tab for its blocks)" in first_tab.lower()
    risks = draft.parts.get(slug="risks")
    page = superuser_client.get(change_url(draft, "risks"))
    assert 'name="risks-0-part"' in page.content.decode()
    formset = next(
        inline.formset
        for inline in page.context["inline_admin_formsets"]
        if inline.formset.prefix == "risks"
    )
    form = formset.forms[0]
    assert set(form.fields["part"].queryset) == set(draft.parts.all())
    assert form.initial["part"] == risks.pk
    assert formset.empty_form.fields["part"].initial == risks


def test_recovery_restriction_ordering_is_a_timeline_in_the_database(demo):
    RecoveryRestriction.objects.create(
        procedure=demo, period="Later", activity="Last", starts_day=100
    )
    assert list(demo.recovery_restrictions.all())[-1].activity == "Last"


def test_every_phone_number_on_the_guide_pages_is_a_tap_to_call_link(client, demo):
    urls = [PUMP, f"{PUMP}all/", f"{PUMP}handout/", "/", "/glossary/"]
    for url in urls:
        page = client.get(url).content.decode()
        text = re.sub(r'<a [^>]*href="tel:[^"]*"[^>]*>.*?</a>', "", page, flags=re.S)
        text = re.sub(r"<[^>]+>", " ", text)
        assert not re.search(r"\(555\) 010-01\d\d", text), url
