"""Benchmarks of the public pages: server time, SQL queries, throughput and page weight.

    .venv/bin/python scripts/bench.py [--quick] [--output bench/FILE.txt]

(`make bench` installs Debian's wrk when missing, then runs this.) Everything runs on
127.0.0.1 against a throwaway SQLite database in a work folder under bench/ (migrate
and load_demo_content), with production settings: DEBUG off, a random SECRET_KEY,
ALLOWED_HOSTS=127.0.0.1, SECURE_SSL_REDIRECT on; requests carry
X-Forwarded-Proto: https and Accept-Encoding: gzip, deflate, br as the proxy and a
browser would. The form rate limit is raised for the run (REQUEST_RATE_LIMIT).

1. In-process (Django's test client, in a child process per configuration): median and
   p90 server time per request for each public page, uncached (PAGE_CACHE=off: the page
   cache swapped for Django's DummyCache) and cached (the production file cache), and
   SQL queries per request, cold (first request after emptying the page cache, clinic
   settings included) and warm. Connections are kept between requests as in production
   (DB_CONN_MAX_AGE). Then the procedure page's query count with 5 and 50 child
   records of every kind (tests/education/factories.py) in a copy of the database, and
   a cProfile of the uncached procedure page (written to the output file only).
2. Over HTTP: gunicorn (gunicorn.conf.py, its default worker count unless --workers)
   on a free loopback port, once uncached and once cached, and wrk at 32 connections:
   requests per second and p50/p99 latency for the procedure page, the home page, and
   (cached run) a valid consultation POST. The uncached run also measures the floor:
   the same page's HTML answered as stored through the site's whole middleware stack
   (compression included) with no database or template (scripts/bench_settings.py),
   the most any page rendered per request could reach on this machine. The procedure
   page's HTML, saved into the collected static files before gunicorn starts, is
   served by the same gunicorn through whitenoise as the reference; each page's
   throughput is given as a share of it (median of the per-round shares). Every
   measurement is repeated (rounds interleave the targets) and the median reported.
   The form's "started" token is single-use (sent again, it stores nothing and is
   redirected to the first request's thanks page), so every POST carries its own: a
   child process with the run's environment (its SECRET_KEY) signs enough of them for
   every POST run at a generous ceiling rate; they go into wrk's Lua script as a table;
   each wrk thread sends every n-th of them (n = threads, from its own first one on)
   and, in each wrk run, carries on after the last one it sent in the run before, so
   no token is sent twice. The CSRF cookie and token come from one GET and are shared.
   The rows stored must cover every POST answered without error (a replay, or a token
   that ran out, stores nothing), and every answer must be the redirect (302). The
   POST's rows are deleted after.
3. Page weight: Debian's Chromium through Playwright, a fresh context (first visit) per
   page: bytes of HTML, CSS, JS, fonts and images, as transferred (compressed) and
   decoded, the number of requests, and scripts that block rendering.

Prints a table with the targets (met / not met) and writes it, with wrk's full
output and the profile, to --output (default bench/bench-<UTC time>.txt). Every loop
and child process is bounded in time (--time-limit for the whole run); gunicorn runs in
its own process group and is killed with it on any exit.
"""

import argparse
import contextlib
import cProfile
import gzip
import io
import json
import os
import platform
import pstats
import shutil
import sqlite3
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlencode

from common import (
    BIN,
    CHROMIUM,
    CHROMIUM_ARGS,
    HOST,
    ROOT,
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
    run_checked,
)

# What Chromium sends over HTTPS; the proxy passes it on.
ACCEPT_ENCODING = "gzip, deflate, br"
PROCEDURE = "/procedures/intrathecal-pain-pump/"
FORM = "/appointments/consultation/"
# The guide's pages with the most content, besides its overview.
GUIDE_PARTS = [
    ("part: risks", PROCEDURE + "risks/"),
    ("part: living with", PROCEDURE + "living-with-a-pump/"),
    ("part: when to get help", PROCEDURE + "when-to-get-help/"),
]
# The guide's tools (education/tools.py): their scripts have a budget of their own.
TOOLS = [
    ("tool: decision", PROCEDURE + "tools/decision/"),
    ("tool: questions", PROCEDURE + "tools/questions/"),
    ("tool: diary", PROCEDURE + "tools/diary/"),
    ("tool: card", PROCEDURE + "tools/card/"),
]
PAGES = [
    ("home", "/"),
    ("procedure list", "/procedures/"),
    ("procedure page", PROCEDURE),
    *GUIDE_PARTS,
    ("whole guide (print)", PROCEDURE + "all/"),
    ("handout", PROCEDURE + "handout/"),
    *TOOLS,
    ("glossary", "/glossary/"),
    ("consultation form", FORM),
    ("call-back form", "/appointments/call-back/"),
]
REFERENCE_NAME = "bench-reference.html"
FLOOR_LABEL = "Django, fixed page"
# The PAGE_CACHE setting for each mode: off swaps the page cache for Django's DummyCache.
UNCACHED_SETTINGS = "off"
CACHED_SETTINGS = "on"
BENCH_NAME = "Bench Test Patient"
BENCH_EMAIL = "bench-test@example.com"
RESULT_MARK = "BENCH_JSON "
KB = 1000  # Page weight in kB (1000 bytes), the stricter reading of the budget.

