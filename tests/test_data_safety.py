"""Backups: `manage.py backup` then `manage.py restore` into a fresh database finds every
request, its calls and its history, on whichever database the suite runs against
(SQLite files in tmp_path, or a new PostgreSQL database next to the test database)."""

import contextlib
import io
import os
import secrets
import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.test import Client

from appointments.models import ContactAttempt, Request, RequestEvent
from education.models import Procedure
from operations.database import postgres_environment, run_tool
from tests.appointments.factories import make_request
from tests.education.factories import make_procedure

ROOT = Path(__file__).resolve().parent.parent
# pg_dump and the restore run in other processes: they only see committed rows.
pytestmark = pytest.mark.django_db(transaction=True)


@contextlib.contextmanager
def fresh_database(tmp_path):
    """An empty database of the configured kind: (its DATABASE_URL, a connection to it)."""
    settings_dict = dict(connection.settings_dict)
    if connection.vendor == "sqlite":
        path = tmp_path / "fresh.sqlite3"
        settings_dict["NAME"] = str(path)
        url = f"sqlite:///{path}"
    else:
        name = f"restore_check_{secrets.token_hex(4)}"
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        settings_dict["NAME"] = name
        user, password = settings_dict["USER"], settings_dict["PASSWORD"]
        url = (
            f"postgres://{quote(user, safe='')}:{quote(password, safe='')}"
            f"@{settings_dict['HOST']}:{settings_dict['PORT']}/{name}"
        )
    fresh = type(connections[DEFAULT_DB_ALIAS])(settings_dict, alias="restore_check")
    try:
        yield url, fresh
    finally:
        fresh.close()
        if connection.vendor != "sqlite":
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{settings_dict["NAME"]}" WITH (FORCE)')


def backup(tmp_path):
    suffix = ".sqlite3" if connection.vendor == "sqlite" else ".pgdump"
    path = tmp_path / f"clinic-backup{suffix}"
    out = io.StringIO()
    call_command("backup", output=str(path), stdout=out)
    return path, out.getvalue()


def restore(backup_file, database_url, *extra):
    """The documented restore, run as an operator would: its own process and settings."""
    environment = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "manage.py", "restore", str(backup_file), *extra],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def fetch(fresh, sql):
    with fresh.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def test_a_backup_restored_into_a_fresh_database_has_every_request(tmp_path):
    requests = [make_request() for _ in range(5)]
    requests.append(make_request(status="closed", closing_reason="booked", urgent=True))
    ContactAttempt.objects.create(request=requests[0], outcome="voicemail")
    RequestEvent.objects.create(request=requests[0], action=RequestEvent.Action.CALL)
    wanted = {(r.reference, r.email, r.status) for r in requests}

    backup_file, output = backup(tmp_path)
    assert backup_file.stat().st_mode & 0o077 == 0, "a backup must be readable by its owner only"

    with fresh_database(tmp_path) as (url, fresh):
        result = restore(backup_file, url)
        assert result.returncode == 0, result.stderr
        assert "6 request(s)" in result.stdout

        restored = fetch(fresh, "SELECT reference, email, status FROM appointments_request")
        assert set(restored) == wanted
        assert fetch(fresh, "SELECT count(*) FROM appointments_contactattempt") == [(1,)]
        assert fetch(fresh, "SELECT count(*) FROM appointments_requestevent") == [(1,)]
        if connection.vendor == "sqlite":
            assert fetch(fresh, "PRAGMA integrity_check") == [("ok",)]
        else:
            # Sequences come back too: the next request does not clash with a restored one.
            highest = fetch(fresh, "SELECT max(id) FROM appointments_request")[0][0]
            next_id = fetch(
                fresh, "SELECT nextval(pg_get_serial_sequence('appointments_request', 'id'))"
            )[0][0]
            assert next_id > highest

    for request in requests:
        for detail in (request.name, request.email, request.reason):
            assert detail not in output


def test_a_restore_refuses_a_database_that_has_data_unless_forced(tmp_path):
    kept = make_request()
    backup_file, _ = backup(tmp_path)
    Request.objects.all().delete()
    replaced = make_request()

    with pytest.raises(CommandError, match="already has"):
        call_command("restore", str(backup_file), stdout=io.StringIO())
    assert list(Request.objects.values_list("reference", flat=True)) == [replaced.reference]

    connection.close()
    call_command("restore", str(backup_file), "--force", stdout=io.StringIO())
    assert list(Request.objects.values_list("reference", flat=True)) == [kept.reference]


def test_a_backup_goes_to_the_backup_folder_by_default(tmp_path, settings):
    settings.BACKUP_DIR = tmp_path / "backups"
    make_request()

    out = io.StringIO()
    call_command("backup", stdout=out)

    files = list(settings.BACKUP_DIR.iterdir())
    assert len(files) == 1
    assert files[0].name.startswith("clinic-")
    assert str(files[0]) in out.getvalue()


