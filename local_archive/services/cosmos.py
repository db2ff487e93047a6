"""COSMOS images at IRSA: the Atlas SIA v1 service and the Subimage cutout service its links point to.

* ``https://irsa.ipac.caltech.edu/cgi-bin/Atlas/nph-atlas?mission=COSMOS&...&SIAP_ACTIVE=1&POS=..&SIZE=..``
  (the access URL of the registry record ``ivo://irsa.ipac/cosmos/images``, local_archive/services/registry.py).
* ``https://irsa.ipac.caltech.edu/cgi-bin/Subimage/nph-subimage?origfile=/irsadata/COSMOS//<fname>&ra=..&dec=..
  &xsize=<deg>``: a cutout, generated on request from the band and position (seeded).
"""

from __future__ import annotations

import io
import math
import zlib
from urllib.parse import quote

import numpy as np
from astropy.io import fits
from werkzeug.wrappers import Request, Response

from ..votables import error_votable, table_votable, to_bytes
from .twomass import star_field

__all__ = ["CosmosAtlas"]

HOST = "irsa.ipac.caltech.edu"
ATLAS_PATH = "/cgi-bin/Atlas/nph-atlas"
SUBIMAGE_PATH = "/cgi-bin/Subimage/nph-subimage"
_ORIG_PREFIX = "/irsadata/COSMOS//"
FIELD_CENTRE = (150.1191667, 2.2058333)  # COSMOS field centre, 10:00:28.6 +02:12:21 [M: Scoville et al. 2007]
FIELD_SIDE = 1.6  # deg; the 2 deg^2 field [irsa-tutorials sia_v1_cosmos.md introduction]
MAX_CUTOUT = 1500  # px; bounds a cutout from the 0.03"/px ACS images [M: local limit]

# Band names served, exactly the set the tutorial printed [recorded output, irsa-tutorials gh-pages
# sia_v1_cosmos (/tmp/h6/ev/cosmos.json), np.unique(im_results['band_name'])].
# Per group: facility, instrument, pixel scale (arcsec) and a wavelength (m) per band [M unless noted;
# ACS I: HST/ACS, 0.03"/px, 8.0874e-07 m recorded].
_GROUPS = (
    ("Chandra", "ACIS", 0.5, {"0.5-2.0 keV": 1.0e-09, "0.5-7.0 keV": 6.0e-10, "2.0-7.0 keV": 3.0e-10,
                              "2.0-8 keV": 2.8e-10}),
    ("XMM", "EPIC", 4.0, {"4.5-10 keV": 1.7e-10}),
    ("VLA", "VLA", 0.35, {"20 cm": 0.2, "3 GHz": 0.1, "90 cm": 0.9}),
    ("HST", "ACS", 0.03, {"I": 8.0874e-07, "F814W": 8.0e-07, "F606W": 6.0e-07}),
    ("HST", "WFC3", 0.06, {"F125W": 1.25e-06, "F140W": 1.4e-06, "F160W": 1.54e-06}),
    ("GALEX", "GALEX", 1.5, {"FUV": 1.53e-07, "NUV": 2.31e-07}),
    ("Subaru", "Suprime-Cam", 0.15, {
        "B": 4.46e-07, "V": 5.48e-07, "g+": 4.78e-07, "r+": 6.29e-07, "i+": 7.68e-07, "z+": 9.04e-07,
        "z++": 9.1e-07, "IA427": 4.26e-07, "IA464": 4.63e-07, "IA484": 4.85e-07, "IA505": 5.06e-07,
        "IA527": 5.26e-07, "IA574": 5.76e-07, "IA624": 6.23e-07, "IA679": 6.78e-07, "IA709": 7.07e-07,
        "IA738": 7.36e-07, "IA767": 7.68e-07, "IA827": 8.24e-07, "IB427": 4.26e-07, "IB464": 4.63e-07,
        "IB505": 5.06e-07, "IB574": 5.76e-07, "IB709": 7.07e-07, "IB827": 8.24e-07, "NB711": 7.12e-07,
        "NB816": 8.15e-07}),
    ("CFHT", "MegaCam", 0.15, {"u": 3.8e-07, "g": 4.8e-07, "r": 6.2e-07, "i": 7.6e-07, "z": 8.9e-07}),
    ("KPNO", "Mosaic", 0.15, {"U": 3.6e-07}),
    ("VISTA", "VIRCAM", 0.15, {"Y": 1.02e-06, "J": 1.25e-06, "H": 1.65e-06, "Ks": 2.15e-06, "NB118": 1.18e-06}),
    ("Magellan", "FourStar", 0.15, {"J1": 1.05e-06, "J2": 1.14e-06, "J3": 1.28e-06, "H1": 1.56e-06,
                                    "H2": 1.71e-06}),
    ("Spitzer", "IRAC", 0.6, {"IRAC1": 3.6e-06, "IRAC2": 4.5e-06, "IRAC3": 5.8e-06, "IRAC4": 8.0e-06}),
    ("Spitzer", "MIPS", 1.2, {"MIPS24": 2.4e-05, "MIPS70": 7.0e-05, "MIPS160": 1.6e-04}),
    ("Herschel", "PACS", 1.5, {"PACS100": 1.0e-04, "PACS160": 1.6e-04}),
    ("Herschel", "SPIRE", 6.0, {"SPIRE250": 2.5e-04, "SPIRE350": 3.5e-04, "SPIRE500": 5.0e-04}),
    ("ALMA", "ALMA", 0.3, {"band3": 3.0e-03, "band6": 1.3e-03, "band7": 8.7e-04}),
)
BANDS = {band: (facility, instrument, scale, wavelength)
         for facility, instrument, scale, bands in _GROUPS for band, wavelength in bands.items()}
