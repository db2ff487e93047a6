"""IRSA's SIA v1 service for the AllWISE Atlas, answered from the local holdings (one row per band of each tile)."""

from __future__ import annotations

import math

from ..holdings.common import Product
from ..holdings.wise import WISE_BANDS
from ..httpserver import Request, Response
from ..votables import IRSA_SIA1_FIELDS, cloud_access_json, error_votable, table_votable, to_bytes

__all__ = ["IrsaSia"]

SIA_PATH = "/ibe/sia/wise/allwise/p3am_cdd"
ROW_ORDER = (2, 1, 3, 4)  # IRSA's rows are not band-sorted (W2, W1, W3, W4 recorded for 0046m107)


def _parse_pos(text: str) -> tuple[float, float]:
    ra, dec = (float(v) for v in text.split(","))
    if not (0 <= ra <= 360 and -90 <= dec <= 90):
        raise ValueError(f"POS out of range: {text}")
    return ra, dec


def _box_overlaps(center: tuple[float, float], half: float, ra: float, dec: float, size: tuple[float, float]) -> bool:
    """Do a tile (centre, half-width in deg) and a search box (ra, dec, width, height) overlap?"""
    cos_dec = max(math.cos(math.radians(dec)), 1e-6)
    d_ra = abs((ra - center[0] + 180) % 360 - 180) * cos_dec
    return d_ra <= half + size[0] / 2 and abs(dec - center[1]) <= half + size[1] / 2


class IrsaSia:
    """``https://irsa.ipac.caltech.edu/ibe/sia/wise/allwise/p3am_cdd?POS=..&SIZE=..``."""

    def __init__(self, products: list[Product]):
        # SIA v1 lists each tile's intensity maps; the unc/cov maps are columns of their rows (§1.2).
        self.tiles = [p for p in products if p.archive == "irsa" and p.meta.get("kind") == "int"]

    def register(self, server) -> None:
        server.route("irsa.ipac.caltech.edu", SIA_PATH, self.handle)

    def handle(self, request: Request, path: str) -> Response:
        params = {k.upper(): v for k, v in request.values.items()}
        try:
            ra, dec = _parse_pos(params["POS"])
            size = tuple(float(v) for v in params.get("SIZE", "0").split(","))
            size = (size[0], size[-1])
        except (KeyError, ValueError) as exc:
            body = error_votable(f"Invalid or missing POS/SIZE: {exc}")
            return Response(body, content_type="text/xml")
        if max(size) > 5:
            return Response(error_votable("SIZE must be at most 5 degrees"), content_type="text/xml")
        rows = []
        if params.get("FORMAT", "").upper() != "METADATA":
            by_tile_band = {(p.meta["coadd_id"], p.meta["band"]): p for p in self.tiles}
            for tile in dict.fromkeys(p.meta["coadd_id"] for p in self.tiles):
                for band in ROW_ORDER:
                    product = by_tile_band.get((tile, band))
                    half = product.meta["naxis"][0] * product.meta["cdelt"] / 2 if product else 0
                    if product and _box_overlaps(product.meta["center"], half, ra, dec, size):
                        rows.append(self._row(product))
        body = to_bytes(table_votable(IRSA_SIA1_FIELDS, rows, infos={"QUERY_STATUS": "OK"}))
        return Response(body, content_type="text/xml")

    @staticmethod
    def _row(product: Product) -> list:
        band, tile, cdelt = product.meta["band"], product.meta["coadd_id"], product.meta["cdelt"]
        _, magzp, magzpunc, _, ref, hi, lo = WISE_BANDS[band]
        ra, dec = product.meta["center"]
        url = product.https_url
        return [f"W{band} Coadd {tile}", url, cloud_access_json(product.bucket, product.key, product.region), 2,
                "image/fits", ra, dec, [4095, 4095], [2048.0, 2048.0], [ra, dec], "SIN", [-cdelt, cdelt],
                [-cdelt, -0.0, -0.0, cdelt], f"W{band}", ref, hi, lo, "m", magzp, magzpunc,
                url.replace("-int-3.fits", "-unc-3.fits.gz"), url.replace("-int-3.fits", "-cov-3.fits.gz"), tile]
