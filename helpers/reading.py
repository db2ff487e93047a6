"""Reading FITS files from S3 with as few bytes as the file format allows, in bounded time.

Uncompressed images are range-read: :func:`open_fits` opens a file lazily with
small read-ahead blocks and :func:`cutout` reads pixels through ``hdu.section``,
so only the rows of the cutout travel.  ``.gz`` and ``.Z`` files cannot be
range-read; :func:`fetch_bytes` fetches them whole, once, in one GET.

Bounds
------
Every public call takes ``timeout=``: seconds for the whole call, by default
:data:`helpers.deadline.DEFAULT_TIMEOUT` (300 s).  When it passes the call
raises :class:`~helpers.errors.DeadlineError`, even against a server that keeps
sending one byte every half second (which no socket timeout ever catches).

Transient failures are HTTP 500, 502, 503 (S3's SlowDown), 504, a reset or
refused connection, a read timeout (:data:`helpers.s3.READ_TIMEOUT` without a
byte) and a body shorter than its ``Content-Length``.  They are tried again by
:func:`helpers.deadline.with_retries` alone (botocore and s3fs send each
request once), at most :data:`helpers.deadline.MAX_ATTEMPTS` (4) times with
0.25, 0.5 and 1 s pauses.  So a service that keeps failing is given up after
about 1.75 s plus the requests' own time, with an
:class:`~helpers.errors.ArchiveError` saying "failed after 4 tries" and naming
the ``s3://`` URI; six SlowDown answers in a row fail, three followed by
success succeed.  At most:

* :func:`fetch_bytes`: at most 4 GETs (persistent 503 on loopback: 4 GETs, 1.8 s);
* :func:`open_fits`: one HEAD, then one GET per header block read, each at most 4 times;
* :func:`cutout`: at most 4 rounds over its planned ranges, each round sending
  again only the ranges that failed: at most 4 GETs per planned range
  (persistent 503 on loopback: 16 GETs for a 4-range plan, 1.8 s);
* reads of an open file outside these calls (``hdu.data``, astropy's
  ``hdu.section``): each read-ahead block at most 4 tries, within
  :data:`~helpers.deadline.DEFAULT_TIMEOUT`.

One transport detail stays: for a connection that dies before any answer
byte, aiohttp (under s3fs and fsspec's HTTP) re-sends an idempotent request
once, at once (RFC 9112 allows it; aiohttp has no setting), so a persistently
reset connection costs up to 2 x 4 GETs per range in :func:`open_fits` and
:func:`cutout`; :func:`fetch_bytes` (botocore, urllib3) sends 4.

A server that accepts the request and then says nothing costs each try
:data:`helpers.s3.READ_TIMEOUT` (60 s), so four tries take about 242 s, still
inside the default deadline; pass a smaller ``timeout=`` to give up sooner.

Refusals (403, 404: AccessDenied, NoSuchKey, NoSuchBucket) are never
tried again: when the location has an ``https_url``, the archive's HTTPS copy
is read once instead, with a :class:`~helpers.errors.CloudFallbackWarning`;
otherwise the error says "S3 refused" and names the URI.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import warnings
import weakref
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import numpy as np
from astropy.io import fits
from astropy.io.fits.hdu.base import BITPIX2DTYPE
from astropy.io.fits.hdu.image import Section

from .cloud import CloudLocation
from .deadline import Deadline, Transient, run_with_deadline, with_retries
from .errors import ArchiveError, CloudAccessError, CloudFallbackWarning, CloudInputError, DeadlineError, bounded
from .ranges import Link, default_link, plan_ranges
from .s3 import HEADER_BLOCK_SIZE, SECTION_BLOCK_SIZE, as_location, s3_client, s3_filesystem

__all__ = ["open_fits", "cutout", "fetch_bytes", "transfer_stats"]

PROGRESS_THRESHOLD = 8 << 20  # show a progress bar from 8 MiB on
_CHUNK = 1 << 20

T = TypeVar("T")


# --- sorting failures: transient, refused, or final ----------------------------------

# HTTP statuses and S3 error codes worth another try (S3 documents 500 and 503 SlowDown as retryable).
_TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
_TRANSIENT_CODES = frozenset({
    "SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "InternalError",
    "ServiceUnavailable", "BadGateway", "GatewayTimeout", "RequestLimitExceeded",
})
_REFUSED_STATUS = frozenset({403, 404})
_REFUSED_CODES = frozenset({"NoSuchKey", "NoSuchBucket", "AccessDenied", "NotFound", "Forbidden"})


class _Refused(ArchiveError):
    """S3 or an HTTPS server refused the object (403, 404): worth the HTTPS copy, not another try."""


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and the exceptions it was raised from (s3fs and fsspec wrap botocore and aiohttp errors)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) < 10:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _status_of(exc: BaseException) -> tuple[int | None, str]:
    """HTTP status and error code of a botocore ClientError or an aiohttp ClientResponseError."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and ("Error" in response or "ResponseMetadata" in response):
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return status, str(response.get("Error", {}).get("Code", "") or "")
    status = getattr(exc, "status", None)
    if isinstance(status, int) and type(exc).__module__.startswith("aiohttp"):
        return status, ""
    return None, ""


