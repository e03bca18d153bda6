"""The deployment files (deploy/): the nginx site run for real, and the systemd units.

The nginx tests run THE SHIPPED deploy/nginx/clinic.conf (scripts/nginx_site.py swaps
only paths, ports, the server name and the certificate) with Debian's nginx on
127.0.0.1, twice over:
- `site`: in front of the real app (gunicorn with gunicorn.conf.py and production
  settings, on a throwaway SQLite database with the demo content and collectstatic's
  files in nginx's static folder), as on a production host;
- `policy`: in front of a small stand-in app in this process that answers any
  Cache-Control or Set-Cookie a test asks for, counts what reaches it and echoes the
  headers it got, so every rule of the micro-cache and of the proxy headers is checked
  on its own, not only where today's app happens to send the right headers anyway.

Both are started once for the module. nginx missing is a failure, not a skip:
`make test` installs it (make nginx).
"""

import datetime
import gzip
import http.client
import http.server
import io
import json
import os
import re
import shlex
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import get_commands, load_command_class
from PIL import Image

from education import images
from scripts.common import (
    HOST,
    ROOT,
    Gunicorn,
    free_port,
    gunicorn_env,
    hidden_value,
    http_request,
    manage,
    production_env,
)
from scripts.nginx_site import SERVER_NAME, SITE, Nginx, NginxMissing

SYSTEMD = ROOT / "deploy" / "systemd"
PROCEDURE = "/procedures/intrathecal-pain-pump/"
FORM = "/appointments/consultation/"
# The app's Cache-Control s-maxage for its public pages: the shipped default.
PROXY_CACHE_SECONDS = 2
# An approved edit shows through nginx within the micro-cache time plus this (the
# stale copy's refresh, the page rendered afresh, the polling).
EDIT_SLACK_SECONDS = 2.0
MiB = 1024 * 1024


def shipped_nginx(upstream_port):
    """The shipped site in front of `upstream_port`, not started yet (its folders are
    where the app's static files go). A missing nginx fails the test, with the fix."""
    try:
        return Nginx(upstream_port)
    except NginxMissing as missing:
        pytest.fail(str(missing), pytrace=False)


def fresh(path):
    """`path` under a query string no other request used: a key of its own in the
    micro-cache (the key holds the query; the app ignores it)."""
    return f"{path}?t={uuid.uuid4().hex}"


def cache_status(response):
    return response.headers.get("X-Cache-Status")


# The real app behind the shipped site --------------------------------------------------


class Site:
    """gunicorn (production settings) and nginx in front of it, for the module."""

    def __init__(self, work):
        self.app_port = free_port()
        self.app = None
        self.nginx = shipped_nginx(self.app_port)
        try:
            self.start(work)
        except BaseException:
            self.stop()
            raise

    def start(self, work):
        self.env = production_env(
            work,
            f"sqlite:///{work / 'site.sqlite3'}",
            drop={"SECURE_SSL_REDIRECT", "WEB_CONCURRENCY", "PROXY_CACHE_SECONDS"},
            # collectstatic writes where nginx serves from (nginx may run as nobody,
            # who can read its own run folder but not pytest's).
            STATIC_ROOT=str(self.nginx.static_root),
            MEDIA_ROOT=str(self.nginx.media_root),
            ALLOWED_HOSTS=f"{HOST},{SERVER_NAME}",
            TRUSTED_PROXY_COUNT="1",
            PROXY_CACHE_SECONDS=str(PROXY_CACHE_SECONDS),
            WEB_CONCURRENCY="2",
        )
        manage(self.env, "migrate", "--noinput", timeout=600)
        manage(self.env, "load_demo_content", timeout=600)
        manage(self.env, "collectstatic", "--noinput", timeout=600)
        self.app = Gunicorn(
            self.env | gunicorn_env(self.app_port, ""), self.app_port, work / "gunicorn.log"
        )
        self.app.start()
        self.nginx.start()

    def get(self, path, headers=None):
        return self.nginx.request("GET", path, headers)

    def edit(self, note):
        """Save the pump procedure's "what changed" note, as an approval saves the page
        (post_save empties the app's page cache); returns when it was committed."""
        code = (
            "import time\n"
            "from education.models import Procedure\n"
            "page = Procedure.objects.get(slug='intrathecal-pain-pump', language='en')\n"
            f"page.update_note = {note!r}\n"
            "page.save()\n"
            "print('SAVED', time.time())\n"
        )
        output = manage(self.env, "shell", "--no-imports", "-c", code, timeout=120)
        return float(re.search(r"SAVED ([0-9.]+)", output).group(1))

    def stop(self):
        if self.app is not None:
            self.app.stop()
        if self.nginx is not None:
            self.nginx.stop()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    running = Site(tmp_path_factory.mktemp("deploy"))
    try:
        yield running
    finally:
        running.stop()


