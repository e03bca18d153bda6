"""`make run` (scripts/run-demo.py): the demo's web server and task worker run together,
so a request's notification is really sent, and they stop together.

The launcher runs as `make run` runs it, on a free port of 127.0.0.1 and a throwaway
SQLite file (DATABASE_URL), migrated first.
"""

import contextlib
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest

from scripts.common import cookie_value, free_port, hidden_value, http_request

ROOT = Path(__file__).resolve().parent.parent
FORM = "/appointments/consultation/"


def environment(database):
    # The launcher turns DEBUG on for both children itself; manage.py here needs it too.
    return {**os.environ, "DEBUG": "true", "DATABASE_URL": f"sqlite:///{database}"}


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "migrated.sqlite3"
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=environment(path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return path


class Demo:
    """The launcher, its output in a file (the children write there too)."""

    def __init__(self, tmp_path, migrated):
        self.database = tmp_path / "demo.sqlite3"
        shutil.copy(migrated, self.database)
        self.port = free_port()
        self.log = tmp_path / "run-demo.log"
        self.output = open(self.log, "w")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [sys.executable, "scripts/run-demo.py", f"127.0.0.1:{self.port}"],
            cwd=ROOT,
            env=environment(self.database),
            stdout=self.output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    def text(self):
        return self.log.read_text()

    def children(self):
        """The pids of the web server and the task worker, as the launcher printed them."""
        wait_until(lambda: len(re.findall(r"Started the .+ \(pid \d+\)", self.text())) == 2)
        return [int(pid) for pid in re.findall(r"Started the .+ \(pid (\d+)\)", self.text())]

    def get(self, path):
        return http_request(self.port, "GET", path, {"Host": f"127.0.0.1:{self.port}"})

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=60)
        finally:
            self.output.close()

    def kill_everything(self):
        """Clean up after a failed test: nothing may be left running."""
        for pid in [self.process.pid, *self.children_if_any()]:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def children_if_any(self):
        return [int(pid) for pid in re.findall(r"Started the .+ \(pid (\d+)\)", self.text())]


@pytest.fixture
def demo(tmp_path, migrated):
    running = Demo(tmp_path, migrated)
    yield running
    if running.process.poll() is None or any(alive(pid) for pid in running.children_if_any()):
        running.kill_everything()
        running.process.wait(timeout=30)
    running.output.close()


def wait_until(condition, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.3)
    raise AssertionError(f"still not true after {seconds} seconds")


def alive(group):
    """Whether any process of this process group is left (each child leads its own)."""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def answers(demo):
    try:
        return demo.get(FORM).status == 200
    except OSError:
        return False


def submit_consultation(demo):
    """As a patient's browser does: the form, a few seconds filling it in, the send."""
    status, headers, body, _ = demo.get(FORM)
    assert status == 200
    page = body.decode()
    fields = {
        "safety_pump_alarm": "no",
        "safety_fever": "no",
        "safety_breathing": "no",
        "safety_withdrawal": "no",
        "name": "Demo Patient",
        "phone": "",
        "email": "demo.patient@example.com",
        "contact_method": "email",
        "preferred_time": "any",
        "patient_type": "new",
        "procedure": "",
        "reason": "Checking that the demo sends the front desk's email.",
        "referring_doctor": "",
        "language": "",
        "data_consent": "on",
        "website": "",
        "csrfmiddlewaretoken": hidden_value(page, "csrfmiddlewaretoken"),
        "started": hidden_value(page, "started"),
    }
    time.sleep(3.5)  # REQUEST_MIN_FILL_SECONDS: faster than a person is refused
    status, headers, _, _ = http_request(
        demo.port,
        "POST",
        FORM,
        {
            "Host": f"127.0.0.1:{demo.port}",
            "Cookie": f"csrftoken={cookie_value(headers, 'csrftoken')}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        urlencode(fields).encode(),
    )
    assert status == 302, demo.text()[-3000:]
    return headers["Location"].rstrip("/").rsplit("/", 1)[-1]


def notification_status(demo, reference):
    with sqlite3.connect(demo.database) as db:
        row = db.execute(
            "SELECT notification_status FROM appointments_request WHERE reference = ?",
            [reference],
        ).fetchone()
    return row[0] if row else None


def test_a_demo_request_is_notified_by_the_worker_and_ctrl_c_stops_both(demo):
    web, worker = demo.children()
    wait_until(lambda: answers(demo))

    reference = submit_consultation(demo)

    # The worker picks the task up and sends the email to the console.
    wait_until(lambda: notification_status(demo, reference) == "sent", seconds=60)
    assert reference in demo.text()  # the email's text, printed by the console backend

    assert demo.stop() == 0
    assert not alive(web), "the web server (or its reloader's child) is still running"
    assert not alive(worker), "the task worker is still running"
    assert "Stopped the web server and the task worker." in demo.text()


def test_when_the_worker_dies_the_web_server_is_stopped_too(demo):
    web, worker = demo.children()
    wait_until(lambda: answers(demo))

    os.killpg(worker, signal.SIGKILL)

    assert demo.process.wait(timeout=60) == 1
    assert "The task worker stopped" in demo.text()
    assert not alive(web)
    assert not answers(demo)
