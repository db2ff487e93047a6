"""The fault matrix: every public reading helper, against the local archive's injected faults.

Each case either succeeds (after a retry or the HTTPS fallback) with the file's exact bytes,
or raises the error family the failure belongs to (ArchiveError, DeadlineError), naming the
URI or service, within a bounded time.  Timeouts are shortened so that "slow" faults are
decided in seconds.  The connection faults are real: "reset" is a TCP reset before any
response byte, "truncate" a FIN after half of the announced body, "drip" one byte every 0.5 s.
"""

from __future__ import annotations

import hashlib
import socket
import time
from urllib.parse import urlsplit

import astropy.units as u
import numpy as np
import pytest
import pyvo
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.nddata import Cutout2D
from astropy.wcs import WCS

import helpers.http
import helpers.s3
from helpers import CloudAccessError, cloud_uri, cutout, fetch_bytes, open_fits
from helpers.cloud import CloudLocation
from helpers.errors import ArchiveError, CloudFallbackWarning, CloudInputError, DeadlineError
from local_archive.holdings.common import CRAB

# These tests count tries and check bounds: a tenth of the real pauses (tests/test_deadline.py has those).
pytestmark = pytest.mark.usefixtures("quick_backoff")

TIMEOUT = 1.0  # seconds, for this module
GIVE_UP = 10.0  # the longest any S3 case may take to fail: 8 throttled tries, 5.75 s of back-off (a tenth here)


@pytest.fixture
def faulty(archive, monkeypatch):
    monkeypatch.setattr(helpers.s3, "READ_TIMEOUT", TIMEOUT)
    monkeypatch.setattr(helpers.s3, "CONNECT_TIMEOUT", TIMEOUT)
    monkeypatch.setattr(helpers.http, "READ_TIMEOUT", TIMEOUT)
    helpers.http.session.cache_clear()
    yield archive
    archive.s3.clear_faults()
    archive.http.clear_faults()
    helpers.http.session.cache_clear()


def _product(archive, suffix):
    return next(p for p in archive.products if p.key.endswith(suffix))


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()  # noqa: S324 - a checksum, not security


S3_TRANSIENT = ["500", "503", "slow", "truncate", "reset"]


@pytest.mark.parametrize("kind", S3_TRANSIENT)
def test_fetch_bytes_recovers_from_a_transient_fault(faulty, kind):
    product = _product(faulty, "acisf13139N002_cntr_img2.fits.gz")
    faulty.s3.inject(kind, key=product.key, count=1, seconds=TIMEOUT * 2, methods=("GET",))
    began = time.monotonic()
    data = fetch_bytes(product.uri)
    assert _md5(data) == _md5(product.path.read_bytes())
    assert time.monotonic() - began < GIVE_UP
    assert faulty.s3.stats(product.bucket, product.key).requests >= 2  # the fault, then the retry


@pytest.mark.parametrize("kind", S3_TRANSIENT)
def test_cutout_recovers_from_a_transient_fault(faulty, kind):
    product = _product(faulty, "-w1-int-3.fits")
    crab = SkyCoord(*CRAB, unit="deg")
    with open_fits(product.uri) as hdul:
        faulty.s3.inject(kind, key=product.key, count=1, seconds=TIMEOUT * 2, methods=("GET",))
        began = time.monotonic()
        result = cutout(hdul[0], crab, 0.0889 * u.deg)
        assert time.monotonic() - began < GIVE_UP
        wcs = WCS(hdul[0].header)
    with fits.open(product.path) as local:
        expected = Cutout2D(local[0].data, crab, 0.0889 * u.deg, wcs=wcs)
    np.testing.assert_array_equal(result.data, expected.data)


@pytest.mark.parametrize("kind", ["500", "503", "reset"])
def test_a_persistent_fault_is_a_clear_error_in_bounded_time(faulty, kind):
    """4 tries of a failing request; 8 while S3 throttles (503 SlowDown asks the client to try again)."""
    product = _product(faulty, "acisf13140N002_full_img2.fits.gz")
    tries = 8 if kind == "503" else 4
    faulty.s3.inject(kind, key=product.key, count=1000)
    began = time.monotonic()
    with pytest.raises(ArchiveError, match=f"GET {product.uri} failed after {tries} tries") as caught:
        fetch_bytes(product.uri)
    assert not isinstance(caught.value, DeadlineError)
    assert time.monotonic() - began < GIVE_UP
    assert faulty.s3.stats(product.bucket, product.key).requests == tries
    began = time.monotonic()
    with pytest.raises(ArchiveError, match=f"HEAD {product.uri} failed after {tries} tries"):
        open_fits(product.uri)
    assert time.monotonic() - began < GIVE_UP
    # aiohttp re-sends a request once when the connection dies before any answer (see helpers.failures)
    assert faulty.s3.stats(product.bucket, product.key).requests == tries + (8 if kind == "reset" else tries)


