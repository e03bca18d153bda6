"""/robots.txt: search engines may read the public pages, never staff or confirmation pages.

Crawlers only: it hides nothing from a person and protects nothing (the admin needs a
sign-in, a confirmation page an unguessable reference). It keeps those pages out of
search results and spares the server crawls that lead nowhere.
"""

from django.http import HttpResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

# Path prefixes, as in clinic_site/urls.py and appointments/urls.py; the tests check
# that the real admin and thank-you addresses fall under them.
DISALLOWED = [
    "/admin/",  # staff sign-in, two-factor and the admin itself
    "/appointments/thanks/",  # a patient's confirmation, with their request reference
]


@require_safe
@cache_control(public=True, max_age=24 * 60 * 60)
def robots_txt(request):
    lines = ["User-agent: *", *(f"Disallow: {prefix}" for prefix in DISALLOWED)]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