def _network_errors() -> tuple[type[BaseException], ...]:
    """Exception types of a failed transfer: a reset, a timeout, a cut body, an unparsable answer."""
    from http.client import HTTPException

    import aiohttp
    from botocore import exceptions as boto
    from botocore.parsers import ResponseParserError  # S3 throttling sometimes answers invalid XML
    from urllib3.exceptions import HTTPError as Urllib3Error

    return (
        ConnectionError, TimeoutError, HTTPException, Urllib3Error, aiohttp.ClientError,
        boto.HTTPClientError, boto.ConnectionError, boto.IncompleteReadError, ResponseParserError,
    )


def _failure(exc: BaseException, name: str, deadline: Deadline) -> Exception:
    """Sort an exception from botocore, s3fs or fsspec into Transient, _Refused, DeadlineError or ArchiveError.

    The chain of causes is read first: s3fs turns a 503 into ``OSError(EBUSY)``
    and fsspec turns any failed HEAD, even a reset, into ``FileNotFoundError``.
    """
    if isinstance(exc, CloudAccessError):
        return exc
    for cause in _chain(exc):
        status, code = _status_of(cause)
        if status is None and not code:
            continue
        label = f"{code} ({status})" if code and code != str(status) else f"{status or code}"
        if status in _REFUSED_STATUS or code in _REFUSED_CODES:
            return _Refused(f"S3 refused {name}: {label}" if name.startswith("s3://")
                            else f"{name} answered {label}", url=name)
        if status in _TRANSIENT_STATUS or code in _TRANSIENT_CODES:
            return Transient(f"{name}: {label}", url=name)
        return ArchiveError(f"{name}: the server answered {label}: {bounded(str(cause))}", url=name)
    if deadline.expired() and any(isinstance(cause, TimeoutError) for cause in _chain(exc)):
        return deadline.error()
    if any(isinstance(cause, _network_errors()) for cause in _chain(exc)):
        return Transient(f"{name}: {type(exc).__name__}: {bounded(str(exc))}", url=name)
    if isinstance(exc, (FileNotFoundError, PermissionError)):  # s3fs's own 404 after its HEAD and LIST
        label = "404 not found" if isinstance(exc, FileNotFoundError) else "403 access denied"
        return _Refused(f"S3 refused {name}: {label}" if name.startswith("s3://") else f"{name}: {label}", url=name)
    return ArchiveError(f"reading {name} failed: {type(exc).__name__}: {bounded(str(exc))}", url=name)


def _https_fallback(location: CloudLocation, refusal: _Refused, read: Callable[[str], T]) -> T:
    """The one fallback step: S3 refused ``location``, so ``read`` its HTTPS copy once, with a warning.

    Without an ``https_url`` the refusal is the answer.  ``read`` is tried under
    the caller's own deadline and retry loop; its failure names both addresses.
    """
    if not location.https_url:
        raise ArchiveError(str(refusal), url=location.uri) from refusal
    warnings.warn(f"{refusal}; reading the archive's HTTPS copy {location.https_url} instead",
                  CloudFallbackWarning, stacklevel=3)  # 3: the caller of open_fits / fetch_bytes
    try:
        return read(location.https_url)
    except DeadlineError:
        raise
    except ArchiveError as exc:
        raise ArchiveError(f"{refusal}, and its HTTPS copy failed too: {exc}", url=location.https_url) from exc


# --- bounded reads through fsspec files --------------------------------------------

# Per fsspec file: bytes and requests beyond what its cache counts (planned ranges, retries),
# the deadline of the public call under way, and the name errors give.
_extra: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_deadlines: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_names: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _count(handle: Any, nbytes: int, requests: int) -> None:
    done_bytes, done_requests = _extra.get(handle, (0, 0))
    _extra[handle] = (done_bytes + nbytes, done_requests + requests)


def _name_of(handle: Any) -> str:
    return _names.get(handle) or handle.fs.unstrip_protocol(handle.path)


