"""The shipped nginx site in front of gunicorn: the micro-cache, and gunicorn's settings.

    .venv/bin/python scripts/bench_nginx.py [--quick] [--output bench/FILE.txt]

(`make bench` runs it after scripts/bench.py; it installs Debian's nginx and wrk when
missing.) Everything runs on 127.0.0.1 against a throwaway SQLite database in a work
folder under bench/ (migrate, load_demo_content, collectstatic), with production
settings (scripts/common.py: DEBUG off, SECURE_SSL_REDIRECT on, TRUSTED_PROXY_COUNT=1
as behind the one proxy).

1. The micro-cache. gunicorn with gunicorn.conf.py as shipped, and nginx running
   deploy/nginx/clinic.conf itself (scripts/nginx_site.py: only paths, ports, the
   server name and a self-signed certificate swapped), over HTTPS with keep-alive.
   wrk measures, each round interleaving them:
   - the procedure page through the site (the micro-cache warm);
   - the same page's HTML, saved with its .gz copy into the static files, served by
     the same nginx as a file (the ceiling: nginx doing no proxying at all);
   - the same page straight from gunicorn (its own page cache, no nginx);
   - the same page through nginx with a CSRF cookie, which the micro-cache never
     serves (nginx, then gunicorn's page cache: what the micro-cache saves).
   The site's access log gives, for the first, how many answers came from the cache
   and how many requests reached gunicorn. Then an edit: the page is warm in the
   micro-cache, the procedure's "what changed" note is saved (which empties the app's
   page cache, as an approval does), and the page is fetched through nginx every 50 ms
   until the new note shows: the seconds that took (PROXY_CACHE_SECONDS is 2).
2. gunicorn's worker recycling and access log. The procedure page straight from
   gunicorn (its page cache: the highest rate a worker sees) with three settings,
   rounds interleaved: recycling every 2,000 requests (the old setting), the shipped
   setting (GUNICORN_MAX_REQUESTS), and the shipped setting with the access log written
   to a file (GUNICORN_ACCESS_LOG). For each: requests per second, p50/p99, and how many
   workers were replaced during the measured rounds (gunicorn's "Booting worker" lines).

Prints the tables and writes them, with wrk's output, to --output (default
bench/bench-nginx-<UTC time>.txt). Every process runs in a process group of its own and
is stopped on any exit; the run is bounded by --time-limit.
"""

import argparse
import contextlib
import gzip
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench import Deadline, format_table, median, wrk, wrk_script
from common import (
    HOST,
    ROOT,
    Gunicorn,
    free_port,
    gunicorn_env,
    http_request,
    log,
    manage,
    production_env,
)
from nginx_site import SERVER_NAME, Nginx

PROCEDURE = "/procedures/intrathecal-pain-pump/"
REFERENCE_NAME = "bench-nginx-reference.html"
ACCEPT_ENCODING = "gzip, deflate, br"
# The old recycling setting, measured against the shipped one.
OLD_MAX_REQUESTS, OLD_JITTER = 2000, 200
# An approved edit must show through nginx within the micro-cache time plus this.
EDIT_SLACK_SECONDS = 1.5


@dataclass
class Target:
    """One URL measured with wrk: its rounds' figures and wrk's output."""

    label: str
    url: str
    script: Path
    runs: list = field(default_factory=list)
    raw: list = field(default_factory=list)

    def value(self, key):
        return median([run[key] for run in self.runs])


def run_wrk(target, seconds, options, deadline, record=True):
    """One wrk run of `target` (http or https): parsed figures; appended when `record`."""
    values, stdout, line = wrk(target.url, target.script, target.label, seconds, options, deadline)
    if record:
        target.runs.append(values)
        target.raw.append(stdout.replace(line, "").strip())
    return values


def measure(targets, options, deadline, before_round=None, after_round=None):
    """A warm-up of each target, then rounds that interleave them (so a busy moment on
    the machine falls on every target alike). The callbacks see (target, round)."""
    for target in targets:
        run_wrk(target, options.warmup_seconds, options, deadline, record=False)
    for number in range(options.repeats):
        for target in targets:
            log(f"  round {number + 1}/{options.repeats}: {target.label}")
            if before_round:
                before_round(target)
            run_wrk(target, options.seconds, options, deadline)
            if after_round:
                after_round(target)


def cache_statuses(access_log, start_line):
    """{cache status: count} of the site's access log from line `start_line` on.

    The clinic log format ends "$status $body_bytes_sent $request_time
    $upstream_cache_status". Lines with status 499 (wrk closed the connection at the end
    of an earlier run while gunicorn was still answering) belong to that run: left out."""
    counts = {}
    with open(access_log, errors="replace") as lines:
        for number, line in enumerate(lines):
            fields = line.split()
            if number < start_line or len(fields) < 4 or fields[-4] == "499":
                continue
            counts[fields[-1]] = counts.get(fields[-1], 0) + 1
    return counts


