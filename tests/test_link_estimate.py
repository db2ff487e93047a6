"""helpers.linkmodel: the link a cutout plans with, estimated from the requests already made.

Through a real S3 server on loopback whose round trip and bandwidth are set per test.
Speeds are never asserted (machines are noisy): only that the estimate lands near what was
injected, within generous bounds, and that the plan follows it.
"""

from __future__ import annotations

import astropy.units as u
import pytest
from astropy.coordinates import SkyCoord

from helpers import cutout, linkmodel, open_fits
from helpers.linkmodel import _Batch, _estimate, estimate, link_for, record
from helpers.ranges import DEFAULT_LINK, Link
from helpers.s3 import as_location, s3_filesystem

BUCKET = "nasa-irsa-wise"
KEY = "wise/allwise/images/link-estimate/wise-like.fits"
URI = f"s3://{BUCKET}/{KEY}"
CRAB = SkyCoord(83.63321, 22.01446, unit="deg")
SIZE = 0.0889 * u.deg  # 233 rows of a 2048-px float32 image: 1.9 MB in one span



@pytest.fixture(scope="module")
def server(wise_like_file):
    """An S3 server of this module's own, so that its link settings touch no other test."""
    from local_archive import S3Server

    s3 = S3Server().start()
    s3.create_bucket(BUCKET)
    s3.put_file(BUCKET, KEY, wise_like_file)
    yield s3
    s3.stop()


@pytest.fixture
def link(server, monkeypatch):
    """Set the server's round trip (s) and bandwidth (B/s, None: loopback's); start with nothing recorded."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", server.endpoint)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("HELPERS_LINK", raising=False)
    linkmodel._seen.clear()

    def set_link(latency: float, bandwidth: float | None) -> None:
        server.latency, server.bandwidth = latency, bandwidth
        server.reset_stats()

    yield set_link
    server.latency, server.bandwidth = 0.0, None
    linkmodel._seen.clear()


def _fs():
    """The file system open_fits reads URI through (one per region and endpoint)."""
    return s3_filesystem(as_location(URI).region)


def _cutout_requests(server, **kwargs) -> int:
    """GETs one cutout of the Crab sent (the header's read excluded)."""
    with open_fits(URI) as hdul:
        server.reset_stats()
        cutout(hdul[0], CRAB, SIZE, **kwargs)
    return server.stats(BUCKET, KEY).requests


# --- the estimate, from recorded timings (no network) -------------------------------------------


def test_nothing_recorded_means_no_estimate_and_the_default_link():
    class FS:
        pass

    assert estimate(FS()) is None
    assert link_for(FS()) == DEFAULT_LINK
    assert link_for(None) == DEFAULT_LINK


def test_the_estimate_keeps_the_defaults_it_cannot_measure_and_clamps():
    far = _estimate([_Batch(1, 0, 30.0), _Batch(1, 65542, 31.0)])
    assert far.latency == 2.0  # clamped
    assert (far.concurrency, far.overhead) == (DEFAULT_LINK.concurrency, DEFAULT_LINK.overhead)
    instant = _estimate([_Batch(1, 0, 0.0), _Batch(4, 50_000_000, 0.0)])
    assert instant.latency == 0.0 and instant.bandwidth == 1e10  # clamped, never infinite


def test_only_the_last_batches_count():
    class FS:
        pass

    fs = FS()
    for _ in range(40):
        record(fs, (0,), 0.5)  # an old, slow link
    for _ in range(linkmodel._KEEP):
        record(fs, (0,), 0.01)
    assert estimate(fs).latency == pytest.approx(0.01)


@pytest.mark.parametrize("sizes, seconds", [((), 0.1), ((10,), -1.0), ((10,), float("nan")), ((10,), float("inf")),
                                            ((0,), 1e-6)])  # the last: a listing-cache hit, not a round trip
def test_nonsense_timings_are_ignored(sizes, seconds):
    class FS:
        pass

    fs = FS()
    record(fs, sizes, seconds)
    record(3, (10,), 0.1)  # not weakly referenceable: ignored, never an error
    assert estimate(fs) is None


# --- through a real S3 server --------------------------------------------------------------------


@pytest.mark.parametrize("latency", [0.03, 0.1])
def test_opening_a_file_measures_the_round_trip(server, link, latency):
    link(latency, None)
    with open_fits(URI):
        pass
    measured = estimate(_fs())
    assert latency <= measured.latency < latency + 0.05


def test_the_header_read_shows_a_slow_link(server, link):
    link(0.05, 1e6)  # 64 KiB take 66 ms: a link this slow shows in the header's read alone
    with open_fits(URI):
        pass
    measured = estimate(_fs())
    assert 0.05 <= measured.latency < 0.1
    assert 0.3e6 < measured.bandwidth < 5e6


@pytest.mark.parametrize("bandwidth", [2e6, 10e6])
def test_a_cutout_measures_the_bandwidth_for_the_next(server, link, bandwidth):
    link(0.03, bandwidth)
    _cutout_requests(server)
    measured = estimate(_fs())
    assert bandwidth / 3 < measured.bandwidth < bandwidth * 2.5


def test_the_plan_follows_the_measured_link(server, link):
    """Loopback's bandwidth: a few long ranges; 100 ms and 2 MB/s per connection: many short ones at once."""
    link(0.0, None)
    _cutout_requests(server)  # the first cutout measures
    near_link = estimate(_fs())
    near = _cutout_requests(server)
    link(0.1, 2e6)
    linkmodel._seen.clear()
    _cutout_requests(server)
    far_link = estimate(_fs())
    far = _cutout_requests(server)
    assert near <= 4 < 8 <= far, (near, near_link, far, far_link)


def test_an_explicit_link_wins_over_the_estimate(server, link):
    link(0.1, 2e6)
    _cutout_requests(server)
    assert estimate(_fs()) is not None
    assert _cutout_requests(server, link=Link(latency=10.0, bandwidth=50e6, concurrency=1)) == 1  # one span
    assert _cutout_requests(server, link=Link(latency=0.0, bandwidth=1e6, concurrency=16, overhead=0.0)) == 233


def test_helpers_link_wins_over_the_estimate(server, link, monkeypatch):
    link(0.1, 2e6)
    _cutout_requests(server)
    monkeypatch.setenv("HELPERS_LINK", "10,50e6,1")  # a far link: one span
    assert link_for(_fs()) == Link(10.0, 50e6, 1)
    assert _cutout_requests(server) == 1
    monkeypatch.setenv("HELPERS_LINK", " ")  # blank: as if unset, the estimate again
    assert link_for(_fs()) == estimate(_fs())