# Targets the figures are judged against (the performance budget, issue 12): patients
# get the page cache, so only the cached throughput has a share target; the uncached
# page (staff, and the first reader after an edit) has a server-time budget.
TARGET_SERVER_MS = 15.0
TARGET_MAX_QUERIES = 20
TARGET_SHARE_CACHED = 0.80
TARGET_WEIGHT_KB = 50
TARGET_REQUESTS = 6
# JavaScript a tool page loads (issue 18), decoded (uncompressed) bytes: small enough to
# read in one sitting, and nothing like a framework.
TARGET_TOOL_JS_KB = 12
TARGET_POST_P99_MS = 250.0
# Form tokens signed for the POST runs: enough for this many POSTs a second over every
# POST run (warm-up included), several times what a run reaches (about 200/s on 2
# CPUs, SQLite taking one write at a time); wrk says when they run out.
POST_TOKENS_PER_SECOND = 1500
TOKENS_SENT_ENV = "BENCH_TOKENS_SENT"


def median(values):
    return statistics.median(values) if values else float("nan")


class Deadline:
    """The whole run's time limit; every wait and child process asks it first."""

    def __init__(self, seconds):
        self.end = time.monotonic() + seconds

    def left(self):
        return self.end - time.monotonic()

    def timeout(self, at_most):
        left = self.left()
        if left <= 0:
            raise TimeoutError("the run's --time-limit is used up")
        return min(at_most, left)


# In-process workers: child processes with Django set up (`--worker NAME PARAMS`) -------


def worker_main(name, params):
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    workers = {
        "pages": worker_pages,
        "fill": worker_fill,
        "cleanup": worker_cleanup,
        "tokens": worker_tokens,
    }
    result = workers[name](params)
    print(RESULT_MARK + json.dumps(result), flush=True)


def test_client(accept_encoding=True):
    from django.test import Client

    headers = {"host": HOST, "x-forwarded-proto": "https"}
    if accept_encoding:
        headers["accept-encoding"] = ACCEPT_ENCODING
    return Client(headers=headers)


def fetch(client, path):
    """One request as a first-time visitor (no cookies). The database connection is
    kept or closed at the end of the request exactly as in production (CONN_MAX_AGE)."""
    client.cookies.clear()
    return client.get(path)


def query_counts(client, path):
    """(cold, warm) SQL queries: cold right after emptying the page cache (which also
    holds the clinic settings), warm on a later request."""
    from django.core.cache import caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    caches["pages"].clear()
    counts = []
    for _ in range(3):
        with CaptureQueriesContext(connection) as queries:
            response = fetch(client, path)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
        counts.append(len(queries))
    return counts[0], counts[-1]


def time_requests(client, path, count, seconds):
    """Server time per request in ms, after a short warm-up; stops at `seconds`."""
    for _ in range(5):
        fetch(client, path)
    times = []
    limit = time.monotonic() + seconds
    while len(times) < count and time.monotonic() < limit:
        started = time.perf_counter()
        response = fetch(client, path)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
    return times


def profile_page(client, path, count, seconds):
    profiler = cProfile.Profile()
    limit = time.monotonic() + seconds
    done = 0
    profiler.enable()
    while done < count and time.monotonic() < limit:
        fetch(client, path)
        done += 1
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(15)
    out.write("\nThe same, top 15 by own time (where the time goes):\n")
    stats.sort_stats("tottime").print_stats(15)
    text = out.getvalue()
    for prefix in (sysconfig.get_paths()["purelib"], str(ROOT), sysconfig.get_paths()["stdlib"]):
        text = text.replace(prefix + "/", "")
    return f"{done} requests of {path}\n{text.strip()}"


def worker_pages(params):
    from django.conf import settings

    client = test_client()
    result = {
        "pages": {},
        "cache_backend": settings.CACHES["pages"]["BACKEND"].rsplit(".", 1)[-1],
        "debug": settings.DEBUG,
        "min_fill_seconds": settings.REQUEST_MIN_FILL_SECONDS,
    }
    for label, path in PAGES:
        cold, warm = query_counts(client, path)
        times = time_requests(client, path, params["requests"], params["page_seconds"])
        result["pages"][label] = {
            "cold": cold,
            "warm": warm,
            "count": len(times),
            "median": median(times),
            "p90": percentile(times, 0.9),
        }
    if params.get("profile"):
        result["profile"] = profile_page(client, PROCEDURE, 100, params["page_seconds"])
    if params.get("reference"):
        # The procedure page as rendered, saved as a static file (with the compressed
        # copies whitenoise looks for next to it, as collectstatic makes for the rest).
        import brotli

        response = fetch(test_client(accept_encoding=False), PROCEDURE)
        body = response.content
        reference = Path(params["reference"])
        reference.write_bytes(body)
        Path(f"{reference}.gz").write_bytes(gzip.compress(body, compresslevel=9, mtime=0))
        Path(f"{reference}.br").write_bytes(brotli.compress(body))
        result["reference_bytes"] = len(body)
    return result


def worker_fill(params):
    from tests.education.factories import fill_procedure, make_procedure

    client = test_client()
    result = {}
    paths = [("demo content", PROCEDURE)]
    for size in params["sizes"]:
        procedure = make_procedure(slug=f"bench-{size}", title=f"Bench procedure {size}")
        fill_procedure(procedure, size)
        paths.append((f"{size} of every kind", procedure.get_absolute_url()))
    for label, path in paths:
        cold, warm = query_counts(client, path)
        times = time_requests(client, path, params["requests"], params["page_seconds"])
        result[label] = {
            "cold": cold,
            "warm": warm,
            "median": median(times),
            "bytes": len(fetch(test_client(False), path).content),
        }
    return result


