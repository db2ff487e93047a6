"""benchmarks/many.py on a small run: what the server sent, and the pixels of every cutout."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import many  # noqa: E402  (benchmarks/ is not a package)

# An explicit link, so the planned ranges do not depend on what the helper measures or assumes.
LINK = dict(latency=0.03, bandwidth=50e6, concurrency=64, overhead=0.003)
SHAPE = (512, 512)  # (ny, nx): small tiles, generated in milliseconds
TILES, PER_TILE = 4, 2
# open_fits's first read is 6 bytes (astropy's gzip/bzip2 signature check, get_readable_fileobj), which
# the file's read-ahead cache extends by its block, helpers.s3.HEADER_BLOCK_SIZE: the whole header is in it.
HEADER_READ = 6 + (64 << 10)


@pytest.fixture(scope="module")
def tiles(tmp_path_factory):
    return many.make_tiles(tmp_path_factory.mktemp("many"), tiles=TILES, shape=SHAPE)


@pytest.fixture(scope="module")
def server(tiles):
    from local_archive import S3Server

    with S3Server() as server:
        server.create_bucket(many.BUCKET)
        for key, path in tiles.items():
            server.put_file(many.BUCKET, key, path)
        yield server


def _expected(job: dict) -> tuple[np.ndarray, int, int]:
    """The cutout from the local file, and the requests and bytes helpers.cutout should cost for it."""
    import astropy.units as u
    from astropy.coordinates import SkyCoord
    from astropy.io import fits
    from astropy.nddata import Cutout2D
    from astropy.wcs import WCS

    from helpers.ranges import Link, plan_ranges

    with fits.open(job["path"]) as hdul:
        hdu = hdul[0]
        data, offset = hdu.data, hdul.fileinfo(0)["datLoc"]
        local = Cutout2D(data, SkyCoord(job["ra"], job["dec"], unit="deg"), job["size_deg"] * u.deg,
                         wcs=WCS(hdu.header))
    rows, cols = local.slices_original
    nx, itemsize = data.shape[1], data.dtype.itemsize
    plan = plan_ranges(rows.start, rows.stop - rows.start, nx * itemsize,
                       offset + (rows.start * nx + cols.start) * itemsize, (cols.stop - cols.start) * itemsize,
                       Link(**LINK))
    # A HEAD (no body), the header's GET, then the planned ranges.
    return local.data, 2 + len(plan), HEADER_READ + sum(end - start for start, end, _, _ in plan)


def test_threads_cut_the_same_pixels_as_a_local_read_and_send_only_the_planned_ranges(tiles, server, monkeypatch):
    from helpers.ranges import Link

    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", server.endpoint)
    jobs = many.make_jobs(tiles, per_tile=PER_TILE)
    assert len(jobs) == TILES * PER_TILE == 8
    done = many.run_jobs(jobs, "threads", workers=4, link=Link(**LINK), endpoint=server.endpoint)
    expected = [_expected(job) for job in jobs]
    for job, cut, (local, _, _) in zip(jobs, done["cutouts"], expected, strict=True):
        assert cut.shape == local.shape == (131, 131), job
        assert cut.dtype == np.dtype(">f4")
        np.testing.assert_array_equal(cut, local)
    for key in tiles:  # the counters were reset after the warm-up: they count the timed jobs alone
        stats = server.stats(many.BUCKET, key)
        mine = [e for job, e in zip(jobs, expected, strict=True) if job["uri"].endswith(key)]
        assert (stats.requests, stats.bytes) == (sum(e[1] for e in mine), sum(e[2] for e in mine)), key
    assert done["startup_seconds"] is None and done["seconds"] > 0


def test_many_cutouts_reports_one_row_per_strategy_from_fresh_processes(tiles, server):
    from helpers.ranges import Link

    jobs = many.make_jobs(tiles, per_tile=PER_TILE)
    expected = [_expected(job) for job in jobs]
    server.latency, server.bandwidth = 0.0, None
    rows = many.many_cutouts(server.endpoint, 0.0, math.inf, files=tiles, workers=4,
                             strategies=("sequential", "threads"), link=Link(**LINK), per_tile=PER_TILE)
    assert [r["strategy"] for r in rows] == ["sequential", "threads"]
    checksum = float(sum(np.nansum(e[0], dtype=np.float64) for e in expected))
    for row in rows:
        assert row["case"] == "many" and row["latency_ms"] == 0 and row["cutouts"] == 8
        assert row["requests"] == sum(e[1] for e in expected)
        assert row["bytes"] == sum(e[2] for e in expected)
        assert row["shapes"] == [[131, 131]]
        assert row["checksum"] == pytest.approx(checksum, rel=0, abs=1e-9)
        assert row["cutouts_per_second"] == pytest.approx(8 / row["seconds"], rel=0.01)
        assert row["ideal_ratio"] is None and row["ideal_cutouts_per_second"] is None  # no latency: no limit
        assert row["startup_seconds"] is None and row["seconds_with_startup"] == row["seconds"]
    assert rows[0]["in_flight"] == 1 and rows[1]["in_flight"] == 4
    assert rows[0]["speedup"] == 1.0
