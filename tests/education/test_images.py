"""Pictures are served as WebP at the size shown, with width and height set."""

import io
import re

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from education import images

from .factories import make_procedure

pytestmark = pytest.mark.django_db


def upload(width, height):
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "steelblue").save(buffer, "JPEG")
    return SimpleUploadedFile("pump.jpg", buffer.getvalue(), content_type="image/jpeg")


def test_the_main_picture_is_served_as_webp_in_several_widths(client):
    name = images.store(upload(2000, 1000))  # as the admin does when a picture is saved
    procedure = make_procedure(hero_image=name, hero_image_alt="A small round pump.")
    page = client.get(procedure.get_absolute_url()).content.decode()
    img = re.search(r"<img[^>]*>", page.split('<header class="page-header">')[1])[0]
    srcset = re.search(r'srcset="([^"]+)"', img)[1]
    widths = [int(w) for w in re.findall(r" (\d+)w", srcset)]
    assert widths == [360, 720, 1080, 1440]
    assert 'width="1440" height="720"' in img
    assert 'alt="A small round pump."' in img
    assert "sizes=" in img
    assert 'loading="lazy"' not in img  # above the fold: loads at once
    for url in re.findall(r"(\S+) \d+w", srcset):
        name = url.removeprefix("/media/")
        with default_storage.open(name) as file:
            picture = Image.open(file)
            assert picture.format == "WEBP"
            assert picture.width in widths


def test_a_small_picture_is_never_enlarged(client):
    name = images.store(upload(500, 400))
    procedure = make_procedure(hero_image=name, hero_image_alt="A pump.")
    page = client.get(procedure.get_absolute_url()).content.decode()
    assert re.findall(r" (\d+)w", page) == ["360", "500"]
    assert 'width="500" height="400"' in page
