"""The job lock (operations/jobs.py): a scheduled job runs on one host at a time.

First the lock itself, in this process. Then as the hosts really meet it: separate
`manage.py` processes against one database (a SQLite file in tmp_path, or the
PostgreSQL test database when the suite runs on PostgreSQL), started together.
"""

import argparse
import datetime
import io
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from operations import jobs
from operations.models import JobLock

ROOT = Path(__file__).resolve().parent.parent
HOUR = datetime.timedelta(hours=1)


# The lock in one process.


@pytest.mark.django_db
def test_a_job_held_by_one_process_is_skipped_by_the_next_with_who_holds_it():
    first = jobs.claim("backup", lease=HOUR)
    second = jobs.claim("backup", lease=HOUR)
    assert not first.skipped
    assert second.skipped
    assert second.explanation.startswith("Skipped backup: another host is running it (")
    assert first.holder in second.explanation
    assert JobLock.objects.get().holder == first.holder


@pytest.mark.django_db
def test_a_finished_job_is_skipped_only_within_the_time_asked_for():
    with jobs.run_once("purge_requests", lease=HOUR) as job:
        assert not job.skipped
    lock = JobLock.objects.get()
    assert lock.held_until is None
    assert lock.last_finished_at is not None

    with jobs.run_once("purge_requests", lease=HOUR, skip_if_done_within=HOUR) as again:
        assert again.skipped
    assert "Skipped purge_requests: it already ran, finished at" in again.explanation
    with jobs.run_once("purge_requests", lease=HOUR) as anyway:  # no window: runs
        assert not anyway.skipped


@pytest.mark.django_db
def test_an_error_in_the_job_lets_go_without_counting_as_finished():
    with pytest.raises(RuntimeError), jobs.run_once("backup", lease=HOUR):
        raise RuntimeError("the disk is full")
    lock = JobLock.objects.get()
    assert (lock.held_until, lock.last_finished_at) == (None, None)
    # So the next timer (any host) runs it, even with a daily window.
    assert not jobs.claim("backup", lease=HOUR, skip_if_done_within=HOUR).skipped


@pytest.mark.django_db
def test_a_lease_that_ran_out_is_taken_over_and_the_late_holder_frees_nothing(caplog):
    late = jobs.claim("backup", lease=-datetime.timedelta(seconds=1))  # a host that died
    taker = jobs.claim("backup", lease=HOUR)
    assert not taker.skipped
    jobs.release(late, finished=True)  # the first host comes back and lets go
    lock = JobLock.objects.get()
    assert lock.holder == taker.holder
    assert lock.held_until is not None
    assert lock.last_finished_at is None
    assert "ran past its lease" in caplog.text


@pytest.mark.django_db
def test_every_job_command_skips_with_one_line_while_another_host_holds_it():
    for name in ["backup", "purge_requests", "retry_notifications", "send_review_reminders"]:
        holder = jobs.claim(name, lease=HOUR).holder
        out = io.StringIO()
        call_command(name, stdout=out)
        assert out.getvalue().splitlines() == [out.getvalue().strip()]  # one line
        assert out.getvalue().startswith(f"Skipped {name}: another host is running it")
        assert holder in out.getvalue()


@pytest.mark.django_db
def test_the_daily_review_reminder_runs_once_a_day_unless_told_otherwise():
    def run(*args):
        out = io.StringIO()
        call_command("send_review_reminders", *args, stdout=out)
        return out.getvalue()

    assert "Nothing to review" in run()
    assert run().startswith("Skipped send_review_reminders: it already ran")
    assert "Nothing to review" in run("--skip-if-done-within", "0")


@pytest.mark.parametrize(("text", "minutes"), [("0", 0), ("90m", 90), ("20h", 1200), ("0h", 0)])
def test_a_time_on_the_command_line_is_minutes_or_hours(text, minutes):
    assert jobs.duration(text) == datetime.timedelta(minutes=minutes)


@pytest.mark.parametrize("text", ["20", "-5m", "h", "1.5h", "20d", ""])
def test_a_time_without_its_unit_is_refused(text):
    with pytest.raises(argparse.ArgumentTypeError, match="give minutes or hours"):
        jobs.duration(text)


# Hosts: separate processes, one database.


