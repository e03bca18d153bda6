"""The public page cache: reading pages rendered once, served to anonymous patients.

`PublicPageCacheMiddleware` stores the responses of the pages named in
settings.PUBLIC_PAGES in the "pages" cache (a folder on disk that every worker on the
server shares) and serves them to visitors without a session, before sessions, users
or the database are touched, already compressed (one copy gzipped, one plain). Any
change to the content of the apps in settings.PAGE_CACHE_PURGE_APPS empties the cache
at once (`connect_purge_signals`, from SiteConfig.ready()), so an editor's save shows
on the next page view.

Pages with a form (a CSRF token) or anything personal are never listed, and a visitor
with a session (staff) always gets a freshly rendered page.

Two rules keep one crafted request from poisoning the cache for everyone:
- The Host header is checked (ALLOWED_HOSTS) before anything is served from the cache,
  and the key holds the host.
- A request with a SCRIPT_NAME (a path prefix a proxy may pass to gunicorn) is never
  served from or stored in the cache: Django resolves such a request without the
  prefix, so the page would not belong under its full path.

The pages it keeps are also marked for the proxy in front (deploy/nginx): public, and
fresh there for PROXY_CACHE_SECONDS, so a burst of readers is served by the proxy while
an approved edit still shows within seconds.
"""

import re

from django.apps import apps
from django.conf import settings
from django.core.cache import caches
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils.cache import patch_cache_control

from .middleware import language_of

# As Django's GZipMiddleware decides whether to compress a response.
ACCEPTS_GZIP = re.compile(r"\bgzip\b")


def page_cache():
    return caches["pages"]


def purge(**kwargs):
    """Empty the page cache: content changed, and any page may show it."""
    page_cache().clear()


def connect_purge_signals():
    """Every save or delete of the listed apps' content, however it happens (admin,
    shell, demo loader), empties the page cache."""
    for app_label in settings.PAGE_CACHE_PURGE_APPS:
        for model in apps.get_app_config(app_label).get_models():
            name = f"{app_label}.{model.__name__}"
            post_save.connect(purge, sender=model, dispatch_uid=f"purge-pages-save-{name}")
            post_delete.connect(purge, sender=model, dispatch_uid=f"purge-pages-delete-{name}")
            for field in model._meta.local_many_to_many:
                m2m_changed.connect(
                    purge,
                    sender=field.remote_field.through,
                    dispatch_uid=f"purge-pages-m2m-{name}-{field.name}",
                )


class PublicPageCacheMiddleware:
    """Serves cached public pages to anonymous visitors; stores the listed pages."""

    def __init__(self, get_response):
        self.get_response = get_response

    def key(self, request):
        # Stored as sent: gzipped (by GZipMiddleware, below this one) when the browser
        # takes gzip, plain otherwise.
        accepts = ACCEPTS_GZIP.search(request.META.get("HTTP_ACCEPT_ENCODING", ""))
        encoding = "gzip" if accepts else "identity"
        # get_host() refuses a host not in ALLOWED_HOSTS (Django answers 400).
        host = request.get_host()
        language = language_of(request.path_info)
        return f"page:{host}:{language}:{encoding}:{request.path}"

    def anonymous_read(self, request):
        return (
            request.method == "GET"
            and settings.SESSION_COOKIE_NAME not in request.COOKIES
            and not request.META.get("SCRIPT_NAME")
        )

    def __call__(self, request):
        if not self.anonymous_read(request):
            return self.get_response(request)
        key = self.key(request)
        cached = page_cache().get(key)
        if cached is not None:
            return cached
        response = self.get_response(request)
        match = request.resolver_match
        if (
            match is not None
            and match.view_name in settings.PUBLIC_PAGES
            and response.status_code == 200
            and not response.cookies
            and not request.user.is_authenticated
        ):
            patch_cache_control(
                response, public=True, max_age=0, s_maxage=settings.PROXY_CACHE_SECONDS
            )
            page_cache().set(key, response)
        return response