# A stand-in app: answers what the test asks for -----------------------------------------

# Kinds of answer: the Cache-Control (and other headers) the stand-in sends.
STORED_KINDS = {
    "public-s-maxage": {"Cache-Control": "public, max-age=0, s-maxage=2"},
}
NEVER_STORED_KINDS = {
    "set-cookie": {
        "Cache-Control": "public, max-age=0, s-maxage=2",
        "Set-Cookie": "csrftoken=abc; Path=/; Secure",
    },
    "private": {"Cache-Control": "private, s-maxage=2"},
    "no-store": {"Cache-Control": "public, s-maxage=2, no-store"},
    "no-cache": {"Cache-Control": "public, s-maxage=2, no-cache"},
    "s-maxage-0": {"Cache-Control": "public, max-age=0, s-maxage=0"},
    # nginx by itself would keep this for an hour: only "public" with s-maxage is kept.
    "max-age-only": {"Cache-Control": "public, max-age=3600"},
    # ...and this for a minute, whatever Cache-Control says.
    "x-accel-expires": {"Cache-Control": "no-store", "X-Accel-Expires": "60"},
    "no-cache-control": {},
}


class StandIn(http.server.ThreadingHTTPServer):
    """GET /kind/<kind>/...: an answer with that kind's headers, its body the number of
    times this path (with its query) reached here. /echo: the request's headers (and
    body length) as JSON, never cacheable."""

    daemon_threads = True

    def __init__(self):
        super().__init__((HOST, 0), StandInHandler)
        self.hits = {}
        self.lock = threading.Lock()

    def hit(self, path):
        with self.lock:
            self.hits[path] = self.hits.get(path, 0) + 1
            return self.hits[path]


class StandInHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, body, headers):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def echo(self):
        length = int(self.headers.get("Content-Length") or 0)
        while length > 0:
            length -= len(self.rfile.read(min(length, MiB)))
        body = json.dumps(
            {
                "headers": [[name.lower(), value] for name, value in self.headers.items()],
                "length": int(self.headers.get("Content-Length") or 0),
            }
        ).encode()
        self.answer(body, {"Cache-Control": "no-store"})

    def do_GET(self):
        if self.path.startswith("/echo"):
            return self.echo()
        kind = self.path.split("/")[2].split("?")[0]
        count = self.server.hit(self.path)
        headers = (STORED_KINDS | NEVER_STORED_KINDS)[kind]
        self.answer(f"{kind} {count}".encode(), headers)

    do_POST = echo


@pytest.fixture(scope="module")
def policy():
    """The shipped site in front of the stand-in app: (nginx, stand-in)."""
    standin = StandIn()
    thread = threading.Thread(target=standin.serve_forever, daemon=True)
    thread.start()
    nginx = None
    try:
        nginx = shipped_nginx(standin.server_address[1]).start()
        yield nginx, standin
    finally:
        if nginx is not None:
            nginx.stop()
        standin.shutdown()
        standin.server_close()


def echoed(nginx, headers=None, body=None):
    """The headers the app got for a request through nginx: {lowercase name: [values]}."""
    response = nginx.request("POST" if body is not None else "GET", "/echo", headers, body)
    assert response.status == 200, response
    got = {}
    for name, value in json.loads(response.body)["headers"]:
        got.setdefault(name, []).append(value)
    return got


# The shipped file ------------------------------------------------------------------------


def test_nginx_accepts_the_shipped_site(site):
    code, output = site.nginx.check()
    assert code == 0, output
    assert "test is successful" in output
    # It is the shipped file, only paths, ports, names and the certificate swapped.
    shipped = SITE.read_text()
    ran = site.nginx.site_path.read_text()
    for line in ("proxy_cache_bypass", "underscores_in_headers off;", "return 444;"):
        assert line in shipped and line in ran


