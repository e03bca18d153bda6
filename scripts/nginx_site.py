"""The shipped nginx site (deploy/nginx/clinic.conf), run for real on 127.0.0.1.

scripts/bench_nginx.py (make bench) and tests/test_deploy.py both run THE SHIPPED file,
not a copy: `site_config` takes its text and swaps only what must differ on a test
machine (paths, ports, the server name and the certificate), and fails when one of
those is no longer in the file, so the file and what is tested cannot drift apart.

`Nginx` runs Debian's nginx in the foreground (no daemon, no system service, nothing
in /etc or /var) with everything in a temporary folder of its own: the main config
(the few http-level lines of Debian's /etc/nginx/nginx.conf that matter here), the
site, a self-signed certificate made with openssl, the micro-cache, logs and nginx's
temporary files. It never runs as root: when the caller is root (a CI container), it
runs as "nobody", and that folder is handed to nobody.

Standard library only (the tests import it as scripts.nginx_site, the scripts as
nginx_site).
"""

import contextlib
import http.client
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "deploy" / "nginx" / "clinic.conf"
HOST = "127.0.0.1"
# The name the test site answers to. A name, not an address: TLS clients send no SNI
# for an address, and the shipped site refuses a handshake without a known name.
SERVER_NAME = "localhost"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
# nginx's own temporary files (request bodies, large upstream answers).
TEMP_KINDS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


class NginxMissing(RuntimeError):
    """Debian's nginx is not installed (`make test` and `make bench` install it)."""


def site_config(text, *, http_port, https_port, app_port, static_root, media_root, prefix):
    """The shipped site with only paths, ports, server name and certificate swapped.

    Each swap must find what it replaces (ValueError otherwise): if the shipped file
    changes shape, this fails instead of quietly testing something else."""
    prefix = Path(prefix)
    swaps = [
        # The certificate first: its path holds the server name.
        ("/etc/letsencrypt/live/clinic.example/fullchain.pem", str(prefix / "tls" / "cert.pem")),
        ("/etc/letsencrypt/live/clinic.example/privkey.pem", str(prefix / "tls" / "key.pem")),
        ("server_name clinic.example;", f"server_name {SERVER_NAME};"),
        ("/var/cache/nginx/clinic", str(prefix / "cache")),
        ("/var/log/nginx/", f"{prefix / 'logs'}/"),
        ("/var/www/certbot", str(prefix / "acme")),
        ("alias /srv/clinic/staticfiles/;", f"alias {Path(static_root)}/;"),
        ("alias /srv/clinic/media/;", f"alias {Path(media_root)}/;"),
        ("proxy_pass http://127.0.0.1:8000;", f"proxy_pass http://{HOST}:{app_port};"),
        ("listen 80", f"listen {HOST}:{http_port}"),
        ("listen 443", f"listen {HOST}:{https_port}"),
    ]
    for old, new in swaps:
        if old not in text:
            raise ValueError(f"{SITE.name} no longer holds {old!r}: update scripts/nginx_site.py")
        text = text.replace(old, new)
    # IPv6 listeners: a test machine may have no IPv6 at all; loopback IPv4 is enough.
    lines = [line for line in text.splitlines() if not line.strip().startswith("listen [::]")]
    return "\n".join(lines) + "\n"


def main_config(prefix, site_path, workers):
    """nginx.conf for a run: what Debian's /etc/nginx/nginx.conf sets in http { } that
    changes how a site behaves (sendfile, types, gzip), with every path in `prefix`."""
    temp_paths = "\n".join(f"    {kind}_temp_path {prefix / 'temp' / kind};" for kind in TEMP_KINDS)
    return f"""worker_processes {workers};
pid {prefix / "nginx.pid"};
error_log {prefix / "logs" / "error.log"} warn;

events {{
    worker_connections 1024;
}}

http {{
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    gzip on;
    access_log {prefix / "logs" / "access.log"};
{temp_paths}
    include {site_path};
}}
"""


