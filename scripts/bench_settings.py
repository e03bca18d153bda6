"""Settings for `make bench`'s uncached server: the site's own, plus the bench floor.

The floor (scripts/bench_urls.py) answers the procedure page's HTML, stored, through
every middleware of the site (compression included) with no database and no template:
what Django's request path alone costs, the ceiling for any page rendered per request.
"""

from clinic_site.settings import *  # noqa: F403

ROOT_URLCONF = "scripts.bench_urls"