@pytest.mark.parametrize("kind", ["500", "503", "reset"])
def test_a_persistent_fault_during_a_cutout_is_not_no_overlap(faulty, kind):
    product = _product(faulty, "-w1-int-3.fits")
    with open_fits(product.uri) as hdul:
        faulty.s3.inject(kind, key=product.key, count=100_000, methods=("GET",))
        began = time.monotonic()
        tries = 8 if kind == "503" else 4
        with pytest.raises(ArchiveError, match=f"reading {product.uri} failed after {tries} tries") as caught:
            cutout(hdul[0], SkyCoord(*CRAB, unit="deg"), 0.0889 * u.deg)
        assert time.monotonic() - began < GIVE_UP
    assert not isinstance(caught.value, CloudInputError)
    assert "overlap" not in str(caught.value)


def test_drips_meet_the_deadline_of_every_reader(faulty):
    """One byte every 0.5 s never trips a socket timeout; the 1 s deadline of each call does."""
    gz = _product(faulty, "acisf13139N002_cntr_img2.fits.gz")
    wise = _product(faulty, "-w1-int-3.fits")
    crab = SkyCoord(*CRAB, unit="deg")
    with open_fits(wise.uri) as hdul:
        faulty.s3.inject("drip", key=wise.key, count=100_000, seconds=0.5, methods=("GET",))
        faulty.s3.inject("drip", key=gz.key, count=100_000, seconds=0.5, methods=("GET",))
        calls = {
            "fetch_bytes": lambda: fetch_bytes(gz.uri, timeout=1),
            "open_fits": lambda: open_fits(wise.uri, timeout=1),
            "cutout": lambda: cutout(hdul[0], crab, 0.0889 * u.deg, timeout=1),
        }
        for name, call in calls.items():
            began = time.monotonic()
            with pytest.raises(DeadlineError, match=f"{name} of s3://.* did not finish within its 1 s deadline"):
                call()
            assert time.monotonic() - began < 3, name


def test_drips_meet_the_deadline_of_the_https_fallback(faulty):
    gz = _product(faulty, "acisf13139N002_full_img2.fits.gz")
    wise = _product(faulty, "-w2-int-3.fits")
    for product, read in ((gz, fetch_bytes), (wise, open_fits)):
        location = CloudLocation(product.bucket, product.key, product.region, https_url=product.https_url)
        parts = urlsplit(product.https_url)
        faulty.s3.inject("403", key=product.key, count=10)
        faulty.http.inject("drip", host=parts.hostname, prefix=parts.path, count=100, seconds=0.5)
        began = time.monotonic()
        with pytest.warns(CloudFallbackWarning), pytest.raises(DeadlineError, match=product.key.rsplit("/")[-1]):
            read(location, timeout=1)
        assert time.monotonic() - began < 3


