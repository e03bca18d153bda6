"""Load and crash test of the consultation form, against gunicorn on loopback.

    .venv/bin/python scripts/loadtest.py --database sqlite
    scripts/with-postgres.sh .venv/bin/python scripts/loadtest.py --database postgres

(`make loadtest` runs both.) It starts gunicorn itself, with gunicorn.conf.py and
production settings (DEBUG off), on a free port of 127.0.0.1, against a throwaway
database: a SQLite file in a temporary folder, or a new database created next to
DATABASE_URL's (which must be on loopback) and dropped afterwards.

Load phase: CLIENTS threads send SUBMISSIONS consultation requests between them. Each
one does what a browser does: GET the form (CSRF cookie, CSRF token and the signed
"started" token from the HTML), then POST a valid request with a unique name and email.
A 302 to the thanks page is an acknowledgement; its reference is kept. Afterwards every
acknowledged reference is looked up in the database.

Crash phase: the same load; part-way through, gunicorn's master and workers are killed
with SIGKILL, gunicorn is started again, and the clients carry on. Then every
acknowledged request must be in the database, no submission may be stored twice, and
the database's own integrity check must pass (SQLite: PRAGMA integrity_check and
foreign_key_check; PostgreSQL: a full read of every table, plus amcheck on every table
and index when POSTGRES_ADMIN_URL, which scripts/with-postgres.sh sets, allows it).

The requests look as if they came through the HTTPS proxy of production
(X-Forwarded-Proto: https, one X-Forwarded-For loopback address per client, with
TRUSTED_PROXY_COUNT=1), so the production security settings stay as they are. The form
rate limit is raised for the run with REQUEST_RATE_LIMIT.

Exits 1 when a pass condition fails: any server error (5xx), any submission not
acknowledged in the load phase, any acknowledged request missing, any duplicate, or a
failed integrity check. Every loop is bounded in count and in time (--time-limit).
"""

import argparse
import contextlib
import itertools
import os
import re
import secrets
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlencode, urlsplit, urlunsplit

from common import (
    HOST,
    HTTP_TIMEOUT,
    Gunicorn,
    ServerDown,
    cookie_value,
    free_port,
    gunicorn_env,
    hidden_value,
    http_request,
    log,
    manage,
    percentile,
    production_env,
)

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
FORM = "/appointments/consultation/"
THANKS = re.compile(r"^/appointments/thanks/([2-9A-HJ-NP-Z]{8})/(call-now/)?$")
QUERY_MARKER = "loadtest-query-marker"


# The run ------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    planned: int
    submitted: int = 0
    acknowledged: dict = field(default_factory=dict)  # email -> reference
    server_errors: int = 0
    client_errors: Counter = field(default_factory=Counter)
    no_answer: int = 0
    latencies: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def proxy_headers(client):
    # What the production proxy adds: the scheme, and the client's address (a loopback
    # address per client, so each has its own rate-limit count, as real patients do).
    return {
        "Host": HOST,
        "X-Forwarded-Proto": "https",
        "X-Forwarded-For": f"127.0.{client // 250 + 1}.{client % 250 + 1}",
    }


