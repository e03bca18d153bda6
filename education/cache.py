"""The public page cache: reading pages rendered once, served to anonymous patients.

Views opt in with `@public_page`. `PublicPageCacheMiddleware` stores their responses
in the "pages" cache (a folder on disk that every worker on the server shares) and
serves them to visitors without a session, before sessions, users or the database
are touched, already compressed (one copy per encoding: zstd, Brotli, gzip, plain). Any change to
education content empties the cache at once (`connect_purge_signals`), so an
editor's save shows on the next page view.

Pages with a form (a CSRF token) or anything personal never opt in, and a visitor
with a session (staff) always gets a freshly rendered page.
"""

from functools import wraps

from django.apps import apps
from django.conf import settings
from django.core.cache import caches
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils.translation import get_language_from_request

from clinic_site.compression import best_encoding


def page_cache():
    return caches["pages"]


def public_page(view):
    """Mark a view's successful responses as the same for every anonymous reader."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response.public_page = True
        return response

    return wrapper


def purge(**kwargs):
    """Empty the page cache: content changed, and any page may show it."""
    page_cache().clear()


def connect_purge_signals():
    """Every save or delete of education content, however it happens (admin, shell,
    demo loader), empties the page cache. Called once from EducationConfig.ready()."""
    for model in apps.get_app_config("education").get_models():
        post_save.connect(purge, sender=model, dispatch_uid=f"purge-pages-save-{model.__name__}")
        post_delete.connect(
            purge, sender=model, dispatch_uid=f"purge-pages-delete-{model.__name__}"
        )
        for field in model._meta.local_many_to_many:
            m2m_changed.connect(
                purge,
                sender=field.remote_field.through,
                dispatch_uid=f"purge-pages-m2m-{model.__name__}-{field.name}",
            )


class PublicPageCacheMiddleware:
    """Serves cached public pages to anonymous visitors; stores the ones views mark."""

    def __init__(self, get_response):
        self.get_response = get_response

    def key(self, request):
        # Stored as sent: compressed in the coding the compression middleware picks for
        # this browser's Accept-Encoding (its own choice), plain if none.
        encoding = best_encoding(request.META.get("HTTP_ACCEPT_ENCODING", "")) or "identity"
        return f"page:{get_language_from_request(request)}:{encoding}:{request.path}"

    def anonymous_read(self, request):
        return request.method == "GET" and settings.SESSION_COOKIE_NAME not in request.COOKIES

    def __call__(self, request):
        if not self.anonymous_read(request):
            return self.get_response(request)
        key = self.key(request)
        cached = page_cache().get(key)
        if cached is not None:
            return cached
        response = self.get_response(request)
        if (
            getattr(response, "public_page", False)
            and response.status_code == 200
            and not response.cookies
            and not request.user.is_authenticated
        ):
            page_cache().set(key, response)
        return response
