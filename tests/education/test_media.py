"""Uploaded pictures (education/images.py): stored under their content's name with their
WebP copies made at upload, checked against the limits in the admin, removed only
when nothing uses them, never able to break a page; on the local disk or on
S3-compatible storage (a moto server on 127.0.0.1 started here)."""

import io
import json
import logging
import re
import struct
import subprocess
import sys
import urllib.request
import zlib
from pathlib import Path

import pytest
from django.core.files.storage import default_storage, storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from PIL import Image

from education import images, workflow
from education.models import Procedure

from .factories import change_url, draft_of, make_procedure, procedure_change_data

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent.parent


def picture(width=800, height=600, color="steelblue", kind="JPEG", name="pump.jpg"):
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, kind)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def png_header(width, height):
    """A PNG file that says it is `width` x `height` (and holds no pixels): what an
    attacker's "decompression bomb" looks like to the first look at its header."""

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


def stored_files():
    """Every file in the media storage (local disk), as names."""
    found = []

    def walk(folder):
        folders, files = default_storage.listdir(folder)
        found.extend(f"{folder}/{name}".lstrip("/") for name in files)
        for sub in folders:
            walk(f"{folder}/{sub}".lstrip("/"))

    if Path(default_storage.location).exists():
        walk("")
    return sorted(found)


def files_of(name):
    """The picture `name` and its WebP copies, as stored."""
    return [n for n in stored_files() if Path(n).stem.split("-")[0] == Path(name).stem]


def upload_in_admin(client, procedure, file, django_capture_on_commit_callbacks):
    """An editor uploads `file` as the page's main picture in the admin and saves."""
    data = procedure_change_data(client, procedure)
    data.update(hero_image=file, hero_image_alt="A small round pump.")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(change_url(procedure), data)
    return response


def img_tags(html):
    return re.findall(r"<img[^>]*>", html)


# ------------------------------------------------------------------ names and copies


def test_a_new_picture_gets_new_addresses_even_under_the_same_file_name():
    first = images.store(picture(color="steelblue", name="pump.jpg"))
    second = images.store(picture(color="darkred", name="pump.jpg"))
    assert first != second
    assert re.fullmatch(r"procedures/[0-9a-f]{32}\.jpg", first)
    assert images.rendition_name(first, 720) != images.rendition_name(second, 720)
    # The same picture again is kept once, under the same name.
    assert images.store(picture(color="steelblue", name="other-name.jpg")) == first
    assert len(files_of(first)) == 1 + 3  # the original, copies at 360, 720 and 800


def test_copies_are_made_at_upload_and_the_page_opens_no_file(
    client, monkeypatch, django_capture_on_commit_callbacks
):
    name = images.store(picture(2000, 1000))
    assert [n for n in stored_files() if n.startswith("renditions/")] == sorted(
        images.rendition_name(name, w) for w in (360, 720, 1080, 1440)
    )
    procedure = make_procedure(hero_image=name, hero_image_alt="A pump.")
    assert (procedure.hero_image_width, procedure.hero_image_height) == (2000, 1000)

    # Drawing the page asks the storage nothing (over S3, each would be a round trip).
    storage = storages["default"]  # the instance default_storage stands for

    def refuse(*args, **kwargs):
        raise AssertionError("the page must not open files or ask whether they exist")

    monkeypatch.setattr(storage, "open", refuse)
    monkeypatch.setattr(storage, "exists", refuse)
    html = client.get(procedure.get_absolute_url()).content.decode()
    [img] = img_tags(html.split('<header class="page-header">')[1])[:1]
    assert 'width="1440" height="720"' in img
    assert images.rendition_name(name, 1440) in img


# ------------------------------------------------------------------------- limits


