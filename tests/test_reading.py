"""helpers.reading against a real S3 server on loopback (moto), counting what it serves.

Besides the bytes, these tests check the bounds that helpers/failures.py documents: which
failures are tried again and how often (requests the server counted), which error family
each failure raises and that it names the URI, and the total deadline of every call.
"""

from __future__ import annotations

import hashlib
import time
import warnings

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.nddata import Cutout2D
from astropy.wcs import WCS

import helpers.deadline
import helpers.s3
from helpers import CloudLocation, cutout, fetch_bytes, open_fits, transfer_stats
from helpers.errors import ArchiveError, CloudFallbackWarning, CloudInputError, DeadlineError
from helpers.ranges import Link, plan_ranges

# These tests count tries and check bounds: a tenth of the real pauses (tests/test_deadline.py has those).
pytestmark = pytest.mark.usefixtures("quick_backoff")

BUCKET = "nasa-irsa-wise"
KEY = "wise/allwise/images/p3am_cdd/08/0830/0830p227_ac51/0830p227_ac51-w1-int-3.fits"
CRAB = SkyCoord(83.63321, 22.01446, unit="deg")


URI = f"s3://{BUCKET}/{KEY}"
HTTPS_HOST = "irsa.example.nasa.gov"  # a stand-in host of this module's own, on the loopback HTTP server
HTTPS_URL = f"https://{HTTPS_HOST}/ibe/data/wise-like.fits"


@pytest.fixture(scope="module")
def wise_object(s3_server, wise_like_file):
    s3_server.create_bucket(BUCKET, region="us-west-2")
    s3_server.put_file(BUCKET, KEY, wise_like_file)
    return wise_like_file


@pytest.fixture(autouse=True)
def _default_link(monkeypatch):
    """These tests count the ranges of the default link's plan, not of one estimated from earlier reads."""
    monkeypatch.setenv("HELPERS_LINK", "0.03,50e6")


@pytest.fixture(autouse=True)
def _no_faults_left(s3_server):
    yield
    s3_server.clear_faults()


def _requests(s3) -> int:
    return s3.stats(BUCKET, KEY).requests


def test_cutout_reads_only_the_rows_it_needs(s3, wise_object):
    size = wise_object.stat().st_size
    with open_fits(CloudLocation(BUCKET, KEY, "us-west-2")) as hdul:
        header_stats = transfer_stats(hdul)
        result = cutout(hdul[0], CRAB, 0.0889 * u.deg)
        reported = transfer_stats(hdul)
        data_start = hdul.fileinfo(0)["datLoc"]
    reference = Cutout2D(fits.getdata(wise_object), CRAB, 0.0889 * u.deg, wcs=WCS(fits.getheader(wise_object)))
    np.testing.assert_array_equal(result.data, reference.data)
    assert result.data.dtype == reference.data.dtype
    assert result.data.shape == (233, 233)
    assert result.wcs.wcs.crpix.tolist() == reference.wcs.wcs.crpix.tolist()

    # exactly the planned ranges over the cutout's rows, after the header's one read-ahead block
    (rows, cols) = reference.slices_original
    row_bytes = 2048 * 4
    first = data_start + (rows.start * 2048 + cols.start) * 4
    plan = plan_ranges(rows.start, rows.stop - rows.start, row_bytes, first, (cols.stop - cols.start) * 4)
    stats = s3.stats(BUCKET, KEY)
    assert stats.ranges[0] == f"bytes=0-{header_stats['bytes'] - 1}"
    expected = [f"bytes={start}-{end - 1}" for start, end, _, _ in plan]
    assert sorted(stats.ranges[1:], key=lambda r: int(r[6:].split("-")[0])) == expected  # concurrent: any order
    span = (rows.stop - rows.start - 1) * row_bytes + (cols.stop - cols.start) * 4
    planned = sum(end - start for start, end, _, _ in plan)
    assert stats.bytes == header_stats["bytes"] + planned
    assert result.data.nbytes < planned <= span < size / 5
    assert 1 < len(plan) < 233
    # fsspec's counters plus the planned reads, which the tutorials print, agree with what the server sent
    assert reported == {"bytes": stats.bytes, "requests": len(stats.ranges), "size": size}


