"""Production configuration: deploy checks, security headers everywhere, private pages
never cached, and crashes that show a friendly page and log no patient details."""

import io
import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib import admin
from django.middleware.csrf import CsrfViewMiddleware
from django.urls import reverse

from education.views import GlossaryView
from tests.appointments.factories import make_request

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db

PUBLIC_READING = ["/", "/procedures/", "/procedures/intrathecal-pain-pump/", "/glossary/"]
PRIVATE_PUBLIC = [
    "/appointments/consultation/",
    "/appointments/call-back/",
    "/appointments/thanks/ABCD2345/",
    "/appointments/thanks/ABCD2345/call-now/",
    "/admin/login/",
]
OTHER = ["/no-such-page/", "/healthz", "/favicon.ico"]
CSP_DIRECTIVES = [
    "default-src 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
    "base-uri 'none'",
    "object-src 'none'",
]


def test_the_deploy_checks_pass_with_production_settings():
    # (Without the browser tests' DJANGO_ALLOW_ASYNC_UNSAFE, which would be a warning.)
    environment = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "clinic.example",
        "ALLOW_SQLITE": "true",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # The two silenced: HSTS for subdomains and preload, opt-in (settings.py says why).
    assert "no issues (2 silenced)" in result.stdout


def assert_security_headers(response, url):
    policy = response["Content-Security-Policy"]
    for directive in CSP_DIRECTIVES:
        assert directive in policy, (url, directive)
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, url
    assert response["X-Content-Type-Options"] == "nosniff", url
    assert response["Referrer-Policy"] == "same-origin", url
    assert response["Cross-Origin-Opener-Policy"] == "same-origin", url
    assert response["Cross-Origin-Resource-Policy"] == "same-origin", url
    assert "camera=()" in response["Permissions-Policy"], url


def no_store(response):
    return "no-store" in response.get("Cache-Control", "")


def admin_urls():
    urls = ["/admin/"]
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        urls.append(reverse("admin:{}_{}_changelist".format(*info)))
        obj = model.objects.first()
        if obj is not None:
            urls.append(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
            urls.append(reverse("admin:{}_{}_history".format(*info), args=[obj.pk]))
    return urls


def test_every_page_sends_the_security_headers(client, superuser, demo):
    make_request()
    for url in PUBLIC_READING + PRIVATE_PUBLIC + OTHER:
        assert_security_headers(client.get(url), url)
    client.force_login(superuser)
    urls = admin_urls()
    assert len(urls) > 20
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_security_headers(response, url)


def test_pages_with_patient_or_staff_data_are_never_stored(client, superuser, demo):
    make_request()
    for url in PRIVATE_PUBLIC:
        assert no_store(client.get(url)), url
    response = client.post("/appointments/consultation/", {"name": "Test Patient"})
    assert no_store(response)
    client.force_login(superuser)
    for url in admin_urls():
        assert no_store(client.get(url)), url
    # Even a public page, once a staff member is signed in, is personal to them.
    assert no_store(client.get("/"))


def test_any_page_holding_a_form_is_never_stored(rf):
    from django.http import HttpResponse
    from django.template import engines

    from clinic_site.middleware import SecurityHeadersMiddleware

    def page_with_form(request):
        template = engines["django"].from_string("<form>{% csrf_token %}</form>")
        return HttpResponse(template.render({}, request))

    middleware = SecurityHeadersMiddleware(CsrfViewMiddleware(page_with_form))
    request = rf.get("/some-page/")
    request.resolver_match = None
    assert no_store(middleware(request))
    plain = SecurityHeadersMiddleware(lambda request: HttpResponse("<p>Text</p>"))
    assert not no_store(plain(request))


def test_reading_pages_for_anonymous_patients_may_be_cached(client, demo):
    for url in PUBLIC_READING:
        assert not no_store(client.get(url)), url


@pytest.fixture
def console_log():
    handler = next(h for h in logging.getLogger().handlers if h.name == "console")
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


def test_a_crash_logs_where_it_happened_but_not_what_was_typed(client, monkeypatch, console_log):
    def broken(view, request, *args, **kwargs):
        raise ValueError(f"Could not save {request.GET['name']}, {request.GET['phone']}")

    monkeypatch.setattr(GlossaryView, "get", broken)
    client.raise_request_exception = False
    response = client.get("/glossary/", {"name": "Test Patient Secret", "phone": "202 555 0199"})
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()
    assert "Secret" not in response.content.decode()
    logged = console_log.getvalue()
    assert "Internal Server Error: /glossary/" in logged
    assert "builtins.ValueError (message withheld)" in logged
    assert "in broken" in logged  # the stack frames are kept
    assert "Secret" not in logged
    assert "555" not in logged


def test_a_form_sent_without_a_valid_csrf_token_gets_a_helpful_page(demo):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post("/appointments/consultation/", {"name": "Test Patient"})
    assert response.status_code == 403
    page = response.content.decode()
    assert "Please send the form again" in page
    assert 'href="tel:5550100140"' in page


def test_a_body_over_the_size_limit_gets_the_sites_400_page(client, demo, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client.post("/appointments/call-back/", {"reason": "x" * 5000})
    assert response.status_code == 400
    assert "We could not read that" in response.content.decode()


def test_staff_without_permission_get_the_sites_403_page(editor_client):
    response = editor_client.get("/admin/appointments/request/")
    assert response.status_code == 403
    assert "This page is for staff only" in response.content.decode()
