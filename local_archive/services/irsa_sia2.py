"""IRSA's SIA v2 service (``https://irsa.ipac.caltech.edu/SIA``), answered from the local holdings.

Columns, types and units follow the recorded IRSA answer (51 ObsCore-based
columns with ``cloud_access``).  Collections answered from the holdings:
``wise_allwise`` (every file of a held Atlas tile: per band the science, weight
and noise maps and the auxiliary artifact tables, 30 rows a tile as IRSA
answers) and ``spitzer_seip`` (every file of a held super-mosaic group).
"""

from __future__ import annotations

import math

from astropy.wcs import WCS

from ..holdings.common import IRSA_IBE, Product, separation_deg
from ..holdings.spitzer import seip_wcs
from ..holdings.wise import tile_relpath, wise_wcs
from ..httpserver import Request, Response
from ..votables import cloud_access_json, error_votable, table_votable, to_bytes

__all__ = ["IrsaSia2", "SIA2_URL", "SIA2_FIELDS", "sia2_records"]

HOST = "irsa.ipac.caltech.edu"
SIA2_URL = f"https://{HOST}/SIA"
_C = ("char", "*")
SIA2_FIELDS = [
    ("s_ra", "double", None, "deg", "pos.eq.ra"), ("s_dec", "double", None, "deg", "pos.eq.dec"),
    ("facility_name", *_C, None, "meta.id;instr.tel"), ("instrument_name", *_C, None, "meta.id;instr"),
    ("dataproduct_subtype", *_C, None, None), ("calib_level", "short", None, None, "meta.code;obs.calib"),
    ("dataproduct_type", *_C, None, "meta.id"), ("energy_bandpassname", *_C, None, None),
    ("energy_emband", *_C, None, None), ("obs_id", *_C, None, "meta.id"),
    ("s_resolution", "double", None, "arcsec", "pos.angResolution"),
    ("em_min", "double", None, "m", "em.wl;stat.min"), ("em_max", "double", None, "m", "em.wl;stat.max"),
    ("em_res_power", "double", None, None, "spect.resolution"), ("proposal_title", *_C, None, None),
    ("access_url", *_C, None, "meta.ref.url"), ("access_format", *_C, None, "meta.code.mime"),
    ("access_estsize", "long", None, "kbyte", "phys.size;meta.file"),
    ("t_exptime", "double", None, "s", "time.duration;obs.exposure"),
    ("s_region", *_C, "deg", "pos.outline;obs.field"), ("obs_collection", *_C, None, "meta.id"),
    ("obs_intent", *_C, None, None), ("algorithm_name", *_C, None, None), ("facility_keywords", *_C, None, None),
    ("instrument_keywords", *_C, None, None), ("environment_photometric", "boolean", None, None, None),
    ("proposal_id", *_C, None, None), ("proposal_pi", *_C, None, None), ("proposal_project", *_C, None, None),
    ("target_name", *_C, None, "meta.id;src"), ("target_type", *_C, None, None),
    ("target_standard", "boolean", None, None, None), ("target_moving", "boolean", None, None, None),
    ("target_keywords", *_C, None, None), ("obs_release_date", *_C, None, None),
    ("s_xel1", "long", None, None, "meta.number"), ("s_xel2", "long", None, None, "meta.number"),
    ("s_pixel_scale", "double", None, "arcsec", "phys.angSize;instr.pixel"),
    ("position_timedependent", "boolean", None, None, None),
    ("t_min", "double", None, "d", "time.start;obs.exposure"), ("t_max", "double", None, "d", "time.end;obs.exposure"),
    ("t_resolution", "double", None, "s", None), ("t_xel", "long", None, None, None),
    ("obs_publisher_did", *_C, None, "meta.ref.ivoid"), ("s_fov", "double", None, "deg", "phys.angSize;instr.fov"),
    ("em_xel", "long", None, None, None), ("pol_states", *_C, None, None), ("pol_xel", "long", None, None, None),
    ("cloud_access", *_C, None, None), ("o_ucd", *_C, None, None), ("upload_row_id", "long", None, None, None),
]


