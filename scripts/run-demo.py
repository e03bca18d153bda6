"""The local demo (`make run`): the web server and the task worker, together.

    python scripts/run-demo.py [ADDRESS:PORT]     # default 127.0.0.1:8000

Starts `manage.py runserver` and `manage.py db_worker`, both with DEBUG on, so a demo
request's notification is really sent (the console email backend prints it here)
instead of waiting in the queue for a worker that never comes. They stop together:
Ctrl-C (or SIGTERM) stops both, and when either one exits on its own, the other is
stopped too and this script exits with an error.

Each runs in a process group of its own (both reload themselves on code changes, in a
second process), so that one signal to the group reaches the reloader and its child;
this script passes Ctrl-C on. For the local demo only: never for production (see
README, "Production", for the gunicorn and worker units).
"""

import os
import signal
import subprocess
import sys
import time

# This folder is on sys.path when run as `python scripts/run-demo.py`.
from common import ROOT, stop_process_group

GRACE_SECONDS = 10  # for each to stop after Ctrl-C before it is killed


class Stop(Exception):
    """Ctrl-C or SIGTERM reached this script: stop both."""


def on_signal(signum, frame):
    raise Stop


def start(name, *args):
    process = subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "true"},
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: see the module docstring
    )
    print(f"Started the {name} (pid {process.pid}).", flush=True)
    return name, process


def wait_until_gone(group, seconds=5):
    """Wait for the last process of a group (a reloader's child) to be gone, so that
    "stopped" is true when this script says it: the port is free again."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)


def main():
    address = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:8000"
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    children = []
    status = 0
    try:
        children.append(start("web server", "runserver", address))
        children.append(start("task worker", "db_worker"))
        print(
            f"Demo on http://{address}/ (staff: http://{address}/admin/, logins above). "
            "Ctrl-C stops both.",
            flush=True,
        )
        while True:
            for name, process in children:
                if process.poll() is not None:
                    print(
                        f"The {name} stopped (exit status {process.returncode}): "
                        "stopping the other.",
                        file=sys.stderr,
                        flush=True,
                    )
                    status = 1
                    raise Stop
            time.sleep(0.5)
    except Stop:
        pass
    finally:
        # Ctrl-C from here on must not cut the clean-up short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for _name, process in children:
            stop_process_group(process, signal.SIGINT, GRACE_SECONDS)
            wait_until_gone(process.pid)
    print("Stopped the web server and the task worker.", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
