"""MAST's portal API as astroquery.mast calls it, answered from the local Pan-STARRS and Hubble holdings.

``columnsconfig`` returns the CAOM column configuration; ``invoke`` answers ``Mast.Caom.Cone``,
``Mast.Caom.Filtered``, ``Mast.Caom.Filtered.Position`` (with MAST's filter semantics: lists, ranges,
wildcards) and ``Mast.Caom.Products``; ``path_lookup`` and the SANTA resolver answer in the recorded
JSON shapes.  Sources: shared/notes/service_formats.md §4, the recorded answers in shared/fixtures
(astropy/astroquery/astroquery/mast/tests/data/*.json, see PROVENANCE.md) and astroquery's MAST
documentation (docs/mast/mast_obsquery.rst at astroquery 2e8c636, which shows the live outputs).
"""

from __future__ import annotations

import fnmatch
import json
import math
from importlib import resources
from typing import Any

from ..holdings.common import Product
from ..holdings.hst import HST_OBSERVATIONS, footprint, hst_key, hst_product_rows
from ..holdings.ps1 import PS1_SKYCELL
from ..httpserver import Request, Response

__all__ = ["MastPortal", "NAMES"]

# Names the stand-in resolvers know (SIMBAD's M 1 position, as MAST's SANTA reports it).
NAMES = {"crab": ("M   1", 83.6324, 22.0174, "SNRemnant"), "m1": ("M   1", 83.6324, 22.0174, "SNRemnant"),
         "crab nebula": ("M   1", 83.6324, 22.0174, "SNRemnant")}

PS1_FOOTPRINT = (83.519, 83.996, 21.969, 22.409)  # RA min, RA max, Dec min, Dec max of skycell 1784.059
# CAOM's observation columns in the order MAST returns them, with the JSON answer's types
# (service_formats.md §4.2; the same 33 names as the CAOM field descriptions page
# https://mast.stsci.edu/api/v0/_c_a_o_mfields.html, types as in the recorded caom.json).
OBS_COLUMNS = [
    ("intentType", "string"), ("obs_collection", "string"), ("provenance_name", "string"),
    ("instrument_name", "string"), ("project", "string"), ("filters", "string"), ("wavelength_region", "string"),
    ("target_name", "string"), ("target_classification", "string"), ("obs_id", "string"), ("s_ra", "float"),
    ("s_dec", "float"), ("dataproduct_type", "string"), ("proposal_pi", "string"), ("calib_level", "int"),
    ("t_min", "float"), ("t_max", "float"), ("t_exptime", "float"), ("em_min", "float"), ("em_max", "float"),
    ("obs_title", "string"), ("t_obs_release", "float"), ("proposal_id", "string"), ("proposal_type", "string"),
    ("sequence_number", "int"), ("s_region", "string"), ("jpegURL", "string"), ("dataURL", "string"),
    ("dataRights", "string"), ("mtFlag", "boolean"), ("srcDen", "float"), ("obsid", "string"),
]
# Trailing columns per service, as astroquery's documentation prints the live answers:
# query_region "... srcDen obsid distance", query_criteria "... obsid objID", with a position
# "... objID objID1 distance" (the recorded advSearchPos.json has the same objID, objID1, distance).
CONE_FIELDS = [*OBS_COLUMNS, ("distance", "float")]
FILTERED_FIELDS = [*OBS_COLUMNS, ("objID", "string")]
POSITION_FIELDS = [*FILTERED_FIELDS, ("objID1", "string"), ("distance", "float")]
# Mast.Caom.Products columns (service_formats.md §4.3), plus ``filters`` that astroquery's documentation
# now shows last ("... dataRights calib_level filters").
PRODUCT_FIELDS = [
    ("obsID", "string"), ("obs_collection", "string"), ("dataproduct_type", "string"), ("obs_id", "string"),
    ("description", "string"), ("type", "string"), ("dataURI", "string"), ("productType", "string"),
    ("productGroupDescription", "string"), ("productSubGroupDescription", "string"),
    ("productDocumentationURL", "string"), ("project", "string"), ("prvversion", "string"),
    ("proposal_id", "string"), ("productFilename", "string"), ("size", "int"), ("parent_obsid", "string"),
    ("dataRights", "string"), ("calib_level", "int"), ("filters", "string"),
]
BAND_NM = {"g": (400.0, 550.0), "r": (550.0, 700.0), "i": (690.0, 820.0), "z": (820.0, 920.0), "y": (920.0, 1100.0)}
# Filter names the Mast.Caom.Cone configuration accepts that are not result columns.  ``wave_region``:
# the Fornax team's notebook (upstream fornax_multiwavelength_image, cell "all_hubble_obs = ...") filters on
# it against production with astroquery >= 0.4.12, which refuses any name missing from this configuration,
# so production's configuration has it; it selects the same wavebands as ``wavelength_region``.
FILTER_ONLY = {"wave_region": "wavelength_region"}
CAOM_SERVICES = ("Mast.Caom.Cone", "Mast.Caom.Filtered", "Mast.Caom.Filtered.Position")


