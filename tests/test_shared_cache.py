"""The page cache shared by several app hosts (Redis), and the rules that keep one
crafted request from poisoning it for every patient.

A real `redis-server` runs on 127.0.0.1 for these tests (Debian's, installed by
`make test`); it is stopped in the middle of some of them to show the site fails open.
"""

import io
import logging
import socket
import subprocess
import time
import uuid

import pytest
import redis
from django.core.cache import caches
from django.core.management import CommandError, call_command
from django.test import override_settings

from education.models import ClinicSettings

pytestmark = pytest.mark.django_db


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A throwaway redis-server: nothing saved to disk, stopped and started at will."""

    def __init__(self, folder):
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port)]
            + ["--dir", str(self.folder), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    if server.process.poll() is None:
        server.stop()


def redis_pages(url, prefix):
    return {
        "BACKEND": "clinic_site.cache_backends.FailOpenRedisCache",
        "LOCATION": url,
        "KEY_PREFIX": prefix,
        "TIMEOUT": 3600,
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }


@pytest.fixture
def shared_cache(settings, redis_server):
    """The site's page cache on the test's Redis, under a prefix of its own."""
    settings.CACHES = {
        **settings.CACHES,
        "pages": redis_pages(redis_server.url, f"site-{uuid.uuid4().hex[:8]}"),
    }
    return caches["pages"]


def test_the_settings_use_redis_only_when_redis_url_is_set(settings):
    from tests.test_settings import SETUP, run_python

    show = SETUP + "from django.conf import settings; print(settings.CACHES['pages'])"
    assert "FileBasedCache" in run_python(show, DEBUG="true").stdout
    shared = run_python(show, DEBUG="true", REDIS_URL="redis://127.0.0.1:6379/2").stdout
    assert "FailOpenRedisCache" in shared
    assert "'KEY_PREFIX': 'clinic-pages'" in shared
    odd = run_python(show, DEBUG="true", PAGE_CACHE_KEY_PREFIX="pages*")
    assert "PAGE_CACHE_KEY_PREFIX: use letters" in odd.stderr


def test_a_page_cached_through_one_host_is_emptied_for_every_host(
    client, demo, shared_cache, redis_server
):
    # Host B: another app server, its own process, the same Redis and prefix.
    host_b = type(shared_cache)(redis_server.url, {"KEY_PREFIX": shared_cache.key_prefix})
    client.get("/")
    keys = redis.Redis.from_url(redis_server.url).keys(f"{shared_cache.key_prefix}:*")
    assert any(b":page:" in key for key in keys)

    clinic = ClinicSettings.load()
    clinic.phone = "(555) 010-0777"
    clinic.save()  # through host A: empties the shared cache
    assert host_b.get("clinic-settings") is None
    assert not redis.Redis.from_url(redis_server.url).keys(f"{shared_cache.key_prefix}:*")
    assert "(555) 010-0777" in client.get("/").content.decode()


def test_emptying_the_page_cache_leaves_everything_else_in_redis(shared_cache, redis_server):
    other = redis.Redis.from_url(redis_server.url)
    other.set("sessions:abc", "someone else's")
    other.set(f"{shared_cache.key_prefix}-neighbour:1:x", "a site with a longer prefix")
    neighbour = type(shared_cache)(redis_server.url, {"KEY_PREFIX": "neighbour"})
    neighbour.set("page", "kept")
    for number in range(1200):  # more than one batch
        shared_cache.set(f"page-{number}", "x")

    assert shared_cache.clear() is True
    assert shared_cache.get("page-0") is None
    assert not other.keys(f"{shared_cache.key_prefix}:*")
    assert other.get("sessions:abc") == b"someone else's"
    assert other.get(f"{shared_cache.key_prefix}-neighbour:1:x") is not None
    assert neighbour.get("page") == "kept"


def test_with_redis_down_pages_are_rendered_and_served(
    client, demo, shared_cache, redis_server, caplog
):
    pages = ["/", demo.get_absolute_url(), "/glossary/"]
    for url in pages:
        assert client.get(url).status_code == 200  # cached in Redis
    redis_server.stop()
    caplog.set_level(logging.WARNING, logger="clinic_site.cache_backends")
    started = time.monotonic()
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200
        assert demo.title in client.get(demo.get_absolute_url()).content.decode()
    # Refused connections fail at once: no page waits on the socket time-outs.
    assert time.monotonic() - started < 5
    assert "Page cache unavailable (read skipped)" in caplog.text

    # An editor's save still works; the failed emptying is logged as an error.
    clinic = ClinicSettings.load()
    clinic.phone = "(555) 010-0888"
    clinic.save()
    assert "Page cache could not be emptied" in caplog.text
    assert "(555) 010-0888" in client.get("/").content.decode()

    # Back up (empty, as a restarted cache-only Redis is): pages are cached again.
    redis_server.start()
    client.get("/")
    assert redis.Redis.from_url(redis_server.url).keys(f"{shared_cache.key_prefix}:*")


def test_a_redis_that_does_not_answer_costs_a_page_at_most_the_time_outs(
    client, demo, settings, caplog
):
    # A listening socket that never answers: the time-outs, not a hang.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    url = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
    settings.CACHES = {**settings.CACHES, "pages": redis_pages(url, "silent")}
    try:
        started = time.monotonic()
        response = client.get(demo.get_absolute_url())
        elapsed = time.monotonic() - started
    finally:
        silent.close()
    assert response.status_code == 200
    assert elapsed < 4, elapsed


# One crafted request must not change what every patient sees.


def test_a_script_name_from_the_proxy_is_never_cached(client, demo):
    # gunicorn turns a SCRIPT_NAME header from the proxy into the WSGI SCRIPT_NAME:
    # "/glossary" + "/" resolves as the home page, at the path /glossary/.
    crafted = client.get("/", SCRIPT_NAME="/glossary")
    assert crafted.status_code == 200
    assert "Cache-Control" not in crafted or "public" not in crafted["Cache-Control"]
    glossary = client.get("/glossary/").content.decode()
    home = client.get("/").content.decode()
    term = demo.glossary_terms.first()
    assert f'id="{term.slug}"' in glossary
    assert f'id="{term.slug}"' not in home


def test_a_cached_page_is_never_served_for_a_host_the_site_does_not_serve(client, demo):
    assert client.get("/").status_code == 200  # cached
    assert client.get("/", HTTP_HOST="attacker.example").status_code == 400


@override_settings(ALLOWED_HOSTS=["clinic.example", "www.clinic.example"])
def test_each_host_name_has_its_own_cached_copy(client, demo, django_assert_num_queries):
    client.get("/", HTTP_HOST="clinic.example")
    with django_assert_num_queries(0):
        assert client.get("/", HTTP_HOST="clinic.example").status_code == 200
    # The other name is rendered for itself (its links and canonical address are its own).
    assert client.get("/", HTTP_HOST="www.clinic.example").status_code == 200


def test_only_cached_public_pages_tell_the_proxy_it_may_keep_them(client, demo, settings):
    page = client.get(demo.get_absolute_url())
    assert page["Cache-Control"] == f"public, max-age=0, s-maxage={settings.PROXY_CACHE_SECONDS}"
    again = client.get(demo.get_absolute_url())  # from the cache: the same header
    assert again["Cache-Control"] == page["Cache-Control"]
    form = client.get("/request/consultation/")
    assert "public" not in form.get("Cache-Control", "")
    assert "public" not in client.get("/admin/login/").get("Cache-Control", "")


def test_clear_page_cache_empties_only_this_sites_pages_and_says_so(
    client, demo, shared_cache, redis_server
):
    client.get("/")
    other = redis.Redis.from_url(redis_server.url)
    other.set("another-app:1:x", "kept")
    output = io.StringIO()
    call_command("clear_page_cache", stdout=output)
    assert output.getvalue().strip() == "The page cache is empty."
    assert not other.keys(f"{shared_cache.key_prefix}:*")
    assert other.get("another-app:1:x") == b"kept"

    # With Redis down it says so in one line, and fails (a timer or an operator sees it).
    redis_server.stop()
    with pytest.raises(CommandError, match="could not be emptied: is Redis running"):
        call_command("clear_page_cache", stdout=io.StringIO())
