"""CDS Sesame (``SkyCoord.from_name``) and IVOA vocabularies (DataLink for ``bysemantics``, messenger for wavebands).

Sesame answers from ``resources/sesame_names.json``: about 1950 objects (all 110
Messier objects, NGC/IC objects brighter than 12 mag, objects with a common name,
115 bright stars, 3C radio sources) with their J2000 ICRS positions and the
catalogues they come from (the file's ``sources``).  A name it does not hold is
answered as Sesame answers an unknown name: no ``%J`` line, "Nothing found".
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from urllib.parse import unquote

from ..httpserver import Request, Response

__all__ = ["register_names", "resolve"]

_DATE = "2026-Nov-25,00:00:00z"
# The databases Sesame names in its answer headers (service_formats.md section 8; astropy's recorded answers).
_DATABASES = {"S": "#=S=Simbad (via url):", "N": "#=N=NED (via url):", "V": "#=V=VizieR (local):"}


def _normalise(name: str) -> str:
    """Sesame's tolerance of spacing, case, 'Messier' and leading zeros: 'Messier 1' = 'M 1' = 'm1' = 'M001'."""
    key = re.sub(r"\s+", "", name.lower())
    key = re.sub(r"^messier", "m", key)
    return re.sub(r"^(m|ngc|ic|pgc|ugc|mel|hcg|3c)0+(?=\d)", r"\1", key)


@lru_cache(maxsize=1)
def _table() -> dict[str, tuple[str, str, float, float]]:
    text = resources.files("local_archive").joinpath("resources/sesame_names.json").read_text(encoding="utf-8")
    document = json.loads(text)
    table: dict[str, tuple[str, str, float, float]] = {}
    for canonical, kind, ra, dec, _source, names in document["rows"]:
        for name in names:
            table.setdefault(_normalise(name), (canonical, kind, ra, dec))
    return table


def resolve(name: str) -> tuple[str, str, float, float] | None:
    """SIMBAD's main identifier, object type, RA and Dec (deg, ICRS J2000) of ``name``, or None.

    Examples
    --------
    >>> resolve("messier 1")
    ('M   1', 'SNR', 83.63308333, 22.0145)
    >>> resolve("no such object") is None
    True
    """
    return _table().get(_normalise(name))


def _sexagesimal(ra: float, dec: float) -> str:
    seconds = round(ra / 15 * 3600, 2)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    sign = "-" if dec < 0 else "+"
    arcsec = round(abs(dec) * 3600, 1)
    degrees, rest = divmod(arcsec, 3600)
    arcmin, asec = divmod(rest, 60)
    return f"{int(hours):02d}:{int(minutes):02d}:{secs:05.2f} {sign}{int(degrees):02d}:{int(arcmin):02d}:{asec:04.1f}"


def _answer(name: str, databases: str) -> str:
    """Sesame's plain-text answer (the shape of the recorded answers in service_formats.md section 8)."""
    found = resolve(name) if "S" in databases else None  # the table holds SIMBAD-like answers only
    lines = [f"# {name}\t#Q1"]
    if found is not None:
        canonical, kind, ra, dec = found
        lines += [f"{_DATABASES['S']}    1", f"%I.0 {canonical}", f"%C.0 {kind}",
                  f"%J {ra:.8f} {dec:+.8f} = {_sexagesimal(ra, dec)}", ""]
    else:
        # Sesame reports each database it asked; none gives a %J line, so astropy raises NameResolveError.
        for letter in databases:
            if letter in _DATABASES:
                lines += [f"{_DATABASES[letter]}    0", "#! *** Nothing found *** "]
        lines.append("")
    lines.append(f"#====Done ({_DATE})====")
    return "\n".join(lines) + "\n"


def _sesame(request: Request, path: str) -> Response:
    # astropy asks <base>/nph-sesame/<db>?<quoted name> with db SNV, S, N or V (name_resolve.get_icrs_coordinates);
    # Sesame also takes output options before the databases (e.g. /-oI/SNV).
    tail = path.rstrip("/").rsplit("nph-sesame", 1)[-1].strip("/")
    databases = (tail.rsplit("/", 1)[-1] if tail else "SNV").upper()
    databases = "".join(letter for letter in databases if letter in "SNVA").replace("A", "SNV") or "SNV"
    name = unquote(request.query_string.decode().replace("+", " ")).strip()
    return Response(_answer(name, databases), content_type="text/plain")


def _vocabulary(request: Request, path: str) -> Response:
    name = {"/rdf/datalink/core": "datalink-core", "/rdf/messenger": "messenger"}.get(path.rstrip("/"))
    if name is None:
        return Response(f"no such vocabulary: {path}", status=404)
    text = resources.files("local_archive").joinpath(f"resources/{name}.desise").read_text()
    return Response(text, content_type="application/x-desise+json")


def register_names(server) -> None:
    """Route Sesame's hosts (astropy's ``sesame_url`` defaults and the old CDS host) and www.ivoa.net's vocabularies."""
    for host in ("cds.unistra.fr", "vizier.cfa.harvard.edu", "cdsweb.u-strasbg.fr", "cdsweb.unistra.fr"):
        server.route(host, "/cgi-bin/nph-sesame", _sesame)
        server.route(host, "/viz-bin/nph-sesame", _sesame)
    server.route("www.ivoa.net", "/rdf/", _vocabulary)