@contextlib.contextmanager
def _bounded_by(handle: Any, deadline: Deadline) -> Iterator[None]:
    """Make the reads of ``handle`` inside the block count against ``deadline``."""
    if handle is None:
        yield
        return
    previous = _deadlines.get(handle)
    _deadlines[handle] = deadline
    try:
        yield
    finally:
        if previous is None:
            _deadlines.pop(handle, None)
        else:
            _deadlines[handle] = previous


def _read_ranges(handle: Any, ranges: list[tuple[int, int]], deadline: Deadline, *, cached: bool) -> list[bytes]:
    """Byte ranges ``[start, end)`` of an fsspec file, concurrently, each at most MAX_ATTEMPTS times.

    Every try sends again only the ranges that failed transiently; a refusal or
    a wrong answer fails at once.  ``cached``: the file's cache already counts
    the first request and the bytes (its own read-ahead), so only retries are added.
    """
    from fsspec.asyn import sync

    fs, path, name = handle.fs, handle.path, _name_of(handle)
    blobs: list[bytes | None] = [None] * len(ranges)
    tries = 0

    def attempt() -> list[bytes]:
        nonlocal tries
        todo = [i for i, blob in enumerate(blobs) if blob is None]
        _count(handle, 0, len(todo) if (tries or not cached) else len(todo) - 1)
        tries += 1
        try:
            # fsspec's sync() cancels the requests in flight when the deadline passes
            answers = sync(fs.loop, _gather_ranges, fs, path, [ranges[i] for i in todo],
                           timeout=max(deadline.remaining(), 0.001))
        except Exception as exc:
            raise _failure(exc, name, deadline) from exc
        last: Exception | None = None
        for i, answer in zip(todo, answers, strict=True):
            start, end = ranges[i]
            if isinstance(answer, BaseException):
                failure = _failure(answer, name, deadline)
                if not isinstance(failure, Transient):
                    raise failure from answer
                last = failure
            elif len(answer) < end - start:
                last = Transient(f"{name}: {len(answer)} of the {end - start} bytes at {start} arrived", url=name)
            elif len(answer) > end - start:
                raise ArchiveError(f"{name} answered {len(answer)} bytes for a range of {end - start}: "
                                   f"the server ignores Range requests", url=name)
            else:
                blobs[i] = answer
                if not cached:
                    _count(handle, len(answer), 0)
        if last is not None:
            failed = sum(blob is None for blob in blobs)
            if len(ranges) == 1:
                raise last
            raise Transient(f"{failed} of {len(ranges)} byte ranges failed, e.g. {last}", url=name)
        return blobs  # type: ignore[return-value]

    return with_retries(attempt, f"reading {name}", deadline)


async def _gather_ranges(fs: Any, path: str, ranges: list[tuple[int, int]]) -> list[Any]:
    """All ranges at once, each answer bytes or its exception.

    Not ``fs._cat_ranges``: its requests run as tasks of their own that go on
    (dripping, for ever) when the call is cancelled at the deadline, whereas
    cancelling ``gather`` cancels every request.  The client's connection pool
    (:data:`helpers.s3.MAX_CONNECTIONS`) bounds how many are in flight.
    """
    return await asyncio.gather(*(fs._cat_file(path, start=start, end=end) for start, end in ranges),
                                return_exceptions=True)


def _install_bounded_fetcher(handle: Any, name: str) -> None:
    """Route the file cache's reads through :func:`_read_ranges`: bounded tries, a deadline, clear errors."""
    _names[handle] = name
    cache = getattr(handle, "cache", None)
    if cache is None or not hasattr(cache, "fetcher"):
        return
    size = handle.size

    def fetch(start: int | None, end: int | None) -> bytes:
        start = start or 0
        end = size if end is None else min(end, size)
        if end <= start:
            return b""
        # Outside open_fits and cutout (hdu.data, astropy's section) each read has a deadline of its own.
        deadline = _deadlines.get(handle) or Deadline(None, f"reading {name}")
        return _read_ranges(handle, [(start, end)], deadline, cached=True)[0]

    cache.fetcher = fetch