_INDEX = {field[0]: i for i, field in enumerate(SIA2_FIELDS)}

# SIA 2.0 (IVOA REC 2015-12-23, §2.2, http://www.ivoa.net/Documents/SIA/20151223/): each of these
# parameters constrains one ObsCore column by exact match; repeated values of one parameter are ORed,
# different parameters ANDed.  CALIB is an integer.
_COLUMN_PARAMETERS = {"FACILITY": "facility_name", "INSTRUMENT": "instrument_name",
                      "DPTYPE": "dataproduct_type", "CALIB": "calib_level", "FORMAT": "access_format"}


def _column_constraints(args) -> dict[str, set]:
    """``{column: allowed values}`` from the request's FACILITY, INSTRUMENT, DPTYPE, CALIB and FORMAT."""
    wanted: dict[str, set] = {}
    for parameter, column in _COLUMN_PARAMETERS.items():
        values = args.getlist(parameter)
        if not values:
            continue
        if parameter == "CALIB":
            try:
                wanted[column] = {int(v) for v in values}
            except ValueError:
                raise ValueError(f"CALIB must be an integer calibration level, got {values!r}") from None
        else:
            wanted[column] = set(values)
    return wanted


def _band_test(text: str):
    """SIA 2.0 BAND (metres): ``lo hi`` (``-Inf``/``+Inf`` open) overlaps em_min..em_max; one value lies inside.

    IRSA documents both forms (service_formats.md §11, ibe/sia.html).
    """
    values = [float(v) for v in text.split()]
    lo, hi = (values[0], values[0]) if len(values) == 1 else (values[0], values[1])
    if len(values) not in (1, 2) or lo > hi:
        raise ValueError(f"BAND must be one wavelength or an interval in metres, got {text!r}")
    return lambda em_min, em_max: em_min <= hi and em_max >= lo


# --- footprints ---------------------------------------------------------------------------------------


class _Footprint:
    """An image's sky footprint, for POS tests and ``s_region``."""

    def __init__(self, wcs: WCS, naxis: tuple[int, int], cdelt: float):
        self.wcs, self.naxis, self.cdelt = wcs, naxis, cdelt
        self.center = tuple(float(v) for v in wcs.wcs.crval)
        self.radius = math.hypot(*naxis) * cdelt / 2  # centre to corner
        edges = [(0.5, 0.5), (naxis[0] + 0.5, 0.5), (naxis[0] + 0.5, naxis[1] + 0.5), (0.5, naxis[1] + 0.5)]
        self.corners = [tuple(float(v) for v in wcs.all_pix2world([edge], 1)[0]) for edge in edges]

    def s_region(self) -> str:
        """``POLYGON ICRS`` of the pixel-edge corners, closed, as IRSA writes it (recorded 3150p772 rows)."""
        points = [*self.corners, self.corners[0]]
        return "POLYGON ICRS " + " ".join(f"{ra:.12f} {dec:.12f}" for ra, dec in points)

    def touches_circle(self, ra: float, dec: float, radius: float) -> bool:
        if separation_deg(ra, dec, *self.center) > radius + self.radius:
            return False
        x, y = (float(v) for v in self.wcs.all_world2pix([[ra, dec]], 1)[0])
        margin = radius / self.cdelt
        low = 0.5 - margin
        return low <= x <= self.naxis[0] + 0.5 + margin and low <= y <= self.naxis[1] + 0.5 + margin

    def touches_range(self, ra0: float, ra1: float, dec0: float, dec1: float) -> bool:
        ras = [c[0] for c in self.corners]
        decs = [c[1] for c in self.corners]
        return min(decs) <= dec1 and max(decs) >= dec0 and min(ras) <= ra1 and max(ras) >= ra0


