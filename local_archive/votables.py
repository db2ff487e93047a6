"""VOTables in the shapes the real services return, built with astropy.

The column names, types, units and UCDs follow the recorded responses
described in ``shared/notes/service_formats.md``: IRSA SIA v1 (``cloud_access``
JSON on each row), HEASARC SIA (a DataLink service descriptor and one shared
DataLink ID per observation), and DataLink results (with HEASARC's
``cloud_access`` column).
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from typing import Any

from astropy.io.votable.tree import Field, Group, Param, Resource, TableElement, VOTableFile

__all__ = [
    "DATALINK_MIME",
    "IRSA_SIA1_FIELDS",
    "cloud_access_json",
    "datalink_votable",
    "error_votable",
    "table_votable",
]

DATALINK_MIME = "application/x-votable+xml;content=datalink"

# IRSA's SIA v1 columns, in the order the service returns them (2025-26).
IRSA_SIA1_FIELDS = (
    ("sia_title", "char", "*", None, "VOX:Image_Title"),
    ("sia_url", "char", "*", None, "VOX:Image_AccessReference"),
    ("cloud_access", "char", "*", None, None),
    ("sia_naxes", "int", None, None, "VOX:Image_Naxes"),
    ("sia_fmt", "char", "*", None, "VOX:Image_Format"),
    ("sia_ra", "double", None, "deg", "POS_EQ_RA_MAIN"),
    ("sia_dec", "double", None, "deg", "POS_EQ_DEC_MAIN"),
    ("sia_naxis", "int", "2", None, "VOX:Image_Naxis"),
    ("sia_crpix", "double", "2", "pix", "VOX:WCS_CoordRefPixel"),
    ("sia_crval", "double", "2", "deg", "VOX:WCS_CoordRefValue"),
    ("sia_proj", "char", "3", None, "VOX:WCS_CoordProjection"),
    ("sia_scale", "double", "2", "deg/pix", "VOX:Image_Scale"),
    ("sia_cd", "double", "4", "deg/pix", "VOX:WCS_CDMatrix"),
    ("sia_bp_id", "char", "*", None, "VOX:BandPass_ID"),
    ("sia_bp_ref", "double", None, None, "VOX:BandPass_RefValue"),
    ("sia_bp_hi", "double", None, None, "VOX:BandPass_HiLimit"),
    ("sia_bp_lo", "double", None, None, "VOX:BandPass_LoLimit"),
    ("sia_bp_unit", "char", "*", None, "VOX:BandPass_Unit"),
    ("magzp", "double", None, None, None),
    ("magzpunc", "double", None, None, None),
    ("unc_url", "char", "*", None, None),
    ("cov_url", "char", "*", None, None),
    ("coadd_id", "char", "*", None, None),
)

# (name, datatype, arraysize, unit, ucd) of the DataLink core columns, plus HEASARC's cloud_access.
DATALINK_FIELDS = (
    ("ID", "char", "*", None, "meta.id;meta.main"),
    ("access_url", "char", "*", None, "meta.ref.url"),
    ("service_def", "char", "*", None, "meta.ref"),
    ("error_message", "char", "*", None, "meta.code.error"),
    ("description", "char", "*", None, "meta.note"),
    ("semantics", "char", "*", None, "meta.code"),
    ("content_type", "char", "*", None, "meta.code.mime"),
    ("content_length", "long", None, "byte", "phys.size;meta.file"),
    ("cloud_access", "char", "*", None, None),
)


def cloud_access_json(bucket: str, key: str, region: str, *, style: str = "irsa") -> str:
    """A ``cloud_access`` value spelled as the archive spells it.

    IRSA: ``{"aws": {"bucket_name": "...", "key":"...", "region": "..."}}`` (no
    space after ``"key":``); HEASARC: compact JSON with ``policy``.
    """
    if style == "irsa":
        return f'{{"aws": {{"bucket_name": "{bucket}", "key":"{key}", "region": "{region}"}}}}'
    if style == "heasarc":
        entry = {"bucket_name": bucket, "region": region, "policy": "open", "key": key}
        return json.dumps({"aws": entry}, separators=(",", ":"))
    raise ValueError(f"unknown cloud_access style {style!r}")


def _field(votable: VOTableFile, name: str, datatype: str, arraysize: str | None, unit: str | None,
           ucd: str | None, field_id: str | None = None) -> Field:
    return Field(votable, name=name, ID=field_id or name, datatype=datatype, arraysize=arraysize,
                 unit=unit, ucd=ucd)


def table_votable(
    fields: Sequence[tuple],
    rows: Sequence[Sequence[Any]],
    *,
    datalink_url: str | None = None,
    datalink_ref: str | None = None,
    infos: dict[str, str] | None = None,
) -> VOTableFile:
    """A results VOTable from ``(name, datatype, arraysize, unit, ucd)`` fields and rows.

    With ``datalink_url`` a DataLink service descriptor is added whose ``ID``
    input parameter refers to the column ``datalink_ref``, as HEASARC's SIA does.
    """
    votable = VOTableFile()
    resource = Resource(type="results")
    votable.resources.append(resource)
    for name, value in (infos or {}).items():
        from astropy.io.votable.tree import Info

        resource.infos.append(Info(name=name, value=value))
    table = TableElement(votable)
    resource.tables.append(table)
    table.fields.extend(_field(votable, *spec) for spec in fields)
    table.create_arrays(len(rows))
    for index, row in enumerate(rows):
        for column, value in enumerate(row):
            if value is None:
                table.array.mask[index][column] = True
            else:
                table.array[fields[column][0]][index] = value

    if datalink_url is not None:
        votable.resources.append(_datalink_descriptor(votable, datalink_url, datalink_ref or "ID"))
    return votable


def _datalink_descriptor(votable: VOTableFile, access_url: str, ref: str) -> Resource:
    service = Resource(type="meta", utype="adhoc:service", ID="datalink_service")
    service.params.append(Param(votable, name="standardID", datatype="char", arraysize="*",
                                value="ivo://ivoa.net/std/DataLink#links-1.0"))
    service.params.append(Param(votable, name="accessURL", datatype="char", arraysize="*", value=access_url))
    group = Group(service, name="inputParams")
    group.entries.append(Param(votable, name="ID", datatype="char", arraysize="*", value="", ref=ref,
                               ucd="meta.id;meta.main"))
    service.groups.append(group)
    return service


def datalink_votable(rows: Sequence[dict[str, Any]]) -> VOTableFile:
    """A DataLink result; each row is a dict of the DataLink columns (missing ones masked)."""
    names = [spec[0] for spec in DATALINK_FIELDS]
    values = [[row.get(name) for name in names] for row in rows]
    return table_votable(DATALINK_FIELDS, values)


def error_votable(message: str) -> bytes:
    """A DAL error document: ``INFO name="QUERY_STATUS" value="ERROR"``."""
    votable = table_votable([], [], infos={"QUERY_STATUS": "ERROR"})
    votable.resources[0].infos[0].content = message
    return to_bytes(votable)


def to_bytes(votable: VOTableFile) -> bytes:
    """Serialise a VOTable to XML bytes (TABLEDATA, readable in a browser).

    astropy's pure-Python TABLEDATA writer is used, not its C one: the C ``write_tabledata``
    (astropy 8.0.x, ``io/votable/src/tablewriter.c``) NUL-terminates each row one byte past its
    buffer whenever a serialised row is exactly 256, 512, 1024... bytes long, corrupting the heap of
    the whole server (https://github.com/astropy/astropy/issues/20419, fix proposed in
    https://github.com/astropy/astropy/pull/20428).  That corruption crashed the archive later in
    unrelated code (a segfault while garbage-collecting in another request).  Both writers give the
    same bytes (every VOTable of tests/local_archive compared equal).
    """
    buffer = io.BytesIO()
    # ``_debug_python_based_parser`` is to_xml's (private) switch to the Python writer, the workaround the
    # astropy issue above names; drop it once the C writer is fixed.
    votable.to_xml(buffer, _debug_python_based_parser=True)
    return buffer.getvalue()