def _open_hdul(fs: Any, path: str, name: str, deadline: Deadline, block_size: int, cache_type: str) -> fits.HDUList:
    """Open ``path`` on ``fs`` as a lazily read FITS file whose every request is bounded."""
    from astropy.utils.data import get_readable_fileobj

    def head() -> dict:
        try:
            return fs.info(path, timeout=max(deadline.remaining(), 0.001))
        except Exception as exc:
            raise _failure(exc, name, deadline) from exc

    details = with_retries(head, f"HEAD {name}", deadline)
    if details.get("size") is None:
        raise ArchiveError(f"{name} does not say its size, so it cannot be read in parts: use fetch_bytes", url=name)
    # The size is known: fsspec would otherwise ask again, outside any deadline.
    handle = fs.open(path, "rb", block_size=block_size, cache_type=cache_type, size=details["size"])
    handle.details = details
    _install_bounded_fetcher(handle, name)
    try:
        with _bounded_by(handle, deadline):
            # As fits.open(use_fsspec=True) does: gzip and bzip2 signatures are read and unwrapped.
            fileobj = get_readable_fileobj(handle, encoding="binary", close_files=False).__enter__()
            return fits.open(fileobj, lazy_load_hdus=True)
    except CloudAccessError:
        handle.close()
        raise
    except Exception as exc:  # reads raise ArchiveError, so anything else is about the content
        handle.close()
        raise CloudInputError(f"{name} is not a readable FITS file: {type(exc).__name__}: "
                              f"{bounded(str(exc))}") from exc


def _https_filesystem() -> Any:
    """fsspec's HTTP filesystem with socket timeouts and without ``~/.netrc`` (aiohttp's ``trust_env``)."""
    import aiohttp
    import fsspec

    from . import http

    timeout = aiohttp.ClientTimeout(total=None, sock_connect=http.CONNECT_TIMEOUT, sock_read=http.READ_TIMEOUT)
    return fsspec.filesystem("https", client_kwargs={"timeout": timeout, "trust_env": False})


def open_fits(
    target: CloudLocation | str,
    *,
    timeout: float | None = None,
    block_size: int = HEADER_BLOCK_SIZE,
    cache_type: str = "readahead",
) -> fits.HDUList:
    """Open a FITS file in S3 lazily, anonymously, tuned for partial reads.

    Parameters
    ----------
    target : CloudLocation or str
        The file, as returned by :func:`helpers.cloud_uri`, or an ``s3://`` URI.
    timeout : float, optional
        Seconds for opening and reading the first header, all tries included
        (default :data:`helpers.deadline.DEFAULT_TIMEOUT`, 300 s).
    block_size : int
        Read-ahead per request (default 64 KiB, which suits headers;
        :func:`cutout` plans its own reads).
    cache_type : str
        fsspec cache of the file (default ``"readahead"``).

    Returns
    -------
    astropy.io.fits.HDUList
        Headers are read on access; pixels only when asked for (use
        ``hdu.section`` or :func:`cutout`, not ``hdu.data``, for a part of an image).

    Raises
    ------
    CloudInputError
        When the URI is malformed or the object is not a FITS file.
    ArchiveError
        Naming the URI: S3 refused the object (and there is no HTTPS copy), or
        the reads kept failing after the retries (see the module's bounds).
    DeadlineError
        When ``timeout`` passed first.

    Warns
    -----
    CloudFallbackWarning
        When S3 refused the object (403, 404) and its ``https_url`` was opened instead.

    Examples
    --------
    >>> hdul = open_fits("s3://nasa-irsa-wise/wise/allwise/images/p3am_cdd/08/0830/"
    ...                  "0830p227_ac51/0830p227_ac51-w1-int-3.fits")  # doctest: +SKIP
    >>> hdul[0].header["BUNIT"]                                          # doctest: +SKIP
    'DN'
    """
    location = as_location(target)
    deadline = Deadline(timeout, f"open_fits of {location.uri}")
    fs = s3_filesystem(location.region)
    try:
        return _open_hdul(fs, f"{location.bucket}/{location.key}", location.uri, deadline, block_size, cache_type)
    except _Refused as refusal:
        return _https_fallback(location, refusal, lambda url: _open_hdul(
            _https_filesystem(), url, url, deadline, block_size, cache_type))


def transfer_stats(hdul: fits.HDUList) -> dict[str, int]:
    """How much a file opened by :func:`open_fits` has fetched so far.

    Returns
    -------
    dict
        ``bytes`` received, ``requests`` sent (ranged GETs: the read-ahead
        cache's misses, the ranges of :func:`cutout`, and any tries again) and
        the file's ``size``.

    Raises
    ------
    CloudInputError
        If ``hdul`` was not opened through fsspec.

    Examples
    --------
    >>> transfer_stats(hdul)   # doctest: +SKIP
    {'bytes': 65542, 'requests': 1, 'size': 67080960}
    """
    handle = _fsspec_file(hdul)
    cache = getattr(handle, "cache", None)
    if cache is None or not hasattr(cache, "total_requested_bytes"):
        raise CloudInputError("transfer_stats needs a file opened with helpers.open_fits (through fsspec)")
    extra_bytes, extra_requests = _extra.get(handle, (0, 0))
    return {
        "bytes": int(cache.total_requested_bytes) + extra_bytes,
        "requests": int(cache.miss_count) + extra_requests,
        "size": int(handle.size),
    }


