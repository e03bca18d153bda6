"""Drafts and clinical sign-off (education/workflow.py and its admin pages): nothing
reaches patients until a clinical reviewer approves it."""

import datetime

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from accounts import roles
from education import versions, workflow
from education.models import (
    DecisionChance,
    DecisionOption,
    DecisionValue,
    Medicine,
    Phase,
    Procedure,
    PumpModel,
    Reference,
    Revision,
    Risk,
    Section,
    WarningSign,
)

from .factories import change_url, draft_of, fill_procedure, make_procedure, procedure_change_data

pytestmark = pytest.mark.django_db

PUMP = "/procedures/intrathecal-pain-pump/"


def admin_url(action, *args):
    return reverse(f"admin:education_procedure_{action}", args=args)


def signed_in(client_class, user):
    client = client_class()
    client.force_login(user)
    return client


def edit_risk(client, draft, words):
    """An editor changes the first risk's description on the risks tab."""
    data = procedure_change_data(client, draft, "risks")
    data["risks-0-description"] = words
    response = client.post(change_url(draft, "risks"), data)
    assert response.status_code == 302, response.context and response.context.get("errors")


def approve_in_admin(client, procedure, note="We made the risks clearer.", **extra):
    page = client.get(admin_url("review", procedure.pk))
    assert page.status_code == 200
    seen = page.context["approve_form"].initial["seen"]
    data = {
        "approve": "1",
        "note": note,
        "next_review_due": (timezone.localdate() + datetime.timedelta(days=365)).isoformat(),
        "seen": seen,
    } | extra
    return client.post(admin_url("review", procedure.pk), data)


# ----------------------------------------------------------------- the whole journey


def test_an_edit_reaches_patients_only_after_a_reviewer_approves_it(client, editor, reviewer, demo):
    risks_url = f"{PUMP}risks/"
    before = client.get(risks_url).content.decode()  # cached for patients now
    editor_client = signed_in(type(client), editor)
    reviewer_client = signed_in(type(client), reviewer)

    # The editor opens the live page: read-only, with "Edit this page".
    live_page = editor_client.get(change_url(demo)).content.decode()
    assert "Edit this page" in live_page
    assert 'name="risks-TOTAL_FORMS"' not in live_page
    response = editor_client.post(admin_url("start_draft", demo.pk))
    draft = Procedure.objects.get(draft_of=demo)
    assert response["Location"] == change_url(draft)

    edit_risk(editor_client, draft, "Fresh wording from the editor.")
    assert client.get(risks_url).content.decode() == before  # patients: unchanged
    assert "Fresh wording from the editor." not in client.get(f"{PUMP}all/").content.decode()

    # The preview shows the draft as it will look; the changes page names the block.
    preview = editor_client.get(admin_url("preview_part", draft.pk, "risks")).content.decode()
    assert "Fresh wording from the editor." in preview
    assert "Preview of a draft" in preview
    changes = editor_client.get(admin_url("changes", draft.pk)).content.decode()
    assert "Risks" in changes and "<ins>" in changes and "Fresh wording" in changes

    editor_client.post(admin_url("submit", draft.pk))
    draft.refresh_from_db()
    assert draft.review_state == Procedure.ReviewState.SUBMITTED

    review = reviewer_client.get(admin_url("review", draft.pk)).content.decode()
    assert "Fresh wording from the editor." in review
    assert "It cannot be approved yet" not in review
    response = approve_in_admin(reviewer_client, draft)
    assert response.status_code == 302
    assert response["Location"] == change_url(demo)

    # Patients see it at once (the cache emptied), with what changed and who approved.
    after = client.get(risks_url).content.decode()
    assert "Fresh wording from the editor." in after
    assert "We made the risks clearer." in after
    assert "Rita Reviewer, MD" in after
    assert not Procedure.objects.filter(draft_of=demo).exists()  # the draft went live
    demo.refresh_from_db()
    assert demo.last_reviewed == timezone.localdate()
    assert demo.revisions.count() == 2  # the demo's first version, and this one
    revision = demo.revisions.first()
    assert (revision.number, revision.approved_by, revision.submitted_by) == (2, reviewer, editor)
    assert revision.note == "We made the risks clearer."
    history = [entry.get_change_message() for entry in LogEntry.objects.filter(object_id=demo.pk)]
    assert any("Approved version 2" in message for message in history)