def worker_tokens(params):
    """`count` distinct form tokens, signed with the run's SECRET_KEY, shown a minute ago
    (older than the minimum fill time, far younger than the maximum age)."""
    from appointments.forms import start_token

    shown = time.time() - 60
    tokens = [start_token(shown) for _ in range(params["count"])]
    if len(set(tokens)) != len(tokens):
        raise RuntimeError("two form tokens came out the same")
    return {"tokens": tokens}


def worker_cleanup(params):
    """Delete the rows the POST run made: its requests (with their history) and the
    front-desk notifications queued for them."""
    from django_tasks_db.models import DBTaskResult

    from appointments.models import Request

    ids = set(Request.objects.filter(name=params["name"]).values_list("pk", flat=True))
    tasks = [
        task.pk
        for task in DBTaskResult.objects.filter(task_path__endswith="notify_front_desk").only(
            "pk", "args_kwargs"
        )
        if (task.args_kwargs.get("args") or [None])[0] in ids
    ]
    deleted_tasks = 0
    for start in range(0, len(tasks), 500):
        deleted_tasks += DBTaskResult.objects.filter(pk__in=tasks[start : start + 500]).delete()[0]
    total, by_model = Request.objects.filter(name=params["name"]).delete()
    return {"requests": len(ids), "rows": total + deleted_tasks, "tasks": deleted_tasks} | {
        "by_model": by_model
    }


# Child processes --------------------------------------------------------------------


def worker(env, deadline, name, params, at_most=600):
    out = run_checked(
        [str(BIN / "python"), str(Path(__file__).resolve()), "--worker", name, json.dumps(params)],
        env,
        deadline.timeout(at_most),
        f"the {name} worker",
    )
    lines = [line for line in out.splitlines() if line.startswith(RESULT_MARK)]
    return json.loads(lines[-1][len(RESULT_MARK) :])


# wrk ----------------------------------------------------------------------------------

WRK_DONE = r"""
done = function(summary, latency, requests)
  if report_tokens then report_tokens() end
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%.0f duration_us=%.0f bytes=%.0f connect=%.0f read=%.0f write=%.0f " ..
    "status=%.0f timeout=%.0f p50_us=%.0f p90_us=%.0f p99_us=%.0f max_us=%.0f\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
end
"""


# The POST's single-use form tokens. Before this part, the script sets `tokens` (a table),
# `step` (wrk's thread count) and `prefix` (the urlencoded body up to the token).
# setup() numbers the threads; thread n (from 0) sends every step-th token from the
# (n+1)-th on (Lua counts from 1): tokens[n + 1 + step * k], k = 0, 1, 2, ... No two
# threads share a token, and each wrk run carries on where the thread of the same
# number stopped in the run before (BENCH_TOKENS_SENT: the counts so far, by thread),
# so no token is sent twice. A thread that runs out sends "exhausted" (the form comes
# back, nothing is stored) and says so. wrk also calls request() once in its main state
# to look at the request; that one is never sent. Answers other than 302 are counted.
WRK_TOKENS = r"""
local before = {}
for count in (os.getenv("BENCH_TOKENS_SENT") or ""):gmatch("%d+") do
  before[#before + 1] = tonumber(count)
end
local threads = {}
id, sent, exhausted, other = 0, 0, 0, 0

setup = function(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

request = function()
  local token = tokens[id + 1 + step * ((before[id + 1] or 0) + sent)]
  sent = sent + 1
  if token == nil then
    exhausted = exhausted + 1
    token = "exhausted"
  end
  return wrk.format(nil, nil, nil, prefix .. token)
end

response = function(status, headers, body)
  if status ~= 302 then other = other + 1 end
end

report_tokens = function()
  local counts, out, others = {}, 0, 0
  for index, thread in ipairs(threads) do
    counts[index] = thread:get("sent")
    out = out + thread:get("exhausted")
    others = others + thread:get("other")
  end
  io.write(string.format("BENCH_TOKENS exhausted=%d not_302=%d sent=%s\n",
    out, others, table.concat(counts, ",")))
end
"""