class LoadRun:
    def __init__(self, port, run_id, fill_seconds, deadline):
        self.port, self.run_id = port, run_id
        self.fill_seconds, self.deadline = fill_seconds, deadline

    def submission(self, phase, number):
        email = f"load-{self.run_id}-{phase.name}-{number:05d}@example.com"
        return email, {
            "safety_pump_alarm": "no",
            "safety_fever": "no",
            "safety_breathing": "no",
            "safety_withdrawal": "no",
            "name": f"Load Test {phase.name.title()} {number}",
            "phone": "",
            "email": email,
            "contact_method": "email",
            "preferred_time": "any",
            "patient_type": "new",
            "procedure": "",
            "reason": "Load test submission.",
            "referring_doctor": "",
            "language": "",
            "data_consent": "on",
            "website": "",
        }

    def client(self, phase, client, numbers):
        """One simulated patient after another from the same address, until none are left."""
        headers = proxy_headers(client)
        headers["Host"] = f"{HOST}:{self.port}"
        referer = f"https://{HOST}:{self.port}{FORM}"
        started = None
        for number in numbers:
            if time.monotonic() > self.deadline:
                return
            page = self.get_form(phase, headers)
            if page is None:
                continue
            csrf_cookie, csrf_token, page_started = page
            if started is None:
                # Filled in no faster than a person: the form's timing trap would
                # otherwise answer like a thank-you and store nothing.
                time.sleep(self.fill_seconds)
                started = page_started
            email, fields = self.submission(phase, number)
            fields.update(csrfmiddlewaretoken=csrf_token, started=started)
            post_headers = {
                **headers,
                "Cookie": f"csrftoken={csrf_cookie}",
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": referer,
            }
            self.post(phase, email, urlencode(fields).encode(), post_headers)

    def get_form(self, phase, headers):
        while time.monotonic() < self.deadline:
            try:
                status, response_headers, body, _ = http_request(self.port, "GET", FORM, headers)
            except ServerDown:
                time.sleep(0.2)  # Between the crash and the restart.
                continue
            except OSError:
                time.sleep(0.2)
                continue
            if status != 200:
                with phase.lock:
                    if status >= 500:
                        phase.server_errors += 1
                    else:
                        phase.client_errors[f"GET {status}"] += 1
                return None
            page = body.decode("utf-8", "replace")
            values = (
                cookie_value(response_headers, "csrftoken"),
                hidden_value(page, "csrfmiddlewaretoken"),
                hidden_value(page, "started"),
            )
            if None in values:
                with phase.lock:
                    phase.client_errors["form without tokens"] += 1
                return None
            return values
        return None

    def post(self, phase, email, body, headers):
        with phase.lock:
            phase.submitted += 1
        while True:
            try:
                status, response_headers, _, seconds = http_request(
                    self.port, "POST", FORM, headers, body
                )
                break
            except ServerDown:
                # Refused before anything was sent: safe to send again once it is back.
                if time.monotonic() > self.deadline:
                    with phase.lock:
                        phase.no_answer += 1
                    return
                time.sleep(0.2)
            except OSError:
                # Sent, and the connection died (the crash): the outcome is unknown to
                # the patient, who was not told it worked. Not acknowledged.
                with phase.lock:
                    phase.no_answer += 1
                return
        with phase.lock:
            if status == 302:
                location = urlsplit(response_headers.get("Location", "")).path
                match = THANKS.match(location)
                if match:
                    phase.acknowledged[email] = match.group(1)
                    phase.latencies.append(seconds)
                else:
                    phase.client_errors[f"302 to {location[:40]}"] += 1
            elif status >= 500:
                phase.server_errors += 1
            else:
                phase.client_errors[f"POST {status}"] += 1

    def run(self, phase, clients, during=None):
        """Send phase.planned submissions from `clients` threads; `during` runs alongside."""
        counter = itertools.count()
        lock = threading.Lock()

        def numbers():
            while True:
                with lock:
                    number = next(counter)
                if number >= phase.planned:
                    return
                yield number

        with ThreadPoolExecutor(max_workers=clients) as pool:
            futures = [pool.submit(self.client, phase, n, numbers()) for n in range(clients)]
            extra = during() if during else None
            for future in futures:
                future.result(timeout=max(1, self.deadline - time.monotonic() + HTTP_TIMEOUT))
        return extra


# Databases ----------------------------------------------------------------------------


