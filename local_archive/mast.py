"""MAST's portal API as astroquery.mast calls it, answered from the local Pan-STARRS holdings.

``columnsconfig`` returns the recorded configuration; the SANTA resolver, the
``invoke`` services ``Mast.Caom.Filtered.Position``/``Mast.Caom.Filtered`` and
``Mast.Caom.Products``, and ``path_lookup`` answer in the recorded JSON shapes.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from .data import Product, separation_deg
from .httpserver import Request, Response
from .ps1 import PS1_SKYCELL

__all__ = ["MastPortal", "NAMES"]

# Names the stand-in resolvers know (SIMBAD's M 1 position, as MAST's SANTA reports it).
NAMES = {"crab": ("M   1", 83.6324, 22.0174, "SNRemnant"), "m1": ("M   1", 83.6324, 22.0174, "SNRemnant"),
         "crab nebula": ("M   1", 83.6324, 22.0174, "SNRemnant")}

PS1_FOOTPRINT = (83.519, 83.996, 21.969, 22.409)  # RA min, RA max, Dec min, Dec max of skycell 1784.059
OBS_FIELDS = [  # (name, type) in the order MAST's CAOM queries return them
    ("intentType", "string"), ("obs_collection", "string"), ("provenance_name", "string"),
    ("instrument_name", "string"), ("project", "string"), ("filters", "string"), ("wavelength_region", "string"),
    ("target_name", "string"), ("target_classification", "string"), ("obs_id", "string"), ("s_ra", "float"),
    ("s_dec", "float"), ("dataproduct_type", "string"), ("proposal_pi", "string"), ("calib_level", "int"),
    ("t_min", "float"), ("t_max", "float"), ("t_exptime", "float"), ("em_min", "float"), ("em_max", "float"),
    ("obs_title", "string"), ("t_obs_release", "float"), ("proposal_id", "string"), ("proposal_type", "string"),
    ("sequence_number", "int"), ("s_region", "string"), ("jpegURL", "string"), ("dataURL", "string"),
    ("dataRights", "string"), ("mtFlag", "boolean"), ("srcDen", "float"), ("obsid", "string"),
    ("distance", "float"),
]
PRODUCT_FIELDS = [
    ("obsID", "string"), ("obs_collection", "string"), ("dataproduct_type", "string"), ("obs_id", "string"),
    ("description", "string"), ("type", "string"), ("dataURI", "string"), ("productType", "string"),
    ("productGroupDescription", "string"), ("productSubGroupDescription", "string"),
    ("productDocumentationURL", "string"), ("project", "string"), ("prvversion", "string"),
    ("proposal_id", "string"), ("productFilename", "string"), ("size", "int"), ("parent_obsid", "string"),
    ("dataRights", "string"), ("calib_level", "int"),
]
BAND_NM = {"g": (400.0, 550.0), "r": (550.0, 700.0), "i": (690.0, 820.0), "z": (820.0, 920.0), "y": (920.0, 1100.0)}


class MastPortal:
    """``mast.stsci.edu`` (portal API and path_lookup) and ``mastresolver.stsci.edu``."""

    def __init__(self, products: list[Product]):
        self.stacks = [p for p in products if p.archive == "mast"]
        self.observations = [self._observation(i, p) for i, p in enumerate(self.stacks)]

    def register(self, server) -> None:
        server.route("mast.stsci.edu", "/portal/Mashup/Mashup.asmx/columnsconfig", self.columnsconfig)
        server.route("mast.stsci.edu", "/api/v0/invoke", self.invoke)
        server.route("mast.stsci.edu", "/api/v0.1/path_lookup", self.path_lookup)
        server.route("mastresolver.stsci.edu", "/Santa-war/query", self.resolve)

    @staticmethod
    def _observation(index: int, product: Product) -> dict[str, Any]:
        band = product.meta["band"]
        ra0, ra1, dec0, dec1 = PS1_FOOTPRINT
        region = f"POLYGON {ra0} {dec0} {ra1} {dec0} {ra1} {dec1} {ra0} {dec1}"
        return {
            "intentType": "science", "obs_collection": "PS1", "provenance_name": "PS1", "instrument_name": "GPC1",
            "project": "PS1", "filters": band, "wavelength_region": "OPTICAL", "target_name": "",
            "target_classification": "", "obs_id": f"rings.v3.skycell.{PS1_SKYCELL}.stk.{band}",
            "s_ra": (ra0 + ra1) / 2, "s_dec": (dec0 + dec1) / 2, "dataproduct_type": "image", "proposal_pi": "",
            "calib_level": 3, "t_min": 55197.0, "t_max": 56660.0, "t_exptime": 602.0,
            "em_min": BAND_NM[band][0], "em_max": BAND_NM[band][1], "obs_title": "", "t_obs_release": 58100.0,
            "proposal_id": "", "proposal_type": "", "sequence_number": None, "s_region": region,
            "jpegURL": None, "dataURL": product.https_url, "dataRights": "PUBLIC", "mtFlag": False, "srcDen": None,
            "obsid": str(3000000000 + index), "distance": 0.0,
        }

    # --- endpoints ------------------------------------------------------------------

    def columnsconfig(self, request: Request, path: str) -> Response:
        text = resources.files(__package__).joinpath("resources/columnsconfig.json").read_text()
        return Response(text, content_type="application/json")

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
        except (KeyError, ValueError) as exc:
            return self._json_error(f"bad request: {exc}")
        if service in ("Mast.Caom.Filtered.Position", "Mast.Caom.Filtered"):
            rows = self._filtered(params)
            if rows is None:
                return self._json_error(f"unsupported filters {params.get('filters')}")
            return self._table(OBS_FIELDS, rows)
        if service == "Mast.Caom.Products":
            wanted = {v.strip() for v in str(params.get("obsid", "")).split(",")}
            rows = [row for obs, product in zip(self.observations, self.stacks, strict=True) if obs["obsid"] in wanted
                    for row in self._products(obs, product)]
            return self._table(PRODUCT_FIELDS, rows)
        return self._json_error(f"the local archive does not serve the MAST service {service!r}")

    def path_lookup(self, request: Request, path: str) -> Response:
        """MAST's ``path_lookup``: a product's path on MAST's own disks, or with ``use_cloud_path`` its bucket key.

        Without the parameter the answer is the path astroquery 0.4.11 rewrites (``/ps1/...`` ->
        ``panstarrs/ps1/public/...``); astroquery >= 0.4.12 sends ``use_cloud_path=True`` and takes the
        answer, leading ``/`` stripped, as the ``stpubdata`` key (shared/notes/service_formats.md §4.4
        and §11, from astroquery 0.4.12.dev11095's ``mast/utils.py``).
        """
        cloud = request.args.get("use_cloud_path", "").strip().lower() in ("true", "1", "yes")
        known = {p.meta["data_uri"]: f"/{p.key}" if cloud else p.meta["mast_path"] for p in self.stacks}
        answer = {}
        for uri in request.args.getlist("uri"):
            found = known.get(uri)
            answer[uri] = {"status_code": 200, "path": found} if found else {"status_code": 404, "path": None}
        return Response(json.dumps(answer), content_type="application/json")

    # --- helpers --------------------------------------------------------------------

    def _filtered(self, params: dict) -> list[dict] | None:
        rows = []
        position = params.get("position")
        for obs in self.observations:
            ok = True
            for condition in params.get("filters", []):
                name, values = condition.get("paramName"), condition.get("values", [])
                if name not in obs:
                    return None
                if values and str(obs[name]) not in [str(v) for v in values]:
                    ok = False
            if not ok:
                continue
            row = dict(obs)
            if position:
                ra, dec, radius = (float(v) for v in position.split(","))
                ra0, ra1, dec0, dec1 = PS1_FOOTPRINT
                near_ra = min(max(ra, ra0), ra1)
                near_dec = min(max(dec, dec0), dec1)
                if separation_deg(ra, dec, near_ra, near_dec) > radius:
                    continue
                row["distance"] = separation_deg(ra, dec, obs["s_ra"], obs["s_dec"]) * 3600
            rows.append(row)
        return rows

    @staticmethod
    def _products(obs: dict, product: Product) -> list[dict]:
        name = product.meta["filename"]
        base = {"obsID": obs["obsid"], "obs_collection": "PS1", "dataproduct_type": "image", "obs_id": obs["obs_id"],
                "type": "S", "productDocumentationURL": "", "project": "PS1", "prvversion": "3",
                "proposal_id": "", "parent_obsid": obs["obsid"], "dataRights": "PUBLIC", "calib_level": 3}
        rows = [dict(base, description="stack image", dataURI=product.meta["data_uri"], productType="SCIENCE",
                     productGroupDescription="Minimum Recommended Products", productSubGroupDescription="STK",
                     productFilename=name, size=product.path.stat().st_size)]
        for suffix, label in (("wt", "weight"), ("mask", "mask"), ("exp", "exposure")):
            aux = name.replace(".unconv.fits", f".unconv.{suffix}.fits")
            rows.append(dict(base, description=f"stack {label} image", dataURI=f"mast:PS1/product/{aux}",
                             productType="AUXILIARY", productGroupDescription="",
                             productSubGroupDescription=suffix.upper(), productFilename=aux, size=0))
        return rows

    @staticmethod
    def _table(fields: list[tuple[str, str]], rows: list[dict]) -> Response:
        body = {"status": "COMPLETE", "msg": "", "fields": [{"name": n, "type": t} for n, t in fields],
                "data": [{n: row.get(n) for n, _ in fields} for row in rows],
                "paging": {"page": 1, "pageSize": 50000, "pagesFiltered": 1, "rows": len(rows),
                           "rowsFiltered": len(rows), "rowsTotal": len(rows)}}
        return Response(json.dumps(body), content_type="application/json")

    @staticmethod
    def _json_error(message: str) -> Response:
        return Response(json.dumps({"status": "ERROR", "msg": message, "data": [], "fields": []}),
                        content_type="application/json")

