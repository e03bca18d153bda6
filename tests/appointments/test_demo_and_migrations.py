"""The demo loader and the staff-groups data migration."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader

from accounts import roles
from appointments.models import Request

pytestmark = pytest.mark.django_db


def load_demo(settings):
    settings.DEBUG = True
    output = io.StringIO()
    call_command("load_demo_requests", stdout=output)
    return output.getvalue()


def test_the_demo_loader_creates_one_login_per_role_and_prints_them(settings):
    output = load_demo(settings)
    users = get_user_model().objects
    assert users.get(username="frontdesk").groups.get().name == "Front desk"
    assert users.get(username="editor").groups.get().name == "Content editors"
    assert users.get(username="admin").is_superuser
    assert "frontdesk / frontdesk-local-only" in output
    assert users.get(username="frontdesk").check_password("frontdesk-local-only")


def test_the_demo_loader_creates_fake_requests_in_different_states_once(settings):
    load_demo(settings)
    load_demo(settings)
    requests = Request.objects.all()
    assert requests.count() == 7
    assert set(requests.values_list("status", flat=True)) == set(Request.Status.values)
    assert all(r.name.startswith("Test Patient") for r in requests)
    assert requests.filter(urgent=True).exists()
    assert requests.filter(possible_duplicate_of__isnull=False).exists()
    assert requests.filter(status="scheduled", appointment_at__isnull=False).exists()
    # "Contacted" means someone reached the patient.
    for contacted in requests.filter(status="contacted"):
        assert contacted.attempts.filter(outcome="reached").exists()


def test_the_demo_loader_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("load_demo_requests", stdout=io.StringIO())
    assert not get_user_model().objects.filter(username="frontdesk").exists()


def test_the_groups_migration_can_be_reversed_and_reapplied():
    state = MigrationLoader(connection).project_state(("appointments", "0002_staff_groups"))
    roles.delete_groups(state.apps)
    assert not Group.objects.filter(name__in=["Front desk", "Content editors"]).exists()
    roles.create_groups(state.apps)
    front_desk = Group.objects.get(name="Front desk")
    assert front_desk.permissions.filter(codename="export_request").exists()


@pytest.mark.django_db(transaction=True)
def test_an_old_scheduled_request_without_a_date_goes_back_to_contacted_with_a_reason():
    """Migration 0004: "scheduled" needs a date now; an older one without goes back."""
    before = ("appointments", "0003_rate_limit_counter")
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    old_apps = executor.loader.project_state([before]).apps
    old = old_apps.get_model("appointments", "Request").objects.create(
        reference="OLDSCHE2",
        kind="call_back",
        name="Test Patient",
        phone="+12025550101",
        reason="Old request.",
        status="scheduled",
    )
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    request = Request.objects.get(pk=old.pk)
    assert request.status == "contacted"
    event = request.events.get(action="status")
    assert (event.old_value, event.new_value) == ("scheduled", "contacted: no appointment date")