def test_cutout_plan_follows_the_link(s3, wise_object):
    """On a link with no latency cost, one range per row moves only the pixels."""
    with open_fits(f"s3://{BUCKET}/{KEY}") as hdul:
        header_bytes = transfer_stats(hdul)["bytes"]
        link = Link(latency=0.0, bandwidth=1e6, concurrency=16, overhead=0.0)
        result = cutout(hdul[0], CRAB, 0.0889 * u.deg, link=link)
    stats = s3.stats(BUCKET, KEY)
    assert header_bytes == 65536 + 6  # one 64 KiB read-ahead block (and fsspec's 6 bytes past it)
    assert len(stats.ranges) == 1 + 233
    assert stats.bytes - header_bytes == result.data.nbytes == 233 * 233 * 4


def test_cutout_of_a_tile_compressed_image_reads_only_its_tiles(s3, tmp_path):
    data = np.random.default_rng(1).normal(0, 100, (4000, 1200)).astype(np.int16)
    path = tmp_path / "tiles.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(data, compression_type="RICE_1", tile_shape=(1, 1200))]
                 ).writeto(path)
    s3.create_bucket("stpubdata")
    s3.put_file("stpubdata", "test/tiles.fits", path)
    with open_fits("s3://stpubdata/test/tiles.fits") as hdul:
        result = cutout(hdul[1], (600, 2000), (50, 40))
    np.testing.assert_array_equal(result.data, data[1975:2025, 580:620])
    assert s3.stats("stpubdata", "test/tiles.fits").bytes < path.stat().st_size / 3


def test_reading_hdu_data_moves_the_whole_image(s3, wise_object):
    """What the draft did: Cutout2D(hdul[0].data) transfers the whole HDU."""
    with open_fits(f"s3://{BUCKET}/{KEY}") as hdul:
        Cutout2D(hdul[0].data, CRAB, 0.0889 * u.deg, wcs=WCS(hdul[0].header))
    assert s3.stats(BUCKET, KEY).bytes >= 2048 * 2048 * 4


@pytest.mark.parametrize("position", [SkyCoord(10, -40, unit="deg"), SkyCoord(263.5, -22, unit="deg"),
                                      (5000, 100), (-300, -300)])
def test_cutout_outside_the_image(s3, wise_object, position):
    """Off the projection (first two) or off the pixels: an input error, after no pixel reads."""
    with open_fits(URI) as hdul:
        s3.reset_stats()
        with pytest.raises(CloudInputError, match="does not overlap the image"):
            cutout(hdul[0], position, 0.05 * u.deg)
    assert _requests(s3) == 0


def test_open_fits_missing_object_names_the_uri(s3, wise_object):
    with pytest.raises(ArchiveError, match=f"S3 refused s3://{BUCKET}/wise/nothing-here.fits: 404") as caught:
        open_fits(f"s3://{BUCKET}/wise/nothing-here.fits")
    assert caught.value.url == f"s3://{BUCKET}/wise/nothing-here.fits"
    assert s3.stats(BUCKET, "wise/nothing-here.fits").requests == 1  # one HEAD, not tried again


def test_open_fits_non_fits_object(s3, wise_object):
    s3.put_bytes(BUCKET, "wise/readme.txt", b"this is not a FITS file\n" * 200)
    with pytest.raises(CloudInputError, match=f"s3://{BUCKET}/wise/readme.txt is not a readable FITS file"):
        with open_fits(f"s3://{BUCKET}/wise/readme.txt") as hdul:
            hdul[0].header  # noqa: B018


def test_fetch_bytes_is_one_get_with_exact_bytes(s3, wise_object):
    expected = wise_object.read_bytes()
    data = fetch_bytes(f"s3://{BUCKET}/{KEY}", progress=True)
    assert hashlib.md5(data).hexdigest() == hashlib.md5(expected).hexdigest()  # noqa: S324
    stats = s3.stats(BUCKET, KEY)
    assert (stats.requests, stats.bytes, stats.ranges) == (1, len(expected), [])


