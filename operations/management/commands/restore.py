"""Restore a file made by `manage.py backup` into the configured database.

    manage.py restore BACKUP_FILE           # into an empty database only
    manage.py restore BACKUP_FILE --force   # replace what the database holds

Stop the site (and the db_worker) first. Without --force the command refuses a
database that already has tables, so a mistyped DATABASE_URL cannot overwrite live
data. SQLite: the backup is checked, then copied in with the online backup API.
PostgreSQL: `pg_restore` in one transaction (all or nothing); with --force, existing
objects are dropped first.

After restoring, it signs everyone out (it deletes every session: backups made before
sessions were left out hold them), lets go of every job lock the backup caught held
(those processes are gone), and empties the public page cache, so no page from
before the restore is served.
"""

import sqlite3
from pathlib import Path

from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from operations.database import postgres_environment, run_tool, sqlite_integrity
from operations.models import JobLock


class Command(BaseCommand):
    help = "Restore a backup file into the configured database (refuses a non-empty one)."

    def add_arguments(self, parser):
        parser.add_argument("backup_file", help="A file written by `manage.py backup`.")
        parser.add_argument(
            "--force", action="store_true", help="Replace the data of a non-empty database."
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)
        parser.add_argument(
            "--timeout", type=int, default=3600, help="Give up after this many seconds."
        )

    def handle(self, *args, **options):
        source = Path(options["backup_file"])
        if not source.is_file():
            raise CommandError(f"No backup file at {source}.")
        connection = connections[options["database"]]
        if connection.vendor not in {"sqlite", "postgresql"}:
            raise CommandError(f"No restore method for {connection.vendor}.")
        tables = connection.introspection.table_names()
        if tables and not options["force"]:
            raise CommandError(
                f"The database already has {len(tables)} tables. Restore into an empty "
                "database, or add --force to replace everything in it."
            )
        if connection.vendor == "sqlite":
            self.restore_sqlite(connection, source)
        else:
            connection.close()
            self.restore_postgresql(connection, source, options["force"], options["timeout"])
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM appointments_request")
            (count,) = cursor.fetchone()
        self.stdout.write(f"Restored {source} ({connection.vendor}): {count} request(s).")
        self.clean_up(options["database"])

    def clean_up(self, alias):
        """What must not outlive a restore: sessions, held job locks, cached pages."""
        signed_out, _ = Session.objects.using(alias).all().delete()
        # A backup made before the job lock existed has no such table (migrate adds it).
        if JobLock._meta.db_table in connections[alias].introspection.table_names():
            JobLock.objects.using(alias).update(held_until=None)
        caches["pages"].clear()
        self.stdout.write(
            f"Signed out {signed_out} session(s) and emptied the page cache. "
            "Run `manage.py migrate` if the backup is from an older version of the site."
        )

    def restore_sqlite(self, connection, source):
        if source.read_bytes()[:16] != b"SQLite format 3\x00":
            raise CommandError(f"{source} is not a SQLite backup.")
        problems = sqlite_integrity(source)
        if problems != "ok":
            raise CommandError(f"The backup failed its integrity check: {problems}")
        backup = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
        try:
            if not backup.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'appointments_request'"
            ).fetchone():
                raise CommandError(f"{source} is not a backup of this site.")
            connection.ensure_connection()
            backup.backup(connection.connection)
        finally:
            backup.close()
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA integrity_check")
            result = cursor.fetchone()[0]
        if result != "ok":
            raise CommandError(f"The restored database failed its integrity check: {result}")

    def restore_postgresql(self, connection, source, force, timeout):
        env = postgres_environment(connection.settings_dict)
        command = [
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={connection.settings_dict['NAME']}",
        ]
        if force:
            command += ["--clean", "--if-exists"]
        run_tool([*command, str(source)], env, timeout)
