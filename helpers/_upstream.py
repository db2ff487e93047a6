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
    "fsspec_cache",
    "cache_counters",
    "set_cache_fetcher",
    "cache_block_size",
    "set_cache_block_size",
    "async_cat_file",
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


# --- fsspec: the read-ahead cache of an open file, and the async API of a file system -------------------------


def fsspec_cache(handle: Any) -> Any:
    """The read-ahead cache of an fsspec file (``AbstractBufferedFile.cache``, a ``BaseCache``), or None."""
    cache = getattr(handle, "cache", None)
    return cache if cache is not None and hasattr(cache, "fetcher") else None


def cache_counters(cache: Any) -> tuple[int, int] | None:
    """``(bytes fetched, requests made)`` that an fsspec cache counted (``total_requested_bytes``, ``miss_count``)."""
    try:
        return int(cache.total_requested_bytes), int(cache.miss_count)
    except (AttributeError, TypeError, ValueError):
        return None


def set_cache_fetcher(cache: Any, fetch: Any) -> None:
    """Make an fsspec cache fetch its blocks with ``fetch(start, end)`` (its ``fetcher`` attribute)."""
    cache.fetcher = fetch


def cache_block_size(cache: Any) -> int | None:
    """The read-ahead block size of an fsspec cache (its ``blocksize``), or None."""
    size = getattr(cache, "blocksize", None)
    return int(size) if isinstance(size, (int, np.integer)) else None


def set_cache_block_size(cache: Any, size: int) -> None:
    """Set the read-ahead block size of an fsspec cache."""
    cache.blocksize = size


def async_cat_file(fs: Any) -> Any:
    """The coroutine ``fs._cat_file(path, start=, end=)`` of an fsspec ``AsyncFileSystem`` (fsspec's
    documented async API, whose names start with ``_``), or None for a synchronous file system."""
    method = getattr(fs, "_cat_file", None)
    return method if getattr(fs, "async_impl", False) and method is not None else None
