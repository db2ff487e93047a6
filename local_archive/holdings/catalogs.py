"""IRSA's HEALPix-partitioned Parquet catalogs, as the local archive holds them.

The AllWISE Source Catalog lives in ``nasa-irsa-wise`` under
``wise/allwise/catalogs/p3as_psd/healpix_k5/wise-allwise.parquet/`` as Hive
partitions ``healpix_k0=<n>/healpix_k5=<m>/part0.snappy.parquet`` (HEALPix order
5, nested), with ``_common_metadata`` (the schema, with units and descriptions,
partition columns included) and ``_metadata`` (every row group's statistics)
(shared/notes/facts.md, bucket table; service_formats.md §11).

Production is all-sky (12288 partitions, 340 GB).  The local archive holds the
partitions that overlap a few fields (:data:`FIELDS`): common targets and the
regions IRSA's own tutorials query.  Their synthetic sources follow the
catalog's format (designations, ``cntr`` and ``source_id`` built from Atlas Tile
ids, 95% upper limits with null uncertainties and ``ph_qual`` "U") and its
astrophysics closely enough for the usual diagrams: a stellar locus near zero
colour, star-forming galaxies red in W2-W3, AGN red in W1-W2 (in the Mateos et
al. 2012 wedge), more stars and fewer galaxies towards the Galactic plane.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .common import CRAB, Product, _rng
from .parquet import write_hive_dataset

__all__ = ["allwise_catalog_products", "CATALOG_PREFIX", "COLUMNS", "FIELDS", "ORDER", "PINNED"]

CATALOG_PREFIX = "wise/allwise/catalogs/p3as_psd/healpix_k5/wise-allwise.parquet"
ORDER = 5

# Where sources are held: every order-5 pixel overlapping one of these cones (name, ra, dec, radius deg).
FIELDS = (
    ("Crab Nebula (M1), the tutorials' own target", CRAB[0], CRAB[1], 1.5),
    # IRSA cloud-access-intro §6.2 queries "the Taurus L1495 star-forming region", RA 62-66, Dec 25-29.
    ("Taurus molecular cloud around L1495", 64.0, 27.0, 3.0),
    # IRSA wise-allwise-catalog-demo queries RA 15-25, Dec 62-72 (l = 124-129, b = -1..+10).
    ("Cassiopeia, the outer Galactic plane at l = 124-129", 20.0, 67.0, 5.8),
    ("Andromeda galaxy (M31)", 10.6847, 41.2690, 1.0),
    ("Orion Nebula (M42)", 83.8221, -5.3911, 1.0),
    ("Lockman Hole, a high-latitude extragalactic field", 161.25, 58.0, 1.0),
    # irsa-tutorials SEDs_in_Firefly builds an SED of the star at 05h27m36.37s +34d49m40.6s (Auriga).
    ("Auriga, the SEDs_in_Firefly target", 81.9015, 34.8279, 0.2),
)

# Sources IRSA's recorded answers list, pinned into their partition: (ra, dec, W1..W4 mag, W1..W4 sigma,
# ph_qual, J, H, K, J/H/K sigma).  SEDs_in_Firefly's recorded phot_tbl (irsa-tutorials, rendered output)
# lists this AllWISE match within 1" of its target, and the 2MASS PSC one's J/H/Ks for the 2MASS columns.
PINNED = (
    (81.9014998, 34.8279561, (13.374, 12.602, 9.740, 7.554), (0.027, 0.027, 0.049, 0.186), "AAAB",
     (15.455, 14.622, 14.246), (0.060, 0.060, 0.065)),
)

# A subset of the 300 columns, in IRSA's order (schema.names recorded in irsa-tutorials'
# wise-allwise-catalog-demo, rendered at Caltech-IPAC/irsa-tutorials 005a6cb, "Schema Access").
# name: (arrow type, units, description, nullable); _schema declares only ra and dec non-null.  ra's type,
# nullability and description, and ext_flg's int64 and empty units, are the recorded ones; the other
# descriptions summarise the AllWISE Explanatory Supplement §II.1.a (https://wise2.ipac.caltech.edu/docs/release/allwise/expsup/sec2_1a.html).
_MAG = "mag"
COLUMNS = {
    "designation": ("string", "", "Sexagesimal, equatorial position-based source name in the form "
                    "hhmmss.ss+ddmmss.s.", False),
    "ra": ("float64", "deg", "J2000 right ascension with respect to the 2MASS PSC reference frame from the non-moving "
           "source extraction.", False),
    "dec": ("float64", "deg", "J2000 declination with respect to the 2MASS PSC reference frame from the non-moving "
            "source extraction.", False),
    "sigra": ("float64", "arcsec", "One-sigma uncertainty in right ascension coordinate.", False),
    "sigdec": ("float64", "arcsec", "One-sigma uncertainty in declination coordinate.", False),
    "sigradec": ("float64", "arcsec", "The co-sigma of the equatorial position uncertainties.", False),
    "glon": ("float64", "deg", "Galactic longitude.", False),
    "glat": ("float64", "deg", "Galactic latitude.", False),
    "elon": ("float64", "deg", "Ecliptic longitude.", False),
    "elat": ("float64", "deg", "Ecliptic latitude.", False),
    "wx": ("float64", "pix", "The x-pixel coordinate of this source on the Atlas Image.", False),
    "wy": ("float64", "pix", "The y-pixel coordinate of this source on the Atlas Image.", False),
    "cntr": ("int64", "", "Unique identification number for this object in the AllWISE Catalog/Reject Table, "
             "formed from the source_id.", False),
    "source_id": ("string", "", "Unique source ID: the Atlas Tile coadd_id and the source number.", False),
    "coadd_id": ("string", "", "WISE Atlas Tile identifier from which source was extracted.", False),
    "src": ("int64", "", "Sequential number of the source extraction in the Atlas Tile.", False),
    **{name: spec for band in "1234" for name, spec in {
        f"w{band}mpro": ("float64", _MAG, f"W{band} magnitude measured with profile-fitting photometry, or the "
                         f"magnitude of the 95% confidence brightness upper limit if the W{band} flux measurement "
                         "has SNR<2.", True),
        f"w{band}sigmpro": ("float64", _MAG, f"W{band} profile-fit photometric measurement uncertainty in mag units. "
                            f"This column is null if the W{band} profile-fit magnitude is a 95% confidence upper "
                            "limit.", True),
        f"w{band}snr": ("float64", "", f"W{band} profile-fit measurement signal-to-noise ratio.", True),
        f"w{band}rchi2": ("float64", "", f"Reduced chi^2 of the W{band} profile-fit photometry measurement.", True),
    }.items()},
    "nb": ("int64", "", "Number of PSF components used simultaneously in the profile-fitting for this source.", False),
    "na": ("int64", "", "Active deblending flag: 1 if the source was actively deblended, else 0.", False),
    "pmra": ("int64", "mas/yr", "The apparent motion in right ascension estimated for this source.", False),
    "sigpmra": ("int64", "mas/yr", "Uncertainty in the RA motion estimate.", False),
    "pmdec": ("int64", "mas/yr", "The apparent motion in declination estimated for this source.", False),
    "sigpmdec": ("int64", "mas/yr", "Uncertainty in the Dec motion estimate.", False),
    "cc_flags": ("string", "", "Contamination and confusion flags, one character per band (W1 to W4): 0 for none, "
                 "D/d diffraction spike, P/p persistence, H/h halo, O/o optical ghost.", False),
    # The recorded output gives ext_flg as int64 with units b'' (irsa-tutorials cloud-access-intro §6.1).
    "ext_flg": ("int64", "", "Extended source flag. 0: the source shape is consistent with a point source and it is "
                "not associated with a 2MASS XSC source; 1: the profile-fit reduced chi^2 is > 3 in one or more "
                "bands; 2: within the isophotal footprint of a 2MASS XSC source; 3: both 1 and 2; 4: within 5 "
                "arcsec of a 2MASS XSC source; 5: both 1 and 4.", False),
    "var_flg": ("string", "", "Variability flag, one character per band: n for too few measurements, else 0-9, "
                "the higher the more likely variable.", False),
    "ph_qual": ("string", "", "Photometric quality flag, one character per band: A (SNR>=10), B (3<=SNR<10), "
                "C (2<=SNR<3), U (upper limit, SNR<2), X or Z.", False),
    **{name: spec for band in "jhk" for name, spec in {
        f"{band}_m_2mass": ("float64", _MAG, f"2MASS {band.upper()}-band magnitude or magnitude upper limit of "
                            "the associated 2MASS PSC source.", True),
        f"{band}_msig_2mass": ("float64", _MAG, f"2MASS {band.upper()}-band corrected photometric uncertainty of "
                               "the associated 2MASS PSC source.", True),
    }.items()},
    "x": ("float64", "", "Unit sphere (x, y, z) of the source position.", False),
    "y": ("float64", "", "Unit sphere (x, y, z) of the source position.", False),
    "z": ("float64", "", "Unit sphere (x, y, z) of the source position.", False),
}
_PARTITIONS = ("healpix_k0", "healpix_k5")

# Atlas Tiles (AllWISE Explanatory Supplement §II.3: 1.564 deg tiles, 18240 of them).  Rows lie
# 1.514444 deg apart in Dec (the Crab's tile 0830p227 is centred at Dec 22.716667 = 15 rows) and a row
# has ceil(360 cos(inner edge) / 1.516) tiles from RA 0.  This is derived, not documented: it reproduces
# every tile id recorded in IRSA's tutorials (0157p620, 0252p620, 0145p726, 0243p726, 3150p772, 0830p227,
# 0904m213, 0046m107), ids truncating RA and Dec*10 towards -infinity.
_TILE_ROW = 1.514444
_TILE_RA = 1.516
_ATLAS_PIXEL_DEG = 0.0003819444391411  # 1.375 arcsec (local_archive.holdings.wise, the Atlas image WCS)

# 5-sigma point-source depth (mag) and 95% upper-limit level in each band, typical for AllWISE
# (Explanatory Supplement §II.2 sensitivity: W1 ~17, W2 ~15.7, W3 ~11.5, W4 ~8).
_DEPTH = np.array([17.1, 15.7, 11.5, 8.0])
_SOURCE_DENSITY = 2000  # sources per order-5 pixel (3.36 deg^2) at b = 0; a tenth of AllWISE's, for small files


def _healpix():
    from astropy_healpix import HEALPix

    return HEALPix(nside=2**ORDER, order="nested", frame=None)


def _pixels() -> list[int]:
    import astropy.units as u

    healpix = _healpix()
    held: set[int] = set()
    for _, ra, dec, radius in FIELDS:
        held.update(int(p) for p in healpix.cone_search_lonlat(ra * u.deg, dec * u.deg, radius * u.deg))
    return sorted(held)


def _positions(pixel: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Uniform positions inside ``pixel``, as many as its Galactic latitude warrants, and that latitude."""
    import astropy.units as u
    from astropy.coordinates import SkyCoord

    healpix = _healpix()
    lon, lat = healpix.healpix_to_lonlat(pixel)
    glat = SkyCoord(lon, lat, frame="icrs").galactic.b.deg
    # Counts fall by ~3 from the plane to the poles (AllWISE's are ~10 000 and ~3 000 per deg^2).
    wanted = int(_SOURCE_DENSITY * (0.3 + 0.7 * math.exp(-abs(float(glat)) / 12.0)))
    half = 1.5 * healpix.pixel_resolution.to_value(u.deg)
    ra_parts, dec_parts = [], []
    while sum(len(r) for r in ra_parts) < wanted:
        dec = lat.to_value(u.deg) + rng.uniform(-half, half, 4 * wanted)
        ra = lon.to_value(u.deg) + rng.uniform(-half, half, 4 * wanted) / max(math.cos(lat.to_value(u.rad)), 0.05)
        dec = np.clip(dec, -89.9999, 89.9999)
        inside = healpix.lonlat_to_healpix(ra * u.deg, dec * u.deg) == pixel
        ra_parts.append(ra[inside] % 360)
        dec_parts.append(dec[inside])
    ra, dec = np.concatenate(ra_parts)[:wanted], np.concatenate(dec_parts)[:wanted]
    order = np.argsort(dec, kind="stable")
    return ra[order], dec[order], float(glat)