def test_fetch_bytes_small_object_from_moto(s3, wise_object):
    s3.put_bytes("nasa-irsa-wise", "wise/small.bin", bytes(range(256)) * 4)
    assert fetch_bytes(CloudLocation("nasa-irsa-wise", "wise/small.bin", "us-west-2")) == bytes(range(256)) * 4


def test_fetch_bytes_missing_object(s3, wise_object):
    with pytest.raises(ArchiveError, match=r"S3 refused s3://nasa-irsa-wise/wise/none\.Z: NoSuchKey \(404\)"):
        fetch_bytes("s3://nasa-irsa-wise/wise/none.Z")
    assert s3.stats(BUCKET, "wise/none.Z").requests == 1  # a missing key is not tried again


def test_requests_are_unsigned_even_with_credentials_in_the_environment(s3, wise_object, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIADUMMYDUMMYDUMMY1")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "dummy-secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "dummy-token")
    monkeypatch.setenv("AWS_PROFILE", "a-profile-that-does-not-exist")
    fetch_bytes(f"s3://{BUCKET}/{KEY}")
    with open_fits(f"s3://{BUCKET}/{KEY}") as hdul:
        cutout(hdul[0], CRAB, 0.02 * u.deg)
    assert s3.totals().requests >= 3
    assert s3.signed_requests == 0


def test_transfer_stats_needs_an_fsspec_file(wise_like_file):
    with fits.open(wise_like_file) as hdul:
        with pytest.raises(CloudInputError, match="open_fits"):
            transfer_stats(hdul)


@pytest.mark.parametrize("mode", ["trim", "partial"])
def test_cutout_at_the_image_edge_equals_cutout2d_of_the_data(s3, wise_object, mode):
    with open_fits(f"s3://{BUCKET}/{KEY}") as hdul:
        wcs = WCS(hdul[0].header)
        corner = wcs.pixel_to_world(3, 2040)
        result = cutout(hdul[0], corner, 0.02 * u.deg, mode=mode)
    reference = Cutout2D(fits.getdata(wise_object), corner, 0.02 * u.deg, wcs=wcs, mode=mode)
    np.testing.assert_array_equal(result.data, reference.data)
    assert result.data.shape == reference.data.shape


def test_cutout_of_an_integer_image(s3, tmp_path):
    data = np.arange(300 * 500, dtype=np.int16).reshape(300, 500)
    path = tmp_path / "ints.fits"
    fits.PrimaryHDU(data).writeto(path)
    s3.put_file(BUCKET, "wise/ints.fits", path)
    with open_fits(f"s3://{BUCKET}/wise/ints.fits") as hdul:
        result = cutout(hdul[0], (250, 150), (20, 30), wcs=None)
    np.testing.assert_array_equal(result.data, data[140:160, 235:265])
    assert result.data.dtype == np.dtype(">i2")


# --- errors a caller can tell apart: bad input, before any read -------------------------


def _fits_bytes(*cards: tuple[str, str], data: bytes = bytes(2880)) -> bytes:
    """A hand-made FITS file, so that headers astropy would refuse to write can be tested."""
    header = "".join(f"{key:<8}= {value:>20}".ljust(80) for key, value in cards) + "END".ljust(80)
    return header.ljust(2880).encode() + data


def _image_hdu(shape=(20, 20)):
    return fits.PrimaryHDU(np.arange(np.prod(shape), dtype=np.float32).reshape(shape))


def _table_hdu():
    return fits.BinTableHDU.from_columns([fits.Column(name="x", format="E", array=np.arange(3.0))], name="EVENTS")


def _string_naxis1_hdu():
    hdu = _image_hdu()
    hdu.header["NAXIS1"] = "twenty"
    return hdu


