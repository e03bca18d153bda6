"""The safety rules of the patient content: urgency levels, the facts a pump patient
must find, sourced frequencies, clinic numbers from the settings, and the fact-review
record that backs the demo page (education/demo/fact-review.md)."""

import html
import io
import re
import tomllib
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.urls import reverse

from education import phones
from education.models import (
    ClinicSettings,
    Procedure,
    Reference,
    Risk,
    Section,
    WarningSign,
)

from .factories import change_url, draft_of, make_procedure, procedure_change_data

pytestmark = pytest.mark.django_db

DEMO_DIR = Path(__file__).resolve().parents[2] / "education" / "demo"
DEMO = tomllib.loads((DEMO_DIR / "intrathecal_pump.toml").read_text(encoding="utf-8"))
PUMP = DEMO["procedures"][0]
REVIEW = (DEMO_DIR / "fact-review.md").read_text(encoding="utf-8")

EMERGENCY = WarningSign.Urgency.EMERGENCY
NOW = WarningSign.Urgency.NOW
TODAY = WarningSign.Urgency.TODAY
NEXT_VISIT = WarningSign.Urgency.NEXT_VISIT

# Every warning sign of the demo, at the level its danger calls for.
SIGN_LEVELS = {
    "Very sleepy and hard to wake up, or cannot be woken at all.": EMERGENCY,
    "Breathing is very slow or shallow, or has stopped.": EMERGENCY,
    "Lips or fingernails turn blue or gray.": EMERGENCY,
    "Has a seizure (fit).": EMERGENCY,
    "Fever with a stiff neck, a bad headache, or confusion.": EMERGENCY,
    "Sudden weakness or numbness in the legs, or new trouble walking.": EMERGENCY,
    "New loss of control of the bladder or bowels.": EMERGENCY,
    "On baclofen: fever with very stiff muscles, or confusion.": EMERGENCY,
    "Talks about ending their life or hurting themselves.": EMERGENCY,
    "SynchroMed II pump: a two-tone alarm.": NOW,
    "Any other pump alarm, or you are not sure which sound it was.": NOW,
    "You missed a refill, or your pump may be empty.": NOW,
    "Your pain or spasms come back all of a sudden.": NOW,
    "On baclofen: new itching without a rash, tingling, or spasms coming back.": NOW,
    (
        "On an opioid: several of these at once: sweating, yawning, runny nose, goose bumps, "
        "belly cramps or diarrhea."
    ): NOW,
    "You feel dizzy or much more sleepy after a refill or a dose change.": NOW,
    "You cannot pass urine at all.": NOW,
    (
        "On ziconotide: new confusion, memory trouble, very low mood, or seeing or hearing things."
    ): NOW,
    "SynchroMed II pump: a single-tone alarm.": TODAY,
    "You have a fever.": TODAY,
    "A cut is red, warm or swollen, or fluid leaks from it.": TODAY,
    "You have a bad headache that is worse when you sit up.": TODAY,
    "There is a new lump near your pump, or the pump has moved.": TODAY,
    "Your pain slowly comes back over days.": TODAY,
    "New numbness or tingling that spreads or gets worse over days.": TODAY,
    "Pain that gets worse even after a dose increase.": TODAY,
    "You are a bit constipated.": NEXT_VISIT,
    "You feel a little sick to your stomach.": NEXT_VISIT,
    "You have trouble sleeping.": NEXT_VISIT,
    "You have less interest in sex, or your periods change.": NEXT_VISIT,
}

# Words that mark a sign as needing more than "call us today", whoever writes it.
NEVER_BELOW = {
    EMERGENCY: ["wake", "breath", "blue", "seizure", "stiff neck", "bladder", "ending their life"],
    NOW: [
        "two-tone",
        "any other pump alarm",
        "missed a refill",
        "empty",
        "goose bumps",
        "without a rash",
        "all of a sudden",
        "cannot pass urine",
        "ziconotide",
        "baclofen",
    ],
}
LEVEL_ORDER = [EMERGENCY, NOW, TODAY, NEXT_VISIT]


def whole_guide(client, procedure):
    """The whole guide on one page (every part): what a patient can read in all."""
    return client.get(reverse("education:guide_all", args=[procedure.slug])).content.decode()


@pytest.fixture
def page(client, demo):
    return whole_guide(client, demo)


def help_boxes(page):
    """{urgency: the box's HTML} for the "when to get help" block."""
    found = re.findall(r'<div class="help-box help-box--(\w+)">(.*?)</ul>\s*<div', page, re.S)
    return dict(found)


