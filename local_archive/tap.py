"""A small TAP service: ADQL run by SQLite over the archive's own tables.

Schemas (``ivoa``, ``rr``) are attached SQLite databases, so schema-qualified
names such as ``ivoa.obscore`` and ``rr.resource`` work as written.  The ADQL
that pyvo and the tutorials send is translated where SQLite differs:
``ILIKE`` (SQLite's LIKE is already case-insensitive), ``TOP n``,
``ivo_string_agg`` and ``ivo_hasword``, and the geometry functions ``POINT``,
``CIRCLE`` and ``CONTAINS``.  Sync and async (UWS) queries are both served, with TAP 1.0
table uploads (``UPLOAD=name,param:x``, queried as ``TAP_UPLOAD.name``), and a DALI examples
document where a service has examples.
"""

from __future__ import annotations

import io
import math
import re
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Sequence
from typing import Any
from xml.sax.saxutils import escape

from .holdings.common import separation_deg
from .httpserver import Request, Response
from .votables import error_votable, table_votable, to_bytes

__all__ = ["TapService", "adql_to_sqlite"]

_SQL_TYPES = {"char": "TEXT", "unicodeChar": "TEXT", "double": "REAL", "float": "REAL", "int": "INTEGER",
              "long": "INTEGER", "short": "INTEGER", "boolean": "INTEGER"}