class MastPortal:
    """``mast.stsci.edu`` (portal API and path_lookup) and ``mastresolver.stsci.edu``."""

    def __init__(self, products: list[Product]):
        self.stacks = [p for p in products if p.archive == "mast" and "band" in p.meta]
        held = {p.meta["data_uri"]: p for p in products if p.meta.get("mission") == "HST"}
        self.observations = [self._ps1_observation(i, p) for i, p in enumerate(self.stacks)]
        self._products = {obs["obsid"]: self._ps1_products(obs, p) for obs, p in zip(self.observations, self.stacks,
                                                                                    strict=True)}
        self._paths = {p.meta["data_uri"]: (p.meta["mast_path"], f"/{p.key}") for p in self.stacks}
        sizes = {uri: p.path.stat().st_size for uri, p in held.items()}
        for obs in HST_OBSERVATIONS:
            row = {k: v for k, v in obs.items() if not k.startswith("_")}
            corners = footprint(obs)
            row["s_ra"] = sum(c[0] for c in corners) / 4
            row["s_dec"] = sum(c[1] for c in corners) / 4
            # MAST's documented s_region form: "Will be ICRS circle or polygon" (recorded columnsconfig example)
            row["s_region"] = "POLYGON ICRS " + " ".join(f"{ra:.8f} {dec:.8f}" for ra, dec in corners)
            drizzled = held.get(f"mast:HST/product/{obs['obs_id']}_drz.fits")
            row["jpegURL"], row["dataURL"] = None, drizzled.https_url if drizzled else None
            row["_footprint"] = corners
            self.observations.append(row)
            self._products[row["obsid"]] = hst_product_rows(obs, sizes)
            for product in self._products[row["obsid"]]:
                # MAST knows the path of every product it lists; only the held ones are in the bucket.
                path = "/" + hst_key(product["productFilename"])
                self._paths[product["dataURI"]] = (path, path)

    def register(self, server) -> None:
        server.route("mast.stsci.edu", "/portal/Mashup/Mashup.asmx/columnsconfig", self.columnsconfig)
        server.route("mast.stsci.edu", "/api/v0/invoke", self.invoke)
        server.route("mast.stsci.edu", "/api/v0.1/path_lookup", self.path_lookup)
        server.route("mastresolver.stsci.edu", "/Santa-war/query", self.resolve)

    @staticmethod
    def _ps1_observation(index: int, product: Product) -> dict[str, Any]:
        band = product.meta["band"]
        ra0, ra1, dec0, dec1 = PS1_FOOTPRINT
        corners = [(ra0, dec0), (ra1, dec0), (ra1, dec1), (ra0, dec1)]
        return {
            "intentType": "science", "obs_collection": "PS1", "provenance_name": "PS1", "instrument_name": "GPC1",
            "project": "PS1", "filters": band, "wavelength_region": "OPTICAL", "target_name": "",
            "target_classification": "", "obs_id": f"rings.v3.skycell.{PS1_SKYCELL}.stk.{band}",
            "s_ra": (ra0 + ra1) / 2, "s_dec": (dec0 + dec1) / 2, "dataproduct_type": "image", "proposal_pi": "",
            "calib_level": 3, "t_min": 55197.0, "t_max": 56660.0, "t_exptime": 602.0,
            "em_min": BAND_NM[band][0], "em_max": BAND_NM[band][1], "obs_title": "", "t_obs_release": 58100.0,
            "proposal_id": "", "proposal_type": "", "sequence_number": None,
            "s_region": "POLYGON ICRS " + " ".join(f"{ra} {dec}" for ra, dec in corners),
            "jpegURL": None, "dataURL": product.https_url, "dataRights": "PUBLIC", "mtFlag": False, "srcDen": None,
            "obsid": str(3000000000 + index), "objID": str(3100000000 + index), "_footprint": corners,
        }

    # --- endpoints ------------------------------------------------------------------

    def columnsconfig(self, request: Request, path: str) -> Response:
        """The portal's column configuration for ``colConfigId`` (astroquery reads filter names and types here)."""
        config_id = request.values.get("colConfigId", "")
        if config_id in CAOM_SERVICES:
            return Response(json.dumps(caom_columns_config()), content_type="application/json")
        if config_id == "Mast.Caom.Products":
            return Response(json.dumps(products_columns_config()), content_type="application/json")
        # astroquery: "col_config service returns nothing if there is an error" (discovery_portal.py)
        return Response("{}", content_type="application/json")

    def resolve(self, request: Request, path: str) -> Response:
        coordinates = []
        for name in request.args.getlist("name"):
            known = NAMES.get(name.strip().lower())
            if known:
                canonical, ra, dec, kind = known
                coordinates.append({"searchString": name.lower(), "resolver": "SIMBAD", "cached": True,
                                    "resolverTime": 3, "searchRadius": -1.0, "canonicalName": canonical,
                                    "ra": ra, "decl": dec, "objectType": kind})
        return Response(json.dumps({"resolvedCoordinate": coordinates, "status": ""}),
                        content_type="application/json")

    def invoke(self, request: Request, path: str) -> Response:
        try:
            body = json.loads(request.values["request"])
            service, params = body["service"], body.get("params", {})
            page, pagesize = int(body.get("page", 1) or 1), int(body.get("pagesize", 50000) or 50000)
        except (KeyError, ValueError, TypeError) as exc:
            return self._json_error(f"bad request: {exc}")
        if service in CAOM_SERVICES:
            try:
                fields, rows = self._caom(service, params)
            except ValueError as exc:
                return self._json_error(str(exc))
            return self._table(fields, rows, page, pagesize)
        if service == "Mast.Caom.Products":
            wanted = [v.strip() for v in str(params.get("obsid", "")).split(",") if v.strip()]
            rows = [row for obsid in dict.fromkeys(wanted) for row in self._products.get(obsid, [])]
            return self._table(PRODUCT_FIELDS, rows, page, pagesize)
        return self._json_error(f"the local archive does not serve the MAST service {service!r}")

    def path_lookup(self, request: Request, path: str) -> Response:
        """MAST's ``path_lookup``: a product's path on MAST's own disks, or with ``use_cloud_path`` its bucket key.

        Without the parameter the answer is the path astroquery 0.4.11 rewrites (``/ps1/...`` ->
        ``panstarrs/ps1/public/...``); astroquery >= 0.4.12 sends ``use_cloud_path=True`` and takes the
        answer, leading ``/`` stripped, as the ``stpubdata`` key (shared/notes/service_formats.md §4.4
        and §11, from astroquery 0.4.12.dev11095's ``mast/utils.py``).  HST paths are the same either way
        (``/hst/public/u9o4/u9o40504m/u9o40504m_c3m.fits`` in the recorded mast_relative_path.json).
        """
        cloud = request.args.get("use_cloud_path", "").strip().lower() in ("true", "1", "yes")
        answer = {}
        for uri in request.args.getlist("uri"):
            found = self._paths.get(uri)
            answer[uri] = {"status_code": 200, "path": found[1 if cloud else 0]} if found else \
                {"status_code": 404, "path": None}
        return Response(json.dumps(answer), content_type="application/json")

    # --- CAOM queries ---------------------------------------------------------------

    def _caom(self, service: str, params: dict) -> tuple[list[tuple[str, str]], list[dict]]:
        """The rows and fields a CAOM service answers; ValueError carries MAST's error message."""
        if service == "Mast.Caom.Cone":
            position, filters, fields = (params.get("ra"), params.get("dec"), params.get("radius", 0.2)), [], \
                CONE_FIELDS
        elif service == "Mast.Caom.Filtered.Position":
            position, fields = str(params.get("position", "")).split(","), POSITION_FIELDS
            filters = params.get("filters", [])
        else:
            position, filters, fields = None, params.get("filters", []), FILTERED_FIELDS
        if position is not None:
            try:
                ra, dec, radius = (float(v) for v in position)
            except (TypeError, ValueError):
                raise ValueError(f"invalid position {position!r}: expected 'ra, dec, radius' in degrees") from None
        names = {n.lower(): n for n, _ in POSITION_FIELDS} | {k: v for k, v in FILTER_ONLY.items()}
        for condition in filters:
            name = str(condition.get("paramName", ""))
            if name.lower() not in names:
                # The database's own message for an unknown column [L: MAST's exact wording not recorded]
                raise ValueError(f"Invalid column name '{name}'.")
        rows = []
        for obs in self.observations:
            if not all(_matches(obs.get(names[str(c["paramName"]).lower()]), c) for c in filters):
                continue
            row = dict(obs)
            if position is not None:
                distance = _distance_to_footprint(ra, dec, obs["_footprint"])
                if distance > radius:
                    continue
                row["distance"] = distance * 3600  # arcsec; 0 when the footprint holds the position
            row["objID1"] = row.get("objID")
            rows.append(row)
        columns = str(params.get("columns", "*")).strip()
        if columns.upper() == "COUNT_BIG(*)":  # query_*_count; recorded countsResp.json
            return [("Column1", "string")], [{"Column1": len(rows)}]
        if columns != "*":
            wanted = [c.strip() for c in columns.split(",")]
            known = dict(fields)
            for c in wanted:
                if c not in known:
                    raise ValueError(f"Invalid column name '{c}'.")
            fields = [(c, known[c]) for c in wanted]
        return fields, rows

    # --- products -------------------------------------------------------------------

    @staticmethod
    def _ps1_products(obs: dict, product: Product) -> list[dict]:
        name = product.meta["filename"]
        base = {"obsID": obs["obsid"], "obs_collection": "PS1", "dataproduct_type": "image", "obs_id": obs["obs_id"],
                "type": "S", "productDocumentationURL": "", "project": "PS1", "prvversion": "3",
                "proposal_id": "", "parent_obsid": obs["obsid"], "dataRights": "PUBLIC", "calib_level": 3,
                "filters": obs["filters"]}
        rows = [dict(base, description="stack image", dataURI=product.meta["data_uri"], productType="SCIENCE",
                     productGroupDescription="Minimum Recommended Products", productSubGroupDescription="STK",
                     productFilename=name, size=product.path.stat().st_size)]
        for suffix, label in (("wt", "weight"), ("mask", "mask"), ("exp", "exposure")):
            aux = name.replace(".unconv.fits", f".unconv.{suffix}.fits")
            rows.append(dict(base, description=f"stack {label} image", dataURI=f"mast:PS1/product/{aux}",
                             productType="AUXILIARY", productGroupDescription="",
                             productSubGroupDescription=suffix.upper(), productFilename=aux, size=0))
        return rows

    # --- answers --------------------------------------------------------------------

    @staticmethod
    def _table(fields: list[tuple[str, str]], rows: list[dict], page: int = 1, pagesize: int = 50000) -> Response:
        """MAST's JSON table, one page of it (astroquery follows ``pagesFiltered``)."""
        pages = max(1, math.ceil(len(rows) / pagesize))
        chunk = rows[(page - 1) * pagesize: page * pagesize]
        body = {"status": "COMPLETE", "msg": "", "fields": [{"name": n, "type": t} for n, t in fields],
                "data": [{n: row.get(n) for n, _ in fields} for row in chunk],
                "paging": {"page": page, "pageSize": pagesize, "pagesFiltered": pages, "rows": len(chunk),
                           "rowsFiltered": len(rows), "rowsTotal": len(rows)}}
        return Response(json.dumps(body), content_type="application/json")

    @staticmethod
    def _json_error(message: str) -> Response:
        return Response(json.dumps({"status": "ERROR", "msg": message, "data": [], "fields": []}),
                        content_type="application/json")


