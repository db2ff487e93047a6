"""HEASARC's Chandra holdings: Crab and delta Ori observations laid out as the Chandra archive lays them out.

Each observation is a directory ``chandra/data/byobsid/<last digit>/<obsid>/`` with
``oif.fits``, ``primary/`` and ``secondary/`` (service_formats.md §3.4; the CXC Data
Products Guide, https://cxc.cfa.harvard.edu/ciao4.2/data_products_guide/, lists which
files sit in which folder).  The two images are real-sized (1024x1024, §3.4 and
https://cxc.cfa.harvard.edu/ciao/data_products_guide/image.html) with a Crab made of a
pulsar, the ~2' torus and the jet; every other file is a small FITS table with the real
name, HDU name and a few rows, except the grating spectra (``pha2``): Type II PHA files with every
column and bin of the real ones, which HEASARC's SSA serves.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.time import Time
from astropy.wcs import WCS

from .common import Product, _fits_bytes, _heasarc, _rng, _write_atomic

__all__ = ["CHANDRA_OBS", "ChandraObs", "IMAGE_KINDS", "chandra_products", "chandra_wcs", "grating_orders",
           "image_geometry"]

PULSAR = (83.633218, 22.014464)  # the Crab pulsar (ICRS, deg); the nebula's X-ray centre


@dataclass(frozen=True)
class ChandraObs:
    """One row of ``chanmaster`` and the observation directory behind it."""

    obsid: int
    detector: str  # ACIS-S, ACIS-I, HRC-S, HRC-I
    grating: str  # NONE, HETG, LETG
    exposure: float  # s
    start: str  # UTC, ISO
    ra: float  # target (pointing) position, deg
    dec: float
    version: int  # processing version N00<v>
    pi: str
    obs_type: str  # GO, GTO, TOO, CAL
    name: str
    row: int  # HEASARC's internal row number (__row), not the obsid (§3.3: chanmaster?2487 -> obsid 554)
    public: int | None = None  # chanmaster public_date (MJD) where recorded; otherwise one year after the start

    @property
    def prefix(self) -> str:
        return "acisf" if self.detector.startswith("ACIS") else "hrcf"

    @property
    def directory(self) -> str:
        """The bucket key / FTP path of the observation directory (obsid unpadded, §3.4)."""
        return f"chandra/data/byobsid/{str(self.obsid)[-1]}/{self.obsid}/"

    @property
    def mjd(self) -> float:
        return float(Time(self.start, scale="utc").mjd)


# Real Crab observations where a source says so; the others are ILLUSTRATIVE stand-ins
# (obsid, dates, exposures and pointings chosen to look like the 2000-01 and 2010-13 Crab
# monitoring campaigns), since no recorded chanmaster answer for the Crab was found (§3.4 gap).
CHANDRA_OBS = (
    # 1994: ACIS-S, no grating, the Fornax multiwavelength_image notebook's vetted Crab obsid
    # (upstream code_src/archive_queries.py VETTED_OBS); its date/exposure here are illustrative.
    ChandraObs(1994, "ACIS-S", "NONE", 2636.0, "2000-11-25T05:40:05", 83.63304, 22.01449, 4, "Hester", "GO",
               "Crab Nebula", 2461),
    ChandraObs(1995, "ACIS-S", "NONE", 2580.0, "2000-12-15T10:03:13", 83.63304, 22.01449, 4, "Hester", "GO",
               "Crab Nebula", 2462),
    ChandraObs(1996, "ACIS-S", "NONE", 2745.0, "2001-01-06T22:13:01", 83.63304, 22.01449, 4, "Hester", "GO",
               "Crab Nebula", 2463),
    ChandraObs(1997, "ACIS-S", "NONE", 2611.0, "2001-01-30T01:37:29", 83.63304, 22.01449, 4, "Hester", "GO",
               "Crab Nebula", 2464),
    ChandraObs(1998, "ACIS-S", "NONE", 2702.0, "2001-02-20T15:52:45", 83.63304, 22.01449, 4, "Hester", "GO",
               "Crab Nebula", 2465),
    ChandraObs(1999, "ACIS-S", "NONE", 2548.0, "2001-03-14T08:21:57", 83.63304, 22.01449, 4, "Hester", "GO",
               "Crab Nebula", 2466),
    ChandraObs(2000, "ACIS-S", "NONE", 2690.0, "2001-04-05T12:44:33", 83.63304, 22.01449, 4, "Hester", "GO",
               "Crab Nebula", 2467),
    ChandraObs(2001, "ACIS-S", "NONE", 2655.0, "2001-04-29T19:10:17", 83.63304, 22.01449, 4, "Hester", "GO",
               "Crab Nebula", 2468),
    ChandraObs(13139, "ACIS-S", "NONE", 9900.0, "2011-04-14T04:29:11", 83.62917, 22.01694, 2, "Weisskopf", "TOO",
               "Crab Nebula", 15410),
    ChandraObs(13140, "ACIS-S", "NONE", 10100.0, "2011-04-15T21:05:40", 83.62917, 22.01694, 2, "Weisskopf", "TOO",
               "Crab Nebula", 15411),
    # 13751: real (ACIS-7 = S3, GRATING NONE, DATE-OBS 2012-01-12T01:58:30, TSTART..TSTOP 6700 s) from its
    # pipeline ARF header, https://asd.gsfc.nasa.gov/xassist/pipeline4/chandra/13751/ (pages corpus).
    ChandraObs(13751, "ACIS-S", "NONE", 6700.0, "2012-01-12T01:58:30", 83.64375, 22.00833, 2, "Weisskopf", "GO",
               "Crab Nebula", 16312),
    ChandraObs(16245, "ACIS-S", "NONE", 24850.0, "2014-11-29T16:22:02", 83.61958, 22.02389, 1, "Mori", "GO",
               "Crab", 19530),
    ChandraObs(758, "HRC-S", "NONE", 20300.0, "2000-01-31T01:31:04", 83.63321, 22.01446, 3, "Weisskopf", "CAL",
               "Crab Pulsar", 1003),
    # 14684: real HRC-S + LETG Crab observation (PI Weisskopf, DATE-OBS 2013-03-05T23:19:28 to 2013-03-06T05:32),
    # from TGCat's evt0.par, https://tgcat.mit.edu/dev/tgcat/tgGet.php?file=evt0.par&id=4737 (pages corpus).
    ChandraObs(14684, "HRC-S", "LETG", 22360.0, "2013-03-05T23:19:28", 83.63321, 22.01446, 2, "Weisskopf", "CAL",
               "Crab Pulsar", 17701),
    # Grating observations of delta Ori (Mintaka), all REAL: obsid, name, ra, dec, start (MJD 51556.136400463 etc.
    # to the second), detector, grating, exposure, type, PI, public_date and processing version (the N00<v> of the
    # pha2 name) as production's SSA answered for "Delta Ori" (NASA-NAVO/navo-workshop gh-pages @ fd566fb2d04e and
    # @ c6e66534b4b4, spectral_access.ipynb; service_formats.md §3.2(b)-(c)).  __row: the ``datalink`` column of
    # the Jan 2025 answer (``11759:chandra.obs.misc`` ...), read as the row number [M].
    ChandraObs(639, "ACIS-S", "HETG", 49680.0, "2000-01-13T03:16:25", 83.00125, -0.29917, 5, "Cassinelli", "GO",
               "DELTA ORI", 11759, 52037),
    ChandraObs(7416, "HRC-S", "LETG", 97080.0, "2007-11-09T10:14:57", 83.00167, -0.29908, 4, "Raassen", "GO",
               "delta Ori (HD 36486)", 11760, 54783),
    ChandraObs(14567, "ACIS-S", "HETG", 116500.0, "2012-12-19T16:53:19", 83.00167, -0.29908, 3, "Corcoran", "GO",
               "Delta Ori", 11761, 56647),
    ChandraObs(14568, "ACIS-S", "HETG", 123600.0, "2012-12-27T03:52:10", 83.00167, -0.29908, 3, "Corcoran", "GO",
               "Delta Ori", 11762, 56655),
    ChandraObs(14569, "ACIS-S", "HETG", 120850.0, "2012-12-22T06:05:44", 83.00167, -0.29908, 3, "Corcoran", "GO",
               "Delta Ori", 11763, 56650),
    ChandraObs(14570, "ACIS-S", "HETG", 124100.0, "2012-12-24T13:13:09", 83.00167, -0.29908, 3, "Corcoran", "GO",
               "Delta Ori", 11764, 56652),
)

# Image products (title, file kind).  cntr_img2: 1024x1024 at full resolution, the ACIS or HRC sky
# pixel; full_img2: binned 8 (ACIS, 1024x1024) or 32 (HRC-I 1024x1024, HRC-S 2048x2048).
# [CXC Data Products Guide, https://cxc.cfa.harvard.edu/ciao/data_products_guide/image.html]
# The 2023 xamin_aws SIA said 4.92"/px for a cntr_img2 at 1024x1024 (§3.2(a)): ten times the documented
# 0.492"/px and an 84' field no Chandra detector has, so the files and SIA_scale here follow the CXC.
IMAGE_KINDS = {"cntr_img2": "Center Image", "full_img2": "Full Image"}
_SKY_PIXEL = {"ACIS": 0.492, "HRC": 0.13175}  # arcsec; ACIS 0.492"/px (ciao docs), HRC 0.13175"/px


def image_geometry(obs: ChandraObs, kind: str) -> tuple[int, float]:
    """``(naxis, arcsec per pixel)`` of an observation's ``cntr_img2`` or ``full_img2``."""
    instrument = obs.detector.split("-")[0]
    if kind == "cntr_img2":
        return 1024, _SKY_PIXEL[instrument]
    if instrument == "ACIS":
        return 1024, 8 * _SKY_PIXEL["ACIS"]
    return (2048 if obs.detector == "HRC-S" else 1024), 32 * _SKY_PIXEL["HRC"]