_WORD_RE = re.compile(r"[a-z0-9]+")
# An unaliased aggregate: the output column takes the function's name, as in PostgreSQL (``count``, ``min``,
# ...), which the TAP services on it (HEASARC's Xamin, GAVO's DaCHS) pass through.  The recorded HEASARC
# answer to ``SELECT COUNT(*) FROM acceptcat`` has a column ``count`` (heasarc-tutorials
# heasarc_catalog_contents.ipynb, executed 2026-03-16: ``accept_nrow_res["count"][0]``).
_AGGREGATE_RE = re.compile(r"(?i)^\s*(count|min|max|avg|sum)\s*\(.*\)\s*$", re.S)
_VOTABLE_SQL = {"char": "TEXT", "unicodeChar": "TEXT", "double": "REAL", "float": "REAL", "int": "INTEGER",
                "long": "INTEGER", "short": "INTEGER", "unsignedByte": "INTEGER", "boolean": "INTEGER"}


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
    views : dict, optional
        ``{"schema.table": (fields, SELECT)}``: tables whose rows SQLite computes on demand (large catalogues).
    examples : sequence of (str, str), optional
        ``(name, ADQL)`` pairs served at ``/examples`` as DALI 1.1 section 2.3 defines the document.
    """

    def __init__(self, host: str, prefix: str, tables: dict[str, tuple[Sequence[tuple], Sequence[Sequence]]],
                 *, union: bool = True, descriptions: dict[str, str] | None = None,
                 hidden: Iterable[str] = (), bare_schemas: Iterable[str] = (),
                 examples: Sequence[tuple[str, str]] = (), views: dict[str, tuple[Sequence[tuple], str]] | None = None):
        self.host, self.prefix, self.union = host, prefix.rstrip("/"), union
        self._examples = list(examples)
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
                                 [tuple(map(_sql_value, row)) for row in rows])
            for spec in fields:
                self._fields.setdefault(spec[0], tuple(spec[:5]))
        for name, (fields, select) in (views or {}).items():
            schema, _, table = name.rpartition(".")
            schema = schema or "main"
            if schema not in {r[1] for r in self._db.execute("PRAGMA database_list")}:
                self._db.execute(f"ATTACH DATABASE ':memory:' AS {schema}")
            self._db.execute(f"CREATE VIEW {schema}.{table} AS {select}")
            self._tables[name] = fields
            for spec in fields:
                self._fields.setdefault(spec[0], tuple(spec[:5]))
        self._db.execute("ATTACH DATABASE ':memory:' AS tap_upload")
        # Declared names by lower case: PostgreSQL folds unquoted identifiers, so ``Radial_Velocity`` comes
        # back as the column's own name (the recorded HEASARC answers name it ``radial_velocity``).
        self._folded = {name.lower(): name for name in self._fields}

    def register(self, server: Any) -> None:
        server.route(self.host, self.prefix + "/", self.handle)

    # --- queries ----------------------------------------------------------------------

    def execute(self, adql: str, uploads: dict[str, bytes] | None = None) -> tuple[list[str], list[tuple]]:
        """Run ADQL with its uploaded tables; the output column names and rows (raises sqlite3.Error)."""
        with self._lock:
            made = [self._upload(name, body) for name, body in (uploads or {}).items()]
            try:
                cursor = self._db.execute(adql_to_sqlite(adql))
                rows = cursor.fetchall()
                names = [self.output_name(d[0]) for d in cursor.description]
            finally:
                for table in made:
                    self._db.execute(f'DROP TABLE IF EXISTS tap_upload."{table}"')
        return names, rows

    def output_name(self, name: str) -> str:
        """The name production gives an output column (aggregates and case folding, see above)."""
        if match := _AGGREGATE_RE.match(name):
            return match.group(1).lower()
        return self._folded.get(name.lower(), name)

    def _upload(self, name: str, body: bytes) -> str:
        """Load one uploaded VOTable as ``TAP_UPLOAD.<name>`` (TAP 1.0 section 2.5.8)."""
        from astropy.io.votable import parse_single_table

        table = parse_single_table(io.BytesIO(body)).to_table()
        if not re.fullmatch(r"[A-Za-z]\w*", name):
            raise sqlite3.OperationalError(f"invalid upload table name {name!r}")
        columns = ", ".join(f'"{c}" {_VOTABLE_SQL.get(_kind(table[c]), "TEXT")}' for c in table.colnames)
        self._db.execute(f'CREATE TABLE tap_upload."{name}" ({columns})')
        rows = [tuple(None if _masked(v) else _sql_value(v) for v in row) for row in table.iterrows()]
        self._db.executemany(f'INSERT INTO tap_upload."{name}" VALUES ({", ".join("?" * len(table.colnames))})',
                             rows)
        return name

    def run(self, adql: str, maxrec: int | None = None, uploads: dict[str, bytes] | None = None) -> bytes:
        """Run one ADQL query and return the VOTable (or a DAL error document)."""
        try:
            names, rows = self.execute(adql, uploads)
        except (sqlite3.Error, ValueError) as exc:
            return error_votable(self.error_message(adql, exc))
        rows = self.order(adql, names, rows)
        overflow = maxrec is not None and len(rows) > maxrec
        rows = rows[:maxrec] if maxrec is not None else rows
        fields = [self._field_for(name, [r[i] for r in rows]) for i, name in enumerate(names)]
        infos = {"QUERY_STATUS": "OVERFLOW" if overflow else "OK"}
        return self.serialize(adql, table_votable(fields, [list(r) for r in rows], infos=infos))

    def order(self, adql: str, names: list[str], rows: list) -> list:
        """The rows in the order the service answers them (the database's, unless a service says otherwise)."""
        return rows

    def serialize(self, adql: str, votable: Any) -> bytes:
        """The answer's bytes (TABLEDATA; services that answer otherwise override it)."""
        return to_bytes(votable)

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
        if rest == "examples" and self._examples:
            return Response(self._examples_document(), content_type="application/xhtml+xml")
        uploads = _uploads(request, params)
        if rest == "sync":
            return self._query_response(params, uploads)
        if rest == "async" and request.method == "POST":
            job_id = uuid.uuid4().hex[:12]
            self._jobs[job_id] = {"phase": "PENDING", "params": params, "result": None, "uploads": uploads}
            return Response(status=303, headers={"Location": self._job_url(job_id)})
        match = re.fullmatch(r"async/([0-9a-f]+)(/phase|/results/result)?", rest)
        if match and match.group(1) in self._jobs:
            return self._job(request, match.group(1), match.group(2) or "")
        return Response(f"no such TAP resource: {path}", status=404)

    def _query_response(self, params: dict[str, str], uploads: dict[str, bytes] | None = None) -> Response:
        if params.get("LANG", "ADQL").upper() != "ADQL" or "QUERY" not in params:
            return Response(error_votable("only LANG=ADQL with a QUERY is supported"), status=400,
                            content_type="text/xml")
        maxrec = int(params["MAXREC"]) if params.get("MAXREC", "").isdigit() else None
        return Response(self.run(params["QUERY"], maxrec, uploads), content_type="application/x-votable+xml")

    def _job_url(self, job_id: str) -> str:
        return f"https://{self.host}{self.prefix}/async/{job_id}"

    def _job(self, request: Request, job_id: str, part: str) -> Response:
        job = self._jobs[job_id]
        if request.method == "DELETE" or request.values.get("ACTION", "").upper() == "DELETE":
            del self._jobs[job_id]
            return Response(status=303, headers={"Location": f"https://{self.host}{self.prefix}/async"})
        if part == "/phase" and request.method == "POST":
            if request.values.get("PHASE", "").upper() == "RUN" and job["phase"] == "PENDING":
                job["result"] = self._query_response(job["params"], job.get("uploads")).get_data()
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

    def _examples_document(self) -> str:
        """DALI 1.1 section 2.3 examples: XHTML with RDFa, one ``typeof="example"`` element per query."""
        items = "".join(
            f'<div typeof="example" id="ex{i}" resource="#ex{i}"><h2 property="name">{escape(name)}</h2>'
            f'<pre property="query">{escape(query)}</pre></div>' for i, (name, query) in enumerate(self._examples, 1))
        return ('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>TAP examples</title></head>'
                f'<body vocab="http://www.ivoa.net/rdf/examples#"><h1>TAP examples</h1>{items}</body></html>')

    def _capabilities(self) -> str:
        base = f"https://{self.host}{self.prefix}"
        # DALI 1.1 section 2.3: an examples capability with a web-browser interface.
        examples = ('<capability standardID="ivo://ivoa.net/std/DALI#examples">'
                    f'<interface xsi:type="vr:WebBrowser"><accessURL use="full">{base}/examples</accessURL>'
                    "</interface></capability>") if self._examples else ""
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
            # TAPRegExt 1.0 section 2.6: the upload methods pyvo lists (``upload_methods``).
            '<uploadMethod ivo-id="ivo://ivoa.net/std/TAPRegExt#upload-http"/>'
            '<uploadMethod ivo-id="ivo://ivoa.net/std/TAPRegExt#upload-inline"/>'
            f"</capability>{examples}</cap:capabilities>"
        )


def _uploads(request: Request, params: dict[str, str]) -> dict[str, bytes]:
    """TAP 1.0 UPLOAD: ``name,param:part`` (an inline multipart file) or ``name,<URL>`` (not fetched here)."""
    found: dict[str, bytes] = {}
    for spec in filter(None, params.get("UPLOAD", "").split(";")):
        name, _, source = spec.partition(",")
        if source.startswith("param:") and source[6:] in request.files:
            found[name.strip()] = request.files[source[6:]].read()
    return found


def _kind(column: Any) -> str:
    kind = getattr(column.dtype, "kind", "U")
    return {"i": "long", "u": "long", "f": "double", "b": "boolean"}.get(kind, "char")


_SQL_NATIVE = frozenset({int, float, str, bytes, type(None)})


def _masked(value: Any) -> bool:
    return value is None or type(value).__name__ == "MaskedConstant"


def _sql_value(value: Any) -> Any:
    if type(value) in _SQL_NATIVE:  # most values of the large catalogues: nothing to convert
        return value
    if isinstance(value, bool):
        return int(value)
    if hasattr(value, "item"):
        return value.item()
    return value