# File names: the IRAC1 one is recorded (images/spitzer/irac/irac_ch1_go2_sci_10.fits, /tmp/h6/ev/cosmos.json);
# the others follow the same pattern [M].
_FNAMES = {"IRAC1": "images/spitzer/irac/irac_ch1_go2_sci_10.fits"}

# The 44 columns, in the recorded order, with the recorded units and astropy types
# [recorded output, /tmp/h6/ev/cosmos.json, im_table[:10]]; the sia_* UCDs are SIA 1.0's [M].
FIELDS = (
    ("ra", "double", None, "deg", "POS_EQ_RA_MAIN"), ("dec", "double", None, "deg", "POS_EQ_DEC_MAIN"),
    ("cra", "char", "*", None, None), ("cdec", "char", "*", None, None),
    ("naxis1", "int", None, None, None), ("naxis2", "int", None, None, None),
    ("ctype1", "char", "*", None, None), ("ctype2", "char", "*", None, None),
    ("crval1", "double", None, None, None), ("crval2", "double", None, None, None),
    ("crpix1", "double", None, None, None), ("crpix2", "double", None, None, None),
    ("cdelt1", "double", None, None, None), ("cdelt2", "double", None, None, None),
    ("crota2", "double", None, None, None),
    *((f"{axis}{n}", "double", None, None, None) for n in range(1, 5) for axis in ("ra", "dec")),
    ("equinox", "double", None, None, None), ("hdu", "int", None, None, None),
    ("facility_name", "char", "*", None, None), ("instrument_name", "char", "*", None, None),
    ("dataproduct_type", "char", "*", None, None), ("file_type", "char", "*", None, None),
    ("band_name", "char", "*", None, "VOX:BandPass_ID"), ("wavelength", "double", None, None, None),
    ("access_estsize", "int", None, None, None), ("s_fov", "double", None, None, None),
    ("tile", "int", None, None, None), ("fname", "char", "*", None, None), ("dataset", "char", "*", None, None),
    ("cutout", "char", "*", None, None), ("sia_desc", "char", "*", None, "VOX:Image_Title"),
    ("sia_naxes", "int", None, None, "VOX:Image_Naxes"), ("sia_naxis", "int", "2", None, "VOX:Image_Naxis"),
    ("sia_scale", "double", "2", None, "VOX:Image_Scale"), ("sia_cdmatrix", "double", "4", None, "VOX:WCS_CDMatrix"),
    ("sia_format", "char", "*", None, "VOX:Image_Format"), ("sia_url", "char", "*", None, "VOX:Image_AccessReference"),
)


def _fname(band: str) -> str:
    facility, instrument, _, _ = BANDS[band]
    safe = band.replace(" ", "").replace("+", "p").replace(".", "")
    return _FNAMES.get(band, f"images/{facility.lower()}/{instrument.lower()}/{safe}_sci.fits")


def _band_of(fname: str) -> str | None:
    return next((band for band in BANDS if _fname(band) == fname), None)


