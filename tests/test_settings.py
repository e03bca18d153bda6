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


CONFIGURATION = {
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "ALLOW_SQLITE",
    "REDIS_URL",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
}
PRODUCTION = {"DEBUG": "false", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "clinic.example"}
SETUP = "import django; django.setup(); "


def test_with_debug_off_a_missing_secret_key_and_hosts_stop_start_up_with_a_clear_message():
    result = run_python(SETUP, DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY and ALLOWED_HOSTS must be set" in result.stderr


def test_debug_is_off_unless_asked_for():
    # A cron job or shell started without the environment file is not in debug mode...
    show = SETUP + "from django.conf import settings; print(settings.DEBUG)"
    assert run_python(show, ALLOW_SQLITE="true", **PRODUCTION).stdout.strip() == "False"
    # ...and without the production settings it stops instead of using an empty database.
    result = run_python(show)
    assert result.returncode != 0
    assert "SECRET_KEY and ALLOWED_HOSTS must be set" in result.stderr
    assert run_python(show, DEBUG="true").stdout.strip() == "True"


def test_production_refuses_sqlite_unless_allowed():
    show = SETUP + "from django.db import connection; print(connection.vendor)"
    refused = run_python(show, **PRODUCTION)
    assert refused.returncode != 0
    assert "production uses PostgreSQL" in refused.stderr
    allowed = run_python(show, ALLOW_SQLITE="true", **PRODUCTION)
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout.strip() == "sqlite"
    postgres = run_python(
        SETUP + "from django.conf import settings; print(settings.DATABASES['default']['ENGINE'])",
        DATABASE_URL="postgres://clinic@127.0.0.1:5432/clinic",
        **PRODUCTION,
    )
    assert postgres.stdout.strip() == "django.db.backends.postgresql", postgres.stderr


def test_hsts_preload_and_subdomains_are_opt_in():
    show = SETUP + (
        "from django.conf import settings; "
        "print(settings.SECURE_HSTS_SECONDS, settings.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
        "settings.SECURE_HSTS_PRELOAD)"
    )
    production = {**PRODUCTION, "ALLOW_SQLITE": "true"}
    assert run_python(show, **production).stdout.split() == ["31536000", "False", "False"]
    both = run_python(
        show, SECURE_HSTS_INCLUDE_SUBDOMAINS="true", SECURE_HSTS_PRELOAD="true", **production
    )
    assert both.stdout.split() == ["31536000", "True", "True"]


def test_the_local_demo_runs_on_sqlite_with_debug_on():
    result = run_python(
        SETUP + "from django.db import connection; print(connection.vendor)", DEBUG="true"
    )
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
        DEBUG="true",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["wal", "20000", "IMMEDIATE"]


def test_page_cache_off_renders_every_page_afresh():
    code = SETUP + "from django.conf import settings; print(settings.CACHES['pages']['BACKEND'])"
    assert run_python(code, DEBUG="true").stdout.strip().endswith("FileBasedCache")
    assert run_python(code, DEBUG="true", PAGE_CACHE="off").stdout.strip().endswith("DummyCache")


def test_an_empty_setting_takes_its_default():
    """A copied env-file line such as `STATIC_ROOT=` means "not set": never the current
    folder, never a crash on int(""), never a security setting turned off."""
    show = SETUP + (
        "from django.conf import settings; "
        "print(settings.STATIC_ROOT, settings.MEDIA_ROOT, settings.BACKUP_DIR, "
        "settings.SECURE_SSL_REDIRECT, settings.EMAIL_PORT, "
        "settings.DATABASES['default']['ENGINE'])"
    )
    empty = dict.fromkeys(
        ["STATIC_ROOT", "MEDIA_ROOT", "BACKUP_DIR", "SECURE_SSL_REDIRECT", "EMAIL_PORT"], ""
    )
    result = run_python(show, ALLOW_SQLITE="true", DATABASE_URL="", **empty, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        str(ROOT / "staticfiles"),
        str(ROOT / "media"),
        str(ROOT / "backups"),
        "True",
        "25",
        "django.db.backends.sqlite3",
    ]


def test_gunicorn_settings_left_empty_take_their_defaults():
    show = (
        "import runpy; c = runpy.run_path('gunicorn.conf.py'); "
        "print(c['bind'][0], c['timeout'], c['max_requests'], c['max_requests_jitter'], "
        "c['loglevel'], c['accesslog'])"
    )
    names = ["GUNICORN_BIND", "GUNICORN_TIMEOUT", "GUNICORN_MAX_REQUESTS"]
    names += ["GUNICORN_MAX_REQUESTS_JITTER", "GUNICORN_LOG_LEVEL", "GUNICORN_ACCESS_LOG"]
    result = run_python(show, **dict.fromkeys(names, ""))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["127.0.0.1:8000", "30", "100000", "10000", "info", "None"]