def test_the_page_keeps_its_address_and_id_and_requests_keep_pointing_at_it(editor, reviewer, demo):
    draft = draft_of(demo, editor)
    Section.objects.filter(procedure=draft).update(heading="Renamed")
    workflow.submit(draft, editor)
    workflow.approve(draft, reviewer, note="Headings renamed.")
    assert Procedure.objects.pages().get(language="en").pk == demo.pk
    assert set(demo.sections.values_list("heading", flat=True)) == {"Renamed"}
    # Blocks keep their identity from version to version.
    first, second = demo.revisions.order_by("number")
    uids = {str(uid) for uid in demo.sections.values_list("uid", flat=True)}
    assert uids == {section["uid"] for section in first.content["sections"]}
    assert uids == {section["uid"] for section in second.content["sections"]}


def test_a_draft_copies_every_block_with_its_links(editor, demo):
    draft = draft_of(demo, editor)
    assert versions.snapshot(draft) == versions.snapshot(demo)
    risk = draft.risks.exclude(frequency="").first()
    assert risk.reference.procedure == draft
    assert risk.part.procedure == draft
    assert draft.faqs.exclude(answered_in=None).first().answered_in.procedure == draft
    assert draft.phases.first().steps.count() == demo.phases.first().steps.count()
    # Asking again opens the same draft.
    assert draft_of(demo, editor) == draft


def test_deleting_a_block_of_a_live_page_is_a_change_like_any_other(client, editor, reviewer, demo):
    editor_client = signed_in(type(client), editor)
    draft = draft_of(demo, editor)
    question = draft.doctor_questions.first()
    part = question.part.slug
    data = procedure_change_data(editor_client, draft, part)
    data["doctor_questions-0-DELETE"] = "on"
    assert editor_client.post(change_url(draft, part), data).status_code == 302
    assert not draft.doctor_questions.filter(pk=question.pk).exists()
    assert question.question in client.get(f"{PUMP}{part}/").content.decode()  # still live

    changes = editor_client.get(admin_url("changes", draft.pk)).content.decode()
    assert "Removed:" in changes
    workflow.submit(draft, editor)
    workflow.approve(draft, reviewer, note="One question fewer.")
    assert question.question not in client.get(f"{PUMP}{part}/").content.decode()


# --------------------------------------------------------------------- who may approve


def test_editors_cannot_approve_and_nobody_approves_a_draft_they_changed(
    client, editor, reviewer, superuser, demo
):
    draft = draft_of(demo, editor)
    workflow.record_edit(draft, editor)
    workflow.submit(draft, editor)
    editor_client = signed_in(type(client), editor)
    assert editor_client.get(admin_url("review", draft.pk)).status_code == 403

    # A reviewer who is also an editor, and the superuser, changed it: both refused.
    reviewer.groups.add(Group.objects.get(name=roles.CONTENT_EDITORS))
    superuser.first_name, superuser.last_name = "Sam", "Super"
    superuser.save()
    for person in (reviewer, superuser):
        workflow.record_edit(draft, person)
        with pytest.raises(workflow.Refused) as refused:
            workflow.approve(draft, person)
        assert "You changed this draft" in str(refused.value)
    assert not demo.revisions.filter(number=2).exists()


def test_a_draft_must_be_sent_for_review_and_unchanged_since_it_was_read(
    client, editor, reviewer, demo
):
    draft = draft_of(demo, editor)
    with pytest.raises(workflow.Refused, match="not waiting for review"):
        workflow.approve(draft, reviewer)
    workflow.submit(draft, editor)
    reviewer_client = signed_in(type(client), reviewer)
    page = reviewer_client.get(admin_url("review", draft.pk))
    seen = page.context["approve_form"].initial["seen"]
    # The editor changes the draft while the reviewer reads it.
    Risk.objects.filter(procedure=draft).update(description="Changed meanwhile.")
    response = approve_in_admin(reviewer_client, draft, seen=seen)
    assert response.status_code == 200
    assert "The draft changed while you were reading it" in response.content.decode()
    assert Procedure.objects.filter(pk=draft.pk).exists()


