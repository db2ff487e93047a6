"""IRSA's HEALPix-partitioned Parquet catalogs, as the local archive holds them.

The AllWISE source catalog lives in ``nasa-irsa-wise`` under
``wise/allwise/catalogs/p3as_psd/healpix_k5/wise-allwise.parquet/`` as Hive
partitions ``healpix_k0=<n>/healpix_k5=<m>/part0.snappy.parquet`` (HEALPix order
5, nested), with ``_common_metadata`` (the schema, with units and descriptions)
and ``_metadata`` (every row group's statistics).  The local archive holds the
partitions within 1.5 deg of the Crab, with synthetic sources.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .data import CRAB, Product, _rng

__all__ = ["allwise_catalog_products", "CATALOG_PREFIX", "COLUMNS"]

CATALOG_PREFIX = "wise/allwise/catalogs/p3as_psd/healpix_k5/wise-allwise.parquet"
ORDER = 5
SOURCES_PER_PIXEL = 20_000
# name: (type, unit, description) for a subset of the AllWISE source table's columns
COLUMNS = {
    "designation": ("string", "", "WISE source designation"),
    "ra": ("float64", "deg", "right ascension (J2000)"),
    "dec": ("float64", "deg", "declination (J2000)"),
    "sigra": ("float32", "arcsec", "uncertainty in RA"),
    "sigdec": ("float32", "arcsec", "uncertainty in Dec"),
    "cntr": ("int64", "", "unique identification number for this object"),
    "w1mpro": ("float32", "mag", "W1 magnitude measured with profile-fitting photometry"),
    "w1sigmpro": ("float32", "mag", "W1 profile-fit photometric measurement uncertainty"),
    "w1snr": ("float32", "", "W1 profile-fit measurement signal-to-noise ratio"),
    "w2mpro": ("float32", "mag", "W2 magnitude measured with profile-fitting photometry"),
    "w2sigmpro": ("float32", "mag", "W2 profile-fit photometric measurement uncertainty"),
    "w2snr": ("float32", "", "W2 profile-fit measurement signal-to-noise ratio"),
    "w3mpro": ("float32", "mag", "W3 magnitude measured with profile-fitting photometry"),
    "w4mpro": ("float32", "mag", "W4 magnitude measured with profile-fitting photometry"),
    "cc_flags": ("string", "", "contamination and confusion flags"),
    "ext_flg": ("int32", "", "extended source flag"),
    "ph_qual": ("string", "", "photometric quality of each band (A-U, X, Z)"),
}


def _pixels() -> list[int]:
    import astropy.units as u
    from astropy_healpix import HEALPix

    healpix = HEALPix(nside=2**ORDER, order="nested")
    return sorted(int(p) for p in healpix.cone_search_lonlat(CRAB[0] * u.deg, CRAB[1] * u.deg, 1.5 * u.deg))


def _sources(pixel: int) -> dict[str, np.ndarray]:
    import astropy.units as u
    from astropy_healpix import HEALPix

    healpix = HEALPix(nside=2**ORDER, order="nested")
    rng = _rng(f"allwise-{pixel}")
    lon, lat = healpix.healpix_to_lonlat(pixel)
    ra_list, dec_list = [], []
    while sum(len(r) for r in ra_list) < SOURCES_PER_PIXEL:
        ra = lon.to_value(u.deg) + rng.uniform(-2.5, 2.5, 60_000) / np.cos(lat.to_value(u.rad))
        dec = lat.to_value(u.deg) + rng.uniform(-2.5, 2.5, 60_000)
        inside = healpix.lonlat_to_healpix(ra * u.deg, dec * u.deg) == pixel
        ra_list.append(ra[inside] % 360)
        dec_list.append(dec[inside])
    ra = np.concatenate(ra_list)[:SOURCES_PER_PIXEL]
    dec = np.concatenate(dec_list)[:SOURCES_PER_PIXEL]
    order = np.argsort(dec)
    ra, dec = ra[order], dec[order]
    n = ra.size
    w1 = rng.uniform(8.0, 17.5, n).astype(np.float32)
    colour = rng.normal(0.1, 0.15, n).astype(np.float32)
    snr = (10 ** ((17.5 - w1) / 2.5) * 5).astype(np.float32)
    designation = [f"J{r / 15:09.6f}{'+' if d >= 0 else '-'}{abs(d):08.5f}".replace(".", "")
                   for r, d in zip(ra, dec, strict=True)]
    return {
        "designation": np.array(designation, dtype=object),
        "ra": ra, "dec": dec,
        "sigra": rng.uniform(0.04, 0.4, n).astype(np.float32),
        "sigdec": rng.uniform(0.04, 0.4, n).astype(np.float32),
        "cntr": np.int64(pixel) * 1_000_000 + np.arange(n, dtype=np.int64),
        "w1mpro": w1, "w1sigmpro": (1.0857 / snr).astype(np.float32), "w1snr": snr,
        "w2mpro": w1 - colour, "w2sigmpro": (1.3 / snr).astype(np.float32), "w2snr": snr / 1.2,
        "w3mpro": (w1 - colour - rng.uniform(0.0, 3.0, n)).astype(np.float32),
        "w4mpro": (w1 - colour - rng.uniform(0.5, 5.0, n)).astype(np.float32),
        "cc_flags": np.array(["0000"] * n, dtype=object),
        "ext_flg": rng.choice(np.array([0, 0, 0, 1, 5], dtype=np.int32), n),
        "ph_qual": np.array(["AAUU"] * n, dtype=object),
    }


def _schema():
    import pyarrow as pa

    # IRSA's field metadata keys are "units" and "description" (shared/notes/service_formats.md §11,
    # from irsa-tutorials' wise-allwise-catalog-demo).
    fields = [pa.field(name, pa.string() if kind == "string" else pa.from_numpy_dtype(np.dtype(kind)),
                       metadata={"units": unit, "description": text})
              for name, (kind, unit, text) in COLUMNS.items()]
    return pa.schema(fields + [pa.field("healpix_k0", pa.int32()), pa.field("healpix_k5", pa.int32())])


def _write_catalog(root: Path) -> None:
    """Write every partition, then ``_common_metadata`` and ``_metadata`` (written last: the marker)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _schema()
    collected = []
    for pixel in _pixels():
        columns = _sources(pixel)
        columns["healpix_k0"] = np.full(len(columns["ra"]), pixel >> (2 * ORDER), dtype=np.int32)
        columns["healpix_k5"] = np.full(len(columns["ra"]), pixel, dtype=np.int32)
        table = pa.table(columns, schema=schema)
        rel = f"healpix_k0={pixel >> (2 * ORDER)}/healpix_k5={pixel}/part0.snappy.parquet"
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        data_columns = table.drop_columns(["healpix_k0", "healpix_k5"])  # kept in the path, as Hive does
        pq.write_table(data_columns, path, compression="snappy", row_group_size=5000,
                       metadata_collector=collected)
        collected[-1].set_file_path(rel)
    file_schema = schema.remove(schema.get_field_index("healpix_k5")).remove(schema.get_field_index("healpix_k0"))
    # IRSA's _common_metadata carries the partition columns too (service_formats.md §11), so that
    # ds.dataset(..., schema=pq.read_schema(_common_metadata), partitioning="hive") types them;
    # _metadata must match the files' row groups, which hold no partition columns.
    pq.write_metadata(schema, root / "_common_metadata")
    tmp = root / f"._metadata.{os.getpid()}"
    pq.write_metadata(file_schema, tmp, metadata_collector=collected)
    os.replace(tmp, root / "_metadata")


def allwise_catalog_products() -> list[Product]:
    """One product per file of the catalog (all written by the first that is missing)."""

    def make(path: Path) -> None:
        root = Path(str(path).split(CATALOG_PREFIX)[0]) / CATALOG_PREFIX
        if not (root / "_metadata").exists():
            _write_catalog(root)

    names = ["_common_metadata", "_metadata"] + [
        f"healpix_k0={p >> (2 * ORDER)}/healpix_k5={p}/part0.snappy.parquet" for p in _pixels()]
    return [Product("irsa", "nasa-irsa-wise", f"{CATALOG_PREFIX}/{name}", "us-west-2",
                    f"https://nasa-irsa-wise.s3.us-west-2.amazonaws.com/{CATALOG_PREFIX}/{name}",
                    "application/vnd.apache.parquet", make, meta={"catalog": "allwise"})
            for name in names]
