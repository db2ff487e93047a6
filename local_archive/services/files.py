"""Serving the archive's files over HTTPS paths (HEASARC FTP tree, IRSA IBE, MAST downloads).

HEASARC's ``/FTP/`` tree also answers directory URLs with Apache's (mod_autoindex) listing, as
``https://heasarc.gsfc.nasa.gov/FTP/.../`` does: title and heading ``Index of /FTP/<path>`` without
the trailing slash, a ``<pre>`` block with the ``?C=N;O=D`` sort links, a ``Parent Directory``
link by absolute path, then one ``<a href="name">name</a>  YYYY-MM-DD HH:MM  size`` line per
entry with names never shortened, ISO-8859-1 text ending in ``</html>``.  (The shape a parser of
a retained HEASARC listing of ``/FTP/xmm/data/rev0/0884250101/PPS/`` checks, and a mock of
``/FTP/vela5b/raw``: public code in the search index, ids 68580273886 and 57706059024.)
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from html import escape
from urllib.parse import urlsplit

from werkzeug.utils import send_file

from ..holdings.common import Product
from ..httpserver import Request, Response

__all__ = ["FileTree", "apache_size"]

_HEASARC = ("heasarc.gsfc.nasa.gov", "/FTP/")


def apache_size(size: int) -> str:
    """A size as Apache's autoindex prints it (apr_strfsize): ``512``, ``5.2K``, ``52K``, ``1.1M``."""
    if size < 973:
        return str(size)
    value = float(size)
    for unit in "KMGTP":
        value /= 1024
        if value < 9.95:
            return f"{value:.1f}{unit}"
        if value < 973:
            return f"{value:.0f}{unit}"
    return f"{value:.0f}E"


def _modified(path: str) -> str:
    """A fixed, plausible modification time per directory (the files' real dates are not known)."""
    digest = int(hashlib.sha256(path.encode()).hexdigest()[:8], 16)
    return (datetime(2016, 1, 1) + timedelta(minutes=digest % (9 * 365 * 1440))).strftime("%Y-%m-%d %H:%M")


class FileTree:
    """Answers GETs of each product's ``https_url`` from its file, with Range support."""

    def __init__(self, products: list[Product]):
        self._by_url: dict[tuple[str, str], Product] = {}
        self._dirs: dict[str, dict[str, Product | None]] = {}  # HEASARC directory -> {entry: product or None}
        for product in products:
            parts = urlsplit(product.https_url)
            self._by_url[(parts.hostname, parts.path + (f"?{parts.query}" if parts.query else ""))] = product
            if (parts.hostname, parts.path[: len(_HEASARC[1])]) == _HEASARC:
                self._add_to_tree(parts.path, product)

    def _add_to_tree(self, path: str, product: Product) -> None:
        *folders, name = path.strip("/").split("/")
        self._dirs.setdefault("/".join(folders), {})[name] = product
        for depth in range(len(folders) - 1, 0, -1):  # every ancestor lists the folder below it
            self._dirs.setdefault("/".join(folders[:depth]), {})[folders[depth] + "/"] = None

    def register(self, server) -> None:
        for host, prefix in {_HEASARC, ("irsa.ipac.caltech.edu", "/ibe/data/"), ("irsa.ipac.caltech.edu", "/data/"),
                             ("mast.stsci.edu", "/api/v0.1/Download/file")}:
            server.route(host, prefix, self._handler(host))

    def _handler(self, host: str):
        def handle(request: Request, path: str) -> Response:
            clean = "/".join(filter(None, path.split("/")))  # HEASARC's own URLs carry // runs
            query = request.query_string.decode()
            product = self._by_url.get((host, "/" + clean + (f"?{query}" if query else "")))
            if product is not None:
                return send_file(product.path, request.environ, mimetype=product.content_type, conditional=True)
            if host == _HEASARC[0] and clean in self._dirs:
                if not path.endswith("/"):  # Apache's mod_dir: a directory URL gets its trailing slash
                    return Response("", status=301, headers={"Location": f"https://{host}/{clean}/"})
                return self._listing(clean)
            return Response(f"Not Found: https://{host}/{clean}", status=404)

        return handle

    def _listing(self, directory: str) -> Response:
        entries = self._dirs[directory]
        title = f"Index of /{directory}"
        parent = "/" + directory.rsplit("/", 1)[0] + "/"
        width = max([23, *(len(name) for name in entries)])
        lines = [
            '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">',
            "<html>", " <head>", f"  <title>{escape(title)}</title>", " </head>", " <body>",
            f"<h1>{escape(title)}</h1>",
            '<pre><img src="/icons/blank.gif" alt="Icon "> <a href="?C=N;O=D">Name</a>'
            + " " * (width - 4) + '<a href="?C=M;O=A">Last modified</a>      <a href="?C=S;O=A">Size</a>  '
            '<a href="?C=D;O=A">Description</a><hr><img src="/icons/back.gif" alt="[PARENTDIR]"> '
            f'<a href="{escape(parent)}">Parent Directory</a>' + " " * (width - 15) + "                    -   ",
        ]
        for name in sorted(entries):
            product = entries[name]
            icon = ('<img src="/icons/folder.gif" alt="[DIR]">' if product is None
                    else '<img src="/icons/unknown.gif" alt="[   ]">')
            size = "-" if product is None else apache_size(product.path.stat().st_size)
            stamp = _modified(f"{directory}/{name}".rsplit("/", 2)[0])
            lines.append(f'{icon} <a href="{escape(name)}">{escape(name)}</a>' + " " * (width - len(name))
                         + f" {stamp}  {size:>4}  ")
        lines += ["<hr></pre>", "</body></html>"]
        body = "\n".join(lines) + "\n"
        return Response(body.encode("iso-8859-1"), content_type="text/html;charset=ISO-8859-1")