def test_a_reviewer_sends_a_draft_back_with_a_comment_the_editor_sees(
    client, editor, reviewer, demo
):
    draft = draft_of(demo, editor)
    workflow.submit(draft, editor)
    reviewer_client = signed_in(type(client), reviewer)
    empty = reviewer_client.post(admin_url("review", draft.pk), {"send_back": "1", "comment": ""})
    assert "This field is required" in empty.content.decode()
    response = reviewer_client.post(
        admin_url("review", draft.pk), {"send_back": "1", "comment": "Add the MRI source."}
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.review_state == Procedure.ReviewState.EDITING
    page = signed_in(type(client), editor).get(change_url(draft)).content.decode()
    assert "The clinical reviewer asked for changes" in page
    assert "Add the MRI source." in page


def test_a_note_saying_what_changed_is_needed_to_approve_a_change(client, editor, reviewer, demo):
    draft = draft_of(demo, editor)
    workflow.submit(draft, editor)
    response = approve_in_admin(signed_in(type(client), reviewer), draft, note="  ")
    assert response.status_code == 200
    assert "Say in a sentence what changed" in response.content.decode()


# ------------------------------------------------------------------------ the gate


def gate_refusals(procedure, reviewer):
    workflow.submit(procedure, procedure.submitted_by or reviewer)
    with pytest.raises(workflow.Refused) as refused:
        workflow.approve(procedure, reviewer)
    return refused.value.reasons


@pytest.fixture
def new_page(editor):
    """A never-approved page that passes the gate as it is."""
    page = fill_procedure(make_procedure(slug="new", status=Procedure.Status.DRAFT), 1)
    WarningSign.objects.filter(procedure=page).update(urgency=WarningSign.Urgency.EMERGENCY)
    workflow.submit(page, editor)
    return page


def test_a_page_that_passes_the_gate_is_published(client, reviewer, new_page):
    assert workflow.approval_problems(new_page, reviewer) == []
    revision = workflow.approve(new_page, reviewer, note="New page.")
    new_page.refresh_from_db()
    assert new_page.is_published and revision.number == 1
    assert client.get("/procedures/new/").status_code == 200


def test_the_gate_needs_a_named_reviewer_with_credentials(reviewer, new_page):
    reviewer.staff_profile.credentials = ""
    reviewer.staff_profile.save()
    reasons = gate_refusals(new_page, reviewer)
    assert reasons == [
        "Medical review: the page names its reviewer with their credentials. Ask an "
        "administrator to add your full name and credentials (for example MD) to your "
        "staff account."
    ]


def test_the_gate_needs_sources(reviewer, new_page):
    Risk.objects.filter(procedure=new_page).update(frequency="", reference=None)
    PumpModel.objects.filter(procedure=new_page).delete()
    DecisionChance.objects.filter(procedure=new_page).delete()
    Reference.objects.filter(procedure=new_page).delete()
    assert gate_refusals(new_page, reviewer) == ["Sources: the page lists no sources."]


def test_the_gate_needs_every_frequency_sourced_from_the_page_itself(reviewer, new_page):
    elsewhere = Reference.objects.create(procedure=make_procedure(slug="other"), title="Other")
    Risk.objects.filter(procedure=new_page).update(reference=elsewhere)
    assert gate_refusals(new_page, reviewer) == [
        "Risk “Risk 0”: its frequency needs a source from this page's sources."
    ]


def test_the_gate_needs_a_call_911_sign(reviewer, new_page):
    WarningSign.objects.filter(procedure=new_page).update(urgency=WarningSign.Urgency.TODAY)
    assert gate_refusals(new_page, reviewer) == [
        "When to get help: no sign is in the “Call 911 now” box."
    ]


def test_the_gate_names_each_block_above_grade_8(reviewer, new_page):
    Section.objects.filter(procedure=new_page).update(
        body="Intrathecal administration necessitates meticulous multidisciplinary "
        "consideration of contraindications, pharmacological interactions and "
        "postoperative complications."
    )
    (reason,) = gate_refusals(new_page, reviewer)
    assert reason.startswith("Section “Part 0”: reading grade ")
    assert reason.endswith("; it must be grade 8 or lower.")


def test_the_gate_names_each_safety_box_above_grade_6(reviewer, new_page):
    WarningSign.objects.filter(procedure=new_page).update(
        sign="Unexplained respiratory depression accompanied by progressive unresponsiveness"
    )
    (reason,) = gate_refusals(new_page, reviewer)
    assert reason.startswith("“Call 911 now” box: reading grade ")
    assert reason.endswith("; it must be grade 6 or lower.")


def test_the_gate_needs_each_pump_models_mri_rule_sourced_from_the_page(reviewer, new_page):
    PumpModel.objects.filter(procedure=new_page).update(reference=None)
    assert gate_refusals(new_page, reviewer) == [
        "Pump model “Maker Pump 0”: its MRI rule needs a source from this page's sources."
    ]


def test_the_gate_needs_each_decision_aid_chance_sourced_from_the_page(reviewer, new_page):
    DecisionChance.objects.filter(procedure=new_page).update(reference=None)
    assert gate_refusals(new_page, reviewer) == [
        "Decision aid chance “Felt better 0”: its numbers need a source from this page's sources."
    ]


def test_the_gate_holds_the_pump_cards_texts_to_the_safety_boxes_target(reviewer, new_page):
    """Read in an emergency: a medicine's note for the card and a pump model's MRI rule
    read at grade 6 or lower, like the "when to get help" boxes."""
    hard = (
        "Precipitous discontinuation engenders potentially catastrophic withdrawal "
        "phenomena, necessitating immediate multidisciplinary intervention."
    )
    Medicine.objects.filter(procedure=new_page).update(emergency_note=hard)
    PumpModel.objects.filter(procedure=new_page).update(mri_rule=hard)
    reasons = gate_refusals(new_page, reviewer)
    assert [reason.split(":")[0] for reason in reasons] == [
        "Medicine “Medicine 0”, for the pump card",
        "Pump model “Maker Pump 0”",
    ]
    assert all(reason.endswith("; it must be grade 6 or lower.") for reason in reasons)


def test_the_gate_reads_the_decision_aids_texts_like_the_guides(reviewer, new_page):
    """Its options, chances and reasons are patients' reading: grade 8 or lower."""
    hard = (
        "Multidisciplinary comprehensive interventional neuromodulation necessitates "
        "considerable preoperative psychological evaluation and individualized titration."
    )
    DecisionOption.objects.filter(procedure=new_page).update(involves=hard)
    DecisionChance.objects.filter(procedure=new_page).update(certainty=hard)
    DecisionValue.objects.filter(procedure=new_page).update(statement=hard)
    reasons = gate_refusals(new_page, reviewer)
    assert [reason.split(":")[0] for reason in reasons] == [
        "Decision aid reasons",
        "Decision aid option “Option 0”",
        "Decision aid chance “Felt better 0”",
    ]
    assert all(reason.endswith("; it must be grade 8 or lower.") for reason in reasons)


def test_the_review_page_lists_every_refusal_and_approval_changes_nothing(
    client, reviewer, new_page
):
    Reference.objects.filter(procedure=new_page).update(title="x")
    Risk.objects.filter(procedure=new_page).update(frequency="", reference=None)
    PumpModel.objects.filter(procedure=new_page).update(reference=None)
    DecisionChance.objects.filter(procedure=new_page).update(reference=None)
    Reference.objects.filter(procedure=new_page).delete()
    WarningSign.objects.filter(procedure=new_page).update(urgency=WarningSign.Urgency.TODAY)
    reviewer_client = signed_in(type(client), reviewer)
    page = reviewer_client.get(admin_url("review", new_page.pk)).content.decode()
    assert "It cannot be approved yet" in page
    assert "Sources: the page lists no sources." in page
    assert "no sign is in the “Call 911 now” box" in page
    assert "its MRI rule needs a source from this page" in page
    response = approve_in_admin(reviewer_client, new_page, note="First version.")
    assert response.status_code == 200
    new_page.refresh_from_db()
    assert not new_page.is_published
    assert client.get("/procedures/new/").status_code == 404


# ---------------------------------------------------------------- versions, restore


def test_versions_are_listed_compared_and_an_old_one_restored_through_approval(
    client, editor, reviewer, django_user_model, demo
):
    original = demo.risks.first().description
    draft = draft_of(demo, editor)
    Risk.objects.filter(pk=draft.risks.first().pk).update(description="Version two words.")
    workflow.submit(draft, editor)
    workflow.approve(draft, reviewer, note="Reworded.")
    reviewer_client = signed_in(type(client), reviewer)

    listing = reviewer_client.get(admin_url("versions", demo.pk)).content.decode()
    assert "Reworded." in listing and "Make version 1 the draft" in listing
    compare = reviewer_client.get(admin_url("compare", demo.pk), {"old": 1, "new": 2})
    assert "Version two words." in compare.content.decode()
    assert "<del>" in compare.content.decode()

    response = reviewer_client.post(admin_url("restore", demo.pk, 1))
    restored = Procedure.objects.get(draft_of=demo)
    assert response["Location"] == change_url(restored)
    assert restored.risks.first().description == original
    assert "Version two words." in client.get(f"{PUMP}risks/").content.decode()  # not yet

    workflow.submit(restored, reviewer)
    with pytest.raises(workflow.Refused, match="You changed this draft"):
        workflow.approve(restored, reviewer)  # the one who restored it cannot approve it
    second = make_reviewer(django_user_model, "second")
    workflow.approve(restored, second, note="Back to the first wording.")
    assert original in client.get(f"{PUMP}risks/").content.decode()
    assert demo.revisions.count() == 3


def make_reviewer(django_user_model, username):
    from tests.conftest import make_staff

    user = make_staff(django_user_model, username, roles.CLINICAL_REVIEWERS)
    user.first_name, user.last_name = "Second", "Reviewer"
    user.save()
    from accounts.models import StaffProfile

    StaffProfile.objects.create(user=user, credentials="DO")
    return user


def test_a_page_published_before_versions_were_kept_keeps_its_first_version(editor, reviewer):
    page = fill_procedure(make_procedure(), 1)
    WarningSign.objects.filter(procedure=page).update(urgency=WarningSign.Urgency.EMERGENCY)
    before = versions.snapshot(page)
    draft = draft_of(page, editor)
    Section.objects.filter(procedure=draft).update(body="New text.")
    workflow.submit(draft, editor)
    workflow.approve(draft, reviewer, note="New text.")
    first, second = page.revisions.order_by("number")
    assert first.content == before and first.approved_by is None
    assert second.content["sections"][0]["body"] == "New text."


def test_changes_between_versions_are_block_by_block_and_word_by_word(demo, editor):
    draft = draft_of(demo, editor)
    risk = draft.risks.first()
    Risk.objects.filter(pk=risk.pk).update(description="Totally new words.")
    WarningSign.objects.filter(procedure=draft).first().delete()
    Section.objects.create(procedure=draft, heading="Brand new", anchor="brand-new", body="Hi.")
    groups = versions.changes(versions.snapshot(demo), versions.snapshot(draft))
    actions = {(g["heading"], i["action"], i["label"]) for g in groups for i in g["items"]}
    assert ("Risks", "changed", risk.name) in actions
    assert ("Sections", "added", "Brand new") in actions
    assert any(a[0] == "Warning signs" and a[1] == "removed" for a in actions)
    (row,) = next(i for g in groups for i in g["items"] if i["label"] == risk.name)["fields"]
    assert row["field"] == "what it means"
    assert "<ins>Totally new words.</ins>" in row["diff"]


# --------------------------------------------------- off the site, deleting, copying


def test_a_page_on_the_site_cannot_be_deleted_until_taken_off_which_is_logged(
    client, superuser, reviewer, demo
):
    admin_client = signed_in(type(client), superuser)
    delete = reverse("admin:education_procedure_delete", args=[demo.pk])
    assert admin_client.get(delete).status_code == 403
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    changelist = admin_client.get(reverse("admin:education_procedure_changelist"))
    assert "delete_selected" not in changelist.content.decode()

    reviewer_client = signed_in(type(client), reviewer)
    confirm = reviewer_client.get(admin_url("unpublish", demo.pk)).content.decode()
    assert "Yes, take it off the site" in confirm
    assert client.get(PUMP).status_code == 200  # asking changes nothing
    reviewer_client.post(admin_url("unpublish", demo.pk))
    assert client.get(PUMP).status_code == 404
    # Its Spanish page says the same thing: it is taken off too.
    assert client.get("/es" + PUMP).status_code == 404
    entry = LogEntry.objects.filter(object_id=str(demo.pk)).latest("action_time")
    assert (entry.user, entry.get_change_message()) == (reviewer, "Taken off the site.")

    assert admin_client.post(delete, {"post": "yes"}).status_code == 302
    assert not Procedure.objects.filter(pk=demo.pk).exists()
    assert not Procedure.objects.filter(translation_of=demo.pk).exists()


def test_a_page_taken_off_the_site_goes_back_only_through_approval(
    client, reviewer, django_user_model, demo
):
    workflow.unpublish(demo)
    reviewer_client = signed_in(type(client), reviewer)
    page = reviewer_client.get(change_url(demo)).content.decode()
    assert "Put back on the site" in page
    response = approve_in_admin(reviewer_client, demo, note="")
    assert response.status_code == 302
    assert client.get(PUMP).status_code == 200


def test_a_reviewer_confirms_only_what_was_approved(reviewer, demo):
    Section.objects.filter(procedure=demo).update(body="Changed outside any draft.")
    with pytest.raises(workflow.Refused, match="not what was last approved"):
        workflow.confirm_review(demo, reviewer)
    assert demo.revisions.count() == 1


def test_confirming_a_review_keeps_the_content_and_moves_the_dates(reviewer, demo):
    later = timezone.localdate() + datetime.timedelta(days=200)
    revision = workflow.confirm_review(demo, reviewer, next_review_due=later)
    demo.refresh_from_db()
    assert (demo.last_reviewed, demo.next_review_due) == (timezone.localdate(), later)
    assert revision.number == 2 and revision.content == demo.revisions.last().content
    assert demo.reviewer_name == "Rita Reviewer"


def test_editors_and_front_desk_cannot_take_a_page_off_or_approve(client, editor, front_desk, demo):
    for person in (editor, front_desk):
        person_client = signed_in(type(client), person)
        assert person_client.post(admin_url("unpublish", demo.pk)).status_code == 403
        assert person_client.get(admin_url("review", demo.pk)).status_code == 403
        assert person_client.post(admin_url("restore", demo.pk, 1)).status_code == 403
    assert client.get(PUMP).status_code == 200


def test_the_front_desk_and_reviewers_cannot_start_drafts_or_copy(
    client, front_desk, reviewer, demo
):
    for person in (front_desk, reviewer):
        person_client = signed_in(type(client), person)
        assert person_client.post(admin_url("start_draft", demo.pk)).status_code == 403
        assert person_client.post(admin_url("copy", demo.pk)).status_code == 403
    assert not Procedure.objects.filter(draft_of=demo).exists()


def test_a_live_page_and_its_stages_are_read_only_in_the_admin(client, editor, demo):
    editor_client = signed_in(type(client), editor)
    data = {"title": "Changed", "slug": demo.slug, "summary": "x"}
    assert editor_client.post(change_url(demo), data).status_code == 403
    phase = demo.phases.first()
    phase_url = reverse("admin:education_phase_change", args=[phase.pk])
    assert editor_client.post(phase_url, {"name": "Changed"}).status_code == 403
    demo.refresh_from_db()
    assert demo.title == "Intrathecal pain pump"


def test_a_new_page_starts_as_a_copy_of_another(client, editor, demo):
    editor_client = signed_in(type(client), editor)
    response = editor_client.post(admin_url("copy", demo.pk))
    copy = Procedure.objects.exclude(pk=demo.pk).get(language="en")
    assert response["Location"] == change_url(copy)
    assert copy.title == "Copy of Intrathecal pain pump"
    assert copy.slug == "copy-of-intrathecal-pain-pump"
    assert not copy.is_published and not copy.revisions.exists() and copy.draft_of is None
    assert copy.risks.count() == demo.risks.count()
    assert set(
        copy.risks.exclude(reference=None).values_list("reference__procedure", flat=True)
    ) == {copy.pk}
    assert not set(copy.sections.values_list("uid", flat=True)) & set(
        demo.sections.values_list("uid", flat=True)
    )
    # It is edited in place, and stages need none of the pump's comparison rows.
    phase = copy.phases.first()
    Phase.objects.filter(procedure=copy).update(**dict.fromkeys(Phase.COMPARED_FIELDS, ""))
    phase.refresh_from_db()
    phase.full_clean()
    assert workflow.may_edit(copy)


# ------------------------------------------------------------------ preview, sign-in


def test_preview_needs_the_second_sign_in_step(client, editor, settings, demo):
    settings.STAFF_TWO_FACTOR_REQUIRED = True
    draft = draft_of(demo, editor)
    client.force_login(editor)  # password only
    response = client.get(admin_url("preview", draft.pk))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:two_factor"))
    assert client.get(PUMP).status_code == 200  # the public page, as for anyone
    assert "Preview" not in client.get(PUMP).content.decode()


def test_preview_of_a_part_handout_and_whole_guide_stays_in_the_preview(client, editor, demo):
    draft = draft_of(demo, editor)
    client.force_login(editor)
    base = admin_url("preview", draft.pk)
    overview = client.get(base).content.decode()
    assert f'href="{base}risks/"' in overview
    assert f'href="{base}handout/"' in overview and f'href="{base}all/"' in overview
    for tail in ("risks/", "all/", "handout/"):
        page = client.get(base + tail)
        assert page.status_code == 200, tail
        assert "Preview of a draft" in page.content.decode()
        assert "no-store" in page["Cache-Control"]
    assert client.get(base + "no-such-part/").status_code == 404


def test_the_list_says_where_each_page_stands(client, editor, demo):
    draft = draft_of(demo, editor)
    workflow.submit(draft, editor)
    editor_client = signed_in(type(client), editor)
    listing = editor_client.get(reverse("admin:education_procedure_changelist")).content.decode()
    assert "On the site" in listing
    assert "Draft of a page on the site: waiting for clinical review" in listing
    waiting = editor_client.get(
        reverse("admin:education_procedure_changelist"), {"state": "waiting"}
    )
    assert list(waiting.context["cl"].result_list) == [draft]


def test_revisions_are_never_changed_by_hand(editor, reviewer, demo):
    for user in (editor, reviewer):
        assert not user.has_perm("education.change_revision")
        assert not user.has_perm("education.delete_revision")
    assert Revision.objects.filter(procedure=demo).count() == 1


def test_stages_show_only_the_comparison_rows_some_stage_fills_in(client, reviewer):
    page = fill_procedure(make_procedure(slug="stimulator", status=Procedure.Status.DRAFT), 2)
    phases = Phase.objects.filter(procedure=page)
    phases.update(part=None, **dict.fromkeys(Phase.COMPARED_FIELDS, ""))
    phases.filter(order=0).update(duration="About an hour.")
    client.force_login(reviewer)
    html = client.get(admin_url("preview", page.pk)).content.decode()
    assert "The stages side by side" in html
    assert "About an hour." in html
    assert "How long it takes" in html
    assert "Anesthesia" not in html and "Can it be undone" not in html


def test_the_admin_home_tells_each_person_what_waits_for_them(client, editor, reviewer, demo):
    draft = draft_of(demo, editor)
    workflow.submit(draft, editor)
    reviewer_home = signed_in(type(client), reviewer).get("/admin/").content.decode()
    assert "1 draft is waiting for clinical review." in reviewer_home
    editor_client = signed_in(type(client), editor)
    assert "waiting for clinical review" not in editor_client.get("/admin/").content.decode()

    workflow.send_back(draft, reviewer, "Please add the source.")
    assert "sent 1 draft back with a comment" in editor_client.get("/admin/").content.decode()
    listing = editor_client.get(
        reverse("admin:education_procedure_changelist"), {"state": "sent_back"}
    )
    assert list(listing.context["cl"].result_list) == [draft]
    workflow.submit(draft, editor)
    assert "sent 1 draft back" not in editor_client.get("/admin/").content.decode()
