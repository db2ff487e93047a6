"""NASA SkyView: its SIA v1 service and the image generator its answers point at, pixels made on request.

Production: ``https://skyview.gsfc.nasa.gov/cgi-bin/vo/sia.pl?survey=<group>&POS=..&SIZE=..`` lists one
row per survey of the group; each row's URL asks ``/cgi-bin/images`` for a resampled image
(recorded: NAVO workshop notebook ``image_access``, /tmp/h6/ev/navo_image_access.ipynb).  Nothing is
held: each image is synthesised from its request (background plus point sources, seeded by survey
and geometry), so the same URL gives the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import math
import time
from urllib.parse import urlencode

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

from ..httpserver import Request, Response
from ..votables import error_votable, table_votable, to_bytes

__all__ = ["SkyViewService", "SURVEY_GROUPS"]

HOST = "skyview.gsfc.nasa.gov"
SIA_PATH = "/cgi-bin/vo/sia.pl"
IMAGES_PATH = "/cgi-bin/images"

# The ``survey=`` of each SIA record -> the SkyView surveys it lists, in SkyView's row order.
# swiftuvot: recorded (6 rows, NAVO image_access cell 9).  The other groups are the SkyView surveys of
# the registry records the local registry advertises (local_archive/services/registry.py) plus DSS and 2MASS,
# named as SkyView's survey list names them (astroquery.skyview ``list_surveys``,
# https://astroquery.readthedocs.io/en/latest/skyview/skyview.html); their expansion is [M].
SURVEY_GROUPS: dict[str, tuple[str, ...]] = {
    "swiftuvot": ("swiftuvotvint", "swiftuvotbint", "swiftuvotuint", "swiftuvotuvw1int",
                  "swiftuvotuvw2int", "swiftuvotuvm2int"),
    "galex": ("galexnear", "galexfar"),
    "goodsacisfb": ("goodsacisfb",),
    "euve": ("euve83", "euve171", "euve405", "euve555"),
    "wfcf": ("wfcf1", "wfcf2a"),
    "sdss": ("sdssu", "sdssg", "sdssr", "sdssi", "sdssz"),
    "sdssdr7": ("sdssdr7u", "sdssdr7g", "sdssdr7r", "sdssdr7i", "sdssdr7z"),
    "stripe82vla": ("stripe82vla",),
    "dss": ("dss",),
    "dss2": ("dss2r", "dss2b", "dss2ir"),
    "2mass": ("2massj", "2massh", "2massk"),
}
# Every single survey is also a group of itself (SkyView's SIA takes any survey name).
_SURVEYS = tuple(dict.fromkeys(itertools.chain.from_iterable(SURVEY_GROUPS.values())))

# Per survey: (regime, pixel units, background level, source peak scale).  Levels are ours, chosen so an
# image looks like its survey (UVOT intensities ~0.01 cts/s/pixel: the notebook plots with vmax=0.1).
_REGIME = {"swiftuvot": ("Ultraviolet", "counts/s/pixel", 0.004, 0.08),
           "galex": ("Ultraviolet", "counts/s/pixel", 0.002, 0.05),
           "goodsacisfb": ("X-ray", "counts/pixel", 0.0, 3.0),
           "euve": ("EUV", "counts/pixel", 0.05, 2.0),
           "wfcf": ("EUV", "counts/s/pixel", 0.02, 0.5),
           "sdss": ("Optical", "nanomaggies", 0.01, 5.0),
           "sdssdr7": ("Optical", "nanomaggies", 0.01, 5.0),
           "stripe82vla": ("Radio", "Jy/beam", 0.0, 0.005),
           "dss": ("Optical", "Scaled density", 4000.0, 8000.0),
           "dss2": ("Optical", "Scaled density", 4000.0, 8000.0),
           "2mass": ("Infrared", "DN", 300.0, 2000.0)}

# SkyView's SIA v1 columns, names/order/datatypes recorded (NAVO image_access cell 9: Survey, Ra, Dec,
# Dim int32, Size [300 300], Scale [-0.000667 0.000667], Format, PixFlags "F", URL, LogicalName "1"..).
# UCDs are not recorded: the SIA 1.0 standard's (https://www.ivoa.net/documents/SIA/20091116/).
SIA_FIELDS = (
    ("Survey", "char", "*", None, "VOX:Image_Title"),
    ("Ra", "double", None, None, "POS_EQ_RA_MAIN"),
    ("Dec", "double", None, None, "POS_EQ_DEC_MAIN"),
    ("Dim", "int", None, None, "VOX:Image_Naxes"),
    ("Size", "int", "*", None, "VOX:Image_Naxis"),
    ("Scale", "double", "*", None, "VOX:Image_Scale"),
    ("Format", "char", "*", None, "VOX:Image_Format"),
    ("PixFlags", "char", "*", None, "VOX:Image_PixFlags"),
    ("URL", "char", "*", None, "VOX:Image_AccessReference"),
    ("LogicalName", "char", "*", None, "VOX:Image_FileName"),
)

# SkyView's projection and coordinate settings (SkyView-in-a-Jar User's Guide §2.3,
# https://skyview.gsfc.nasa.gov/current/docs/skyviewinajar.html): three-letter projection names.
_PROJECTIONS = {"tan": "TAN", "sin": "SIN", "car": "CAR", "ait": "AIT", "zea": "ZEA", "arc": "ARC", "stg": "STG"}
_COORDINATES = {"j2000": ("RA--", "DEC-", "FK5", 2000.0), "j2000.0": ("RA--", "DEC-", "FK5", 2000.0),
                "j": ("RA--", "DEC-", "FK5", 2000.0), "icrs": ("RA--", "DEC-", "ICRS", None),
                "galactic": ("GLON", "GLAT", None, None), "gal": ("GLON", "GLAT", None, None)}
_MAX_PIXELS = 5000  # a stand-in guard: SkyView also limits the image size it builds


def _group(name: str) -> tuple[str, ...] | None:
    name = name.strip().lower()
    if name in SURVEY_GROUPS:
        return SURVEY_GROUPS[name]
    return (name,) if name in _SURVEYS else None


def _family(survey: str) -> str:
    """The group a single survey belongs to (its header metadata and levels)."""
    return next(group for group, members in SURVEY_GROUPS.items() if survey in members)


def _pair(text: str, kind=float) -> tuple:
    values = [kind(v) for v in text.replace(" ", ",").split(",") if v]
    if not 1 <= len(values) <= 2:
        raise ValueError(text)
    return (values[0], values[-1])


def _position(text: str) -> tuple[float, float]:
    ra, dec = _pair(text)
    if not (math.isfinite(ra) and math.isfinite(dec) and -90 <= dec <= 90):
        raise ValueError(f"invalid position {text!r}")
    return ra % 360, dec


class SkyViewService:
    """``https://skyview.gsfc.nasa.gov/cgi-bin/vo/sia.pl`` (SIA v1) and ``/cgi-bin/images`` (FITS/JPEG)."""

    def __init__(self) -> None:
        self._last_request_id = 0

    def register(self, server) -> None:
        server.route(HOST, SIA_PATH, self.handle_sia)
        server.route(HOST, IMAGES_PATH, self.handle_images)

    # ------------------------------------------------------------------ SIA v1
    def handle_sia(self, request: Request, path: str) -> Response:
        params = {k.lower(): v for k, v in request.values.items()}
        surveys = _group(params.get("survey", ""))
        if surveys is None:
            # SIA 1.0 §4.2 (error response): a VOTable with QUERY_STATUS=ERROR and the reason.
            return _xml(error_votable(f"Unknown survey: {params.get('survey', '')}"))
        fmt = params.get("format", "ALL").strip().lower()
        if fmt == "metadata":
            return _xml(to_bytes(table_votable(SIA_FIELDS, [], infos={"QUERY_STATUS": "OK"})))
        try:
            ra, dec = _position(params["pos"])
            size = _pair(params.get("size", "0"))
            pixels = _pair(params["naxis"], int) if "naxis" in params else (300, 300)
        except (KeyError, ValueError) as exc:
            return _xml(error_votable(f"Invalid or missing POS/SIZE: {exc}"))
        if min(size) <= 0:
            # SkyView builds an image of the requested size; with none it uses the survey's own
            # scale.  Our surveys have no native scale, so keep SkyView's default 300 pixels of 1".
            size = (pixels[0] / 3600, pixels[1] / 3600)
        formats = _formats(fmt)
        rows = []
        for logical, survey in enumerate(surveys, start=1):
            for kind in formats:
                rows.append(self._row(survey, logical, kind, ra, dec, size, pixels))
        return _xml(to_bytes(table_votable(SIA_FIELDS, rows, infos={"QUERY_STATUS": "OK"})))

    def _row(self, survey: str, logical: int, kind: str, ra: float, dec: float,
             size: tuple[float, float], pixels: tuple[int, int]) -> list:
        scale = (size[0] / pixels[0], size[1] / pixels[1])
        # The URL's size is pixels x scale, as recorded (size=0.20000000000000004 for SIZE=0.2).
        query = {"position": f"{ra},{dec}", "survey": survey, "pixels": f"{pixels[0]},{pixels[1]}",
                 "sampler": "LI", "size": f"{pixels[0] * scale[0]},{pixels[1] * scale[1]}",
                 "projection": "Tan", "coordinates": "J2000.0", "requestID": self._request_id()}
        if kind == "image/jpeg":
            query.update(nofits="1", quicklook="jpeg", **{"return": "jpeg"})  # recorded
        else:
            query["return"] = "FITS"  # the FITS form of the same request [M]
        url = f"https://{HOST}{IMAGES_PATH}?{urlencode(query)}"
        return [survey, ra, dec, 2, list(pixels), [-scale[0], scale[1]], kind, "F", url, str(logical)]

    def _request_id(self) -> str:
        """``skv`` + milliseconds, as recorded (skv1764635374731), unique within this server."""
        now = max(int(time.time() * 1000), self._last_request_id + 1)
        self._last_request_id = now
        return f"skv{now}"

    # ------------------------------------------------------------------ images
    def handle_images(self, request: Request, path: str) -> Response:
        params = {k.lower(): v for k, v in request.values.items()}
        try:
            image = _request_image(params)
        except _RequestError as exc:
            return _error_page(str(exc))
        wanted = params.get("return", "fits").lower()
        if wanted in ("jpeg", "jpg"):
            return Response(_jpeg(image.data), content_type="image/jpeg")
        if wanted != "fits":
            return _error_page(f"Unsupported return type: {params.get('return')}")
        buffer = io.BytesIO()
        image.writeto(buffer)
        return Response(buffer.getvalue(), content_type="application/fits")