def test_a_restore_refuses_a_file_that_is_not_a_backup(tmp_path):
    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("not a database\n")
    with fresh_database(tmp_path) as (url, _fresh):
        result = restore(not_a_backup, url)
    assert result.returncode != 0


# Odd input ends in one line an operator can act on, never a traceback.


def test_a_backup_to_a_folder_that_cannot_be_made_is_one_line(tmp_path):
    with pytest.raises(CommandError, match="Cannot write the backup to /proc/no-such"):
        call_command("backup", output="/proc/no-such-folder/clinic.backup", stdout=io.StringIO())


def test_a_restore_of_a_file_cut_short_is_one_line_and_changes_nothing(tmp_path):
    make_request()
    backup_file, _ = backup(tmp_path)
    cut = tmp_path / f"cut{backup_file.suffix}"
    cut.write_bytes(backup_file.read_bytes()[:5000])
    with fresh_database(tmp_path) as (url, _fresh):
        result = restore(cut, url)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    # The last line says what is wrong (the lines before are the log's start-up notes).
    assert result.stderr.strip().splitlines()[-1].startswith("CommandError: ")


@pytest.mark.parametrize("days", ["0", "-5", "99999999999"])
def test_a_retention_out_of_range_is_one_line(days):
    with pytest.raises(CommandError, match="from 1 to 36500 days"):
        call_command("purge_requests", "--days", days, stdout=io.StringIO())


# Sessions: a session key in a backup lets whoever holds the file act as that member of
# staff, signed in and past the two-factor step. Backups leave them out; restore signs
# everyone out (older backups hold them) and empties the page cache.


def signed_in_staff(django_user_model):
    """A staff member's browser with a live session: (the client, its session key)."""
    user = django_user_model.objects.create_user("frontdesk", password="x", is_staff=True)
    browser = Client()
    browser.force_login(user)
    return browser, browser.session.session_key


def postgres_dump_as_sql(dump):
    """A custom-format dump as the SQL it would run (pg_restore reads it without a server)."""
    result = run_tool(["pg_restore", "--file=-", str(dump)], dict(os.environ), timeout=120)
    return result.stdout


def test_a_backup_taken_while_staff_are_signed_in_holds_no_session(tmp_path, django_user_model):
    request = make_request()
    _browser, session_key = signed_in_staff(django_user_model)
    assert Session.objects.filter(session_key=session_key).exists()

    backup_file, _ = backup(tmp_path)

    if connection.vendor == "sqlite":
        copy = sqlite3.connect(backup_file)
        try:
            assert copy.execute("SELECT count(*) FROM django_session").fetchone() == (0,)
            assert copy.execute("SELECT count(*) FROM appointments_request").fetchone() == (1,)
        finally:
            copy.close()
        # Not even in the file's free pages, where a deleted row's bytes could stay.
        assert session_key.encode() not in backup_file.read_bytes()
    else:
        listing = run_tool(["pg_restore", "--list", str(backup_file)], dict(os.environ), 120)
        assert " TABLE public django_session " in listing.stdout  # the table, empty
        assert "TABLE DATA public django_session " not in listing.stdout
        sql = postgres_dump_as_sql(backup_file)
        assert request.reference in sql
        assert session_key not in sql
    # The live site keeps its sessions: only the copy leaves them out.
    assert Session.objects.filter(session_key=session_key).exists()


def backup_with_sessions(tmp_path):
    """A backup as they were made before sessions were left out (the whole database)."""
    if connection.vendor == "sqlite":
        path = tmp_path / "old-backup.sqlite3"
        connection.ensure_connection()
        old = sqlite3.connect(path)
        try:
            connection.connection.backup(old)
        finally:
            old.close()
    else:
        path = tmp_path / "old-backup.pgdump"
        environment = postgres_environment(connection.settings_dict)
        run_tool(["pg_dump", "--format=custom", "--file", str(path)], environment, 120)
    return path


def test_a_restore_signs_everyone_out_and_serves_no_page_from_before_it(
    tmp_path, django_user_model
):
    procedure = make_procedure(title="Pump guide as backed up")
    make_request()
    staff_browser, session_key = signed_in_staff(django_user_model)
    assert staff_browser.get("/admin/").status_code == 200
    old_backup = backup_with_sessions(tmp_path)

    # After the backup: a change that reaches the page cache (update() sends no signal,
    # so the cache keeps the page), as pages cached before a restore do.
    Procedure.objects.filter(pk=procedure.pk).update(title="Pump guide changed later")
    patient = Client()
    url = procedure.get_absolute_url()
    assert "Pump guide changed later" in patient.get(url).content.decode()
    assert "Pump guide changed later" in patient.get(url).content.decode()  # cached

    connection.close()
    out = io.StringIO()
    call_command("restore", str(old_backup), "--force", stdout=out)

    assert "Signed out 1 session(s) and emptied the page cache." in out.getvalue()
    assert not Session.objects.exists()
    html = patient.get(url).content.decode()
    assert "Pump guide as backed up" in html
    assert "Pump guide changed later" not in html
    # The staff member's browser from before the restore is signed out.
    response = staff_browser.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