def _matches(value: Any, condition: dict) -> bool:
    """One Mashup filter entry: any listed value, a ``{"min", "max"}`` range, or ``freeText`` (SQL LIKE).

    Semantics from astroquery's ``build_filter_set`` (what it sends) and MAST's documentation quoted
    there: discrete values are ORed, continuous ones are ``[{"min": a, "max": b}]``, one wildcard
    value per filter goes in ``freeText`` with ``%`` for any characters; ``separator`` marks columns
    holding several values (``filters`` "F555W;CLEAR1L").  Comparisons ignore case, as MAST's SQL does.
    """
    values, free = condition.get("values") or [], condition.get("freeText")
    if not values and free is None:
        return True
    if value is None:
        return False
    parts = [str(value)]
    if condition.get("separator"):
        parts += [p.strip() for p in str(value).split(condition["separator"])]
    for wanted in values:
        if isinstance(wanted, dict):
            low, high = wanted.get("min"), wanted.get("max")
            try:
                number = float(value)
            except (TypeError, ValueError):
                continue
            if (low is None or number >= float(low)) and (high is None or number <= float(high)):
                return True
        elif any(_same(part, wanted) for part in parts):
            return True
    if free is not None:
        pattern = str(free).lower().replace("[", "[[]").replace("*", "[*]").replace("?", "[?]").replace("%", "*")
        pattern = pattern.replace("_", "?")  # SQL LIKE: _ is one character
        return any(fnmatch.fnmatchcase(part.lower(), pattern) for part in parts)
    return False


