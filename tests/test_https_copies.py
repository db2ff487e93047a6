"""open_fits on an archive's HTTPS copy that cannot be read in parts: a clear ArchiveError, never wrong bytes.

S3 refuses the object (404), so open_fits falls back to the row's HTTPS URL, served
by a real HTTP server on loopback that either ignores ``Range`` (answers 200 with the
whole file) or does not say how large the file is (no ``Content-Length``).
"""

from __future__ import annotations

import warnings

import pytest
from werkzeug.wrappers import Response

from helpers import ArchiveError, CloudLocation, fetch_bytes, open_fits
from helpers.errors import CloudFallbackWarning

HOST = "heasarc.gsfc.nasa.gov"
BUCKET = "nasa-heasarc"
KEY = "edge/missing-from-s3.fits"


@pytest.fixture
def copies(s3, http, wise_like_file):
    """/FTP/edge/no-range.fits ignores Range; /FTP/edge/no-size.fits streams without Content-Length."""
    body = wise_like_file.read_bytes()

    def no_range(request, path):  # every GET and HEAD gets the whole file, status 200
        return Response(body, mimetype="application/fits")

    def no_size(request, path):
        response = Response((body[i:i + 65536] for i in range(0, len(body), 65536)), mimetype="application/fits")
        response.headers.pop("Content-Length", None)
        return response

    http.route(HOST, "/FTP/edge/no-range.fits", no_range)
    http.route(HOST, "/FTP/edge/no-size.fits", no_size)
    s3.create_bucket(BUCKET)  # the bucket exists, the key does not: S3 answers 404
    return body


def _location(name: str) -> CloudLocation:
    return CloudLocation(BUCKET, KEY, "us-east-1", https_url=f"https://{HOST}/FTP/edge/{name}")


def test_a_copy_that_ignores_range_is_refused_naming_it(copies):
    location = _location("no-range.fits")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CloudFallbackWarning)
        with pytest.raises(ArchiveError) as caught:
            hdul = open_fits(location, timeout=30)
            hdul[0].data  # noqa: B018 - a read after the header, if opening got that far
    message = str(caught.value)
    assert location.https_url in message and "the server ignores Range requests" in message, message
    # fetch_bytes reads it whole, which is what such a server can do
    with pytest.warns(CloudFallbackWarning):
        assert fetch_bytes(location, timeout=30) == copies


def test_a_copy_without_a_size_is_refused_saying_to_fetch_it_whole(copies):
    location = _location("no-size.fits")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CloudFallbackWarning)
        with pytest.raises(ArchiveError, match="does not say its size, so it cannot be read in parts: use fetch_bytes"):
            open_fits(location, timeout=30)
        assert fetch_bytes(location, timeout=30) == copies
