"""Rate limits on the public forms: per client address and form, counted in the database."""

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.db.models import F
from django.test import RequestFactory
from django.urls import reverse
from django.utils.crypto import salted_hmac

from appointments import ratelimit
from appointments.models import RateLimitCounter, Request
from education.models import ClinicSettings
from education.readability import grade

from .factories import call_back_data, consultation_data

pytestmark = pytest.mark.django_db

CONSULTATION = reverse("appointments:consultation")
CALL_BACK = reverse("appointments:call_back")


def send(client, url=CONSULTATION, number=0, **extra):
    data = consultation_data if url == CONSULTATION else call_back_data
    return client.post(url, data(phone=f"(202) 555-{number % 10000:04d}"), **extra)


def use_up_the_limit(client, settings, url=CONSULTATION, **extra):
    for number in range(settings.REQUEST_RATE_LIMIT):
        assert send(client, url, number, **extra).status_code == 302


def test_the_default_limit_is_ten_sends_an_hour(settings):
    assert settings.REQUEST_RATE_LIMIT == 10
    assert settings.REQUEST_RATE_LIMIT_WINDOW_MINUTES == 60


def test_the_eleventh_send_in_an_hour_gets_the_too_many_tries_page(client, settings):
    ClinicSettings.objects.create(name="Test Clinic", phone="(202) 555-0100")
    use_up_the_limit(client, settings)
    assert Request.objects.count() == 10

    response = send(client, number=11)

    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 3600
    page = response.content.decode()
    assert "Too many tries" in page
    assert "Please call us at (202) 555-0100" in page
    assert 'href="tel:2025550100"' in page
    assert Request.objects.count() == 10  # nothing stored


def test_the_limit_counts_bot_sends_too(client, settings):
    settings.REQUEST_RATE_LIMIT = 2
    for _ in range(2):
        response = client.post(CONSULTATION, consultation_data(website="spam"))
        assert response.status_code == 302
    assert client.post(CONSULTATION, consultation_data()).status_code == 429
    assert not Request.objects.exists()


def test_reading_the_form_is_never_limited(client, settings):
    settings.REQUEST_RATE_LIMIT = 1
    use_up_the_limit(client, settings)
    assert send(client).status_code == 429
    for _ in range(5):
        assert client.get(CONSULTATION).status_code == 200
    assert RateLimitCounter.objects.get().count == 2


def test_each_form_has_its_own_limit(client, settings):
    settings.REQUEST_RATE_LIMIT = 2
    use_up_the_limit(client, settings)
    assert send(client).status_code == 429
    assert send(client, CALL_BACK).status_code == 302


def test_another_address_is_not_limited(client, settings):
    settings.REQUEST_RATE_LIMIT = 2
    use_up_the_limit(client, settings)
    assert send(client).status_code == 429
    assert send(client, REMOTE_ADDR="198.51.100.20").status_code == 302


def test_a_made_up_forwarded_for_header_does_not_get_round_the_limit(client, settings):
    settings.REQUEST_RATE_LIMIT = 2
    for number in range(3):
        response = send(client, number=number, HTTP_X_FORWARDED_FOR=f"203.0.113.{number}")
    assert response.status_code == 429