BAD_CUTOUTS = [
    ("size 0", _image_hdu, (5, 5), 0, "cutout size must be positive and finite, got 0"),
    ("negative size", _image_hdu, (5, 5), -5, "cutout size must be positive and finite, got -5"),
    ("one side 0", _image_hdu, (5, 5), (10, 0), r"cutout size must be positive and finite, got \(10, 0\)"),
    ("NaN size", _image_hdu, (5, 5), float("nan"), "cutout size must be positive and finite, got nan"),
    ("zero angle", _image_hdu, (5, 5), 0 * u.deg, "cutout size must be positive"),
    ("size in seconds", _image_hdu, (5, 5), 3 * u.s, "cutout size must be in pixels or an angle, not s"),
    ("size as text", _image_hdu, (5, 5), "big", "cutout size must be numbers or Quantities, got 'big'"),
    ("NaN position", _image_hdu, (np.nan, 5), 4, r"the cutout position is not finite: \(nan, 5\)"),
    ("NaN sky position", _image_hdu, SkyCoord(np.nan, 0, unit="deg"), 4, "the cutout position is not finite"),
    ("position as text", _image_hdu, "M1", 4, "must be a SkyCoord or pixels"),
    ("sky position, no WCS", _image_hdu, CRAB, 4, "a sky position needs a celestial WCS, and the HDU's header has no"),
    ("angular size, no WCS", _image_hdu, (5, 5), 0.01 * u.deg, "an angular cutout size needs a celestial WCS"),
    ("3-D cube", lambda: _image_hdu((3, 20, 20)), (5, 5), 4, "cutout needs a 2-D image, but this HDU has NAXIS = 3"),
    ("table", _table_hdu, (5, 5), 4, "cutout needs an image HDU .* got BinTableHDU 'EVENTS', a table"),
    ("not an HDU", lambda: np.zeros((20, 20)), (5, 5), 4, "cutout needs an image HDU .* got ndarray"),
    ("string NAXIS1", _string_naxis1_hdu, (5, 5), 4, "the HDU's header has NAXIS1 = 'twenty', not a positive integer"),
]


@pytest.mark.parametrize(("make", "position", "size", "message"), [case[1:] for case in BAD_CUTOUTS],
                         ids=[case[0] for case in BAD_CUTOUTS])
def test_cutout_refuses_bad_input_saying_what_is_wrong(make, position, size, message):
    with pytest.raises(CloudInputError, match=message):
        cutout(make(), position, size)


def test_cutout_of_an_hdu_in_memory():
    hdu = _image_hdu()
    result = cutout(hdu, (4, 5), (3, 2))
    np.testing.assert_array_equal(result.data, hdu.data[4:7, 3:5])


def test_cutout_smaller_than_a_pixel_is_an_input_error():
    with pytest.raises(CloudInputError, match="less than one pixel"):
        cutout(_image_hdu(), (5, 5), 0.3)


def test_a_bogus_bitpix_in_s3_is_refused_before_reading_pixels(s3, wise_object):
    s3.put_bytes(BUCKET, "wise/bitpix12.fits", _fits_bytes(
        ("SIMPLE", "T"), ("BITPIX", "12"), ("NAXIS", "2"), ("NAXIS1", "10"), ("NAXIS2", "10")))
    with open_fits(f"s3://{BUCKET}/wise/bitpix12.fits") as hdul:
        opened = s3.stats(BUCKET, "wise/bitpix12.fits").requests
        with pytest.raises(CloudInputError, match="the HDU's header has BITPIX = 12, not one of 8, 16, 32"):
            cutout(hdul[0], (5, 5), 4)
    assert s3.stats(BUCKET, "wise/bitpix12.fits").requests == opened


def test_a_string_naxis1_in_s3_is_not_a_readable_fits_file(s3, wise_object):
    s3.put_bytes(BUCKET, "wise/naxis1.fits", _fits_bytes(
        ("SIMPLE", "T"), ("BITPIX", "16"), ("NAXIS", "2"), ("NAXIS1", "'abc'"), ("NAXIS2", "10")))
    with pytest.raises(CloudInputError, match=f"s3://{BUCKET}/wise/naxis1.fits is not a readable FITS file: TypeError"):
        open_fits(f"s3://{BUCKET}/wise/naxis1.fits")