@pytest.fixture(scope="module")
def migrated_sqlite(tmp_path_factory):
    """A migrated SQLite file, made once for this module (migrate takes seconds)."""
    path = tmp_path_factory.mktemp("jobs") / "migrated.sqlite3"
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=environment(f"sqlite:///{path}"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return path


class SharedDatabase:
    """The one database every "host" (manage.py process) of a test uses."""

    def __init__(self, url, sqlite_path=None):
        self.url, self.sqlite_path = url, sqlite_path

    def manage(self, *args):
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=environment(self.url),
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip

    def start(self, *args):
        return subprocess.Popen(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=environment(self.url),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    def lock_row(self, name):
        """(holder, held, finished) of a job's row, read as any other host would."""
        sql = "SELECT holder, held_until, last_finished_at FROM operations_joblock WHERE name = %s"
        if self.sqlite_path:
            with sqlite3.connect(self.sqlite_path) as db:
                row = db.execute(sql.replace("%s", "?"), [name]).fetchone()
        else:
            with connection.cursor() as cursor:
                cursor.execute(sql, [name])
                row = cursor.fetchone()
        holder, held_until, finished = row
        return holder, held_until is not None, finished is not None

    def writes_paused(self, waiters):
        """Hold every writer back until `waiters` processes wait, then let them all go.

        So the hosts reach the lock at the same moment: a real race, not one host
        finishing before the other starts. (If they are slower than the pause, the test
        still holds; it is then the "finished a moment ago" case.)
        """
        if self.sqlite_path:
            return sqlite_writes_paused(self.sqlite_path)
        return postgres_writes_paused(waiters)


def environment(database_url):
    return {**os.environ, "DEBUG": "true", "DATABASE_URL": database_url}


class sqlite_writes_paused:
    """SQLite: one writer at a time; the others wait (busy timeout 20 s)."""

    def __init__(self, path):
        self.db = sqlite3.connect(path, isolation_level=None)

    def __enter__(self):
        self.db.execute("BEGIN IMMEDIATE")

    def release_when_waiting(self):
        time.sleep(6)  # no way to see a waiting SQLite writer: start-up takes ~2 s

    def __exit__(self, *exc):
        self.db.execute("COMMIT")
        self.db.close()


class postgres_writes_paused:
    """PostgreSQL: the job lock table locked against writes, in this test's connection."""

    def __init__(self, waiters):
        self.waiters = waiters
        self.atomic = transaction.atomic()

    def __enter__(self):
        self.atomic.__enter__()
        with connection.cursor() as cursor:
            cursor.execute("LOCK TABLE operations_joblock IN EXCLUSIVE MODE")

    def release_when_waiting(self):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and waiting_postgres_locks() < self.waiters:
            time.sleep(0.2)

    def __exit__(self, *exc):
        self.atomic.__exit__(None, None, None)


def waiting_postgres_locks():
    """How many processes wait for a lock, seen from a connection of its own."""
    from django.db import DEFAULT_DB_ALIAS, connections

    other = type(connections[DEFAULT_DB_ALIAS])(connection.settings_dict, alias="lock_watch")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            return cursor.fetchone()[0]
    finally:
        other.close()


@pytest.fixture
def shared_database(request, tmp_path):
    if connection.vendor == "sqlite":
        path = tmp_path / "site.sqlite3"
        shutil.copy(request.getfixturevalue("migrated_sqlite"), path)
        return SharedDatabase(f"sqlite:///{path}", sqlite_path=path)
    # PostgreSQL: the test database itself; the test's rows are committed
    # (transaction=True), so the other processes see them.
    settings_dict = connection.settings_dict
    user, password = (
        quote(settings_dict["USER"], safe=""),
        quote(settings_dict["PASSWORD"], safe=""),
    )
    url = (
        f"postgres://{user}:{password}@{settings_dict['HOST']}:{settings_dict['PORT']}"
        f"/{settings_dict['NAME']}"
    )
    return SharedDatabase(url)


def last_line(result):
    return result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ""


@pytest.mark.django_db(transaction=True)
def test_two_hosts_started_together_take_exactly_one_backup(shared_database, tmp_path):
    files = [tmp_path / "host-a.backup", tmp_path / "host-b.backup"]
    pause = shared_database.writes_paused(waiters=2)
    with pause:
        hosts = [
            shared_database.start("backup", "--output", str(f), "--skip-if-done-within", "1h")
            for f in files
        ]
        pause.release_when_waiting()
    outputs = [host.communicate(timeout=300) for host in hosts]

    assert [host.returncode for host in hosts] == [0, 0], [err for _, err in outputs]
    stdout = sorted(out.strip() for out, _ in outputs)
    assert stdout[0].startswith("Backup written: ")
    assert stdout[1].startswith("Skipped backup: ")
    assert sum(f.exists() for f in files) == 1
    holder, held, finished = shared_database.lock_row("backup")
    assert (held, finished) == (False, True)
    assert holder in stdout[1]  # the skipping host names the one that took it


@pytest.mark.django_db(transaction=True)
def test_a_host_that_died_holding_the_job_blocks_it_until_its_lease_runs_out(
    shared_database, tmp_path
):
    die_holding = "from operations import jobs; import datetime; print(jobs.claim('backup', lease=datetime.timedelta({})).holder)"  # noqa: E501
    dead = shared_database.manage("shell", "-v0", "-c", die_holding.format("hours=1"))
    assert dead.returncode == 0, dead.stderr
    dead_holder = dead.stdout.strip()

    blocked = shared_database.manage("backup", "--output", str(tmp_path / "blocked.backup"))
    assert blocked.returncode == 0, blocked.stderr
    assert blocked.stdout.startswith("Skipped backup: another host is running it")
    assert dead_holder in blocked.stdout
    assert not (tmp_path / "blocked.backup").exists()

    # The lease runs out (an hour later, here at once): the next host takes over.
    expire = "from operations.models import JobLock; from django.utils import timezone; JobLock.objects.update(held_until=timezone.now())"  # noqa: E501
    assert shared_database.manage("shell", "-v0", "-c", expire).returncode == 0
    taken = shared_database.manage("backup", "--output", str(tmp_path / "taken.backup"))
    assert taken.returncode == 0, taken.stderr
    assert taken.stdout.startswith("Backup written: ")
    holder, held, finished = shared_database.lock_row("backup")
    assert holder != dead_holder
    assert (held, finished) == (False, True)


@pytest.mark.django_db(transaction=True)
def test_a_job_that_fails_lets_go_so_the_next_run_is_not_skipped(shared_database, tmp_path):
    failed = shared_database.manage("backup", "--output", "/proc/no-such-folder/x.backup")
    assert failed.returncode == 1
    assert last_line(failed).startswith("CommandError: Cannot write the backup")
    holder, held, finished = shared_database.lock_row("backup")
    assert holder and (held, finished) == (False, False)

    # A daily timer right after: the failed run did not count as today's backup.
    retried = shared_database.manage(
        "backup", "--output", str(tmp_path / "next.backup"), "--skip-if-done-within", "20h"
    )
    assert retried.returncode == 0, retried.stderr
    assert retried.stdout.startswith("Backup written: ")
