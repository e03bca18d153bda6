"""What the command scripts share: loopback HTTP, manage.py, gunicorn, Chromium.

scripts/loadtest.py, scripts/bench.py and scripts/lighthouse.py each run the site with
production settings on 127.0.0.1 against throwaway data in a work folder: they build
the same environment (production_env), run manage.py in it (manage), start gunicorn in
a process group of its own and stop it again (Gunicorn), and talk to it over plain
HTTP (http_request, hidden_value, cookie_value). The scripts run as
`python scripts/NAME.py` (this folder on sys.path: `import common`); the tests import
it as `scripts.common` (the Chromium path and flags).

Standard library only, so the tests and every script can import it before Django is
set up.
"""

import contextlib
import html
import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
HTTP_TIMEOUT = 30

# Debian's Chromium, as the browser tests, the benchmarks and lighthouse use it. Without
# the networking flags, Chromium waits for services it cannot reach on a machine with no
# network (and a patient's page must not need one).
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

# Never passed on from the caller's environment to the site: the database (and the
# PostgreSQL superuser's URL), the test suite's async switch, and what production_env
# and gunicorn_env set for each run.
NOT_INHERITED = frozenset(
    {
        "DATABASE_URL",
        "POSTGRES_ADMIN_URL",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
        "DJANGO_SETTINGS_MODULE",
        "PAGE_CACHE_DIR",
        "GUNICORN_BIND",
        "GUNICORN_ACCESS_LOG",
    }
)
# gunicorn.conf.py's graceful_timeout is 30 s; a few more for the master to exit.
GUNICORN_GRACE_SECONDS = 35


def log(message):
    """A progress line on standard error (standard output is for the report)."""
    print(message, file=sys.stderr, flush=True)


def percentile(values, share):
    """The value at `share` (0 to 1) of the sorted values (nearest rank); NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


# The environment and manage.py ---------------------------------------------------------


def production_env(work, database_url, *, drop=(), **extra):
    """The caller's environment with production settings for a throwaway run in `work`.

    DEBUG off, a random SECRET_KEY, ALLOWED_HOSTS=127.0.0.1, the given database,
    static files, media and page cache inside `work`, no e-mail sent, warnings only in
    the log. NOT_INHERITED and the names in `drop` are left out of the inherited
    environment; `extra` (a script's own settings) is added last and wins.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in NOT_INHERITED and key not in drop
    }
    env.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS=HOST,
        DATABASE_URL=database_url,
        STATIC_ROOT=str(work / "static"),
        MEDIA_ROOT=str(work / "media"),
        PAGE_CACHE_DIR=str(work / "pages"),
        # With REDIS_URL set (CI's Redis run), a page cache of this run's own.
        PAGE_CACHE_KEY_PREFIX=f"run-{secrets.token_hex(8)}",
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="clinic_site.settings",
        # The benchmarks and load test also run on SQLite (settings refuse it otherwise).
        ALLOW_SQLITE="true",
    )
    env.update(extra)
    return env


def gunicorn_env(port, access_log):
    """The settings gunicorn.conf.py reads for one server: its address and access log."""
    return {"GUNICORN_BIND": f"{HOST}:{port}", "GUNICORN_ACCESS_LOG": str(access_log)}