def test_the_site_serves_the_apps_default_folders_and_address():
    # /srv/clinic is the project folder on a host (README): the settings' defaults there.
    text = SITE.read_text()
    assert "alias /srv/clinic/staticfiles/;" in text  # STATIC_ROOT: BASE_DIR/staticfiles
    assert "alias /srv/clinic/media/;" in text  # MEDIA_ROOT: BASE_DIR/media
    assert "proxy_pass http://127.0.0.1:8000;" in text  # gunicorn.conf.py's bind
    config = subprocess.run(
        [sys.executable, "-c", "import runpy; print(runpy.run_path('gunicorn.conf.py')['bind'])"],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("GUNICORN_")},
        capture_output=True,
        text=True,
        check=True,
    )
    assert config.stdout.strip() == "['127.0.0.1:8000']"


# The micro-cache, with the real app --------------------------------------------------------


def test_a_public_page_is_kept_by_nginx_and_the_second_reader_gets_the_same_page(site):
    path = fresh(PROCEDURE)
    first = site.get(path)
    second = site.get(path)

    assert first.status == second.status == 200
    assert "s-maxage=2" in first.headers["Cache-Control"]
    assert "public" in first.headers["Cache-Control"]
    assert cache_status(first) == "MISS"
    assert cache_status(second) == "HIT"
    assert second.body == first.body
    assert b"<h1" in second.body and b"pump" in second.body.lower()
    # ...and it is the page gunicorn renders for that path (not another one).
    direct = http_request(
        site.app_port, "GET", PROCEDURE, {"Host": SERVER_NAME, "X-Forwarded-Proto": "https"}
    )
    assert direct.status == 200
    title = re.search(rb"<title>(.*?)</title>", direct.body, re.S).group(1)
    assert re.search(rb"<title>(.*?)</title>", second.body, re.S).group(1) == title


def test_the_consultation_form_is_never_served_from_the_micro_cache(site):
    first = site.get(FORM)
    second = site.get(FORM)

    assert first.status == second.status == 200
    # Why nginx must not keep it: a CSRF cookie and token for this reader alone.
    assert "no-store" in first.headers["Cache-Control"]
    assert "csrftoken=" in (first.headers.get("Set-Cookie") or "")
    assert cache_status(first) != "HIT" and cache_status(second) != "HIT"
    # Each reader got a page of their own: a different form token each time.
    tokens = {hidden_value(r.body.decode(), "csrfmiddlewaretoken") for r in (first, second)}
    assert None not in tokens and len(tokens) == 2


def test_a_no_store_page_is_never_served_from_the_micro_cache(site):
    path = fresh("/admin/login/")
    first, second = site.get(path), site.get(path)
    assert first.status == 200
    assert "no-store" in first.headers["Cache-Control"]
    assert cache_status(first) != "HIT" and cache_status(second) != "HIT"


@pytest.mark.parametrize("cookie", ["sessionid=staffsession", "csrftoken=formtoken"])
def test_a_reader_with_a_session_or_form_cookie_never_gets_or_leaves_a_cached_copy(site, cookie):
    # A kept page is not served to them...
    kept = fresh(PROCEDURE)
    site.get(kept)
    assert cache_status(site.get(kept)) == "HIT"
    theirs = site.get(kept, {"Cookie": cookie})
    assert theirs.status == 200
    assert cache_status(theirs) == "BYPASS"
    # ...and what they get is not kept for the next reader.
    path = fresh(PROCEDURE)
    assert cache_status(site.get(path, {"Cookie": cookie})) == "BYPASS"
    assert cache_status(site.get(path)) == "MISS"
    assert cache_status(site.get(path)) == "HIT"


def test_an_approved_edit_shows_through_nginx_within_seconds(site):
    site.get(PROCEDURE)
    assert cache_status(site.get(PROCEDURE)) == "HIT"
    note = f"Deploy test edit {uuid.uuid4().hex[:8]}"

    saved = site.edit(note)

    seen = []
    while time.time() - saved < PROXY_CACHE_SECONDS + EDIT_SLACK_SECONDS + 5:
        response = site.get(PROCEDURE)
        seen.append(cache_status(response))
        if note.encode() in response.body:
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"the edit never showed through nginx; cache statuses {seen}")
    shown_after = time.time() - saved
    assert shown_after <= PROXY_CACHE_SECONDS + EDIT_SLACK_SECONDS, (shown_after, seen)


# The micro-cache's rules, with the stand-in app ---------------------------------------------


