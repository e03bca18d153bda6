import io

import pytest
from django.core.management import call_command

from education.models import Procedure


@pytest.fixture
def demo(db):
    """The demo page set, as `make run` loads it."""
    call_command("load_demo_content", stdout=io.StringIO())
    return Procedure.objects.get(slug="intrathecal-pain-pump")
