"""helpers.http.fetch against a real HTTP server on loopback: statuses, retries, cut bodies, deadlines."""

from __future__ import annotations

import gzip
import time

import pytest

from helpers import http
from helpers.deadline import Deadline
from helpers.errors import ArchiveError, DeadlineError
from local_archive.httpserver import Response

# These tests count tries and check bounds: a tenth of the real pauses (tests/test_deadline.py has those).
pytestmark = pytest.mark.usefixtures("quick_backoff")

HOST = "archive.example.nasa.gov"
PAYLOAD = bytes(range(256)) * 64  # 16 KiB


@pytest.fixture
def served(http):
    """The loopback server answering ``https://HOST/files/...`` with PAYLOAD, and its hit counter."""
    if not getattr(http, "_test_http_routes", False):
        http.route(HOST, "/files/", lambda request, path: Response(PAYLOAD, content_type="application/octet-stream"))
        http.route(HOST, "/gzip/", lambda request, path: Response(
            gzip.compress(PAYLOAD), headers={"Content-Encoding": "gzip"}, content_type="application/octet-stream"))
        http._test_http_routes = True
    yield http
    http.clear_faults()


def _hits(server, path):
    return server.hits[f"{HOST}{path}"]


def test_fetch_returns_the_whole_body(served):
    before = _hits(served, "/files/a.bin")
    answer = http.fetch(f"https://{HOST}/files/a.bin")
    assert (answer.status, answer.body, answer.content_type) == (200, PAYLOAD, "application/octet-stream")
    assert _hits(served, "/files/a.bin") - before == 1


def test_fetch_decodes_a_gzip_content_encoding(served):
    """requests streams bodies undecoded: fetch must not hand back the compressed bytes."""
    assert http.fetch(f"https://{HOST}/gzip/a.bin").body == PAYLOAD


def test_a_missing_url_is_an_archive_error_at_once(served):
    before = _hits(served, "/missing/x.fits")
    with pytest.raises(ArchiveError, match=f"https://{HOST}/missing/x.fits answered 404") as caught:
        http.fetch(f"https://{HOST}/missing/x.fits")
    assert caught.value.url == f"https://{HOST}/missing/x.fits"
    assert _hits(served, "/missing/x.fits") - before == 1  # a 404 is not tried again


@pytest.mark.parametrize("kind", ["500", "502", "503", "504", "reset", "truncate"])
def test_transient_failures_are_tried_again(served, kind):
    served.inject(kind, host=HOST, prefix="/files/retry.bin", count=2)
    before = _hits(served, "/files/retry.bin")
    assert http.fetch(f"https://{HOST}/files/retry.bin").body == PAYLOAD
    assert _hits(served, "/files/retry.bin") - before == 3


@pytest.mark.parametrize("kind", ["500", "reset"])
def test_a_persistent_failure_gives_up_after_four_tries(served, kind):
    served.inject(kind, host=HOST, prefix="/files/down.bin", count=1000)
    before = _hits(served, "/files/down.bin")
    began = time.monotonic()
    with pytest.raises(ArchiveError, match=f"GET https://{HOST}/files/down.bin failed after 4 tries") as caught:
        http.fetch(f"https://{HOST}/files/down.bin")
    assert not isinstance(caught.value, DeadlineError)
    assert _hits(served, "/files/down.bin") - before == 4
    assert time.monotonic() - began < 5


def test_a_dripping_server_meets_the_deadline(served):
    served.inject("drip", host=HOST, prefix="/files/drip.bin", seconds=0.5)
    began = time.monotonic()
    with pytest.raises(DeadlineError, match=f"GET https://{HOST}/files/drip.bin did not finish within its 2 s"):
        http.fetch(f"https://{HOST}/files/drip.bin", deadline=Deadline(2, f"GET https://{HOST}/files/drip.bin"))
    assert time.monotonic() - began < 3


def test_a_stalled_server_meets_the_deadline(served):
    served.inject("slow", host=HOST, prefix="/files/stall.bin", seconds=10)
    began = time.monotonic()
    with pytest.raises(DeadlineError):
        http.fetch(f"https://{HOST}/files/stall.bin", deadline=Deadline(1.5, "GET stall"))
    assert time.monotonic() - began < 3


def test_the_session_sends_no_credentials_and_always_times_out():
    session = http.session()
    assert session is http.session()
    assert session.trust_env is False  # no ~/.netrc Authorization, no proxy variables


def test_an_error_for_a_huge_url_has_a_bounded_message():
    """A 1 MB URL (a caller's value) is named, but the message stays within errors.MAX_MESSAGE characters."""
    import socket

    from helpers.errors import MAX_MESSAGE

    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/" + "a" * (1 << 20)
    with pytest.raises(ArchiveError) as caught:
        http.fetch(url, deadline=Deadline(10))
    message = str(caught.value)
    assert len(message) <= MAX_MESSAGE
    assert message.startswith(f"GET http://127.0.0.1:{port}/aaa") and "characters cut" in message
    assert caught.value.url == url  # the whole URL stays available to the caller
