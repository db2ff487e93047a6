"""Reading one column of one result row, whatever the row's type.

Archive results reach the helpers as pyvo records (SIA, ObsCore, TAP, DataLink),
astropy ``Row`` objects (astroquery, ``to_table()``) or plain dicts.  They
differ in how they list their columns and in how they spell "no value"
(``np.ma.masked``, a masked 0-d array, ``None``, ``""``, ``b""``, NaN).  This is
the only module that reads columns: everything else asks :func:`column` or
:func:`text_of` and gets a value or ``None``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = [
    "ACCESS_URL_COLUMNS",
    "FORMAT_COLUMNS",
    "TITLE_COLUMNS",
    "access_url_of",
    "colnames",
    "column",
    "format_of",
    "is_empty",
    "text",
    "text_of",
]

# Where the discovery protocols put a row's access URL, in the order they are tried:
# ObsCore/SIA2, IRSA SIA1, SIA1 standard names, HEASARC SIA1/SSA (xamin), MAST observations.
ACCESS_URL_COLUMNS = ("access_url", "sia_url", "accref", "SIA_reference", "SSA_reference", "dataURL")
# The row's format (MIME type), in the same protocols' spellings.
FORMAT_COLUMNS = ("access_format", "sia_fmt", "SIA_format", "SSA_format", "format")
# What names the row's product in words or by file name (ObsCore, HEASARC SIA, IRSA SIA1, SSA, MAST products).
TITLE_COLUMNS = ("obs_title", "title", "SIA_title", "sia_title", "SSA_title", "description", "productFilename")


def is_empty(value: Any) -> bool:
    """Whether a cell holds no value: None, masked, NaN, or blank text.

    Examples
    --------
    >>> import numpy as np
    >>> [is_empty(v) for v in (None, np.ma.masked, "  ", b"", float("nan"), "x", 0)]
    [True, True, True, True, True, False, False]
    """
    if value is None or value is np.ma.masked:
        return True
    if isinstance(value, np.ma.MaskedArray) and value.ndim == 0:
        return bool(value.mask)
    if isinstance(value, (bytes, str)):  # numpy's str_ and bytes_ are subclasses
        return not value.strip()
    if isinstance(value, (float, np.floating)):
        return math.isnan(value)
    return False


def text(value: Any) -> str | None:
    """A cell as stripped text (bytes decoded as UTF-8), or None when it is empty.

    Examples
    --------
    >>> text(b" https://x/y.fits "), text(""), text(None)
    ('https://x/y.fits', None, None)
    """
    if is_empty(value):
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    return str(value).strip() or None


def colnames(record: Any) -> list[str]:
    """The column names of an astropy ``Row``, a pyvo record or a mapping (empty for anything else).

    Examples
    --------
    >>> colnames({"ID": 1, "access_url": "x"})
    ['ID', 'access_url']
    """
    names = getattr(record, "colnames", None)
    if names is None:
        try:
            names = record.keys()
        except (AttributeError, TypeError):
            return []
    return [str(name) for name in names]


def column(record: Any, name: str) -> Any:
    """``record[name]``, or None where the row has no such column or the cell is empty.

    The name is matched exactly first, then case-insensitively when that is
    unambiguous (VOTable services differ in case: ``ID`` and ``id``); a pyvo
    record also accepts a column's VOTable FIELD ``ID``.

    Examples
    --------
    >>> from astropy.table import MaskedColumn, Table
    >>> row = Table({"ID": ["ivo://x"], "cloud_access": MaskedColumn([""], mask=[True])})[0]
    >>> str(column(row, "ID")), str(column(row, "id")), column(row, "cloud_access"), column(row, "missing")
    ('ivo://x', 'ivo://x', None, None)
    """
    names = colnames(record)
    if name not in names:
        folded = [n for n in names if n.casefold() == name.casefold()]
        if len(folded) == 1:
            name = folded[0]
    try:
        value = record[name]  # a pyvo record also finds a column by its FIELD ID (DataLink PARAM refs)
    except (KeyError, IndexError, ValueError, TypeError):
        return None
    return None if is_empty(value) else value


def text_of(record: Any, *names: str) -> str | None:
    """The first non-empty text among the columns ``names`` of a row, or None.

    Examples
    --------
    >>> text_of({"sia_url": b"https://x/y.fits"}, "access_url", "sia_url")
    'https://x/y.fits'
    """
    for name in names:
        value = text(column(record, name))
        if value:
            return value
    return None


def access_url_of(record: Any) -> str | None:
    """The access URL of a discovery row (SIA 1/2, ObsCore, SSA, TAP, MAST), or None.

    The columns of :data:`ACCESS_URL_COLUMNS` are tried in turn, then a pyvo
    record's own ``getdataurl()`` (which finds the URL by UCD).

    Examples
    --------
    >>> access_url_of({"access_url": "", "sia_url": "https://irsa.ipac.caltech.edu/ibe/data/x.fits"})
    'https://irsa.ipac.caltech.edu/ibe/data/x.fits'
    >>> access_url_of({"obsid": 1}) is None
    True
    """
    url = text_of(record, *ACCESS_URL_COLUMNS)
    if url:
        return url
    getdataurl = getattr(record, "getdataurl", None)
    if getdataurl is None:
        return None
    try:
        return text(getdataurl())
    except Exception:  # pyvo raises assorted errors when no column has the URL's UCD
        return None


def format_of(record: Any) -> str | None:
    """The format (MIME type) a discovery row gives for its access URL, or None.

    Examples
    --------
    >>> format_of({"access_format": "application/x-votable+xml;content=datalink"})
    'application/x-votable+xml;content=datalink'
    """
    return text_of(record, *FORMAT_COLUMNS)