@pytest.mark.parametrize("uri", ["s3://Not_A_Bucket/key.fits", "s3://nasa-irsa-wise/", "https://irsa.ipac.caltech.edu/x",
                                 "s3://ab/key.fits"])
def test_malformed_uris_are_input_errors(uri):
    with pytest.raises(CloudInputError):
        fetch_bytes(uri)
    with pytest.raises(CloudInputError):
        open_fits(uri)


@pytest.mark.parametrize("timeout", [0, -3, float("nan"), "soon"])
def test_bad_timeouts_are_input_errors(s3, wise_object, timeout):
    with pytest.raises(CloudInputError, match="timeout must be"):
        fetch_bytes(URI, timeout=timeout)
    with pytest.raises(CloudInputError, match="timeout must be"):
        open_fits(URI, timeout=timeout)
    assert _requests(s3) == 0


# --- one retry layer: what is tried again, how often ------------------------------------


@pytest.mark.parametrize("kind", ["500", "502", "503", "504", "reset", "truncate"])
def test_fetch_bytes_tries_a_transient_failure_again(s3, wise_object, kind):
    """"truncate": the body stops at half its Content-Length; "reset": a TCP reset before any byte."""
    s3.inject(kind, key=KEY, count=1, methods=("GET",))
    assert fetch_bytes(URI) == wise_object.read_bytes()
    assert _requests(s3) == 2


def test_three_slowdowns_then_success_succeed_within_the_tries(s3, wise_object):
    s3.inject("503", key=KEY, count=3, methods=("GET",))
    assert fetch_bytes(URI) == wise_object.read_bytes()
    assert _requests(s3) == 4


def test_six_slowdowns_then_success_succeed(s3, wise_object):
    """Throttling asks the client to try again: 8 tries for it, so six SlowDowns do not fail the read."""
    s3.inject("503", key=KEY, count=6, methods=("GET",))
    began = time.monotonic()
    assert fetch_bytes(URI) == wise_object.read_bytes()
    assert _requests(s3) == 7
    pauses = [helpers.deadline.BACKOFF[min(i, len(helpers.deadline.BACKOFF) - 1)] for i in range(6)]
    assert sum(pauses) <= time.monotonic() - began < 10  # six pauses: 0.25 + 0.5 + 4 x 1 s, here a tenth


@pytest.mark.parametrize(("kind", "tries"), [("503", 8), ("500", 4), ("reset", 4)])
def test_a_persistent_failure_gives_up_after_its_tries(s3, wise_object, kind, tries):
    """A persistent 5xx is not a refusal: "failed after N tries", within 10 s (8 tries while throttled)."""
    s3.inject(kind, key=KEY, count=100, methods=("GET",))
    began = time.monotonic()
    with pytest.raises(ArchiveError, match=f"GET {URI} failed after {tries} tries") as caught:
        fetch_bytes(URI)
    assert time.monotonic() - began < 10
    assert "refused" not in str(caught.value)
    assert not isinstance(caught.value, DeadlineError)
    assert caught.value.url == URI
    assert _requests(s3) == tries


@pytest.mark.parametrize("kind", ["403", "404"])
def test_refusals_are_not_tried_again(s3, wise_object, kind):
    s3.inject(kind, key=KEY, count=10)
    with pytest.raises(ArchiveError, match=f"S3 refused {URI}: ({kind}|AccessDenied|NoSuchKey)"):
        fetch_bytes(URI)
    assert _requests(s3) == 1
    with pytest.raises(ArchiveError, match=f"S3 refused {URI}"):
        open_fits(URI)
    assert _requests(s3) == 2  # one HEAD


def test_retry_settings_of_the_environment_add_no_retries(s3, wise_object, monkeypatch):
    """botocore reads AWS_MAX_ATTEMPTS and AWS_RETRY_MODE; helpers' explicit one-try setting wins."""
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "10")
    monkeypatch.setenv("AWS_RETRY_MODE", "adaptive")
    monkeypatch.setattr(helpers.s3, "_clients", {})
    s3.inject("500", key=KEY, count=100, methods=("GET",))
    with pytest.raises(ArchiveError, match="failed after 4 tries"):
        fetch_bytes(URI)
    assert _requests(s3) == 4


