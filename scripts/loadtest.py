"""Load and crash test of the consultation form, against gunicorn on loopback.

    .venv/bin/python scripts/loadtest.py --database sqlite
    scripts/with-postgres.sh .venv/bin/python scripts/loadtest.py --database postgres

(`make loadtest` runs both.) It starts gunicorn itself, with gunicorn.conf.py and
production settings (DEBUG off), on a free port of 127.0.0.1, against a throwaway
database: a SQLite file in a temporary folder, or a new database created next to
DATABASE_URL's (which must be on loopback) and dropped afterwards.

Load phase: CLIENTS threads send SUBMISSIONS consultation requests between them, each
client its share. The form's "started" token is single-use (a token sent again finds
the request it made and stores nothing) and must be at least REQUEST_MIN_FILL_SECONDS
old, so each client works as a patient with one browser tab per request: it first GETs
one form per submission it will make (each GET gives its own CSRF cookie, CSRF token and
signed "started" token, read from the HTML), waits once for the minimum fill time, then
POSTs them back to back, each a valid request with its own token and a unique name and
email. A 302 to the thanks page is an acknowledgement; its reference is kept.
Afterwards every acknowledged reference is looked up in the database.

Crash phase: the same load; part-way through, gunicorn's master and workers are killed
with SIGKILL, gunicorn is started again, and the clients carry on. A POST refused before
anything was sent, or cut off after it was sent (the patient was told nothing), is sent
again, unchanged, once the server is back: with the same token, so a resend of a request
stored just before the crash must be redirected to that request's thanks page, and that
counts as acknowledged (a resend is not a duplicate). Then every acknowledged request
must be in the database under the reference it was acknowledged with, every crash-phase
submission must end acknowledged, no submission may be stored twice, and the database's
own integrity check must pass (SQLite: PRAGMA integrity_check and foreign_key_check;
PostgreSQL: a full read of every table, plus amcheck on every table and index when
POSTGRES_ADMIN_URL, which scripts/with-postgres.sh sets, allows it).

The requests look as if they came through the HTTPS proxy of production
(X-Forwarded-Proto: https, one X-Forwarded-For loopback address per client, with
TRUSTED_PROXY_COUNT=1), so the production security settings stay as they are. The form
rate limit is raised for the run with REQUEST_RATE_LIMIT.

Exits 1 when a pass condition fails: any server error (5xx), any submission not
acknowledged in the end (a POST cut off after sending is sent again in either phase),
any acknowledged request missing, any duplicate, or a failed integrity check. Every loop
is bounded in count and in time (--time-limit).
"""

import argparse
import contextlib
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
from datetime import UTC, datetime
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
# Sends of one submission at most (0.2 s apart), between the crash and the restart.
MAX_SENDS = 1000