def _same(value: Any, wanted: Any) -> bool:
    """Equality as SQL compares a column with a literal: numbers as numbers, text without case."""
    if isinstance(value, bool):
        return str(wanted).lower() in (str(value).lower(), str(int(value)))
    if isinstance(value, int | float):
        try:
            return float(value) == float(wanted)
        except (TypeError, ValueError):
            return False
    return str(value).strip().lower() == str(wanted).strip().lower()


def _distance_to_footprint(ra: float, dec: float, corners: list[tuple[float, float]]) -> float:
    """Angle (deg) from a position to a polygon footprint, 0 inside (gnomonic projection at the position)."""
    ra0, dec0 = math.radians(ra), math.radians(dec)
    points = []
    for c_ra, c_dec in corners:
        a, d = math.radians(c_ra), math.radians(c_dec)
        cos_c = math.sin(dec0) * math.sin(d) + math.cos(dec0) * math.cos(d) * math.cos(a - ra0)
        x = math.cos(d) * math.sin(a - ra0) / cos_c
        y = (math.cos(dec0) * math.sin(d) - math.sin(dec0) * math.cos(d) * math.cos(a - ra0)) / cos_c
        points.append((math.degrees(x), math.degrees(y)))
    inside, best = False, float("inf")
    for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1], strict=True):
        if (y1 > 0) != (y2 > 0) and 0 < x1 + (0 - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
        dx, dy = x2 - x1, y2 - y1
        t = max(0.0, min(1.0, -(x1 * dx + y1 * dy) / (dx * dx + dy * dy or 1.0)))
        best = min(best, math.hypot(x1 + t * dx, y1 + t * dy))
    return 0.0 if inside else best


def caom_columns_config() -> dict[str, Any]:
    """The ``Mast.Caom.Cone`` column configuration.

    The recorded configuration (resources/columnsconfig.json, astroquery's columnsconfig.json fixture
    of 2019) with the columns MAST has added since, where its documentation puts them: astroquery's
    ``get_metadata("observations")`` output lists intentType, obs_collection, provenance_name ("Provenance
    Name", "E.g. TASOC, CALSTIS, PS1"), instrument_name, project first; proposal_type and sequence_number
    are result columns (service_formats.md §4.2).  Plus the filter-only names of FILTER_ONLY.
    """
    recorded = json.loads(resources.files("local_archive").joinpath("resources/columnsconfig.json").read_text())
    added = {
        "obs_collection": ("provenance_name", {
            "text": "Provenance Name", "vot.datatype": "char", "vot.arraysize": "*",
            "vot.description": "Provenance name, or source of data", "example": "E.g. TASOC, CALSTIS, PS1"}),
        "proposal_id": ("proposal_type", {
            "text": "Proposal Type", "vot.datatype": "char", "vot.arraysize": "*",
            "vot.description": "Type of telescope proposal", "example": "E.g. 3PI, GO, GO/DD, HLA, GII, AIS"}),
        "proposal_type": ("sequence_number", {
            "text": "Sequence Number", "vot.datatype": "int", "vot.description": "Sequence number, e.g. Kepler "
            "quarter or TESS sector", "example": "E.g. 1-17 for Kepler quarters"}),
    }
    config: dict[str, Any] = {}
    for key, value in recorded.items():
        config[key] = value
        while key in added:
            key, value = added[key]
            config[key] = value
    for name, same_as in FILTER_ONLY.items():
        config[name] = {"text": recorded[same_as]["text"], "remove": True, "separator": recorded[same_as]["separator"],
                        "vot.datatype": "char", "vot.description": recorded[same_as]["vot.description"]}
    return config


def products_columns_config() -> dict[str, Any]:
    """The ``Mast.Caom.Products`` column configuration (MAST's products field descriptions,
    https://mast.stsci.edu/api/v0/_productsfields.html; labels of the first three as astroquery's
    ``get_metadata("products")`` prints them: "Observation ID", "Product Group ID", "Mission")."""
    described = [
        ("obs_id", "Observation ID", "char", "Observation identifier, given by mission", "U24Z0101T, N4QF18030"),
        ("obsID", "Product Group ID", "long", "Database identifier for obs_id", "Long integer, e.g. 2007590987"),
        ("obs_collection", "Mission", "char", "Mission identifier", "HST, HLA, SWIFT, GALEX, Kepler, K2..."),
        ("dataproduct_type", "Product Type", "char", "Data product type", "image, spectrum"),
        ("description", "Description", "char", "File description", "DADS ASN file - Association ACS/WFC3/STIS"),
        ("type", "Type", "char", "S = simple, C = composite", "S"),
        ("dataURI", "URI", "char", "Data access URI", "mast:HST/product/u9o40504m_c3m.fits"),
        ("productType", "Product Type", "char", "Product category", "SCIENCE, CALIBRATION, AUXILIARY, PREVIEW"),
        ("productGroupDescription", "Product Group", "char", "Product group", "Minimum Recommended Products"),
        ("productSubGroupDescription", "Product Subgroup", "char", "Product subgroup", "DRZ, FLT, RAW, C1M"),
        ("productDocumentationURL", "Product Documentation", "char", "Product documentation URL", ""),
        ("project", "Project", "char", "Processing project", "HST, HLA, EUVE, hlsp_legus"),
        ("prvversion", "Provenance Version", "char", "Provenance version", "3.4"),
        ("proposal_id", "Proposal ID", "char", "Proposal ID", "12345"),
        ("productFilename", "Filename", "char", "Product filename", "u9o40504m_c3m.fits"),
        ("size", "Size", "long", "Size of file in bytes", "207360"),
        ("parent_obsid", "Parent Product Group ID", "long", "Product group ID of the parent observation",
         "Long integer, e.g. 2007590987"),
        ("dataRights", "Data Rights", "char", "Data rights", "PUBLIC, EXCLUSIVE_ACCESS"),
        ("calib_level", "Calibration Level", "int", "Calibration level", "0-4"),
        ("filters", "Filters", "char", "Instrument filters", "F469N, NUV, FUV, LOW DISP, MIRROR"),
    ]
    return {name: {"text": text, "vot.datatype": datatype, "vot.description": description, "example": example}
            for name, text, datatype, description, example in described}
