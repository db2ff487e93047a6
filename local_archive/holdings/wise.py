"""IRSA's AllWISE Atlas holdings: two Atlas tiles, each with its four bands' intensity, uncertainty and coverage maps.

* ``0830p227_ac51`` holds the Crab (shared/notes/service_formats.md §1.3: the tile name is derived there).
* ``3150p772_ac51`` is the tile IRSA's own SIA v2 tutorial finds (irsa-tutorials ``sia-allwise-atlas``,
  recorded output: centre 315.021854, 77.236667, 30 rows).

Each band has ``-w<b>-int-3.fits`` (4095x4095 float32, as IRSA's), ``-w<b>-unc-3.fits.gz`` and
``-w<b>-cov-3.fits.gz`` (§1.3: IBE URLs and S3 keys).  The uncertainty and coverage maps have the real
size and WCS but smooth, derived values, so that gzip keeps them small and generation fast.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.wcs import WCS

from .common import CRAB, IRSA_IBE, Product, _fits_bytes, _nebula, _rng, _write_atomic

__all__ = ["WISE_BANDS", "WISE_TILES", "WISE_TILE", "WISE_CENTER", "wise_products", "wise_wcs", "tile_relpath"]

WISE_TILE = "0830p227_ac51"
WISE_CENTER = (83.076923, 22.716667)
WISE_TILES = {  # coadd_id: tile centre (RA, Dec), §1.3 and the recorded SIA v2 rows (s_ra, s_dec)
    WISE_TILE: WISE_CENTER,
    "3150p772_ac51": (315.021854, 77.236667),
}
WISE_NAXIS = 4095
WISE_CDELT = 0.0003819444391411
WISE_BANDS = {  # band: (WAVELEN um, MAGZP, MAGZPUNC, sky DN, sia_bp_ref, sia_bp_hi, sia_bp_lo)
    1: (3.368, 20.5, 0.006, 15.0, 3.35e-06, 3.78e-06, 3.13e-06),
    2: (4.618, 19.5, 0.007, 25.0, 4.6e-06, 5.19e-06, 4.02e-06),
    3: (12.082, 18.0, 0.012, 400.0, 1.156e-05, 1.627e-05, 7.6e-06),
    4: (22.194, 13.0, 0.012, 150.0, 2.209e-05, 2.336e-05, 1.984e-05),
}
# Depth of coverage (frames) in the middle of a tile, per band: illustrative.  W3/W4 only saw the
# cryogenic survey, W1/W2 every phase (recorded t_max of 3150p772: W1/W2 later than W3/W4).
_COVERAGE = {1: 32.0, 2: 32.0, 3: 16.0, 4: 16.0}
# FILETYPE of each map (service_formats.md §1.4).
_FILETYPES = {"int": "intensity image", "unc": "1-sigma uncertainty image", "cov": "depth-of-coverage image"}


def wise_wcs(center: tuple[float, float] = WISE_CENTER) -> WCS:
    """The WCS of an Atlas tile: SIN, CRPIX 2048, 1.375"/px, no rotation (§1.3/§1.4)."""
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---SIN", "DEC--SIN"]
    wcs.wcs.crval = list(center)
    wcs.wcs.crpix = [2048.0, 2048.0]
    wcs.wcs.cdelt = [-WISE_CDELT, WISE_CDELT]
    return wcs


def tile_relpath(tile: str, name: str) -> str:
    """``<RR>/<RRRR>/<tile>/<name>``, the path under ``p3am_cdd/`` on IBE and in the bucket (§1.3)."""
    return f"{tile[:2]}/{tile[:4]}/{tile}/{name}"


