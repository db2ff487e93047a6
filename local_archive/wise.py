"""IRSA's holdings: the AllWISE Atlas tile 0830p227_ac51 (four bands)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

from .data import CRAB, IRSA_IBE, Product, _fits_bytes, _nebula, _rng, _stamp_sources, _write_atomic

WISE_TILE = "0830p227_ac51"
WISE_CENTER = (83.076923, 22.716667)
WISE_CDELT = 0.0003819444391411
WISE_BANDS = {  # band: (WAVELEN um, MAGZP, MAGZPUNC, sky DN, sia_bp_ref, sia_bp_hi, sia_bp_lo)
    1: (3.368, 20.5, 0.006, 15.0, 3.35e-06, 3.78e-06, 3.13e-06),
    2: (4.618, 19.5, 0.007, 25.0, 4.6e-06, 5.19e-06, 4.02e-06),
    3: (12.082, 18.0, 0.012, 400.0, 1.156e-05, 1.627e-05, 7.6e-06),
    4: (22.194, 13.0, 0.012, 150.0, 2.209e-05, 2.336e-05, 1.984e-05),
}


def wise_wcs() -> WCS:
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---SIN", "DEC--SIN"]
    wcs.wcs.crval = list(WISE_CENTER)
    wcs.wcs.crpix = [2048.0, 2048.0]
    wcs.wcs.cdelt = [-WISE_CDELT, WISE_CDELT]
    return wcs


def _make_wise(band: int) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        wavelen, magzp, magzpunc, sky, *_ = WISE_BANDS[band]
        rng = _rng(f"wise-{band}")
        n = 4095
        image = rng.standard_normal((n, n), dtype=np.float32) * np.float32(0.08 * sky**0.5 + 2.0)
        image += np.float32(sky)
        count = 6000
        x, y = rng.uniform(0, n, count), rng.uniform(0, n, count)
        flux = (rng.pareto(1.3, count) + 1) * 400.0
        _stamp_sources(image, x, y, flux, sigma=2.6 + 0.6 * band)
        cx, cy = (float(v) for v in wise_wcs().world_to_pixel_values(*CRAB))
        x0, y0 = int(cx) - 300, max(int(cy) - 300, 0)
        window = image[y0 : int(cy) + 300, x0 : int(cx) + 300]
        window += _nebula(window.shape, cx - x0, cy - y0, scale_px=60 / 1.375, peak=250.0 * (1 + 0.3 * band))
        header = wise_wcs().to_header()
        cards = [
            ("FILETYPE", "intensity image", "single-band intensity image"),
            ("TELESCOP", "WISE", "Wide-field Infrared Survey Explorer"),
            ("BAND", band, "WISE band number"),
            ("WAVELEN", wavelen, "[microns] effective wavelength of band"),
            ("COADDID", WISE_TILE, "Atlas Tile coadd ID"),
            ("MAGZP", magzp, "[mag] relative photometric zero point"),
            ("MAGZPUNC", magzpunc, "[mag] 1-sigma uncertainty in zero point"),
            ("BUNIT", "DN", "image pixel units"),
            ("CROTA2", 0.0, "[deg] rotation angle"),
            ("EQUINOX", 2000.0, "equinox of the WCS"),
            ("MEDINT", float(np.median(image[::4, ::4])), "[DN] median of intensity pixels"),
        ]
        for key, value, comment in cards:
            header[key] = (value, comment)
        _write_atomic(path, _fits_bytes(fits.HDUList([fits.PrimaryHDU(image, header=header)])))

    return make


def wise_products() -> list[Product]:
    products = []
    for band in WISE_BANDS:
        name = f"{WISE_TILE}-w{band}-int-3.fits"
        rel = f"{WISE_TILE[:2]}/{WISE_TILE[:4]}/{WISE_TILE}/{name}"
        products.append(
            Product(
                "irsa",
                "nasa-irsa-wise",
                f"wise/allwise/images/p3am_cdd/{rel}",
                "us-west-2",
                IRSA_IBE + rel,
                "image/fits",
                _make_wise(band),
                meta={
                    "band": band,
                    "coadd_id": WISE_TILE,
                    "center": WISE_CENTER,
                    "naxis": (4095, 4095),
                    "cdelt": WISE_CDELT,
                },
            )
        )
    return products


