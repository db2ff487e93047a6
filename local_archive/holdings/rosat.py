"""HEASARC's holdings: the ROSAT PSPC events file rs931315n00_bas.fits.Z (Unix compress)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

from .common import CRAB, Product, _fits_bytes, _heasarc, _rng, _write_atomic

ROSAT_SEQ = "rs931315n00"
ROSAT_CENTER = (83.8, 22.2)


def _make_rosat(path: Path) -> None:
    import ncompress  # the reference Unix ``compress`` (LZW) code

    rng = _rng("rosat")
    tcrpx, tcdlt = 7680.5, 1.388889e-04  # 0.5 arcsec sky pixels, 15360 wide
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = list(ROSAT_CENTER)
    wcs.wcs.crpix = [tcrpx, tcrpx]
    wcs.wcs.cdelt = [-tcdlt, tcdlt]
    crab_x, crab_y = (float(v) + 1 for v in wcs.world_to_pixel_values(*CRAB))
    n_bkg, n_crab, n_src = 180_000, 160_000, 60_000
    xs = [rng.uniform(1, 15360, n_bkg), rng.normal(crab_x, 70, n_crab)]
    ys = [rng.uniform(1, 15360, n_bkg), rng.normal(crab_y, 55, n_crab)]
    centers = rng.uniform(1500, 13800, (25, 2))
    which = rng.integers(0, 25, n_src)
    xs.append(rng.normal(centers[which, 0], 40))
    ys.append(rng.normal(centers[which, 1], 40))
    x = np.clip(np.concatenate(xs), 1, 15360).astype(np.int32)
    y = np.clip(np.concatenate(ys), 1, 15360).astype(np.int32)
    n = x.size
    order = rng.permutation(n)
    x, y = x[order], y[order]
    time = np.sort(rng.uniform(4.6e7, 4.6e7 + 2.1e4, n))
    pha = rng.integers(1, 257, n).astype(np.int16)
    pi = np.clip(pha + rng.integers(-4, 5, n), 1, 256).astype(np.int16)
    dx = rng.integers(1, 8192, n).astype(np.int16)
    dy = rng.integers(1, 8192, n).astype(np.int16)
    events = fits.BinTableHDU.from_columns(
        [
            fits.Column(name="X", format="J", unit="pixel", array=x),
            fits.Column(name="Y", format="J", unit="pixel", array=y),
            fits.Column(name="PHA", format="I", unit="chan", array=pha),
            fits.Column(name="PI", format="I", unit="chan", array=pi),
            fits.Column(name="TIME", format="D", unit="s", array=time),
            fits.Column(name="DX", format="I", unit="pixel", array=dx),
            fits.Column(name="DY", format="I", unit="pixel", array=dy),
        ],
        name="STDEVT",
    )
    for axis, col in ((1, 1), (2, 2)):
        events.header[f"TCTYP{col}"] = "RA---TAN" if axis == 1 else "DEC--TAN"
        events.header[f"TCRPX{col}"] = tcrpx
        events.header[f"TCRVL{col}"] = ROSAT_CENTER[axis - 1]
        events.header[f"TCDLT{col}"] = -tcdlt if axis == 1 else tcdlt
        events.header[f"TLMIN{col}"] = 1
        events.header[f"TLMAX{col}"] = 15360

    def gti(name: str) -> fits.BinTableHDU:
        start = np.array([4.6e7, 4.6e7 + 1.1e4])
        return fits.BinTableHDU.from_columns(
            [
                fits.Column(name="START", format="D", unit="s", array=start),
                fits.Column(name="STOP", format="D", unit="s", array=start + 1.0e4),
            ],
            name=name,
        )

    rejected = fits.BinTableHDU.from_columns(events.columns, nrows=5000, name="REJEVT")
    primary = fits.PrimaryHDU()
    for key, value in [
        ("TELESCOP", "ROSAT"),
        ("INSTRUME", "PSPCC"),
        ("OBS_MODE", "SURVEY"),
        ("OBJECT", "RASS field"),
        ("RA_NOM", ROSAT_CENTER[0]),
        ("DEC_NOM", ROSAT_CENTER[1]),
    ]:
        primary.header[key] = value
    raw = _fits_bytes(fits.HDUList([primary, gti("STDGTI"), events, gti("ALLGTI"), rejected]))
    _write_atomic(path, ncompress.compress(raw))


def rosat_products() -> list[Product]:
    rel = f"rosat/data/pspc/processed_data/900000/{ROSAT_SEQ}/{ROSAT_SEQ}_bas.fits.Z"
    return [_heasarc(rel, "application/x-compress", _make_rosat, {"sequence": ROSAT_SEQ})]

