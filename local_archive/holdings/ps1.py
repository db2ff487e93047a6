"""MAST's holdings: the Pan-STARRS stack skycell 1784.059 (g, r, i, z, y)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

from .common import CRAB, Product, _fits_bytes, _nebula, _rng, _stamp_sources, _write_atomic

PS1_SKYCELL = "1784.059"
PS1_SHAPE = (6261, 6279)  # (ny, nx)
PS1_BANDS = "grizy"
PS1_BZERO, PS1_BSCALE = 3.452766656876, 2.021578472030e-04

# The image header of HDU 1, card by card as recorded in the real g stack of skycell 1784.059 (RAVEN:
# raven-ml/raven @ e962f4fa, contrib/ymir/test/fits/survey/ps1-stack-rice.fits; service_formats.md §4.5),
# except CRPIX2, which that cut file rewrote to -2858 and which is 242 in the original.  ``{band}`` is
# the filter; every other value is the g stack's (the r/i/z/y stacks' own values were not recorded). [H]
_STACK_CARDS = """\
CTYPE1 = 'RA---TAN'
CTYPE2 = 'DEC--TAN'
CRVAL1 = 85.7142791747971
CRVAL2 = 21.9999999999992
CRPIX1 = -22955.
CRPIX2 = 242.
CDELT1 = 6.94444461259988E-05
CDELT2 = 6.94444461259988E-05
PC001001 = -1.
PC001002 = 0.
PC002001 = 0.
PC002002 = 1.
HISTORY ppStack at 2015-02-05T07:24:44.868892
PSLIB_V = '37083'
HISTORY psLib version: tags/ipp-pv3-20140717/psLib@37083
HISTORY psLib source: 60eb6cdc-a59c-4636-a4e0-dba66a9721fd
MODULE_V = '37323:37768'
HISTORY psModules version: tags/ipp-pv3-20140717/psModules@37323:37768
HISTORY psModules source: 60eb6cdc-a59c-4636-a4e0-dba66a9721fd
PHOT_V = '37083'
HISTORY psphot version: tags/ipp-pv3-20140717/psphot@37083
HISTORY psphot source: 60eb6cdc-a59c-4636-a4e0-dba66a9721fd
STATS_V = '37083'
HISTORY ppStats version: tags/ipp-pv3-20140717/ppStats@37083
HISTORY ppStats source: 60eb6cdc-a59c-4636-a4e0-dba66a9721fd
STACK_V = '37083'
HISTORY ppStack version: tags/ipp-pv3-20140717/ppStack@37083
HISTORY ppStack source: 60eb6cdc-a59c-4636-a4e0-dba66a9721fd
NINPUTS = 14 / Number of input images
STK_TYPE = 'DEEP_STACK' / type of stack
STK_ID = '4363018' / type of stack
SKYCELL = 'skycell.1784.059' / type of stack
TESS_ID = 'RINGS.V3' / type of stack
AIRM_SLP = 0. / airmass slope
INP_0000 = 'o6715g0206o.710274.wrp.1384241.skycell.1784.059.fits' / input image n
INP_0001 = 'o6715g0226o.710294.wrp.1384243.skycell.1784.059.fits' / input image n
INP_0002 = 'o6682g0126o.701569.wrp.1420007.skycell.1784.059.fits' / input image n
INP_0003 = 'o6682g0145o.701587.wrp.1420015.skycell.1784.059.fits' / input image n
INP_0004 = 'o5891g0239o.423840.wrp.1429829.skycell.1784.059.fits' / input image n
INP_0005 = 'o5895g0476o.425340.wrp.1429847.skycell.1784.059.fits' / input image n
INP_0006 = 'o5895g0457o.425321.wrp.1429851.skycell.1784.059.fits' / input image n
INP_0007 = 'o5891g0261o.423862.wrp.1429856.skycell.1784.059.fits' / input image n
INP_0008 = 'o6333g0248o.578782.wrp.1429860.skycell.1784.059.fits' / input image n
INP_0009 = 'o6333g0267o.578795.wrp.1429881.skycell.1784.059.fits' / input image n
INP_0010 = 'o5560g0373o.269693.wrp.1429883.skycell.1784.059.fits' / input image n
INP_0011 = 'o6658g0219o.692741.wrp.1429889.skycell.1784.059.fits' / input image n
INP_0012 = 'o6658g0239o.692761.wrp.1429892.skycell.1784.059.fits' / input image n
INP_0013 = 'o5560g0355o.269675.wrp.1429979.skycell.1784.059.fits' / input image n
SCL_0000 = 23.22833 / input image scale factor
SCL_0001 = 23.55989 / input image scale factor
SCL_0002 = 22.91921 / input image scale factor
SCL_0003 = 23.14938 / input image scale factor
SCL_0004 = 23.31123 / input image scale factor
SCL_0005 = 26.17401 / input image scale factor
SCL_0006 = 23.2996 / input image scale factor
SCL_0007 = 23.40758 / input image scale factor
SCL_0008 = 22.75909 / input image scale factor
SCL_0009 = 22.84995 / input image scale factor
SCL_0010 = 22.11251 / input image scale factor
SCL_0011 = 23.25078 / input image scale factor
SCL_0012 = 23.41498 / input image scale factor
SCL_0013 = 22.12292 / input image scale factor
ZPT_0000 = 24.4413 / input image zero point
ZPT_0001 = 24.42634 / input image zero point
ZPT_0002 = 24.46761 / input image zero point
ZPT_0003 = 24.46188 / input image zero point
ZPT_0004 = 24.45853 / input image zero point
ZPT_0005 = 24.34108 / input image zero point
ZPT_0006 = 24.44594 / input image zero point
ZPT_0007 = 24.44943 / input image zero point
ZPT_0008 = 24.47233 / input image zero point
ZPT_0009 = 24.46647 / input image zero point
ZPT_0010 = 24.50322 / input image zero point
ZPT_0011 = 24.45839 / input image zero point
ZPT_0012 = 24.45033 / input image zero point
ZPT_0013 = 24.50107 / input image zero point
EXP_0000 = 43. / input image exptime
EXP_0001 = 43. / input image exptime
EXP_0002 = 43. / input image exptime
EXP_0003 = 43. / input image exptime
EXP_0004 = 43. / input image exptime
EXP_0005 = 43. / input image exptime
EXP_0006 = 43. / input image exptime
EXP_0007 = 43. / input image exptime
EXP_0008 = 43. / input image exptime
EXP_0009 = 43. / input image exptime
EXP_0010 = 43. / input image exptime
EXP_0011 = 43. / input image exptime
EXP_0012 = 43. / input image exptime
EXP_0013 = 43. / input image exptime
AIR_0000 = 1.195 / input image airmass
AIR_0001 = 1.261 / input image airmass
AIR_0002 = 1.084 / input image airmass
AIR_0003 = 1.055 / input image airmass
AIR_0004 = 1.092 / input image airmass
AIR_0005 = 1.075 / input image airmass
AIR_0006 = 1.047 / input image airmass
AIR_0007 = 1.139 / input image airmass
AIR_0008 = 1.061 / input image airmass
AIR_0009 = 1.093 / input image airmass
AIR_0010 = 1.124 / input image airmass
AIR_0011 = 1.108 / input image airmass
AIR_0012 = 1.154 / input image airmass
AIR_0013 = 1.088 / input image airmass
PSCAMERA = 'GPC1' / Camera name
PSFORMAT = 'SKYCELL' / Camera format
IMAGEID = 4363018 / Image identifier
SOURCEID = 35 / Source identifier
HIERARCH FPA.TELESCOPE = 'PS1' / Telescope of origin
HIERARCH FPA.INSTRUMENT = 'GPC1' / Instrument name (according to the instrum
HIERARCH FPA.DETECTOR = 'GPC1' / Detector name
HIERARCH FPA.COMMENT = '' / Observation comment
HIERARCH FPA.OBS.MODE = '' / Observation mode (eg, survey id)
HIERARCH FPA.OBS.GROUP = '' / Observation group (eg, associated images)
HIERARCH FPA.FOCUS = 'NaN' / Telescope focus
AIRMASS = 1. / Airmass at boresight
HIERARCH FPA.FILTERID = '{band}.00000' / Filter used (parsed, abstract name)
HIERARCH FPA.FILTER = '{band}.00000' / Filter used (instrument name)
HIERARCH FPA.POSANGLE = 'NaN' / Position angle of instrument
HIERARCH FPA.ROTANGLE = 'NaN' / Rotator angle of instrument
HIERARCH FPA.RADECSYS = '' / Celestial coordinate system
HIERARCH FPA.RA = 'NaN' / Right Ascension of boresight
HIERARCH FPA.DEC = 'NaN' / Declination of boresight
HIERARCH FPA.LONGITUDE = 'NaN' / West longitude of observatory
HIERARCH FPA.LATITUDE = 'NaN' / Latitude of observatory
HIERARCH FPA.ELEVATION = 'NaN' / Elevation of observatory (meters)
HIERARCH FPA.OBSTYPE = '' / Type of observation
HIERARCH FPA.OBJECT = '' / Object of observation
HIERARCH FPA.ALT = 'NaN' / Altitude of boresight
HIERARCH FPA.AZ = 'NaN' / Azimuth of boresight
HIERARCH FPA.TEMP = 'NaN' / Temperature of focal plane
HIERARCH FPA.M1X = 'NaN' / Primary Mirror X Position
HIERARCH FPA.M1Y = 'NaN' / Primary Mirror Y Position
HIERARCH FPA.M1Z = 'NaN' / Primary Mirror Z Position
HIERARCH FPA.M1TIP = 'NaN' / Primary Mirror TIP
HIERARCH FPA.M1TILT = 'NaN' / Primary Mirror TILT
HIERARCH FPA.M2X = 'NaN' / Primary Mirror X Position
HIERARCH FPA.M2Y = 'NaN' / Primary Mirror Y Position
HIERARCH FPA.M2Z = 'NaN' / Primary Mirror Z Position
HIERARCH FPA.M2TIP = 'NaN' / Primary Mirror TIP
HIERARCH FPA.M2TILT = 'NaN' / Primary Mirror TILT
HIERARCH FPA.ENV.TEMP = 'NaN' / Environment: Temperature
HIERARCH FPA.ENV.HUMID = 'NaN' / Environment: Humidity
HIERARCH FPA.ENV.WIND = 'NaN' / Environment: Wind speed
HIERARCH FPA.ENV.DIR = 'NaN' / Environment: Wind direction
HIERARCH FPA.TELTEMP.M1 = 'NaN' / Telescope Temperatures: M1
HIERARCH FPA.TELTEMP.M1CELL = 'NaN' / Telescope Temperatures: M1 cell
HIERARCH FPA.TELTEMP.M2 = 'NaN' / Telescope Temperatures: M2
HIERARCH FPA.TELTEMP.SPIDER = 'NaN' / Telescope Temperatures: spider
HIERARCH FPA.TELTEMP.TRUSS = 'NaN' / Telescope Temperatures: truss
HIERARCH FPA.TELTEMP.EXTRA = 'NaN' / Telescope Temperatures: extra
HIERARCH FPA.PON.TIME = 'NaN' / Power On Time
HIERARCH FPA.ZP = 25. / Magnitude zero point
HIERARCH CHIP.XSIZE = 0 / Size of chip (pixels)
HIERARCH CHIP.YSIZE = 0 / Size of chip (pixels)
HIERARCH CHIP.TEMP = 'NaN' / Temperature of chip
HIERARCH CHIP.TEMPERATURE = 'NaN' / Temperature of chip
HIERARCH CHIP.ID = '' / Chip identifier
HIERARCH CHIP.SEEING = 'NaN' / Seeing FWHM (pixels)
HIERARCH CHIP.VIDEOCELL = F / Does this OTA have any video cells
HIERARCH CELL.GAIN = 1.057915 / CCD gain (e/count)
HIERARCH CELL.READNOISE = 108.4793 / CCD read noise (e)
HIERARCH CELL.SATURATION = 1149802. / Saturation level (counts)
HIERARCH CELL.BAD = 0. / Bad level (counts)
EXPTIME = 602. / Exposure time (sec)
HIERARCH CELL.DARKTIME = 'NaN' / Time since flush (sec)
HIERARCH CELL.XBIN = 1 / Binning in x
HIERARCH CELL.YBIN = 1 / Binning in y
MJD-OBS = 56248.1392616439 / Time of exposure
HIERARCH CELL.XSIZE = 0 / Size of cell (pixels)
HIERARCH CELL.YSIZE = 0 / Size of cell (pixels)
HIERARCH CELL.XWINDOW = 0 / Start of cell window (pixels)
HIERARCH CELL.YWINDOW = 0 / Start of cell window (pixels)
HIERARCH CELL.TRIMSEC = '[1:6279,1:6261]' / Trim section
HIERARCH CELL.BIASSEC = ''
BZERO = 3.452766656876E+00 / Scaling: TRUE = BZERO + BSCALE * DISK
BSCALE = 2.021578472030E-04 / Scaling: TRUE = BZERO + BSCALE * DISK
BSOFTEN = 7.150399587024E+01 / Scaling: LINEAR = 2 * BSOFTEN * sinh(TRUE/a)
BOFFSET = 3.232116937637E+00 / Scaling: UNCOMP = BOFFSET + LINEAR
BLANK = 32767 / Value for undefined pixels
"""


def ps1_wcs() -> WCS:
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [85.7142791747971, 21.9999999999992]
    wcs.wcs.crpix = [-22955.0, 242.0]
    wcs.wcs.cdelt = [-6.94444461259988e-05, 6.94444461259988e-05]
    return wcs


def _stack_header(band: str) -> fits.Header:
    """The image header of a stack, from the recorded cards (no RADESYS, no EQUINOX: §4.5)."""
    header = fits.Header()
    for line in _STACK_CARDS.format(band=band).splitlines():
        if not line.startswith(("HISTORY", "HIERARCH")):  # "KEY = v" -> the fixed-format "KEY     = v"
            key, rest = line.split("=", 1)
            line = f"{key.strip():<8}= {rest.strip()}"
        header.append(fits.Card.fromstring(line))
    return header


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
        header = _stack_header(band)
        # The recorded HDU 1 says ZSIMPLE (the stack was compressed from a primary image), not ZTENSION.
        header.insert(0, ("SIMPLE", True))
        hdu = fits.CompImageHDU(stored, header=header, compression_type="RICE_1", tile_shape=(1, nx))
        # astropy drops the scaling cards when handed integers; put them back as recorded.
        for key in ("BZERO", "BSCALE", "BLANK"):
            hdu.header.set(key, header[key], header.comments[key], before="BSOFTEN" if key != "BLANK" else None)
        primary = fits.PrimaryHDU()  # BITPIX 16, NAXIS 0, EXTEND T, as recorded (§4.5)
        primary.header["BITPIX"] = (16, "number of bits per data pixel")
        primary.header.add_comment("FITS (Flexible Image Transport System) format is defined in 'Astronomy")
        primary.header.add_comment("and Astrophysics', volume 376, page 359; bibcode: 2001A&A...376..359H")
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