@pytest.mark.parametrize("kind", STORED_KINDS)
def test_nginx_keeps_only_what_the_app_marks_public_with_s_maxage(policy, kind):
    nginx, standin = policy
    path = fresh(f"/kind/{kind}/page")
    first, second = nginx.request("GET", path), nginx.request("GET", path)
    assert (cache_status(first), cache_status(second)) == ("MISS", "HIT")
    assert second.body == f"{kind} 1".encode()
    assert standin.hits[path] == 1


@pytest.mark.parametrize("kind", NEVER_STORED_KINDS)
def test_nginx_never_keeps_a_cookie_private_no_store_or_unmarked_answer(policy, kind):
    nginx, standin = policy
    path = fresh(f"/kind/{kind}/page")
    first, second = nginx.request("GET", path), nginx.request("GET", path)
    assert first.status == second.status == 200
    assert cache_status(second) != "HIT"
    assert second.body == f"{kind} 2".encode()
    assert standin.hits[path] == 2


@pytest.mark.parametrize(
    "headers",
    [
        {"Cookie": "sessionid=abc"},
        {"Cookie": "lang=en; csrftoken=abc"},
        {"Authorization": "Basic YTpi"},
    ],
    ids=["session", "csrf", "authorization"],
)
def test_nginx_never_serves_or_keeps_a_copy_for_a_session_csrf_cookie_or_credentials(
    policy, headers
):
    nginx, standin = policy
    kept = fresh("/kind/public-s-maxage/page")
    nginx.request("GET", kept)
    assert cache_status(nginx.request("GET", kept)) == "HIT"
    theirs = nginx.request("GET", kept, headers)
    assert cache_status(theirs) == "BYPASS"
    assert standin.hits[kept] == 2

    path = fresh("/kind/public-s-maxage/page")
    assert cache_status(nginx.request("GET", path, headers)) == "BYPASS"
    assert cache_status(nginx.request("GET", path)) == "MISS"
    assert standin.hits[path] == 2


# Proxy headers and request limits -----------------------------------------------------------


def test_headers_with_an_underscore_never_reach_the_app(site, policy):
    nginx, _ = policy
    got = echoed(nginx, {"SCRIPT_NAME": "/glossary", "X_Forwarded_Proto": "http", "X-Ok": "1"})
    assert got["x-ok"] == ["1"]
    assert not [name for name in got if "_" in name]
    # Through the real site: the page asked for, whatever prefix the header claims.
    response = site.get(fresh("/glossary/"), {"SCRIPT_NAME": "/glossary"})
    assert response.status == 200
    assert b"<h1>Words to know</h1>" in response.body  # the glossary's heading
    home = site.get("/")
    title = re.compile(rb"<title>(.*?)</title>", re.S)
    assert title.search(response.body).group(1) != title.search(home.body).group(1)


def test_the_app_learns_the_scheme_and_client_from_nginx_and_nothing_else(policy):
    nginx, _ = policy
    got = echoed(
        nginx,
        {
            "X-Forwarded-For": "203.0.113.9",
            "X-Forwarded-Host": "evil.example",
            "X-Forwarded-Proto": "http",
            "Forwarded": "for=203.0.113.9;host=evil.example;proto=http",
        },
    )
    assert got["host"] == [SERVER_NAME]
    assert got["x-forwarded-proto"] == ["https"]
    # nginx adds the address it saw last (TRUSTED_PROXY_COUNT=1 reads that one).
    assert got["x-forwarded-for"][-1].split(",")[-1].strip() == HOST
    assert "x-forwarded-host" not in got
    assert "forwarded" not in got


def test_a_10_mb_picture_upload_gets_through_and_a_bigger_body_is_refused(policy):
    nginx, _ = policy
    # A 10 MB picture with the admin form around it is a little more than 10 MB.
    body = b"x" * (11 * MiB)
    assert json.loads(nginx.request("POST", "/echo", {}, body).body)["length"] == len(body)
    try:
        too_big = nginx.request("POST", "/echo", {}, b"x" * (12 * MiB + 1))
    except (BrokenPipeError, ConnectionResetError):
        pytest.fail("nginx closed the connection instead of answering 413")
    assert too_big.status == 413


# Names and schemes ------------------------------------------------------------------------


def test_plain_http_redirects_to_https(site):
    response = site.nginx.http_request("GET", "/procedures/?page=2")
    assert response.status == 301
    assert response.headers["Location"] == f"https://{SERVER_NAME}/procedures/?page=2"