class _RequestError(ValueError):
    pass


def _formats(fmt: str) -> tuple[str, ...]:
    """SIA 1.0 FORMAT: ALL (default) / GRAPHIC / a MIME type list."""
    if fmt in ("all", ""):
        return ("image/fits", "image/jpeg")
    if fmt == "graphic":
        return ("image/jpeg",)
    wanted = {f.strip() for f in fmt.split(",")}
    return tuple(kind for kind in ("image/fits", "image/jpeg") if kind in wanted)


def _request_image(params: dict[str, str]) -> fits.PrimaryHDU:
    """The image a ``/cgi-bin/images`` request describes (settings per the batch interface page,
    https://skyview.gsfc.nasa.gov/current/docs/batchpage.html: position, survey, pixels, size,
    projection, coordinates, sampler, return)."""
    survey = params.get("survey", "").strip().lower()
    if not survey:
        raise _RequestError("No survey specified")
    if survey not in _SURVEYS:
        raise _RequestError(f"Unable to find survey: {params.get('survey')}")
    try:
        lon, lat = _position(params["position"])
    except KeyError:
        raise _RequestError("No position specified") from None
    except ValueError:
        raise _RequestError(f"Unable to parse position: {params.get('position')}") from None
    try:
        pixels = _pair(params.get("pixels", "300"), int)
        size = _pair(params["size"]) if params.get("size") else (pixels[0] / 3600, pixels[1] / 3600)
    except ValueError:
        raise _RequestError("Invalid pixels or size") from None
    if not (0 < pixels[0] <= _MAX_PIXELS and 0 < pixels[1] <= _MAX_PIXELS) or min(size) <= 0:
        raise _RequestError("Invalid pixels or size")
    projection = _PROJECTIONS.get(params.get("projection", "Tan").lower())
    frame = _COORDINATES.get(params.get("coordinates", "J2000").lower())
    if projection is None or frame is None:
        raise _RequestError("Unsupported projection or coordinates")
    return _image(survey, lon, lat, pixels, size, projection, frame, params.get("sampler", "NN"))