def _header(tile: str, band: int, kind: str, medint: float | None = None) -> fits.Header:
    wavelen, magzp, magzpunc, *_ = WISE_BANDS[band]
    header = wise_wcs(WISE_TILES[tile]).to_header()
    cards = [
        ("FILETYPE", _FILETYPES[kind], "single-band " + _FILETYPES[kind]),
        ("TELESCOP", "WISE", "Wide-field Infrared Survey Explorer"),
        ("BAND", band, "WISE band number"),
        ("WAVELEN", wavelen, "[microns] effective wavelength of band"),
        ("COADDID", tile, "Atlas Tile coadd ID"),
        ("MAGZP", magzp, "[mag] relative photometric zero point"),
        ("MAGZPUNC", magzpunc, "[mag] 1-sigma uncertainty in zero point"),
    ]
    if kind in ("int", "unc"):
        cards.append(("BUNIT", "DN", "image pixel units"))
    cards += [("CROTA2", 0.0, "[deg] rotation angle"), ("EQUINOX", 2000.0, "equinox of the WCS")]
    if medint is not None:
        cards.append(("MEDINT", medint, "[DN] median of intensity pixels"))
    for key, value, comment in cards:
        header[key] = (value, comment)
    return header


# The Atlas PSF, FWHM in arcsec per band, of a single frame (recorded in tractor's WISE reader, index id
# 45283022059: ``fwhms = {1: 6.1, 2: 6.4, 3: 6.5, 4: 12.0}``).  Atlas tiles are PSF-matched-filtered coadds
# (WISE Explanatory Supplement, AllWISE sec4_1b/sec2_3), so a point source in them is the PSF convolved
# with itself: sqrt(2) times wider, and the pixel noise is correlated on the same scale.
_FRAME_FWHM = {1: 6.1, 2: 6.4, 3: 6.5, 4: 12.0}
# 5-sigma point-source limits (Vega mag) of a typical AllWISE tile: 16.9, 16.0, 11.5, 8.0 (AllWISE
# Explanatory Supplement sec2_1, "sensitivity"; [M], typical depth, not this tile's).
_LIMIT_MAG = {1: 16.9, 2: 16.0, 3: 11.5, 4: 8.0}
# The Crab's surface brightness in DN per Atlas pixel (peak of ``_nebula``), from its integrated mid-IR
# flux densities spread over its ~4'x6' (order of magnitude: ~1 Jy at 3.4-4.6 um, ~10 Jy at 12 um,
# ~30 Jy at 22 um) and the Vega zero points 306.7, 170.7, 29.0, 8.28 Jy of MAGZP (sec4_4h).  [L]
_CRAB_PEAK_DN = {1: 12.0, 2: 10.0, 3: 70.0, 4: 18.0}
# W1 median background: the recorded MEDINT of All-Sky tile 3342p000 W1 is 4.03 DN (tractor, id 45377097648).
_SKY_DN = {1: 4.0, 2: 25.0, 3: 400.0, 4: 150.0}