@pytest.mark.parametrize(
    ("file", "message"),
    [
        (
            SimpleUploadedFile("big.jpg", b"\xff" * (10 * 1024 * 1024 + 1)),
            "This file is 10.0\xa0MB; the limit is 10.0\xa0MB.",
        ),
        (SimpleUploadedFile("notes.jpg", b"not a picture at all"), "not a picture the site"),
        (SimpleUploadedFile("cut.jpg", picture(900, 900).read()[:3000]), "not a picture the site"),
        (picture(4000, 1), "4000 x 1 pixels: too small"),
        (picture(400, 20000, kind="PNG", name="tall.png"), "too long and thin"),
        (picture(3000, 500), "too long and thin"),
        (picture(150, 150), "too small to show clearly"),
        (SimpleUploadedFile("huge.png", png_header(8000, 6000)), "has 48 million pixels"),
        (SimpleUploadedFile("bomb.png", png_header(100_000, 100_000)), "far too many pixels"),
        (picture(kind="GIF", name="pump.gif"), "JPEG, PNG or WebP"),
    ],
    ids=["10MB", "text", "cut-off", "4000x1", "400x20000", "6:1", "150px", "48MP", "bomb", "gif"],
)
def test_the_admin_refuses_a_picture_the_page_cannot_show_with_a_plain_message(
    editor_client, django_capture_on_commit_callbacks, file, message
):
    page = make_procedure(status=Procedure.Status.DRAFT)
    response = upload_in_admin(editor_client, page, file, django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert message in response.content.decode()
    page.refresh_from_db()
    assert not page.hero_image
    assert stored_files() == []


def test_the_admin_accepts_a_picture_within_the_limits(
    editor_client, django_capture_on_commit_callbacks
):
    page = make_procedure(status=Procedure.Status.DRAFT)
    response = upload_in_admin(
        editor_client, page, picture(1200, 900), django_capture_on_commit_callbacks
    )
    assert response.status_code == 302
    page.refresh_from_db()
    assert (page.hero_image_width, page.hero_image_height) == (1200, 900)
    assert len(files_of(page.hero_image.name)) == 1 + 4


def test_a_phone_photo_turned_by_its_camera_is_stored_upright():
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees to show": taken with the phone upright
    Image.new("RGB", (800, 600), "white").save(buffer, "JPEG", exif=exif)
    name = images.store(SimpleUploadedFile("phone.jpg", buffer.getvalue()))
    with default_storage.open(images.rendition_name(name, 600)) as file:
        assert Image.open(file).size == (600, 800)


# ------------------------------------------------------------------ never breaks a page


def test_a_4000_by_1_picture_already_stored_does_not_break_the_page(client, caplog):
    name = default_storage.save("procedures/strip.png", picture(4000, 1, kind="PNG"))
    procedure = make_procedure(hero_image=name, hero_image_alt="A strip.")
    with caplog.at_level(logging.WARNING, logger="education"):
        response = client.get(procedure.get_absolute_url())
    assert response.status_code == 200
    assert "procedures/strip" not in response.content.decode()
    assert "A strip." not in response.content.decode()
    assert "Picture procedures/strip.png not shown: 4000 x 1 pixels." in caplog.text


def test_a_missing_picture_or_broken_storage_does_not_break_the_page(client, monkeypatch, caplog):
    missing = make_procedure(hero_image="procedures/gone.jpg", hero_image_alt="A pump.")
    with caplog.at_level(logging.WARNING, logger="education"):
        assert client.get(missing.get_absolute_url()).status_code == 200
    assert "procedures/gone.jpg" in caplog.text

    name = images.store(picture())
    working = make_procedure(slug="working", hero_image=name, hero_image_alt="A pump.")

    def down(*args, **kwargs):
        raise ConnectionError("storage down")

    monkeypatch.setattr(storages["default"], "url", down)
    response = client.get(working.get_absolute_url())
    assert response.status_code == 200
    assert "A pump." not in response.content.decode()
    assert f"Picture {name} not shown" in caplog.text


# ----------------------------------------------------------- removing replaced files


def test_a_replaced_picture_is_removed_unless_a_page_draft_or_version_uses_it(
    client, editor, reviewer, demo, django_capture_on_commit_callbacks
):
    editor_client = type(client)()
    editor_client.force_login(editor)

    def upload(page, color):
        before = set(stored_files())
        response = upload_in_admin(
            editor_client, page, picture(color=color), django_capture_on_commit_callbacks
        )
        assert response.status_code == 302
        page.refresh_from_db()
        assert set(files_of(page.hero_image.name)) <= set(stored_files()) | before
        return page.hero_image.name

    def approve(draft):
        workflow.submit(draft, editor)
        with django_capture_on_commit_callbacks(execute=True):
            workflow.approve(draft, reviewer, note="A new picture.")

    # The live page gets picture A through an approved draft.
    a = upload(draft_of(demo, editor), "steelblue")
    approve(Procedure.objects.get(draft_of=demo))
    demo.refresh_from_db()
    assert demo.hero_image.name == a

    # A new draft starts with A. B replaces it on the draft: A stays (the live page
    # and its approved version use it). C replaces B: B goes (nothing used it).
    draft = draft_of(demo, editor)
    assert draft.hero_image.name == a
    b = upload(draft, "darkred")
    assert files_of(a) and files_of(b)
    c = upload(draft, "seagreen")
    assert files_of(a) and files_of(c)
    assert files_of(b) == []

    # Approved: the page shows C; A stays, an approved version holds it.
    approve(draft)
    demo.refresh_from_db()
    assert demo.hero_image.name == c
    assert len(files_of(a)) == 1 + 3

    # An old version restored brings A back, with its size, so the page can draw it.
    first_with_a = demo.revisions.order_by("number").filter(content__page__hero_image=a)[0]
    restored = workflow.restore(demo, first_with_a, reviewer)
    assert (restored.hero_image.name, restored.hero_image_width) == (a, 800)

    # Deleting that draft removes nothing the page or its versions use.
    delete = reverse("admin:education_procedure_delete", args=[restored.pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert editor_client.post(delete, {"post": "yes"}).status_code == 302
    assert not Procedure.objects.filter(pk=restored.pk).exists()
    assert files_of(a) and files_of(c)


def test_deleting_a_page_removes_its_pictures_but_not_one_another_page_uses(
    superuser_client, django_capture_on_commit_callbacks
):
    shared = images.store(picture(color="steelblue"))
    own = images.store(picture(color="darkred"))
    make_procedure(slug="other", hero_image=shared, hero_image_alt="A pump.")
    page = make_procedure(
        slug="going", status=Procedure.Status.DRAFT, hero_image=own, hero_image_alt="A pump."
    )
    delete = reverse("admin:education_procedure_delete", args=[page.pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert superuser_client.post(delete, {"post": "yes"}).status_code == 302
    assert files_of(own) == []
    assert files_of(shared)

    second = make_procedure(
        slug="sharing", status=Procedure.Status.DRAFT, hero_image=shared, hero_image_alt="A."
    )
    delete = reverse("admin:education_procedure_delete", args=[second.pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert superuser_client.post(delete, {"post": "yes"}).status_code == 302
    assert files_of(shared)  # the page "other" still shows it


# --------------------------------------------------------------- the rebuild command


def test_build_renditions_makes_missing_copies_and_records_sizes(client):
    name = default_storage.save("procedures/old-upload.jpg", picture(1000, 500))
    procedure = make_procedure(hero_image=name, hero_image_alt="A pump.")
    Procedure.objects.filter(pk=procedure.pk).update(hero_image_width=None, hero_image_height=None)
    out = io.StringIO()
    call_command("build_renditions", stdout=out)
    assert "1 pictures in use: 3 copies made, 1 page sizes recorded." in out.getvalue()
    procedure.refresh_from_db()
    assert (procedure.hero_image_width, procedure.hero_image_height) == (1000, 500)
    assert (
        images.rendition_name(name, 1000)
        in client.get(procedure.get_absolute_url()).content.decode()
    )
    assert default_storage.exists(images.rendition_name(name, 1000))

    # Again: nothing to do. A picture whose file is gone: named, then one error line.
    make_procedure(slug="lost", hero_image="procedures/lost.jpg", hero_image_alt="A pump.")
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 pictures could not be read"):
        call_command("build_renditions", stdout=io.StringIO(), stderr=err)
    assert "procedures/lost.jpg: cannot be read" in err.getvalue()


# ------------------------------------------------------------ settings: S3 and the CSP


def settings_from(**env):
    """The media storage and the CSP's img-src that clinic_site/settings.py makes from
    this environment (a fresh interpreter, so nothing else leaks in)."""
    code = (
        "import json, clinic_site.settings as s; print(json.dumps([s.STORAGES['default'], "
        "s.CONTENT_SECURITY_POLICY['DIRECTIVES']['img-src']], default=str))"
    )
    environment = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "true",
        **env,
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_media_is_on_local_disk_unless_a_bucket_is_configured():
    storage, img_src = settings_from()
    assert storage == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    assert img_src == ["'self'", "data:"]


def test_an_s3_compatible_bucket_gives_plain_urls_from_one_origin_the_csp_allows():
    storage, img_src = settings_from(
        AWS_STORAGE_BUCKET_NAME="clinic-media", AWS_S3_ENDPOINT_URL="https://s3.example.net:9000"
    )
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    options = storage["OPTIONS"]
    assert options["querystring_auth"] is False  # cached pages: URLs that never expire
    assert options["addressing_style"] == "path"
    assert "access_key" not in options and "secret_key" not in options
    assert img_src == ["'self'", "data:", "https://s3.example.net:9000"]

    storage, img_src = settings_from(
        AWS_STORAGE_BUCKET_NAME="clinic-media", AWS_S3_CUSTOM_DOMAIN="media.clinic.example"
    )
    assert storage["OPTIONS"]["custom_domain"] == "media.clinic.example"
    assert img_src == ["'self'", "data:", "https://media.clinic.example"]

    storage, img_src = settings_from(
        AWS_STORAGE_BUCKET_NAME="clinic-media", AWS_S3_REGION_NAME="eu-west-1"
    )
    assert img_src[-1] == "https://clinic-media.s3.eu-west-1.amazonaws.com"


@pytest.fixture
def s3_storage(settings, monkeypatch):
    """A moto S3 server on 127.0.0.1 (a free port) with a bucket, and the site's media
    storage pointed at it, as clinic_site/settings.py configures an S3-compatible
    service. Stopped after the test."""
    import boto3
    from moto.server import ThreadedMotoServer

    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **credentials)
    client.create_bucket(Bucket="clinic-media")
    # Pictures are public: readable by anyone, as the README tells operators to set up.
    public_read = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::clinic-media/*",
            }
        ],
    }
    client.put_bucket_policy(Bucket="clinic-media", Policy=json.dumps(public_read))
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "clinic-media",
                "endpoint_url": endpoint,
                "region_name": "us-east-1",
                "access_key": "testing",
                "secret_key": "testing",
                "querystring_auth": False,
                "addressing_style": "path",
                "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
            },
        },
    }
    yield client, endpoint
    server.stop()


def test_pictures_on_s3_compatible_storage(
    client, editor_client, s3_storage, monkeypatch, django_capture_on_commit_callbacks
):
    s3, endpoint = s3_storage
    page = make_procedure(status=Procedure.Status.DRAFT)
    response = upload_in_admin(
        editor_client, page, picture(2000, 1000), django_capture_on_commit_callbacks
    )
    assert response.status_code == 302
    page.refresh_from_db()
    name = page.hero_image.name
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="clinic-media")["Contents"])
    copies = [images.rendition_name(name, w) for w in (360, 720, 1080, 1440)]
    assert keys == sorted([name, *copies])
    head = s3.head_object(Bucket="clinic-media", Key=copies[0])
    assert head["CacheControl"] == "public, max-age=31536000, immutable"
    assert head["ContentType"] == "image/webp"

    # The published page links the copies in the bucket with plain, lasting URLs, and
    # drawing it asks the bucket nothing.
    Procedure.objects.filter(pk=page.pk).update(status=Procedure.Status.PUBLISHED)
    from storages.backends.s3 import S3Storage

    def refuse(*args, **kwargs):
        raise AssertionError("the page must not call the storage")

    with monkeypatch.context() as patch:
        patch.setattr(S3Storage, "exists", refuse)
        patch.setattr(S3Storage, "open", refuse)
        html = client.get(page.get_absolute_url()).content.decode()
    urls = re.findall(r"(\S+) \d+w", re.search(r'srcset="([^"]+)"', html)[1])
    assert urls == [f"{endpoint}/clinic-media/{copy}" for copy in copies]
    with urllib.request.urlopen(urls[-1], timeout=5) as answer:  # noqa: S310 (loopback)
        assert Image.open(io.BytesIO(answer.read())).size == (1440, 720)

    # Replaced: the old picture and its copies leave the bucket.
    Procedure.objects.filter(pk=page.pk).update(status=Procedure.Status.DRAFT)
    upload_in_admin(
        editor_client, page, picture(900, 900, "darkred"), django_capture_on_commit_callbacks
    )
    page.refresh_from_db()
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="clinic-media")["Contents"])
    new = page.hero_image.name
    assert keys == sorted([new, *(images.rendition_name(new, w) for w in (360, 720, 900))])