@pytest.mark.parametrize("kind", ["reset", "truncate", "drip"])
def test_the_http_server_connection_faults_are_real(faulty, kind):
    """A raw socket sees what a client would: no HTTP bytes before a reset, a short body, a trickle."""
    product = _product(faulty, "acisf13139N002_full_img2.fits.gz")
    parts = urlsplit(product.https_url)
    faulty.http.inject(kind, host=parts.hostname, prefix=parts.path, seconds=0.2)
    host, port = urlsplit(faulty.http.base_url).netloc.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        raw.sendall(f"GET /{parts.hostname}{parts.path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        received, began = b"", time.monotonic()
        try:
            while time.monotonic() - began < 1.5 and (chunk := raw.recv(65536)):
                received += chunk
            outcome = "eof" if time.monotonic() - began < 1.5 else "still dripping"
        except ConnectionResetError:
            outcome = "reset"
    head, _, body = received.partition(b"\r\n\r\n")
    if kind == "reset":
        assert (outcome, received) == ("reset", b"")
    elif kind == "truncate":
        assert outcome == "eof" and head.startswith(b"HTTP/1.1 200")
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length")))
        assert length == product.path.stat().st_size and 0 < len(body) < length
        assert body == product.path.read_bytes()[: len(body)]
    else:
        assert outcome == "still dripping" and head.startswith(b"HTTP/1.1 200")
        assert 3 <= len(body) <= 9  # about one byte per 0.2 s


@pytest.mark.parametrize("kind", ["403", "404"])
def test_refusals_without_an_https_copy_are_errors(faulty, kind):
    product = _product(faulty, "acisf13139N002_full_img2.fits.gz")
    faulty.s3.inject(kind, key=product.key, count=10)
    with pytest.raises(CloudAccessError, match=r"S3 refused s3://nasa-heasarc/.*full_img2\.fits\.gz"):
        fetch_bytes(product.uri)
    with pytest.raises(CloudAccessError, match="full_img2.fits.gz"):
        open_fits(product.uri)


@pytest.mark.parametrize("kind", ["403", "404"])
def test_refusals_fall_back_to_the_https_copy_with_a_warning(faulty, kind):
    product = _product(faulty, "acisf13139N002_full_img2.fits.gz")
    location = CloudLocation(product.bucket, product.key, product.region, https_url=product.https_url)
    faulty.s3.inject(kind, key=product.key, count=10)
    with pytest.warns(CloudFallbackWarning, match="reading the archive's HTTPS copy"):
        data = fetch_bytes(location)
    assert _md5(data) == _md5(product.path.read_bytes())
    wise = _product(faulty, "-w2-int-3.fits")
    wise_location = CloudLocation(wise.bucket, wise.key, wise.region, https_url=wise.https_url)
    faulty.s3.inject(kind, key=wise.key, count=10)
    with pytest.warns(CloudFallbackWarning):
        with open_fits(wise_location) as hdul:
            assert hdul[0].header["COADDID"] == "0830p227_ac51"
            part = cutout(hdul[0], SkyCoord(*CRAB, unit="deg"), 0.02 * u.deg)
    with fits.open(wise.path) as local:
        np.testing.assert_array_equal(part.data, local[0].data[part.slices_original])


def test_cloud_uri_records_the_https_copy(faulty):
    rows = pyvo.dal.SIAService("https://irsa.ipac.caltech.edu/ibe/sia/wise/allwise/p3am_cdd?").search(
        pos=SkyCoord(*CRAB, unit="deg"), size=0.01)
    location = cloud_uri(rows[0])
    assert location.https_url == rows[0]["sia_url"]


def _chandra_rows():
    services = pyvo.registry.search(servicetype="sia", keywords="chandra heasarc")
    chanmaster = next(s for s in services if s.ivoid == "ivo://nasa.heasarc/chanmaster")
    rows = chanmaster.search(pos=SkyCoord(*CRAB, unit="deg"), size=0.04445, FORMAT="image/fits")
    return [r for r in rows if r["obsid"] == 1994 and r["obs_title"] == "Center Image"]


@pytest.mark.parametrize("kind", ["500", "503", "reset", "slow"])
def test_datalink_recovers_from_a_transient_fault(faulty, kind):
    rows = _chandra_rows()
    faulty.http.inject(kind, host="heasarc.gsfc.nasa.gov", prefix="/xamin/vo/datalink", count=1,
                       seconds=TIMEOUT * 2)
    began = time.monotonic()
    location = cloud_uri(rows[0])
    assert location.key.endswith("acisf01994N004_cntr_img2.fits.gz")
    assert time.monotonic() - began < GIVE_UP


@pytest.mark.parametrize("kind", ["500", "slow", "votable-error"])
def test_datalink_persistent_fault_is_a_clear_error(faulty, kind):
    rows = _chandra_rows()
    faulty.http.inject(kind, host="heasarc.gsfc.nasa.gov", prefix="/xamin/vo/datalink", count=1000,
                       seconds=TIMEOUT * 2)
    began = time.monotonic()
    with pytest.raises(CloudAccessError, match="DataLink request .*heasarc.gsfc.nasa.gov/xamin/vo/datalink"):
        cloud_uri(rows[0])
    assert time.monotonic() - began < GIVE_UP
