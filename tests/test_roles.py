"""The staff roles (accounts/roles.py): who may do what, exactly."""

import pytest
from django.contrib.auth.models import Group, Permission

from accounts import roles

pytestmark = pytest.mark.django_db

EDUCATION_MODELS = {
    "clinicsettings",
    "condition",
    "decisionchance",
    "decisionoption",
    "decisionvalue",
    "diarytime",
    "doctorquestion",
    "faq",
    "glossaryterm",
    "guidepart",
    "livingtopic",
    "medicine",
    "phase",
    "phasestep",
    "procedure",
    "pumpmodel",
    "recoveryrestriction",
    "reference",
    "risk",
    "section",
    "warningsign",
}


# Approved versions are written only by approval: they have a view permission only.
READ_ONLY_MODELS = {"revision"}


def codenames(group_name):
    return set(Group.objects.get(name=group_name).permissions.values_list("codename", flat=True))


def test_content_editors_edit_all_education_content_and_nothing_else():
    expected = {
        f"{action}_{model}"
        for model in EDUCATION_MODELS
        for action in ("add", "change", "delete", "view")
    } | {f"view_{model}" for model in READ_ONLY_MODELS}
    assert codenames(roles.CONTENT_EDITORS) == expected


def test_clinical_reviewers_read_all_content_and_approve_but_change_nothing():
    expected = {f"view_{model}" for model in EDUCATION_MODELS | READ_ONLY_MODELS}
    assert codenames(roles.CLINICAL_REVIEWERS) == expected | {"approve_procedure"}


def test_nobody_but_reviewers_and_superusers_may_approve(editor, reviewer, front_desk, superuser):
    approve = "education.approve_procedure"
    assert [u.has_perm(approve) for u in (editor, reviewer, front_desk, superuser)] == [
        False,
        True,
        False,
        True,
    ]


def test_front_desk_works_requests_and_only_reads_content():
    expected = {f"view_{model}" for model in EDUCATION_MODELS | READ_ONLY_MODELS} | {
        "view_request",
        "change_request",
        "export_request",
        "add_contactattempt",
        "view_contactattempt",
        "view_requestevent",
        "add_closureday",
        "change_closureday",
        "delete_closureday",
        "view_closureday",
        "view_discardedsend",
    }
    assert codenames(roles.FRONT_DESK) == expected


def test_every_role_permission_exists_and_creating_groups_again_changes_nothing():
    before = {name: codenames(name) for name in roles.ROLES}
    roles.create_groups()
    assert {name: codenames(name) for name in roles.ROLES} == before
    for role, rules in roles.ROLES.items():
        for app_label, model, actions in rules:
            rows = Permission.objects.filter(content_type__app_label=app_label)
            if model != "*":
                rows = rows.filter(content_type__model=model)
            for action in actions:
                assert rows.filter(codename__startswith=f"{action}_").exists(), (role, model)