def _clean_cutout_requests(s3) -> int:
    """The ranges a clean cutout of the Crab plans (one GET each)."""
    with open_fits(URI) as hdul:
        s3.reset_stats()
        cutout(hdul[0], CRAB, 0.0889 * u.deg)
    planned = _requests(s3)
    s3.reset_stats()
    return planned


def test_cutout_sends_again_only_the_ranges_that_failed(s3, wise_object):
    planned = _clean_cutout_requests(s3)
    assert planned > 1
    with open_fits(URI) as hdul:
        s3.reset_stats()
        s3.inject("503", key=KEY, count=1, methods=("GET",))
        result = cutout(hdul[0], CRAB, 0.0889 * u.deg)
        stats = transfer_stats(hdul)
    reference = Cutout2D(fits.getdata(wise_object), CRAB, 0.0889 * u.deg, wcs=WCS(fits.getheader(wise_object)))
    np.testing.assert_array_equal(result.data, reference.data)
    assert _requests(s3) == planned + 1
    assert stats["requests"] == 1 + planned + 1  # the header's block, the plan, the one range sent again


@pytest.mark.parametrize(("kind", "tries"), [("500", 4), ("503", 8), ("reset", 4)])
def test_a_persistent_failure_during_a_cutout_is_an_archive_error_not_no_overlap(s3, wise_object, kind, tries):
    planned = _clean_cutout_requests(s3)
    with open_fits(URI) as hdul:
        s3.reset_stats()
        s3.inject(kind, key=KEY, count=100_000, methods=("GET",))
        began = time.monotonic()
        with pytest.raises(ArchiveError, match=f"reading {URI} failed after {tries} tries") as caught:
            cutout(hdul[0], CRAB, 0.0889 * u.deg)
    assert time.monotonic() - began < 10
    assert not isinstance(caught.value, (CloudInputError, DeadlineError))
    assert "overlap" not in str(caught.value)
    # aiohttp re-sends a GET once, at once, when the connection dies before any answer (RFC 9112 allows it
    # for idempotent requests; aiohttp has no setting): the documented bound for resets is 2 x 4 per range.
    assert _requests(s3) == (8 if kind == "reset" else tries) * planned


def test_a_persistent_failure_while_opening(s3, wise_object):
    s3.inject("503", key=KEY, count=100, methods=("GET",))
    began = time.monotonic()
    with pytest.raises(ArchiveError, match=f"reading {URI} failed after 8 tries: {URI}: SlowDown"):
        open_fits(URI)
    assert time.monotonic() - began < 10
    assert _requests(s3) == 1 + 8  # HEAD, then the first header block 8 times (throttled)


# --- clients reused ------------------------------------------------------------------


def test_one_client_per_region_and_endpoint(s3, wise_object, monkeypatch):
    built = []
    original = helpers.s3._new_client
    monkeypatch.setattr(helpers.s3, "_clients", {})
    monkeypatch.setattr(helpers.s3, "_new_client", lambda *args: built.append(args) or original(*args))
    for _ in range(5):
        fetch_bytes(URI)
    assert len(built) == 1
    assert helpers.s3.s3_client("us-west-2") is helpers.s3.s3_client("us-west-2")
    assert helpers.s3.s3_client("us-east-1") is not helpers.s3.s3_client("us-west-2")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9")
    other = helpers.s3.s3_client("us-west-2")
    assert other.meta.endpoint_url == "http://127.0.0.1:9"
    assert len(built) == 3


def test_the_s3fs_filesystem_is_shared_and_tries_once(s3):
    fs = helpers.s3.s3_filesystem("us-west-2")
    assert fs is helpers.s3.s3_filesystem("us-west-2")
    assert fs.retries == 1
    assert fs.config_kwargs["retries"] == {"total_max_attempts": 1, "mode": "standard"}


# --- deadlines -------------------------------------------------------------------------