def _true_photometry(n: int, glat: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Noise-free W1..W4 (n x 4) and the population of each source (0 star, 1 galaxy, 2 AGN)."""
    away = 1.0 - math.exp(-abs(glat) / 20.0)  # 0 in the plane, -> 1 at the poles
    p_galaxy, p_agn = 0.05 + 0.40 * away, 0.004 + 0.04 * away
    kind = rng.choice(3, n, p=[1 - p_galaxy - p_agn, p_galaxy, p_agn])
    w1 = np.empty(n)
    colours = np.empty((n, 3))  # W1-W2, W2-W3, W3-W4
    star, galaxy, agn = kind == 0, kind == 1, kind == 2
    # Stars: counts rising as 10^(0.2 m) to the W1 depth, colours near zero (Wright et al. 2010, fig. 12);
    # IRSA's recorded W1 > 10 sample at l = 126 has median W1 = 14.99 (wise-allwise-catalog-demo, example 1).
    w1[star] = _counts(rng, int(star.sum()), 6.0, 17.1, 0.20)
    colours[star] = rng.normal([-0.02, 0.05, 0.05], [0.04, 0.06, 0.10], (int(star.sum()), 3))
    # Galaxies: fainter and steeper counts; star-forming ones red in W2-W3, early types near W2-W3 ~ 1.
    w1[galaxy] = _counts(rng, int(galaxy.sum()), 11.0, 17.6, 0.45)
    spiral = rng.random(int(galaxy.sum())) < 0.7
    colours[galaxy] = np.where(spiral[:, None],
                               rng.normal([0.25, 3.2, 2.3], [0.12, 0.5, 0.4], (len(spiral), 3)),
                               rng.normal([0.05, 1.0, 1.6], [0.08, 0.4, 0.5], (len(spiral), 3)))
    # AGN: W1-W2 >~ 0.8 (Stern et al. 2012) and inside the Mateos et al. (2012) wedge.
    w1[agn] = _counts(rng, int(agn.sum()), 12.0, 17.6, 0.40)
    colours[agn] = rng.normal([1.1, 3.0, 2.6], [0.25, 0.4, 0.3], (int(agn.sum()), 3))
    mags = np.column_stack([w1, w1 - colours[:, 0], w1 - colours[:, 0] - colours[:, 1],
                            w1 - colours[:, 0] - colours[:, 1] - colours[:, 2]])
    return mags, kind


def _counts(rng: np.random.Generator, n: int, bright: float, faint: float, slope: float) -> np.ndarray:
    """``n`` magnitudes between ``bright`` and ``faint`` with counts rising as 10^(slope m)."""
    lo, hi = 10 ** (slope * bright), 10 ** (slope * faint)
    return np.log10(rng.uniform(lo, hi, n)) / slope


def _measure(true: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Profile-fit magnitudes, uncertainties, SNRs and ph_qual; SNR < 2 becomes a 95% upper limit."""
    snr_true = 5.0 * 10 ** (0.4 * (_DEPTH - true))
    sigma = np.hypot(1.0857 / snr_true, 0.015)
    measured = true + rng.normal(0.0, 1.0, true.shape) * sigma
    snr = np.maximum(snr_true * (1 + rng.normal(0.0, 1.0, true.shape) / np.maximum(snr_true, 1.0)), 0.1)
    limit = snr < 2.0
    # An upper limit reports the 95% brightness limit (about one magnitude above the 5-sigma depth),
    # and no uncertainty (Explanatory Supplement §II.1.a, w?mpro and w?sigmpro).
    measured = np.where(limit, _DEPTH + 1.0 + rng.normal(0.0, 0.15, true.shape), measured)
    quality = np.where(limit, "U", np.where(snr >= 10, "A", np.where(snr >= 3, "B", "C")))
    return {"mag": np.round(measured, 3), "sig": np.where(limit, np.nan, np.round(sigma, 3)),
            "snr": np.round(snr, 1), "qual": quality, "limit": limit}


def _tile_ids(ra: np.ndarray, dec: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Atlas Tile of each position: its coadd id, centre RA and centre Dec (see _TILE_ROW)."""
    row = np.rint(dec / _TILE_ROW)
    centre_dec = row * _TILE_ROW
    inner = np.maximum(np.abs(centre_dec) - _TILE_ROW / 2, 0.0)
    per_row = np.maximum(np.ceil(360.0 * np.cos(np.radians(inner)) / _TILE_RA), 1)
    step = 360.0 / per_row
    centre_ra = (np.rint(ra / step) % per_row) * step
    ra10 = np.floor(centre_ra * 10 + 1e-6).astype(int)
    dec10 = np.floor(centre_dec * 10 + 1e-6).astype(int)
    ids = np.array([f"{r:04d}{'p' if d >= 0 else 'm'}{abs(d):03d}_ac51" for r, d in zip(ra10, dec10, strict=True)])
    return ids, centre_ra, centre_dec


def _designations(ra: np.ndarray, dec: np.ndarray) -> list[str]:
    """``Jhhmmss.ss+ddmmss.s``, truncated as IRSA's are (recorded: 24.993333, 62.004237 -> J013958.40+620015.2)."""
    centisec = np.floor(ra / 15.0 * 360000.0 + 1e-7).astype(np.int64)
    decisec = np.floor(np.abs(dec) * 36000.0 + 1e-7).astype(np.int64)
    names = []
    for cs, ds, d in zip(centisec.tolist(), decisec.tolist(), dec.tolist(), strict=True):
        h, rest = divmod(cs, 360000)
        m, s = divmod(rest, 6000)
        dd, drest = divmod(ds, 36000)
        dm, dsec = divmod(drest, 600)
        names.append(f"J{h:02d}{m:02d}{s // 100:02d}.{s % 100:02d}{'-' if d < 0 else '+'}"
                     f"{dd:02d}{dm:02d}{dsec // 10:02d}.{dsec % 10}")
    return names


def _sources(pixel: int, tile_counts: dict[str, int]) -> dict[str, np.ndarray]:
    """The columns of one partition.  ``tile_counts`` numbers sources within each Atlas Tile across partitions."""
    import astropy.units as u
    from astropy.coordinates import SkyCoord

    rng = _rng(f"allwise-{pixel}")
    ra, dec, glat = _positions(pixel, rng)
    n = ra.size
    true, kind = _true_photometry(n, glat, rng)
    bands = _measure(true, rng)
    detected = ~bands["limit"][:, 0] | ~bands["limit"][:, 1]  # the Catalog requires SNR >= 5 somewhere; W1/W2 here
    keep = detected & (bands["snr"].max(axis=1) >= 5)
    ra, dec, true, kind = ra[keep], dec[keep], true[keep], kind[keep]
    bands = {key: value[keep] for key, value in bands.items()}
    n = ra.size

    coords = SkyCoord(ra * u.deg, dec * u.deg, frame="icrs")
    galactic = coords.galactic
    ecliptic = coords.barycentrictrueecliptic
    coadd, tile_ra, tile_dec = _tile_ids(ra, dec)
    src = np.empty(n, dtype=np.int64)
    for i, tile in enumerate(coadd.tolist()):
        tile_counts[tile] = src[i] = tile_counts.get(tile, 0) + 1
    # cntr as recorded (157162001351035963 is 0157p620_ac51-035963): RA*10, 1 for p (0 for m), |Dec|*10,
    # "01351" for the ac51 suffix, and the 6-digit source number.
    cntr = np.array([int(f"{c[:4]}{1 if c[4] == 'p' else 0}{c[5:8]}01351{s:06d}")
                     for c, s in zip(coadd, src, strict=True)], dtype=np.int64)
    xi = (ra - tile_ra + 180) % 360 - 180
    snr1 = np.maximum(bands["snr"][:, 0], 1.0)
    sigpos = np.round(0.036 + 2.5 / snr1, 4)
    # Bright galaxies are resolved: their point-source fits are poor (ext_flg 1, Supplement §II.1.a).
    resolved = (kind == 1) & (true[:, 0] < 14.0)
    rchi2 = np.round(np.exp(rng.normal(0.0, 0.25, (n, 4))) * np.where(resolved[:, None], 3.5, 1.0), 3)
    extended = (rchi2 > 3.0).any(axis=1).astype(np.int64)
    near_xsc = (kind == 1) & (true[:, 0] < 13.5)
    ext_flg = np.where(near_xsc, extended + rng.choice([2, 4], n), extended)
    flagged = rng.random(n) < 0.03
    cc_flags = np.where(flagged, rng.choice(["d000", "h000", "0p00", "00o0", "dd00"], n), "0000")
    pm_sigma = np.rint(20 + 400 / snr1).astype(np.int64)
    two_mass = (kind == 0) & (true[:, 0] < 14.8)  # stars bright enough for the 2MASS PSC
    k_2mass = true[:, 0] + 0.05 + rng.normal(0, 0.03, n)
    columns: dict[str, np.ndarray] = {
        "designation": np.array(_designations(ra, dec), dtype=object),
        "ra": np.round(ra, 7), "dec": np.round(dec, 7),
        "sigra": sigpos, "sigdec": np.round(sigpos * rng.uniform(0.9, 1.1, n), 4),
        "sigradec": np.round(sigpos * rng.normal(0.0, 0.15, n), 4),
        "glon": np.round(galactic.l.deg, 7), "glat": np.round(galactic.b.deg, 7),
        "elon": np.round(ecliptic.lon.deg, 7), "elat": np.round(ecliptic.lat.deg, 7),
        "wx": np.round(2048.0 - xi * np.cos(np.radians(dec)) / _ATLAS_PIXEL_DEG, 3),
        "wy": np.round(2048.0 + (dec - tile_dec) / _ATLAS_PIXEL_DEG, 3),
        "cntr": cntr,
        "source_id": np.array([f"{c}-{s:06d}" for c, s in zip(coadd, src, strict=True)], dtype=object),
        "coadd_id": coadd.astype(object), "src": src,
    }
    for b, band in enumerate("1234"):
        columns[f"w{band}mpro"] = bands["mag"][:, b]
        columns[f"w{band}sigmpro"] = bands["sig"][:, b]
        columns[f"w{band}snr"] = bands["snr"][:, b]
        columns[f"w{band}rchi2"] = rchi2[:, b]
    blended = rng.random(n) < 0.05
    columns.update({
        "nb": np.where(blended, 2, 1).astype(np.int64), "na": np.where(blended & (rng.random(n) < 0.3), 1, 0),
        "pmra": np.rint(rng.normal(0, 1, n) * pm_sigma).astype(np.int64), "sigpmra": pm_sigma,
        "pmdec": np.rint(rng.normal(0, 1, n) * pm_sigma).astype(np.int64), "sigpmdec": pm_sigma,
        "cc_flags": cc_flags.astype(object), "ext_flg": ext_flg.astype(np.int64),
        "var_flg": np.where(bands["snr"][:, 0] > 50, "11nn", "nnnn").astype(object),
        "ph_qual": np.array(["".join(q) for q in bands["qual"].tolist()], dtype=object),
    })
    columns["na"] = columns["na"].astype(np.int64)
    for band, offset in (("j", 0.75), ("h", 0.15), ("k", 0.0)):
        columns[f"{band}_m_2mass"] = np.where(two_mass, np.round(k_2mass + offset, 3), np.nan)
        columns[f"{band}_msig_2mass"] = np.where(two_mass, np.round(0.02 + 0.01 * 10 ** (0.4 * (k_2mass - 12)), 3),
                                                 np.nan)
    _pin(columns, pixel)
    ra, dec = columns["ra"], columns["dec"]
    phi, theta = np.radians(ra), np.radians(dec)
    columns.update({"x": np.round(np.cos(theta) * np.cos(phi), 6), "y": np.round(np.cos(theta) * np.sin(phi), 6),
                    "z": np.round(np.sin(theta), 6)})
    return columns


def _pin(columns: dict[str, np.ndarray], pixel: int) -> None:
    """Overwrite the first row of ``pixel`` with each :data:`PINNED` source inside it (the recorded values)."""
    import astropy.units as u
    from astropy.coordinates import SkyCoord

    for row, (ra, dec, mags, sigmas, qual, jhk, jhk_sig) in enumerate(
            p for p in PINNED if int(_healpix().lonlat_to_healpix(p[0] * u.deg, p[1] * u.deg)) == pixel):
        coord = SkyCoord(ra * u.deg, dec * u.deg, frame="icrs")
        columns["ra"][row], columns["dec"][row] = ra, dec
        columns["designation"][row] = _designations(np.array([ra]), np.array([dec]))[0]
        columns["glon"][row], columns["glat"][row] = round(coord.galactic.l.deg, 7), round(coord.galactic.b.deg, 7)
        ecl = coord.barycentrictrueecliptic
        columns["elon"][row], columns["elat"][row] = round(ecl.lon.deg, 7), round(ecl.lat.deg, 7)
        for b, band in enumerate("1234"):
            columns[f"w{band}mpro"][row], columns[f"w{band}sigmpro"][row] = mags[b], sigmas[b]
            columns[f"w{band}snr"][row] = round(1.0857 / sigmas[b], 1)
        columns["ph_qual"][row] = qual
        for b, band in enumerate("jhk"):
            columns[f"{band}_m_2mass"][row], columns[f"{band}_msig_2mass"][row] = jhk[b], jhk_sig[b]


def _schema():
    import pyarrow as pa

    # IRSA's field metadata keys are "units" and "description" (shared/notes/service_formats.md §11,
    # from irsa-tutorials' wise-allwise-catalog-demo).
    # Nullability as recorded: "ra" is not nullable (wise-allwise-catalog-demo, Schema Access) but
    # "ext_flg" is (cloud-access-intro §6.1 shows pyarrow.Field<ext_flg: int64>, without "not null"),
    # although the Supplement lists neither as ever null; so only ra and dec are declared non-null.
    fields = [pa.field(name, pa.string() if kind == "string" else pa.from_numpy_dtype(np.dtype(kind)),
                       nullable=nullable or name not in ("ra", "dec"), metadata={"units": unit, "description": text})
              for name, (kind, unit, text, nullable) in COLUMNS.items()]
    partitions = [pa.field(name, pa.int32(), metadata={"units": "", "description": text}) for name, text in (
        ("healpix_k0", "HEALPix order 0 (nested) pixel index of the source position."),
        ("healpix_k5", "HEALPix order 5 (nested) pixel index of the source position: the partition."))]
    return pa.schema(fields + partitions)


def _write_catalog(root: Path) -> None:
    """Write every partition, then ``_common_metadata`` and ``_metadata`` (written last: the marker)."""
    tile_counts: dict[str, int] = {}
    partitions = ((f"healpix_k0={pixel >> (2 * ORDER)}/healpix_k5={pixel}/part0.snappy.parquet",
                   _sources(pixel, tile_counts)) for pixel in _pixels())
    write_hive_dataset(root, _schema(), COLUMNS, partitions, row_group_size=5000)


def allwise_catalog_products() -> list[Product]:
    """One product per file of the catalog; the first missing one writes them all."""

    def make(path: Path) -> None:
        # Called only for a missing file: then the cache holds another version of the catalog (or
        # none), so write the whole of this one.
        _write_catalog(Path(str(path).split(CATALOG_PREFIX)[0]) / CATALOG_PREFIX)

    names = ["_common_metadata", "_metadata"] + [
        f"healpix_k0={p >> (2 * ORDER)}/healpix_k5={p}/part0.snappy.parquet" for p in _pixels()]
    return [Product("irsa", "nasa-irsa-wise", f"{CATALOG_PREFIX}/{name}", "us-west-2",
                    f"https://nasa-irsa-wise.s3.us-west-2.amazonaws.com/{CATALOG_PREFIX}/{name}",
                    "application/vnd.apache.parquet", make, meta={"catalog": "allwise"})
            for name in names]
