"""The role matrix: each staff group can do its job and not the other's; anonymous gets nothing."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import reverse

from .factories import make_request

pytestmark = pytest.mark.django_db

EDUCATION_MODELS = list(apps.get_app_config("education").get_models())


def perm(model, action):
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def staff_pages(request):
    return [
        reverse("admin:index"),
        reverse("admin:appointments_request_changelist"),
        reverse("admin:appointments_request_change", args=[request.pk]),
        reverse("admin:appointments_request_history", args=[request.pk]),
        reverse("admin:appointments_request_export"),
        reverse("admin:auth_user_changelist"),
    ]


def test_the_migration_creates_both_groups():
    assert set(Group.objects.values_list("name", flat=True)) >= {"Front desk", "Content editors"}


# Anonymous.


def test_anonymous_users_reach_no_staff_page(client):
    for url in staff_pages(make_request()):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("admin:login")), url


# Front desk.


def test_front_desk_can_view_change_and_export_requests(front_desk):
    for codename in [
        "appointments.view_request",
        "appointments.change_request",
        "appointments.export_request",
        "appointments.add_contactattempt",
        "appointments.view_requestevent",
        "appointments.view_discardedsend",
        "appointments.add_closureday",
        "appointments.change_closureday",
        "appointments.delete_closureday",
    ]:
        assert front_desk.has_perm(codename), codename


def test_front_desk_cannot_delete_requests_or_edit_the_history(front_desk):
    for codename in [
        "appointments.delete_request",
        "appointments.add_request",
        "appointments.delete_contactattempt",
        # A logged call is a record: only a superuser corrects one.
        "appointments.change_contactattempt",
        "appointments.change_discardedsend",
        "appointments.change_requestevent",
        "appointments.delete_requestevent",
    ]:
        assert not front_desk.has_perm(codename), codename


def test_front_desk_can_read_education_content_but_not_edit_it(front_desk):
    for model in EDUCATION_MODELS:
        assert front_desk.has_perm(perm(model, "view")), model
        for action in ["add", "change", "delete"]:
            assert not front_desk.has_perm(perm(model, action)), (model, action)


def test_front_desk_works_the_queue_in_the_admin(front_desk_client):
    request = make_request()
    changelist = reverse("admin:appointments_request_changelist")
    assert front_desk_client.get(changelist).status_code == 200
    response = front_desk_client.get(
        reverse("admin:appointments_request_change", args=[request.pk])
    )
    assert response.status_code == 200
    assert b'name="status"' in response.content
    assert front_desk_client.get(reverse("admin:appointments_request_export")).status_code == 200


def test_front_desk_cannot_manage_users(front_desk_client):
    assert front_desk_client.get(reverse("admin:auth_user_changelist")).status_code == 403


# Content editors.


def test_content_editors_can_edit_every_education_model(editor):
    for model in EDUCATION_MODELS:
        # Approved versions are written only by a reviewer's approval.
        actions = (
            ["view"]
            if model._meta.model_name == "revision"
            else ["add", "change", "delete", "view"]
        )
        for action in actions:
            assert editor.has_perm(perm(model, action)), (model, action)


def test_content_editors_have_no_access_to_patient_requests(editor, editor_client):
    assert not [p for p in editor.get_all_permissions() if p.startswith("appointments.")]
    request = make_request()
    for url in [
        reverse("admin:appointments_request_changelist"),
        reverse("admin:appointments_request_change", args=[request.pk]),
        reverse("admin:appointments_request_export"),
    ]:
        assert editor_client.get(url).status_code == 403, url
    index = editor_client.get(reverse("admin:index")).content.decode()
    assert "/admin/appointments/" not in index


def test_content_editors_cannot_manage_users(editor_client):
    assert editor_client.get(reverse("admin:auth_user_changelist")).status_code == 403


def test_education_admin_pages_open_for_editors_and_are_read_only_for_front_desk(
    editor_client, client, front_desk
):
    registered = [model for model in EDUCATION_MODELS if admin.site.is_registered(model)]
    assert registered
    client.force_login(front_desk)
    for model in registered:
        info = (model._meta.app_label, model._meta.model_name)
        changelist = reverse("admin:{}_{}_changelist".format(*info))
        add = reverse("admin:{}_{}_add".format(*info))
        assert editor_client.get(changelist).status_code == 200, changelist
        assert client.get(changelist).status_code == 200, changelist
        assert client.get(add).status_code == 403, add


# Superuser.


def test_the_superuser_can_do_both_jobs(superuser_client):
    request = make_request()
    assert superuser_client.get(reverse("admin:appointments_request_export")).status_code == 200
    assert (
        superuser_client.get(
            reverse("admin:appointments_request_change", args=[request.pk])
        ).status_code
        == 200
    )