def _fsspec_file(obj: Any) -> Any:
    """The fsspec file behind an HDUList or HDU opened through fsspec, else None."""
    return getattr(getattr(obj, "_file", None), "_file", None)  # astropy's _File wraps it


# --- cutouts -------------------------------------------------------------------------


class _PlannedSection(Section):
    """``hdu.section`` that reads a 2-D block in planned, concurrent, bounded byte ranges.

    Only for uncompressed, unscaled 2-D images in files opened through fsspec;
    anything else (steps, other dimensions) is left to astropy's ``Section``.
    """

    def __init__(self, hdu: Any, handle: Any, link: Link, deadline: Deadline):
        super().__init__(hdu)
        self._handle, self._link, self._deadline = handle, link, deadline
        self._dtype = np.dtype(BITPIX2DTYPE[hdu.header["BITPIX"]]).newbyteorder(">")

    def __getitem__(self, key: Any) -> np.ndarray:
        ny, nx = self.hdu.shape
        if not (isinstance(key, tuple) and len(key) == 2 and all(isinstance(k, slice) for k in key)):
            return super().__getitem__(key)
        (r0, r1, rstep), (c0, c1, cstep) = key[0].indices(ny), key[1].indices(nx)
        if rstep != 1 or cstep != 1 or r1 <= r0 or c1 <= c0:
            return super().__getitem__(key)
        size = self._dtype.itemsize
        plan = plan_ranges(r0, r1 - r0, nx * size, self.hdu._data_offset + (r0 * nx + c0) * size,
                           (c1 - c0) * size, self._link)
        blobs = _read_ranges(self._handle, [(p[0], p[1]) for p in plan], self._deadline, cached=False)
        out = np.empty((r1 - r0, c1 - c0), dtype=self._dtype)
        for (_, _, row0, nrows), blob in zip(plan, blobs, strict=True):
            rows = np.ndarray((nrows, c1 - c0), dtype=self._dtype, buffer=blob, strides=(nx * size, size))
            out[row0 - r0 : row0 - r0 + nrows] = rows
        return out


@contextlib.contextmanager
def _read_ahead(hdu: Any, block_size: int) -> Iterator[None]:
    """Temporarily read ahead at least ``block_size`` bytes per request on the HDU's fsspec file."""
    cache = getattr(_fsspec_file(hdu), "cache", None)
    old = getattr(cache, "blocksize", None)
    if not block_size or old is None or old >= block_size:
        yield
        return
    cache.blocksize = block_size
    try:
        yield
    finally:
        cache.blocksize = old


def _planned_section(hdu: Any, link: Link, deadline: Deadline) -> Any:
    """A :class:`_PlannedSection` where the HDU allows it, else astropy's own section, else the data in memory."""
    if getattr(hdu, "_file", None) is None or getattr(hdu, "_data_loaded", False):
        return hdu.data  # nothing to read (astropy's section of an HDU without a file fails)
    handle = _fsspec_file(hdu)
    header = hdu.header
    eligible = (
        handle is not None
        and hasattr(handle, "fs") and hasattr(handle.fs, "_cat_file")  # an async filesystem
        and isinstance(hdu, (fits.PrimaryHDU, fits.ImageHDU))
        and not isinstance(hdu, fits.CompImageHDU)  # a subclass of ImageHDU in astropy 8
        and header.get("BSCALE", 1) == 1 and header.get("BZERO", 0) == 0
        and getattr(hdu, "_data_offset", None) is not None
        and not hdu._data_loaded
    )
    return _PlannedSection(hdu, handle, link, deadline) if eligible else hdu.section