def _sexagesimal(value: float, units: str, decimals: int, *, sign: bool) -> str:
    """``09h 59m 50.85s`` / ``+02d 14m 00.3s``, as the cra/cdec columns are written [recorded, cosmos.json]."""
    total = round(abs(value) * 3600, decimals)
    whole, minutes, seconds = int(total // 3600), int(total % 3600 // 60), total % 60
    text = f"{whole:02d}{units[0]} {minutes:02d}{units[1]} {seconds:0{3 + decimals}.{decimals}f}{units[2]}"
    return ("-" if value < 0 else "+") + text if sign else text


def _row(band: str, ra: float, dec: float, size: float) -> list:
    facility, instrument, scale, wavelength = BANDS[band]
    cdelt = scale / 3600
    npix = int(round(FIELD_SIDE / cdelt))
    cra, cdec = FIELD_CENTRE
    half = FIELD_SIDE / 2
    corners = [(cra + dx * half / math.cos(math.radians(cdec)), cdec + dy * half)
               for dx, dy in ((1, -1), (-1, -1), (-1, 1), (1, 1))]
    fname = _fname(band)
    # Cutout links: 6 decimals and the search size in degrees, with :443 kept
    # [recorded sia_url, /tmp/h6/ev/cosmos.json: ...nph-subimage?origfile=/irsadata/COSMOS//images%2F...
    #  &ra=149.999860&dec=2.248750&xsize=0.041667].
    url = (f"https://{HOST}:443{SUBIMAGE_PATH}?origfile={_ORIG_PREFIX}{quote(fname, safe='')}"
           f"&ra={ra:.6f}&dec={dec:.6f}&xsize={size:.6f}")
    return [round(cra, 3), round(cdec, 3),
            _sexagesimal(cra / 15, "hms", 2, sign=False), _sexagesimal(cdec, "dms", 1, sign=True),
            npix, npix, "RA---TAN", "DEC--TAN", cra, cdec, npix / 2, npix / 2, -cdelt, cdelt, 0.0,
            *(v for corner in corners for v in corner), 2000.0, 0, facility, instrument, "image", "science",
            band, wavelength, int(npix * npix * 4 / 1024), FIELD_SIDE, -99, fname, f"{facility}-{instrument}",
            "YES", "Cosmic Evolution Survey with HST (COSMOS)", 2, [npix, npix], [-cdelt, cdelt],
            [-cdelt, -0.0, -0.0, cdelt], "image/fits", url]


class CosmosAtlas:
    """COSMOS SIA v1 and its cutouts (see the module docstring)."""

    def register(self, server) -> None:
        server.route(HOST, ATLAS_PATH, self.sia)
        server.route(HOST, SUBIMAGE_PATH, self.subimage)

    def sia(self, request: Request, path: str) -> Response:
        params = {k.upper(): v for k, v in request.values.items()}
        if params.get("MISSION", "").upper() != "COSMOS" or path != ATLAS_PATH:
            return Response(error_votable("Only mission=COSMOS is served here"), content_type="text/xml")
        try:
            ra, dec = (float(v) for v in params["POS"].split(","))
            size = float(params.get("SIZE", "0").split(",")[0])
        except (KeyError, ValueError) as exc:
            return Response(error_votable(f"Invalid or missing POS/SIZE: {exc}"), content_type="text/xml")
        rows = []
        half = FIELD_SIDE / 2
        inside = (abs((ra - FIELD_CENTRE[0] + 180) % 360 - 180) * math.cos(math.radians(dec)) <= half + size / 2
                  and abs(dec - FIELD_CENTRE[1]) <= half + size / 2)
        if inside and params.get("FORMAT", "").upper() != "METADATA":
            rows = [_row(band, ra, dec, size) for band in BANDS]
        body = to_bytes(table_votable(FIELDS, rows, infos={"QUERY_STATUS": "OK"}))
        return Response(body, content_type="text/xml")

    def subimage(self, request: Request, path: str) -> Response:
        params = request.values
        origfile = params.get("origfile", "")
        band = _band_of(origfile[len(_ORIG_PREFIX):]) if origfile.startswith(_ORIG_PREFIX) else None
        try:
            ra, dec, xsize = float(params["ra"]), float(params["dec"]), float(params["xsize"])
        except (KeyError, ValueError):
            return Response("Subimage: ra, dec and xsize are required", status=400, content_type="text/plain")
        if band is None or path != SUBIMAGE_PATH:
            return Response(f"Subimage: no such file {origfile}", status=404, content_type="text/plain")
        return Response(_cutout(band, ra, dec, xsize), content_type="image/fits")


def _cutout(band: str, ra: float, dec: float, xsize: float) -> bytes:
    """A float64 TAN cutout centred on the position [recorded: IRAC1, xsize 0.041667 -> (250, 250) float64]."""
    _, _, scale, _ = BANDS[band]
    cdelt = scale / 3600
    npix = min(max(int(round(xsize / cdelt)), 1), MAX_CUTOUT)
    seed = zlib.crc32(f"cosmos {band} {ra:.5f} {dec:.5f} {npix}".encode())
    data = star_field((npix, npix), seed, sky=0.0, noise=0.01, stars=max(npix * npix // 2500, 3),
                      fwhm=max(1.7 / scale, 1.5), peak=0.5, dtype="float64")
    header = fits.Header()
    header["CTYPE1"], header["CTYPE2"] = "RA---TAN", "DEC--TAN"
    header["CRPIX1"], header["CRPIX2"] = (npix + 1) / 2, (npix + 1) / 2
    header["CRVAL1"], header["CRVAL2"] = ra, dec
    header["CDELT1"], header["CDELT2"] = -cdelt, cdelt
    header["EQUINOX"] = 2000.0
    header["BAND"] = band
    buffer = io.BytesIO()
    fits.PrimaryHDU(np.asarray(data, dtype=">f8"), header=header).writeto(buffer)
    return buffer.getvalue()