def lua_string(value):
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def wrk_script(path, headers, method="GET", body=None, tokens=None, threads=1):
    """A wrk script: one fixed request; or, with `tokens`, a POST of `body` (a dict of
    form fields) with a "started" token of its own in each request (WRK_TOKENS)."""
    lines = [f"wrk.method = {lua_string(method)}"]
    lines += [f"wrk.headers[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items()]
    if tokens is None:
        if body is not None:
            lines.append(f"wrk.body = {lua_string(body)}")
    else:
        # The token goes last; URL-encoded here, a table of them is built as the script
        # loads, from one long string (LuaJIT limits the constants in one chunk).
        fields = {k: v for k, v in body.items() if k != "started"}
        lines.append(f"prefix = {lua_string(urlencode(fields) + '&started=')}")
        lines.append(f"step = {threads}")
        encoded = "\n".join(quote(token, safe="") for token in tokens)
        if "]==]" in encoded:
            raise RuntimeError("a form token cannot go into a Lua long string")
        lines.append(f"local token_text = [==[\n{encoded}\n]==]")
        lines.append("tokens = {}")
        lines.append('for token in token_text:gmatch("[^\\n]+") do tokens[#tokens + 1] = token end')
        lines.append(WRK_TOKENS)
    path.write_text("\n".join(lines) + "\n" + WRK_DONE)
    return path


@dataclass
class Target:
    label: str
    path: str
    script: Path
    runs: list = field(default_factory=list)  # parsed wrk results, one per round
    raw: list = field(default_factory=list)
    warmups: list = field(default_factory=list)  # parsed wrk results of the warm-ups
    # With form tokens (the POST): how many the script holds, how many each wrk thread
    # has sent so far (the next run carries on from there), and the totals of every run
    # (warm-ups included).
    tokens: int = 0
    sent_by_thread: list = field(default_factory=list)
    tokens_exhausted: int = 0
    not_redirected: int = 0

    def value(self, key):
        return median([run[key] for run in self.runs])

    @property
    def tokens_sent(self):
        return sum(self.sent_by_thread)


def wrk(url, script, label, seconds, options, deadline, env=None):
    """One wrk run of `url` with our Lua `script`: (figures, wrk's whole output, the
    BENCH line in it). RuntimeError naming `label` when wrk fails."""
    command = [
        "wrk",
        f"-t{options.threads}",
        f"-c{options.connections}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        "--latency",
        "-s",
        str(script),
        url,
    ]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env=env,
        timeout=deadline.timeout(seconds + 30),
        stdin=subprocess.DEVNULL,
    )
    line = next((x for x in result.stdout.splitlines() if x.startswith("BENCH ")), None)
    if result.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed on {label}:\n{result.stdout}\n{result.stderr}")
    values = {k: float(v) for k, v in (item.split("=") for item in line.split()[1:])}
    values["rps"] = values["requests"] / (values["duration_us"] / 1e6)
    values["errors"] = sum(values[k] for k in ("connect", "read", "write", "status", "timeout"))
    return values, result.stdout, line


def run_wrk(port, target, seconds, options, deadline, record=True):
    env = None
    if target.tokens:
        # Each thread carries on after the last token it sent in the runs before.
        env = os.environ | {TOKENS_SENT_ENV: ",".join(map(str, target.sent_by_thread))}
    url = f"http://{HOST}:{port}{target.path}"
    values, stdout, line = wrk(url, target.script, target.label, seconds, options, deadline, env)
    if target.tokens:
        token_line = next((x for x in stdout.splitlines() if x.startswith("BENCH_TOKENS ")), None)
        if token_line is None:
            raise RuntimeError(f"wrk said nothing of the form tokens:\n{stdout}")
        used = dict(item.split("=") for item in token_line.split()[1:])
        sent = [int(n) for n in used["sent"].split(",")]
        before = target.sent_by_thread + [0] * (len(sent) - len(target.sent_by_thread))
        target.sent_by_thread = [a + b for a, b in zip(before, sent, strict=True)]
        target.tokens_exhausted += int(used["exhausted"])
        target.not_redirected += int(used["not_302"])
        values["not_302"] = int(used["not_302"])
    if record:
        target.runs.append(values)
        target.raw.append(stdout.replace(line, "").strip())
    else:
        target.warmups.append(values)
    return values


def measure(port, targets, options, deadline):
    """Warm every worker up on every target, then rounds that interleave the targets."""
    for target in targets:
        run_wrk(port, target, options.warmup_seconds, options, deadline, record=False)
    for number in range(options.repeats):
        for target in targets:
            log(f"  round {number + 1}/{options.repeats}: {target.label}")
            run_wrk(port, target, options.seconds, options, deadline)


def share_of_reference(page, reference):
    """The median over rounds of page req/s divided by the reference's, same round."""
    return median([p["rps"] / r["rps"] for p, r in zip(page.runs, reference.runs, strict=False)])


# Forms --------------------------------------------------------------------------------


def consultation_post(port, min_fill_seconds):
    """(headers, fields) of a valid consultation request, its tokens from one GET.

    The CSRF cookie and token pair stay valid for the whole run and are shared by every
    POST. The signed, single-use `started` token is good for one POST (the check POST):
    the wait makes it older than the form's minimum fill time. wrk sends the fields with
    a token of its own in each request (WRK_TOKENS)."""
    status, headers, body, _ = http_request(
        port, "GET", FORM, {"Host": f"{HOST}:{port}", "X-Forwarded-Proto": "https"}
    )
    page = body.decode()
    cookie = cookie_value(headers, "csrftoken")
    token, started = hidden_value(page, "csrfmiddlewaretoken"), hidden_value(page, "started")
    if status != 200 or None in (cookie, token, started):
        raise RuntimeError(f"the consultation form gave no tokens (HTTP {status})")
    time.sleep(min_fill_seconds + 0.5)
    fields = {
        "safety_pump_alarm": "no",
        "safety_fever": "no",
        "safety_breathing": "no",
        "safety_withdrawal": "no",
        "name": BENCH_NAME,
        "phone": "",
        "email": BENCH_EMAIL,
        "contact_method": "email",
        "preferred_time": "any",
        "patient_type": "new",
        "procedure": "",
        "reason": "Benchmark submission.",
        "referring_doctor": "",
        "language": "",
        "data_consent": "on",
        "website": "",
        "started": started,
        "csrfmiddlewaretoken": token,
    }
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": f"csrftoken={cookie}",
        "Referer": f"https://{HOST}:{port}{FORM}",
        "X-Forwarded-Proto": "https",
        "Accept-Encoding": ACCEPT_ENCODING,
    }
    return headers, fields


