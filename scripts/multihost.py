"""Two app hosts sharing PostgreSQL and Redis, as a clinic group behind a load balancer.

    scripts/with-postgres.sh .venv/bin/python scripts/multihost.py

(`make multihost`.) Starts two gunicorn servers ("hosts" A and B) on 127.0.0.1 with
production settings, each with its own folders (static files, disk page cache, media),
sharing one throwaway PostgreSQL database (created next to DATABASE_URL's, dropped
afterwards) and one redis-server it starts itself (nothing saved to disk). Then:

1. An editor signs in through host A (password, then the two-factor code) and changes a
   glossary word; host B shows the new wording at once (both had the page cached).
2. The editor changes the clinic's phone number through host A; host B's home page
   shows the new number at once.
3. Redis is stopped: both hosts keep serving every public page (200) and take a
   consultation request; Redis is started again and the hosts use it again.
4. The load test's 1,000 consultation requests (scripts/loadtest.py's clients), half
   through each host at the same time: every acknowledged request is in the database,
   none lost, none stored twice.

Prints a table and exits 1 when a check fails. Every loop is bounded in count and time
(--time-limit); nothing but 127.0.0.1 is reached.
"""

import argparse
import contextlib
import html.parser
import os
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from common import (
    HOST,
    Gunicorn,
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
from loadtest import LoadRun, Phase, PostgreSQLDatabase, compare, proxy_headers

EDITOR = "multihost-editor"
PUBLIC_PAGES = ["/", "/procedures/", "/glossary/", "/procedures/intrathecal-pain-pump/"]


# Redis ----------------------------------------------------------------------------------


class RedisServer:
    """A throwaway redis-server on 127.0.0.1, a cache only (nothing saved to disk)."""

    def __init__(self, folder):
        self.folder, self.port = folder, free_port()
        self.url = f"redis://{HOST}:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--bind", HOST, "--port", str(self.port), "--dir", str(self.folder)]
            + ["--save", "", "--appendonly", "no", "--logfile", str(self.folder / "redis.log")],
            stdin=subprocess.DEVNULL,
        )
        for _ in range(100):
            result = subprocess.run(
                ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True
            )
            if result.stdout.strip() == "PONG":
                return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start; see {self.folder / 'redis.log'}")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def keys(self):
        result = subprocess.run(
            ["redis-cli", "-p", str(self.port), "--scan", "--pattern", "*:page:*"],
            capture_output=True,
            text=True,
        )
        return result.stdout.split()


# A staff member's browser, over plain HTTP -----------------------------------------------