def text_of(page):
    """The page's words as read, without the glossary definitions that open in place."""
    page = re.sub(r'<span class="term-definition".*?</span>', "", page, flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


# ------------------------------------------------------------------ urgency


def test_every_warning_sign_of_the_demo_is_at_its_level(demo):
    levels = {sign.sign: sign.urgency for sign in demo.warning_signs.all()}
    assert levels == SIGN_LEVELS


def test_no_sign_that_means_danger_sits_below_its_level(demo):
    for sign in demo.warning_signs.all():
        text = sign.sign.lower()
        for level, words in NEVER_BELOW.items():
            if any(word in text for word in words):
                assert LEVEL_ORDER.index(sign.urgency) <= LEVEL_ORDER.index(level), sign.sign


def test_the_page_shows_the_four_levels_most_urgent_first_with_who_to_call(page):
    order = re.findall(r'class="help-box help-box--(\w+)"', page)
    assert order == ["emergency", "now", "today", "next_visit"]
    box = page.split('class="help-box help-box--now"')[1].split('class="help-box ')[0]
    assert "Call us now, day or night" in box
    assert 'href="tel:5550100199"' in box  # the after-hours line first
    assert "nearest emergency room" in box
    assert "which medicine is in it" in box
    emergency = page.split('class="help-box help-box--emergency"')[1].split('class="help-box ')[0]
    assert 'href="tel:911"' in emergency


def test_overdose_signs_are_written_for_the_family_with_naloxone_beside_them(page, demo):
    boxes = help_boxes(page)
    emergency = text_of(boxes["emergency"])
    assert "If you, or the person with the pump, have any of these" in emergency
    assert "cannot be woken" in emergency
    assert "Give naloxone if you have it." in emergency
    for sign in demo.warning_signs.filter(urgency=EMERGENCY):
        assert not sign.sign.lower().startswith(("you ", "no one")), sign.sign


def test_a_sign_with_no_after_hours_line_still_says_who_to_call(client, demo):
    clinic = ClinicSettings.load()
    clinic.after_hours_phone = ""
    clinic.save()
    page = whole_guide(client, demo)
    box = page.split('class="help-box help-box--now"')[1].split('class="help-box ')[0]
    assert 'href="tel:5550100140"' in box
    assert "nearest emergency room" in box


# ------------------------------------------------------------------ the facts on the page


def test_mri_rules_name_the_pump_they_are_about(page):
    text = text_of(page)
    assert "We must check your pump after every MRI" in text
    assert "Prometra and Prometra II: the pump must be emptied before the MRI" in text
    assert "overdose that can kill" in text
    assert "we may need to check" not in text.lower()


def test_the_24_hour_breathing_risk_and_the_overnight_watch_are_on_the_page(page):
    text = text_of(page)
    assert "slow your breathing for up to 24 hours after a first dose" in text
    assert "a responsible adult must stay with you until the next day" in text
    assert "watch you closely for at least 24 hours" in text
    assert "home after a few hours" not in text.lower()


def test_the_trial_success_rule_says_less_pain_not_half_as_bad(page):
    text = text_of(page)
    assert "at least 50% less pain" in text
    assert "half as bad" not in text


def test_naloxone_and_withdrawal_facts_are_on_the_page(page):
    text = text_of(page)
    assert "Ask us if you should keep naloxone at home" in text
    assert "wears off sooner than the morphine in the pump" in text
    assert "Baclofen withdrawal can kill" in text
    assert "keep the baclofen pills your doctor prescribes at home" in text
    assert "Never miss a refill" in text


def test_how_to_find_your_pump_model_is_on_the_page(page):
    text = text_of(page)
    assert "look at your pump ID card. It names the maker and the model" in text


def test_model_specific_rules_always_name_the_model():
    """Battery years, alarm tones, MRI emptying: never presented as true of every pump."""
    model_words = ("SynchroMed", "Prometra")
    markers = ("two-tone", "single tone", "single-tone", "7 years", "90 days", "emptied")
    texts = [t["body"] for t in PUMP["living_topics"]]
    texts += [s["body"] for s in PUMP["sections"]] + [f["answer"] for f in PUMP["faqs"]]
    for text in texts:
        for paragraph in text.split("\n\n"):
            if any(marker in paragraph for marker in markers):
                assert any(model in paragraph for model in model_words), paragraph


def test_no_sales_tone_and_the_dose_ratio_is_attributed():
    everything = DEMO_DIR.joinpath("intrathecal_pump.toml").read_text(encoding="utf-8").lower()
    for phrase in ["not locked in", "right where your body senses pain", "up to 10"]:
        assert phrase not in everything
    ratio = next(s["body"] for s in PUMP["sections"] if "1/300" in s["body"])
    sentence = next(line for line in ratio.split(". ") if "1/300" in line)
    assert "rule of thumb" in sentence


def test_the_demo_reviewer_is_named_as_a_demo_role(page):
    assert "The clinic's medical director (demo placeholder)" in text_of(page)


# ------------------------------------------------------------------ risks in numbers


def test_every_risk_gives_a_sourced_frequency_with_its_denominator_or_says_there_is_none(
    page, demo
):
    for risk in demo.risks.all():
        if risk.frequency:
            assert risk.reference is not None, risk.name
            assert Risk.DENOMINATOR.search(risk.frequency), risk.frequency
            assert f'href="#ref-{risk.reference.pk}"' in page
        assert "rarely" not in risk.description.lower(), risk.name
    with_number = demo.risks.exclude(frequency="").count()
    assert with_number >= 14
    assert page.count("we found no good study that gives a number") == (
        demo.risks.count() - with_number
    )


def test_a_frequency_without_a_denominator_is_refused(demo):
    risk = demo.risks.exclude(frequency="").first()
    risk.frequency = "Rarely."
    with pytest.raises(ValidationError) as error:
        risk.full_clean()
    assert "what it is out of" in str(error.value)


def test_a_frequency_without_a_source_is_refused_by_the_database(demo):
    risk = demo.risks.exclude(frequency="").first()
    risk.reference = None
    with pytest.raises(IntegrityError), transaction.atomic():
        risk.save()


def test_a_reference_that_backs_a_frequency_cannot_be_deleted_alone_in_the_admin(
    client, superuser, demo
):
    client.force_login(superuser)
    draft = draft_of(demo, superuser)
    risk = draft.risks.exclude(frequency="").first()
    part = risk.reference.part.slug
    data = procedure_change_data(client, draft, part)
    row = list(draft.references.filter(part__slug=part)).index(risk.reference)
    data[f"references-{row}-DELETE"] = "on"
    response = client.post(change_url(draft, part), data)
    assert response.status_code == 200  # the form comes back with the reason
    assert Reference.objects.filter(pk=risk.reference.pk).exists()
    draft.delete()  # the whole page, references and all, still goes
    assert not Reference.objects.filter(pk=risk.reference.pk).exists()


def test_every_reference_has_a_title_publisher_year_and_link(demo):
    for reference in demo.references.all():
        assert reference.title and reference.publisher and reference.year, reference.title
        assert reference.url.startswith(("http://", "https://")), reference.title


# ------------------------------------------------------------------ clinic numbers


def all_text_of(procedure):
    """Every text field of the procedure and of every block on it."""
    records = [procedure, *procedure.sections.all(), *procedure.conditions.all()]
    records += [*procedure.medicines.all(), *procedure.phases.all(), *procedure.risks.all()]
    records += [*procedure.recovery_restrictions.all(), *procedure.living_topics.all()]
    records += [*procedure.warning_signs.all(), *procedure.faqs.all()]
    records += [*procedure.doctor_questions.all(), *procedure.references.all()]
    for phase in procedure.phases.all():
        records += list(phase.steps.all())
    for record in records:
        for field in record._meta.concrete_fields:
            value = getattr(record, field.attname)
            if isinstance(value, str) and field.get_internal_type() != "URLField":
                yield record, value


def test_no_content_block_of_the_demo_holds_a_typed_phone_number(demo):
    checked = 0
    for record, text in all_text_of(demo):
        assert phones.typed_numbers(text) == [], (record, text)
        record.full_clean()
        checked += 1
    assert checked > 300


def test_a_typed_phone_number_in_any_block_is_refused_with_a_clear_message(demo):
    section = demo.sections.first()
    section.body = "Call us at (555) 010-0199 any time."
    with pytest.raises(ValidationError) as error:
        section.full_clean()
    assert "[after-hours phone]" in str(error.value)
    sign = demo.warning_signs.first()
    sign.what_to_do = "Then call 555-010-0140."
    with pytest.raises(ValidationError):
        sign.full_clean()
    step = demo.phases.first().steps.first()
    step.detail = "Call [phone] first."
    with pytest.raises(ValidationError):
        step.full_clean()


def test_numbers_in_the_text_come_from_the_clinic_settings_as_tap_to_call_links(client, demo):
    page = whole_guide(client, demo)
    assert "[after-hours phone]" not in page and "[clinic phone]" not in page
    assert '<a class="tel" href="tel:5550100199">(555) 010-0199</a>' in page
    assert '<a class="tel" href="tel:911">911</a>' in page
    clinic = ClinicSettings.load()
    clinic.after_hours_phone = "(555) 010-0777"
    clinic.save()
    page = whole_guide(client, demo)
    assert '<a class="tel" href="tel:5550100777">(555) 010-0777</a>' in page
    assert "010-0199" not in page


def test_phone_tokens_link_only_real_tokens_and_escape_the_rest():
    clinic = ClinicSettings(phone="(555) 010-0140", after_hours_phone="")
    drawn = str(phones.with_phone_links("<b> [after-hours phone] or 9110 or 911.", clinic))
    assert drawn.startswith("&lt;b&gt; ")
    assert '<a class="tel" href="tel:5550100140">(555) 010-0140</a>' in drawn  # falls back
    assert "9110" in drawn and 'href="tel:9110"' not in drawn
    assert '<a class="tel" href="tel:911">911</a>.' in drawn


# ------------------------------------------------------------------ the fact-review record


def review_rows():
    rows = []
    for line in REVIEW.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 5 and cells[0] not in ("Block", "---"):
            rows.append(cells)
    return rows


def test_the_fact_review_covers_every_risk_warning_sign_and_word_of_the_demo():
    blocks = {row[0] for row in review_rows()}
    for risk in PUMP["risks"]:
        assert f"risk: {risk['name']}" in blocks
    for sign in PUMP["warning_signs"]:
        assert f"sign: {sign['sign']}" in blocks
    for term in DEMO["glossary"]:
        assert f"glossary: {term['term']}" in blocks
    for kind, key in [("section", "heading"), ("living", "title"), ("faq", "question")]:
        for block in PUMP[{"section": "sections", "living": "living_topics", "faq": "faqs"}[kind]]:
            assert f"{kind}: {block[key]}" in blocks


def test_every_source_in_the_fact_review_is_a_reference_on_the_page():
    keys = {reference["key"] for reference in PUMP["references"]}
    used = set()
    for block, _claim, source, says, review in review_rows():
        assert review.split(" ")[0] in {"kept", "changed", "added", "removed"}, block
        assert says, block
        if not review.startswith("removed") and source != "—":
            cited = {key.strip() for key in source.split(";")}
            assert cited <= keys, (block, cited - keys)
            used |= cited
    assert used == keys  # and every reference on the page backs some claim


def test_each_risk_frequency_cites_the_source_its_review_row_names():
    rows = {row[0]: row for row in review_rows()}
    for risk in PUMP["risks"]:
        if risk["frequency"]:
            assert risk["reference"] in rows[f"risk: {risk['name']}"][2], risk["name"]


# ------------------------------------------------------------------ demo updates


def test_replace_reloads_the_corrected_demo_page_and_leaves_others_alone(demo):
    other = make_procedure(slug="stimulator")
    demo.warning_signs.update(urgency=TODAY)  # an old page with the wrong levels
    out = io.StringIO()
    call_command("load_demo_content", "--replace", "intrathecal-pain-pump", stdout=out)
    assert "replaced intrathecal-pain-pump" in out.getvalue()
    pump = Procedure.objects.get(slug="intrathecal-pain-pump", language="en")
    assert {sign.sign: sign.urgency for sign in pump.warning_signs.all()} == SIGN_LEVELS
    assert Procedure.objects.filter(pk=other.pk).exists()
    assert ClinicSettings.objects.count() == 1


def test_replace_refuses_a_page_the_demo_does_not_have(demo):
    with pytest.raises(CommandError, match="No demo page"):
        call_command("load_demo_content", "--replace", "no-such-page", stdout=io.StringIO())
    assert Procedure.objects.filter(pk=demo.pk).exists()


def test_a_section_may_mention_911_and_numbers_that_are_not_phones(demo):
    section = Section(
        procedure=demo,
        heading="Numbers",
        anchor="numbers",
        body="Call 911. About 3 in 100 people; 6 of 208; pages 1582-1594; 2,000 m.",
    )
    section.full_clean()


def test_the_admin_refuses_a_typed_number_and_says_what_to_write_instead(client, superuser, demo):
    client.force_login(superuser)
    draft = draft_of(demo, superuser)
    part = draft.sections.first().part.slug if draft.sections.first().part else None
    data = procedure_change_data(client, draft, part)
    data["sections-0-body"] = "After hours, call (555) 010-0199."
    response = client.post(change_url(draft, part), data)
    assert response.status_code == 200
    assert "write [clinic phone] or [after-hours phone] instead" in response.content.decode()
    assert "010-0199" not in draft.sections.first().body
