"""HEASARC's holdings: Chandra images of the Crab."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

from .data import Product, _fits_bytes, _heasarc, _nebula, _rng, _stamp_sources, _write_atomic

CHANDRA_OBS = [  # obsid, detector, exposure (s), processing version (illustrative stand-ins)
    (13139, "ACIS-S", 9900.0, 2),
    (13140, "ACIS-S", 10100.0, 2),
    (758, "HRC-S", 20300.0, 3),
]
CHANDRA_IMAGES = {  # kind: (title, arcsec per pixel)
    "cntr_img2": ("Center Image", 0.492),
    "full_img2": ("Full Image", 4.92),
}


def chandra_wcs(scale_arcsec: float) -> WCS:
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [83.6332, 22.0145]
    wcs.wcs.crpix = [512.5, 512.5]
    wcs.wcs.cdelt = [-scale_arcsec / 3600, scale_arcsec / 3600]
    wcs.wcs.radesys = "ICRS"
    return wcs


def _make_chandra(obsid: int, detector: str, exposure: float, kind: str) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        title, scale = CHANDRA_IMAGES[kind]
        rng = _rng(f"chandra-{obsid}-{kind}")
        model = np.full((1024, 1024), 0.05 * scale, dtype=np.float32)
        model += _nebula(model.shape, 511.5, 511.5, scale_px=60 / scale, peak=30.0 * (0.492 / scale) ** -1.2)
        _stamp_sources(model, np.array([511.5]), np.array([511.5]), np.array([4.0e4]), sigma=max(1.2, 1.0 / scale))
        x, y = rng.uniform(0, 1024, 40), rng.uniform(0, 1024, 40)
        _stamp_sources(model, x, y, rng.uniform(20, 400, 40), sigma=max(1.2, 1.0 / scale))
        counts = rng.poisson(model * exposure / 1e4).astype(np.int32)
        header = chandra_wcs(scale).to_header()
        for key, value in [
            ("TELESCOP", "CHANDRA"),
            ("INSTRUME", detector.split("-")[0]),
            ("DETNAM", detector),
            ("OBS_ID", str(obsid)),
            ("OBJECT", "Crab Nebula"),
            ("EXPOSURE", exposure),
            ("BUNIT", "counts"),
            ("CONTENT", title.upper()),
            ("EQUINOX", 2000.0),
        ]:
            header[key] = value
        raw = _fits_bytes(fits.HDUList([fits.PrimaryHDU(counts, header=header)]))
        _write_atomic(path, gzip.compress(raw, compresslevel=6, mtime=0))

    return make


def chandra_products() -> list[Product]:
    products = []
    for obsid, detector, exposure, version in CHANDRA_OBS:
        prefix = "acisf" if detector.startswith("ACIS") else "hrcf"
        for kind, (title, scale) in CHANDRA_IMAGES.items():
            name = f"{prefix}{obsid:05d}N{version:03d}_{kind}.fits.gz"
            rel = f"chandra/data/byobsid/{str(obsid)[-1]}/{obsid}/primary/{name}"
            products.append(
                _heasarc(
                    rel,
                    "application/fits",
                    _make_chandra(obsid, detector, exposure, kind),
                    {
                        "obsid": obsid,
                        "detector": detector,
                        "exposure": exposure,
                        "title": title,
                        "scale_deg": scale / 3600,
                        "name": "Crab Nebula",
                        "filename": name,
                    },
                )
            )
    return products


