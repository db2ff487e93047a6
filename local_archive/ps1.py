"""MAST's holdings: the Pan-STARRS stack skycell 1784.059 (g, r, i, z, y)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

from .data import CRAB, Product, _fits_bytes, _nebula, _rng, _stamp_sources, _write_atomic

PS1_SKYCELL = "1784.059"
PS1_SHAPE = (6261, 6279)  # (ny, nx)
PS1_BANDS = "grizy"
PS1_BZERO, PS1_BSCALE = 3.452766656876, 2.021578472030e-04


def ps1_wcs() -> WCS:
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [85.7142791747971, 21.9999999999992]
    wcs.wcs.crpix = [-22955.0, 242.0]
    wcs.wcs.cdelt = [-6.94444461259988e-05, 6.94444461259988e-05]
    return wcs


def _make_ps1(band: str) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        rng = _rng(f"ps1-{band}")
        ny, nx = PS1_SHAPE
        image = rng.standard_normal((ny, nx), dtype=np.float32) * np.float32(0.35)
        count = 9000
        x, y = rng.uniform(0, nx, count), rng.uniform(0, ny, count)
        _stamp_sources(image, x, y, (rng.pareto(1.2, count) + 1) * 60.0, sigma=4.0)
        cx, cy = (float(v) for v in ps1_wcs().world_to_pixel_values(*CRAB))
        x0, y0 = max(int(cx) - 1000, 0), max(int(cy) - 1000, 0)
        window = image[y0 : int(cy) + 1000, x0 : int(cx) + 1000]
        window += _nebula(window.shape, cx - x0, cy - y0, scale_px=60 / 0.25, peak=2.5)
        np.clip(image, -3.0, 9.9, out=image)
        stored = np.round((image - PS1_BZERO) / PS1_BSCALE).astype(np.int16)
        header = ps1_wcs().to_header()
        for key, value in [
            ("BSOFTEN", 7.150399587024e01),
            ("BOFFSET", 3.232116937637e00),
            ("EXPTIME", 602.0),
            ("MJD-OBS", 56248.1392616439),
            ("SKYCELL", f"skycell.{PS1_SKYCELL}"),
            ("TESS_ID", "RINGS.V3"),
            ("PSCAMERA", "GPC1"),
            ("PSFORMAT", "SKYCELL"),
            ("IMAGEID", 4363018),
            ("NINPUTS", 14),
            ("STK_TYPE", "DEEP_STACK"),
            ("HIERARCH FPA.ZP", 25.0),
            ("HIERARCH FPA.FILTER", f"{band}.00000"),
            ("HIERARCH CELL.TRIMSEC", f"[1:{nx},1:{ny}]"),
        ]:
            header[key] = value
        hdu = fits.CompImageHDU(stored, header=header, compression_type="RICE_1", tile_shape=(1, nx))
        hdu.header["BZERO"] = PS1_BZERO
        hdu.header["BSCALE"] = PS1_BSCALE
        hdu.header["BLANK"] = 32767
        primary = fits.PrimaryHDU()
        primary.header["BITPIX"] = 16
        _write_atomic(path, _fits_bytes(fits.HDUList([primary, hdu])))

    return make


def ps1_products() -> list[Product]:
    projection, cell = PS1_SKYCELL.split(".")
    products = []
    for band in PS1_BANDS:
        name = f"rings.v3.skycell.{PS1_SKYCELL}.stk.{band}.unconv.fits"
        key = f"panstarrs/ps1/public/rings.v3.skycell/{projection}/{cell}/{name}"
        products.append(
            Product(
                "mast",
                "stpubdata",
                key,
                "us-east-1",
                f"https://mast.stsci.edu/api/v0.1/Download/file?uri=mast:PS1/product/{name}",
                "image/fits",
                _make_ps1(band),
                meta={
                    "band": band,
                    "filename": name,
                    "data_uri": f"mast:PS1/product/{name}",
                    "mast_path": f"/ps1/rings.v3.skycell/{projection}/{cell}/{name}",
                },
            )
        )
    return products


