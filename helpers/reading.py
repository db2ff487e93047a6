"""Opening FITS files in S3 lazily, every read bounded in tries and time.

:func:`open_fits` opens a file with small read-ahead blocks, so that headers
cost a request or two and pixels travel only when asked for
(:func:`helpers.cutout` reads just a cutout's rows).  Every read of the file,
through the read-ahead cache or :func:`read_ranges`, is tried at most
:data:`helpers.deadline.MAX_ATTEMPTS` times and counts against the deadline of
the public call under way (see :mod:`helpers.failures` for the bounds).
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Iterator
from typing import Any

from astropy.io import fits

from . import _upstream, linkmodel
from .cloud import CloudLocation
from .deadline import Deadline, Transient, with_retries
from .errors import ArchiveError, CloudAccessError, CloudInputError, bounded
from .failures import Refused, classify, https_fallback
from .s3 import HEADER_BLOCK_SIZE, as_location, s3_filesystem

__all__ = ["open_fits", "transfer_stats", "read_ranges", "bounded_by", "file_name"]

# --- bounded reads through fsspec files --------------------------------------------

# Per fsspec file: bytes and requests beyond what its cache counts (planned ranges, retries),
# the deadline of the public call under way, and the name errors give.
_extra: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_deadlines: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_names: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _count(handle: Any, nbytes: int, requests: int) -> None:
    done_bytes, done_requests = _extra.get(handle, (0, 0))
    _extra[handle] = (done_bytes + nbytes, done_requests + requests)


def file_name(handle: Any) -> str:
    return _names.get(handle) or handle.fs.unstrip_protocol(handle.path)


@contextlib.contextmanager
def bounded_by(handle: Any, deadline: Deadline) -> Iterator[None]:
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


def read_ranges(handle: Any, ranges: list[tuple[int, int]], deadline: Deadline, *, cached: bool) -> list[bytes]:
    """Byte ranges ``[start, end)`` of an fsspec file, concurrently, each at most MAX_ATTEMPTS times.

    Every try sends again only the ranges that failed transiently; a refusal or
    a wrong answer fails at once.  ``cached``: the file's cache already counts
    the first request and the bytes (its own read-ahead), so only retries are added.
    """
    from fsspec.asyn import sync

    fs, path, name = handle.fs, handle.path, file_name(handle)
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
            raise classify(exc, name, deadline) from exc
        last: Exception | None = None
        for i, answer in zip(todo, answers, strict=True):
            start, end = ranges[i]
            if isinstance(answer, BaseException):
                failure = classify(answer, name, deadline)
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
            raise Transient(f"{failed} of {len(ranges)} byte ranges failed, e.g. {last}", url=name,
                            throttled=getattr(last, "throttled", False))
        return blobs  # type: ignore[return-value]

    return with_retries(attempt, f"reading {name}", deadline)


async def _gather_ranges(fs: Any, path: str, ranges: list[tuple[int, int]]) -> list[Any]:
    """All ranges at once, each answer bytes or its exception.

    Not ``fs._cat_ranges``: its requests run as tasks of their own that go on
    (dripping, for ever) when the call is cancelled at the deadline, whereas
    cancelling ``gather`` cancels every request.  The client's connection pool
    (:data:`helpers.s3.MAX_CONNECTIONS`) bounds how many are in flight.
    """
    cat_file = _upstream.async_cat_file(fs)
    return await asyncio.gather(*(cat_file(path, start=start, end=end) for start, end in ranges),
                                return_exceptions=True)


def _install_bounded_fetcher(handle: Any, name: str) -> None:
    """Route the file cache's reads through :func:`read_ranges`: bounded tries, a deadline, clear errors."""
    _names[handle] = name
    cache = _upstream.fsspec_cache(handle)
    if cache is None:
        return
    size = handle.size

    def fetch(start: int | None, end: int | None) -> bytes:
        start = start or 0
        end = size if end is None else min(end, size)
        if end <= start:
            return b""
        # Outside open_fits and cutout (hdu.data, astropy's section) each read has a deadline of its own.
        deadline = _deadlines.get(handle) or Deadline(None, f"reading {name}")
        with linkmodel.timed(handle.fs) as timing:  # what the link costs, for cutouts to plan with
            blob = read_ranges(handle, [(start, end)], deadline, cached=True)[0]
            timing.add(len(blob))
        return blob

    _upstream.set_cache_fetcher(cache, fetch)


def _open_hdul(fs: Any, path: str, name: str, deadline: Deadline, block_size: int, cache_type: str) -> fits.HDUList:
    """Open ``path`` on ``fs`` as a lazily read FITS file whose every request is bounded."""
    from astropy.utils.data import get_readable_fileobj

    def head() -> dict:
        with linkmodel.timed(fs) as timing:  # one round trip, for cutouts to plan with
            try:
                details = fs.info(path, timeout=max(deadline.remaining(), 0.001))
            except Exception as exc:
                raise classify(exc, name, deadline) from exc
            timing.add(0)
        return details

    details = with_retries(head, f"HEAD {name}", deadline)
    if details.get("size") is None:
        raise ArchiveError(f"{name} does not say its size, so it cannot be read in parts: use fetch_bytes", url=name)
    # The size is known: fsspec would otherwise ask again, outside any deadline.
    handle = fs.open(path, "rb", block_size=block_size, cache_type=cache_type, size=details["size"])
    handle.details = details
    _install_bounded_fetcher(handle, name)
    try:
        with bounded_by(handle, deadline):
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
    except Refused as refusal:
        return https_fallback(location, refusal, lambda url: _open_hdul(
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
    handle = _upstream.fsspec_file(hdul)
    counters = _upstream.cache_counters(_upstream.fsspec_cache(handle))
    if counters is None:
        raise CloudInputError("transfer_stats needs a file opened with helpers.open_fits (through fsspec)")
    extra_bytes, extra_requests = _extra.get(handle, (0, 0))
    return {
        "bytes": counters[0] + extra_bytes,
        "requests": counters[1] + extra_requests,
        "size": int(handle.size),
    }

