"""HEASARC's Simple Spectral Access service: ``https://heasarc.gsfc.nasa.gov/xamin/vo/ssa?table=<table>&``.

On ``chanmaster`` it lists the Chandra grating spectra (``pha2``) near a position, one row per spectrum
file, in the production form of December 2025 (service_formats.md §3.2(c), recorded in NASA-NAVO/
navo-workshop gh-pages @ c6e66534b4b4, ``spectral_access.ipynb`` and ``basic_reference.ipynb``): the
chanmaster columns, then the ``SSA_*`` columns, no ``datalink`` or ``cloud_access`` column; ``SSA_reference``
is a DataLink URL (``.../xamin/vo/datalink?datalink_key&id=ivo://nasa.heasarc/chanmaster?<obsid>/chandra.obs.pha``)
with ``SSA_format`` ``application/x-votable+xml;content=datalink``, and that DataLink
(:class:`~local_archive.services.heasarc.HeasarcChandra`) gives the pha2 file over HTTPS with its
``cloud_access`` in the ``nasa-heasarc`` bucket.  The other tables the registry gives an SSA capability answer
a well-formed empty table.  The protocol (parameters, ``FORMAT=metadata``, errors, utypes) is the IVOA's
Simple Spectral Access Protocol 1.1 (IVOA Recommendation 2012-02-10, https://www.ivoa.net/documents/SSA/).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from astropy.io.votable.tree import Info, Param, VOTableFile
from astropy.time import Time

from ..holdings.chandra import ChandraObs
from ..holdings.common import Product, separation_deg
from ..httpserver import Request, Response
from ..votables import DATALINK_MIME, error_votable, table_votable, to_bytes
from .heasarc import HOST, MASTERS, datalink_url
from .registry import RESOURCES, SSA

__all__ = ["HeasarcSsa", "SSA_FIELDS", "SSA_URL", "spectrum_id"]

SSA_URL = f"https://{HOST}/xamin/vo/ssa?table=chanmaster&"  # the registry's access URL (§3.1)

# (name, datatype, arraysize, unit, ucd, utype).  Names, order and units: the recorded December 2025 answer
# (§3.2(c); units as its table header shows them).  obsid and SSA_datalength are text there (the recorded
# notebook's table viewer sorts them as text, every other numeric column as a number), exposure an integer
# (printed 97080 beside SSA_duration 97080.0).  The utypes are SSA 1.1's (its query response metadata)
# for what each column holds; pyvo's SSARecord reads title, format and acref by them.
_CHANMASTER_FIELDS = (
    ("obsid", "char", "*", None, "meta.id;obs", None),
    ("status", "char", "*", None, None, None),
    ("name", "char", "*", None, "meta.id;src", "ssa:Target.Name"),
    ("ra", "double", None, "deg", "pos.eq.ra;meta.main", None),
    ("dec", "double", None, "deg", "pos.eq.dec;meta.main", None),
    ("time", "double", None, "d", "time.start", None),
    ("detector", "char", "*", None, "meta.id;instr.det", None),
    ("grating", "char", "*", None, None, None),
    ("exposure", "int", None, "s", "time.duration;obs.exposure", None),
    ("type", "char", "*", None, None, None),
    ("pi", "char", "*", None, None, None),
    ("public_date", "int", None, "d", None, None),
)
_SSA_COLUMNS = (
    ("SSA_start_time", "double", None, "d", "time.start", "ssa:Char.TimeAxis.Coverage.Bounds.Start"),
    ("SSA_tmid", "double", None, "d", "time.epoch", "ssa:Char.TimeAxis.Coverage.Location.Value"),
    ("SSA_stop_time", "double", None, "d", "time.end", "ssa:Char.TimeAxis.Coverage.Bounds.Stop"),
    ("SSA_duration", "double", None, "s", "time.duration", "ssa:Char.TimeAxis.Coverage.Bounds.Extent"),
    # Always empty at production and typed as one number there (its viewer sorts it numerically); SSA's
    # position (Char.SpatialAxis.Coverage.Location.Value) is a pair, so no utype is claimed for it [M].
    ("SSA_coord_obs", "double", None, "deg", None, None),
    ("SSA_ra", "double", None, "deg", "pos.eq.ra", None),
    ("SSA_dec", "double", None, "deg", "pos.eq.dec", None),
    ("SSA_fov", "double", None, "deg", "instr.fov", "ssa:Char.SpatialAxis.Coverage.Bounds.Extent"),
    ("SSA_title", "char", "*", None, "meta.title;meta.dataset", "ssa:DataID.Title"),
    ("SSA_reference", "char", "*", None, "meta.ref.url", "ssa:Access.Reference"),
    ("SSA_datalength", "char", "*", None, "meta.number", "ssa:Dataset.Length"),
    ("SSA_datamodel", "char", "*", None, "meta.id;meta.dataset", "ssa:Dataset.DataModel"),
    ("SSA_instrument", "char", "*", None, "meta.id;instr", "ssa:DataID.Instrument"),
    # Production's value is the dataset's IVOA identifier (§3.2(c)), hence PublisherDID rather than Publisher.
    ("SSA_publisher", "char", "*", None, "meta.ref.ivoid", "ssa:Curation.PublisherDID"),
    ("SSA_format", "char", "*", None, "meta.code.mime", "ssa:Access.Format"),
    ("SSA_wavelength_min", "double", None, "m", "em.wl;stat.min", "ssa:Char.SpectralAxis.Coverage.Bounds.Start"),
    ("SSA_wavelength_max", "double", None, "m", "em.wl;stat.max", "ssa:Char.SpectralAxis.Coverage.Bounds.Stop"),
    ("SSA_bandwidth", "double", None, "m", "instr.bandwidth", "ssa:Char.SpectralAxis.Coverage.Bounds.Extent"),
    ("SSA_bandpass", "double", None, "m", "em.wl;instr.bandpass", "ssa:Char.SpectralAxis.Coverage.Location.Value"),
)
SSA_FIELDS = _CHANMASTER_FIELDS + _SSA_COLUMNS

# Values production gives every Chandra grating spectrum alike, HETG/ACIS and LETG/HRC-S (§3.2(b)-(c)):
# the 0.81 deg field and the 0.2-10 keV band, 1.2398e-10 to 6.1992e-09 m.
_FOV_DEG = 0.81
_BAND_M = (1.2398e-10, 6.1992e-09, 6.07522e-09, 3.16159e-09)  # min, max, width, centre
_DATAMODEL = "Spectrum-1.0"

# The input parameters a FORMAT=metadata answer describes (SSA 1.1's metadata query: PARAMs named INPUT:<name>,
# as MAST's SSA answers it, http://archive.stsci.edu/ssap/search2.php?format=metadata).  Descriptions ours [L].
_INPUTS = (
    ("POS", "char", "*", None, "Search position 'ra,dec' in decimal degrees (ICRS); ';ICRS' may follow."),
    ("SIZE", "double", None, "deg", "Diameter of the search region in decimal degrees."),
    ("BAND", "char", "*", "m", "Spectral range 'low/high' in metres, or one wavelength the spectrum must cover."),
    ("TIME", "char", "*", None, "Time range 'start/end' in ISO 8601 (UTC), or one instant."),
    ("FORMAT", "char", "*", None, "'all', 'metadata', or a list of MIME types of the datasets."),
    ("MAXREC", "int", None, None, "Maximum number of records returned."),
    ("REQUEST", "char", "*", None, "'queryData'."),
)
_ANY_FORMAT = {"", "all", "compliant", "native"}
_MAXREC = 100000  # the most rows one answer gives (our limit; production's is not known) [L]


def spectrum_id(product: Product) -> str:
    """The DataLink ID of a pha2 file: ``ivo://nasa.heasarc/chanmaster?<obsid>/chandra.obs.pha`` (§3.2(c))."""
    return f"ivo://nasa.heasarc/chanmaster?{product.meta['obsid']}/chandra.obs.pha"


