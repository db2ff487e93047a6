"""The NEOWISE-R Single-exposure Source Table in Parquet: keys, schema, partitions and light curves as served."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import s3fs

from local_archive.holdings.neowise import COLUMNS, NEOWISE_PREFIX, PIXELS, YEARS

BUCKET = "nasa-irsa-wise"


def _root(year: str) -> str:
    return f"{BUCKET}/{NEOWISE_PREFIX}/{year}/neowiser-healpix_k5-{year}.parquet"


def _fs() -> s3fs.S3FileSystem:
    return s3fs.S3FileSystem(anon=True, skip_instance_cache=True)


def test_twelve_yearly_datasets_with_irsa_keys(archive):
    fs = _fs()
    assert fs.ls(f"{BUCKET}/{NEOWISE_PREFIX}", detail=False) == [
        f"{BUCKET}/{NEOWISE_PREFIX}/{year}" for year in sorted(YEARS)]
    assert YEARS == tuple(f"year{n}" for n in range(1, 12)) + ("addendum",)
    for year in YEARS:
        listed = fs.ls(_root(year), detail=False)
        assert f"{_root(year)}/_metadata" in listed and f"{_root(year)}/_common_metadata" in listed
    # The files IRSA's notebook names, and a big partition spread over several files in one year.
    assert fs.exists(f"{_root('year8')}/healpix_k0=1/healpix_k5=1986/part0.snappy.parquet")
    assert fs.exists(f"{_root('year1')}/healpix_k0=2/healpix_k5=2551/part0.snappy.parquet")
    pole = fs.ls(f"{_root('year3')}/healpix_k0=8/healpix_k5=8277", detail=False)
    assert [p.rsplit("/", 1)[1] for p in pole] == ["part0.snappy.parquet", "part1.snappy.parquet"]
    served = {p.key for p in archive.products if p.key.startswith(NEOWISE_PREFIX)}
    found = {path.removeprefix(f"{BUCKET}/") for path in fs.find(f"{BUCKET}/{NEOWISE_PREFIX}")}
    assert found == served
    assert {int(k.split("healpix_k5=")[1].split("/")[0]) for k in served if "healpix_k5=" in k} == set(PIXELS)


def test_schema_units_and_descriptions(archive):
    fs = _fs()
    common = pq.read_schema(f"{_root('year5')}/_common_metadata", filesystem=fs)
    assert common.names == [*COLUMNS, "healpix_k0", "healpix_k5"]
    assert common.names[:6] == ["source_id", "frame_num", "scan_id", "src", "ra", "dec"]
    assert [str(common.field(name).type) for name in ("cntr", "source_id", "ra", "mjd", "w1flux", "qual_frame")] \
        == ["int64", "string", "double", "double", "double", "int64"]
    assert common.field("ra").metadata == {b"units": b"deg", b"description":
                                           b"J2000 right ascension with respect to the 2MASS PSC reference frame."}
    assert common.field("w1flux").metadata[b"units"] == b"dn"
    assert not common.field("ra").nullable and common.field("w1sigmpro").nullable
    # _metadata describes the files, which hold no partition columns.
    meta = pq.read_metadata(f"{_root('year5')}/_metadata", filesystem=fs)
    assert meta.schema.names == list(COLUMNS)
    dataset = ds.parquet_dataset(f"{_root('year5')}/_metadata", filesystem=fs, partitioning="hive")
    assert dataset.schema.names == [*COLUMNS, "healpix_k0", "healpix_k5"]


def test_metadata_row_counts_match_every_file(archive):
    fs = _fs()
    for year in ("year1", "year11", "addendum"):
        meta = pq.read_metadata(f"{_root(year)}/_metadata", filesystem=fs)
        per_file: dict[str, int] = {}
        for i in range(meta.num_row_groups):
            group = meta.row_group(i)
            path = group.column(0).file_path
            per_file[path] = per_file.get(path, 0) + group.num_rows
        for path, rows in per_file.items():
            assert pq.read_metadata(f"{_root(year)}/{path}", filesystem=fs).num_rows == rows
            assert 0 < rows <= 250
        assert meta.num_rows == sum(per_file.values())
    # The South Ecliptic Pole partition is the biggest, as production's (8277 in IRSA's notebook).
    full = ds.dataset([ds.parquet_dataset(f"{_root(y)}/_metadata", filesystem=fs, partitioning="hive")
                       for y in YEARS])
    counts = full.to_table(columns=["healpix_k5"]).column("healpix_k5").value_counts().to_pylist()
    assert max(counts, key=lambda c: c["counts"])["values"] == 8277


def _sources(table) -> list[np.ndarray]:
    """Row indices of each source: detections within 3 arcsec of one another."""
    ra, dec = table["ra"].to_numpy(), table["dec"].to_numpy()
    left = np.ones(ra.size, bool)
    groups = []
    while left.any():
        i = int(np.flatnonzero(left)[0])
        near = left & (np.hypot((ra - ra[i]) * np.cos(np.radians(dec[i])), dec - dec[i]) * 3600 < 3.0)
        groups.append(np.flatnonzero(near))
        left &= ~near
    return groups


def test_two_visits_a_year_of_about_twelve_exposures(archive):
    fs = _fs()
    table = ds.parquet_dataset(f"{_root('year2')}/_metadata", filesystem=fs, partitioning="hive").to_table(
        filter=ds.field("healpix_k5") == 6046, columns=["ra", "dec", "mjd", "scan_id", "frame_num", "w1snr"])
    mjd = table["mjd"].to_numpy()
    assert 56639 + 365.25 <= mjd.min() and mjd.max() < 56639 + 2 * 365.25  # the Crab's pixel, survey year 2
    sources = _sources(table)
    assert len(sources) == 5
    for rows in sources:
        times = np.sort(mjd[rows])
        visits = np.split(times, np.flatnonzero(np.diff(times) > 30) + 1)
        assert len(visits) == 2  # every six months
        for visit in visits:
            assert 6 <= visit.size <= 13 and visit[-1] - visit[0] < 1.0  # ~12 exposures within a day
            orbits = np.diff(visit) * 15.305  # one exposure per orbit, when the source is detected
            assert np.allclose(orbits, np.rint(orbits), atol=0.03) and orbits.min() > 0.9
        scans = table["scan_id"].to_numpy(zero_copy_only=False)[rows]
        assert all(len(s) == 6 and s[:5].isdigit() and s[5] == "a" for s in scans)


def test_light_curves_mostly_constant_a_few_variable(archive):
    fs = _fs()
    full = ds.dataset([ds.parquet_dataset(f"{_root(y)}/_metadata", filesystem=fs, partitioning="hive")
                       for y in YEARS])
    table = full.to_table(filter=ds.field("healpix_k5").isin([933, 944, 324, 6046]),
                          columns=["ra", "dec", "mjd", "w1mpro", "w1snr", "cntr", "source_id"])
    assert len(set(table["cntr"].to_pylist())) == table.num_rows  # one cntr per detection
    scatter = []
    for rows in _sources(table):
        bright = rows[table["w1snr"].to_numpy()[rows] > 20]
        if bright.size > 50:
            assert np.ptp(table["mjd"].to_numpy()[bright]) > 3500  # ten years of light curve
            scatter.append(float(np.std(table["w1mpro"].to_numpy()[bright])))
    scatter = np.array(scatter)
    assert np.mean(scatter < 0.1) >= 0.75 and (scatter > 0.15).sum() >= 1


SCRIPT = '''
import json, sys
import pyarrow.compute, pyarrow.dataset, pyarrow.fs

years = sys.argv[1:]
path = lambda year: (f"nasa-irsa-wise/wise/neowiser/catalogs/p1bs_psd/healpix_k5/{year}/"
                     f"neowiser-healpix_k5-{year}.parquet/_metadata")
fs = pyarrow.fs.S3FileSystem(region="us-west-2", anonymous=True)  # as IRSA's notebook writes it
neowise_ds = pyarrow.dataset.dataset(
    [pyarrow.dataset.parquet_dataset(path(yr), filesystem=fs, partitioning="hive") for yr in years])
field = pyarrow.compute.field("healpix_k5")
part = neowise_ds.to_table(filter=(field == 11831), columns=["cntr", "source_id", "ra", "dec", "w1flux"])
frag = next(f for f in neowise_ds.get_fragments() if f.path.endswith("healpix_k5=1986/part0.snappy.parquet"))
print(json.dumps({"rows": part.num_rows, "names": part.column_names, "frag": frag.path,
                  "frag_rows": frag.to_table(columns=["cntr"]).num_rows,
                  "per_year": [sum(f.metadata.num_rows for f in d.get_fragments()) for d in neowise_ds.children]}))
'''


def test_pyarrow_s3filesystem_reads_the_years_as_irsas_notebook_does(archive):
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(SCRIPT), *YEARS], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **archive.environment()}, cwd="/")
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    fs = _fs()
    expected = sum(ds.parquet_dataset(f"{_root(y)}/_metadata", filesystem=fs, partitioning="hive")
                   .count_rows(filter=ds.field("healpix_k5") == 11831) for y in YEARS)
    assert seen["rows"] == expected > 0
    assert seen["names"] == ["cntr", "source_id", "ra", "dec", "w1flux"]
    assert seen["frag"] == f"{_root('year1')}/healpix_k0=1/healpix_k5=1986/part0.snappy.parquet"
    assert seen["frag_rows"] == pq.read_metadata(seen["frag"], filesystem=fs).num_rows
    assert len(seen["per_year"]) == 12 and all(n > 0 for n in seen["per_year"])
    assert archive.s3.stats(BUCKET, f"{NEOWISE_PREFIX}/addendum/neowiser-healpix_k5-addendum.parquet/_metadata"
                            ).requests >= 1
