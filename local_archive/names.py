"""CDS Sesame (``SkyCoord.from_name``) and IVOA vocabularies (DataLink for ``bysemantics``, messenger for wavebands)."""

from __future__ import annotations

from importlib import resources

from .httpserver import Request, Response

__all__ = ["register_names"]

# SIMBAD's position of M 1 as Sesame prints it.
SESAME_POSITIONS = {"crab": ("M   1", "83.63308333 +22.01450000 = 05:34:31.94 +22:00:52.2", "SNR"),
                    "m1": ("M   1", "83.63308333 +22.01450000 = 05:34:31.94 +22:00:52.2", "SNR"),
                    "crab nebula": ("M   1", "83.63308333 +22.01450000 = 05:34:31.94 +22:00:52.2", "SNR")}


def _sesame(request: Request, path: str) -> Response:
    name = request.query_string.decode().replace("+", " ").replace("%20", " ").strip()
    known = SESAME_POSITIONS.get(name.lower())
    if known is None:
        body = f"# {name}\t#Q1\n#=S=Simbad (via url):    0\n#! *** Nothing found *** \n\n#====Done====\n"
    else:
        canonical, position, kind = known
        body = (f"# {name}\t#Q1\n#=S=Simbad (via url):    1\n%@ 1110869\n%I.0 {canonical}\n%C.0 {kind}\n"
                f"%J {position}\n\n#====Done (2026-Nov-25,00:00:00z)====\n")
    return Response(body, content_type="text/plain")


def _vocabulary(request: Request, path: str) -> Response:
    name = {"/rdf/datalink/core": "datalink-core", "/rdf/messenger": "messenger"}.get(path.rstrip("/"))
    if name is None:
        return Response(f"no such vocabulary: {path}", status=404)
    text = resources.files(__package__).joinpath(f"resources/{name}.desise").read_text()
    return Response(text, content_type="application/x-desise+json")


def register_names(server) -> None:
    for host in ("cds.unistra.fr", "vizier.cfa.harvard.edu", "cdsweb.u-strasbg.fr"):
        server.route(host, "/cgi-bin/nph-sesame", _sesame)
        server.route(host, "/viz-bin/nph-sesame", _sesame)
    server.route("www.ivoa.net", "/rdf/", _vocabulary)
