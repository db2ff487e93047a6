"""The AllWISE HEALPix Parquet catalog: a cone reads only its partitions, through s3fs and pyarrow."""

from __future__ import annotations

import astropy.units as u
import numpy as np
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import s3fs
from astropy.coordinates import SkyCoord
from astropy_healpix import HEALPix

from local_archive.catalogs import CATALOG_PREFIX, COLUMNS
from local_archive.data import CRAB

ROOT = f"nasa-irsa-wise/{CATALOG_PREFIX}"


def test_schema_carries_units_and_descriptions(archive):
    fs = s3fs.S3FileSystem(anon=True, skip_instance_cache=True)
    schema = pq.read_schema(f"{ROOT}/_common_metadata", filesystem=fs)
    assert schema.names == [*COLUMNS, "healpix_k0", "healpix_k5"]  # the partition columns too, as IRSA's
    assert schema.field("w1mpro").metadata == {b"units": b"mag",  # IRSA's key, not "unit"
                                               b"description": b"W1 magnitude measured with profile-fitting photometry"}
    assert str(schema.field("healpix_k5").type) == "int32"


def test_a_cone_reads_only_its_partitions(archive):
    # No read-ahead: pyarrow asks for the footer and the column chunks it needs, and nothing else.
    fs = s3fs.S3FileSystem(anon=True, skip_instance_cache=True, default_cache_type="none")
    crab = SkyCoord(*CRAB, unit="deg")
    pixels = [int(p) for p in HEALPix(nside=32, order="nested").cone_search_lonlat(crab.ra, crab.dec, 0.1 * u.deg)]
    assert pixels == [6046]
    dataset = ds.dataset(ROOT, filesystem=fs, format="parquet", partitioning="hive",
                         exclude_invalid_files=False)
    archive.s3.reset_stats()
    table = dataset.to_table(columns=["ra", "dec", "w1mpro"], filter=ds.field("healpix_k5").isin(pixels))
    near = SkyCoord(table["ra"].to_numpy(), table["dec"].to_numpy(), unit="deg").separation(crab) < 0.1 * u.deg
    assert table.num_rows == 20_000 and 0 < int(near.sum()) < 200
    touched = {p.key.split("healpix_k5=")[1].split("/")[0] for p in archive.products
               if "healpix_k5=" in p.key and archive.s3.stats(p.bucket, p.key).bytes > 0}
    assert touched == {"6046"}
    total = sum(archive.s3.stats(p.bucket, p.key).bytes for p in archive.products if "healpix_k5=" in p.key)
    part = next(p for p in archive.products if "healpix_k5=6046/" in p.key)
    assert total < part.path.stat().st_size / 2  # 3 of 17 columns of one partition file
    assert np.all(table["w1mpro"].to_numpy() > 7)


def test_irsas_pattern_schema_from_common_metadata_with_hive_partitions(archive):
    """As IRSA's own notebooks read it: the schema of _common_metadata, partitions typed from it."""
    fs = s3fs.S3FileSystem(anon=True, skip_instance_cache=True)
    schema = pq.read_schema(f"{ROOT}/_common_metadata", filesystem=fs)
    dataset = ds.dataset(ROOT, filesystem=fs, format="parquet", partitioning="hive", schema=schema,
                         exclude_invalid_files=False)
    table = dataset.to_table(columns=["ra", "healpix_k0", "healpix_k5"], filter=ds.field("healpix_k5") == 6046)
    assert table.num_rows == 20_000
    assert set(table["healpix_k0"].to_pylist()) == {6046 >> 10} and set(table["healpix_k5"].to_pylist()) == {6046}
    assert str(table.schema.field("healpix_k5").type) == "int32"