def _ssa_tables() -> set[str]:
    """The tables the registry gives an SSA capability (``.../xamin/vo/ssa?table=<name>&``)."""
    tables = set()
    for resource in RESOURCES:
        for standard, _kind, _role, url in resource.get("capabilities", ()):
            if standard == SSA and (match := re.search(r"/xamin/vo/ssa\?table=(\w+)", url)):
                tables.add(match.group(1))
    return tables


def _range(text: str, parse) -> tuple[float, float]:
    """An SSA range-list item, ``lo/hi``, ``lo/``, ``/hi`` or one value (SSA 1.1's range-list parameters)."""
    text = text.split(";")[0].strip()
    if "/" not in text:
        value = parse(text)
        return value, value
    low, high = (part.strip() for part in text.split("/", 1))
    return (parse(low) if low else float("-inf")), (parse(high) if high else float("inf"))


def _mjd(text: str) -> float:
    """MJD (UTC) of an ISO 8601 date or date-time, the form SSA's TIME takes."""
    return float(Time(text, format="isot" if "T" in text else "iso", scale="utc").mjd)


class _Query:
    """The constraints of one queryData request, parsed and checked."""

    def __init__(self, params: dict[str, str], default_size: float):
        if "POS" not in params:
            raise ValueError("POS is required")
        coords = params["POS"].split(";")[0].split(",")
        frame = params["POS"].split(";")[1].strip().upper() if ";" in params["POS"] else "ICRS"
        if len(coords) != 2 or frame not in ("ICRS", "FK5"):
            raise ValueError(f"POS must be 'ra,dec' in ICRS degrees: {params['POS']!r}")
        self.ra, self.dec = (float(v) for v in coords)
        self.size = float(params["SIZE"]) if params.get("SIZE", "").strip() else default_size
        if not (0 <= self.ra <= 360 and -90 <= self.dec <= 90) or self.size < 0:
            raise ValueError(f"POS/SIZE out of range: {params['POS']!r}, {params.get('SIZE')!r}")
        self.band = _range(params["BAND"], float) if params.get("BAND") else None
        self.time = _range(params["TIME"], _mjd) if params.get("TIME") else None
        self.formats = {f.strip().lower() for f in params.get("FORMAT", "").split(",")}
        self.maxrec = int(params["MAXREC"]) if params.get("MAXREC") else None
        if self.maxrec is not None and self.maxrec < 0:
            raise ValueError(f"MAXREC must not be negative: {self.maxrec}")

    def matches(self, obs: ChandraObs, mime: str) -> bool:
        if separation_deg(self.ra, self.dec, obs.ra, obs.dec) > self.size / 2:
            return False
        if self.band and not (self.band[0] <= _BAND_M[1] and self.band[1] >= _BAND_M[0]):
            return False
        if self.time and not (self.time[0] <= obs.mjd + obs.exposure / 86400 and self.time[1] >= obs.mjd):
            return False
        wanted = self.formats - _ANY_FORMAT
        # A MIME type matches with or without its parameters (FORMAT=application/x-votable+xml finds DataLink).
        return not wanted or mime.lower() in wanted or mime.lower().split(";")[0] in wanted


