"""HEASARC's Chandra SIA (table chanmaster) and its DataLink service, from the local holdings.

As at HEASARC, every product of one observation shares one DataLink ID, and the
DataLink rows carry a ``cloud_access`` column (HEASARC's compact JSON).
"""

from __future__ import annotations

from collections import defaultdict

from .data import Product
from .httpserver import Request, Response
from .irsa import _box_overlaps, _parse_pos
from .votables import cloud_access_json, datalink_votable, error_votable, table_votable, to_bytes

__all__ = ["HeasarcChandra", "SIA_URL", "DATALINK_URL"]

HOST = "heasarc.gsfc.nasa.gov"
SIA_URL = f"https://{HOST}/xamin/vo/sia?table=chanmaster&"
DATALINK_URL = f"https://{HOST}/xamin/vo/datalink/chanmaster"

SIA_FIELDS = (
    ("obsid", "int", None, None, "meta.id"),
    ("status", "char", "*", None, None),
    ("name", "char", "*", None, "meta.id;src"),
    ("ra", "double", None, "deg", "POS_EQ_RA_MAIN"),
    ("dec", "double", None, "deg", "POS_EQ_DEC_MAIN"),
    ("detector", "char", "*", None, "meta.id;instr.det"),
    ("grating", "char", "*", None, None),
    ("exposure", "double", None, "s", "time.duration;obs.exposure"),
    ("type", "char", "*", None, None),
    ("datalink", "char", "*", None, "meta.id;meta.main"),
    ("obs_title", "char", "*", None, "meta.title;obs"),
    ("access_url", "char", "*", None, "VOX:Image_AccessReference"),
    ("access_format", "char", "*", None, "VOX:Image_Format"),
    ("access_estsize", "long", None, "kbyte", "VOX:Image_FileSize"),
    ("obs_id", "char", "*", None, "meta.id"),
    ("obs_collection", "char", "*", None, None),
    ("dataproduct_type", "char", "*", None, None),
    ("SIA_title", "char", "*", None, "VOX:Image_Title"),
    ("SIA_naxes", "int", None, None, "VOX:Image_Naxes"),
    ("SIA_naxis", "int", "2", None, "VOX:Image_Naxis"),
    ("SIA_scale", "double", "2", "deg/pix", "VOX:Image_Scale"),
)


def datalink_id(obsid: int) -> str:
    return f"ivo://nasa.heasarc/chanmaster?{obsid}/chandra.obs.img"


TAP_FIELDS = (
    ("__row", "char", "*", None, "meta.id"), ("obsid", "int", None, None, "meta.id"),
    ("name", "char", "*", None, "meta.id;src"), ("ra", "double", None, "deg", "pos.eq.ra"),
    ("dec", "double", None, "deg", "pos.eq.dec"), ("detector", "char", "*", None, "meta.id;instr.det"),
    ("grating", "char", "*", None, None), ("exposure", "double", None, "s", "time.duration;obs.exposure"),
    ("status", "char", "*", None, None),
)
METAINFO_FIELDS = (
    ("name", "char", "*", None, None), ("type", "char", "*", None, None),
    ("relation", "char", "*", None, None), ("value", "char", "*", None, None),
)


def _row_id(obsid: int) -> str:
    """HEASARC's internal row number of an observation (``__row``); the obsid serves here."""
    return str(obsid)


def heasarc_tap(products: list[Product]):
    """``https://heasarc.gsfc.nasa.gov/xamin/vo/tap`` with ``chanmaster`` and ``metainfo``, for astroquery.heasarc."""
    from .tap import TapService

    observations = {p.meta["obsid"]: p.meta for p in products if p.archive == "heasarc" and "obsid" in p.meta}
    rows = [[_row_id(o), o, m["name"], 83.6332, 22.0145, m["detector"], "NONE", m["exposure"], "archived"]
            for o, m in sorted(observations.items())]
    meta = [[f"chanmaster.{name}", "parameter", "order", str(order)]
            for order, name in enumerate(("obsid", "name", "ra", "dec", "detector", "exposure"), start=1)]
    meta.append(["chanmaster", "table", "defaultSearchRadius", "10"])
    return TapService(HOST, "/xamin/vo/tap", {"chanmaster": (TAP_FIELDS, rows), "metainfo": (METAINFO_FIELDS, meta)})


