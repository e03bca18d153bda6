"""The site's URLs plus /bench-floor/ (see scripts/bench_settings.py); bench only."""

import os
from functools import cache
from pathlib import Path

from django.http import HttpResponse
from django.urls import path

from clinic_site.urls import handler500  # noqa: F401
from clinic_site.urls import urlpatterns as site_urlpatterns


@cache
def stored_page():
    return Path(os.environ["BENCH_FLOOR_PAGE"]).read_bytes()


def floor(request):
    return HttpResponse(stored_page())


urlpatterns = [path("bench-floor/", floor), *site_urlpatterns]