class AdminForm(html.parser.HTMLParser):
    """The fields of the page's first post form (not the admin's sign-out button), as a
    browser sends them."""

    def __init__(self):
        super().__init__()
        self.fields, self.in_form, self.done = {}, False, False
        self.textarea = self.select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if (
            tag == "form"
            and not self.done
            and attrs.get("method") == "post"
            and attrs.get("id") != "logout-form"
        ):
            self.in_form = True
        if not self.in_form:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in {"checkbox", "radio"}:
                if "checked" in attrs:
                    self.fields[name] = attrs.get("value", "on")
            elif kind not in {"submit", "button", "file", "image"}:
                self.fields[name] = attrs.get("value", "")
        elif tag == "textarea" and name:
            self.textarea, self.fields[name] = name, ""
        elif tag == "select" and name:
            self.select = name
            self.fields.setdefault(name, "")
        elif tag == "option" and self.select and "selected" in attrs:
            self.fields[self.select] = attrs.get("value", "")

    def handle_data(self, data):
        if self.textarea:
            self.fields[self.textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self.textarea = None
        elif tag == "select":
            self.select = None
        elif tag == "form" and self.in_form:
            self.in_form, self.done = False, True


class StaffBrowser:
    """Signs in through one host and saves admin forms there, with its cookies."""

    def __init__(self, port):
        self.port, self.cookies = port, {}

    def request(self, method, path, fields=None):
        headers = {**proxy_headers(0), "Host": HOST}
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if fields is not None:
            body = urlencode(fields).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"https://{HOST}{path}"
        response = http_request(self.port, method, path, headers, body)
        for name in ("csrftoken", "sessionid"):
            value = cookie_value(response.headers, name)
            if value is not None:
                self.cookies[name] = value
        return response

    def post_form(self, path, changes):
        """GET the form at `path`, change some fields, POST it; the response."""
        page = self.request("GET", path)
        if page.status != 200:
            raise RuntimeError(f"GET {path}: {page.status}")
        form = AdminForm()
        form.feed(page.body.decode())
        fields = {**form.fields, **changes}
        return self.request("POST", path, fields)

    def sign_in(self, password, totp_key):
        from django_otp.oath import totp  # plain Python: no settings needed

        login = self.request("GET", "/admin/login/")
        token = hidden_value(login.body.decode(), "csrfmiddlewaretoken")
        fields = {"csrfmiddlewaretoken": token, "username": EDITOR, "password": password}
        fields["next"] = "/admin/"
        step = self.request("POST", "/admin/login/", fields)
        if step.status != 302:
            raise RuntimeError(f"password step: {step.status}")
        code = f"{totp(bytes.fromhex(totp_key)):06d}"
        answer = self.post_form("/admin/two-factor/?next=/admin/", {"code": code})
        if answer.status != 302 or self.request("GET", "/admin/").status != 200:
            raise RuntimeError(f"two-factor step: {answer.status}")


# The checks ------------------------------------------------------------------------------


def page(port, path):
    return http_request(port, "GET", path, {**proxy_headers(0), "Host": HOST})


def visible_at_once(port, path, text, seconds=1.0):
    """Whether `text` is on the page at `path` within `seconds` (it should be at once)."""
    limit = time.monotonic() + seconds
    while True:
        if text in page(port, path).body.decode():
            return True
        if time.monotonic() > limit:
            return False
        time.sleep(0.05)


def one_consultation(port, fill_seconds, number):
    """A patient's consultation request through `port`; True when it is acknowledged."""
    load = LoadRun(port, secrets.token_hex(3), fill_seconds, time.monotonic() + 60)
    phase = Phase(f"down{number}", 1)
    load.run(phase, 1)
    return len(phase.acknowledged) == 1 and phase.server_errors == 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=32, help="Per host (default 32).")
    parser.add_argument("--time-limit", type=int, default=600)
    options = parser.parse_args()
    deadline = time.monotonic() + options.time_limit

    work = Path(tempfile.mkdtemp(prefix="clinic-multihost-"))
    database = PostgreSQLDatabase(
        os.environ.get("DATABASE_URL", ""), os.environ.get("POSTGRES_ADMIN_URL")
    )
    redis = RedisServer(work)
    ports = {"A": free_port(), "B": free_port()}
    prefix = f"multihost-{secrets.token_hex(4)}"
    envs, hosts = {}, {}
    for name, port in ports.items():
        folder = work / f"host-{name}"
        folder.mkdir()
        envs[name] = production_env(
            folder,
            database.url,
            **gunicorn_env(port, folder / "access.log"),
            REDIS_URL=redis.url,
            PAGE_CACHE_KEY_PREFIX=prefix,
            TRUSTED_PROXY_COUNT="1",
            REQUEST_RATE_LIMIT="1000000",
            ALLOW_SQLITE="false",
        )
        hosts[name] = Gunicorn(envs[name], port, folder / "gunicorn.log")

    checks = []

    def check(what, ok, detail=""):
        checks.append((what, ok, detail))
        log(f"{'ok  ' if ok else 'FAIL'} {what} {detail}")

    created = False
    try:
        database.create()
        created = True
        redis.start()
        log(f"Preparing the shared database and each host's static files in {work} ...")
        manage(envs["A"], "migrate", "--noinput")
        manage(envs["A"], "load_demo_content")
        for name in hosts:
            manage(envs[name], "collectstatic", "--noinput")
        password, totp_key = secrets.token_urlsafe(16), secrets.token_hex(20)
        manage(
            envs["A"],
            "shell",
            "--no-imports",
            "-c",
            "from django.contrib.auth.models import Group, User; "
            "from django_otp.plugins.otp_totp.models import TOTPDevice; "
            f"u = User.objects.create_user({EDITOR!r}, password={password!r}, is_staff=True); "
            "u.groups.add(Group.objects.get(name='Content editors')); "
            f"TOTPDevice.objects.create(user=u, name='phone', key={totp_key!r}, confirmed=True)",
        )
        facts = manage(
            envs["A"],
            "shell",
            "--no-imports",
            "-c",
            "from django.conf import settings; from education.models import GlossaryTerm; "
            "print(settings.REQUEST_MIN_FILL_SECONDS, GlossaryTerm.objects.first().pk)",
        ).split()
        fill_seconds, term = float(facts[-2]) + 0.5, int(facts[-1])
        for server in hosts.values():
            server.start(min(90, deadline - time.monotonic()))
        for name in hosts:
            for path in PUBLIC_PAGES:
                page(ports[name], path)  # each host has them cached now
        check("pages cached in the shared Redis", len(redis.keys()) > 0, f"{len(redis.keys())}")
        # A SCRIPT_NAME header, even from the proxy's own address, changes nothing
        # (gunicorn.conf.py: forwarder_headers), so it cannot poison the shared cache.
        crafted = http_request(
            ports["A"], "GET", "/", {**proxy_headers(0), "Host": HOST, "SCRIPT_NAME": "/glossary"}
        )
        glossary = page(ports["B"], "/glossary/").body
        check(
            "a SCRIPT_NAME header is ignored",
            b"/glossary/static/" not in crafted.body and glossary != page(ports["B"], "/").body,
        )

        # 1. A glossary word changed through host A shows through host B at once.
        editor = StaffBrowser(ports["A"])
        editor.sign_in(password, totp_key)
        wording = f"Changed through host A ({secrets.token_hex(3)})."
        change = f"/admin/education/glossaryterm/{term}/change/"
        saved = editor.post_form(change, {"definition": wording})
        check("editor's glossary save through A", saved.status == 302, f"HTTP {saved.status}")
        check(
            "B shows the new glossary wording at once",
            visible_at_once(ports["B"], "/glossary/", html_escape(wording)),
        )

        # 2. The clinic's phone number changed through A shows through B at once.
        phone = f"(555) 010-{secrets.randbelow(9000) + 1000}"
        saved = editor.post_form("/admin/education/clinicsettings/1/change/", {"phone": phone})
        check("editor's phone change through A", saved.status == 302, f"HTTP {saved.status}")
        check("B's home page shows the new phone at once", visible_at_once(ports["B"], "/", phone))

        # 3. Redis stopped: both hosts keep serving pages and taking requests.
        redis.stop()
        for name in hosts:
            statuses = [page(ports[name], path).status for path in PUBLIC_PAGES]
            check(
                f"Redis down: {name} serves every public page",
                statuses == [200] * len(PUBLIC_PAGES),
                f"{statuses}",
            )
            check(
                f"Redis down: {name} takes a consultation request",
                one_consultation(ports[name], fill_seconds, ord(name)),
            )
        redis.start()
        for path in PUBLIC_PAGES:
            page(ports["B"], path)
        check("Redis back: pages are cached there again", len(redis.keys()) > 0)

        # 4. 1,000 requests, half through each host at once.
        log(f"Load: {options.submissions} consultation requests over both hosts ...")
        phases, threads = {}, []
        run_id = secrets.token_hex(3)
        started = time.monotonic()
        for name, port in ports.items():
            phases[name] = Phase(f"host{name.lower()}", options.submissions // 2)
            load = LoadRun(port, run_id, fill_seconds, deadline)
            threads.append(threading.Thread(target=load.run, args=(phases[name], options.clients)))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=max(1, deadline - time.monotonic()))
        seconds = time.monotonic() - started
        for server in hosts.values():
            server.stop()
        stored = database.rows()
    except BaseException:
        log(f"The run stopped; logs kept in {work}")
        raise
    finally:
        for server in hosts.values():
            with contextlib.suppress(Exception):
                if server.process is not None:
                    server.kill()
        redis.stop()
        if created:
            with contextlib.suppress(Exception):
                database.drop()

    print()
    print(
        "Two app hosts (gunicorn, production settings) sharing PostgreSQL and Redis, "
        f"{options.clients} clients per host"
    )
    heads = ("host", "submitted", "acknowledged", "5xx", "4xx/other", "lost", "duplicated")
    heads += ("p50 ms", "p99 ms")
    print("  ".join(f"{head:>12}" for head in heads))
    totals = {"lost": 0, "duplicated": 0, "acknowledged": 0, "errors": 0}
    for name, phase in phases.items():
        lost, duplicated, _unacknowledged = compare(phase, stored)
        totals["lost"] += lost
        totals["duplicated"] += duplicated
        totals["acknowledged"] += len(phase.acknowledged)
        totals["errors"] += phase.server_errors + sum(phase.client_errors.values())
        totals["errors"] += phase.no_answer
        cells = [name, phase.submitted, len(phase.acknowledged), phase.server_errors]
        cells += [sum(phase.client_errors.values()), lost, duplicated]
        cells += [
            f"{percentile(phase.latencies, 0.5) * 1000:.0f}",
            f"{percentile(phase.latencies, 0.99) * 1000:.0f}",
        ]
        print("  ".join(f"{cell:>12}" for cell in cells))
    print(f"{options.submissions} requests in {seconds:.1f} s over both hosts")
    check(
        f"load: {options.submissions} requests over both hosts, all acknowledged",
        totals["acknowledged"] == options.submissions and totals["errors"] == 0,
        f"{totals['acknowledged']} acknowledged, {totals['errors']} errors",
    )
    check("load: none lost", totals["lost"] == 0, f"{totals['lost']}")
    check("load: none stored twice", totals["duplicated"] == 0, f"{totals['duplicated']}")
    print()
    for what, ok, detail in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {what}" + (f" ({detail})" if detail else ""))
    failed = [what for what, ok, _ in checks if not ok]
    print(f"Checks: {len(failed)} of {len(checks)} failed." if failed else "Every check passed.")
    return 1 if failed else 0


def html_escape(text):
    """As Jinja2 escapes text on the page (the wording has no quotes or angle brackets)."""
    return re.sub("&", "&amp;", text)


if __name__ == "__main__":
    if urlsplit(os.environ.get("DATABASE_URL", "")).scheme not in {"postgres", "postgresql"}:
        sys.exit("Run it with scripts/with-postgres.sh (it needs DATABASE_URL=postgres://...).")
    sys.exit(main())