class HeasarcChandra:
    """``xamin/vo/sia?table=chanmaster`` and ``xamin/vo/datalink/chanmaster``."""

    def __init__(self, products: list[Product]):
        self.images = [p for p in products if p.archive == "heasarc" and "obsid" in p.meta]
        self.by_id: dict[str, list[Product]] = defaultdict(list)
        for product in self.images:
            self.by_id[datalink_id(product.meta["obsid"])].append(product)

    def register(self, server) -> None:
        server.route(HOST, "/xamin/vo/sia", self.sia)
        server.route(HOST, "/xamin/vo/datalink", self.datalink)

    def sia(self, request: Request, path: str) -> Response:
        params = {k.upper(): v for k, v in request.values.items()}
        if params.get("TABLE", "").lower() != "chanmaster":
            return Response(error_votable(f"unknown table {params.get('TABLE')!r}"), content_type="text/xml")
        try:
            ra, dec = _parse_pos(params["POS"])
            size = [float(v) for v in params.get("SIZE", "0").split(",")]
        except (KeyError, ValueError) as exc:
            return Response(error_votable(f"Invalid or missing POS/SIZE: {exc}"), content_type="text/xml")
        wanted = params.get("FORMAT", "ALL").lower()
        rows = []
        for product in self.images:
            meta = product.meta
            half = 512 * meta["scale_deg"]
            if not _box_overlaps((83.6332, 22.0145), half, ra, dec, (size[0], size[-1])):
                continue
            if wanted not in ("all", "image/fits", "graphic-or-fits"):
                continue
            rows.append([meta["obsid"], "archived", meta["name"], 83.6332, 22.0145, meta["detector"], "NONE",
                         meta["exposure"], "GO", datalink_id(meta["obsid"]), meta["title"], product.https_url,
                         "image/fits", (product.path.stat().st_size + 1023) // 1024, str(meta["obsid"]),
                         f"CHANDRA {meta['detector']}", "image", meta["filename"].removesuffix(".gz"), 2,
                         [1024, 1024], [-meta["scale_deg"], meta["scale_deg"]]])
        votable = table_votable(SIA_FIELDS, rows, datalink_url=DATALINK_URL, datalink_ref="datalink",
                                infos={"QUERY_STATUS": "OK"})
        return Response(to_bytes(votable), content_type="text/xml")

    def _directory_links(self, row: str) -> list[dict]:
        """The observation's data directory, as HEASARC's DataLink lists it for a ``__row``."""
        link_id = f"ivo://nasa.heasarc/chanmaster?{row}"
        products = [p for p in self.images if _row_id(p.meta["obsid"]) == row]
        if not products:
            return [{"ID": link_id, "semantics": "#this", "error_message": f"NotFoundFault: no row {row}"}]
        obsid = products[0].meta["obsid"]
        directory = f"https://{HOST}/FTP/chandra/data/byobsid/{str(obsid)[-1]}//{obsid}/"
        size = sum(p.path.stat().st_size for p in products)
        return [{"ID": link_id, "access_url": directory, "description": "Observation data directory",
                 "semantics": "#this", "content_type": "directory", "content_length": size}]

    def datalink(self, request: Request, path: str) -> Response:
        ids = request.values.getlist("ID") or request.values.getlist("id")
        if not ids:
            return Response(error_votable("DataLink needs at least one ID"), content_type="text/xml")
        rows = []
        for link_id in dict.fromkeys(ids):
            if link_id.isdigit():  # a __row, as astroquery.heasarc's locate_data sends it
                rows.extend(self._directory_links(link_id))
                continue
            products = self.by_id.get(link_id)
            if not products:
                rows.append({"ID": link_id, "semantics": "#this",
                             "error_message": f"NotFoundFault: {link_id} is not in chanmaster"})
                continue
            for product in products:
                # HEASARC's own DataLink URLs carry a // run; the bucket keys do not.
                obsid = product.meta["obsid"]
                url = product.https_url.replace(f"/{str(obsid)[-1]}/{obsid}/", f"/{str(obsid)[-1]}//{obsid}/")
                rows.append({"ID": link_id, "access_url": url, "description": product.meta["title"],
                             "semantics": "#this", "content_type": "application/fits",
                             "content_length": product.path.stat().st_size,
                             "cloud_access": cloud_access_json(product.bucket, product.key, product.region,
                                                               style="heasarc")})
            directory = products[0].https_url.rsplit("/", 2)[0] + "/"
            rows.append({"ID": link_id, "access_url": directory, "description": "Observation data directory",
                         "semantics": "#auxiliary", "content_type": "text/html"})
        return Response(to_bytes(datalink_votable(rows)), content_type="text/xml")