# The run ------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    planned: int
    submitted: int = 0
    acknowledged: dict = field(default_factory=dict)  # email -> reference
    resent: set = field(default_factory=set)  # emails whose POST was cut off and sent again
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
        """One browser from one address, a tab per request: every form, then every send.

        Each form's "started" token is single-use, so each submission needs a form of
        its own; all of them are fetched first, then one wait makes every token older
        than the minimum fill time, and the POSTs go back to back (the load stays high).
        """
        headers = proxy_headers(client)
        headers["Host"] = f"{HOST}:{self.port}"
        referer = f"https://{HOST}:{self.port}{FORM}"
        forms = []
        for number in numbers:
            if time.monotonic() > self.deadline:
                break
            page = self.get_form(phase, headers)
            if page is not None:
                forms.append((number, page))
        if not forms:
            return
        # Filled in no faster than a person: a token younger than the minimum fill time
        # gets the form back (HTTP 200) and nothing is stored. The last form's token is
        # the youngest.
        time.sleep(self.fill_seconds)
        for number, (csrf_cookie, csrf_token, started) in forms:
            if time.monotonic() > self.deadline:
                return
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
        """Send one submission until it is answered; the same body (and token) each time."""
        with phase.lock:
            phase.submitted += 1
        answer, cut_off = None, False
        for _ in range(MAX_SENDS):
            try:
                answer = http_request(self.port, "POST", FORM, headers, body)
                break
            except ServerDown:
                # Refused before anything was sent: safe to send again once it is back.
                pass
            except OSError:
                # Sent, and the connection died (the crash): the patient was told nothing
                # and presses Send again. The same form and token: if the first send was
                # stored, the resend is answered with that request's thanks page.
                cut_off = True
            if time.monotonic() > self.deadline:
                break
            time.sleep(0.2)
        with phase.lock:
            if cut_off:
                phase.resent.add(email)
            if answer is None:
                phase.no_answer += 1
                return
            status, response_headers, _, seconds = answer
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
        """Send phase.planned submissions from `clients` threads; `during` runs alongside.

        Client n sends submissions n, n + clients, n + 2 * clients, ..."""
        with ThreadPoolExecutor(max_workers=clients) as pool:
            futures = [
                pool.submit(self.client, phase, n, range(n, phase.planned, clients))
                for n in range(clients)
            ]
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
            rows = connection.execute(
                "SELECT email, reference, submitted_at FROM appointments_request "
                "WHERE email LIKE 'load-%'"
            ).fetchall()
        # Django keeps SQLite's datetimes as ISO text in UTC.
        return [
            (email, reference, datetime.fromisoformat(at).replace(tzinfo=UTC))
            for email, reference, at in rows
        ]

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
                "SELECT email, reference, submitted_at FROM appointments_request "
                "WHERE email LIKE 'load-%'"
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
    """(lost, duplicated, stored without acknowledgement) for one phase's submissions.

    `stored` holds (email, reference, submitted_at) rows. An acknowledgement is lost
    unless a row has its email and the reference it was acknowledged with."""
    mine = [(email, ref) for email, ref, _ in stored if f"-{phase.name}-" in email]
    by_email = Counter(email for email, _ in mine)
    stored_pairs = set(mine)
    lost = sum(1 for pair in phase.acknowledged.items() if pair not in stored_pairs)
    duplicated = sum(count - 1 for count in by_email.values() if count > 1)
    unacknowledged = sum(1 for email in by_email if email not in phase.acknowledged)
    return lost, duplicated, unacknowledged


def resends(phase, stored, killed_at):
    """(stored before the crash, stored after it) among the phase's resent submissions.

    A resend of one stored before the crash (its answer was lost) was answered with that
    request's thanks page; one stored after it was stored by a resend."""
    when = {email: at for email, _, at in stored if email in phase.resent}
    before = sum(1 for at in when.values() if killed_at and at.timestamp() < killed_at)
    return before, len(when) - before


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
            crash["killed_at"] = time.time()  # Wall clock, as the rows' submitted_at.
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
                len(phase.resent),
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
        "resent",
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
        cells = [f"{row[0]:>12}"] + [f"{value:>12}" for value in row[1:9]]
        cells += [f"{value:>12.0f}" for value in row[9:]]
        print("  ".join(cells))
    rate = main_phase.submitted / load_seconds if load_seconds else 0
    print(f"load phase: {load_seconds:.1f} s, {rate:.0f} submissions/s")
    print(
        f"crash phase: kill -9 of the master and {crash.get('workers_killed', 0)} workers after "
        f"{crash.get('acknowledged_before', 0)} acknowledgements; serving again after "
        f"{crash.get('down_seconds', 0):.1f} s"
    )
    if main_phase.resent:
        print(
            f"load phase: {len(main_phase.resent)} submission(s) cut off after sending (no "
            "crash: a timeout or a reset) and sent again with the same token"
        )
    before, after = resends(crash_phase, stored, crash.get("killed_at"))
    print(
        f"crash phase: {len(crash_phase.resent)} submission(s) cut off after sending and sent "
        f"again with the same token: {before} already stored before the crash (the resend "
        f"answered with that request's thanks page, nothing stored again), {after} stored "
        f"by the resend; {crash_phase.no_answer} never answered, "
        f"{crash_phase.unacknowledged} stored without an acknowledgement"
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
    if len(crash_phase.acknowledged) != crash_phase.submitted:
        # Sending again is safe (single-use tokens), so every one must end answered.
        failures.append(
            f"crash phase: {crash_phase.submitted - len(crash_phase.acknowledged)} "
            "submission(s) not acknowledged, resends included"
        )
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
    print(
        "PASS: 0 server errors, every submission acknowledged, 0 lost, 0 duplicated, integrity ok"
    )
    if not options.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