_BITPIX = (8, 16, 32, 64, -32, -64)


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _check_image(hdu: Any) -> tuple[int, int]:
    """``(ny, nx)`` of a 2-D image HDU, or CloudInputError saying what the HDU is instead."""
    if not isinstance(hdu, (fits.PrimaryHDU, fits.ImageHDU, fits.CompImageHDU)):
        table = isinstance(hdu, (fits.BinTableHDU, fits.TableHDU))
        raise CloudInputError(
            f"cutout needs an image HDU (PrimaryHDU, ImageHDU or CompImageHDU), got {type(hdu).__name__}"
            + (f" {hdu.name!r}, a table" if table else ""))
    header = hdu.header
    bitpix = header.get("BITPIX")
    if not _is_int(bitpix) or bitpix not in _BITPIX:
        raise CloudInputError(f"the HDU's header has BITPIX = {bounded(bitpix, 40)}, not one of "
                              f"{', '.join(map(str, _BITPIX))}: the pixels cannot be read")
    naxis = header.get("NAXIS")
    if not _is_int(naxis):
        raise CloudInputError(f"the HDU's header has NAXIS = {bounded(naxis, 40)}, not an integer")
    if naxis != 2:
        hint = "; cut a plane out of a cube with astropy's Cutout2D(hdu.section[plane], ...)" if naxis > 2 else ""
        raise CloudInputError(f"cutout needs a 2-D image, but this HDU has NAXIS = {naxis}{hint}")
    shape = []
    for axis in (2, 1):
        length = header.get(f"NAXIS{axis}")
        if not _is_int(length) or length < 1:
            raise CloudInputError(f"the HDU's header has NAXIS{axis} = {bounded(length, 40)}, not a positive integer")
        shape.append(int(length))
    return shape[0], shape[1]


def _check_size(size: Any, wcs: Any) -> bool:
    """Refuse sizes that are not one or two positive, finite sizes of at least a pixel; True if any is an angle.

    The pixel counts are computed as :class:`astropy.nddata.Cutout2D` computes
    them, which silently makes an empty cutout of a size that rounds to 0.
    """
    import astropy.units as u

    several = isinstance(size, (tuple, list)) or (np.ndim(size) > 0 and not isinstance(size, str))
    items = list(size) if several else [size]
    if len(items) not in (1, 2):
        raise CloudInputError(f"cutout size must be one size or (ny, nx), got {bounded(size)}")
    angular = False
    pixels = []
    for axis, item in enumerate(items * (3 - len(items))):
        value, unit = (item.value, item.unit) if isinstance(item, u.Quantity) else (item, None)
        if unit is not None and unit != u.pixel and unit.physical_type != "angle":
            raise CloudInputError(f"cutout size must be in pixels or an angle, not {unit}: {bounded(size)}")
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise CloudInputError(f"cutout size must be numbers or Quantities, got {bounded(size)}") from None
        if not math.isfinite(value) or value <= 0:
            raise CloudInputError(f"cutout size must be positive and finite, got {bounded(size)}")
        if unit is not None and unit != u.pixel:
            angular = True
            if wcs is None or not wcs.has_celestial:
                continue  # _check_position says what is missing
            try:
                from astropy.wcs.utils import proj_plane_pixel_scales

                value = float((item / u.Quantity(proj_plane_pixel_scales(wcs), wcs.wcs.cunit[axis])[axis]).decompose())
            except Exception as exc:  # a WCS without usable pixel scales
                raise CloudInputError(f"the angular size {bounded(size)} cannot be turned into pixels with "
                                      f"the HDU's WCS: {type(exc).__name__}: {bounded(str(exc))}") from None
        pixels.append(value)
    if any(round(value) < 1 for value in pixels):
        raise CloudInputError(f"the cutout size {bounded(size)} is less than one pixel")
    return angular


def _check_position(position: Any, wcs: Any, angular: bool) -> None:
    """Refuse positions that are NaN, not one position, or on the sky for an HDU without celestial WCS."""
    from astropy.coordinates import SkyCoord

    celestial = wcs is not None and wcs.has_celestial
    if angular and not celestial:
        raise CloudInputError("an angular cutout size needs a celestial WCS, and the HDU's header has none: "
                              "give the size in pixels, or pass wcs=")
    if isinstance(position, SkyCoord):
        if not position.isscalar:
            raise CloudInputError(f"cutout needs one position, got {len(position)}")
        spherical = position.spherical
        if not (np.isfinite(spherical.lon.deg) and np.isfinite(spherical.lat.deg)):
            raise CloudInputError(f"the cutout position is not finite: {bounded(position)}")
        if not celestial:
            raise CloudInputError("a sky position needs a celestial WCS, and the HDU's header has none: "
                                  "give the position in pixels (x, y), or pass wcs=")
        try:
            pixel = wcs.world_to_pixel(position)
        except Exception as exc:  # astropy raises assorted errors for positions its projection cannot take
            raise CloudInputError(f"the position {bounded(position)} cannot be placed on the image: "
                                  f"{type(exc).__name__}: {bounded(str(exc))}") from None
        if not np.all(np.isfinite(pixel)):
            raise CloudInputError(f"the cutout at {bounded(position)} does not overlap the image: "
                                  f"it lies off the image's projection")
        return
    try:
        x, y = (float(v) for v in position)
    except (TypeError, ValueError):
        raise CloudInputError(f"the cutout position must be a SkyCoord or pixels (x, y), "
                              f"got {bounded(position)}") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise CloudInputError(f"the cutout position is not finite: {bounded(position)}")