def test_behind_a_proxy_each_client_has_its_own_limit(client, settings):
    settings.REQUEST_RATE_LIMIT = 2
    settings.TRUSTED_PROXY_COUNT = 1
    use_up_the_limit(client, settings, HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert send(client, HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 429
    # Same proxy address (REMOTE_ADDR), another client behind it.
    assert send(client, HTTP_X_FORWARDED_FOR="203.0.113.8").status_code == 302
    # The client cannot change who it is by adding its own entries on the left.
    spoofed = "198.51.100.1, 203.0.113.7"
    assert send(client, HTTP_X_FORWARDED_FOR=spoofed).status_code == 429


def test_the_next_window_starts_afresh_and_old_counters_are_deleted(client, settings):
    settings.REQUEST_RATE_LIMIT = 2
    use_up_the_limit(client, settings)
    assert send(client).status_code == 429
    # As if those sends were in the last window.
    RateLimitCounter.objects.update(window_start=F("window_start") - timedelta(hours=1))

    assert send(client).status_code == 302

    counter = RateLimitCounter.objects.get()  # the old window's row is gone
    assert counter.count == 1


def test_the_counter_stores_a_keyed_hash_never_the_address(client, settings):
    send(client, REMOTE_ADDR="203.0.113.99")
    counter = RateLimitCounter.objects.get()
    assert "203.0.113.99" not in str(list(RateLimitCounter.objects.values()))
    expected = salted_hmac(ratelimit.HASH_SALT, "203.0.113.99", algorithm="sha256").hexdigest()
    assert counter.client == expected
    settings.SECRET_KEY = "another-secret-key-for-this-test"
    other = salted_hmac(ratelimit.HASH_SALT, "203.0.113.99", algorithm="sha256").hexdigest()
    assert other != expected  # keyed: without the secret, no one can test guesses


def test_the_log_names_the_form_not_the_address(client, settings, caplog):
    settings.REQUEST_RATE_LIMIT = 1
    use_up_the_limit(client, settings, REMOTE_ADDR="203.0.113.99")
    send(client, REMOTE_ADDR="203.0.113.99")
    assert "Rate limit reached on form:consultation" in caplog.text
    assert "203.0.113.99" not in caplog.text
    assert "Test Patient" not in caplog.text


def test_the_too_many_tries_page_is_plain_language(client, settings):
    ClinicSettings.objects.create(name="Test Clinic", phone="(202) 555-0100")
    settings.REQUEST_RATE_LIMIT = 0
    response = send(client)
    main = response.content.decode().split("<main", 1)[1].split("</main>", 1)[0]
    text = " ".join(part.split(">", 1)[-1] for part in main.split("<"))
    assert "call 911" in text
    assert grade(text) <= 8


# Who the client is ------------------------------------------------------------------------


def request_from(remote_addr="192.0.2.1", forwarded=None):
    extra = {"REMOTE_ADDR": remote_addr}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().post("/", **extra)


@pytest.mark.parametrize(
    ("proxies", "remote_addr", "forwarded", "expected"),
    [
        (0, "192.0.2.1", "203.0.113.7", "192.0.2.1"),  # no proxy: the header is ignored
        (1, "192.0.2.1", "203.0.113.7", "203.0.113.7"),
        (1, "192.0.2.1", "198.51.100.1, 203.0.113.7", "203.0.113.7"),
        (2, "192.0.2.1", "198.51.100.1, 203.0.113.7, 10.0.0.2", "203.0.113.7"),
        (2, "192.0.2.1", "203.0.113.7", "192.0.2.1"),  # fewer entries than proxies
        (1, "192.0.2.1", "not-an-address", "192.0.2.1"),
        (1, "192.0.2.1", "<script>", "192.0.2.1"),
        (1, "192.0.2.1", "203.0.113.7:4431", "203.0.113.7"),
        (1, "192.0.2.1", "[2001:db8::1]:443", "2001:db8::1"),
        (0, "::ffff:203.0.113.7", None, "203.0.113.7"),
        (0, "", None, None),
    ],
)
def test_client_ip(settings, proxies, remote_addr, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    assert ratelimit.client_ip(request_from(remote_addr, forwarded)) == expected


def test_ipv6_clients_count_by_their_64_network(settings):
    one = ratelimit.client_key(request_from("2001:db8:1:2::1"))
    same_network = ratelimit.client_key(request_from("2001:db8:1:2:ffff::9"))
    other_network = ratelimit.client_key(request_from("2001:db8:1:3::1"))
    assert one == same_network != other_network


# The counter under load ---------------------------------------------------------------------

# Run in a fresh process on a file database, as the site runs: the test database is
# SQLite in memory, which cannot take writers on several threads at once.
CONCURRENT_HITS = """
import json, sys, threading
import django
django.setup()
from django.db import connection
from appointments import ratelimit
from appointments.models import RateLimitCounter

with connection.schema_editor() as editor:
    editor.create_model(RateLimitCounter)
workers = int(sys.argv[1])
window_start, _ = ratelimit.current_window()
barrier = threading.Barrier(workers)
counts, errors = [], []

def count_one():
    try:
        barrier.wait()
        counts.append(ratelimit.hit("form:test", "a" * 64, window_start))
    except Exception as error:
        errors.append(repr(error))
    finally:
        connection.close()

threads = [threading.Thread(target=count_one) for _ in range(workers)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
stored = RateLimitCounter.objects.get().count
print(json.dumps({"counts": sorted(counts), "errors": errors, "stored": stored}))
"""


def run_concurrent_hits(database_url, workers):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "clinic_site.settings",
        "DATABASE_URL": database_url,
        "DEBUG": "true",
        "LOG_LEVEL": "WARNING",
    }
    done = subprocess.run(
        [sys.executable, "-c", CONCURRENT_HITS, str(workers)],
        cwd=settings_module_dir(),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def settings_module_dir():
    return Path(ratelimit.__file__).resolve().parents[1]


def test_the_counter_is_atomic_under_concurrent_sends(tmp_path):
    """Sixteen requests counting at the same moment: every one is counted, none twice."""
    result = run_concurrent_hits(f"sqlite:///{tmp_path / 'db.sqlite3'}", workers=16)
    assert result["errors"] == []
    assert result["counts"] == list(range(1, 17))
    assert result["stored"] == 16
