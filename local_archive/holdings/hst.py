"""MAST's Hubble holdings towards the Crab: drizzled images in ``stpubdata`` and their CAOM records.

Two observations (an ACS/WFC association and a WFC3/IR association) with the products MAST lists for
them.  The drizzled images are generated (small fields, real extension layout and WCS); the other
products (raw and calibrated exposures, support files) are listed with plausible sizes but their bytes
are not held, so ``path_lookup`` knows their path while the bucket answers 404 for them, which is what
astroquery reports for any product not in the cloud.  Proposal, PI, times and the second observation's
identifiers are illustrative; ``jc6801010`` is the observation the Fornax notebook vets for the Crab
(upstream fornax_multiwavelength_image/code_src/archive_queries.py, ``VETTED_OBS``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

from .common import CRAB, Product, _fits_bytes, _nebula, _rng, _stamp_sources, _write_atomic

__all__ = ["HST_OBSERVATIONS", "hst_key", "hst_product_rows", "hst_products"]

MAST_DOWNLOAD = "https://mast.stsci.edu/api/v0.1/Download/file?uri="

# One entry per association.  Columns are CAOM's (mast.py OBS_COLUMNS); ``_image`` describes the
# drizzled image: (instrument, detector, pixel scale "/px, shape, orientation deg, members, filter keys).
HST_OBSERVATIONS: list[dict[str, Any]] = [
    {
        "intentType": "science", "obs_collection": "HST", "provenance_name": "CALACS", "instrument_name": "ACS/WFC",
        "project": "HST", "filters": "F550M", "wavelength_region": "OPTICAL", "target_name": "CRAB-NEBULA",
        "target_classification": "ISM;SUPERNOVA REMNANT", "obs_id": "jc6801010", "dataproduct_type": "image",
        "proposal_pi": "Hester, J. Jeff", "calib_level": 3, "t_min": 56234.40213, "t_max": 56234.42811,
        "t_exptime": 1380.0, "em_min": 530.0, "em_max": 586.0, "obs_title": "The Crab Nebula pulsar wind",
        "t_obs_release": 56599.0, "proposal_id": "13001", "proposal_type": "GO", "sequence_number": None,
        "dataRights": "PUBLIC", "mtFlag": False, "srcDen": None, "obsid": "24140851", "objID": "144510232",
        "_image": {"instrument": "ACS", "detector": "WFC", "scale": 0.05, "shape": (1000, 1000), "orient": 32.0,
                   "members": ("jc6801i4q", "jc6801i6q"), "keys": {"FILTER1": "F550M", "FILTER2": "CLEAR2L"},
                   "bunit": "ELECTRONS/S", "drc": True, "photflam": 3.9e-19, "photplam": 5581.2},
    },
    {
        "intentType": "science", "obs_collection": "HST", "provenance_name": "CALWF3", "instrument_name": "WFC3/IR",
        "project": "HST", "filters": "F160W", "wavelength_region": "INFRARED", "target_name": "CRAB-NEBULA",
        "target_classification": "ISM;SUPERNOVA REMNANT", "obs_id": "icb902010", "dataproduct_type": "image",
        "proposal_pi": "Hester, J. Jeff", "calib_level": 3, "t_min": 56240.11942, "t_max": 56240.13105,
        "t_exptime": 905.88, "em_min": 1400.0, "em_max": 1700.0, "obs_title": "The Crab Nebula pulsar wind",
        "t_obs_release": 56605.0, "proposal_id": "13001", "proposal_type": "GO", "sequence_number": None,
        "dataRights": "PUBLIC", "mtFlag": False, "srcDen": None, "obsid": "24140866", "objID": "144510247",
        "_image": {"instrument": "WFC3", "detector": "IR", "scale": 0.1283, "shape": (560, 560), "orient": 32.0,
                   "members": ("icb902a3q", "icb902a5q"), "keys": {"FILTER": "F160W"},
                   "bunit": "ELECTRONS/S", "drc": False, "photflam": 1.9e-20, "photplam": 15369.2},
    },
]

# Products MAST lists per file suffix: (description, productType, MRP?, size of a file not held).
# Descriptions follow the recorded Mast.Caom.Products answer (shared/fixtures/.../products.json).
_SUFFIXES = {
    "asn": ("DADS ASN file - Association ACS/WFC3/STIS", "AUXILIARY", False, None),
    "drz": ("DADS DRZ file - Calibrated combined image ACS/WFC3/WFPC2/STIS", "SCIENCE", True, None),
    "drc": ("DADS DRC file - CTE-corrected calibrated combined image ACS/WFC3/UVIS", "SCIENCE", True, None),
    "trl": ("DADS TRL file - Processing log", "AUXILIARY", False, 63360),
    "raw": ("DADS RAW file - Raw exposure ACS/WFC3/STIS/COS", "SCIENCE", False, 2194560),
    "flt": ("DADS FLT file - Calibrated exposure ACS/WFC3/STIS/COS", "SCIENCE", False, 10483200),
    "flc": ("DADS FLC file - CTE-corrected calibrated exposure ACS/WFC3/UVIS", "SCIENCE", False, 10483200),
    "spt": ("DADS SPT file - Support file ACS/WFC3/STIS/COS", "AUXILIARY", False, 40320),
}


def hst_key(filename: str) -> str:
    """The ``stpubdata`` key of an HST file: ``hst/public/<first 4 of the rootname>/<rootname>/<file>``.

    As MAST's ``path_lookup`` answers (shared/fixtures/.../mast_relative_path.json:
    ``/hst/public/u9o4/u9o40504m/u9o40504m_c3m.fits``) and astroquery's remote tests expect
    (``s3://stpubdata/hst/public/u24r/u24r0102t/u24r0102t_c1f.fits``).
    """
    root = filename.split("_")[0].lower()
    return f"hst/public/{root[:4]}/{root}/{filename}"


def _wcs(obs: dict[str, Any]) -> WCS:
    """A TAN WCS with a CD matrix (as drizzlepac writes), north rotated by the image's orientation."""
    image = obs["_image"]
    ny, nx = image["shape"]
    scale = image["scale"] / 3600.0
    theta = np.radians(image["orient"])
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [CRAB[0] + 0.0011, CRAB[1] - 0.0007]  # the pointing is a few arcsec off the pulsar
    wcs.wcs.crpix = [(nx + 1) / 2.0, (ny + 1) / 2.0]
    wcs.wcs.cd = [[-scale * np.cos(theta), scale * np.sin(theta)], [scale * np.sin(theta), scale * np.cos(theta)]]
    wcs.wcs.radesys = "ICRS"
    return wcs


def footprint(obs: dict[str, Any]) -> list[tuple[float, float]]:
    """The four corners (RA, Dec) of an observation's drizzled image."""
    ny, nx = obs["_image"]["shape"]
    corners = np.array([[0.5, 0.5], [nx + 0.5, 0.5], [nx + 0.5, ny + 0.5], [0.5, ny + 0.5]])
    return [(float(ra), float(dec)) for ra, dec in _wcs(obs).all_pix2world(corners, 1)]


def _primary(obs: dict[str, Any], filename: str) -> fits.PrimaryHDU:
    image = obs["_image"]
    hdu = fits.PrimaryHDU()
    cards = [
        ("DATE", "2012-11-20"), ("FILENAME", filename), ("FILETYPE", "SCI"), ("TELESCOP", "HST"),
        ("INSTRUME", image["instrument"]), ("DETECTOR", image["detector"]), ("ROOTNAME", obs["obs_id"]),
        ("PRIMESI", image["instrument"]), ("TARGNAME", obs["target_name"]), ("RA_TARG", CRAB[0]),
        ("DEC_TARG", CRAB[1]), ("PROPOSID", int(obs["proposal_id"])), ("PR_INV_L", obs["proposal_pi"].split(",")[0]),
        *image["keys"].items(), ("EXPTIME", obs["t_exptime"]), ("EXPSTART", obs["t_min"]), ("EXPEND", obs["t_max"]),
        ("ASN_ID", obs["obs_id"].upper()), ("ASN_TAB", f"{obs['obs_id']}_asn.fits"), ("NEXTEND", 4),
        ("PHOTMODE", f"{image['instrument']} {image['detector']} {obs['filters']}"),
        ("PHOTFLAM", image["photflam"]), ("PHOTPLAM", image["photplam"]),
    ]
    for key, value in cards:
        hdu.header[key] = value
    return hdu


def _hdrtab(obs: dict[str, Any]) -> fits.BinTableHDU:
    """The table of input exposure headers drizzlepac appends to its products."""
    members = obs["_image"]["members"]
    exptime = obs["t_exptime"] / len(members)
    table = fits.BinTableHDU.from_columns([
        fits.Column("ROOTNAME", "9A", array=list(members)),
        fits.Column("EXPTIME", "D", array=[exptime] * len(members)),
        fits.Column("EXPSTART", "D", array=[obs["t_min"] + i * 0.01 for i in range(len(members))]),
    ])
    table.header["EXTNAME"] = "HDRTAB"
    return table


def _make_drizzled(obs: dict[str, Any], suffix: str) -> Callable[[Path], None]:
    """A ``_drz``/``_drc`` file: PRIMARY, SCI (float32 e-/s), WHT (float32), CTX (int32), HDRTAB."""

    def make(path: Path) -> None:
        image = obs["_image"]
        ny, nx = image["shape"]
        rng = _rng(f"hst-{obs['obs_id']}-{suffix}")
        wcs = _wcs(obs)
        cx, cy = (float(v) for v in wcs.world_to_pixel_values(*CRAB))
        sci = rng.standard_normal((ny, nx), dtype=np.float32) * np.float32(0.004)
        sci += _nebula((ny, nx), cx, cy, scale_px=60 / image["scale"], peak=0.6)
        count = 60
        x, y = rng.uniform(0, nx, count), rng.uniform(0, ny, count)
        _stamp_sources(sci, x, y, (rng.pareto(1.3, count) + 1) * 40.0, sigma=0.08 / image["scale"] + 0.8)
        _stamp_sources(sci, np.array([cx]), np.array([cy]), np.array([900.0]), sigma=1.5)  # the pulsar
        header = wcs.to_header()
        header["BUNIT"] = image["bunit"]
        header["ORIENTAT"] = image["orient"]
        header["EXTVER"] = 1
        wht = np.full((ny, nx), obs["t_exptime"], dtype=np.float32)
        wht[:, : nx // 40] *= np.float32(0.5)  # the dither leaves a strip covered by one exposure
        ctx = np.full((ny, nx), (1 << len(image["members"])) - 1, dtype=np.int32)
        hdus = [_primary(obs, path.name)]
        for name, data in (("SCI", sci), ("WHT", wht), ("CTX", ctx)):
            hdu = fits.ImageHDU(data, header=header, name=name)
            hdus.append(hdu)
        hdus.append(_hdrtab(obs))
        _write_atomic(path, _fits_bytes(fits.HDUList(hdus)))

    return make


def _make_asn(obs: dict[str, Any]) -> Callable[[Path], None]:
    """An association table: MEMNAME / MEMTYPE / MEMPRSNT, exposures then the product."""

    def make(path: Path) -> None:
        members = [m.upper() for m in obs["_image"]["members"]]
        names = [*members, obs["obs_id"].upper()]
        types = ["EXP-DTH"] * len(members) + ["PROD-DTH"]
        table = fits.BinTableHDU.from_columns([
            fits.Column("MEMNAME", "14A", array=names), fits.Column("MEMTYPE", "14A", array=types),
            fits.Column("MEMPRSNT", "L", array=[True] * len(names)),
        ])
        table.header["EXTNAME"] = "ASN"
        _write_atomic(path, _fits_bytes(fits.HDUList([_primary(obs, path.name), table])))

    return make


def _held_suffixes(obs: dict[str, Any]) -> tuple[str, ...]:
    return ("asn", "drz", "drc") if obs["_image"]["drc"] else ("asn", "drz")


def hst_products() -> list[Product]:
    """The HST files the local archive holds: per association its ASN table and drizzled images."""
    products = []
    for obs in HST_OBSERVATIONS:
        for suffix in _held_suffixes(obs):
            name = f"{obs['obs_id']}_{suffix}.fits"
            make = _make_asn(obs) if suffix == "asn" else _make_drizzled(obs, suffix)
            products.append(Product("hst", "stpubdata", hst_key(name), "us-east-1",
                                    f"{MAST_DOWNLOAD}mast:HST/product/{name}", "image/fits", make,
                                    meta={"mission": "HST", "filename": name, "obs_id": obs["obs_id"],
                                          "data_uri": f"mast:HST/product/{name}",
                                          "mast_path": "/" + hst_key(name)}))
    return products


def hst_product_rows(obs: dict[str, Any], held_sizes: dict[str, int]) -> list[dict[str, Any]]:
    """Every product MAST lists for an association (``Mast.Caom.Products`` rows), held files with their size."""
    rows = []
    files = [(obs["obs_id"], obs["obsid"], s) for s in (*_held_suffixes(obs), "trl")]
    for i, member in enumerate(obs["_image"]["members"]):
        for suffix in ("raw", "flt", "flc", "spt", "trl") if obs["_image"]["drc"] else ("raw", "flt", "spt", "trl"):
            files.append((member, str(int(obs["obsid"]) + 1 + i), suffix))
    for obs_id, obsid, suffix in files:
        description, product_type, mrp, size = _SUFFIXES[suffix]
        name = f"{obs_id}_{suffix}.fits"
        uri = f"mast:HST/product/{name}"
        rows.append({
            "obsID": obsid, "obs_collection": "HST", "dataproduct_type": "image", "obs_id": obs_id,
            "description": description, "type": "S", "dataURI": uri,  # 'S' throughout the recorded answer
            "productType": product_type,
            "productGroupDescription": "Minimum Recommended Products" if mrp else None,
            "productSubGroupDescription": suffix.upper(), "productDocumentationURL": None, "project": "HST",
            "prvversion": None, "proposal_id": obs["proposal_id"], "productFilename": name,
            "size": held_sizes.get(uri, size), "parent_obsid": obs["obsid"], "dataRights": "PUBLIC",
            "calib_level": 3 if suffix in ("drz", "drc") else (1 if suffix == "raw" else 2),
            "filters": obs["filters"],
        })
    return rows
