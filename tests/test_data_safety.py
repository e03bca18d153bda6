"""Backups: `manage.py backup` then `manage.py restore` into a fresh database finds every
request, its calls and its history, on whichever database the suite runs against
(SQLite files in tmp_path, or a new PostgreSQL database next to the test database)."""

import contextlib
import io
import os
import secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management import CommandError, call_command
from django.db import DEFAULT_DB_ALIAS, connection, connections

from appointments.models import ContactAttempt, Request, RequestEvent
from tests.appointments.factories import make_request

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