class HeasarcSsa:
    """``xamin/vo/ssa``: SSA 1.1 queryData over the Chandra grating spectra, empty on the other SSA tables."""

    def __init__(self, products: Sequence[Product]):
        self.spectra = [p for p in products if p.archive == "heasarc" and p.meta.get("kind") == "pha2"]
        self.tables = _ssa_tables()

    def register(self, server) -> None:
        server.route(HOST, "/xamin/vo/ssa", self.ssa)

    def ssa(self, request: Request, path: str) -> Response:
        params = {k.upper(): v for k, v in request.values.items()}
        table = params.get("TABLE", "").lower()
        if table not in self.tables:  # wording not seen at production [L]; an SSA error document
            return _xml(error_votable(f"No SSA service for table {table!r}" if table else "No table specified"))
        if params.get("REQUEST", "queryData").lower() != "querydata":
            return _xml(error_votable(f"Unsupported REQUEST {params['REQUEST']!r}: this service supports queryData"))
        fields = SSA_FIELDS if table == "chanmaster" else _SSA_COLUMNS
        master = MASTERS.get(table)
        default_size = 2 * (master.radius if master else 10.0) / 60  # the table's default radius (arcmin) [L]
        if params.get("FORMAT", "").lower() == "metadata":  # SSA 1.1 metadata query: inputs, empty table
            return _xml(to_bytes(_metadata(_votable(fields, [], "OK"), default_size)))
        try:
            query = _Query(params, default_size)
        except ValueError as exc:
            return _xml(error_votable(f"Invalid parameter: {exc}"))
        found = []
        for product in self.spectra if table == "chanmaster" else ():
            obs: ChandraObs = product.meta["observation"]
            if query.matches(obs, DATALINK_MIME):
                found.append((separation_deg(query.ra, query.dec, obs.ra, obs.dec), obs.row, product))
        # Nearest first, then by row: the December 2025 answer for delta Ori lists 7416 and 14567-14570 (at the
        # Sesame position) before 639 (1.6" away), where January 2025 had listed them by row (§3.2(b)-(c)) [M].
        found.sort(key=lambda item: item[:2])
        status, limit = "OK", min(_MAXREC, query.maxrec if query.maxrec is not None else _MAXREC)
        if len(found) > limit:
            found, status = found[:limit], "OVERFLOW"  # DALI: a truncated result says OVERFLOW
        return _xml(to_bytes(_votable(fields, [_row(product) for *_, product in found], status)))