def _int_header(tile: str, band: int, medint: float) -> fits.Header:
    """The primary header of ``-w<b>-int-3.fits``.

    Card names, order and comments are those recorded or documented (service_formats.md \u00a71.4):
    SIMPLE..NAXIS2, FILETYPE and TELESCOP in the order and with the comments of the WISE FPG interface
    specification (http://wise2.ipac.caltech.edu/docs/doc_tree/sis/FPGlev3_02.txt); the WCS block and
    BAND/WAVELEN/COADDID/MAGZP/MEDINT with the comments and number formats of real Atlas headers quoted
    in tractor's WISE reader (index ids 45377097648, 45251027210); CRVAL/EQUINOX/ELON/ELAT documented in
    https://wise2.ipac.caltech.edu/docs/release/allwise/expsup/sec4_1b.html and the Atlas Image
    Inventory Table (sec2_4h).  The real header has 71 cards (\u00a71.4); the others are not recorded
    anywhere I could read, so they are left out rather than invented.
    """
    wavelen, magzp, magzpunc, *_ = WISE_BANDS[band]
    ra, dec = WISE_TILES[tile]
    ecl = SkyCoord(ra * u.deg, dec * u.deg, frame="icrs").barycentrictrueecliptic
    cards = [
        ("SIMPLE", True, "file does conform to FITS standard"),
        ("BITPIX", -32, "number of bits per data pixel"),
        ("NAXIS", 2, "number of data axes"),
        ("NAXIS1", WISE_NAXIS, "length of data axis 1"),
        ("NAXIS2", WISE_NAXIS, "length of data axis 2"),
        ("FILETYPE", _FILETYPES["int"], "product description"),
        ("TELESCOP", "WISE", "telescope used to acquire data"),
        ("BAND", band, "wavelength band number"),
        ("WAVELEN", wavelen, "[microns] effective wavelength of band"),
        ("COADDID", tile, "atlas-image identifier"),
        ("MAGZP", magzp, "[mag] relative photometric zero point"),
        ("MAGZPUNC", magzpunc, "[mag] 1-sigma uncertainty in zero point"),
        ("MEDINT", medint, "[DN] median of intensity pixels"),
        ("BUNIT", "DN", "image pixel units"),
        ("CTYPE1", "RA---SIN", "Projection type for axis 1"),
        ("CTYPE2", "DEC--SIN", "Projection type for axis 2"),
        ("CRPIX1", 2048.0, "Axis 1 reference pixel at CRVAL1,CRVAL2"),
        ("CRPIX2", 2048.0, "Axis 2 reference pixel at CRVAL1,CRVAL2"),
        ("CDELT1", -WISE_CDELT, "Axis 1 scale at CRPIX1,CRPIX2 (deg/pix)"),
        ("CDELT2", WISE_CDELT, "Axis 2 scale at CRPIX1,CRPIX2 (deg/pix)"),
        ("CROTA2", 0.0, "Image twist: +axis2 W of N, J2000.0 (deg)"),
        ("CRVAL1", ra, "RA at CRPIX1,CRPIX2 for EQUINOX (deg)"),
        ("CRVAL2", dec, "Dec at CRPIX1,CRPIX2 for EQUINOX (deg)"),
        ("EQUINOX", 2000.0, "Equinox of the WCS (year)"),
        ("ELON", round(float(ecl.lon.deg), 6), "[deg] ecliptic longitude of CRPIX1,CRPIX2"),
        ("ELAT", round(float(ecl.lat.deg), 6), "[deg] ecliptic latitude of CRPIX1,CRPIX2"),
    ]
    # The recorded number formats: CRPIX/CROTA2 as 2048.000000 and 0.000000, CDELT with 16 decimals.
    formatted = {"CRPIX1": "2048.000000", "CRPIX2": "2048.000000", "CROTA2": "0.000000",
                 "CDELT1": "-0.0003819444391411", "CDELT2": "0.0003819444391411"}
    header = fits.Header()
    for key, value, comment in cards:
        if key in formatted:
            header.append(fits.Card.fromstring(f"{key:<8}= {formatted[key]:>20} / {comment}"))
        else:
            header.append(fits.Card(key, value, comment))
    return header


