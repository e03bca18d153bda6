"""Static files in production: hashed names, gzip and Brotli copies, cached for a year."""

import re

import pytest
from django.core.management import call_command
from django.test import Client


@pytest.fixture
def collected(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = False
    settings.WHITENOISE_AUTOREFRESH = False
    call_command("collectstatic", interactive=False, verbosity=0)
    return settings.STATIC_ROOT


def test_collectstatic_writes_hashed_gzip_and_brotli_copies(collected):
    hashed = [
        p for p in (collected / "css").iterdir() if re.fullmatch(r"site\.[0-9a-f]{12}\.css", p.name)
    ]
    assert len(hashed) == 1
    assert hashed[0].with_name(hashed[0].name + ".gz").exists()
    assert hashed[0].with_name(hashed[0].name + ".br").exists()


@pytest.mark.django_db
def test_pages_link_hashed_files_served_compressed_with_a_one_year_immutable_cache(collected):
    client = Client()  # a new client loads whitenoise with the collected files
    page = client.get("/procedures/").content.decode()
    url = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', page)[1]
    response = client.get(url, headers={"accept-encoding": "br, gzip"})
    assert response.status_code == 200
    assert response["Content-Encoding"] == "br"
    cache_control = response["Cache-Control"]
    max_age = int(re.search(r"max-age=(\d+)", cache_control)[1])
    assert max_age >= 365 * 24 * 60 * 60
    assert "immutable" in cache_control and "public" in cache_control
