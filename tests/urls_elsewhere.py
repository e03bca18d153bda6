"""The guide's URLs under /elsewhere/, for tests/test_jinja.py (url() keyed on the URLconf)."""

from django.urls import include, path

urlpatterns = [path("elsewhere/", include("education.urls"))]
