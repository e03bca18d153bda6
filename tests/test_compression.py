"""Pages are compressed in the best coding the browser takes; nothing else changes."""

import gzip

import brotli
import pytest
import zstandard
from django.http import HttpResponse
from django.test import RequestFactory

from clinic_site.compression import CompressionMiddleware, best_encoding

DECOMPRESS = {
    "zstd": lambda body: zstandard.ZstdDecompressor().decompress(body),
    "br": brotli.decompress,
    "gzip": gzip.decompress,
}


@pytest.mark.parametrize(
    ("accept_encoding", "expected"),
    [
        ("gzip, deflate, br, zstd", "zstd"),
        ("gzip, deflate, br", "br"),
        ("BR;q=0.5, gzip;q=1", "br"),
        ("gzip, deflate", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("zstd; q=0.0, br ;q=0, gzip", "gzip"),
        ("br;q=nonsense, gzip", "gzip"),
        ("gzip;q=0", None),
        ("*", "zstd"),
        ("identity", None),
        ("", None),
        ("x" * 10_000, None),
    ],
)
def test_the_best_coding_the_browser_takes(accept_encoding, expected):
    assert best_encoding(accept_encoding) == expected


def respond(content, accept_encoding, **headers):
    request = RequestFactory().get("/", headers={"accept-encoding": accept_encoding})
    response = HttpResponse(content, headers=headers)
    return CompressionMiddleware(lambda request: response)(request)


PAGE = ("<p>Plain words about the pump.</p>\n" * 200).encode()


@pytest.mark.parametrize("encoding", ["zstd", "br", "gzip"])
def test_a_page_comes_back_whole_in_the_chosen_coding(encoding):
    response = respond(PAGE, encoding, ETag='"abc"')
    assert response["Content-Encoding"] == encoding
    assert "Accept-Encoding" in response["Vary"]
    assert int(response["Content-Length"]) == len(response.content) < len(PAGE) / 10
    assert DECOMPRESS[encoding](response.content) == PAGE
    assert response["ETag"] == 'W/"abc"'


@pytest.mark.parametrize("accept_encoding", ["", "identity", "gzip;q=0, br;q=0"])
def test_browsers_that_take_no_coding_get_the_page_as_it_is(accept_encoding):
    response = respond(PAGE, accept_encoding)
    assert response.content == PAGE
    assert not response.has_header("Content-Encoding")
    assert "Accept-Encoding" in response["Vary"]


def test_tiny_and_already_encoded_responses_are_left_alone():
    assert respond(b"ok", "br").content == b"ok"
    stored = brotli.compress(PAGE)
    response = respond(stored, "zstd, br", **{"Content-Encoding": "br"})
    assert response.content == stored
    assert response["Content-Encoding"] == "br"


@pytest.mark.django_db
def test_a_real_page_over_zstd_reads_the_same_as_plain(client, demo):
    url = demo.get_absolute_url()
    plain = client.get(url).content
    packed = client.get(url, headers={"accept-encoding": "gzip, deflate, br, zstd"})
    assert packed["Content-Encoding"] == "zstd"
    assert DECOMPRESS["zstd"](packed.content) == plain