def _parse_pos(text: str):
    """A predicate over a footprint for CIRCLE and RANGE (SIA 2.0 §2.1.1); ValueError otherwise."""
    shape, *numbers = text.split()
    values = [float(v) for v in numbers]
    if shape.upper() == "CIRCLE" and len(values) == 3:
        return lambda footprint: footprint.touches_circle(*values)
    if shape.upper() == "RANGE" and len(values) == 4:
        return lambda footprint: footprint.touches_range(*values)
    raise ValueError(f"unsupported POS {text!r} (use CIRCLE ra dec r or RANGE ra1 ra2 dec1 dec2)")


# --- AllWISE Atlas rows ---------------------------------------------------------------------------------

# Per band, from the recorded wise_allwise answer for 3150p772 (irsa-tutorials sia-allwise-atlas, build
# 29ffc7b7bd17df7f3f9a4710a14ccaf0.html): energy_bandpassname, s_resolution (arcsec), em_min, em_max (m).
_WISE_BAND_ROWS = {1: (6.1, 3e-06, 4e-06), 2: (6.4, 4e-06, 5e-06), 3: (6.5, 8e-06, 1.6e-05), 4: (12.0, 2e-05, 2.4e-05)}
# t_exptime per band, t_min and t_max per band: recorded for 3150p772 only.  For the Crab tile the
# values are not seen; 3150p772's stand in for them.
_WISE_TIMES = {1: (532.9863, 55233.770473, 55440.572047), 2: (548.5634, 55233.770473, 55440.572047),
               3: (277.7632, 55233.770473, 55242.306194), 4: (277.9216, 55233.770473, 55242.306194)}
# The files of one band, in the order IRSA lists them: W3 and W1 as recorded (8 and 7 rows); W4 begins with
# art-D and W2 ends with mfflag, unc as recorded, the rest of their order is not seen.  A band's rows hold its
# int (science), cov (weight), unc (noise) maps and its artifact tables art-D/H/O/P plus the tile's
# mfflag table (auxiliary); 3150p772's W1 has no art-O row, and 30 rows in all means one more band
# lacks one: W2 here.  The bands come W3, W4, W2, W1 as recorded.
_WISE_FILES = {
    3: ("int", "art-H", "cov", "art-P", "mfflag", "art-D", "art-O", "unc"),
    4: ("art-D", "int", "cov", "art-H", "art-O", "art-P", "mfflag", "unc"),
    2: ("int", "cov", "art-H", "art-D", "art-P", "mfflag", "unc"),
    1: ("unc", "art-P", "art-H", "art-D", "mfflag", "int", "cov"),
}
_WISE_KINDS = {"int": ("science", "image/fits"), "cov": ("weight", "application/x-gzip"),
               "unc": ("noise", "application/x-gzip")}  # other files: auxiliary, text/plain (recorded)


def _wise_file(tile: str, band: int, kind: str) -> str:
    if kind == "mfflag":
        return f"{tile}-mfflag-3.tbl"
    if kind.startswith("art-"):
        return f"{tile}-art-w{band}-{kind[4:]}.tbl"
    return f"{tile}-w{band}-{kind}-3.fits" + ("" if kind == "int" else ".gz")


def _wise_rows(product: Product) -> list[tuple[list, _Footprint]]:
    """The rows of one band of one Atlas tile (``product`` is its held int map)."""
    band, tile = product.meta["band"], product.meta["coadd_id"]
    ra, dec = product.meta["center"]
    footprint = _Footprint(wise_wcs((ra, dec)), product.meta["naxis"], product.meta["cdelt"])
    resolution, em_min, em_max = _WISE_BAND_ROWS[band]
    exptime, t_min, t_max = _WISE_TIMES[band]
    rows = []
    for kind in _WISE_FILES[band]:
        rel = tile_relpath(tile, _wise_file(tile, band, kind))
        subtype, access_format = _WISE_KINDS.get(kind, ("auxiliary", "text/plain"))
        rows.append(([
            ra, dec, "Wide-field Infrared Survey Explorer", "WISE", subtype, 3, "image", f"W{band}", "Infrared",
            tile, resolution, em_min, em_max, None, "Wide-field Infrared Survey Explorer - AllWISE Atlas Images",
            IRSA_IBE + rel, access_format, None, exptime, footprint.s_region(), "wise_allwise", "science",
            "mosaic", "", "", None, "", "Edward L. Wright", "WISE", "", "field", False, False, "",
            "2013-11-13 00:00:00", 4095, 4095, 1.375, False, t_min, t_max, None, None,
            f"ivo://irsa.ipac/wise_allwise?{tile}/{tile}_W{band}", 4095 * product.meta["cdelt"], None, "", None,
            cloud_access_json("nasa-irsa-wise", f"wise/allwise/images/p3am_cdd/{rel}", "us-west-2"), "",
        ], footprint))
    return rows