def test_certbot_http_check_files_are_served_over_plain_http(site):
    token = uuid.uuid4().hex
    folder = site.nginx.prefix / "acme" / ".well-known" / "acme-challenge"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / token).write_text("proof")
    (folder / token).chmod(0o644)
    response = site.nginx.http_request("GET", f"/.well-known/acme-challenge/{token}")
    assert (response.status, response.body) == (200, b"proof")


def test_a_request_for_any_other_name_gets_no_answer(site):
    nginx = site.nginx
    # Plain HTTP with another Host, and HTTPS with the right TLS name but another Host:
    # the connection is closed without an answer (444).
    with pytest.raises(http.client.RemoteDisconnected):
        nginx.http_request("GET", "/", {"Host": "evil.example"})
    with pytest.raises(http.client.RemoteDisconnected):
        nginx.request("GET", PROCEDURE, {"Host": "evil.example"})
    # HTTPS for another name, or for the bare address (no name): no handshake at all.
    for name in ("evil.example", None):
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        with (
            socket.create_connection((HOST, nginx.https_port), timeout=10) as raw,
            pytest.raises(ssl.SSLError),
            context.wrap_socket(raw, server_hostname=name),
        ):
            pass
    # The right name still works.
    assert site.get(PROCEDURE).status == 200


# Static files and uploads -----------------------------------------------------------------


def test_hashed_static_files_are_kept_a_year_and_sent_gzipped(site):
    static = site.nginx.static_root
    manifest = json.loads((static / "staticfiles.json").read_text())["paths"]
    original, hashed = next(
        (name, hashed)
        for name, hashed in sorted(manifest.items())
        if name.endswith(".css") and (static / f"{hashed}.gz").exists()
    )

    response = site.get(f"/static/{hashed}", {"Accept-Encoding": "gzip"})
    assert response.status == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.body) == (static / hashed).read_bytes()
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Type"].startswith("text/css")

    # The unhashed name may change: an hour.
    plain = site.get(f"/static/{original}")
    assert plain.status == 200
    assert plain.headers["Cache-Control"] == "public, max-age=3600"
    # A name this host does not have (yet): a 404 nobody keeps.
    missing = site.get(f"/static/{hashed.replace('.css', '.0123456789ab.css')}")
    assert missing.status == 404
    assert "Cache-Control" not in missing.headers


def png(width, height):
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (30, 90, 150)).save(buffer, "PNG")
    return buffer.getvalue()


def test_uploaded_pictures_and_their_copies_are_kept_a_year_and_can_never_run(site, settings):
    settings.MEDIA_ROOT = site.nginx.media_root
    name = images.store(SimpleUploadedFile("x.png", png(800, 600), content_type="image/png"))
    assert re.fullmatch(r"procedures/[0-9a-f]{32}\.png", name)
    copy = images.rendition_name(name, 720)

    for stored in (name, copy):
        response = site.get(f"/media/{stored}")
        assert response.status == 200, stored
        assert response.body == (site.nginx.media_root / stored).read_bytes()
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        policy = response.headers["Content-Security-Policy"]
        assert "sandbox" in policy and "default-src 'none'" in policy

    # A copy not made yet: the 404 keeps the protections but is not kept by browsers.
    missing = site.get(f"/media/{images.rendition_name(name, 1080)}")
    assert missing.status == 404
    assert "sandbox" in missing.headers["Content-Security-Policy"]
    assert "Cache-Control" not in missing.headers


# systemd units ----------------------------------------------------------------------------


def unit_files():
    files = sorted(SYSTEMD.glob("*.service")) + sorted(SYSTEMD.glob("*.timer"))
    assert len(files) >= 2
    return files


def parse_unit(path):
    """{section: {key: [values]}} (a key may be given more than once in a unit). The
    shipped units use no line continuations; systemd-analyze checks the rest."""
    unit, section = {}, None
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = unit.setdefault(line[1:-1], {})
            continue
        assert section is not None and "=" in line, f"{path.name}: {line!r}"
        key, _, value = line.partition("=")
        section.setdefault(key.strip(), []).append(value.strip())
    return unit


def values(unit, section, key):
    return unit.get(section, {}).get(key, [])


