"""The settings module: safe defaults, a clear stop when production settings are missing."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_python(code, **env):
    environment = {k: v for k, v in os.environ.items() if k not in CONFIGURATION}
    environment.update(env, DJANGO_SETTINGS_MODULE="clinic_site.settings")
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True
    )


CONFIGURATION = {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL"}
SETUP = "import django; django.setup(); "


def test_with_debug_off_a_missing_secret_key_and_hosts_stop_start_up_with_a_clear_message():
    result = run_python(SETUP, DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY and ALLOWED_HOSTS must be set" in result.stderr


def test_with_debug_off_and_both_set_the_site_starts():
    result = run_python(
        SETUP + "from django.conf import settings; print(settings.DEBUG)",
        DEBUG="false",
        SECRET_KEY="x" * 50,
        ALLOWED_HOSTS="clinic.example",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_a_fresh_clone_runs_with_no_configuration_on_sqlite():
    result = run_python(SETUP + "from django.db import connection; print(connection.vendor)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "sqlite"


def test_sqlite_waits_for_the_write_lock_instead_of_failing(tmp_path):
    database = tmp_path / "site.sqlite3"
    result = run_python(
        SETUP + "from django.db import connection; c = connection.cursor(); "
        "print(c.execute('PRAGMA journal_mode').fetchone()[0], "
        "c.execute('PRAGMA busy_timeout').fetchone()[0], "
        "connection.settings_dict['OPTIONS']['transaction_mode'])",
        DATABASE_URL=f"sqlite:///{database}",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["wal", "20000", "IMMEDIATE"]


def test_page_cache_off_renders_every_page_afresh():
    code = SETUP + "from django.conf import settings; print(settings.CACHES['pages']['BACKEND'])"
    assert run_python(code).stdout.strip().endswith("FileBasedCache")
    assert run_python(code, PAGE_CACHE="off").stdout.strip().endswith("DummyCache")