def stored_requests(database):
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as connection:
        return connection.execute(
            "SELECT count(*) FROM appointments_request WHERE name = ?", [BENCH_NAME]
        ).fetchone()[0]


# Page weight --------------------------------------------------------------------------

KINDS = {
    "document": "HTML",
    "stylesheet": "CSS",
    "script": "JS",
    "font": "fonts",
    "image": "images",
}
COLUMNS = ["HTML", "CSS", "JS", "fonts", "images", "other"]
BLOCKING_SCRIPTS = """() => [...document.scripts].filter(s =>
  !s.async && !s.defer && s.type !== 'module' &&
  (s.closest('head') !== null || !s.src)).length"""


def page_weight(port, deadline):
    from playwright.sync_api import sync_playwright

    results = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for label, path in PAGES:
                context = browser.new_context(
                    extra_http_headers={
                        "X-Forwarded-Proto": "https",
                        "Accept-Encoding": ACCEPT_ENCODING,
                    }
                )
                try:
                    page = context.new_page()
                    responses = []
                    page.on("response", lambda response, seen=responses: seen.append(response))
                    timeout_ms = deadline.timeout(60) * 1000
                    first = page.goto(
                        f"http://{HOST}:{port}{path}", wait_until="networkidle", timeout=timeout_ms
                    )
                    if first is None or first.status != 200:
                        raise RuntimeError(f"{path}: HTTP {first and first.status}")
                    blocking = page.evaluate(BLOCKING_SCRIPTS)
                    rows = []
                    for response in responses:
                        request = response.request
                        kind = KINDS.get(request.resource_type, "other")
                        if response.headers.get("content-type", "").startswith("image/"):
                            kind = "images"  # The favicon comes as "other".
                        try:
                            decoded = len(response.body())
                        except Exception:  # A redirect or an aborted load has no body.
                            decoded = 0
                        sizes = request.sizes()
                        sent_encoding = request.all_headers().get("accept-encoding", "")
                        rows.append(
                            {
                                "url": response.url.split(str(port), 1)[-1],
                                "kind": kind,
                                "status": response.status,
                                "encoding": response.headers.get("content-encoding", ""),
                                "transferred": sizes["responseBodySize"],
                                "decoded": decoded,
                                "accept_encoding": sent_encoding,
                            }
                        )
                    results[label] = {"requests": rows, "blocking_scripts": blocking}
                finally:
                    context.close()
        finally:
            browser.close()
    return results


# The report ---------------------------------------------------------------------------


def tool_js(weight, label):
    """The bytes of JavaScript a page loaded, decoded."""
    return sum(e["decoded"] for e in weight[label]["requests"] if e["kind"] == "JS")


def verdict(ok):
    return "met" if ok else "NOT MET"


def kb(value):
    return f"{value / KB:.1f}"


