"""2MASS All-Sky Atlas images: IBE SIA v1, the IBE file tree, and the older ``nph-im_sia`` service.

* ``https://irsa.ipac.caltech.edu/ibe/sia/twomass/allsky/allsky?POS=..&SIZE=..`` (SIA v1; VOTable,
  or CSV with ``RESPONSEFORMAT=CSV``).
* ``https://irsa.ipac.caltech.edu/ibe/data/twomass/allsky/allsky/<ordate><hem>/s<scan>/image/<fname>``.
* ``https://irsa.ipac.caltech.edu/cgi-bin/2MASS/IM/nph-im_sia?type=at&ds=asky&POS=..&SIZE=..`` and the
  image links it returns, ``/cgi-bin/2MASS/IM/nph-im?ds=asky&...&name=<fname>``.

No images are held: the sky is cut into a fixed grid of Atlas images, and each image's bytes are
generated on request from its grid cell and band (seeded, so the same URL always gives the same file).
"""

from __future__ import annotations

import csv
import datetime
import functools
import gzip
import io
import math
import re
import zlib

import numpy as np
from astropy.io import fits
from werkzeug.wrappers import Request, Response

from ..votables import IRSA_SIA1_FIELDS, error_votable, table_votable, to_bytes

__all__ = ["TwoMassAtlas", "star_field"]

HOST = "irsa.ipac.caltech.edu"
IBE_SIA_PATH = "/ibe/sia/twomass/allsky/allsky"
IBE_DATA_PATH = "/ibe/data/twomass/allsky/allsky/"
OLD_SIA_PATH = "/cgi-bin/2MASS/IM/nph-im_sia"
OLD_IMAGE_PATH = "/cgi-bin/2MASS/IM/nph-im"

# Atlas image geometry: 512 x 1024 px, 1"/px (CDELT 0.0002777777845), CRPIX 256.5, 512.5
# [recorded output of the old 2mass SIA tutorial, irsa-tutorials gh-pages sia_2mass_allsky (/tmp/h6/ev/2mass.json):
#  naxis [512 1024], scale [-0.0002777777845 0.0002777777845], crpix [256.5 512.5]].
NAXIS = (512, 1024)
CDELT = 0.0002777777845
CRPIX = (256.5, 512.5)
# The grid spacing is a little smaller than an image, so images overlap as 2MASS scans do and every
# position lies on at least one image. [M: the real scans are 8.5'-wide strips; this grid is a stand-in]
_STEP_RA, _STEP_DEC = 0.125, 0.25
_ROWS = int(180 / _STEP_DEC)

# Band constants: reference/high/low wavelength (m), zero point, 10-sigma magnitude
# [recorded output of nph-im_sia, /tmp/h6/ev/2mass.json: J 1.235e-06/1.404e-06/1.066e-06 magzp 20.8408
#  msnr10 16.567; H 1.662e-06/1.924e-06/1.4e-06 magzp 20.3352 msnr10 15.476; K 2.159e-06/2.434e-06/1.884e-06
#  magzp 20.0396 msnr10 14.709 — magzp/msnr10 are per-image in production, here one value per band].
BANDS = {
    "J": (1.235e-06, 1.404e-06, 1.066e-06, 20.8408, 16.567),
    "H": (1.662e-06, 1.924e-06, 1.4e-06, 20.3352, 15.476),
    "K": (2.159e-06, 2.434e-06, 1.884e-06, 20.0396, 14.709),
}
_EPOCH = datetime.date(1997, 6, 7)  # first night of the 2MASS survey [M: 2MASS Explanatory Supplement, sec. I.1]


def star_field(shape: tuple[int, int], seed: int, *, sky: float, noise: float, stars: int, fwhm: float,
               peak: float, dtype: str = "float32") -> np.ndarray:
    """A seeded sky: flat background, Gaussian noise and Gaussian stars (``shape`` is ``(ny, nx)``)."""
    rng = np.random.default_rng(seed)
    image = rng.normal(sky, noise, shape)
    sigma = fwhm / 2.3548
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    radius = int(4 * sigma) + 1
    for x, y, flux in zip(rng.uniform(0, shape[1], stars), rng.uniform(0, shape[0], stars),
                          peak * rng.pareto(1.5, stars) + peak / 20, strict=True):
        x0, x1 = max(int(x) - radius, 0), min(int(x) + radius + 1, shape[1])
        y0, y1 = max(int(y) - radius, 0), min(int(y) + radius + 1, shape[0])
        dx, dy = xx[y0:y1, x0:x1] - x, yy[y0:y1, x0:x1] - y
        image[y0:y1, x0:x1] += flux * np.exp(-(dx * dx + dy * dy) / (2 * sigma * sigma))
    return image.astype(dtype)