def test_fetch_bytes_meets_its_deadline_against_a_drip(s3, wise_object):
    s3.inject("drip", key=KEY, count=10, seconds=0.5, methods=("GET",))
    began = time.monotonic()
    with pytest.raises(DeadlineError, match=f"fetch_bytes of {URI} did not finish within its 1 s deadline"):
        fetch_bytes(URI, timeout=1)
    assert time.monotonic() - began < 3


def test_fetch_bytes_meets_its_deadline_against_a_stall(s3, wise_object):
    s3.inject("slow", key=KEY, count=10, seconds=10, methods=("GET",))
    began = time.monotonic()
    with pytest.raises(DeadlineError, match=f"fetch_bytes of {URI}"):
        fetch_bytes(URI, timeout=1.5)
    assert time.monotonic() - began < 3


def test_open_fits_meets_its_deadline_against_a_drip(s3, wise_object):
    s3.inject("drip", key=KEY, count=10, seconds=0.5, methods=("GET",))
    began = time.monotonic()
    with pytest.raises(DeadlineError, match=f"open_fits of {URI} did not finish within its 1 s deadline"):
        open_fits(URI, timeout=1)
    assert time.monotonic() - began < 3


def test_cutout_meets_its_deadline_against_a_drip(s3, wise_object):
    with open_fits(URI) as hdul:
        s3.inject("drip", key=KEY, count=100_000, seconds=0.5, methods=("GET",))
        began = time.monotonic()
        with pytest.raises(DeadlineError, match=f"cutout of {URI} did not finish within its 1 s deadline"):
            cutout(hdul[0], CRAB, 0.0889 * u.deg, timeout=1)
        assert time.monotonic() - began < 3


# --- the HTTPS fallback ---------------------------------------------------------------


@pytest.fixture
def https_copy(http, wise_like_file):
    """The wise-like file at HTTPS_URL on the loopback HTTP server (with Range support)."""
    from werkzeug.utils import send_file

    if not getattr(http, "_test_reading_route", False):
        http.route(HTTPS_HOST, "/ibe/data/", lambda request, path: send_file(
            wise_like_file, request.environ, mimetype="application/fits", conditional=True))
        http._test_reading_route = True
    yield http
    http.clear_faults()


def _hits(server) -> int:
    return server.hits[f"{HTTPS_HOST}/ibe/data/wise-like.fits"]


@pytest.mark.parametrize("kind", ["403", "404"])
def test_a_refusal_falls_back_to_the_https_copy_once(s3, wise_object, https_copy, kind):
    location = CloudLocation(BUCKET, KEY, "us-west-2", https_url=HTTPS_URL)
    s3.inject(kind, key=KEY, count=100)
    before = _hits(https_copy)
    with pytest.warns(CloudFallbackWarning, match=f"S3 refused {URI}.*reading the archive's HTTPS copy {HTTPS_URL}"):
        assert fetch_bytes(location) == wise_object.read_bytes()
    assert (_requests(s3), _hits(https_copy) - before) == (1, 1)
    with pytest.warns(CloudFallbackWarning):
        with open_fits(location) as hdul:
            part = cutout(hdul[0], CRAB, 0.02 * u.deg)
            assert transfer_stats(hdul)["bytes"] < wise_object.stat().st_size / 10
    np.testing.assert_array_equal(part.data, fits.getdata(wise_object)[part.slices_original])


def test_a_failing_https_copy_names_both_addresses(s3, wise_object, https_copy):
    location = CloudLocation(BUCKET, KEY, "us-west-2", https_url=HTTPS_URL)
    s3.inject("403", key=KEY, count=100)
    https_copy.inject("500", host=HTTPS_HOST, count=100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CloudFallbackWarning)
        with pytest.raises(ArchiveError, match=f"S3 refused {URI}.*and its HTTPS copy failed too: "
                                               f"GET {HTTPS_URL} failed after 4 tries") as caught:
            fetch_bytes(location)
    assert caught.value.url == HTTPS_URL


