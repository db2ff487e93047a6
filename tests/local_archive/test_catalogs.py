"""The AllWISE HEALPix Parquet catalog: its schema, its values, and a cone that reads only its partitions."""

from __future__ import annotations

import re

import astropy.units as u
import numpy as np
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import s3fs
from astropy.coordinates import SkyCoord
from astropy_healpix import HEALPix

from local_archive.holdings.catalogs import CATALOG_PREFIX, COLUMNS, FIELDS
from local_archive.holdings.common import CRAB

ROOT = f"nasa-irsa-wise/{CATALOG_PREFIX}"
HEALPIX = HEALPix(nside=32, order="nested")


def _allwise(archive) -> list:
    """The AllWISE catalog's files (the bucket holds other HEALPix-partitioned catalogs too)."""
    return [p for p in archive.products if p.key.startswith(CATALOG_PREFIX + "/")]


def _held(archive) -> set[int]:
    return {int(p.key.split("healpix_k5=")[1].split("/")[0]) for p in _allwise(archive) if "healpix_k5=" in p.key}


def test_schema_carries_units_and_descriptions(archive):
    fs = s3fs.S3FileSystem(anon=True, skip_instance_cache=True)
    schema = pq.read_schema(f"{ROOT}/_common_metadata", filesystem=fs)
    assert schema.names == [*COLUMNS, "healpix_k0", "healpix_k5"]  # the partition columns too, as IRSA's
    assert schema.names[:3] == ["designation", "ra", "dec"]  # schema.field(1) is ra, as recorded
    ra = schema.field(1)
    assert (str(ra.type), ra.nullable) == ("double", False)
    assert ra.metadata == {b"units": b"deg",  # IRSA's keys, not "unit"
                           b"description": b"J2000 right ascension with respect to the 2MASS PSC reference frame "
                                           b"from the non-moving source extraction."}
    # As recorded by IRSA's cloud-access-intro: pyarrow.Field<ext_flg: int64> (nullable), units b"".
    assert str(schema.field("ext_flg").type) == "int64" and schema.field("ext_flg").nullable
    assert schema.field("ext_flg").metadata[b"units"] == b""
    assert schema.field("ext_flg").metadata[b"description"].startswith(b"Extended source flag.")
    assert str(schema.field("healpix_k5").type) == "int32"


def test_every_field_is_held_and_only_there(archive):
    wanted = set()
    for _, ra, dec, radius in FIELDS:
        wanted.update(int(p) for p in HEALPIX.cone_search_lonlat(ra * u.deg, dec * u.deg, radius * u.deg))
    assert _held(archive) == wanted
    # IRSA's tutorials' regions: Taurus L1495 (RA 62-66, Dec 25-29) and RA 15-25, Dec 62-72, corners included.
    for ra, dec in [(62, 25), (66, 29), (64, 27), (15, 62), (15, 72), (25, 72), (25, 62), (20, 67), CRAB]:
        assert int(HEALPIX.lonlat_to_healpix(ra * u.deg, dec * u.deg)) in wanted


def test_rows_are_consistent_with_their_partition_and_the_catalog_formats(archive):
    fs = s3fs.S3FileSystem(anon=True, skip_instance_cache=True)
    catalog = ds.parquet_dataset(f"{ROOT}/_metadata", filesystem=fs, partitioning="hive")
    table = catalog.to_table(filter=ds.field("healpix_k5").isin([6046, 908]))
    ra, dec = table["ra"].to_numpy(), table["dec"].to_numpy()
    # Each source sits in the partition named by its path, and in healpix_k0 = healpix_k5 >> 10.
    assert np.array_equal(HEALPIX.lonlat_to_healpix(ra * u.deg, dec * u.deg), table["healpix_k5"].to_numpy())
    assert set(table["healpix_k0"].to_pylist()) == {0, 5}
    assert pc.count_distinct(table["cntr"]).as_py() == table.num_rows
    row = table.slice(0, 1).to_pylist()[0]
    # cntr, source_id and coadd_id agree as in IRSA's recorded 157162001351035963 / 0157p620_ac51-035963.
    tile, number = row["source_id"].split("-")
    assert row["coadd_id"] == tile and row["src"] == int(number)
    assert str(row["cntr"]) == f"{int(tile[:4])}{1 if tile[4] == 'p' else 0}{tile[5:8]}01351{number}"
    # The designation is the truncated sexagesimal position (recorded: 24.993333, 62.004237 -> J013958.40+620015.2).
    assert re.fullmatch(r"J\d{6}\.\d{2}[+-]\d{6}\.\d", row["designation"])
    hours = row["ra"] / 15
    assert row["designation"][1:5] == f"{int(hours):02d}{int(hours % 1 * 60):02d}"
    # A 95% upper limit has no uncertainty and ph_qual "U"; a measurement has both.
    for band in range(4):
        quality = np.array([q[band] for q in table["ph_qual"].to_pylist()])
        missing = table[f"w{band + 1}sigmpro"].is_null().to_numpy(zero_copy_only=False) | np.isnan(
            table[f"w{band + 1}sigmpro"].to_numpy(zero_copy_only=False))
        assert np.array_equal(quality == "U", missing)
    assert set(table["ext_flg"].to_pylist()) <= {0, 1, 2, 3, 4, 5}


