"""Response headers that Django has no setting for, and the one rule for private pages."""

from django.conf import settings
from django.utils import translation
from django.utils.cache import add_never_cache_headers, patch_cache_control

# URL namespaces whose pages hold or take patient or staff data.
PRIVATE_NAMESPACES = {"admin", "appointments", "accounts"}


def is_private(request, response):
    """True when a response may hold personal data, so no cache may keep it.

    Anything but a plain read, anything a signed-in user sees, the request forms and
    their answers, and any page holding a form (its CSRF token is the visitor's own).
    """
    match = request.resolver_match
    return (
        request.method not in ("GET", "HEAD")
        or (match is not None and match.namespaces and match.namespaces[0] in PRIVATE_NAMESPACES)
        # Django sets the CSRF cookie on every response that used a token.
        or settings.CSRF_COOKIE_NAME in response.cookies
        or (hasattr(request, "user") and request.user.is_authenticated)
    )


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        if is_private(request, response):
            add_never_cache_headers(response)
            patch_cache_control(response, no_store=True, private=True)
        return response


def language_of(path):
    """The language of the page at `path`: its prefix (/es/...), else the default."""
    return translation.get_language_from_path(path) or settings.LANGUAGE_CODE


class UrlLanguageMiddleware:
    """Each page's language comes from its address alone: /es/... is Spanish, every other
    address is in settings.LANGUAGE_CODE (English). Never from the browser's
    Accept-Language or a cookie: a link always opens the language it says, and one
    address is one page, so the page cache and the proxy keep one copy of it.

    (Django's LocaleMiddleware would pick the same language with
    i18n_patterns(prefix_default_language=False), but adds "Vary: Accept-Language" to
    every English page, which would make the proxy keep a copy per browser setting.)
    The staff pages are outside i18n_patterns, so they are always English."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = language_of(request.path_info)
        request.LANGUAGE_CODE = language
        # For this request only (its response is rendered by the time it comes back
        # here): the thread's language is as before afterwards.
        with translation.override(language):
            response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response