def test_the_https_fallback_meets_its_deadline_against_a_drip(s3, wise_object, https_copy):
    location = CloudLocation(BUCKET, KEY, "us-west-2", https_url=HTTPS_URL)
    s3.inject("403", key=KEY, count=100)
    https_copy.inject("drip", host=HTTPS_HOST, count=100, seconds=0.5)
    for call in (lambda: fetch_bytes(location, timeout=1), lambda: open_fits(location, timeout=1)):
        began = time.monotonic()
        with pytest.warns(CloudFallbackWarning), pytest.raises(DeadlineError, match=f"of {URI} did not finish"):
            call()
        assert time.monotonic() - began < 3


# --- cutout arguments that astropy's Cutout2D would fail on with a bare TypeError or ValueError -------

BAD_CUTOUT_ARGUMENTS = [
    ("unknown mode", (5, 5), 4, {"mode": "bogus"},
     "cutout mode must be one of 'trim', 'partial', 'strict', got 'bogus'"),
    ("mode not text", (5, 5), 4, {"mode": 1}, "cutout mode must be one of .* got 1"),
    ("unknown keyword", (5, 5), 4, {"foo": 1}, "cutout got unknown keyword argument 'foo'; Cutout2D accepts mode"),
    ("size as a numeric string", (5, 5), "3", {}, "cutout size must be numbers or Quantities, got '3'"),
    ("one side a numeric string", (5, 5), (3, "3"), {}, "cutout size must be numbers or Quantities"),
    ("huge size", (5, 5), 1e300, {}, "the cutout size 1e\\+300 is more than 2,147,483,647 pixels on a side"),
    ("huge partial cutout", (5, 5), (1e5, 1e5), {"mode": "partial"}, "mode='partial' cutout holds all of them"),
    ("wcs as text", (5, 5), 4, {"wcs": "x"}, "wcs must be an astropy.wcs.WCS or None, got str 'x'"),
    ("link as text", (5, 5), 4, {"link": "x"}, "link must be a helpers.ranges.Link or None, got str 'x'"),
    ("fill_value of another type", (0, 0), 5, {"mode": "partial", "fill_value": "x"},
     "Cutout2D refused the arguments .*fill_value is inconsistent"),
    ("rounding method not callable", (5, 5), 4, {"limit_rounding_method": 3}, "must be a callable"),
]


@pytest.mark.parametrize(("position", "size", "kwargs", "message"), [case[1:] for case in BAD_CUTOUT_ARGUMENTS],
                         ids=[case[0] for case in BAD_CUTOUT_ARGUMENTS])
def test_cutout_refuses_arguments_cutout2d_would_fail_on(position, size, kwargs, message):
    with pytest.raises(CloudInputError, match=message):
        cutout(_image_hdu(), position, size, **kwargs)


def test_cutout_argument_checks_come_before_any_read(s3, wise_object):
    with open_fits(CloudLocation(BUCKET, KEY, "us-west-2")) as hdul:
        before = len(s3.stats(BUCKET, KEY).ranges)
        for kwargs in ({"mode": "bogus"}, {"foo": 1}, {"wcs": "x"}, {"link": "x"}):
            with pytest.raises(CloudInputError):
                cutout(hdul[0], (100, 100), 10, **kwargs)
        assert len(s3.stats(BUCKET, KEY).ranges) == before


def test_a_read_failure_inside_cutout2d_is_never_an_input_error(s3, wise_object, monkeypatch):
    """An OSError or a bug while reading the pixels keeps its class: only argument handling becomes input errors."""
    from helpers import cutouts

    def failing(self, key):
        raise ValueError("broken read")

    monkeypatch.setattr(cutouts._PlannedSection, "__getitem__", failing)
    with open_fits(CloudLocation(BUCKET, KEY, "us-west-2")) as hdul:
        with pytest.raises(ValueError, match="broken read") as info:
            cutout(hdul[0], (100, 100), 10)
    assert not isinstance(info.value, CloudInputError)


def test_plan_ranges_refuses_a_link_that_is_not_a_link():
    with pytest.raises(CloudInputError, match="link must be a Link or None, got str 'fast'"):
        plan_ranges(0, 4, 1000, 2880, 100, "fast")