def _wcs_of(hdu: Any, position: Any) -> Any:
    """The header's WCS, or None when it cannot be read and the position is in pixels anyway."""
    from astropy.coordinates import SkyCoord
    from astropy.wcs import WCS

    try:
        return WCS(hdu.header)
    except Exception as exc:  # astropy raises assorted errors for malformed WCS keywords
        if isinstance(position, SkyCoord):
            raise CloudInputError(f"the HDU's WCS cannot be read ({type(exc).__name__}: {bounded(str(exc))}), "
                                  f"so a sky position cannot be placed: pass wcs= or pixels") from None
        return None


def cutout(
    hdu: Any,
    position: Any,
    size: Any,
    wcs: Any = None,
    *,
    link: Link | None = None,
    timeout: float | None = None,
    **kwargs: Any,
) -> Any:
    """Cut a region out of an image HDU, reading only the rows it covers, in bounded time.

    ``Cutout2D(hdu.data, ...)`` reads the whole image first.  For an
    uncompressed image opened with :func:`open_fits`, this computes the byte
    range of every row of the cutout and fetches them in the concurrent ranges
    that :func:`helpers.ranges.plan_ranges` finds fastest for ``link``; for
    tile-compressed images it reads through ``hdu.section``, which decompresses
    only the tiles the cutout touches.  The result equals ``Cutout2D(hdu.data, ...)``.

    Parameters
    ----------
    hdu : astropy.io.fits.ImageHDU, PrimaryHDU or CompImageHDU
        A 2-D image HDU, typically of a file from :func:`open_fits`.
    position : astropy.coordinates.SkyCoord or tuple
        Centre of the cutout (pixel tuples are ``(x, y)``).
    size : astropy.units.Quantity, int or tuple
        Size of the cutout, as for :class:`astropy.nddata.Cutout2D`: positive.
    wcs : astropy.wcs.WCS, optional
        Defaults to the WCS of ``hdu.header``.
    link : helpers.ranges.Link, optional
        Round trip, bandwidth and concurrency of the link (default
        :func:`helpers.ranges.default_link`: ``HELPERS_LINK`` if set, else 30 ms, 50 MB/s, 64 at once).
    timeout : float, optional
        Seconds for the whole cutout, all tries included (default
        :data:`helpers.deadline.DEFAULT_TIMEOUT`, 300 s).
    **kwargs
        Passed to :class:`~astropy.nddata.Cutout2D` (``mode``, ``fill_value``...).

    Returns
    -------
    astropy.nddata.Cutout2D
        With ``.data`` and the cutout's own ``.wcs``.

    Raises
    ------
    CloudInputError
        Before any read, saying what is wrong: not a 2-D image HDU (a table, a
        cube), a malformed header (BITPIX, NAXISn), a size that is not positive,
        a NaN position, a sky position without a celestial WCS; or the position
        lies outside the image ("does not overlap").
    ArchiveError
        Naming the URI, when the reads keep failing after the retries (never
        reported as "does not overlap").
    DeadlineError
        When ``timeout`` passed first.

    Examples
    --------
    >>> import numpy as np
    >>> from astropy.io import fits
    >>> hdu = fits.PrimaryHDU(np.arange(100.0).reshape(10, 10))
    >>> cutout(hdu, (4, 5), (3, 2)).data.tolist()
    [[43.0, 44.0], [53.0, 54.0], [63.0, 64.0]]
    >>> cutout(hdu, (4, 5), 0)
    Traceback (most recent call last):
    ...
    helpers.errors.CloudInputError: cutout size must be positive and finite, got 0
    """
    from astropy.nddata import Cutout2D, NoOverlapError, PartialOverlapError

    shape = _check_image(hdu)
    if wcs is None:
        wcs = _wcs_of(hdu, position)
    _check_position(position, wcs, _check_size(size, wcs))
    handle = _fsspec_file(hdu)
    name = _name_of(handle) if hasattr(handle, "fs") else "the image"
    deadline = Deadline(timeout, f"cutout of {name}")
    data = _planned_section(hdu, link or default_link(), deadline)
    try:
        with _bounded_by(handle, deadline), \
                _read_ahead(hdu, SECTION_BLOCK_SIZE if not isinstance(data, _PlannedSection) else 0):
            return Cutout2D(data, position=position, size=size, wcs=wcs, **kwargs)
    except NoOverlapError as exc:  # only geometry: read failures are ArchiveErrors and pass through
        raise CloudInputError(f"the cutout at {bounded(position)} does not overlap the image "
                              f"({shape[1]} x {shape[0]} pixels): {exc}") from None
    except PartialOverlapError as exc:  # mode="strict"
        raise CloudInputError(f"the cutout at {bounded(position)} is not wholly inside the image "
                              f"({shape[1]} x {shape[0]} pixels) and mode='strict': {exc}") from None