def format_table(heads, rows, widths):
    lines = [
        "  ".join(
            f"{h:<{w}}" if i == 0 else f"{h:>{w}}"
            for i, (h, w) in enumerate(zip(heads, widths, strict=True))
        )
    ]
    for row in rows:
        lines.append(
            "  ".join(
                f"{c:<{w}}" if i == 0 else f"{c:>{w}}"
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="A short run (about a minute).")
    parser.add_argument("--output", type=Path, help="Where to write the report.")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: its config).")
    parser.add_argument("--time-limit", type=int, help="Seconds for the whole run.")
    parser.add_argument("--keep", action="store_true", help="Keep the work folder.")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.worker:
        return worker_main(options.worker[0], json.loads(options.worker[1]))

    if options.quick:
        options.requests, options.page_seconds = 60, 5
        options.seconds, options.repeats, options.warmup_seconds = 3, 1, 1
    else:
        options.requests, options.page_seconds = 300, 20
        options.seconds, options.repeats, options.warmup_seconds = 10, 3, 2
    options.connections, options.threads = 32, 2
    options.time_limit = options.time_limit or (600 if options.quick else 1800)
    deadline = Deadline(options.time_limit)
    load_start = os.getloadavg()[0]
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: `make bench` installs it (apt-get install wrk).")

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (ROOT / "bench").mkdir(exist_ok=True)
    output = options.output or ROOT / "bench" / f"bench-{stamp}.txt"
    work = Path(tempfile.mkdtemp(prefix=f"work-{stamp}-", dir=ROOT / "bench"))
    database = work / "bench.sqlite3"
    base_env = production_env(
        work,
        f"sqlite:///{database}",
        # SECURE_SSL_REDIRECT stays production's (on); --workers sets WEB_CONCURRENCY.
        drop={"SECURE_SSL_REDIRECT", "WEB_CONCURRENCY"},
        PAGE_CACHE_DIR=str(work / "page-cache-setup"),
        LOG_LEVEL="INFO",
        REQUEST_RATE_LIMIT="100000000",
        PAGE_CACHE=CACHED_SETTINGS,
    )
    if options.workers:
        base_env["WEB_CONCURRENCY"] = str(options.workers)
    reference = Path(base_env["STATIC_ROOT"]) / REFERENCE_NAME

    def env_for(page_cache, cache_dir, **extra):
        return base_env | {
            "PAGE_CACHE": page_cache,
            "PAGE_CACHE_DIR": str(work / cache_dir),
            **extra,
        }

    details = []  # For the output file only.
    server = None
    ok = False
    try:
        log(f"Preparing a throwaway database and static files in {work.relative_to(ROOT)} ...")
        manage(base_env, "migrate", "--noinput", timeout=deadline.timeout(600))
        manage(base_env, "load_demo_content", timeout=deadline.timeout(600))
        manage(base_env, "collectstatic", "--noinput", timeout=deadline.timeout(600))
        shutil.copy(database, work / "fill.sqlite3")

        # 1. In-process ---------------------------------------------------------------
        params = {"requests": options.requests, "page_seconds": options.page_seconds}
        log("In-process, uncached (page cache = DummyCache) ...")
        uncached = worker(
            env_for(UNCACHED_SETTINGS, "page-cache-inproc-off"),
            deadline,
            "pages",
            params | {"profile": True},
        )
        log("In-process, cached (production file cache) ...")
        cached = worker(
            env_for(CACHED_SETTINGS, "page-cache-inproc"),
            deadline,
            "pages",
            params | {"reference": str(reference)},
        )
        log("In-process, procedure page with 5 and 50 records of every kind ...")
        fill = worker(
            env_for(
                UNCACHED_SETTINGS,
                "page-cache-fill",
                DATABASE_URL=f"sqlite:///{work / 'fill.sqlite3'}",
            ),
            deadline,
            "fill",
            {"sizes": [5, 50], "requests": options.requests // 3, "page_seconds": 10},
        )

        # 2. Over HTTP ----------------------------------------------------------------
        headers = {"X-Forwarded-Proto": "https", "Accept-Encoding": ACCEPT_ENCODING}

        def get_targets(prefix):
            return [
                Target(
                    "static reference",
                    f"/static/{REFERENCE_NAME}",
                    wrk_script(work / f"{prefix}-reference.lua", headers),
                ),
                Target(
                    "procedure page", PROCEDURE, wrk_script(work / f"{prefix}-proc.lua", headers)
                ),
                Target("home page", "/", wrk_script(work / f"{prefix}-home.lua", headers)),
            ] + (
                [Target(FLOOR_LABEL, "/bench-floor/", wrk_script(work / "floor.lua", headers))]
                if prefix == "uncached"
                else []
            )

        over_http = {}
        for mode, settings_module in (("uncached", UNCACHED_SETTINGS), ("cached", CACHED_SETTINGS)):
            port = free_port()
            server_env = env_for(
                settings_module,
                f"page-cache-http-{mode}",
                **gunicorn_env(port, work / f"access-{mode}.log"),
            )
            if mode == "uncached":
                server_env |= {
                    "DJANGO_SETTINGS_MODULE": "scripts.bench_settings",
                    "BENCH_FLOOR_PAGE": str(reference),
                }
            server = Gunicorn(server_env, port, work / f"gunicorn-{mode}.log")
            server.start(deadline.timeout(90))
            workers = server.settled_workers()
            log(f"HTTP, {mode}: gunicorn with {workers} workers on {HOST}:{port} ...")
            targets = get_targets(mode)
            measure(port, targets, options, deadline)
            over_http[mode] = {"workers": workers, "targets": targets}
            if mode == "cached":
                log("Page weight: Chromium, a first visit to each page ...")
                weight = page_weight(port, deadline)
                log("HTTP, cached: consultation POST ...")
                post_headers, fields = consultation_post(port, cached["min_fill_seconds"])
                status, answer, *_ = http_request(
                    port,
                    "POST",
                    FORM,
                    post_headers | {"Host": f"{HOST}:{port}"},
                    urlencode(fields),
                )
                location = answer.get("Location", "")
                if status != 302 or "/appointments/thanks/" not in location:
                    raise RuntimeError(f"the check POST answered {status} {location}")
                if stored_requests(database) != 1:
                    raise RuntimeError("the check POST was not stored (a spam trap?)")
                # A form token per POST: signed in a child with this run's SECRET_KEY,
                # enough for POST_TOKENS_PER_SECOND over every POST run, plus one per
                # connection (requests still open when a run ends).
                post_seconds = options.warmup_seconds + options.repeats * options.seconds
                count = POST_TOKENS_PER_SECOND * post_seconds + options.connections
                tokens = worker(base_env, deadline, "tokens", {"count": count})["tokens"]
                post = Target(
                    "consultation POST",
                    FORM,
                    wrk_script(
                        work / "post.lua",
                        post_headers,
                        "POST",
                        fields,
                        tokens=tokens,
                        threads=options.threads,
                    ),
                    tokens=len(tokens),
                )
                measure(port, [post], options, deadline)
                over_http[mode]["post"] = post
            server.stop()
            server = None

        stored = stored_requests(database)
        cleanup = worker(base_env, deadline, "cleanup", {"name": BENCH_NAME})
        ok = True
    finally:
        if server is not None:
            server.stop()
        if not ok:
            log(f"The run stopped; the work folder is kept: {work}")

    # The report -------------------------------------------------------------------------
    lines = []
    cpus = os.cpu_count()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    lines.append(
        f"make bench{' --quick' if options.quick else ''}: {stamp}, commit {commit or '?'}"
        f"{' (uncommitted changes)' if dirty else ''}, {cpus} CPUs, Python "
        f"{platform.python_version()}, SQLite, DEBUG off, 127.0.0.1 only"
    )
    load_end = os.getloadavg()[0]
    lines.append(
        f"load average (1 min) at start {load_start:.1f}, at end {load_end:.1f}"
        + (
            f": the machine was busy (more than {cpus} runnable), figures are slower and noisier"
            if max(load_start, load_end) > cpus
            else ""
        )
    )
    lines.append("")
    lines.append(
        f"In-process (Django test client, up to {options.requests} requests per page; "
        "ms per request; SQL queries cold/warm)"
    )
    rows = []
    for label, _ in PAGES:
        u, c = uncached["pages"][label], cached["pages"][label]
        rows.append(
            [
                label,
                f"{u['median']:.2f}",
                f"{u['p90']:.2f}",
                f"{c['median']:.2f}",
                f"{c['p90']:.2f}",
                f"{u['cold']}/{u['warm']}",
                f"{c['cold']}/{c['warm']}",
            ]
        )
    lines += format_table(
        ["page", "uncached med", "p90", "cached med", "p90", "SQL uncached", "SQL cached"],
        rows,
        [18, 12, 7, 10, 7, 12, 10],
    )
    fill_counts = [v["warm"] for v in fill.values()]
    lines.append(
        "procedure page SQL queries by amount of content (uncached, warm): "
        + ", ".join(
            f"{label} {v['warm']} ({v['median']:.1f} ms, {kb(v['bytes'])} kB HTML)"
            for label, v in fill.items()
        )
    )

    lines.append("")
    workers = over_http["cached"]["workers"]
    lines.append(
        f"Over HTTP (gunicorn {workers} sync workers, wrk -t{options.threads} "
        f"-c{options.connections} {options.seconds} s x {options.repeats}, median)"
    )
    rows = []
    shares = {}
    for mode in ("uncached", "cached"):
        targets = over_http[mode]["targets"]
        ref = targets[0]
        for target in targets + ([over_http[mode]["post"]] if "post" in over_http[mode] else []):
            share = share_of_reference(target, ref)
            shares[(mode, target.label)] = share
            mode_label = "-" if target.label == "consultation POST" else mode
            rows.append(
                [
                    target.label,
                    mode_label,
                    f"{target.value('rps'):.0f}",
                    f"{share:.0%}",
                    f"{target.value('p50_us') / 1000:.1f}",
                    f"{target.value('p99_us') / 1000:.1f}",
                    f"{sum(r['errors'] for r in target.runs):.0f}",
                ]
            )
    lines += format_table(
        ["target", "mode", "req/s", "of ref", "p50 ms", "p99 ms", "errors"],
        rows,
        [18, 8, 7, 7, 7, 7, 7],
    )
    lines.append(
        f"{FLOOR_LABEL}: the procedure page's HTML as stored, through the site's whole "
        f"middleware stack with no database or template, reaches "
        f"{shares[('uncached', FLOOR_LABEL)]:.0%} of static: the ceiling for any page "
        "rendered per request on this machine"
    )
    post = over_http["cached"]["post"]
    post_done = sum(r["requests"] for r in post.runs)
    post_errors = sum(r["errors"] for r in post.runs)
    # Answered without error in every POST run, warm-ups and the check POST included:
    # each had a token of its own, so each must have stored a request. A replay, or a
    # token given back (too fresh, not verifying, run out), stores nothing and makes
    # the stored count fall short.
    post_answered = 1 + sum(r["requests"] - r["errors"] for r in post.warmups + post.runs)
    lines.append(
        f"consultation POST: {stored} requests stored in the run, {post_answered:.0f} "
        f"answered without error (one check and the warm-up included; wrk counted "
        f"{post_done:.0f} answers in the measured rounds); a form token of its own in "
        f"each: {post.tokens_sent} of the {post.tokens} signed sent, each once"
        + (f", {post.tokens_exhausted} sent after they RAN OUT" if post.tokens_exhausted else "")
        + f"; {post.not_redirected} answers other than the redirect to the thanks page; "
        f"{cleanup['requests']} deleted afterwards ({cleanup['rows']} rows with their "
        f"history and queued notifications)"
    )

    lines.append("")
    lines.append("Page weight (Chromium, first visit; kB transferred/decoded, 1 kB = 1000 bytes)")
    rows = []
    for label, _ in PAGES:
        entries = weight[label]["requests"]
        cells = [label, str(len(entries))]
        for column in COLUMNS[:5]:
            mine = [e for e in entries if e["kind"] == column]
            cells.append(
                f"{kb(sum(e['transferred'] for e in mine))}/{kb(sum(e['decoded'] for e in mine))}"
                if mine
                else "-"
            )
        rest = [e for e in entries if e["kind"] != "images"]
        cells.append(
            f"{kb(sum(e['transferred'] for e in rest))}/{kb(sum(e['decoded'] for e in rest))}"
        )
        cells.append(str(weight[label]["blocking_scripts"]))
        rows.append(cells)
    lines += format_table(
        ["page", "requests", "HTML", "CSS", "JS", "fonts", "images", "all but images", "block JS"],
        rows,
        [18, 8, 10, 9, 7, 7, 7, 14, 8],
    )

    # Targets.
    pw = weight["procedure page"]
    pw_rest = [e for e in pw["requests"] if e["kind"] != "images"]
    pw_bytes = sum(e["transferred"] for e in pw_rest)
    fonts = sum(1 for label, _ in PAGES for e in weight[label]["requests"] if e["kind"] == "fonts")
    post_p99 = post.value("p99_us") / 1000
    stored_short = post_answered > stored
    guide_pages = ["procedure page", *(label for label, _ in GUIDE_PARTS)]
    slowest = max(uncached["pages"][label]["median"] for label in guide_pages)
    targets = [
        (
            f"guide pages (overview, parts) <= {TARGET_SERVER_MS:g} ms median, uncached",
            f"max {slowest:.2f} ms",
            slowest <= TARGET_SERVER_MS,
        ),
        (
            f"procedure page SQL queries <= {TARGET_MAX_QUERIES}, same for 5 and 50 (demo/5/50)",
            "/".join(str(n) for n in fill_counts),
            fill_counts[1] == fill_counts[2] and max(fill_counts) <= TARGET_MAX_QUERIES,
        ),
        (
            f"every public page <= {TARGET_MAX_QUERIES} SQL queries (cold, uncached)",
            f"max {max(v['cold'] for v in uncached['pages'].values())}",
            max(v["cold"] for v in uncached["pages"].values()) <= TARGET_MAX_QUERIES,
        ),
    ]
    for label in ("procedure page", "home page"):
        share = shares[("cached", label)]
        targets.append(
            (
                f"{label} throughput >= {TARGET_SHARE_CACHED:.0%} of static, cached",
                f"{share:.0%}",
                share >= TARGET_SHARE_CACHED,
            )
        )
    targets += [
        (
            f"procedure page <= {TARGET_WEIGHT_KB} kB compressed, all but images",
            f"{kb(pw_bytes)} kB",
            pw_bytes <= TARGET_WEIGHT_KB * KB,
        ),
        (
            f"procedure page <= {TARGET_REQUESTS} requests",
            str(len(pw["requests"])),
            len(pw["requests"]) <= TARGET_REQUESTS,
        ),
        ("no web fonts (any page)", f"{fonts} font files", fonts == 0),
        *(
            (
                f"{label}: JavaScript <= {TARGET_TOOL_JS_KB} kB (decoded)",
                f"{kb(tool_js(weight, label))} kB",
                tool_js(weight, label) <= TARGET_TOOL_JS_KB * KB,
            )
            for label, _ in TOOLS
        ),
        (
            "no render-blocking scripts (any page)",
            str(sum(weight[label]["blocking_scripts"] for label, _ in PAGES)),
            all(weight[label]["blocking_scripts"] == 0 for label, _ in PAGES),
        ),
        (
            f"consultation POST, {options.connections} connections, SQLite: "
            f"p99 < {TARGET_POST_P99_MS:g} ms, 0 errors",
            f"{post_p99:.0f} ms, {post_errors:.0f} errors"
            + (", FEWER STORED THAN ANSWERED" if stored_short else "")
            + (", TOKENS RAN OUT" if post.tokens_exhausted else "")
            + (f", {post.not_redirected} NOT 302" if post.not_redirected else ""),
            post_p99 < TARGET_POST_P99_MS
            and post_errors == 0
            and not stored_short
            and not post.tokens_exhausted
            and not post.not_redirected,
        ),
    ]
    lines.append("")
    lines.append("Targets")
    lines += format_table(
        ["target", "figure", "verdict"],
        [[name, figure, verdict(good)] for name, figure, good in targets],
        [62, 22, 7],
    )
    table = "\n".join(lines)

    # Details for the file.
    details.append(
        f"Settings: uncached = PAGE_CACHE={UNCACHED_SETTINGS} (pages cache "
        f"{uncached['cache_backend']}); cached = PAGE_CACHE={CACHED_SETTINGS} (pages cache "
        f"{cached['cache_backend']}); DEBUG {uncached['debug']}; every request sends "
        f"X-Forwarded-Proto: https and Accept-Encoding: {ACCEPT_ENCODING}."
    )
    details.append(
        f"Static reference: {PROCEDURE} as rendered, {cached['reference_bytes']} bytes, "
        f"saved as /static/{REFERENCE_NAME} (+ .gz, .br) before gunicorn started."
    )
    details.append("")
    details.append("cProfile, procedure page, uncached (top 15 by cumulative time):")
    details.append(uncached["profile"])
    details.append("")
    details.append("Page weight, every response:")
    for label, _ in PAGES:
        details.append(f"  {label} (blocking scripts: {weight[label]['blocking_scripts']}):")
        for e in weight[label]["requests"]:
            details.append(
                f"    {e['status']} {e['kind']:<7} {e['url']:<48} {e['encoding'] or 'identity':<8}"
                f" {e['transferred']:>7} B sent {e['decoded']:>7} B decoded"
                f" (asked: {e['accept_encoding']})"
            )
    details.append("")
    details.append("wrk output, every measured round:")
    for mode in ("uncached", "cached"):
        for target in over_http[mode]["targets"] + (
            [over_http[mode]["post"]] if "post" in over_http[mode] else []
        ):
            for number, raw in enumerate(target.raw, 1):
                details.append(f"--- {mode}: {target.label}, round {number}")
                details.append(raw)
    details.append("")
    details.append(f"POST clean-up, rows deleted by model: {cleanup['by_model']}")
    details.append(f"Total time: {options.time_limit - deadline.left():.0f} s")

    print()
    print(table)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(table + "\n\n" + "\n".join(details) + "\n")
    output = output.resolve()
    print(f"\nWritten to {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output}")
    if not options.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
