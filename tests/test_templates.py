"""Each template engine loads only its own files."""

import pytest
from django.conf import settings
from django.template import TemplateDoesNotExist, engines

PUBLIC = sorted(
    str(path.relative_to(settings.BASE_DIR / "templates"))
    for path in (settings.BASE_DIR / "templates").rglob("*.html")
)


def test_the_public_templates_are_found():
    assert "base.html" in PUBLIC
    assert "education/guide.html" in PUBLIC
    assert len(PUBLIC) > 30


@pytest.mark.parametrize("name", PUBLIC)
def test_every_file_in_templates_is_a_jinja2_template(name):
    # A Django template put here by mistake fails: {% load %}, {% url %} and the like
    # are not Jinja2.
    engines["jinja2"].get_template(name)


@pytest.mark.parametrize("name", PUBLIC)
def test_the_django_engine_never_loads_the_public_templates(name):
    with pytest.raises(TemplateDoesNotExist):
        engines["django"].get_template(name)


def test_the_staff_pages_are_django_templates():
    for name in ("accounts/two_factor.html", "accounts/two_factor_setup.html", "admin/index.html"):
        engines["django"].get_template(name)
        with pytest.raises(TemplateDoesNotExist):
            engines["jinja2"].get_template(name)
