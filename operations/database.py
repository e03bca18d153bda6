"""What backup and restore share: running PostgreSQL's tools, checking a SQLite file."""

import os
import sqlite3
import subprocess

from django.core.management.base import CommandError


def postgres_environment(settings_dict):
    """libpq's environment variables for one configured database: no password in argv."""
    values = {
        "PGHOST": settings_dict.get("HOST") or "",
        "PGPORT": str(settings_dict.get("PORT") or ""),
        "PGUSER": settings_dict.get("USER") or "",
        "PGPASSWORD": settings_dict.get("PASSWORD") or "",
        "PGDATABASE": settings_dict["NAME"],
    }
    return {**os.environ, **{key: value for key, value in values.items() if value}}


def run_tool(command, env, timeout):
    """Run pg_dump / pg_restore; a failure raises CommandError with the tool's message."""
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError as exc:
        raise CommandError(f"{command[0]} is not installed (Debian: postgresql-client).") from exc
    except subprocess.TimeoutExpired as exc:
        raise CommandError(f"{command[0]} took longer than {timeout} seconds.") from exc
    if result.returncode != 0:
        # One line, so the operator's last line says what went wrong.
        message = " / ".join(line.strip() for line in result.stderr.splitlines() if line.strip())
        raise CommandError(f"{command[0]} failed: {message[-2000:]}")
    return result


def sqlite_integrity(path):
    """PRAGMA integrity_check on a SQLite file: "ok", or the first problems found.

    A file SQLite cannot read at all (cut short, or not a database) is a problem too,
    reported in words rather than raised.
    """
    check = sqlite3.connect(path)
    try:
        rows = check.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError as exc:
        return f"SQLite cannot read it ({exc})"
    finally:
        check.close()
    return "; ".join(row[0] for row in rows[:5])