# --- Spitzer SEIP rows ----------------------------------------------------------------------------------

# energy_bandpassname as a client of the real service filters on it ('IRAC1'..'IRAC4', 'MIPS24': index id
# 58611751488) [M]; s_resolution the instruments' PSF FWHM (arcsec) and em_min/em_max their bandpasses (m)
# from the IRAC and MIPS instrument handbooks [M].
_SEIP_BANDS = {("IRAC", 1): ("IRAC1", 1.66, 3.18e-06, 3.94e-06), ("IRAC", 2): ("IRAC2", 1.72, 4.0e-06, 5.0e-06),
               ("IRAC", 3): ("IRAC3", 1.88, 5.0e-06, 6.4e-06), ("IRAC", 4): ("IRAC4", 1.98, 6.4e-06, 9.3e-06),
               ("MIPS", 1): ("MIPS24", 5.9, 2.08e-05, 2.61e-05)}
# dataproduct_subtype per file type: mosaics (mean and median) are science (astroquery's documentation selects
# SEIP mosaics as 'science'; the Fornax notebook drops 'median' and 'short' URLs from its science rows), by
# analogy with wise_allwise unc files are noise and cov files weight; the rest auxiliary [M].
_SEIP_SUBTYPES = {"mosaic": "science", "median_mosaic": "science", "unc": "noise", "median_mosaic_unc": "noise",
                  "cov": "weight"}
# Order of a channel's rows: the recorded COSMOS answer begins std, brightmask, extmask, unc, mosaic (IRAC 4).
_SEIP_ORDER = ("std", "brightmask", "extmask", "unc", "mosaic", "cov", "median_mosaic", "median_mosaic_unc")


def _seip_row(product: Product) -> tuple[list, _Footprint]:
    meta = product.meta
    footprint = _Footprint(seip_wcs(meta["center"], meta["instrument"]), meta["naxis"], meta["cdelt"])
    name, resolution, em_min, em_max = _SEIP_BANDS[(meta["instrument"], meta["channel"])]
    ra, dec = meta["center"]
    stem = product.key.rsplit("/", 1)[-1].rsplit(".", 2)[0]
    return ([
        ra, dec, "Spitzer Space Telescope", meta["instrument"], _SEIP_SUBTYPES.get(meta["seip"], "auxiliary"), 3,
        "image", name, "Infrared", meta["obs_id"], resolution, em_min, em_max, None,
        "Spitzer Enhanced Imaging Products - Super Mosaics", product.https_url, "image/fits",
        None, None, footprint.s_region(), "spitzer_seip", "science", "mosaic", "", "", None, "", "",
        "SEIP", "", "field", False, False, "", "", meta["naxis"][0], meta["naxis"][1], meta["cdelt"] * 3600,
        False, None, None, None, None, f"ivo://irsa.ipac/spitzer_seip?{meta['obs_id']}/{stem}",
        meta["naxis"][0] * meta["cdelt"], None, "", None,
        cloud_access_json(product.bucket, product.key, product.region), "",
    ], footprint)