def test_colour_colour_diagram_has_a_stellar_locus_and_an_agn_wedge(archive):
    fs = s3fs.S3FileSystem(anon=True, skip_instance_cache=True)
    catalog = ds.parquet_dataset(f"{ROOT}/_metadata", filesystem=fs, partitioning="hive")
    table = catalog.to_table(columns=["w1mpro", "w2mpro", "w3mpro", "w4mpro", "ph_qual", "ext_flg"])
    w1, w2, w3, w4 = (table[f"w{b}mpro"].to_numpy() for b in range(1, 5))
    good = np.array([q.startswith("AA") for q in table["ph_qual"].to_pylist()])
    assert abs(np.median((w1 - w2)[good & (w1 < 12)])) < 0.05  # bright stars: W1-W2 ~ 0
    # Mateos et al. (2012) wedge, IRSA's example 2 filter: a small, non-empty share of sources.
    w1w2, w3w4 = w1 - w2, w3 - w4
    wedge = (w1w2 < 0.5 * w3w4 + 0.979) & (w1w2 > 0.5 * w3w4 - 0.405) & (w3w4 > 1.76)
    assert 0.001 < wedge.mean() < 0.05
    assert 0.9 < (table["ext_flg"].to_numpy() == 0).mean() < 1.0  # most sources are point-like


def test_a_cone_reads_only_its_partitions(archive):
    # No read-ahead: pyarrow asks for the footer and the column chunks it needs, and nothing else.
    fs = s3fs.S3FileSystem(anon=True, skip_instance_cache=True, default_cache_type="none")
    crab = SkyCoord(*CRAB, unit="deg")
    pixels = [int(p) for p in HEALPIX.cone_search_lonlat(crab.ra, crab.dec, 0.1 * u.deg)]
    assert pixels == [6046]
    part = next(p for p in _allwise(archive) if "healpix_k5=6046/" in p.key)
    rows = pq.read_metadata(part.path).num_rows
    dataset = ds.dataset(ROOT, filesystem=fs, format="parquet", partitioning="hive",
                         exclude_invalid_files=False)
    archive.s3.reset_stats()
    table = dataset.to_table(columns=["ra", "dec", "w1mpro"], filter=ds.field("healpix_k5").isin(pixels))
    near = SkyCoord(table["ra"].to_numpy(), table["dec"].to_numpy(), unit="deg").separation(crab) < 0.1 * u.deg
    assert table.num_rows == rows and 0 < int(near.sum()) < rows / 10
    touched = {p.key.split("healpix_k5=")[1].split("/")[0] for p in _allwise(archive)
               if "healpix_k5=" in p.key and archive.s3.stats(p.bucket, p.key).bytes > 0}
    assert touched == {"6046"}
    total = sum(archive.s3.stats(p.bucket, p.key).bytes for p in _allwise(archive) if "healpix_k5=" in p.key)
    assert total < part.path.stat().st_size / 2  # the footer and 3 of 49 columns of one partition file
    assert np.all(table["w1mpro"].to_numpy() > 5)


def test_irsas_pattern_schema_from_common_metadata_with_hive_partitions(archive):
    """As IRSA's own notebooks read it: the schema of _common_metadata, partitions typed from it."""
    fs = s3fs.S3FileSystem(anon=True, skip_instance_cache=True)
    schema = pq.read_schema(f"{ROOT}/_common_metadata", filesystem=fs)
    dataset = ds.dataset(ROOT, filesystem=fs, format="parquet", partitioning="hive", schema=schema,
                         exclude_invalid_files=False)
    table = dataset.to_table(columns=["ra", "healpix_k0", "healpix_k5"], filter=ds.field("healpix_k5") == 6046)
    part = next(p for p in _allwise(archive) if "healpix_k5=6046/" in p.key)
    assert table.num_rows == pq.read_metadata(part.path).num_rows
    assert set(table["healpix_k0"].to_pylist()) == {6046 >> 10} and set(table["healpix_k5"].to_pylist()) == {6046}
    assert str(table.schema.field("healpix_k5").type) == "int32"