def make_certificate(folder):
    """A self-signed certificate for SERVER_NAME and 127.0.0.1 (a P-256 key: quick to
    make), valid two days; returns the certificate's path (the key is next to it)."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "2",
            "-subj",
            f"/CN={SERVER_NAME}",
            "-addext",
            f"subjectAltName=DNS:{SERVER_NAME},IP:{HOST}",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert


def free_port():
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class Response(NamedTuple):
    status: int
    headers: http.client.HTTPMessage
    body: bytes


class Nginx:
    """The shipped site on 127.0.0.1 in front of the app at `app_port`.

    `static_root` and `media_root` default to folders in the run's own folder
    (`self.prefix`), where nginx can read them even when it runs as nobody; a caller
    that collects static files for nginx should put them in `self.static_root`."""

    def __init__(self, app_port, *, workers=1, static_root=None, media_root=None):
        if not Path(NGINX).exists():
            raise NginxMissing("nginx is missing: `make test` installs it (apt-get install nginx)")
        self.app_port = app_port
        self.workers = workers
        self.prefix = Path(tempfile.mkdtemp(prefix="clinic-nginx-"))
        self.static_root = Path(static_root or self.prefix / "static")
        self.media_root = Path(media_root or self.prefix / "media")
        self.http_port, self.https_port = free_port(), free_port()
        self.process = None
        self.output = None
        self.cert = make_certificate(self.prefix / "tls")
        for folder in ("cache", "logs", "acme", *(f"temp/{kind}" for kind in TEMP_KINDS)):
            (self.prefix / folder).mkdir(parents=True, exist_ok=True)
        self.static_root.mkdir(parents=True, exist_ok=True)
        self.media_root.mkdir(parents=True, exist_ok=True)
        self.site_path = self.prefix / "clinic.conf"
        self.site_path.write_text(
            site_config(
                SITE.read_text(),
                http_port=self.http_port,
                https_port=self.https_port,
                app_port=app_port,
                static_root=self.static_root,
                media_root=self.media_root,
                prefix=self.prefix,
            )
        )
        self.conf_path = self.prefix / "nginx.conf"
        self.conf_path.write_text(main_config(self.prefix, self.site_path, workers))
        self.user = self._unprivileged_user()

    def _unprivileged_user(self):
        """None when the caller is not root; otherwise "nobody", given the run's folder
        (nginx must never run as root here)."""
        if os.geteuid() != 0:
            return None
        nobody = pwd.getpwnam("nobody")
        for path in [self.prefix, *self.prefix.rglob("*")]:
            os.chown(path, nobody.pw_uid, nobody.pw_gid)
        return nobody

    def command(self, *extra):
        return [NGINX, "-p", str(self.prefix), "-c", str(self.conf_path), *extra]

    def _run_as(self):
        if self.user is None:
            return {}
        return {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}

    def check(self):
        """`nginx -t` of the run's config: (exit code, its output)."""
        result = subprocess.run(
            self.command("-t"),
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
            **self._run_as(),
        )
        return result.returncode, result.stdout + result.stderr

    def start(self, timeout=30):
        """Start nginx in the foreground, in a process group of its own; wait until the
        HTTPS port accepts connections. Otherwise stop (the run's folder deleted) and
        raise RuntimeError with nginx's output."""
        code, output = self.check()
        if code != 0:
            self.stop()  # the run's folder goes too
            raise RuntimeError(f"nginx -t failed:\n{output}")
        self.output = open(self.prefix / "logs" / "stderr.log", "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            self.command("-g", "daemon off;"),
            stdout=self.output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            **self._run_as(),
        )
        limit = time.monotonic() + timeout
        while time.monotonic() < limit:
            if self.process.poll() is not None:
                break
            with (
                contextlib.suppress(OSError),
                socket.create_connection((HOST, self.https_port), timeout=1),
            ):
                return self
            time.sleep(0.1)
        log = (self.prefix / "logs" / "error.log").read_text(errors="replace")
        self.stop()
        raise RuntimeError(f"nginx did not start:\n{log}")

    def stop(self):
        """Stop nginx (SIGTERM: fast shutdown, then SIGKILL to what is left of its
        group) and delete the run's folder."""
        if self.process is not None:
            if self.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=10)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
            self.process = None
        if self.output is not None:
            self.output.close()
            self.output = None
        shutil.rmtree(self.prefix, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def url(self, path=""):
        return f"https://{SERVER_NAME}:{self.https_port}{path}"

    def request(self, method, path, headers=None, body=None, timeout=30):
        """One HTTPS request to the site on a new connection, checking the certificate
        (ours) and sending SERVER_NAME as the TLS name (SNI) and Host."""
        context = ssl.create_default_context(cafile=str(self.cert))
        connection = http.client.HTTPSConnection(
            SERVER_NAME, self.https_port, timeout=timeout, context=context
        )
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return Response(response.status, response.headers, response.read())
        finally:
            connection.close()

    def http_request(self, method, path, headers=None, timeout=30):
        """One plain-HTTP request to the site's port 80 stand-in."""
        connection = http.client.HTTPConnection(HOST, self.http_port, timeout=timeout)
        try:
            connection.request(method, path, headers={"Host": SERVER_NAME, **(headers or {})})
            response = connection.getresponse()
            return Response(response.status, response.headers, response.read())
        finally:
            connection.close()
