"""/robots.txt keeps staff and confirmation pages out of search results, not the rest."""

import urllib.robotparser

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def robots(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    parser = urllib.robotparser.RobotFileParser()
    parser.parse(response.content.decode().splitlines())
    return parser


def test_robots_txt_keeps_crawlers_out_of_the_admin_and_confirmation_pages(client):
    parser = robots(client)
    for url in [
        reverse("admin:index"),
        reverse("admin:login"),
        "/admin/two-factor/",
        reverse("appointments:thanks", args=["ABCD2345"]),
        reverse("appointments:thanks_urgent", args=["ABCD2345"]),
    ]:
        assert not parser.can_fetch("Googlebot", f"https://clinic.example{url}"), url


def test_robots_txt_lets_crawlers_read_the_public_pages(client):
    parser = robots(client)
    for url in [
        reverse("education:home"),
        reverse("education:procedure_list"),
        reverse("education:procedure_detail", args=["intrathecal-pain-pump"]),
        reverse("education:glossary"),
        reverse("appointments:consultation"),
        reverse("appointments:call_back"),
    ]:
        assert parser.can_fetch("Googlebot", f"https://clinic.example{url}"), url


def test_robots_txt_may_be_cached_and_sends_the_security_headers(client):
    response = client.get("/robots.txt")
    assert "max-age=86400" in response["Cache-Control"]
    assert "no-store" not in response["Cache-Control"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert client.post("/robots.txt").status_code == 405