def test_every_systemd_unit_passes_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.fail("systemd-analyze is missing (Debian: apt-get install systemd)", pytrace=False)
    # The units as shipped, with /srv/clinic moved to a folder where their commands
    # exist (verify checks that every ExecStart can run).
    root = tmp_path / "srv-clinic"
    for program in ("python", "gunicorn"):
        binary = root / ".venv" / "bin" / program
        binary.parent.mkdir(parents=True, exist_ok=True)
        binary.write_text("#!/bin/sh\n")
        binary.chmod(0o755)
    units = tmp_path / "units"
    units.mkdir()
    for path in unit_files():
        (units / path.name).write_text(path.read_text().replace("/srv/clinic", str(root)))

    result = subprocess.run(
        [analyze, "verify", "--man=no", "--generators=no", *sorted(map(str, units.iterdir()))],
        cwd=units,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # verify only warns about an unknown key or a bad value: any output is a problem.
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_every_service_runs_a_real_command_with_the_sites_settings(settings):
    # The site's own task backend (the tests run tasks at once): the worker's
    # --backend option checks it.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    for path in SYSTEMD.glob("*.service"):
        unit = parse_unit(path)
        assert values(unit, "Service", "EnvironmentFile") == ["/etc/clinic/clinic.env"], path
        assert values(unit, "Service", "User") == ["clinic"], path
        assert values(unit, "Service", "WorkingDirectory") == ["/srv/clinic"], path
        assert values(unit, "Unit", "Description"), path
        [command] = values(unit, "Service", "ExecStart")
        program, *args = shlex.split(command)
        if program == "/srv/clinic/.venv/bin/gunicorn":
            assert args == ["--config", "/srv/clinic/gunicorn.conf.py"], path
            assert (ROOT / "gunicorn.conf.py").exists()
            continue
        assert program == "/srv/clinic/.venv/bin/python", path
        assert args[0] == "/srv/clinic/manage.py", path
        name, options = args[1], args[2:]
        assert name in get_commands(), f"{path.name}: no manage.py command {name!r}"
        # The command accepts the unit's options (CommandError otherwise).
        load_command_class(get_commands()[name], name).create_parser("manage.py", name).parse_args(
            options
        )


def test_every_timer_starts_a_one_shot_service_of_its_own_name():
    timers = sorted(SYSTEMD.glob("*.timer"))
    assert timers
    started = set()
    for timer in timers:
        unit = parse_unit(timer)
        [service_name] = values(unit, "Timer", "Unit")
        assert service_name == f"{timer.stem}.service", timer.name
        service = parse_unit(SYSTEMD / service_name)
        assert values(service, "Service", "Type") == ["oneshot"], service_name
        assert values(unit, "Timer", "OnCalendar"), timer.name
        assert values(unit, "Install", "WantedBy") == ["timers.target"], timer.name
        # The descriptions name settings as the site's settings spell them.
        description = values(unit, "Unit", "Description")[0]
        for word in re.findall(r"\b[a-z]+_[a-z_]+\b", description):
            pytest.fail(f"{timer.name}: {word!r} in its description (write {word.upper()})")
        started.add(service_name)
    # Every one-shot service has its timer; the others run all the time.
    for path in SYSTEMD.glob("*.service"):
        if values(parse_unit(path), "Service", "Type") == ["oneshot"]:
            assert path.name in started, f"{path.name} has no timer"


def daily_jobs():
    """(timer, manage.py command, its parsed options) of every timer that runs daily."""
    for timer in sorted(SYSTEMD.glob("*.timer")):
        [calendar] = values(parse_unit(timer), "Timer", "OnCalendar")
        if not calendar.startswith("*-*-* "):
            continue
        service = parse_unit(SYSTEMD / f"{timer.stem}.service")
        [command] = values(service, "Service", "ExecStart")
        name, *options = shlex.split(command)[2:]
        parser = load_command_class(get_commands()[name], name).create_parser("manage.py", name)
        yield timer.name, name, vars(parser.parse_args(options))


def test_a_daily_job_runs_once_a_day_however_many_hosts_fire_its_timer():
    jobs = list(daily_jobs())
    assert {name for _, name, _ in jobs} >= {"backup", "purge_requests", "send_review_reminders"}
    for timer, name, options in jobs:
        # Timers on several hosts fire minutes apart (RandomizedDelaySec): the job lock
        # skips a job another host finished within 20 hours (operations/jobs.py).
        assert options["skip_if_done_within"] >= datetime.timedelta(hours=20), (timer, name)