def chandra_wcs(ra: float, dec: float, naxis: int, scale_arcsec: float) -> WCS:
    """The sky WCS of a Chandra image centred on the target position."""
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [ra, dec]
    wcs.wcs.crpix = [naxis / 2 + 0.5, naxis / 2 + 0.5]
    wcs.wcs.cdelt = [-scale_arcsec / 3600, scale_arcsec / 3600]
    wcs.wcs.radesys = "ICRS"
    return wcs


def _crab_rate(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Counts/s/arcsec^2 of the X-ray Crab at offsets (arcsec, +x east, +y north) from the pulsar.

    The torus (~80"x36") and inner ring perpendicular to the symmetry axis, the jet to the
    south-east along it and a weaker counter-jet, inside a ~2' diffuse nebula: the shape of
    the Chandra image (Weisskopf et al. 2000, ApJ 536, L81).
    """
    pa = np.radians(124.0)  # the symmetry (jet) axis, east of north (Ng & Romani 2004, ApJ 601, 479)
    axis = dx * np.sin(pa) + dy * np.cos(pa)  # towards the south-east jet
    perp = dx * np.cos(pa) - dy * np.sin(pa)  # along the torus major axis
    r_torus = np.hypot(perp / 40.0, axis / 18.0)
    rate = 0.35 * np.exp(-((r_torus - 1.0) ** 2) / (2 * 0.18**2))
    rate += 0.25 * np.exp(-((np.hypot(perp / 14.0, axis / 6.5) - 1.0) ** 2) / (2 * 0.12**2))
    rate += 0.06 * np.exp(-(perp**2 / (2 * 48.0**2) + axis**2 / (2 * 36.0**2)))
    jet = (axis > 0) & (axis < 45)
    rate += np.where(jet, 0.3 * np.exp(-(perp**2) / (2 * 2.5**2)) * np.exp(-axis / 30.0), 0.0)
    counter = (axis < 0) & (axis > -25)
    rate += np.where(counter, 0.08 * np.exp(-(perp**2) / (2 * 2.5**2)), 0.0)
    return rate.astype(np.float32)


@lru_cache(maxsize=2)
def _counts(obs: ChandraObs, kind: str) -> np.ndarray:
    """The counts image of one observation (cached: the FITS file and its JPEG share it)."""
    naxis, scale = image_geometry(obs, kind)
    wcs = chandra_wcs(obs.ra, obs.dec, naxis, scale)
    px, py = (float(v) for v in wcs.world_to_pixel_values(*PULSAR))
    grid = (np.arange(naxis, dtype=np.float32) - np.float32(px)) * np.float32(scale)
    dx = -grid[np.newaxis, :]  # RA grows to the east (left)
    dy = ((np.arange(naxis, dtype=np.float32) - np.float32(py)) * np.float32(scale))[:, np.newaxis]
    rate = _crab_rate(dx, dy) * np.float32(scale**2)
    rate += np.float32(2e-7 * scale**2)  # particle background, counts/s/arcsec^2
    pulsar = np.exp(-(dx**2 + dy**2) / (2 * 0.45**2)) * np.float32(scale**2 / (2 * np.pi * 0.45**2))
    rate += np.float32(2.5) * pulsar
    rng = _rng(f"chandra-{obs.obsid}-{kind}")
    return rng.poisson(rate * np.float32(obs.exposure)).astype(np.int32)


def _image_header(obs: ChandraObs, kind: str) -> fits.Header:
    naxis, scale = image_geometry(obs, kind)
    header = chandra_wcs(obs.ra, obs.dec, naxis, scale).to_header()
    stop = Time(obs.mjd + obs.exposure / 86400, format="mjd", scale="utc").isot[:19]
    for key, value in [
        ("TELESCOP", "CHANDRA"), ("INSTRUME", obs.detector.split("-")[0]), ("DETNAM", obs.detector),
        ("GRATING", obs.grating), ("OBS_ID", str(obs.obsid)), ("OBJECT", obs.name), ("OBSERVER", obs.pi),
        ("DATE-OBS", obs.start), ("DATE-END", stop), ("EXPOSURE", obs.exposure), ("BUNIT", "counts"),
        ("CONTENT", "HIRESIMG" if kind == "cntr_img2" else "LORESIMG"),  # CXC Data Products Guide
        ("HDUNAME", "PRIMARY"), ("EQUINOX", 2000.0), ("ASCDSVER", "10.12.2"), ("REVISION", obs.version),
    ]:
        header[key] = value
    return header


def _make_image(obs: ChandraObs, kind: str) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        hdu = fits.PrimaryHDU(_counts(obs, kind), header=_image_header(obs, kind))
        _write_atomic(path, gzip.compress(_fits_bytes(fits.HDUList([hdu])), compresslevel=6, mtime=0))

    return make


def _make_jpeg(obs: ChandraObs, kind: str) -> Callable[[Path], None]:
    """The archive's quick-look JPEG of an image: log-scaled counts, 8-bit grey, north up."""

    def make(path: Path) -> None:
        from PIL import Image

        counts = _counts(obs, kind).astype(np.float32)
        scaled = np.log1p(counts) / max(float(np.log1p(counts.max())), 1.0)
        pixels = (255 * scaled[::-1]).astype(np.uint8)  # FITS row 0 is the bottom, JPEG row 0 the top
        buffer = io.BytesIO()
        Image.fromarray(pixels, mode="L").save(buffer, format="JPEG", quality=80)
        _write_atomic(path, buffer.getvalue())

    return make


# Every other file of an observation: (folder, name pattern, HDU name, columns).  Names follow the
# CXC templates (Data Products Guide: primary evt2/bpix1/fov1/asol1/eph1(/pha2, dtf1 for HRC),
# secondary evt1/flt1/mtl1/stat1/msk1/bias0); the ``_000N00v`` and ``pcadf<tstart>N001`` forms are
# real names (acisf11713_000N002_bpix1.fits, hrcf14684_000N002_bpix1.fits, pcadf478913534N001_asol1.fits:
# NIFTy-PPL/J-UBIK README, TGCat evt0.par).
_EVENTS = (("time", "D"), ("ccd_id", "I"), ("chipx", "I"), ("chipy", "I"), ("x", "E"), ("y", "E"),
           ("energy", "E"), ("pi", "J"))
_SIBLINGS = {
    "ACIS": (
        ("primary", "{p}{o}N00{v}_evt2.fits.gz", "EVENTS", _EVENTS),
        ("primary", "{p}{o}_000N00{v}_bpix1.fits.gz", "BADPIX", (("ccd_id", "I"), ("chipx", "2I"), ("chipy", "2I"))),
        ("primary", "{p}{o}_000N00{v}_fov1.fits.gz", "FOV", (("ccd_id", "I"), ("shape", "16A"))),
        ("primary", "pcadf{t}N001_asol1.fits.gz", "ASPSOL", (("time", "D"), ("ra", "D"), ("dec", "D"), ("roll", "D"))),
        ("primary", "orbitf{t}N001_eph1.fits.gz", "EPHEM", (("time", "D"), ("x", "D"), ("y", "D"), ("z", "D"))),
        ("secondary", "{p}{o}_000N00{v}_evt1.fits.gz", "EVENTS", _EVENTS),
        ("secondary", "{p}{o}_000N00{v}_flt1.fits.gz", "FILTER", (("start", "D"), ("stop", "D"))),
        ("secondary", "{p}{o}_000N00{v}_mtl1.fits.gz", "MTL", (("time", "D"), ("flag", "J"))),
        ("secondary", "{p}{o}_000N00{v}_stat1.fits.gz", "EXPSTATS", (("time", "D"), ("ccd_id", "I"))),
        ("secondary", "{p}{o}_000N00{v}_msk1.fits.gz", "MASK", (("ccd_id", "I"), ("chipx", "2I"), ("chipy", "2I"))),
    ),
    "HRC": (
        ("primary", "{p}{o}N00{v}_evt2.fits.gz", "EVENTS", _EVENTS[:2] + _EVENTS[4:6] + (("pi", "J"),)),
        ("primary", "{p}{o}_000N00{v}_bpix1.fits.gz", "BADPIX", (("chip_id", "I"), ("chipx", "2I"), ("chipy", "2I"))),
        ("primary", "{p}{o}_000N00{v}_dtf1.fits.gz", "DTF", (("time", "D"), ("dtf", "E"))),
        ("primary", "pcadf{t}N001_asol1.fits.gz", "ASPSOL", (("time", "D"), ("ra", "D"), ("dec", "D"), ("roll", "D"))),
        ("primary", "orbitf{t}N001_eph1.fits.gz", "EPHEM", (("time", "D"), ("x", "D"), ("y", "D"), ("z", "D"))),
        ("secondary", "{p}{o}_000N00{v}_evt1.fits.gz", "EVENTS", _EVENTS[:2] + _EVENTS[4:6] + (("pi", "J"),)),
        ("secondary", "{p}{o}_000N00{v}_flt1.fits.gz", "FILTER", (("start", "D"), ("stop", "D"))),
        ("secondary", "{p}{o}_000N00{v}_mtl1.fits.gz", "MTL", (("time", "D"), ("flag", "J"))),
    ),
}
_OIF = ("", "oif.fits", "OIF", (("member_name", "32A"), ("member_content", "16A")))
_CHANDRA_MJDREF = 50814.0  # Chandra times are seconds since 1998-01-01 (MJDREF in the ARF header above)


def _make_table(obs: ChandraObs, hduname: str, columns: tuple, gz: bool) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        rng = _rng(f"chandra-{obs.obsid}-{path.name}")
        rows = 64 if hduname in ("EVENTS", "ASPSOL", "EPHEM") else 4
        cols = []
        for name, form in columns:
            if "A" in form:
                data = np.array([f"{hduname.lower()}_{i}" for i in range(rows)])
            elif form.endswith(("D", "E")):
                data = rng.uniform(0, 1000, (rows,) if form in ("D", "E") else (rows, int(form[:-1])))
            else:
                width = form[:-1]
                data = rng.integers(0, 1024, (rows, int(width)) if width else rows)
            cols.append(fits.Column(name=name, format=form, array=data))
        table = fits.BinTableHDU.from_columns(cols, name=hduname)
        primary = fits.PrimaryHDU()
        for hdu in (primary, table):
            hdu.header["TELESCOP"] = "CHANDRA"
            hdu.header["INSTRUME"] = obs.detector.split("-")[0]
            hdu.header["OBS_ID"] = str(obs.obsid)
            hdu.header["OBJECT"] = obs.name
            hdu.header["MJDREF"] = _CHANDRA_MJDREF
        raw = _fits_bytes(fits.HDUList([primary, table]))
        _write_atomic(path, gzip.compress(raw, compresslevel=6, mtime=0) if gz else raw)

    return make


# --- Grating spectra: Type II PHA files -------------------------------------------------------------------
#
# The layout of a Chandra ``pha2`` (tgextract's output; CXC Data Products Guide "PHA (Spectrum) Files",
# https://cxc.harvard.edu/ciao3.4/data_products_guide/pha_descrip.html, and the CIAO thread "Examining Grating
# Spectra and Regions: PHA2 files", https://cxc.cfa.harvard.edu/ciao/threads/examinepha2/): a SPECTRUM block with
# one row per order and part and the 13 columns SPEC_NUM, TG_M, TG_PART (1 HEG, 2 MEG, 3 LEG), TG_SRCID, X, Y,
# CHANNEL, COUNTS, STAT_ERR, BACKGROUND_UP, BACKGROUND_DOWN, BIN_LO, BIN_HI.  Types, row order and bin grids as
# production's files read with astropy (navo-workshop gh-pages @ fd566fb2d04e and @ c6e66534b4b4,
# spectral_access.ipynb: acisf00639N005_pha2 has 12 rows HEG -3..+3 then MEG -3..+3, int16 CHANNEL/COUNTS/
# BACKGROUND_*[8192], float32 STAT_ERR, float64 BIN_LO/BIN_HI from 21.4775/|m| down to 1.0/|m| angstrom (HEG) and
# 41.955/|m| to 1.0/|m| (MEG); hrcf07416N004_pha2 has 2 rows LEG -1, +1 over 16384 bins, 205.7875 to 1.0).
# The keywords are OGIP/92-007's for a Type II spectrum
# (https://heasarc.gsfc.nasa.gov/docs/heasarc/ofwg/docs/spectra/ogip_92_007/node6.html).  The counts are
# ILLUSTRATIVE: a model spectrum drawn with a fixed seed, not the observed one.
_TG_GRID = {  # (TG_PART, detector): (channels, bin width in angstrom at |m| = 1); the grid starts at 1 angstrom
    (1, "ACIS"): (8192, 0.0025), (2, "ACIS"): (8192, 0.005),
    (3, "HRC"): (16384, 0.0125),  # recorded (7416)
    (3, "ACIS"): (8192, 0.0125),  # LETG/ACIS: the LEG bin width on 8192 channels [M]
}
_SOURCE_XY = {639: (4094.9138, 4132.076), 7416: (32872.695, 32805.805)}  # X, Y recorded (same notebooks)
# Lines of a hot star's wind (angstrom, relative strength): Si XIV, Si XIII, Mg XII, Mg XI, Ne X, Ne IX, Fe XVII,
# O VIII, O VII, N VII, C VI.  Illustrative strengths.
_STAR_LINES = ((6.18, 0.3), (6.65, 0.6), (8.42, 0.5), (9.17, 0.7), (12.13, 0.8), (13.45, 1.2), (15.01, 1.5),
               (17.05, 1.0), (18.97, 2.0), (21.60, 1.2), (22.10, 0.8), (24.78, 0.6), (33.73, 0.5))
_HC_KEV_ANGSTROM = 12.398419843


def grating_orders(obs: ChandraObs) -> list[tuple[int, int]]:
    """``(TG_PART, TG_M)`` of each spectrum in an observation's pha2, in file order.

    HETG: HEG then MEG, orders -3..-1, +1..+3 (12 rows, recorded for 639); LETG with HRC-S: LEG -1, +1 (2 rows,
    recorded for 7416); LETG with ACIS: LEG orders -3..+3 [M]; no grating: none.
    """
    orders = (-3, -2, -1, 1, 2, 3)
    if obs.grating == "HETG":
        return [(part, m) for part in (1, 2) for m in orders]
    if obs.grating == "LETG":
        return [(3, m) for m in ((-1, 1) if obs.detector.startswith("HRC") else orders)]
    return []


def _model_rate(obs: ChandraObs, wavelength: np.ndarray) -> np.ndarray:
    """Relative photon rate per angstrom: an absorbed power law for the Crab, a line-rich wind for a star."""
    energy = _HC_KEV_ANGSTROM / wavelength
    if "crab" in obs.name.lower():  # photon index 2.1, N_H 3e21 cm^-2 (Weisskopf et al. 2004, ApJ 601, 1050)
        return energy**-2.1 * np.exp(-3e21 * 2e-22 * energy**-2.5) * energy**2
    rate = 0.05 * np.exp(-energy / 0.6) * energy**2  # a soft continuum (kT ~ 0.6 keV)
    for centre, strength in _STAR_LINES:
        rate += strength * np.exp(-0.5 * ((wavelength - centre) / 0.012) ** 2)
    return rate * np.exp(-1e21 * 2e-22 * energy**-2.5)


def _area(part: int, wavelength: np.ndarray) -> np.ndarray:
    """A smooth effective-area shape per grating part (illustrative): HEG hard, MEG middle, LEG soft."""
    peak, width = {1: (6.0, 0.6), 2: (12.0, 0.7), 3: (20.0, 1.1)}[part]
    return np.exp(-0.5 * (np.log(wavelength / peak) / width) ** 2)


def _make_pha2(obs: ChandraObs) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        rng = _rng(f"chandra-{obs.obsid}-pha2")
        instrument = obs.detector.split("-")[0]
        rows = grating_orders(obs)
        channels = _TG_GRID[(rows[0][0], instrument)][0]
        total = 2.0e-1 if "crab" not in obs.name.lower() else 40.0  # counts/s in each first order (illustrative)
        columns: dict[str, list] = {name: [] for name in ("CHANNEL", "COUNTS", "STAT_ERR", "BACKGROUND_UP",
                                                          "BACKGROUND_DOWN", "BIN_LO", "BIN_HI")}
        for part, m in rows:
            width = _TG_GRID[(part, instrument)][1]
            lo = (1.0 + width * np.arange(channels - 1, -1, -1)) / abs(m)  # channel 1 = the longest wavelength
            hi = lo + width / abs(m)
            centre = (lo + hi) / 2
            shape = _model_rate(obs, centre) * _area(part, centre * abs(m)) * (hi - lo)
            expected = total * obs.exposure * shape / shape.sum() / m**2
            counts = np.minimum(rng.poisson(expected), 32767)
            columns["CHANNEL"].append(np.arange(1, channels + 1))
            columns["COUNTS"].append(counts)
            columns["STAT_ERR"].append(1 + np.sqrt(counts + 0.75))  # Gehrels, as the recorded 1.8660254 at 0 counts
            columns["BACKGROUND_UP"].append(rng.poisson(obs.exposure * 2e-7, channels))
            columns["BACKGROUND_DOWN"].append(rng.poisson(obs.exposure * 2e-7, channels))
            columns["BIN_LO"].append(lo)
            columns["BIN_HI"].append(hi)
        x, y = _SOURCE_XY.get(obs.obsid, (4096.5, 4096.5) if instrument == "ACIS" else (32768.5, 32768.5))
        n = len(rows)
        vector = {"CHANNEL": ("I", None), "COUNTS": ("I", "count"), "STAT_ERR": ("E", "count"),
                  "BACKGROUND_UP": ("I", "count"), "BACKGROUND_DOWN": ("I", "count"), "BIN_LO": ("D", "angstrom"),
                  "BIN_HI": ("D", "angstrom")}
        cols = [fits.Column(name="SPEC_NUM", format="I", array=np.arange(1, n + 1)),
                fits.Column(name="TG_M", format="I", array=[m for _, m in rows]),
                fits.Column(name="TG_PART", format="I", array=[part for part, _ in rows]),
                fits.Column(name="TG_SRCID", format="I", array=np.ones(n)),
                fits.Column(name="X", format="E", unit="pixel", array=np.full(n, x)),
                fits.Column(name="Y", format="E", unit="pixel", array=np.full(n, y))]
        cols += [fits.Column(name=name, format=f"{channels}{form}", unit=unit, array=np.array(columns[name]))
                 for name, (form, unit) in vector.items()]
        spectrum = fits.BinTableHDU.from_columns(cols, name="SPECTRUM")
        stop = Time(obs.mjd + obs.exposure / 86400, format="mjd", scale="utc").isot[:19]
        tstart = round((obs.mjd - _CHANDRA_MJDREF) * 86400, 1)
        primary = fits.PrimaryHDU()
        for hdu in (primary, spectrum):
            for key, value in [("TELESCOP", "CHANDRA"), ("INSTRUME", instrument), ("DETNAM", obs.detector),
                               ("GRATING", obs.grating), ("OBS_ID", str(obs.obsid)), ("OBJECT", obs.name),
                               ("OBSERVER", obs.pi), ("RA_TARG", obs.ra), ("DEC_TARG", obs.dec),
                               ("DATE-OBS", obs.start), ("DATE-END", stop), ("MJDREF", _CHANDRA_MJDREF),
                               ("TSTART", tstart), ("TSTOP", tstart + obs.exposure), ("ASCDSVER", "10.12.2"),
                               ("REVISION", obs.version)]:
                hdu.header[key] = value
        # OGIP/92-007 keywords; CREATOR and the background scalings BACKSCUP/BACKSCDN are illustrative values.
        for key, value in [("HDUCLASS", "OGIP"), ("HDUCLAS1", "SPECTRUM"), ("HDUCLAS2", "TOTAL"),
                           ("HDUCLAS3", "COUNT"), ("HDUCLAS4", "TYPE:II"), ("HDUVERS", "1.2.1"),
                           ("CREATOR", "tgextract - Version CIAO 4.16"), ("FILTER", "none"),
                           ("EXPOSURE", obs.exposure), ("LIVETIME", obs.exposure), ("BACKFILE", "none"),
                           ("BACKSCAL", 1.0), ("BACKSCUP", 4.0), ("BACKSCDN", 4.0), ("CORRFILE", "none"),
                           ("CORRSCAL", 1.0), ("RESPFILE", "none"), ("ANCRFILE", "none"), ("AREASCAL", 1.0),
                           ("SYS_ERR", 0.0), ("QUALITY", 0), ("GROUPING", 0), ("POISSERR", False),
                           ("CHANTYPE", "PI"), ("DETCHANS", channels), ("TLMIN7", 1), ("TLMAX7", channels)]:
            spectrum.header[key] = value
        raw = _fits_bytes(fits.HDUList([primary, spectrum]))
        _write_atomic(path, gzip.compress(raw, compresslevel=6, mtime=0))

    return make


def _meta(obs: ChandraObs, **extra) -> dict:
    return {"mission": "chandra", "obsid": obs.obsid, "observation": obs, **extra}


def chandra_products() -> list[Product]:
    """Every file of every held Chandra observation (images first, then the other files)."""
    products = []
    for obs in CHANDRA_OBS:
        names = {"p": obs.prefix, "o": f"{obs.obsid:05d}", "v": obs.version,
                 "t": int(round((obs.mjd - _CHANDRA_MJDREF) * 86400))}
        for kind, title in IMAGE_KINDS.items():
            stem = f"{obs.prefix}{obs.obsid:05d}N{obs.version:03d}_{kind}"
            rel = f"{obs.directory}primary/{stem}"
            products.append(_heasarc(f"{rel}.fits.gz", "application/fits", _make_image(obs, kind),
                                     _meta(obs, kind=kind, title=title, format="image/fits")))
            products.append(_heasarc(f"{rel}.jpg", "image/jpeg", _make_jpeg(obs, kind),
                                     _meta(obs, kind=kind, title=title, format="image/jpeg")))
        for folder, pattern, hduname, columns in _SIBLINGS[obs.detector.split("-")[0]]:
            name = pattern.format(**names)
            rel = f"{obs.directory}{folder}/{name}"
            products.append(_heasarc(rel, "application/fits", _make_table(obs, hduname, columns, True), _meta(obs)))
        if obs.grating != "NONE":  # the level-2 grating spectrum, primary/<p><obsid>N00<v>_pha2.fits.gz (§3.2(b))
            rel = f"{obs.directory}primary/{obs.prefix}{obs.obsid:05d}N{obs.version:03d}_pha2.fits.gz"
            title = f"{obs.detector.split('-')[0]} Grating Spectrum"  # the CXC's product name (pha_descrip, above)
            products.append(_heasarc(rel, "application/fits", _make_pha2(obs),
                                     _meta(obs, kind="pha2", title=title, format="application/fits",
                                           spectra=len(grating_orders(obs)))))
        folder, name, hduname, columns = _OIF
        products.append(_heasarc(f"{obs.directory}{name}", "application/fits",
                                 _make_table(obs, hduname, columns, False), _meta(obs)))
    return products