def _wcs(lon: float, lat: float, pixels: tuple[int, int], scale: tuple[float, float], projection: str,
         frame: tuple) -> WCS:
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = [f"{frame[0]}-{projection}", f"{frame[1]}-{projection}"]
    wcs.wcs.crval = [lon, lat]
    wcs.wcs.crpix = [(pixels[0] + 1) / 2, (pixels[1] + 1) / 2]  # the image centre, as SkyView puts it
    wcs.wcs.cdelt = [-scale[0], scale[1]]
    return wcs


def _seed(*parts) -> int:
    return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:8], "little")


def _pixels(survey: str, lon: float, lat: float, shape: tuple[int, int],
            scale: tuple[float, float]) -> np.ndarray:
    """Background + noise + point sources (2" FWHM-ish, at least 1.5 pixels), seeded by survey and field."""
    _, _, background, peak = _REGIME[_family(survey)]
    rng = np.random.default_rng(_seed(survey, round(lon, 6), round(lat, 6), shape, round(scale[0], 10)))
    ny, nx = shape
    data = rng.normal(background, 0.1 * background + 0.05 * peak * 0.05, size=(ny, nx))
    sigma = max(1.5, (2.0 / 3600) / scale[0])
    count = int(rng.integers(15, 40))
    xs, ys = rng.uniform(0, nx, count), rng.uniform(0, ny, count)
    peaks = peak * rng.pareto(1.5, count).clip(0.05, 20)
    yy, xx = np.mgrid[0:ny, 0:nx]
    for x, y, amplitude in zip(xs, ys, peaks, strict=True):
        box = (slice(max(0, int(y - 6 * sigma)), int(y + 6 * sigma) + 1),
               slice(max(0, int(x - 6 * sigma)), int(x + 6 * sigma) + 1))
        data[box] += amplitude * np.exp(-((xx[box] - x) ** 2 + (yy[box] - y) ** 2) / (2 * sigma**2))
    # The requested position is usually the target: an extended source at the centre.
    r2 = (xx - (nx - 1) / 2) ** 2 + (yy - (ny - 1) / 2) ** 2
    data += 2 * peak * np.exp(-r2 / (2 * (min(nx, ny) / 12) ** 2))
    return data.astype(np.float32)