# --- whole objects -------------------------------------------------------------------


def fetch_bytes(target: CloudLocation | str, *, progress: bool | None = None, timeout: float | None = None) -> bytes:
    """Fetch a whole object in one GET, with a progress bar when it is large.

    For compressed files (``.gz``, ``.Z``), which cannot be read in parts:
    small range reads would fetch them many times over.

    Parameters
    ----------
    target : CloudLocation or str
        The object, or its ``s3://`` URI.
    progress : bool, optional
        Show a tqdm progress bar; by default only from 8 MiB on (not for an HTTPS copy).
    timeout : float, optional
        Seconds for the whole fetch, all tries and the HTTPS fallback included
        (default :data:`helpers.deadline.DEFAULT_TIMEOUT`, 300 s).

    Returns
    -------
    bytes

    Raises
    ------
    CloudInputError
        When the URI is malformed.
    ArchiveError
        Naming the URI, when the object is missing or refused (and there is no
        HTTPS copy to fall back to), or the transfer keeps failing after
        :data:`helpers.deadline.MAX_ATTEMPTS` tries.
    DeadlineError
        When ``timeout`` passed first, however slowly the bytes kept coming.

    Warns
    -----
    CloudFallbackWarning
        When S3 refused the object (403, 404) and its ``https_url`` was read instead.

    Examples
    --------
    >>> raw = fetch_bytes("s3://nasa-heasarc/rosat/data/pspc/processed_data/900000/"
    ...                   "rs931315n00/rs931315n00_bas.fits.Z")   # doctest: +SKIP
    """
    from . import http

    location = as_location(target)
    deadline = Deadline(timeout, f"fetch_bytes of {location.uri}")
    client = s3_client(location.region)

    def attempt() -> bytes:
        return _get_object(client, location, progress, deadline)

    try:
        # botocore blocks up to READ_TIMEOUT waiting for an answer: the tries run in a thread
        # the caller stops waiting for at the deadline.
        return run_with_deadline(lambda: with_retries(attempt, f"GET {location.uri}", deadline), deadline)
    except _Refused as refusal:
        return _https_fallback(location, refusal, lambda url: http.fetch(url, deadline=deadline).body)


def _get_object(client: Any, location: CloudLocation, progress: bool | None, deadline: Deadline) -> bytes:
    """One GET of the whole object, its body read as it arrives and checked against Content-Length."""
    try:
        response = client.get_object(Bucket=location.bucket, Key=location.key)
    except Exception as exc:
        raise _failure(exc, location.uri, deadline) from exc
    body = response["Body"]
    try:
        return _read_body(body, response.get("ContentLength"), location.uri, progress, deadline)
    finally:
        body.close()  # after a failure, drops the connection instead of returning it to the pool mid-body


def _read_body(body: Any, size: int | None, name: str, progress: bool | None, deadline: Deadline) -> bytes:
    # urllib3's read1 returns what has arrived, so the deadline is checked between chunks even when
    # the server drips; botocore's read(n) would wait for n bytes.  botocore has no public read1.
    raw = getattr(body, "_raw_stream", None)
    read = getattr(raw, "read1", None) or body.read
    if progress is None:
        progress = (size or 0) >= PROGRESS_THRESHOLD
    bar = _progress_bar(size, name) if progress else None
    parts, got = [], 0
    try:
        while True:
            deadline.check()
            chunk = read(_CHUNK)
            if not chunk:
                break
            parts.append(chunk)
            got += len(chunk)
            if bar is not None:
                bar.update(len(chunk))
    except CloudAccessError:
        raise
    except Exception as exc:
        raise _failure(exc, name, deadline) from exc
    finally:
        if bar is not None:
            bar.close()
    if size is not None and got != size:
        raise Transient(f"{name}: {got} of {size} bytes arrived", url=name)
    return b"".join(parts)


def _progress_bar(size: int | None, name: str) -> Any:
    with warnings.catch_warnings():  # without ipywidgets, tqdm.auto warns and falls back to text
        warnings.simplefilter("ignore")
        from tqdm.auto import tqdm

    return tqdm(total=size, unit="B", unit_scale=True, desc=name.rsplit("/", 1)[-1])

