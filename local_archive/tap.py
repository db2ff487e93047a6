"""A small TAP service: ADQL run by SQLite over the archive's own tables.

Schemas (``ivoa``, ``rr``) are attached SQLite databases, so schema-qualified
names such as ``ivoa.obscore`` and ``rr.resource`` work as written.  The ADQL
that pyvo and the tutorials send is translated where SQLite differs:
``ILIKE`` (SQLite's LIKE is already case-insensitive), ``TOP n``,
``ivo_string_agg`` and ``ivo_hasword``, and the geometry functions ``POINT``,
``CIRCLE`` and ``CONTAINS``.  Sync and async (UWS) queries are both served.
"""

from __future__ import annotations

import math
import re
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Sequence
from typing import Any
from xml.sax.saxutils import escape

from .data import separation_deg
from .httpserver import Request, Response
from .votables import error_votable, table_votable, to_bytes

__all__ = ["TapService", "adql_to_sqlite"]

_SQL_TYPES = {"char": "TEXT", "unicodeChar": "TEXT", "double": "REAL", "float": "REAL", "int": "INTEGER",
              "long": "INTEGER", "short": "INTEGER", "boolean": "INTEGER"}
_WORD_RE = re.compile(r"[a-z0-9]+")


def _words(text: Any) -> set[str]:
    return set(_WORD_RE.findall(str(text or "").lower()))


def _hasword(text: Any, phrase: Any) -> int:
    """GAVO's ivo_hasword: every word of ``phrase`` occurs in ``text``."""
    wanted = _words(phrase)
    return int(bool(wanted) and wanted <= _words(text))


def _point(frame: str, ra: float, dec: float) -> str:
    return f"P {ra} {dec}"


def _circle(frame: str, ra: float, dec: float, radius: float) -> str:
    return f"C {ra} {dec} {radius}"


def _box(frame: str, ra: float, dec: float, width: float, height: float) -> str:
    return f"B {ra} {dec} {width} {height}"


def _polygon(frame: str, *coords: float) -> str:
    return "G " + " ".join(str(c) for c in coords)


def _distance(one: str | None, two: str | None) -> float | None:
    """ADQL DISTANCE of two POINTs, in degrees."""
    if not one or not two:
        return None
    _, ra1, dec1 = one.split()
    _, ra2, dec2 = two.split()
    return separation_deg(float(ra1), float(dec1), float(ra2), float(dec2))


