"""HEASARC's Swift holdings: UVOT sky images and an XRT event file of the Crab.

The archive layout is ``swift/data/obs/<yyyy_mm>/<obsid>/<instrument>/...`` over HTTPS
(``/FTP/swift/...``) and in ``s3://nasa-heasarc`` (real paths: ``swift/data/obs/2015_12/
00037258040/xrt/event/sw00037258040xwtw2st_cl.evt.gz``, ``.../2010_12/00020153006/xrt/event/
sw00020153006xpcw3po_cl.evt.gz``, from public code in the search index).  UVOT sky images are
``sw<obsid>u<filter>_sk.img.gz`` with one image extension per exposure (the Fornax
multiwavelength_image notebook reads ``*uw2_sk*`` under ``uvot/image/`` and takes HDU 1).
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.time import Time
from astropy.wcs import WCS

from .common import CRAB, Product, _fits_bytes, _heasarc, _rng, _stamp_sources, _write_atomic

__all__ = ["SWIFT_OBS", "SwiftObs", "UVOT_FILTERS", "swift_products"]

# uvot_expo_* column suffix -> file filter code (Fornax notebook: vv V, bb B, uu U, w1 UVW1, m2 UVM2, w2 UVW2;
# file codes uvv/ubb/uuu/uw1/um2/uw2 from its code_src/archive_queries.py and gammapy-mwl's UVOT README).
UVOT_FILTERS = {"vv": "uvv", "bb": "ubb", "uu": "uuu", "w1": "uw1", "m2": "um2", "w2": "uw2"}


@dataclass(frozen=True)
class SwiftObs:
    """One row of ``swiftmastr`` and, if held, its observation directory."""

    obsid: str  # 11 digits, target id + segment
    start: str  # UTC, ISO
    ra: float
    dec: float
    roll: float
    xrt_exposure: float
    uvot: tuple[tuple[str, float], ...]  # (filter suffix, exposure s) with exposure > 0
    row: int  # HEASARC's __row
    name: str = "Crab"
    held: bool = False

    @property
    def directory(self) -> str:
        return f"swift/data/obs/{self.start[:4]}_{self.start[5:7]}/{self.obsid}/"

    @property
    def mjd(self) -> float:
        return float(Time(self.start, scale="utc").mjd)


# Swift observations of the Crab.  00030371012 is the Fornax notebook's vetted Crab observation with a
# UVW2 exposure (code_src/archive_queries.py); its date and exposures, and the other observations, are
# ILLUSTRATIVE (no recorded swiftmastr answer for the Crab was found).
SWIFT_OBS = (
    SwiftObs("00030371001", "2005-12-01T01:04:01", 83.6323, 22.0171, 271.3, 2012.0,
             (("vv", 160.2), ("bb", 160.1), ("uu", 160.0), ("w1", 320.4), ("m2", 426.9), ("w2", 640.3)), 310551),
    SwiftObs("00030371005", "2007-03-19T11:42:00", 83.6290, 22.0133, 97.8, 1456.0,
             (("w1", 482.1), ("m2", 0.0), ("w2", 0.0)), 310555),
    SwiftObs("00030371012", "2010-09-24T04:13:58", 83.6342, 22.0157, 265.1, 2993.0,
             (("w1", 586.3), ("m2", 782.0), ("w2", 1172.9)), 310562, held=True),
    SwiftObs("00031917001", "2011-04-13T21:29:01", 83.6336, 22.0098, 282.4, 1950.0,
             (("uu", 1890.7),), 328830),
)


def _uvot_wcs(obs: SwiftObs, naxis: int, scale: float) -> WCS:
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [obs.ra, obs.dec]
    wcs.wcs.crpix = [naxis / 2 + 0.5, naxis / 2 + 0.5]
    wcs.wcs.cdelt = [-scale / 3600, scale / 3600]
    wcs.wcs.radesys = "FK5"
    wcs.wcs.equinox = 2000.0
    return wcs


def _make_sky_image(obs: SwiftObs, filt: str, exposure: float) -> Callable[[Path], None]:
    """A UVOT sky image: empty primary, then two exposures (snapshots) as image extensions.

    2x2-binned UVOT pixels are 1.004" (Swift UVOT Software Guide); the image is a 17' field,
    1024x1024, float32 counts: the Crab's diffuse UV glow, the pulsar (~16 mag) and field stars.
    """

    def make(path: Path) -> None:
        naxis, scale = 1024, 1.004
        hdus = [fits.PrimaryHDU()]
        for snap, fraction in enumerate((0.55, 0.45)):
            rng = _rng(f"swift-{obs.obsid}-{filt}-{snap}")
            wcs = _uvot_wcs(obs, naxis, scale)
            cx, cy = (float(v) for v in wcs.world_to_pixel_values(*CRAB))
            yy, xx = np.mgrid[0:naxis, 0:naxis].astype(np.float32)
            u = (xx - cx) * np.float32(scale / 60)  # arcmin
            v = (yy - cy) * np.float32(scale / 60)
            rate = 0.02 + 0.6 * np.exp(-(((u * 0.8 + v * 0.6) / 2.2) ** 2 + ((v * 0.8 - u * 0.6) / 1.5) ** 2) / 2)
            rate = rate.astype(np.float32)
            stars = _rng(f"swift-{obs.obsid}-stars").uniform(0, naxis, (60, 2))  # the same field in every image
            fluxes = _rng(f"swift-{obs.obsid}-fluxes").lognormal(3.3, 1.2, 60)
            _stamp_sources(rate, np.append(stars[:, 0], cx), np.append(stars[:, 1], cy), np.append(fluxes, 120.0),
                           sigma=1.3)  # the pulsar (~16 mag) last
            counts = rng.poisson(rate * np.float32(exposure * fraction / 100)).astype(np.float32)
            header = wcs.to_header()
            start = obs.mjd + snap * 0.07
            for key, value in [("TELESCOP", "SWIFT"), ("INSTRUME", "UVOTA"), ("FILTER", filt.upper()),
                               ("OBS_ID", obs.obsid), ("OBJECT", obs.name), ("EXPOSURE", exposure * fraction),
                               ("DATE-OBS", Time(start, format="mjd", scale="utc").isot[:19]),
                               ("BUNIT", "count"), ("BINX", 2), ("BINY", 2)]:
                header[key] = value
            # Extension names are the filter code and exposure start, e.g. ``uw2307001234I``.
            met = int(round((start - 51910.0) * 86400))
            hdus.append(fits.ImageHDU(counts, header=header, name=f"{UVOT_FILTERS[filt][1:]}{met}I"))
        _write_atomic(path, gzip.compress(_fits_bytes(fits.HDUList(hdus)), compresslevel=6, mtime=0))

    return make


def _make_xrt_events(obs: SwiftObs) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        rng = _rng(f"swift-{obs.obsid}-xrt")
        n = 2000
        cols = [fits.Column(name="TIME", format="D", array=np.sort(rng.uniform(0, obs.xrt_exposure, n))),
                fits.Column(name="X", format="I", array=rng.normal(500, 12, n).astype(np.int16)),
                fits.Column(name="Y", format="I", array=rng.normal(500, 12, n).astype(np.int16)),
                fits.Column(name="PI", format="J", array=rng.integers(30, 1000, n))]
        events = fits.BinTableHDU.from_columns(cols, name="EVENTS")
        for hdu_header in (events.header,):
            hdu_header["TELESCOP"], hdu_header["INSTRUME"], hdu_header["OBS_ID"] = "SWIFT", "XRT", obs.obsid
        raw = _fits_bytes(fits.HDUList([fits.PrimaryHDU(), events]))
        _write_atomic(path, gzip.compress(raw, compresslevel=6, mtime=0))

    return make


def swift_products() -> list[Product]:
    """The files of the held Swift observations: UVOT sky images per filter used, and the XRT events."""
    products = []
    for obs in SWIFT_OBS:
        if not obs.held:
            continue
        meta = {"mission": "swift", "observation": obs}
        for filt, exposure in obs.uvot:
            if exposure > 0:
                rel = f"{obs.directory}uvot/image/sw{obs.obsid}{UVOT_FILTERS[filt]}_sk.img.gz"
                products.append(_heasarc(rel, "application/fits", _make_sky_image(obs, filt, exposure), dict(meta)))
        rel = f"{obs.directory}xrt/event/sw{obs.obsid}xpcw3po_cl.evt.gz"
        products.append(_heasarc(rel, "application/fits", _make_xrt_events(obs), dict(meta)))
    return products