def _image(survey: str, lon: float, lat: float, pixels: tuple[int, int], size: tuple[float, float],
           projection: str, frame: tuple, sampler: str) -> fits.PrimaryHDU:
    scale = (size[0] / pixels[0], size[1] / pixels[1])
    wcs = _wcs(lon, lat, pixels, scale, projection, frame)
    data = _pixels(survey, lon, lat, (pixels[1], pixels[0]), scale)
    return fits.PrimaryHDU(data, _header(survey, data, wcs, frame, sampler, size, pixels))


def _header(survey: str, data: np.ndarray, wcs: WCS, frame: tuple, sampler: str,
            size: tuple[float, float], pixels: tuple[int, int]) -> fits.Header:
    """SkyView's card set: the WCS, survey metadata comments, survey cards and processing history.

    Production's count is recorded (116 cards for a 300x300 swiftuvotvint image, NAVO image_access
    cell 16); the card names follow SkyView's FITS writer: the ``SkyView Survey metadata`` comment
    block with ``Name:`` padded to 13 characters and wrapped at 70 (SkyView source,
    skyview/survey/XMLSurvey HeaderUpdateCallBack), then HISTORY of the settings used.
    """
    regime, units, _, _ = _REGIME[_family(survey)]
    header = fits.Header()
    header["DATAMAX"] = (float(np.nanmax(data)), "Maximum value in image")
    header["DATAMIN"] = (float(np.nanmin(data)), "Minimum value in image")
    w = wcs.to_header()
    for key in ("CRVAL1", "CRVAL2"):
        header[key] = (w[key], "Reference longitude" if key.endswith("1") else "Reference latitude")
    if frame[2] is not None:
        header["RADESYS"] = (frame[2], "Coordinate system")
    if frame[3] is not None:
        header["EQUINOX"] = (frame[3], "Epoch of the equinox")
    for key in ("CTYPE1", "CTYPE2", "CRPIX1", "CRPIX2", "CDELT1", "CDELT2"):
        header[key] = (w[key], w.comments[key])
    header.add_comment("")
    header.add_comment(" SkyView Survey metadata ")
    header.add_comment("")
    metadata = (("Provenance", "NASA/HEASARC SkyView (local stand-in: synthetic pixels)"),
                ("Copyright", "Public domain"), ("Regime", regime), ("NSurvey", "1"),
                ("Survey", survey), ("PixelUnits", units),
                ("Coverage", "Requested field; resampled on request"),
                ("PixelScale", f"{abs(wcs.wcs.cdelt[0]) * 3600:.4g} arcsec (as requested)"),
                ("Coordinates", "Equatorial" if frame[0] == "RA--" else "Galactic"),
                ("Projection", wcs.wcs.ctype[0][-3:]), ("Epoch", "Various"),
                ("Reference", "https://skyview.gsfc.nasa.gov"))
    for name, value in metadata:
        text = f"{name + ':':<13}{value}"
        while text:  # SkyView wraps at 70 characters, continuation lines indented by 10
            header.add_comment(text[:70])
            text = ("          " + text[70:]) if len(text) > 70 else ""
    header.add_comment("")
    header.add_comment(" Survey specific cards ")
    header.add_comment("")
    # append(bottom=True): astropy would otherwise slot these before the commentary block.
    header.append(("SURVEY", survey, "Survey"), bottom=True)
    header.append(("BUNIT", units, "Pixel units"), bottom=True)
    header.add_history("")
    header.add_history("Settings used in processing:")
    header.add_history("")
    settings = (("Survey", survey), ("Position", f"{wcs.wcs.crval[0]},{wcs.wcs.crval[1]}"),
                ("Pixels", f"{pixels[0]},{pixels[1]}"), ("Size", f"{size[0]},{size[1]}"),
                ("Sampler", sampler), ("Projection", wcs.wcs.ctype[0][-3:].capitalize()),
                ("Coordinates", "J2000" if frame[0] == "RA--" else "Galactic"), ("Scaling", "Linear"),
                ("Resolver", "SIMBAD-NED"), ("Deedger", "skyview.geometry.Deedger"),
                ("Output", "stdout"), ("Return", "FITS"))
    for name, value in settings:
        header.add_history(f"{name}={value}")
    header.add_history("")
    header.add_history(f"Map generated at: {_stamp(survey, wcs)}")
    header.add_history("")
    header.add_history(f"Resampler used: {sampler}")
    header.add_history("")
    header.add_history(f"{survey} image for field at {wcs.wcs.crval[0]:.6f},{wcs.wcs.crval[1]:.6f}")
    # Pad with SkyView's per-pixel-range history lines up to production's recorded 116 cards
    # (SIMPLE..NAXIS2 add 5 when the HDU is made).
    line = 0
    while len(header) + 5 < 116:
        line += 1
        header.add_history(f"  Source image {line}: {survey} synthetic tile")
    return header


def _stamp(survey: str, wcs: WCS) -> str:
    """A deterministic generation time so the same request gives the same bytes."""
    seconds = 1_700_000_000 + _seed(survey, tuple(wcs.wcs.crval)) % 50_000_000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


def _jpeg(data: np.ndarray) -> bytes:
    """The quick-look JPEG: linear scaling between the 0.5 and 99.5 percentiles, north up."""
    from PIL import Image

    low, high = np.nanpercentile(data, [0.5, 99.5])
    scaled = np.clip((data - low) / max(high - low, 1e-12), 0, 1)
    image = Image.fromarray((255 * scaled[::-1]).astype(np.uint8), mode="L")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def _xml(body: bytes) -> Response:
    return Response(body, content_type="text/xml")


def _error_page(message: str) -> Response:
    """SkyView's image errors come back as an HTML page (production form not recorded [L])."""
    body = (f"<html><head><title>SkyView Error</title></head><body><h2>Error processing SkyView request"
            f"</h2><p>{_escape(message)}</p></body></html>")
    return Response(body, status=400, content_type="text/html")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