def line_count(path):
    with contextlib.suppress(FileNotFoundError), open(path, "rb") as lines:
        return sum(1 for _ in lines)
    return 0


def worker_boots(log_path):
    """How many workers gunicorn has started so far (its log says so for each)."""
    with contextlib.suppress(FileNotFoundError):
        return len(re.findall(r"Booting worker with pid", Path(log_path).read_text()))
    return 0


def edit_shows_after(nginx, env, deadline):
    """Seconds from an edit being saved to the new text showing through nginx.

    The page is first made warm in the micro-cache (two requests, the second a HIT).
    A child process saves the procedure's "what changed" note (post_save empties the
    app's page cache, as an approval does) and prints the time it committed; the page
    is then fetched through nginx every 50 ms until the note shows. Returns (seconds,
    the cache statuses seen on the way)."""
    for _ in range(2):
        first = nginx.request("GET", PROCEDURE)
    if first.headers.get("X-Cache-Status") != "HIT":
        raise RuntimeError(f"the page is not served from the micro-cache: {first.headers}")
    marker = f"Bench edit {int(time.time())}"
    code = (
        "import time\n"
        "from education.models import Procedure\n"
        f"page = Procedure.objects.get(slug={PROCEDURE.split('/')[2]!r}, language='en')\n"
        f"page.update_note = {marker!r}\n"
        "page.save()\n"
        "print('SAVED', time.time())\n"
    )
    out = manage(env, "shell", "--no-imports", "-c", code, timeout=deadline.timeout(120))
    saved = float(re.search(r"SAVED ([0-9.]+)", out).group(1))
    seen = []
    limit = time.monotonic() + 30
    while time.monotonic() < limit:
        response = nginx.request("GET", PROCEDURE)
        seen.append(response.headers.get("X-Cache-Status", "?"))
        if marker.encode() in response.body:
            return time.time() - saved, seen
        time.sleep(0.05)
    raise RuntimeError(f"the edit did not show through nginx within 30 s ({seen[-5:]})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="A short run (about two minutes).")
    parser.add_argument("--output", type=Path, help="Where to write the report.")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: its config).")
    parser.add_argument("--time-limit", type=int, help="Seconds for the whole run.")
    parser.add_argument("--keep", action="store_true", help="Keep the work folder.")
    options = parser.parse_args()
    if options.quick:
        options.seconds, options.repeats, options.warmup_seconds = 3, 1, 1
    else:
        options.seconds, options.repeats, options.warmup_seconds = 10, 3, 2
    options.connections, options.threads = 32, 2
    options.time_limit = options.time_limit or (600 if options.quick else 1200)
    deadline = Deadline(options.time_limit)
    for tool in ("wrk", "openssl"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is missing: `make bench` installs wrk (apt-get).")
    load_start = os.getloadavg()[0]

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (ROOT / "bench").mkdir(exist_ok=True)
    output = options.output or ROOT / "bench" / f"bench-nginx-{stamp}.txt"
    work = Path(tempfile.mkdtemp(prefix=f"work-nginx-{stamp}-", dir=ROOT / "bench"))
    servers = []  # Everything started, stopped in `finally` whatever happens.
    ok = False
    details = []
    try:
        app_port = free_port()
        # nginx worker processes as Debian's "worker_processes auto": one per CPU.
        nginx = Nginx(app_port, workers=os.cpu_count() or 1)
        servers.append(nginx)
        base_env = production_env(
            work,
            f"sqlite:///{work / 'bench.sqlite3'}",
            drop={"SECURE_SSL_REDIRECT", "WEB_CONCURRENCY", "PROXY_CACHE_SECONDS"},
            # nginx reads the static files and uploads from its own folder (it may run as
            # nobody, who cannot read the work folder).
            STATIC_ROOT=str(nginx.static_root),
            MEDIA_ROOT=str(nginx.media_root),
            ALLOWED_HOSTS=f"{HOST},{SERVER_NAME}",
            TRUSTED_PROXY_COUNT="1",
            GUNICORN_ACCESS_LOG="",
        )
        for name in ("GUNICORN_MAX_REQUESTS", "GUNICORN_MAX_REQUESTS_JITTER"):
            base_env.pop(name, None)  # The shipped setting unless a round asks otherwise.
        if options.workers:
            base_env["WEB_CONCURRENCY"] = str(options.workers)
        log(f"Preparing a throwaway database and static files in {work.relative_to(ROOT)} ...")
        manage(base_env, "migrate", "--noinput", timeout=deadline.timeout(600))
        manage(base_env, "load_demo_content", timeout=deadline.timeout(600))
        manage(base_env, "collectstatic", "--noinput", timeout=deadline.timeout(600))

        # 1. The micro-cache ------------------------------------------------------------
        env = base_env | gunicorn_env(app_port, "") | {"PAGE_CACHE_DIR": str(work / "pages")}
        app = Gunicorn(env, app_port, work / "gunicorn.log")
        servers.append(app)
        app.start(deadline.timeout(90))
        workers = app.settled_workers()
        nginx.start()
        log(
            f"gunicorn ({workers} workers) on {HOST}:{app_port}, nginx "
            f"({nginx.workers} workers) on https://{SERVER_NAME}:{nginx.https_port}"
        )
        direct = {"Host": HOST, "X-Forwarded-Proto": "https"}
        plain = http_request(app_port, "GET", PROCEDURE, direct)
        if plain.status != 200:
            raise RuntimeError(f"{PROCEDURE} answered {plain.status}")
        reference = nginx.static_root / REFERENCE_NAME
        reference.write_bytes(plain.body)
        Path(f"{reference}.gz").write_bytes(gzip.compress(plain.body, compresslevel=9, mtime=0))
        headers = {"Accept-Encoding": ACCEPT_ENCODING}
        site = nginx.url(PROCEDURE)
        page = Target("page, nginx micro-cache", site, wrk_script(work / "site.lua", headers))
        static = Target(
            "same bytes, nginx file",
            nginx.url(f"/static/{REFERENCE_NAME}"),
            wrk_script(work / "static.lua", headers),
        )
        gunicorn_page = Target(
            "page, gunicorn direct",
            f"http://{HOST}:{app_port}{PROCEDURE}",
            wrk_script(work / "direct.lua", headers | direct),
        )
        bypass = Target(
            "page, nginx, cache bypassed",
            site,
            wrk_script(work / "bypass.lua", headers | {"Cookie": "csrftoken=bench"}),
        )
        access_log = nginx.prefix / "logs" / "clinic.access.log"
        page_statuses = {}
        page_seconds = 0.0
        marks = {}

        def before(target):
            marks[target.label] = (line_count(access_log), time.monotonic())

        def after(target):
            nonlocal page_seconds
            if target is page:
                start_line, started = marks[target.label]
                page_seconds += time.monotonic() - started
                for status, count in cache_statuses(access_log, start_line).items():
                    page_statuses[status] = page_statuses.get(status, 0) + count

        log("The micro-cache: wrk on the site, a file, gunicorn direct, the cache bypassed ...")
        measure([page, static, gunicorn_page, bypass], options, deadline, before, after)
        log("An edit, seen through nginx ...")
        edit_seconds, edit_seen = edit_shows_after(nginx, base_env, deadline)
        proxy_seconds = int(os.environ.get("PROXY_CACHE_SECONDS", "2"))
        # nginx stays up (its folder holds the static files every gunicorn here uses).
        app.stop()

        # 2. gunicorn: worker recycling and the access log ------------------------------
        settings = [
            (
                f"recycle every {OLD_MAX_REQUESTS} (old)",
                {
                    "GUNICORN_MAX_REQUESTS": str(OLD_MAX_REQUESTS),
                    "GUNICORN_MAX_REQUESTS_JITTER": str(OLD_JITTER),
                },
            ),
            ("shipped settings", {}),
            ("shipped + access log", {"GUNICORN_ACCESS_LOG": str(work / "access.log")}),
        ]
        recycling = []
        for label, extra in settings:
            port = free_port()
            server_env = (
                base_env
                | gunicorn_env(port, "")
                | {"PAGE_CACHE_DIR": str(work / f"pages-{port}")}
                | extra
            )
            server = Gunicorn(server_env, port, work / f"gunicorn-{port}.log")
            servers.append(server)
            server.start(deadline.timeout(90))
            server.settled_workers()
            target = Target(
                label,
                f"http://{HOST}:{port}{PROCEDURE}",
                wrk_script(work / f"recycle-{port}.lua", headers | direct),
            )
            recycling.append((target, server, {"boots": 0, "seconds": 0.0}))
        by_label = {target.label: (server, counts) for target, server, counts in recycling}

        def before_recycle(target):
            server, _ = by_label[target.label]
            marks[target.label] = (worker_boots(server.log_path), time.monotonic())

        def after_recycle(target):
            server, counts = by_label[target.label]
            boots, started = marks[target.label]
            counts["boots"] += worker_boots(server.log_path) - boots
            counts["seconds"] += time.monotonic() - started

        log("gunicorn: recycling and access log, the page straight from gunicorn ...")
        measure(
            [target for target, _, _ in recycling],
            options,
            deadline,
            before_recycle,
            after_recycle,
        )
        gunicorn_workers = recycling[0][1].settled_workers()
        for _, server, _ in recycling:
            server.stop()
        ok = True
    finally:
        for server in reversed(servers):
            server.stop()
        if not ok:
            log(f"The run stopped; the work folder is kept: {work}")

    # The report ---------------------------------------------------------------------
    lines = []
    cpus = os.cpu_count()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    load_end = os.getloadavg()[0]
    nginx_version = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr
    lines.append(
        f"bench_nginx{' --quick' if options.quick else ''}: {stamp}, commit {commit or '?'}, "
        f"{cpus} CPUs, Python {platform.python_version()}, {nginx_version.strip()}, "
        f"SQLite, DEBUG off, 127.0.0.1 only"
    )
    lines.append(
        f"load average (1 min) at start {load_start:.1f}, at end {load_end:.1f}"
        + (
            f": the machine was busy when the run began (more than {cpus} runnable), "
            "figures are noisier"
            if load_start > cpus
            else ""
        )
    )
    lines.append("")
    lines.append(
        f"The micro-cache: deploy/nginx/clinic.conf ({cpus} nginx workers, HTTPS, keep-alive) "
        f"in front of gunicorn ({workers} sync workers); wrk -t{options.threads} "
        f"-c{options.connections} {options.seconds} s x {options.repeats}, median"
    )
    ceiling = static.value("rps")
    rows = [
        [
            t.label,
            f"{t.value('rps'):.0f}",
            f"{t.value('rps') / ceiling:.0%}",
            f"{t.value('p50_us') / 1000:.2f}",
            f"{t.value('p99_us') / 1000:.2f}",
            f"{sum(r['errors'] for r in t.runs):.0f}",
        ]
        for t in (page, static, gunicorn_page, bypass)
    ]
    lines += format_table(
        ["target", "req/s", "of file", "p50 ms", "p99 ms", "errors"],
        rows,
        [28, 8, 8, 8, 8, 7],
    )
    served = sum(page_statuses.values())
    # HIT and UPDATING (a stale copy while another request refreshes it) never reach
    # gunicorn; MISS, EXPIRED, BYPASS do, and STALE starts the background refresh.
    upstream = sum(
        count for status, count in page_statuses.items() if status not in ("HIT", "UPDATING")
    )
    lines.append(
        f"page through the site: {served} answers in the measured rounds, "
        + ", ".join(f"{status} {count}" for status, count in sorted(page_statuses.items()))
        + f"; {upstream} reached gunicorn ({upstream / max(page_seconds, 1e-9):.2f} a second, "
        f"one per cached variant every {proxy_seconds} s at most)"
    )
    edit_ok = edit_seconds <= proxy_seconds + EDIT_SLACK_SECONDS
    lines.append(
        f"an edit showed through nginx {edit_seconds:.2f} s after it was saved "
        f"(micro-cache {proxy_seconds} s; target <= {proxy_seconds + EDIT_SLACK_SECONDS:g} s: "
        f"{'met' if edit_ok else 'NOT MET'}); statuses on the way: "
        + " ".join(dict.fromkeys(edit_seen))
    )
    lines.append("")
    lines.append(
        f"gunicorn ({gunicorn_workers} sync workers), the page straight from gunicorn "
        "(its page cache), same wrk settings"
    )
    rows = []
    for target, _server, counts in recycling:
        per_minute = counts["boots"] * 60 / max(counts["seconds"], 1e-9)
        rows.append(
            [
                target.label,
                f"{target.value('rps'):.0f}",
                f"{target.value('p50_us') / 1000:.2f}",
                f"{target.value('p99_us') / 1000:.2f}",
                str(counts["boots"]),
                f"{per_minute:.1f}",
            ]
        )
    lines += format_table(
        ["setting", "req/s", "p50 ms", "p99 ms", "replaced", "per minute"],
        rows,
        [28, 8, 8, 8, 9, 10],
    )
    shipped = recycling[1][0].value("rps")
    with_log = recycling[2][0].value("rps")
    lines.append(
        f"access log to a file: {with_log:.0f} req/s against {shipped:.0f} without "
        f"({(with_log - shipped) / shipped:+.1%})"
    )
    table = "\n".join(lines)

    details.append("wrk output, every measured round:")
    for target in (page, static, gunicorn_page, bypass, *(t for t, _, _ in recycling)):
        for number, raw in enumerate(target.raw, 1):
            details.append(f"--- {target.label} ({target.url}), round {number}")
            details.append(raw)
    details.append(f"Total time: {options.time_limit - deadline.left():.0f} s")

    print()
    print(table)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(table + "\n\n" + "\n".join(details) + "\n")
    output = output.resolve()
    print(f"\nWritten to {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output}")
    if not options.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if edit_ok else 1


if __name__ == "__main__":
    sys.exit(main())
