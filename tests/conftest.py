"""Shared fixtures: a real S3 server and a real HTTP server, both on 127.0.0.1."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """Recorded archive responses (see tests/data/PROVENANCE.md)."""
    return DATA


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server on loopback, reached through AWS_ENDPOINT_URL_S3 by every client."""
    from helpers.local_archive import S3Server

    saved = {k: os.environ.get(k) for k in ("AWS_ENDPOINT_URL_S3", "AWS_EC2_METADATA_DISABLED")}
    server = S3Server().start()
    os.environ["AWS_ENDPOINT_URL_S3"] = server.endpoint
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    yield server
    server.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def s3(s3_server):
    """The S3 server with its counters reset for this test."""
    s3_server.reset_stats()
    return s3_server


@pytest.fixture(scope="session")
def http_server():
    """A loopback HTTP server; non-loopback URLs of requests/urllib/aiohttp are sent to it."""
    from helpers.local_archive import redirect
    from helpers.local_archive.httpserver import LoopbackHTTPServer

    server = LoopbackHTTPServer().start()
    redirect.install(server.base_url)
    yield server
    redirect.uninstall()
    server.stop()


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