def _star_field(tile: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Positions (pixels), W1 magnitudes and W1-W3 colours of the point sources of a tile (seeded).

    One list per tile, shared by the four bands: WISE sees the same stars in every band.  Counts follow
    log10 N(<m) = slope * m with slope 0.33 per mag, normalised to ~9,000 stars/deg^2 brighter than
    W1 = 16 at |b| ~ 6 deg, falling as exp(-|b|/12 deg) away from the plane (the Crab tile's b is -5.8);
    AllWISE averages 747M sources over the sky, ~18,000/deg^2 to its limit (sec1 of the AllWISE
    Explanatory Supplement).  [M: an order-of-magnitude model, not a catalogue]
    """
    rng = _rng(f"wise-stars-{tile}")
    ra, dec = WISE_TILES[tile]
    b = abs(float(SkyCoord(ra * u.deg, dec * u.deg).galactic.b.deg))
    area = (WISE_NAXIS * WISE_CDELT) ** 2
    slope, m_bright, m_faint = 0.33, 5.0, 18.0
    n16 = 9000.0 * np.exp(-(b - 6.0) / 12.0) * area
    count = int(n16 * 10 ** (slope * (m_faint - 16.0)))
    # Inverse transform of a truncated exponential in magnitude, dN/dm ~ 10**(slope m).
    k = slope * np.log(10)
    lo, hi = np.exp(k * m_bright), np.exp(k * m_faint)
    mag = np.log(lo + (hi - lo) * rng.random(count)) / k
    x, y = rng.uniform(-0.5, WISE_NAXIS - 0.5, (2, count))
    # Stars have W1-W2 ~ 0 and W1-W3 ~ 0 (Rayleigh-Jeans); a few percent are red (YSOs, AGB stars,
    # galaxies) with W1-W3 of 1-4 mag, the sources that dominate W3/W4 away from bright stars.
    colour = np.where(rng.random(count) < 0.04, rng.uniform(1.0, 4.0, count), rng.normal(0.05, 0.05, count))
    return x, y, mag, colour


def _smooth(image: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian convolution (numpy only): the Atlas matched filter, stars and noise together."""
    half = int(np.ceil(3.5 * sigma))
    kernel = np.exp(-0.5 * (np.arange(-half, half + 1) / sigma) ** 2).astype(np.float32)
    kernel /= kernel.sum()
    out = np.zeros_like(image)
    padded = np.pad(image, ((0, 0), (half, half)), mode="reflect")
    n = image.shape[1]
    for i, w in enumerate(kernel):
        out += w * padded[:, i : i + n]
    padded = np.pad(out, ((half, half), (0, 0)), mode="reflect")
    out[:] = 0
    for i, w in enumerate(kernel):
        out += w * padded[i : i + n, :]
    return out


def _diffuse(tile: str, band: int) -> np.ndarray:
    """Galactic diffuse emission (DN): a latitude gradient plus cirrus, on a coarse grid, interpolated.

    Interstellar dust (W4) and its PAH bands (W3) brighten towards the plane; W1/W2 see almost none.
    Amplitudes are illustrative.  [L]
    """
    amplitude = {1: 0.02, 2: 0.03, 3: 6.0, 4: 3.0}[band]
    rng = _rng(f"wise-cirrus-{tile}")  # the same clouds in every band
    n, coarse = WISE_NAXIS, 65
    spectrum = rng.standard_normal((coarse, coarse)) + 1j * rng.standard_normal((coarse, coarse))
    f = np.hypot(*np.meshgrid(np.fft.fftfreq(coarse), np.fft.fftfreq(coarse)))
    field = np.real(np.fft.ifft2(spectrum * np.where(f > 0, f, np.inf) ** -1.4))
    field = (field - field.mean()) / field.std()
    grid = np.linspace(0, n - 1, coarse)
    ra, dec = wise_wcs(WISE_TILES[tile]).pixel_to_world_values(*np.meshgrid(grid, grid))
    b = np.abs(SkyCoord(ra * u.deg, dec * u.deg).galactic.b.deg)
    coarse_map = amplitude * (np.exp(-b / 5.0) * 4.0 + 0.5 * np.exp(0.5 * field))
    # Bilinear interpolation of the coarse map onto the tile, separably.
    t = np.arange(n) * (coarse - 1) / (n - 1)
    i0 = np.minimum(t.astype(int), coarse - 2)
    w = (t - i0).astype(np.float32)
    rows = coarse_map[i0] * (1 - w)[:, None] + coarse_map[i0 + 1] * w[:, None]  # (n, coarse)
    return (rows[:, i0] * (1 - w) + rows[:, i0 + 1] * w).astype(np.float32)


def _make_int(tile: str, band: int) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        n = WISE_NAXIS
        rng = _rng(f"wise-noise-{tile}-{band}")
        frame_sigma = _FRAME_FWHM[band] / 2.3548 / 1.375
        magzp = WISE_BANDS[band][1]
        # White noise chosen so that, after the matched filter, a source at the 5-sigma limit has a peak
        # S/N of 5: S/N = F / (2 sqrt(pi) s sigma_w) for a Gaussian PSF of width s (optimal PSF fit).
        f_limit = 10 ** (-0.4 * (_LIMIT_MAG[band] - magzp))
        sigma_w = f_limit / (5 * 2 * np.sqrt(np.pi) * frame_sigma)
        image = rng.standard_normal((n, n), dtype=np.float32) * np.float32(sigma_w)
        x, y, mag, colour = _star_field(tile)
        band_mag = mag - {1: 0.0, 2: 0.3 * colour, 3: colour, 4: 1.3 * colour}[band]
        flux = 10 ** (-0.4 * (band_mag - magzp))
        # Point sources as deltas (bilinear over the 4 nearest pixels), then the PSF with the noise.
        ix, iy = np.floor(x).astype(int), np.floor(y).astype(int)
        fx, fy = x - ix, y - iy
        flat = image.reshape(-1)
        for dx, dy, weight in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)),
                               (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
            xi, yi = ix + dx, iy + dy
            ok = (xi >= 0) & (xi < n) & (yi >= 0) & (yi < n)
            flat += np.bincount(yi[ok] * n + xi[ok], (flux * weight)[ok], minlength=n * n).astype(np.float32)
        image = _smooth(image, frame_sigma)  # the matched filter: stars become sqrt(2) frame PSFs wide
        image += _diffuse(tile, band) + np.float32(_SKY_DN[band])
        cx, cy = (float(v) for v in wise_wcs(WISE_TILES[tile]).world_to_pixel_values(*CRAB))
        if 0 <= cx < n and 0 <= cy < n:  # the nebula, where the tile holds it
            x0, y0 = int(cx) - 300, max(int(cy) - 300, 0)
            window = image[y0 : int(cy) + 300, x0 : int(cx) + 300]
            window += _nebula(window.shape, cx - x0, cy - y0, scale_px=60 / 1.375, peak=_CRAB_PEAK_DN[band])
        header = _int_header(tile, band, float(np.median(image)))
        hdu = fits.PrimaryHDU(image, header=header)
        for card in header.cards[:5]:  # astropy rewrites the mandatory cards' comments; keep the FPG ones
            hdu.header.comments[card.keyword] = card.comment
        _write_atomic(path, _fits_bytes(fits.HDUList([hdu])))

    return make


def _coverage(band: int) -> np.ndarray:
    """Depth of coverage: smooth along the scan direction, in steps of 0.5 frames (so it compresses)."""
    n = WISE_NAXIS
    profile = _COVERAGE[band] * (0.75 + 0.5 * np.sin(np.linspace(0.2, 2.9, n)))
    profile = (np.round(profile * 2) / 2).astype(np.float32)
    return np.broadcast_to(profile[:, None], (n, n))


def _make_map(tile: str, band: int, kind: str) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        cover = _coverage(band)
        if kind == "cov":
            data = np.ascontiguousarray(cover)
        else:  # 1-sigma: the single-frame noise of the intensity maps, scaled by the depth
            sigma = np.float32(0.08 * WISE_BANDS[band][3] ** 0.5 + 2.0)
            data = np.round(sigma * np.sqrt(_COVERAGE[band] / cover), 3).astype(np.float32)
        hdul = fits.HDUList([fits.PrimaryHDU(data, header=_header(tile, band, kind))])
        _write_atomic(path, gzip.compress(_fits_bytes(hdul), compresslevel=6, mtime=0))

    return make


def _product(tile: str, band: int, kind: str) -> Product:
    suffix = "-3.fits" if kind == "int" else "-3.fits.gz"
    rel = tile_relpath(tile, f"{tile}-w{band}-{kind}{suffix}")
    make = _make_int(tile, band) if kind == "int" else _make_map(tile, band, kind)
    # IRSA's SIA v2 gives the .fits.gz maps access_format application/x-gzip (§2).
    content_type = "image/fits" if kind == "int" else "application/x-gzip"
    return Product("irsa", "nasa-irsa-wise", f"wise/allwise/images/p3am_cdd/{rel}", "us-west-2", IRSA_IBE + rel,
                   content_type, make,
                   meta={"band": band, "coadd_id": tile, "center": WISE_TILES[tile], "kind": kind,
                         "naxis": (WISE_NAXIS, WISE_NAXIS), "cdelt": WISE_CDELT})


def wise_products() -> list[Product]:
    """Every held Atlas file: for each tile and band, the int, unc and cov maps."""
    return [_product(tile, band, kind) for tile in WISE_TILES for band in WISE_BANDS for kind in ("int", "unc", "cov")]
