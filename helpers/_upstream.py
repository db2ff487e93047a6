"""Every use of a library's private API, one small function each.

astropy, pyvo and fsspec give no public way to reach a few things the helpers
need (the byte offset of an HDU's data, the fsspec file under an ``HDUList``,
the result a pyvo record belongs to).  Each access lives here, and
``tests/test_upstream.py`` calls each function on real objects of the
installed versions, so an upstream change fails one named test loudly instead
of silently turning a planned cutout into a whole-file read.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "fsspec_file",
    "hdu_has_file",
    "hdu_data_offset",
    "hdu_data_loaded",
    "bitpix_dtype",
    "section_class",
    "record_results",
    "record_index",
    "streaming_read1",
]


def fsspec_file(obj: Any) -> Any:
    """The fsspec file behind an astropy ``HDUList`` or HDU opened with ``use_fsspec=True``, else None.

    astropy keeps it as ``obj._file._file`` (its ``_File`` wrapper and the raw file object).
    """
    return getattr(getattr(obj, "_file", None), "_file", None)


def hdu_has_file(hdu: Any) -> bool:
    """Whether an HDU reads its data from a file (astropy's ``_file``), not from memory."""
    return getattr(hdu, "_file", None) is not None


def hdu_data_offset(hdu: Any) -> int | None:
    """Byte offset of an HDU's data in its file (astropy's ``_data_offset``), or None when unknown."""
    offset = getattr(hdu, "_data_offset", None)
    return int(offset) if isinstance(offset, (int, np.integer)) else None


def hdu_data_loaded(hdu: Any) -> bool:
    """Whether astropy already holds the HDU's data in memory (its ``_data_loaded``)."""
    return bool(getattr(hdu, "_data_loaded", False))


def bitpix_dtype(bitpix: Any) -> np.dtype | None:
    """The big-endian numpy dtype of a FITS ``BITPIX`` value, or None for a value FITS does not define."""
    from astropy.io.fits.hdu.base import BITPIX2DTYPE

    try:
        name = BITPIX2DTYPE.get(bitpix)
    except TypeError:  # an unhashable header value
        return None
    return np.dtype(name).newbyteorder(">") if name else None


def section_class() -> type:
    """astropy's ``Section`` class (``hdu.section``), which the planned cutout reader extends."""
    from astropy.io.fits.hdu.image import Section

    return Section


def record_results(record: Any) -> Any:
    """The pyvo result a pyvo ``Record`` belongs to (its ``_results``), or None for other rows."""
    return getattr(record, "_results", None)


def record_index(record: Any) -> int | None:
    """The position of a pyvo ``Record`` (its ``_index``) or an astropy ``Row`` (``index``) in its table."""
    index = getattr(record, "_index", None)
    if index is None:
        index = getattr(record, "index", None)
    return int(index) if isinstance(index, (int, np.integer)) else None


def streaming_read1(body: Any) -> Any:
    """``read1`` of the urllib3 response under a botocore ``StreamingBody`` (its ``_raw_stream``), or None.

    ``read1`` returns what has arrived without waiting for a full chunk, so a
    reader can check its deadline while a server drips; botocore offers only ``read(n)``.
    """
    return getattr(getattr(body, "_raw_stream", None), "read1", None)
