"""IRSA's SIA v2 service (``https://irsa.ipac.caltech.edu/SIA``), answered from the local holdings.

Columns, types and units follow the recorded IRSA answer (51 ObsCore-based
columns with ``cloud_access``).  IRSA returns science, weight, noise and
auxiliary rows per band; the local archive holds the science images only, so
it returns those.
"""

from __future__ import annotations

import math

from .data import Product, separation_deg
from .httpserver import Request, Response
from .votables import cloud_access_json, error_votable, table_votable, to_bytes
from .wise import WISE_BANDS

__all__ = ["IrsaSia2", "SIA2_URL"]

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


def _parse_pos(text: str):
    """A predicate over (ra, dec, half-width of a tile) for CIRCLE and RANGE; ValueError otherwise."""
    shape, *numbers = text.split()
    values = [float(v) for v in numbers]
    if shape.upper() == "CIRCLE" and len(values) == 3:
        ra, dec, radius = values
        return lambda c_ra, c_dec, half: separation_deg(ra, dec, c_ra, c_dec) <= radius + half * math.sqrt(2)
    if shape.upper() == "RANGE" and len(values) == 4:
        ra0, ra1, dec0, dec1 = values
        return lambda c_ra, c_dec, half: (ra0 - half <= c_ra <= ra1 + half) and (dec0 - half <= c_dec <= dec1 + half)
    raise ValueError(f"unsupported POS {text!r} (use CIRCLE ra dec r or RANGE ra1 ra2 dec1 dec2)")


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


class IrsaSia2:
    """``/SIA`` (query) and ``/SIA/capabilities``."""

    def __init__(self, products: list[Product]):
        self.tiles = [p for p in products if p.archive == "irsa" and "band" in p.meta]

    def register(self, server) -> None:
        server.route(HOST, "/SIA", self.handle)

    def handle(self, request: Request, path: str) -> Response:
        if path.rstrip("/") == "/SIA/capabilities":
            return Response(_CAPABILITIES, content_type="text/xml")
        if path.rstrip("/") != "/SIA":
            return Response(f"no such SIA resource: {path}", status=404)
        try:
            tests = [_parse_pos(v) for v in request.args.getlist("POS")]
        except ValueError as exc:
            return Response(error_votable(str(exc)), content_type="text/xml")
        collections = {v.lower() for v in request.args.getlist("COLLECTION")}
        try:
            wanted = _column_constraints(request.args)
        except ValueError as exc:
            return Response(error_votable(str(exc)), content_type="text/xml")
        rows = []
        for product in self.tiles:
            ra, dec = product.meta["center"]
            half = product.meta["naxis"][0] * product.meta["cdelt"] / 2
            if collections and "wise_allwise" not in collections:
                continue
            if tests and not any(test(ra, dec, half) for test in tests):
                continue
            row = self._row(product, len(rows) + 1)
            if all(row[_INDEX[column]] in values for column, values in wanted.items()):
                rows.append(row)
        maxrec = request.args.get("MAXREC")
        if maxrec and maxrec.isdigit():
            rows = rows[: int(maxrec)]
        body = to_bytes(table_votable(SIA2_FIELDS, rows, infos={"QUERY_STATUS": "OK"}))
        return Response(body, content_type="application/x-votable+xml")

    @staticmethod
    def _row(product: Product, row_id: int) -> list:
        band, tile, cdelt = product.meta["band"], product.meta["coadd_id"], product.meta["cdelt"]
        ra, dec = product.meta["center"]
        wavelen = WISE_BANDS[band][0] * 1e-6
        half = 4095 * cdelt / 2
        corners = " ".join(f"{ra + dx * half / math.cos(math.radians(dec)):.9f} {dec + dy * half:.9f}"
                           for dx, dy in ((1, -1), (-1, -1), (-1, 1), (1, 1), (1, -1)))
        return [ra, dec, "Wide-field Infrared Survey Explorer", "WISE", "science", 3, "image", f"W{band}",
                "Infrared", tile, 6.5, wavelen * 0.85, wavelen * 1.15, None,
                "Wide-field Infrared Survey Explorer - AllWISE Atlas Images", product.https_url, "image/fits",
                None, 277.7632, f"POLYGON ICRS {corners}", "wise_allwise", "science", "mosaic", "", "", None,
                "", "Edward L. Wright", "WISE", "", "field", False, False, "", "2013-11-13 00:00:00", 4095, 4095,
                1.375, False, 55233.770473, 55242.306194, None, None,
                f"ivo://irsa.ipac/wise_allwise?{tile}/{tile}_W{band}", 4095 * cdelt, None, "", None,
                cloud_access_json(product.bucket, product.key, product.region), "", row_id]


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