class _Image:
    """One Atlas image position: grid row ``i`` (Dec) and column ``j`` (RA)."""

    def __init__(self, i: int, j: int):
        self.i, self.j = i, j
        self.dec = -90 + (i + 0.5) * _STEP_DEC
        ncol = _columns(i)
        self.ra = (j + 0.5) * 360 / ncol
        # Scan identity: the image number is the grid row; scan and date encode the column.
        self.hem = "n" if self.dec >= -10 else "s"  # Mt Hopkins (n) / CTIO (s) [M]
        self.scan = j % 1000 + 1 if j % 1000 != 999 else 1000
        self.ordate = (_EPOCH + datetime.timedelta(days=_base_day(i) + j // 1000)).strftime("%y%m%d")
        self.number = i + 1

    @property
    def key(self) -> int:
        return 1_000_000 + self.i * 4000 + self.j

    def fname(self, band: str) -> str:
        # 2MASS names: <band>i<scan:3><image:4>.fits(.gz), e.g. hi0760126.fits.gz
        # [IRSA IBE 2MASS layout, e.g. ibe/data/twomass/allsky/allsky/980623n/s076/image/hi0760126.fits.gz,
        #  Caltech-IPAC/firefly TwoMassIbeDataSource; https://irsa.ipac.caltech.edu/ibe/docs/twomass/allsky/allsky/]
        return f"{band.lower()}i{self.scan % 1000:03d}{self.number:04d}.fits"

    def ibe_url(self, band: str) -> str:
        return (f"https://{HOST}{IBE_DATA_PATH}{self.ordate}{self.hem}/s{self.scan % 1000:03d}/image/"
                f"{self.fname(band)}.gz")

    def header(self, band: str) -> fits.Header:
        ref, _, _, magzp, _ = BANDS[band]
        header = fits.Header()
        header["CTYPE1"], header["CTYPE2"] = "RA---SIN", "DEC--SIN"  # 2MASS Atlas images are SIN [M]
        header["CRPIX1"], header["CRPIX2"] = CRPIX
        header["CRVAL1"], header["CRVAL2"] = self.ra, self.dec
        header["CDELT1"], header["CDELT2"] = -CDELT, CDELT
        header["CROTA2"] = 0.0
        header["EQUINOX"] = 2000.0
        header["ORDATE"], header["DIRNAME"] = self.ordate, f"{self.ordate}{self.hem}"
        header["SCANNO"], header["FILTER"], header["MAGZP"] = self.scan, band.lower(), magzp
        header["TELNAME"] = "Hopkins" if self.hem == "n" else "CTIO"
        return header


def _columns(i: int) -> int:
    dec = -90 + (i + 0.5) * _STEP_DEC
    return max(int(math.ceil(360 * math.cos(math.radians(abs(dec) - _STEP_DEC / 2)) / _STEP_RA)), 1)


def _base_day(i: int) -> int:
    return (i * 37) % 1300


def _images_at(ra: float, dec: float, size: tuple[float, float]) -> list[_Image]:
    """Grid images whose footprint overlaps the search box."""
    half = (NAXIS[0] * CDELT / 2, NAXIS[1] * CDELT / 2)
    found = []
    dec0, dec1 = dec - size[1] / 2 - half[1], dec + size[1] / 2 + half[1]
    for i in range(max(int((dec0 + 90) // _STEP_DEC), 0), min(int((dec1 + 90) // _STEP_DEC), _ROWS - 1) + 1):
        ncol = _columns(i)
        centre = _Image(i, 0).dec
        cos_dec = max(math.cos(math.radians(centre)), 1e-3)
        reach = (size[0] / 2 / max(math.cos(math.radians(dec)), 1e-3) + half[0] / cos_dec)
        first = int(((ra - reach) * ncol / 360) // 1)
        for j in range(first, int(((ra + reach) * ncol / 360) // 1) + 1):
            image = _Image(i, j % ncol)
            d_ra = abs((ra - image.ra + 180) % 360 - 180) * cos_dec
            if d_ra <= half[0] + size[0] / 2 and abs(dec - image.dec) <= half[1] + size[1] / 2:
                found.append(image)
    return found[:200]


def _image_from_path(ordate: str, scan: int, number: int) -> _Image | None:
    i = number - 1
    try:
        day = (datetime.datetime.strptime(ordate, "%y%m%d").date() - _EPOCH).days
    except ValueError:
        return None
    k = day - _base_day(i)
    if not 0 <= i < _ROWS or k < 0:
        return None
    j = k * 1000 + (scan - 1 if scan else 999)
    return _Image(i, j) if j < _columns(i) else None


@functools.lru_cache(maxsize=32)
def _fits_bytes(i: int, j: int, band: str) -> bytes:
    image = _Image(i, j)
    # Atlas images are 32-bit float DN; sky ~ a few hundred DN, stars with ~2.5" seeing
    # [recorded seesh 2.6 arcsec, /tmp/h6/ev/2mass.json; the tutorial plots with vmax=1000].
    data = star_field((NAXIS[1], NAXIS[0]), zlib.crc32(f"2mass {image.key} {band}".encode()), sky=300.0, noise=8.0,
                      stars=120, fwhm=2.6, peak=400.0)
    buffer = io.BytesIO()
    fits.PrimaryHDU(np.round(data, 1), header=image.header(band)).writeto(buffer)
    return buffer.getvalue()


def _parse(params: dict[str, str]) -> tuple[float, float, tuple[float, float]]:
    ra, dec = (float(v) for v in params["POS"].split(","))
    if not (0 <= ra <= 360 and -90 <= dec <= 90):
        raise ValueError(f"POS out of range: {params['POS']}")
    size = tuple(float(v) for v in params.get("SIZE", "0").split(","))
    return ra, dec, (size[0], size[-1])


# IBE SIA v1 columns: the sia_* columns IBE's SIA v1 gives every table (as for WISE, service_formats.md §1.2),
# then the 2MASS IBE metadata columns ordate/hemisphere/scanno/fname/... that locate the file
# [https://irsa.ipac.caltech.edu/ibe/sia_v1.html; IBE layout ibe/data/twomass/allsky/allsky/<ordate><hem>/s<scan>/
#  image/<fname>; the exact column list is not recorded: M].
IBE_FIELDS = (
    *(field for field in IRSA_SIA1_FIELDS if field[0].startswith("sia_")),  # IBE's sia_* columns, same order
    ("ordate", "char", "*", None, None),
    ("hemisphere", "char", "*", None, None),
    ("scanno", "int", None, None, None),
    ("fname", "char", "*", None, None),
    ("filter", "char", "*", None, None),
    ("magzp", "double", None, None, None),
)

# The old 2MASS Image Inventory SIA columns, in order, with their types and units
# [recorded output of nph-im_sia?type=at&ds=asky, /tmp/h6/ev/2mass.json]; UCDs are the SIA 1.0 ones [M].
OLD_FIELDS = (
    ("name", "char", "*", None, "VOX:Image_Title"),
    ("download", "char", "*", None, "VOX:Image_AccessReference"),
    ("center_ra", "double", None, "deg", "POS_EQ_RA_MAIN"),
    ("center_dec", "double", None, "deg", "POS_EQ_DEC_MAIN"),
    ("naxes", "int", None, None, "VOX:Image_Naxes"),
    ("naxis", "int", "*", None, "VOX:Image_Naxis"),
    ("scale", "double", "*", "deg", "VOX:Image_Scale"),
    ("format", "char", "*", None, "VOX:Image_Format"),
    ("crpix", "double", "*", None, "VOX:WCS_CoordRefPixel"),
    ("crval", "double", "*", "deg", "VOX:WCS_CoordRefValue"),
    ("crota2", "double", None, "deg", None),
    ("band", "char", "*", None, "VOX:BandPass_ID"),
    ("bref", "double", None, "meters", "VOX:BandPass_RefValue"),
    ("bhi", "double", None, "meters", "VOX:BandPass_HiLimit"),
    ("blo", "double", None, "meters", "VOX:BandPass_LoLimit"),
    ("pers_art", "char", "*", None, None),
    ("glint_art", "char", "*", None, None),
    ("type", "char", "*", None, None),
    ("dataset", "char", "*", None, None),
    ("pixflags", "char", "*", None, None),
    ("id", "char", "*", None, None),
    ("scntr", "char", "*", None, None),
    ("date", "char", "*", None, None),
    ("hem", "char", "*", None, None),
    ("scan", "int", None, None, None),
    ("image", "int", None, None, None),
    ("ut_date", "char", "*", None, None),
    ("coadd_key", "int", None, None, None),
    ("seesh", "double", None, "arcseconds", None),
    ("magzp", "double", None, None, None),
    ("msnr10", "double", None, None, None),
    ("bin", "int", None, None, None),
)


class TwoMassAtlas:
    """The 2MASS All-Sky Atlas image services (see the module docstring)."""

    def register(self, server) -> None:
        server.route(HOST, IBE_SIA_PATH, self.ibe_sia)
        # More specific than FileTree's /ibe/data/ (the server's longest prefix wins).
        server.route(HOST, IBE_DATA_PATH, self.ibe_file)
        server.route(HOST, OLD_SIA_PATH, self.old_sia)
        # A prefix of nph-im_sia too; the longer nph-im_sia route wins for that one.
        server.route(HOST, OLD_IMAGE_PATH, self.old_image)

    # --- IBE SIA v1 ---------------------------------------------------------------------------
    def ibe_sia(self, request: Request, path: str) -> Response:
        if path.rstrip("/") != IBE_SIA_PATH:
            return Response("not found", status=404)
        params = {k.upper(): v for k, v in request.values.items()}
        try:
            ra, dec, size = _parse(params)
        except (KeyError, ValueError) as exc:
            return Response(error_votable(f"Invalid or missing POS/SIZE: {exc}"), content_type="text/xml")
        if max(size) > 5:  # [https://irsa.ipac.caltech.edu/ibe/sia_v1.html: SIZE at most 5 deg, §1.1]
            return Response(error_votable("SIZE must be at most 5 degrees"), content_type="text/xml")
        rows = []
        if params.get("FORMAT", "").upper() != "METADATA":
            for image in _images_at(ra, dec, size):
                for band in BANDS:
                    rows.append(self._ibe_row(image, band))
        if params.get("RESPONSEFORMAT", "").upper() == "CSV":
            return Response(_csv(IBE_FIELDS, rows), content_type="text/csv")
        body = to_bytes(table_votable(IBE_FIELDS, rows, infos={"QUERY_STATUS": "OK"}))
        return Response(body, content_type="text/xml")

    @staticmethod
    def _ibe_row(image: _Image, band: str) -> list:
        ref, hi, lo, magzp, _ = BANDS[band]
        # Title as the IRSA tutorial quotes it: "2MASS All-Sky Data Release H-Band Atlas Image: ..."
        # [irsa-tutorials sia_v1_2mass_allsky.md, comment in section 4]
        title = (f"2MASS All-Sky Data Release {band}-Band Atlas Image: {image.ordate} {image.hem} "
                 f"{image.scan:03d} {image.number:04d}")
        return [title, image.ibe_url(band), 2, "image/fits", image.ra, image.dec, list(NAXIS), list(CRPIX),
                [image.ra, image.dec], "SIN", [-CDELT, CDELT], [-CDELT, -0.0, -0.0, CDELT], band, ref, hi, lo,
                "m", image.ordate, image.hem, image.scan, image.fname(band) + ".gz", band.lower(), magzp]

    def ibe_file(self, request: Request, path: str) -> Response:
        match = re.fullmatch(r"/ibe/data/twomass/allsky/allsky/(\d{6})([ns])/s(\d{3})/image/([jhk])i(\d{3})(\d{4})"
                             r"\.fits(\.gz)?", path)
        image = _image_from_path(match[1], int(match[3]), int(match[6])) if match else None
        if image is None or image.hem != match[2] or f"{image.scan % 1000:03d}" != match[5]:
            return Response(f"the local archive does not hold {path}", status=404, content_type="text/plain")
        data = _fits_bytes(image.i, image.j, match[4].upper())
        if match[7]:
            # IBE serves the stored .fits.gz file as is [IBE layout, *.fits.gz names; ibe/docs/twomass]
            return Response(gzip.compress(data, mtime=0, compresslevel=1), content_type="application/x-gzip")
        return Response(data, content_type="application/fits")

    # --- old 2MASS Image Inventory SIA ------------------------------------------------------------
    def old_sia(self, request: Request, path: str) -> Response:
        if path != OLD_SIA_PATH:
            return Response("not found", status=404)
        params = {k.upper(): v for k, v in request.values.items()}
        try:
            ra, dec, size = _parse(params)
        except (KeyError, ValueError) as exc:
            return Response(error_votable(f"Invalid or missing POS/SIZE: {exc}"), content_type="text/xml")
        rows = []
        for image in _images_at(ra, dec, size):
            # Each image is listed twice: the FITS file and an HTML preview page, bands J, H, K
            # [recorded output: rows J image/fits, J text/html, H ..., /tmp/h6/ev/2mass.json].
            for band in BANDS:
                rows.append(self._old_row(image, band, fits_link=True))
                rows.append(self._old_row(image, band, fits_link=False))
        body = to_bytes(table_votable(OLD_FIELDS, rows, infos={"QUERY_STATUS": "OK"}))
        return Response(body, content_type="text/xml")

    @staticmethod
    def _old_row(image: _Image, band: str, *, fits_link: bool) -> list:
        ref, hi, lo, magzp, msnr10 = BANDS[band]
        base = f"https://{HOST}:443/cgi-bin/2MASS/IM"  # the recorded links carry :443
        if fits_link:
            link = (f"{base}/nph-im?ds=asky&atdir=/ti08&dh={image.ordate}{image.hem}&scan={image.scan % 1000:03d}"
                    f"&name={image.fname(band)}")
        else:
            link = f"{base}/nph-im_key?ds=asky&key={image.key}&band={band}"
        art = f"{base}/nph-art?arttype=%s&ds=asky&date={image.ordate}&hem={image.hem}&scan={image.scan % 1000:03d}"
        return [f"All-Sky Release Survey {band}-Band Atlas Image: {image.ordate} {image.hem} "
                f"{image.scan % 1000:03d} {image.number:04d}", link, image.ra, image.dec, 2, list(NAXIS),
                [-CDELT, CDELT], "image/fits" if fits_link else "text/html", list(CRPIX), [image.ra, image.dec],
                0.0, band, ref, hi, lo, art % "pers", art % "glint", "A", "asky", "CZ", None, None, image.ordate,
                image.hem, image.scan, image.number, image.ordate, image.key, 2.6, magzp, msnr10, 201030300]

    def old_image(self, request: Request, path: str) -> Response:
        """``nph-im?ds=asky&atdir=..&dh=<ordate><hem>&scan=<scan>&name=<b>i<scan><image>.fits``: the FITS file."""
        params = request.values
        dh, name = params.get("dh", ""), params.get("name", "")
        match = re.fullmatch(r"([jhk])i(\d{3})(\d{4})\.fits", name)
        image = _image_from_path(dh[:6], int(match[2]), int(match[3])) if path == OLD_IMAGE_PATH and match else None
        if image is None or f"{image.ordate}{image.hem}" != dh or f"{image.scan % 1000:03d}" != match[2]:
            return Response("No such image", status=404, content_type="text/plain")
        return Response(_fits_bytes(image.i, image.j, match[1].upper()), content_type="image/fits")


def _csv(fields: tuple, rows: list[list]) -> bytes:
    """IBE's CSV: a header of column names, arrays written space-separated in brackets [M]."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([spec[0] for spec in fields])
    for row in rows:
        writer.writerow(["[" + " ".join(str(v) for v in value) + "]" if isinstance(value, list) else
                         ("" if value is None else value) for value in row])
    return out.getvalue().encode()