def _in_polygon(ra: float, dec: float, vertices: list[float]) -> bool:
    """Point in a small spherical polygon, by ray casting in a tangent plane at the point."""
    xs, ys = [], []
    for vra, vdec in zip(vertices[::2], vertices[1::2], strict=True):
        xs.append(((vra - ra + 180) % 360 - 180) * math.cos(math.radians(dec)))
        ys.append(vdec - dec)
    inside = False
    for i in range(len(xs)):
        x1, y1, x2, y2 = xs[i - 1], ys[i - 1], xs[i], ys[i]
        if (y1 > 0) != (y2 > 0) and 0 < x1 + (0 - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def _contains(point: str | None, region: str | None) -> int:
    """ADQL CONTAINS of a POINT in a CIRCLE, BOX or POLYGON."""
    if not point or not region:
        return 0
    _, ra, dec = point.split()
    kind, *values = region.split()
    ra, dec, numbers = float(ra), float(dec), [float(v) for v in values]
    if kind == "C":
        return int(separation_deg(ra, dec, numbers[0], numbers[1]) <= numbers[2])
    if kind == "B":  # width and height are full sizes along RA and Dec (ADQL 2.0)
        dra = ((ra - numbers[0] + 180) % 360 - 180) * math.cos(math.radians(numbers[1]))
        return int(abs(dra) <= numbers[2] / 2 and abs(dec - numbers[1]) <= numbers[3] / 2)
    return int(_in_polygon(ra, dec, numbers))


def _hashlist_has(hashlist: str | None, term: str) -> int:
    """RegTAP's ivo_hashlist_has: ``term`` is one of the '#'-separated, case-insensitive items."""
    return int(term.lower() in [item.strip().lower() for item in (hashlist or "").split("#")])


def _split_part(text: str | None, sep: str, index: int) -> str:
    """PostgreSQL's split_part (1-based), which HEASARC's TAP offers."""
    parts = (text or "").split(sep)
    return parts[index - 1] if 0 < index <= len(parts) else ""


def adql_to_sqlite(adql: str) -> str:
    """Translate the ADQL the tutorials and pyvo use into SQLite SQL.

    Examples
    --------
    >>> adql_to_sqlite("SELECT TOP 5 * FROM ivoa.obscore WHERE obs_collection ILIKE '%ps1%'")
    "SELECT * FROM ivoa.obscore WHERE obs_collection LIKE '%ps1%' LIMIT 5"
    """
    sql = adql.strip().rstrip(";")
    top = re.search(r"(?i)^\s*select\s+(distinct\s+)?top\s+(\d+)\s+", sql)
    limit = None
    if top:
        limit = int(top.group(2))
        sql = re.sub(r"(?i)^\s*select\s+(distinct\s+)?top\s+\d+\s+", lambda m: f"SELECT {m.group(1) or ''}", sql)
    sql = re.sub(r"(?i)\bilike\b", "LIKE", sql)
    # Aliases that are keywords in SQLite but not in ADQL's practice (HEASARC's metainfo query uses "AS table").
    sql = re.sub(r"(?i)\bAS\s+(table|order|group|index)\b", r'AS "\1"', sql)
    sql = re.sub(r"(?i)\bivo_string_agg\s*\(", "group_concat(", sql)
    if limit is not None:
        sql = f"{sql} LIMIT {limit}"
    return sql


class TapService:
    """TAP sync and async endpoints over SQLite tables.

    Parameters
    ----------
    host, prefix : str
        Where the service lives, e.g. ``mast.stsci.edu`` and ``/vo-tap/api/v0.1/caom``.
    tables : dict
        ``{"schema.table": (fields, rows)}`` (or an unqualified name) with VOTable field specs
        ``(name, datatype, arraysize, unit, ucd)``.
    union : bool
        Whether the capabilities declare ADQL's UNION (pyvo's registry code asks).
    descriptions : dict, optional
        ``{"schema.table": "description"}`` for the VOSI tables document.  A field spec may
        also carry a column description as a sixth element.
    hidden : iterable of str, optional
        Tables that answer queries but are not listed in VOSI tables.
    bare_schemas : iterable of str, optional
        Schemas whose tables VOSI lists by the bare table name (SQLite also finds them unqualified).
    """

    def __init__(self, host: str, prefix: str, tables: dict[str, tuple[Sequence[tuple], Sequence[Sequence]]],
                 *, union: bool = True, descriptions: dict[str, str] | None = None,
                 hidden: Iterable[str] = (), bare_schemas: Iterable[str] = ()):
        self.host, self.prefix, self.union = host, prefix.rstrip("/"), union
        self._descriptions = dict(descriptions or {})
        self._hidden, self._bare_schemas = set(hidden), set(bare_schemas)
        self._fields: dict[str, tuple] = {}
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._lock = threading.Lock()
        self._jobs: dict[str, dict[str, Any]] = {}
        self._db.create_function("ivo_hasword", 2, _hasword, deterministic=True)
        self._db.create_function("POINT", 3, _point, deterministic=True)
        self._db.create_function("CIRCLE", 4, _circle, deterministic=True)
        self._db.create_function("CONTAINS", 2, _contains, deterministic=True)
        self._db.create_function("BOX", 5, _box, deterministic=True)
        self._db.create_function("POLYGON", -1, _polygon, deterministic=True)
        self._db.create_function("DISTANCE", 2, _distance, deterministic=True)
        self._db.create_function("split_part", 3, _split_part, deterministic=True)
        self._db.create_function("ivo_hashlist_has", 2, _hashlist_has, deterministic=True)
        self._tables = {name: fields for name, (fields, _) in tables.items()}
        for name, (fields, rows) in tables.items():
            schema, _, table = name.rpartition(".")
            schema = schema or "main"
            if schema not in {r[1] for r in self._db.execute("PRAGMA database_list")}:
                self._db.execute(f"ATTACH DATABASE ':memory:' AS {schema}")
            columns = ", ".join(f'"{f[0]}" {_SQL_TYPES.get(f[1], "TEXT")}' for f in fields)
            self._db.execute(f"CREATE TABLE {schema}.{table} ({columns})")
            self._db.executemany(f"INSERT INTO {schema}.{table} VALUES ({', '.join('?' * len(fields))})",
                                 [tuple(_sql_value(v) for v in row) for row in rows])
            for spec in fields:
                self._fields.setdefault(spec[0], tuple(spec[:5]))

    def register(self, server: Any) -> None:
        server.route(self.host, self.prefix + "/", self.handle)

    # --- queries ----------------------------------------------------------------------

    def run(self, adql: str, maxrec: int | None = None) -> bytes:
        """Run one ADQL query and return the VOTable (or a DAL error document)."""
        try:
            with self._lock:
                cursor = self._db.execute(adql_to_sqlite(adql))
                rows = cursor.fetchall()
                names = [d[0] for d in cursor.description]
        except sqlite3.Error as exc:
            return error_votable(self.error_message(adql, exc))
        overflow = maxrec is not None and len(rows) > maxrec
        rows = rows[:maxrec] if maxrec is not None else rows
        fields = [self._field_for(name, [r[i] for r in rows]) for i, name in enumerate(names)]
        infos = {"QUERY_STATUS": "OVERFLOW" if overflow else "OK"}
        return to_bytes(table_votable(fields, [list(r) for r in rows], infos=infos))

    def error_message(self, adql: str, exc: sqlite3.Error) -> str:
        """The text of the DAL error for a failed query (services override it to word it their way)."""
        return f"Query failed: {exc}"

    def _field_for(self, name: str, values: list) -> tuple:
        sample = next((v for v in values if v is not None), None)
        declared = self._fields.get(name)
        # A declared column keeps its type unless the query changed it (CAST, aggregates, aliases).
        if declared and (sample is None or isinstance(sample, str) == (declared[1] in ("char", "unicodeChar"))):
            return (name, *declared[1:])
        sample = "" if sample is None else sample
        datatype = "long" if isinstance(sample, int) else "double" if isinstance(sample, float) else "char"
        return (name, datatype, "*" if datatype == "char" else None, None, None)

    # --- HTTP -------------------------------------------------------------------------

    def handle(self, request: Request, path: str) -> Response:
        rest = path[len(self.prefix):].strip("/")
        params = {k.upper(): v for k, v in request.values.items()}
        if rest == "capabilities":
            return Response(self._capabilities(), content_type="text/xml")
        if rest == "tables":
            return Response(self._tableset(), content_type="text/xml")
        if rest == "sync":
            return self._query_response(params)
        if rest == "async" and request.method == "POST":
            job_id = uuid.uuid4().hex[:12]
            self._jobs[job_id] = {"phase": "PENDING", "params": params, "result": None}
            return Response(status=303, headers={"Location": self._job_url(job_id)})
        match = re.fullmatch(r"async/([0-9a-f]+)(/phase|/results/result)?", rest)
        if match and match.group(1) in self._jobs:
            return self._job(request, match.group(1), match.group(2) or "")
        return Response(f"no such TAP resource: {path}", status=404)

    def _query_response(self, params: dict[str, str]) -> Response:
        if params.get("LANG", "ADQL").upper() != "ADQL" or "QUERY" not in params:
            return Response(error_votable("only LANG=ADQL with a QUERY is supported"), status=400,
                            content_type="text/xml")
        maxrec = int(params["MAXREC"]) if params.get("MAXREC", "").isdigit() else None
        return Response(self.run(params["QUERY"], maxrec), content_type="application/x-votable+xml")

    def _job_url(self, job_id: str) -> str:
        return f"https://{self.host}{self.prefix}/async/{job_id}"

    def _job(self, request: Request, job_id: str, part: str) -> Response:
        job = self._jobs[job_id]
        if request.method == "DELETE" or request.values.get("ACTION", "").upper() == "DELETE":
            del self._jobs[job_id]
            return Response(status=303, headers={"Location": f"https://{self.host}{self.prefix}/async"})
        if part == "/phase" and request.method == "POST":
            if request.values.get("PHASE", "").upper() == "RUN" and job["phase"] == "PENDING":
                job["result"] = self._query_response(job["params"]).get_data()
                job["phase"] = "ERROR" if b'value="ERROR"' in job["result"] else "COMPLETED"
            return Response(status=303, headers={"Location": self._job_url(job_id)})
        if part == "/phase":
            return Response(job["phase"], content_type="text/plain")
        if part == "/results/result":
            return Response(job["result"] or b"", content_type="application/x-votable+xml")
        return Response(self._job_xml(job_id, job), content_type="text/xml")

    def _job_xml(self, job_id: str, job: dict) -> str:
        results = ""
        if job["phase"] == "COMPLETED":
            results = (f'<uws:result id="result" xlink:type="simple" '
                       f'xlink:href="{self._job_url(job_id)}/results/result"/>')
        error = ""
        if job["phase"] == "ERROR":
            message = re.search(rb'QUERY_STATUS" value="ERROR">([^<]*)<', job["result"] or b"")
            text = escape(message.group(1).decode()) if message else "query failed"
            error = f'<uws:errorSummary type="fatal" hasDetail="false"><uws:message>{text}</uws:message>' \
                    "</uws:errorSummary>"
        parameters = "".join(f'<uws:parameter id="{escape(k.lower())}">{escape(v)}</uws:parameter>'
                             for k, v in job["params"].items())
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<uws:job xmlns:uws="http://www.ivoa.net/xml/UWS/v1.0" xmlns:xlink="http://www.w3.org/1999/xlink" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" version="1.1">'
            f"<uws:jobId>{job_id}</uws:jobId><uws:runId/><uws:ownerId xsi:nil=\"true\"/>"
            f"<uws:phase>{job['phase']}</uws:phase><uws:quote xsi:nil=\"true\"/>"
            "<uws:creationTime>2026-01-01T00:00:00Z</uws:creationTime>"
            "<uws:startTime>2026-01-01T00:00:00Z</uws:startTime><uws:endTime>2026-01-01T00:00:01Z</uws:endTime>"
            "<uws:executionDuration>3600</uws:executionDuration>"
            "<uws:destruction>2026-12-31T00:00:00Z</uws:destruction>"
            f"<uws:parameters>{parameters}</uws:parameters><uws:results>{results}</uws:results>{error}"
            "</uws:job>"
        )

    def _tableset(self) -> str:
        """VOSI tables: every table with its columns (pyvo's ``TAPService.tables``)."""
        schemas: dict[str, list[str]] = {}
        for name, fields in self._tables.items():
            if name in self._hidden:
                continue
            schema, _, bare = name.rpartition(".")
            schema = schema or "main"
            shown = bare if schema in self._bare_schemas else name
            description = self._descriptions.get(name)
            columns = "".join(
                f"<column><name>{escape(f[0])}</name>"
                + (f"<description>{escape(f[5])}</description>" if len(f) > 5 and f[5] else "")
                + (f"<unit>{escape(f[3])}</unit>" if f[3] else "")
                + (f"<ucd>{escape(f[4])}</ucd>" if f[4] else "")
                + f'<dataType xsi:type="vs:VOTableType">{f[1]}</dataType></column>' for f in fields)
            schemas.setdefault(schema, []).append(
                f'<table type="output"><name>{escape(shown)}</name>'
                + (f"<description>{escape(description)}</description>" if description else "")
                + f"{columns}</table>")
        body = "".join(f"<schema><name>{escape(s)}</name>{''.join(t)}</schema>" for s, t in schemas.items())
        return ('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<vosi:tableset xmlns:vosi="http://www.ivoa.net/xml/VOSITables/v1.0" '
                'xmlns:vs="http://www.ivoa.net/xml/VODataService/v1.1" '
                f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">{body}</vosi:tableset>')

    def _capabilities(self) -> str:
        base = f"https://{self.host}{self.prefix}"
        union = ('<languageFeatures type="ivo://ivoa.net/std/TAPRegExt#features-adql-sets">'
                 "<feature><form>UNION</form></feature></languageFeatures>") if self.union else ""
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<cap:capabilities xmlns:cap="http://www.ivoa.net/xml/VOSICapabilities/v1.0" '
            'xmlns:tr="http://www.ivoa.net/xml/TAPRegExt/v1.0" xmlns:vr="http://www.ivoa.net/xml/VOResource/v1.0" '
            'xmlns:vs="http://www.ivoa.net/xml/VODataService/v1.1" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            '<capability standardID="ivo://ivoa.net/std/TAP" xsi:type="tr:TableAccess">'
            f'<interface role="std" xsi:type="vs:ParamHTTP"><accessURL use="base">{base}</accessURL></interface>'
            '<language><name>ADQL</name><version ivo-id="ivo://ivoa.net/std/ADQL#v2.0">2.0</version>'
            f"{union}</language>"
            '<outputFormat><mime>application/x-votable+xml</mime></outputFormat>'
            "</capability></cap:capabilities>"
        )


def _sql_value(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if hasattr(value, "item"):
        return value.item()
    return value