class SQLiteDatabase:
    label = "SQLite"

    def __init__(self, work):
        self.path = work / "loadtest.sqlite3"
        self.url = f"sqlite:///{self.path}"

    def create(self):
        pass

    def drop(self):
        pass

    def rows(self):
        with contextlib.closing(sqlite3.connect(self.path, timeout=30)) as connection:
            return connection.execute(
                "SELECT email, reference FROM appointments_request WHERE email LIKE 'load-%'"
            ).fetchall()

    def integrity(self):
        with contextlib.closing(sqlite3.connect(self.path, timeout=30)) as connection:
            result = [row[0] for row in connection.execute("PRAGMA integrity_check")]
            foreign = connection.execute("PRAGMA foreign_key_check").fetchall()
        ok = result == ["ok"] and not foreign
        detail = f"PRAGMA integrity_check: {'; '.join(result[:3])}"
        detail += f", foreign_key_check: {len(foreign)} problem(s)"
        return ok, detail


class PostgreSQLDatabase:
    label = "PostgreSQL"

    def __init__(self, base_url, admin_url):
        import psycopg  # Only needed here; the SQLite run works without it.

        self.psycopg = psycopg
        parts = urlsplit(base_url)
        if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
            raise SystemExit("--database postgres needs DATABASE_URL=postgres://...")
        for url in filter(None, [base_url, admin_url]):
            if urlsplit(url).hostname not in LOOPBACK:
                raise SystemExit("The load test only talks to a database on 127.0.0.1.")
        self.name = f"clinic_loadtest_{secrets.token_hex(4)}"
        self.owner = unquote(parts.username or "")
        self.base_url, self.admin_url = base_url, admin_url
        self.url = urlunsplit(parts._replace(path=f"/{self.name}"))

    def _admin(self, database=None):
        url = self.admin_url or self.base_url
        if database:
            url = urlunsplit(urlsplit(url)._replace(path=f"/{database}"))
        return self.psycopg.connect(url, autocommit=True, connect_timeout=10)

    def create(self):
        owner = f' OWNER "{self.owner}"' if self.admin_url and self.owner else ""
        with self._admin() as connection:
            connection.execute(f'CREATE DATABASE "{self.name}"{owner}')

    def drop(self):
        with self._admin() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def rows(self):
        with self.psycopg.connect(self.url, connect_timeout=10) as connection:
            return connection.execute(
                "SELECT email, reference FROM appointments_request WHERE email LIKE 'load-%'"
            ).fetchall()

    def integrity(self):
        """A full read of every table; amcheck (heap and B-tree) when we are superuser."""
        with self.psycopg.connect(self.url, connect_timeout=10) as connection:
            tables = [
                row[0]
                for row in connection.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
                )
            ]
            rows = 0
            for table in tables:
                # Every column of every row, through the heap (no index-only shortcut).
                (count, _) = connection.execute(
                    f'SELECT count(*), sum(length(t::text)) FROM "{table}" AS t'
                ).fetchone()
                rows += count
        detail = f"full read of {len(tables)} tables ({rows} rows)"
        if not self.admin_url:
            return True, detail + "; amcheck needs POSTGRES_ADMIN_URL (not set)"
        with self._admin(self.name) as connection:
            connection.execute("CREATE EXTENSION IF NOT EXISTS amcheck")
            heap_problems = sum(
                connection.execute(
                    "SELECT count(*) FROM verify_heapam(%s::regclass)", [t]
                ).fetchone()[0]
                for t in tables
            )
            indexes = [
                row[0]
                for row in connection.execute(
                    "SELECT c.oid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                    "JOIN pg_am a ON a.oid = c.relam JOIN pg_namespace n "
                    "ON n.oid = c.relnamespace WHERE a.amname = 'btree' AND n.nspname = 'public'"
                )
            ]
            for index in indexes:
                connection.execute("SELECT bt_index_check(%s, true)", [index])
        detail += f"; amcheck: {len(tables)} tables, {len(indexes)} B-tree indexes, "
        detail += f"{heap_problems} problem(s)"
        return heap_problems == 0, detail


# Checks and the report ----------------------------------------------------------------


