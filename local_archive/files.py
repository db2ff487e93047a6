"""Serving the archive's files over HTTPS paths (HEASARC FTP tree, IRSA IBE, MAST downloads)."""

from __future__ import annotations

from urllib.parse import urlsplit

from werkzeug.utils import send_file

from .data import Product
from .httpserver import Request, Response

__all__ = ["FileTree"]


class FileTree:
    """Answers GETs of each product's ``https_url`` from its file, with Range support."""

    def __init__(self, products: list[Product]):
        self._by_url: dict[tuple[str, str], Product] = {}
        for product in products:
            parts = urlsplit(product.https_url)
            self._by_url[(parts.hostname, parts.path + (f"?{parts.query}" if parts.query else ""))] = product

    def register(self, server) -> None:
        for host, prefix in {("heasarc.gsfc.nasa.gov", "/FTP/"), ("irsa.ipac.caltech.edu", "/ibe/data/"),
                             ("mast.stsci.edu", "/api/v0.1/Download/file")}:
            server.route(host, prefix, self._handler(host))

    def _handler(self, host: str):
        def handle(request: Request, path: str) -> Response:
            path = "/".join(filter(None, path.split("/")))  # HEASARC's own URLs carry // runs
            query = request.query_string.decode()
            product = self._by_url.get((host, "/" + path + (f"?{query}" if query else "")))
            if product is None:
                return Response(f"Not Found: https://{host}/{path}", status=404)
            return send_file(product.path, request.environ, mimetype=product.content_type, conditional=True)

        return handle
