"""Shared test setup: safe settings and the five personas.

Personas: anonymous (the plain `client`), a content editor, a clinical reviewer, a
front-desk user and a superuser. Staff personas belong to the groups the data
migration creates, so the tests exercise the real permissions.
"""

import io
import uuid

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from accounts import roles


@pytest.fixture(autouse=True)
def _safe_settings(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Each test starts with an empty page cache of its own: a folder, or with REDIS_URL
    # set (CI's Redis run) the shared Redis backend under a prefix of its own.
    pages = {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(tmp_path / "page-cache"),
    }
    if settings.REDIS_URL:
        pages = {**settings.CACHES["pages"], "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
    settings.CACHES = {**settings.CACHES, "pages": pages}


def staff_group(name):
    """The group the data migration made. Transactional (browser) tests empty every
    table after each test, so the roles' own create_groups() makes them again."""
    if not Group.objects.filter(name=name).exists():
        roles.create_groups()
    return Group.objects.get(name=name)


def make_staff(django_user_model, username, group_name):
    user = django_user_model.objects.create_user(
        username=username, password="test-password-123", is_staff=True
    )
    user.groups.add(staff_group(group_name))
    return user


@pytest.fixture
def editor(db, django_user_model):
    return make_staff(django_user_model, "editor", "Content editors")


@pytest.fixture
def reviewer(db, django_user_model):
    """A clinical reviewer, with the name and email a reviewer has."""
    from accounts.models import StaffProfile

    user = make_staff(django_user_model, "reviewer", roles.CLINICAL_REVIEWERS)
    user.first_name, user.last_name, user.email = "Rita", "Reviewer", "reviewer@clinic.example"
    user.save()
    StaffProfile.objects.create(user=user, credentials="MD")
    return user


@pytest.fixture
def front_desk(db, django_user_model):
    return make_staff(django_user_model, "frontdesk", "Front desk")


@pytest.fixture
def superuser(db, django_user_model):
    return django_user_model.objects.create_superuser(
        username="admin", password="test-password-123", email="admin@clinic.example"
    )


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


@pytest.fixture
def reviewer_client(client, reviewer):
    client.force_login(reviewer)
    return client


@pytest.fixture
def front_desk_client(client, front_desk):
    client.force_login(front_desk)
    return client


@pytest.fixture
def superuser_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def demo(db):
    """The demo page set, as `make run` loads it; returns the pump procedure."""
    from education.models import Procedure

    call_command("load_demo_content", stdout=io.StringIO())
    return Procedure.objects.get(slug="intrathecal-pain-pump", language="en")
