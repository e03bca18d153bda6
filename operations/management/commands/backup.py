"""Back up the whole database to one file, while the site keeps running.

    manage.py backup                       # into BACKUP_DIR, named by the time (UTC)
    manage.py backup --output /path/file   # somewhere else

SQLite: the online backup API copies a consistent snapshot even while requests are
being written, then the copy's integrity is checked. PostgreSQL: `pg_dump` in its
custom format (restore it with `manage.py restore`, or `pg_restore`); the pg_dump on
the PATH must be the server's version or newer.

The file holds health information: it is written readable by its owner only. Copy it
off the machine, encrypted. Restore with `manage.py restore FILE` (see README).

Sessions are left out (their table stays, empty): a session key in a backup would let
whoever holds the file act as a signed-in, two-factor-verified member of staff.

With several app hosts, each host's timer may start it: the job lock
(operations/jobs.py) lets one host take the backup and the others skip it. Timers
pass `--skip-if-done-within 20h`, so a host whose timer fires a few minutes after
another's does not take a second daily backup; run by hand, it always takes one.
"""

import datetime
import os
import sqlite3
from pathlib import Path

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from operations import jobs
from operations.database import postgres_environment, run_tool, sqlite_integrity

# Left out of every backup: the sessions table's rows (signed-in staff).
SESSIONS_TABLE = Session._meta.db_table


class Command(BaseCommand):
    help = "Back up the database to one file (SQLite online backup, or pg_dump)."

    def add_arguments(self, parser):
        parser.add_argument("--output", help="File to write (default: BACKUP_DIR/<time>).")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)
        parser.add_argument(
            "--timeout", type=int, default=3600, help="Give up after this many seconds."
        )
        jobs.add_skip_argument(parser, default="0")

    def handle(self, *args, **options):
        # The lease outlasts the longest backup the timeout allows.
        lease = datetime.timedelta(seconds=options["timeout"]) + datetime.timedelta(minutes=10)
        with jobs.run_once(
            "backup", lease=lease, skip_if_done_within=options["skip_if_done_within"]
        ) as job:
            if job.skipped:
                self.stdout.write(job.explanation)
                return
            self.back_up(options)

    def back_up(self, options):
        connection = connections[options["database"]]
        if connection.vendor not in {"sqlite", "postgresql"}:
            raise CommandError(f"No backup method for {connection.vendor}.")
        suffix = ".sqlite3" if connection.vendor == "sqlite" else ".pgdump"
        if options["output"]:
            target = Path(options["output"])
        else:
            stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
            target = Path(settings.BACKUP_DIR) / f"clinic-{stamp}{suffix}"
        if target.exists():
            raise CommandError(f"{target} already exists: choose another name.")
        try:
            self.write(connection, target, options["timeout"])
        except (OSError, sqlite3.Error) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise CommandError(f"Cannot write the backup to {target}: {reason}.") from exc
        size_kib = max(1, target.stat().st_size // 1024)
        self.stdout.write(f"Backup written: {target} ({size_kib} KiB, {connection.vendor}).")

    def write(self, connection, target, timeout):
        target.parent.mkdir(parents=True, exist_ok=True)
        # Written under a temporary name, then renamed: a half-written file never
        # looks like a backup. Owner-only from the start (umask), not chmod after.
        partial = target.with_name(f".{target.name}.partial")
        old_umask = os.umask(0o077)
        try:
            if connection.vendor == "sqlite":
                self.backup_sqlite(connection, partial)
            else:
                self.backup_postgresql(connection, partial, timeout)
            partial.replace(target)
        finally:
            os.umask(old_umask)
            partial.unlink(missing_ok=True)

    def backup_sqlite(self, connection, path):
        connection.ensure_connection()
        destination = sqlite3.connect(path)
        try:
            # In one step: a snapshot under one read transaction, which in WAL mode does
            # not hold up writers (a copy in steps would restart after every write).
            connection.connection.backup(destination)
            # One self-contained file, whatever the live database's journal mode.
            destination.execute("PRAGMA journal_mode=DELETE")
            # Sessions out of the copy. secure_delete overwrites the deleted rows with
            # zeros, so no session key is left readable in the file's free pages.
            destination.execute("PRAGMA secure_delete=ON")
            destination.execute(f'DELETE FROM "{SESSIONS_TABLE}"')
            destination.commit()
        finally:
            destination.close()
        problems = sqlite_integrity(path)
        if problems != "ok":
            raise CommandError(f"The backup copy failed its integrity check: {problems}")

    def backup_postgresql(self, connection, path, timeout):
        env = postgres_environment(connection.settings_dict)
        command = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges"]
        # The sessions table is dumped empty: its definition, none of its rows.
        command.append(f"--exclude-table-data={SESSIONS_TABLE}")
        run_tool([*command, "--file", str(path)], env, timeout)