def sia2_records(products: list[Product]) -> list[tuple[list, _Footprint]]:
    """Every row IRSA's SIA v2 can answer from the holdings, in the order it lists them, with its footprint."""
    records = []
    wise = {(p.meta["coadd_id"], p.meta["band"]): p for p in products
            if p.archive == "irsa" and p.meta.get("kind") == "int"}
    for tile in dict.fromkeys(tile for tile, _ in wise):
        for band in (3, 4, 2, 1):
            if (tile, band) in wise:
                records += _wise_rows(wise[(tile, band)])
    seip = [p for p in products if "seip" in p.meta]
    groups = list(dict.fromkeys(p.meta["obs_id"] for p in seip))
    channels = sorted({(p.meta["obs_id"], p.meta["channel"]) for p in seip},
                      key=lambda c: (groups.index(c[0]), -c[1]))  # channel 4 first, as recorded
    for obs_id, channel in channels:
        group = {p.meta["seip"]: p for p in seip if p.meta["obs_id"] == obs_id and p.meta["channel"] == channel}
        records += [_seip_row(group[kind]) for kind in _SEIP_ORDER if kind in group]
    return records


class IrsaSia2:
    """``/SIA`` (query) and ``/SIA/capabilities``."""

    def __init__(self, products: list[Product]):
        self.records = sia2_records(products)

    def register(self, server) -> None:
        server.route(HOST, "/SIA", self.handle)

    def handle(self, request: Request, path: str) -> Response:
        if path.rstrip("/") == "/SIA/capabilities":
            return Response(_CAPABILITIES, content_type="text/xml")
        if path.rstrip("/") != "/SIA":
            return Response(f"no such SIA resource: {path}", status=404)
        try:
            tests = [_parse_pos(v) for v in request.args.getlist("POS")]
            bands = [_band_test(v) for v in request.args.getlist("BAND")]
            wanted = _column_constraints(request.args)
        except ValueError as exc:
            return Response(error_votable(str(exc)), content_type="text/xml")
        # An unknown collection is not an error at IRSA: the answer is an empty table
        # (astroquery issue #3213, recorded 2025-02-18).
        collections = {v.lower() for v in request.args.getlist("COLLECTION")}
        rows = []
        for row, footprint in self.records:
            if collections and row[_INDEX["obs_collection"]] not in collections:
                continue
            if tests and not any(test(footprint) for test in tests):
                continue
            if bands and not any(test(row[_INDEX["em_min"]], row[_INDEX["em_max"]]) for test in bands):
                continue
            if all(row[_INDEX[column]] in values for column, values in wanted.items()):
                rows.append([*row, 1])  # upload_row_id is 1 on every recorded row (no UPLOAD)
        status = "OK"
        maxrec = request.args.get("MAXREC")
        if maxrec and maxrec.isdigit():
            # MAXREC=0 is IRSA's metadata query (service_formats.md §11): the columns, no rows.
            status = "OVERFLOW" if len(rows) > int(maxrec) > 0 else "OK"
            rows = rows[: int(maxrec)]
        votable = table_votable(SIA2_FIELDS, rows, infos={"QUERY_STATUS": status})
        # ObsCore 1.1 Table 6 gives access_url the utype obscore:Access.Reference: what pyvo's getdataurl
        # looks for (IRSA's answer has it: siav2_seip's recorded getdataurl() prints the SEIP mosaic URL).
        votable.get_first_table().get_field_by_id("access_url").utype = "obscore:Access.Reference"
        return Response(to_bytes(votable), content_type="application/x-votable+xml")


_CAPABILITIES = f"""<?xml version="1.0" encoding="UTF-8"?>
<vosi:capabilities xmlns:vosi="http://www.ivoa.net/xml/VOSICapabilities/v1.0"
    xmlns:vs="http://www.ivoa.net/xml/VODataService/v1.1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <capability standardID="ivo://ivoa.net/std/VOSI#capabilities">
    <interface xsi:type="vs:ParamHTTP"><accessURL use="full">{SIA2_URL}/capabilities</accessURL></interface>
  </capability>
  <capability standardID="ivo://ivoa.net/std/SIA#query-2.0">
    <interface xsi:type="vs:ParamHTTP" role="std" version="2.0"><accessURL use="base">{SIA2_URL}</accessURL></interface>
  </capability>
</vosi:capabilities>
"""