def compare(phase, stored):
    """(lost, duplicated, stored without acknowledgement) for one phase's submissions."""
    mine = [(email, ref) for email, ref in stored if f"-{phase.name}-" in email]
    by_email = Counter(email for email, _ in mine)
    stored_pairs = set(mine)
    lost = sum(1 for pair in phase.acknowledged.items() if pair not in stored_pairs)
    duplicated = sum(count - 1 for count in by_email.values() if count > 1)
    unacknowledged = sum(1 for email in by_email if email not in phase.acknowledged)
    return lost, duplicated, unacknowledged


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--submissions", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--crash-submissions", type=int, default=400)
    parser.add_argument(
        "--time-limit", type=int, default=900, help="Seconds for the whole run (default 900)."
    )
    parser.add_argument("--keep", action="store_true", help="Keep the temporary folder.")
    options = parser.parse_args()
    started = time.monotonic()
    deadline = started + options.time_limit

    work = Path(tempfile.mkdtemp(prefix="clinic-loadtest-"))
    if options.database == "sqlite":
        database = SQLiteDatabase(work)
    else:
        database = PostgreSQLDatabase(
            os.environ.get("DATABASE_URL", ""), os.environ.get("POSTGRES_ADMIN_URL")
        )
    port = free_port()
    env = production_env(
        work,
        database.url,
        **gunicorn_env(port, work / "access.log"),
        TRUSTED_PROXY_COUNT="1",
        # The public form takes 10 sends per client address per hour by default.
        REQUEST_RATE_LIMIT="1000000",
    )
    server = Gunicorn(env, port, work / "gunicorn.log")
    failures = []
    created = False
    try:
        database.create()
        created = True
        log(f"Preparing a throwaway {database.label} database and static files in {work} ...")
        manage(env, "migrate", "--noinput")
        manage(env, "collectstatic", "--noinput")
        manage(env, "load_demo_content")
        fill_seconds = float(
            manage(
                env,
                "shell",
                "--no-imports",
                "-c",
                "from django.conf import settings; print(settings.REQUEST_MIN_FILL_SECONDS)",
            ).split()[-1]
        )
        server.start(min(90, deadline - time.monotonic()))
        load = LoadRun(port, secrets.token_hex(3), fill_seconds + 0.5, deadline)

        # Load phase.
        log(f"Load: {options.submissions} submissions from {options.clients} clients ...")
        main_phase = Phase("load", options.submissions)
        load_started = time.monotonic()
        load.run(main_phase, options.clients)
        load_seconds = time.monotonic() - load_started
        workers = len(server.workers())
        http_request(port, "GET", f"{FORM}?procedure={QUERY_MARKER}", proxy_headers(0))

        # Crash phase: kill -9 once a quarter of it is acknowledged, then start again.
        log(f"Crash: {options.crash_submissions} submissions, gunicorn killed part-way ...")
        crash_phase = Phase("crash", options.crash_submissions)
        crash = {}

        def kill_and_restart():
            threshold = max(1, options.crash_submissions // 4)
            limit = time.monotonic() + 120
            while len(crash_phase.acknowledged) < threshold and time.monotonic() < limit:
                time.sleep(0.02)
            crash["acknowledged_before"] = len(crash_phase.acknowledged)
            workers_killed = server.kill()
            killed_at = time.monotonic()
            time.sleep(1)  # Down for a moment: clients meet refused connections.
            server.start(min(90, deadline - time.monotonic()))
            crash["down_seconds"] = time.monotonic() - killed_at
            crash["workers_killed"] = workers_killed

        load.run(crash_phase, options.clients, during=kill_and_restart)
        server.stop()

        stored = database.rows()
        integrity_ok, integrity_detail = database.integrity()
        access_log = (work / "access.log").read_text(errors="replace")
    except BaseException:
        log(f"The run stopped; logs kept in {work}")
        raise
    finally:
        with contextlib.suppress(Exception):
            if server.process is not None:
                server.kill()
        if created:
            with contextlib.suppress(Exception):
                database.drop()

    # The report.
    rows = []
    for phase in (main_phase, crash_phase):
        lost, duplicated, unacknowledged = compare(phase, stored)
        phase.lost, phase.duplicated, phase.unacknowledged = lost, duplicated, unacknowledged
        rows.append(
            (
                phase.name,
                phase.submitted,
                len(phase.acknowledged),
                phase.server_errors,
                sum(phase.client_errors.values()),
                phase.no_answer,
                lost,
                duplicated,
                percentile(phase.latencies, 0.50) * 1000,
                percentile(phase.latencies, 0.95) * 1000,
                percentile(phase.latencies, 0.99) * 1000,
            )
        )
    print()
    print(
        f"Load test on {database.label}: gunicorn on {HOST}, {workers} workers, "
        f"{options.clients} concurrent clients, production settings (DEBUG off)"
    )
    heads = (
        "phase",
        "submitted",
        "acknowledged",
        "5xx",
        "4xx/other",
        "no answer",
        "lost",
        "duplicated",
        "p50 ms",
        "p95 ms",
        "p99 ms",
    )
    print("  ".join(f"{head:>12}" for head in heads))
    for row in rows:
        cells = [f"{row[0]:>12}"] + [f"{value:>12}" for value in row[1:8]]
        cells += [f"{value:>12.0f}" for value in row[8:]]
        print("  ".join(cells))
    rate = main_phase.submitted / load_seconds if load_seconds else 0
    print(f"load phase: {load_seconds:.1f} s, {rate:.0f} submissions/s")
    print(
        f"crash phase: kill -9 of the master and {crash.get('workers_killed', 0)} workers after "
        f"{crash.get('acknowledged_before', 0)} acknowledgements; serving again after "
        f"{crash.get('down_seconds', 0):.1f} s; {crash_phase.no_answer} submission(s) cut off "
        f"unanswered, {crash_phase.unacknowledged} of them stored all the same"
    )
    print(f"integrity: {'ok' if integrity_ok else 'FAILED'} ({integrity_detail})")
    query_logged = QUERY_MARKER in access_log
    print(f"access log: {'HAS' if query_logged else 'no'} query strings")
    for phase in (main_phase, crash_phase):
        if phase.client_errors:
            print(f"{phase.name} client errors: {dict(phase.client_errors)}")

    if main_phase.submitted < options.submissions:
        failures.append(f"only {main_phase.submitted} submissions sent in the time limit")
    if len(main_phase.acknowledged) != main_phase.submitted:
        failures.append("not every load-phase submission was acknowledged")
    for phase in (main_phase, crash_phase):
        if phase.server_errors:
            failures.append(f"{phase.name}: {phase.server_errors} server errors")
        if phase.client_errors:
            failures.append(f"{phase.name}: {sum(phase.client_errors.values())} client errors")
        if phase.lost:
            failures.append(f"{phase.name}: {phase.lost} acknowledged requests lost")
        if phase.duplicated:
            failures.append(f"{phase.name}: {phase.duplicated} duplicated")
    if crash_phase.submitted < options.crash_submissions:
        failures.append(f"crash phase: only {crash_phase.submitted} submissions sent")
    if len(crash_phase.acknowledged) <= crash.get("acknowledged_before", 0):
        failures.append("crash phase: nothing acknowledged after the restart")
    if not integrity_ok:
        failures.append("the integrity check failed")
    if query_logged:
        failures.append("the access log recorded a query string")
    print(f"total time: {time.monotonic() - started:.0f} s")
    if failures:
        print("FAIL: " + "; ".join(failures))
        print(f"logs kept in {work}")
        return 1
    print("PASS: 0 server errors, 0 lost, 0 duplicated, integrity ok")
    if not options.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
