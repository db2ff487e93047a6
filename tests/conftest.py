"""Shared fixtures: a real S3 server and a real HTTP server, both on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """Recorded archive responses (see tests/data/PROVENANCE.md)."""
    return DATA


@pytest.fixture
def quick_backoff(monkeypatch):
    """The same tries with a tenth of the pauses between them (helpers.deadline.BACKOFF).

    For tests that count tries and check bounds; tests/test_deadline.py measures the real pauses.
    """
    import helpers.deadline

    monkeypatch.setattr(helpers.deadline, "BACKOFF", tuple(pause / 10 for pause in helpers.deadline.BACKOFF))


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server on loopback (see the ``s3`` fixture for pointing clients at it)."""
    from local_archive import S3Server

    server = S3Server().start()
    yield server
    server.stop()


@pytest.fixture
def s3(s3_server, monkeypatch):
    """The S3 server, counters reset, with AWS_ENDPOINT_URL_S3 (read by every client) pointing at it."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_server.endpoint)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    s3_server.reset_stats()
    return s3_server


@pytest.fixture(scope="session")
def http_server():
    """A loopback HTTP server answering for archive hosts (see ``http`` for routing calls to it)."""
    from local_archive.httpserver import LoopbackHTTPServer

    server = LoopbackHTTPServer().start()
    yield server
    server.stop()


@pytest.fixture
def http(http_server):
    """Send this test's non-loopback requests/urllib/aiohttp calls to the loopback HTTP server."""
    from local_archive import redirect

    redirect.install(http_server.base_url)
    yield http_server
    redirect.uninstall()


@pytest.fixture(scope="session")
def wise_like_file(tmp_path_factory) -> Path:
    """A 2048x2048 float32 SIN image around the Crab, written once per session."""
    from astropy.io import fits
    from astropy.wcs import WCS

    path = tmp_path_factory.mktemp("fits") / "wise-like.fits"
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---SIN", "DEC--SIN"]
    wcs.wcs.crval = [83.5, 22.0]
    wcs.wcs.crpix = [1024.0, 1024.0]
    wcs.wcs.cdelt = [-0.0003819444391411, 0.0003819444391411]
    data = np.random.default_rng(42).normal(100.0, 10.0, (2048, 2048)).astype(">f4")
    header = wcs.to_header()
    header["BUNIT"] = "DN"
    fits.PrimaryHDU(data, header=header).writeto(path)
    return path