def run_checked(command, env, timeout, what):
    """Run `command` in the project folder, output captured; return its standard output.

    RuntimeError naming `what`, with the end of both outputs, when it fails;
    subprocess.TimeoutExpired after `timeout` seconds."""
    result = subprocess.run(
        command,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    return result.stdout


def manage(env, *args, timeout=600):
    """`manage.py ARGS` with the venv's Python in `env`; return its standard output."""
    command = [str(BIN / "python"), "manage.py", *args]
    return run_checked(command, env, timeout, f"manage.py {' '.join(args)}")


# HTTP on loopback -----------------------------------------------------------------------


def free_port():
    """A TCP port of 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class ServerDown(ConnectionRefusedError):
    """The connection was refused: nothing reached the server, so trying again is safe."""


class Response(NamedTuple):
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    seconds: float  # From connecting to the end of the body.


def http_request(port, method, path, headers, body=None, timeout=HTTP_TIMEOUT):
    """One request to 127.0.0.1:port on a new connection, as a Response.

    ServerDown (a ConnectionRefusedError, so an OSError) when the connection is refused;
    any other OSError when it fails later."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    started = time.perf_counter()
    try:
        try:
            connection.connect()
        except ConnectionRefusedError as exc:
            raise ServerDown from exc
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        content = response.read()
        return Response(response.status, response.headers, content, time.perf_counter() - started)
    finally:
        connection.close()


def hidden_value(page, name):
    """The value of the HTML input named `name` in `page` (unescaped), or None."""
    tag = re.search(rf'<input[^>]*\bname="{re.escape(name)}"[^>]*>', page)
    value = tag and re.search(r'\bvalue="([^"]*)"', tag.group(0))
    return html.unescape(value.group(1)) if value else None


def cookie_value(headers, name):
    """The value of cookie `name` in a response's Set-Cookie headers, or None."""
    for header in headers.get_all("Set-Cookie") or []:
        key, _, value = header.split(";", 1)[0].partition("=")
        if key.strip() == name:
            return value.strip()
    return None


# Processes ------------------------------------------------------------------------------


def stop_process_group(
    process, first_signal=signal.SIGTERM, grace=GUNICORN_GRACE_SECONDS, *, to_group=True
):
    """Stop a process started with start_new_session=True, and everything in its group.

    `first_signal` to the whole group (to the process alone with to_group=False), up
    to `grace` seconds for the process to exit, then SIGKILL to whatever is left of
    the group."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            if to_group:
                os.killpg(process.pid, first_signal)
            else:
                process.send_signal(first_signal)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)


def child_pids(pid):
    """The pids of the processes whose parent is `pid` (from /proc)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                pids.append(int(stat.parent.name))
    return pids


class Gunicorn:
    """gunicorn with gunicorn.conf.py, in a process group of its own, so that one
    signal reaches the master and every worker. Its output is appended to log_path;
    `env` must bind it to 127.0.0.1:port (gunicorn_env)."""

    def __init__(self, env, port, log_path):
        self.env, self.port, self.log_path = env, port, log_path
        self.process = None
        self.output = None

    def start(self, timeout=90):
        """Start it and wait up to `timeout` seconds for /healthz to answer 200.

        If it exits or does not answer in time, it is stopped and RuntimeError raised."""
        self.output = open(self.log_path, "ab")  # noqa: SIM115 (closed in stop and kill)
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "--config", str(ROOT / "gunicorn.conf.py")],
            cwd=ROOT,
            env=self.env,
            stdout=self.output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        limit = time.monotonic() + timeout
        while time.monotonic() < limit:
            if self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"gunicorn exited at start; see {self.log_path}")
            if self.healthy():
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer /healthz in time; see {self.log_path}")

    def healthy(self):
        """Whether /healthz answers 200 (the site is up and its database answers)."""
        try:
            response = http_request(self.port, "GET", "/healthz", {"Host": HOST}, timeout=5)
        except OSError:
            return False
        return response.status == 200

    def workers(self):
        """The worker pids: the master's children."""
        return child_pids(self.process.pid)

    def settled_workers(self, seconds=20):
        """The worker count once every worker has forked (preload_app: they come up
        together): when the count has held still for five looks, or after `seconds`."""
        counts = []
        limit = time.monotonic() + seconds
        while time.monotonic() < limit:
            counts.append(len(self.workers()))
            if len(counts) >= 5 and counts[-1] > 0 and len(set(counts[-5:])) == 1:
                break
            time.sleep(0.25)
        return counts[-1]

    def kill(self):
        """kill -9 of the master and every worker at once, as a crash would.

        Returns the number of workers killed, once they are gone (a zombie holds no
        socket: 5 s at most)."""
        pids = self.workers()
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self._closed()
        limit = time.monotonic() + 5
        while time.monotonic() < limit and any(Path(f"/proc/{pid}").exists() for pid in pids):
            time.sleep(0.05)
        return len(pids)

    def stop(self):
        """gunicorn's graceful stop (SIGTERM: the workers finish their requests), then
        SIGKILL to whatever is left of the group. Does nothing when it is not running."""
        if self.process is None:
            return
        stop_process_group(self.process)
        self._closed()

    def _closed(self):
        self.output.close()
        self.process = None