def _row(product: Product) -> list:
    """One spectrum's row in SSA_FIELDS order (§3.2(c) for every value's form)."""
    obs: ChandraObs = product.meta["observation"]
    link_id = spectrum_id(product)
    values = {
        "obsid": str(obs.obsid), "status": "archived", "name": obs.name, "ra": obs.ra, "dec": obs.dec,
        # time to 4 decimals and SSA_start_time to 15 digits, as printed (54413.427 and 54413.4270486111).
        "time": round(obs.mjd, 4), "detector": obs.detector, "grating": obs.grating, "exposure": int(obs.exposure),
        "type": obs.obs_type, "pi": obs.pi, "public_date": obs.public if obs.public else int(obs.mjd) + 365,
        "SSA_start_time": float(f"{obs.mjd:.15g}"), "SSA_tmid": None, "SSA_stop_time": None,
        "SSA_duration": float(obs.exposure), "SSA_coord_obs": None, "SSA_ra": obs.ra, "SSA_dec": obs.dec,
        "SSA_fov": _FOV_DEG, "SSA_title": product.key.rsplit("/", 1)[1].removesuffix(".gz"),
        "SSA_reference": datalink_url(link_id), "SSA_datalength": str(product.meta["spectra"]),
        "SSA_datamodel": _DATAMODEL, "SSA_instrument": f"CHANDRA {obs.detector}", "SSA_publisher": link_id,
        "SSA_format": DATALINK_MIME, "SSA_wavelength_min": _BAND_M[0], "SSA_wavelength_max": _BAND_M[1],
        "SSA_bandwidth": _BAND_M[2], "SSA_bandpass": _BAND_M[3],
    }
    return [values[spec[0]] for spec in SSA_FIELDS]


def _votable(fields: Sequence[tuple], rows: list[list], status: str) -> VOTableFile:
    """The results table with each field's utype and SSA's INFOs (QUERY_STATUS, SERVICE_PROTOCOL)."""
    votable = table_votable([spec[:5] for spec in fields], rows, infos={"QUERY_STATUS": status})
    resource = votable.resources[0]
    # The protocol and its version in an INFO, as SSA services answer (MAST's: SERVICE_PROTOCOL ... SSAP).
    protocol = Info(name="SERVICE_PROTOCOL", value="1.1")
    protocol.content = "SSAP"
    resource.infos.append(protocol)
    for field, spec in zip(resource.tables[0].fields, fields, strict=True):
        field.utype = spec[5]
    return votable


def _metadata(votable: VOTableFile, default_size: float) -> VOTableFile:
    """Add the ``INPUT:<name>`` PARAMs of a FORMAT=metadata answer, each with its default as value."""
    resource = votable.resources[0]
    defaults = {"SIZE": default_size, "FORMAT": "all", "MAXREC": _MAXREC, "REQUEST": "queryData"}
    for name, datatype, arraysize, unit, description in _INPUTS:
        param = Param(votable, name=f"INPUT:{name}", ID=f"INPUT_{name}", datatype=datatype, arraysize=arraysize,
                      unit=unit, value=defaults.get(name, ""))
        param.description = description
        resource.params.append(param)
    return votable


def _xml(body: bytes) -> Response:
    return Response(body, content_type="text/xml")
