"""The NEOWISE-R Single-exposure (L1b) Source Table in Parquet, as the local archive holds it.

IRSA serves it from ``nasa-irsa-wise`` as one Parquet dataset per survey year,
``wise/neowiser/catalogs/p1bs_psd/healpix_k5/<year>/neowiser-healpix_k5-<year>.parquet/``
for ``year1`` .. ``year11`` and ``addendum``, each with ``_metadata``, ``_common_metadata`` and Hive
partitions ``healpix_k0=<n>/healpix_k5=<m>/part<i>.snappy.parquet`` (HEALPix order 5, nested; a big
partition is split over several files per year).  Sources: shared/notes/facts.md (bucket table); IRSA's
irsa-tutorials notebook neowise-source-table-strategies (``neowise_path``, the year list, the part file
names, "generally 1 file per partition per year, but a few partitions are as large as 6+ files");
https://irsa.ipac.caltech.edu/cloud_access/ (the notebook cites it for the bucket and prefix).

Production is all-sky (42 TB, 200 billion rows).  The local archive holds the partitions of a few
fields (:data:`PIXELS`), few sources per partition, every detection of each: a position is visited
every six months, about 12 exposures spanning a day per visit (Meisner et al. 2018,
https://arxiv.org/abs/1710.02526, §1), more towards the ecliptic poles where the scan circles
converge.  Most sources are constant; about one in eight varies, so light curves look real.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from .catalogs import FIELDS, ORDER, _healpix
from .common import Product, _rng
from .parquet import write_hive_dataset

__all__ = ["neowise_products", "COLUMNS", "NEOWISE_PREFIX", "PIXELS", "YEARS"]

NEOWISE_PREFIX = "wise/neowiser/catalogs/p1bs_psd/healpix_k5"
# The per-year datasets, as IRSA's notebook lists them ([f"year{yr}" for yr in range(1, 12)] + ["addendum"]).
YEARS = tuple(f"year{n}" for n in range(1, 12)) + ("addendum",)

# Order-5 pixels held.  The fields the AllWISE catalog holds (local_archive.holdings.catalogs.FIELDS: common
# targets and the regions IRSA's tutorials query), the pixels within 0.3 deg of each centre; and the
# partitions IRSA's notebook names as representative of the production dataset (its Appendix stats):
# the median partition 11831 and biggest 8277 (at the South Ecliptic Pole), and the partitions of the
# median file (1986) and biggest file (2551, near the North Ecliptic Pole).
_REPRESENTATIVE = (1986, 2551, 8277, 11831)


def _field_pixels() -> list[int]:
    import astropy.units as u

    healpix = _healpix()
    held = {int(p) for _, ra, dec, radius in FIELDS
            for p in healpix.cone_search_lonlat(ra * u.deg, dec * u.deg, min(radius, 0.3) * u.deg)}
    return sorted(held | set(_REPRESENTATIVE))


PIXELS = tuple(_field_pixels())

# Survey clock.  The first NEOWISE-R scan is 44212a (orbit 22106), the last 64272r (orbit 81536): scan
# numbers are twice the orbit number, minus 98800 (letter "r") after 99799 (Explanatory Supplement
# §III.1.d, https://wise2.ipac.caltech.edu/docs/release/neowise/expsup/sec3_1d.html).  The survey began
# 2013 Dec 13 (MJD 56639) and ended 2024 Jul 31 (MJD 60522): 59430 orbits in 3883 days.
_START_MJD, _END_MJD = 56639.0, 60522.0
_FIRST_ORBIT, _LAST_ORBIT = 22106, 81536
_ORBITS_PER_DAY = (_LAST_ORBIT - _FIRST_ORBIT) / (_END_MJD - _START_MJD)
_FRAME_SECONDS = 11.0  # framesets are numbered in 11 s bins from the scan start (Supplement §III.1.d)
_YEAR_DAYS = 365.25
# Single-exposure photometric zero points (DN -> mag) of W1 and W2 (WISE All-Sky Supplement §IV.4.h,
# https://wise2.ipac.caltech.edu/docs/release/allsky/expsup/sec4_4h.html): w?mpro = MAGZP - 2.5 log10(w?flux).
_MAGZP = np.array([20.752, 19.596])
# Approximate single-exposure 5-sigma point-source depths and saturation levels, W1 and W2 (NEOWISE
# Explanatory Supplement §II.3.c "Photometric Sensitivity" and §II.3.d "Saturated Source Photometry",
# https://wise2.ipac.caltech.edu/docs/release/neowise/expsup/).
_DEPTH = np.array([15.3, 14.4])
_SATURATION = np.array([8.0, 6.7])
_FILE_ROWS = 250  # rows per file before a partition spills into part1, part2, ... (scaled down as the rows are)

# A subset of the 143 columns, in production's order (the column list of a year8 leaf as
# us3r/nifi-zerobus-bundle perf/neowise_table.sql gives it: 99 double, 34 bigint, 10 string).
# name: (arrow type, units, description); descriptions summarise the Supplement's column list
# (https://wise2.ipac.caltech.edu/docs/release/neowise/expsup/sec2_1a.html, as the Post-Cryo one:
# https://wise2.ipac.caltech.edu/docs/release/allsky/expsup/sec8_2ai.html).  Not held: sky and
# confusion columns, aperture magnitudes (w?mag, w?mag_1..8), the 2MASS and AllWISE associations,
# spt_ind and htm20.
COLUMNS = {
    "source_id": ("string", "", "Unique source ID: the scan_id, frame_num and src of this detection."),
    "frame_num": ("int64", "", "Frameset number within the scan."),
    "scan_id": ("string", "", "Scan identifier: a block of exposures between two flight system maneuvers."),
    "src": ("int64", "", "Sequential number of the detection in the frameset's extraction list."),
    "ra": ("float64", "deg", "J2000 right ascension with respect to the 2MASS PSC reference frame."),
    "dec": ("float64", "deg", "J2000 declination with respect to the 2MASS PSC reference frame."),
    "sigra": ("float64", "arcsec", "One-sigma uncertainty in right ascension coordinate."),
    "sigdec": ("float64", "arcsec", "One-sigma uncertainty in declination coordinate."),
    "sigradec": ("float64", "arcsec", "The co-sigma of the equatorial position uncertainties."),
    "glon": ("float64", "deg", "Galactic longitude."),
    "glat": ("float64", "deg", "Galactic latitude."),
    "elon": ("float64", "deg", "Ecliptic longitude."),
    "elat": ("float64", "deg", "Ecliptic latitude."),
    "w1x": ("float64", "pix", "x-pixel coordinate of the detection on the W1 Single-exposure image."),
    "w1y": ("float64", "pix", "y-pixel coordinate of the detection on the W1 Single-exposure image."),
    "w2x": ("float64", "pix", "x-pixel coordinate of the detection on the W2 Single-exposure image."),
    "w2y": ("float64", "pix", "y-pixel coordinate of the detection on the W2 Single-exposure image."),
    "w1snr": ("float64", "", "W1 profile-fit measurement signal-to-noise ratio (w1flux / w1sigflux)."),
    "w2snr": ("float64", "", "W2 profile-fit measurement signal-to-noise ratio (w2flux / w2sigflux)."),
    "w1flux": ("float64", "dn", "W1 profile-fit flux in DN units."),
    "w1sigflux": ("float64", "dn", "Uncertainty in the W1 profile-fit flux, DN units."),
    "w2flux": ("float64", "dn", "W2 profile-fit flux in DN units."),
    "w2sigflux": ("float64", "dn", "Uncertainty in the W2 profile-fit flux, DN units."),
    "w1mpro": ("float64", "mag", "W1 profile-fit magnitude, or the 95% confidence brightness upper limit if "
               "the W1 SNR < 2."),
    "w1sigmpro": ("float64", "mag", "W1 profile-fit magnitude uncertainty; null for an upper limit."),
    "w1rchi2": ("float64", "", "Reduced chi^2 of the W1 profile-fit photometry."),
    "w2mpro": ("float64", "mag", "W2 profile-fit magnitude, or the 95% confidence brightness upper limit if "
               "the W2 SNR < 2."),
    "w2sigmpro": ("float64", "mag", "W2 profile-fit magnitude uncertainty; null for an upper limit."),
    "w2rchi2": ("float64", "", "Reduced chi^2 of the W2 profile-fit photometry."),
    "rchi2": ("float64", "", "Combined reduced chi^2 of the profile-fit photometry in all bands."),
    "nb": ("int64", "", "Number of PSF components used simultaneously in the profile fit."),
    "na": ("int64", "", "Active deblending flag: 1 if the detection was actively deblended, else 0."),
    "w1sat": ("float64", "", "Fraction of W1 pixels affected by saturation."),
    "w2sat": ("float64", "", "Fraction of W2 pixels affected by saturation."),
    "cc_flags": ("string", "", "Contamination and confusion flags, W1 and W2: 0 none, D/d diffraction spike, "
                 "P/p persistence, H/h halo, O/o optical ghost."),
    "qual_frame": ("int64", "", "Frameset quality score: 10 best, 5 some degradation, 0 poor."),
    "qi_fact": ("float64", "", "Frame image quality score: 1 best, 0.5 some smearing, 0 poor."),
    "saa_sep": ("float64", "deg", "Distance from the South Atlantic Anomaly boundary when the frame was taken."),
    "moon_masked": ("string", "", "Moon-masked flag, W1 and W2: 1 if within the Moon avoidance zone, else 0."),
    "det_bit": ("int64", "", "Bands with SNR >= 2: bit 0 W1, bit 1 W2."),
    "ph_qual": ("string", "", "Photometric quality, W1 and W2: A SNR>=10, B 3<=SNR<10, C 2<=SNR<3, U upper limit."),
    "sso_flg": ("int64", "", "Known solar system object association flag: 0 none."),
    "mjd": ("float64", "day", "Modified Julian Date of the mid-point of the observation of this frame."),
    "cntr": ("int64", "", "Unique identification number of this detection."),
    "x": ("float64", "", "Unit sphere (x, y, z) of the detection position."),
    "y": ("float64", "", "Unit sphere (x, y, z) of the detection position."),
    "z": ("float64", "", "Unit sphere (x, y, z) of the detection position."),
}


def _dataset_prefix(year: str) -> str:
    return f"{NEOWISE_PREFIX}/{year}/neowiser-healpix_k5-{year}.parquet"


def _sun_longitude(mjd: np.ndarray | float) -> np.ndarray | float:
    """Apparent ecliptic longitude of the Sun (deg), low-precision (Astronomical Almanac, C5)."""
    return (280.460 + 0.9856474 * (np.asarray(mjd) - 51544.5)) % 360.0


def _visits(elon: float, elat: float, rng: np.random.Generator) -> list[tuple[np.ndarray, int]]:
    """Exposure times of each visit to (elon, elat), and the scan half (0 leaving the NEP, 1 leaving the SEP).

    WISE scans circles through the ecliptic poles at 90 deg from the Sun, so a position is seen when the
    Sun is 90 deg either side of it, twice a year, on consecutive orbits; near the poles the circles
    overlap, so visits have more exposures (capped here to keep the files small).
    """
    period = 1.0 / _ORBITS_PER_DAY
    per_visit = int(np.clip(round(12.0 / max(np.cos(np.radians(elat)), 0.05)), 12, 60))
    visits = []
    for half, offset in ((0, -90.0), (1, 90.0)):
        target = (elon + offset) % 360.0
        first = _START_MJD + ((target - _sun_longitude(_START_MJD)) % 360.0) / 0.9856474
        for centre in np.arange(first, _END_MJD, 365.2422):
            n = per_visit + int(rng.integers(-1, 2))
            times = centre + (np.arange(n) - (n - 1) / 2) * period
            times = times[(times >= _START_MJD) & (times < _END_MJD)]
            if times.size:
                visits.append((times, half))
    return sorted(visits, key=lambda visit: visit[0][0])


def _scan_frame(times: np.ndarray, half: int, elat: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Orbit-consistent scan number, scan letter, frame number and mid-frame MJD of each exposure."""
    orbit = _FIRST_ORBIT + np.floor((times - _START_MJD) * _ORBITS_PER_DAY).astype(np.int64)
    scan = 2 * orbit + half
    letter = np.where(scan > 99799, "r", "a")
    scan = np.where(scan > 99799, scan - 98800, scan)
    # A scan starts at a pole; the frame is where along the half-circle this position lies.
    angle = 90.0 - elat if half == 0 else 90.0 + elat
    seconds = angle / 360.0 / _ORBITS_PER_DAY * 86400.0
    frame = np.full(times.shape, int(seconds // _FRAME_SECONDS) + 1, dtype=np.int64)
    start = _START_MJD + (orbit - _FIRST_ORBIT + half / 2) / _ORBITS_PER_DAY
    mjd = start + ((frame - 0.5) * _FRAME_SECONDS) / 86400.0
    return scan, letter, frame, mjd


def _pixel_sources(pixel: int, rng: np.random.Generator):
    """Positions, W1/W2 magnitudes and variability of the sources held in ``pixel``."""
    import astropy.units as u
    from astropy.coordinates import SkyCoord

    healpix = _healpix()
    lon, lat = healpix.healpix_to_lonlat(pixel)
    glat = float(SkyCoord(lon, lat, frame="icrs").galactic.b.deg)
    n = int(round(2 + 4 * np.exp(-abs(glat) / 15.0)))  # more stars towards the Galactic plane
    half = 1.5 * healpix.pixel_resolution.to_value(u.deg)
    ra, dec = [], []
    while len(ra) < n:
        d = lat.to_value(u.deg) + rng.uniform(-half, half)
        r = (lon.to_value(u.deg) + rng.uniform(-half, half) / max(np.cos(lat.to_value(u.rad)), 0.05)) % 360
        if int(healpix.lonlat_to_healpix(r * u.deg, d * u.deg)) == pixel:
            ra.append(r)
            dec.append(d)
    w1 = np.round(rng.uniform(8.5, 15.0, n), 3)
    w2 = np.round(w1 - rng.normal(0.05, 0.08, n) - np.where(rng.random(n) < 0.1, 0.8, 0.0), 3)
    variable = rng.random(n) < 0.12
    amplitude = np.where(variable, rng.uniform(0.15, 0.8, n), 0.0)
    period = rng.uniform(150.0, 1500.0, n)  # days: Miras and slow YSO variations, sampled every 6 months
    phase = rng.uniform(0.0, 2 * np.pi, n)
    return np.array(ra), np.array(dec), np.column_stack([w1, w2]), amplitude, period, phase


@functools.lru_cache(maxsize=1)
def _detections() -> dict[str, np.ndarray]:
    """Every detection held, all pixels and years, with its year and pixel."""
    import astropy.units as u
    from astropy.coordinates import SkyCoord

    parts: list[dict[str, np.ndarray]] = []
    base = _rng("neowise-src").permutation(9000)  # distinct src numbers per source, hence per frame
    nsource = 0
    for pixel in PIXELS:
        rng = _rng(f"neowise-{pixel}")
        ra, dec, mags, amplitude, period, phase = _pixel_sources(pixel, rng)
        ecl = SkyCoord(ra * u.deg, dec * u.deg, frame="icrs").barycentrictrueecliptic
        for s in range(ra.size):
            elon, elat = float(ecl.lon.deg[s]), float(ecl.lat.deg[s])
            for times, half in _visits(elon, elat, rng):
                scan, letter, frame, mjd = _scan_frame(times, half, elat)
                mjd = np.round(mjd, 9)
                delta = amplitude[s] * np.sin(2 * np.pi * mjd / period[s] + phase[s])
                true = mags[s][None, :] + delta[:, None]
                parts.append({"pixel": np.full(times.size, pixel), "source": np.full(times.size, nsource + s),
                              "ra0": np.full(times.size, ra[s]), "dec0": np.full(times.size, dec[s]),
                              "true": true, "scan": scan, "letter": letter, "frame": frame, "mjd": mjd,
                              "src": (base[nsource + s] + 7 * frame) % 9000 + 1})
        nsource += ra.size
    rows = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    return _measure(rows, _rng("neowise-measure"))


def _measure(rows: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Single-exposure measurements of the true magnitudes; sub-threshold detections are dropped."""
    n = rows["mjd"].size
    true = rows["true"]
    snr_true = 5.0 * 10 ** (0.4 * (_DEPTH - true))
    flux_true = 10 ** (0.4 * (_MAGZP - true))
    sigflux = flux_true / snr_true * np.hypot(1.0, 0.02 * snr_true)  # 2% calibration floor
    flux = flux_true + rng.normal(0.0, 1.0, true.shape) * sigflux
    snr = flux / sigflux
    # A detection needs SNR >= 4.5 in W1 or W2; the other band then is a measurement or an upper limit.
    keep = snr.max(axis=1) >= 4.5
    # Frame properties (quality score, SAA distance, Moon mask) are shared by every detection on a frame.
    frame_draw = ((rows["scan"] * 7919 + rows["frame"] * 104729) % 1000) / 1000.0
    qual_frame = np.where(frame_draw < 0.85, 10, np.where(frame_draw < 0.95, 5, 0))
    out = {key: value[keep] for key, value in rows.items()}
    flux, sigflux, snr, qual_frame = flux[keep], sigflux[keep], snr[keep], qual_frame[keep]
    frame_draw = frame_draw[keep]
    n = flux.shape[0]
    limit = snr < 2.0
    mpro = np.where(limit, _MAGZP - 2.5 * np.log10(np.maximum(flux, 0.0) + 2 * sigflux),
                    _MAGZP - 2.5 * np.log10(np.maximum(flux, 1e-3)))
    out.update({"flux": np.round(flux, 3), "sigflux": np.round(sigflux, 3), "snr": np.round(snr, 1),
                "mpro": np.round(mpro, 3), "sigmpro": np.where(limit, np.nan, np.round(1.0857 / np.abs(snr), 3)),
                "qual": np.where(limit, "U", np.where(snr >= 10, "A", np.where(snr >= 3, "B", "C"))),
                "qual_frame": qual_frame, "frame_draw": frame_draw,
                "noise": rng.normal(0.0, 1.0, (n, 6)), "draw": rng.random((n, 4))})
    return out


def _year(mjd: np.ndarray, draw: np.ndarray) -> np.ndarray:
    """Dataset of each detection: survey year from MJD 56639, year11 to the end; 1% in the addendum.

    The addendum's content is not documented; here it holds framesets processed late, from any year.
    """
    index = np.minimum(np.floor((mjd - _START_MJD) / _YEAR_DAYS).astype(int), 10)
    return np.where(draw < 0.01, len(YEARS) - 1, index)


def _columns(rows: dict[str, np.ndarray], select: np.ndarray) -> dict[str, np.ndarray]:
    """The table columns of the detections ``select``."""
    import astropy.units as u
    from astropy.coordinates import SkyCoord

    r = {key: value[select] for key, value in rows.items()}
    snr1 = np.maximum(np.abs(r["snr"][:, 0]), 1.0)
    sig = np.round(0.08 + 2.2 / snr1, 4)  # arcsec: single exposures, 6" PSF
    dec = np.round(r["dec0"] + r["noise"][:, 0] * sig / 3600.0, 7)
    ra = np.round((r["ra0"] + r["noise"][:, 1] * sig / 3600.0 / np.cos(np.radians(dec))) % 360, 7)
    coord = SkyCoord(ra * u.deg, dec * u.deg, frame="icrs")
    gal, ecl = coord.galactic, coord.barycentrictrueecliptic
    scan_id = np.char.add(np.char.zfill(r["scan"].astype(str), 5), r["letter"])
    frame, src = r["frame"], r["src"]
    letter_code = np.where(r["letter"] == "r", 2, 0)
    cntr = (r["scan"] * 10 + letter_code) * 10**9 + frame * 10**6 + src
    bright = r["mpro"] < _SATURATION[None, :]
    x = np.round(508.0 + r["noise"][:, 2] * 300, 3)
    y = np.round(508.0 + r["noise"][:, 3] * 300, 3)
    rchi2 = np.round(np.exp(r["noise"][:, 4:6] * 0.3), 3)
    detected = (r["snr"] >= 2.0).astype(np.int64)
    cols = {
        "source_id": np.char.add(np.char.add(scan_id, np.char.zfill(frame.astype(str), 3)),
                                 np.char.add("-", np.char.zfill(src.astype(str), 6))).astype(object),
        "frame_num": frame.astype(np.int64), "scan_id": scan_id.astype(object), "src": src.astype(np.int64),
        "ra": ra, "dec": dec, "sigra": sig, "sigdec": np.round(sig * (1 + 0.05 * r["noise"][:, 5]), 4),
        "sigradec": np.round(sig * 0.1 * r["noise"][:, 4], 4),
        "glon": np.round(gal.l.deg, 7), "glat": np.round(gal.b.deg, 7),
        "elon": np.round(ecl.lon.deg, 7), "elat": np.round(ecl.lat.deg, 7),
        "w1x": x, "w1y": y, "w2x": np.round(x + 0.3, 3), "w2y": np.round(y - 0.2, 3),
        "w1snr": r["snr"][:, 0], "w2snr": r["snr"][:, 1],
        "w1flux": r["flux"][:, 0], "w1sigflux": r["sigflux"][:, 0],
        "w2flux": r["flux"][:, 1], "w2sigflux": r["sigflux"][:, 1],
        "w1mpro": r["mpro"][:, 0], "w1sigmpro": r["sigmpro"][:, 0], "w1rchi2": rchi2[:, 0],
        "w2mpro": r["mpro"][:, 1], "w2sigmpro": r["sigmpro"][:, 1], "w2rchi2": rchi2[:, 1],
        "rchi2": np.round(rchi2.mean(axis=1), 3),
        "nb": np.where(r["draw"][:, 0] < 0.05, 2, 1).astype(np.int64),
        "na": np.where(r["draw"][:, 0] < 0.015, 1, 0).astype(np.int64),
        "w1sat": np.where(bright[:, 0], np.round(0.1 + 0.3 * r["draw"][:, 1], 3), 0.0),
        "w2sat": np.where(bright[:, 1], np.round(0.1 + 0.3 * r["draw"][:, 1], 3), 0.0),
        "cc_flags": np.where(r["draw"][:, 2] < 0.03, "d0", "00").astype(object),
        "qual_frame": r["qual_frame"].astype(np.int64),
        "qi_fact": np.where(r["qual_frame"] == 10, 1.0, np.where(r["qual_frame"] == 5, 0.5, 0.0)),
        "saa_sep": np.round(10.0 + 150.0 * ((r["frame_draw"] * 37.0) % 1.0), 3),
        "moon_masked": np.where((r["frame_draw"] * 53.0) % 1.0 > 0.98, "11", "00").astype(object),
        "det_bit": (detected[:, 0] + 2 * detected[:, 1]).astype(np.int64),
        "ph_qual": np.char.add(r["qual"][:, 0], r["qual"][:, 1]).astype(object),
        "sso_flg": np.zeros(ra.size, dtype=np.int64),
        "mjd": r["mjd"], "cntr": cntr.astype(np.int64),
    }
    phi, theta = np.radians(ra), np.radians(dec)
    cols.update({"x": np.round(np.cos(theta) * np.cos(phi), 6), "y": np.round(np.cos(theta) * np.sin(phi), 6),
                 "z": np.round(np.sin(theta), 6)})
    return cols


@functools.lru_cache(maxsize=1)
def _layout() -> dict[str, dict[str, np.ndarray]]:
    """Relative file path within its year's dataset -> row indices of :func:`_detections`, per year."""
    rows = _detections()
    year = _year(rows["mjd"], rows["draw"][:, 3])
    layout: dict[str, dict[str, np.ndarray]] = {name: {} for name in YEARS}
    for y, name in enumerate(YEARS):
        for pixel in PIXELS:
            picked = np.flatnonzero((year == y) & (rows["pixel"] == pixel))
            picked = picked[np.argsort(rows["mjd"][picked], kind="stable")]
            for part, start in enumerate(range(0, picked.size, _FILE_ROWS)):
                rel = f"healpix_k0={pixel >> (2 * ORDER)}/healpix_k5={pixel}/part{part}.snappy.parquet"
                layout[name][rel] = picked[start:start + _FILE_ROWS]
    return layout


def _schema():
    import pyarrow as pa

    # Field metadata keys "units" and "description", as IRSA's AllWISE Parquet (service_formats.md §11).
    fields = [pa.field(name, pa.string() if kind == "string" else pa.from_numpy_dtype(np.dtype(kind)),
                       nullable=name not in ("ra", "dec"), metadata={"units": unit, "description": text})
              for name, (kind, unit, text) in COLUMNS.items()]
    partitions = [pa.field(name, pa.int32(), metadata={"units": "", "description": text}) for name, text in (
        ("healpix_k0", "HEALPix order 0 (nested) pixel index of the source position."),
        ("healpix_k5", "HEALPix order 5 (nested) pixel index of the source position: the partition."))]
    return pa.schema(fields + partitions)


def _write_year(root: Path, year: str) -> None:
    """Write one year's partitions, then its ``_common_metadata`` and ``_metadata`` (last: the marker)."""
    rows = _detections()
    partitions = ((rel, _columns(rows, select)) for rel, select in _layout()[year].items())
    write_hive_dataset(root, _schema(), COLUMNS, partitions)


def neowise_products() -> list[Product]:
    """One product per file of the twelve datasets; a missing one rewrites its whole year."""
    products = []
    for year in YEARS:
        prefix = _dataset_prefix(year)

        def make(path: Path, prefix: str = prefix, year: str = year) -> None:
            _write_year(Path(str(path).split(prefix)[0]) / prefix, year)

        for name in ["_common_metadata", "_metadata", *_layout()[year]]:
            products.append(Product("irsa", "nasa-irsa-wise", f"{prefix}/{name}", "us-west-2",
                                    f"https://nasa-irsa-wise.s3.us-west-2.amazonaws.com/{prefix}/{name}",
                                    "application/vnd.apache.parquet", make, meta={"catalog": "neowiser"}))
    return products
