"""helpers.reading against a real S3 server on loopback (moto), counting what it serves."""

from __future__ import annotations

import hashlib

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.nddata import Cutout2D
from astropy.wcs import WCS

from helpers import CloudAccessError, CloudLocation, cutout, fetch_bytes, open_fits, transfer_stats
from helpers.ranges import Link, plan_ranges

BUCKET = "nasa-irsa-wise"
KEY = "wise/allwise/images/p3am_cdd/08/0830/0830p227_ac51/0830p227_ac51-w1-int-3.fits"
CRAB = SkyCoord(83.63321, 22.01446, unit="deg")


@pytest.fixture(scope="module")
def wise_object(s3_server, wise_like_file):
    s3_server.create_bucket(BUCKET, region="us-west-2")
    s3_server.put_file(BUCKET, KEY, wise_like_file)
    return wise_like_file


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


def test_cutout_outside_the_image(s3, wise_object):
    with open_fits(f"s3://{BUCKET}/{KEY}") as hdul:
        with pytest.raises(CloudAccessError, match="does not overlap"):
            cutout(hdul[0], SkyCoord(10, -40, unit="deg"), 0.05 * u.deg)


def test_open_fits_missing_object_names_the_uri(s3, wise_object):
    with pytest.raises(CloudAccessError, match=f"s3://{BUCKET}/wise/nothing-here.fits"):
        open_fits(f"s3://{BUCKET}/wise/nothing-here.fits")


def test_open_fits_non_fits_object(s3, wise_object):
    s3.put_bytes(BUCKET, "wise/readme.txt", b"this is not a FITS file\n" * 200)
    with pytest.raises(CloudAccessError, match="readme.txt"):
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
    with pytest.raises(CloudAccessError, match=r"S3 refused s3://nasa-irsa-wise/wise/none\.Z: (NoSuchKey|404)"):
        fetch_bytes("s3://nasa-irsa-wise/wise/none.Z")


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
        with pytest.raises(CloudAccessError, match="open_fits"):
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
