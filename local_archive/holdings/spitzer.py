"""IRSA's Spitzer Enhanced Imaging Products (SEIP) super mosaics, as ``nasa-irsa-spitzer`` holds them.

Layout [H: IRSA's own SEIP download script (index id 26811589277) and the recorded keys of
irsa-tutorials ``cloud-access-intro``]:
``spitzer/seip/seip_science/images/<d1>/<d2-5>/<SMID>/<last digit of REGID>/<REGID>/``
then ``<SMID>.<REGID>[-short].<INST>.<CH>.<type>.fits``, with ``<type>`` one of mosaic, unc, cov, std,
median_mosaic, median_mosaic_unc, brightmask, extmask,
served over HTTPS at ``https://irsa.ipac.caltech.edu/data/SPITZER/Enhanced/SEIP/images/<same path>``
[H: the URL astroquery's documentation downloads, in its Gentoo package, index id 12836323371].

The held super-mosaic groups are ones the tutorials name: ``60095931-14`` (the COSMOS group IRSA's
SIA v2 answers first at RA 150.01, Dec 2.2), ``40019821-9``/``40019821-19`` (the prefix
cloud-access-intro globs) and ``50059401-10`` (the Crab group the Fornax multiwavelength notebook vets).
Their sky positions are not published with the keys: the centres below are illustrative [L], except
that the COSMOS group covers the tutorials' COSMOS position and the Crab group the Crab.  The images are
small (a few arcmin), at SEIP's pixel scales, with a TAN WCS.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

from .common import CRAB, Product, _fits_bytes, _nebula, _rng, _stamp_sources, _write_atomic

__all__ = ["SEIP_GROUPS", "SEIP_TYPES", "seip_products", "seip_wcs"]

BUCKET = "nasa-irsa-spitzer"
REGION = "us-west-2"  # cloud_access of the recorded SEIP rows (service_formats.md §2)
KEY_PREFIX = "spitzer/seip/seip_science/images/"
URL_PREFIX = "https://irsa.ipac.caltech.edu/data/SPITZER/Enhanced/SEIP/images/"
SEIP_TYPES = ("mosaic", "unc", "cov", "std", "median_mosaic", "median_mosaic_unc", "brightmask", "extmask")
# Pixel scale (arcsec) and image side (px) per instrument: SEIP resamples IRAC to 0.6" and MIPS 24 to 2.45" [M].
_PIXELS = {"IRAC": (0.6, 400), "MIPS": (2.45, 128)}
# (SMID, REGID, centre RA/Dec, [(instrument, channel, short)]); REGID "-short" files are IRAC HDR frames.
SEIP_GROUPS = (
    ("60095931", "60095931-14", (150.0, 2.2), [("IRAC", ch, False) for ch in (1, 2, 3, 4)]),
    ("50059401", "50059401-10", CRAB, [("IRAC", ch, False) for ch in (1, 2, 3, 4)]),
    ("40019821", "40019821-9", (210.8, 54.35),
     [("IRAC", ch, short) for short in (False, True) for ch in (1, 2, 3, 4)] + [("MIPS", 1, False)]),
    ("40019821", "40019821-19", (210.8, 54.35), [("MIPS", 1, False)]),
    # IRSA's SIA v2 answer at RA 314.30417, Dec 77.595559 (irsa-tutorials siav2_seip, recorded output) lists
    # .../40019821/0/40019821-10/40019821.40019821-10-short.IRAC.3.mosaic.fits; its centre is illustrative [L].
    ("40019821", "40019821-10", (314.29, 77.60), [("IRAC", ch, True) for ch in (1, 2, 3, 4)]),
)


def _directory(regid: str) -> str:
    """IRSA's ``outdir``: ``<d1>/<d2..d5>/<SMID>/<last digit>/<REGID>/`` (REGID without ``-short``)."""
    regid = regid.replace("-short", "")
    return f"{regid[0]}/{regid[1:5]}/{regid[:8]}/{regid[-1]}/{regid}/"


def seip_wcs(center: tuple[float, float], instrument: str) -> WCS:
    scale, side = _PIXELS[instrument]
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = list(center)
    wcs.wcs.crpix = [(side + 1) / 2, (side + 1) / 2]
    wcs.wcs.cdelt = [-scale / 3600, scale / 3600]
    return wcs


def _make(name: str, center: tuple[float, float], instrument: str, channel: int, kind: str) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        scale, side = _PIXELS[instrument]
        rng = _rng(f"seip-{name}")
        wcs = seip_wcs(center, instrument)
        if kind in ("brightmask", "extmask"):
            data = np.zeros((side, side), dtype=np.int16)  # nothing masked in these small fields
        elif kind in ("cov",):
            data = np.full((side, side), 20.0, dtype=np.float32)
        elif kind in ("unc", "median_mosaic_unc", "std"):
            data = np.abs(rng.normal(0.02, 0.002, (side, side))).astype(np.float32)
        else:  # a sky in MJy/sr: background, point sources and, where the group covers it, the Crab
            data = rng.normal(0.1 * channel, 0.02, (side, side)).astype(np.float32)
            count = side * side // 800
            _stamp_sources(data, rng.uniform(0, side, count), rng.uniform(0, side, count),
                           (rng.pareto(1.3, count) + 1) * 2.0, sigma=1.8 / scale)
            cx, cy = (float(v) for v in wcs.world_to_pixel_values(*CRAB))
            if 0 <= cx < side and 0 <= cy < side:
                data += _nebula(data.shape, cx, cy, scale_px=60 / scale, peak=40.0 / channel)
        header = wcs.to_header()
        for key, value, comment in (("TELESCOP", "Spitzer", "Spitzer Space Telescope"),
                                    ("INSTRUME", instrument, "Spitzer instrument"),
                                    ("CHNLNUM", channel, "instrument channel"),
                                    ("BUNIT", "MJy/sr" if kind in ("mosaic", "median_mosaic", "unc",
                                                                   "median_mosaic_unc", "std") else "", "")):
            header[key] = (value, comment)
        _write_atomic(path, _fits_bytes(fits.HDUList([fits.PrimaryHDU(data, header=header)])))

    return make


def seip_products() -> list[Product]:
    """Every held SEIP file, with what IRSA's SIA v2 needs in ``meta``."""
    products = []
    for smid, regid, center, channels in SEIP_GROUPS:
        for instrument, channel, short in channels:
            stem = f"{smid}.{regid}{'-short' if short else ''}.{instrument}.{channel}"
            for kind in SEIP_TYPES:
                name = f"{stem}.{kind}.fits"
                rel = _directory(regid) + name
                scale, side = _PIXELS[instrument]
                products.append(Product(
                    "irsa", BUCKET, KEY_PREFIX + rel, REGION, URL_PREFIX + rel, "image/fits",
                    _make(name, center, instrument, channel, kind),
                    meta={"seip": kind, "obs_id": f"{smid}.{regid}{'-short' if short else ''}.{instrument}",
                          "instrument": instrument, "channel": channel, "center": center,
                          "naxis": (side, side), "cdelt": scale / 3600}))
    return products
