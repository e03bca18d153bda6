"""Lighthouse scores of the key pages, against gunicorn on loopback with production settings.

    make lighthouse
    .venv/bin/python scripts/lighthouse.py [--keep] [--time-limit SECONDS]

(`make lighthouse` installs the pinned lighthouse into .lighthouse/ and Debian's
Chromium first.) It prepares a throwaway SQLite database with the demo content and the
collected static files in a temporary folder, starts gunicorn with gunicorn.conf.py and
production settings (DEBUG off) on a free port of 127.0.0.1, waits for /healthz, then
runs lighthouse's command line (mobile, its default simulated throttling, which needs
no network) with Debian's Chromium on the pages in PAGES (the home page, the guide,
the consultation form and the guide's tools). Reports land in bench/lighthouse/ (JSON,
one per page).

It prints the four category scores (performance, accessibility, best practices, SEO)
per page, and every scored audit below 1 with its id, title and score, and exits 1
when any score is below 100. Traffic stays on loopback; the run is bounded by
--time-limit, and gunicorn is stopped on the way out, however the run ends.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import (
    CHROMIUM,
    CHROMIUM_ARGS,
    HOST,
    ROOT,
    Gunicorn,
    free_port,
    gunicorn_env,
    log,
    manage,
    production_env,
    stop_process_group,
)

LIGHTHOUSE = ROOT / ".lighthouse" / "node_modules" / ".bin" / "lighthouse"
REPORTS = ROOT / "bench" / "lighthouse"
# Chromium treats http://localhost as a secure context (as it does 127.0.0.1), and
# accepts the production settings' Secure cookies there, as it would over HTTPS.
ORIGIN_HOST = "localhost"
PAGES = [
    ("home", "/"),
    ("guide overview", "/procedures/intrathecal-pain-pump/"),
    ("guide part", "/procedures/intrathecal-pain-pump/risks/"),
    ("consultation", "/appointments/consultation/"),
    ("Spanish guide overview", "/es/procedures/intrathecal-pain-pump/"),
    ("tool: decision aid", "/procedures/intrathecal-pain-pump/tools/decision/"),
    ("tool: questions", "/procedures/intrathecal-pain-pump/tools/questions/"),
    ("tool: trial diary", "/procedures/intrathecal-pain-pump/tools/diary/"),
    ("tool: pump card", "/procedures/intrathecal-pain-pump/tools/card/"),
]
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]
# Headless, with the flags that keep Chromium off the network (without them it waits
# for services it cannot reach on a machine with no network, and the run hangs).
CHROME_FLAGS = " ".join(["--headless=new", *CHROMIUM_ARGS])
PAGE_TIME_LIMIT = 180
ATTEMPTS = 3


class LighthouseFailed(RuntimeError):
    pass


def end(process):
    """Stop a lighthouse still running, and the Chromium it started.

    chrome-launcher starts Chromium in a session of its own, out of reach of a signal to
    lighthouse's group; on SIGINT it kills that Chromium itself before exiting. Then
    SIGKILL to whatever is left of lighthouse's group (all of it if it did not exit in
    time)."""
    stop_process_group(process, signal.SIGINT, 15, to_group=False)


def run_lighthouse(url, output, chrome, deadline):
    """One lighthouse run, in its own process group, stopped if it overruns."""
    command = [
        str(LIGHTHOUSE),
        url,
        f"--chrome-path={chrome}",
        f"--chrome-flags={CHROME_FLAGS}",
        f"--only-categories={','.join(CATEGORIES)}",
        "--output=json",
        f"--output-path={output}",
        "--quiet",
    ]
    timeout = max(1, min(PAGE_TIME_LIMIT, deadline - time.monotonic()))
    errors = ""
    with tempfile.TemporaryFile("w+") as stderr:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise LighthouseFailed(f"lighthouse took over {timeout:.0f} s on {url}") from None
        finally:
            end(process)
            stderr.seek(0)
            errors = stderr.read()
    if process.returncode != 0 or not output.exists():
        raise LighthouseFailed(f"lighthouse failed on {url}:\n{errors[-3000:]}")
    report = json.loads(output.read_text())
    if report.get("runtimeError"):
        raise LighthouseFailed(f"lighthouse on {url}: {report['runtimeError']}")
    return report


def measure(url, output, chrome, deadline):
    """Lighthouse asks to be run again when Chromium's trace of the load comes back
    incomplete (NO_NAVSTART, seen now and then here, twice in a row once): up to
    ATTEMPTS tries, then give up."""
    for attempt in range(1, ATTEMPTS + 1):
        output.unlink(missing_ok=True)
        try:
            return run_lighthouse(url, output, chrome, deadline)
        except LighthouseFailed as exc:
            if attempt == ATTEMPTS or time.monotonic() > deadline:
                raise
            log(f"  {str(exc).strip().splitlines()[-1]}; trying again ...")
    raise AssertionError("unreachable")


def scores(report):
    """{category: 0-100 or None}, and {audit id: (audit, weight)} for the scored audits
    below 1 in those categories (weight 0: shown as advice, not counted in the score)."""
    categories = report["categories"]
    result = {}
    weak = {}
    for name in CATEGORIES:
        score = categories.get(name, {}).get("score")
        result[name] = None if score is None else round(score * 100)
        for ref in categories.get(name, {}).get("auditRefs", []):
            audit = report["audits"].get(ref["id"], {})
            scored = audit.get("scoreDisplayMode") in {"binary", "numeric", "metricSavings"}
            if scored and audit.get("score") is not None and audit["score"] < 1:
                weight = max(ref.get("weight", 0), weak.get(ref["id"], (None, 0))[1])
                weak[ref["id"]] = (audit, weight)
    return result, weak


def median_run(reports):
    """The run with the median performance score (an odd count of runs: the middle one),
    as Lighthouse's documentation advises against the noise of one run on a busy machine.
    The other categories do not depend on timing."""
    ordered = sorted(reports, key=lambda report: report["categories"]["performance"]["score"] or 0)
    return ordered[(len(ordered) - 1) // 2]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--runs", type=int, default=3, help="Lighthouse runs per page; the median counts (3)."
    )
    parser.add_argument(
        "--time-limit", type=int, default=1800, help="Seconds for the whole run (default 1800)."
    )
    parser.add_argument("--keep", action="store_true", help="Keep the temporary folder.")
    options = parser.parse_args()
    if options.runs < 1:
        parser.error("--runs must be 1 or more")
    deadline = time.monotonic() + options.time_limit

    if not LIGHTHOUSE.exists():
        log("lighthouse is not installed: run `make lighthouse`.")
        return 2
    chrome = os.environ.get("CHROME_PATH") or CHROMIUM
    if not Path(chrome).exists():
        log(f"Chromium is not at {chrome}: run `make lighthouse` (or set CHROME_PATH).")
        return 2

    work = Path(tempfile.mkdtemp(prefix="clinic-lighthouse-"))
    port = free_port()
    env = production_env(
        work,
        f"sqlite:///{work / 'lighthouse.sqlite3'}",
        **gunicorn_env(port, work / "access.log"),
        ALLOWED_HOSTS=f"{HOST},{ORIGIN_HOST}",
        # Only because there is no TLS on loopback: no redirect to https, and no HSTS
        # header (which a browser ignores over http anyway). Everything else, the CSP
        # and every other security header included, is production's.
        SECURE_SSL_REDIRECT="false",
        SECURE_HSTS_SECONDS="0",
    )
    REPORTS.mkdir(parents=True, exist_ok=True)
    for old in REPORTS.glob("*.json"):
        old.unlink()
    server = Gunicorn(env, port, work / "gunicorn.log")
    reports = {name: [] for name, _ in PAGES}
    try:
        log(f"Preparing a throwaway database and static files in {work} ...")
        manage(env, "migrate", "--noinput", timeout=300)
        manage(env, "load_demo_content", timeout=300)
        manage(env, "collectstatic", "--noinput", timeout=300)
        server.start(min(90, deadline - time.monotonic()))
        # Page after page, then again: a moment of load on the machine spreads over
        # pages instead of spoiling every run of one.
        for run in range(1, options.runs + 1):
            for name, path in PAGES:
                url = f"http://{ORIGIN_HOST}:{port}{path}"
                output = REPORTS / f"{name}-{run}.json"
                started = time.monotonic()
                reports[name].append(measure(url, output, chrome, deadline))
                log(f"{url} run {run}: {time.monotonic() - started:.0f} s, {output.name}")
    except BaseException:
        log(f"The run stopped; logs kept in {work}")
        raise
    finally:
        server.stop()

    version = reports[PAGES[0][0]][0].get("lighthouseVersion", "?")
    print()
    print(
        f"Lighthouse {version}, mobile, simulated throttling, median of {options.runs} run(s) "
        f"per page; gunicorn on {HOST} with production settings"
    )
    heads = ["page", *CATEGORIES, "performance per run"]
    print(f"{heads[0]:<14}" + "".join(f"{head:>16}" for head in heads[1:-1]) + f"  {heads[-1]}")
    failures = []
    weak_audits = []
    for name, _ in PAGES:
        result, weak = scores(median_run(reports[name]))
        each = " ".join(
            str(round((report["categories"]["performance"]["score"] or 0) * 100))
            for report in reports[name]
        )
        cells = "".join(f"{'-' if v is None else v:>16}" for v in result.values())
        print(f"{name:<14}{cells}  {each}")
        failures += [f"{name} {c}" for c, v in result.items() if v is None or v < 100]
        weak_audits += [(name, audit_id, *found) for audit_id, found in weak.items()]
    if weak_audits:
        print("audits below 1 in the median runs (weight 0: advice, not part of the score):")
    for name, audit_id, audit, weight in weak_audits:
        shown = f": {audit['displayValue']}" if audit.get("displayValue") else ""
        print(
            f"  {name:<13} {audit_id} ({audit['title']}) score {audit['score']:g}, "
            f"weight {weight:g}{shown}"
        )
    print(f"reports: {REPORTS.relative_to(ROOT)}/")
    if failures:
        print("FAIL: below 100: " + ", ".join(failures))
        print(f"logs kept in {work}")
        return 1
    print("PASS: 100 in every category on every page")
    if options.keep:
        print(f"kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
