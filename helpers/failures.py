"""Which failures of S3 and HTTPS reads are tried again, and the one HTTPS fallback step.

botocore, s3fs, fsspec and aiohttp each raise their own exceptions for the
same event; :func:`classify` sorts any of them into a
:class:`~helpers.deadline.Transient` (tried again), a :class:`Refused` (403,
404: never tried again, but the archive's HTTPS copy may be read instead, by
:func:`https_fallback`), a :class:`~helpers.errors.DeadlineError` or a final
:class:`~helpers.errors.ArchiveError`.

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
0.25, 0.5 and 1 s pauses; throttling (503, 429: the service asks the client to
slow down and try again) at most :data:`helpers.deadline.THROTTLED_ATTEMPTS`
(8) times, the later pauses 1 s.  So a service that keeps failing is given up
after about 1.75 s (throttling: 5.75 s) plus the requests' own time, with an
:class:`~helpers.errors.ArchiveError` saying "failed after 4 tries" (or 8)
and naming the ``s3://`` URI; six SlowDown answers followed by success succeed.
At most:

* :func:`helpers.fetch_bytes`: 4 GETs, 8 while throttled;
* :func:`helpers.open_fits`: one HEAD, then one GET per header block read, each at most 4 (8) times;
* :func:`helpers.cutout`: at most 4 (8) rounds over its planned ranges, each round sending
  again only the ranges that failed: at most 4 (8) GETs per planned range;
* reads of an open file outside these calls (``hdu.data``, astropy's
  ``hdu.section``): each read-ahead block at most 4 tries, within
  :data:`~helpers.deadline.DEFAULT_TIMEOUT`.

One transport detail stays: for a connection that dies before any answer
byte, aiohttp (under s3fs and fsspec's HTTP) re-sends an idempotent request
once, at once (RFC 9112 allows it; aiohttp has no setting), so a persistently
reset connection costs up to 2 x 4 GETs per range in :func:`helpers.open_fits` and
:func:`helpers.cutout`; :func:`helpers.fetch_bytes` (botocore, urllib3) sends 4.

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
import warnings
from collections.abc import Callable, Iterator
from typing import TypeVar

from .cloud import CloudLocation
from .deadline import THROTTLED_STATUS, TRANSIENT_STATUS, Deadline, Transient
from .errors import ArchiveError, CloudAccessError, CloudFallbackWarning, DeadlineError, bounded

__all__ = ["Refused", "classify", "https_fallback"]

T = TypeVar("T")

# HTTP statuses and S3 error codes worth another try (S3 documents 500 and 503 SlowDown as retryable).
_TRANSIENT_CODES = frozenset({
    "SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "InternalError",
    "ServiceUnavailable", "BadGateway", "GatewayTimeout", "RequestLimitExceeded",
})
# The service asking the client to slow down: tried more often (deadline.THROTTLED_ATTEMPTS).
_THROTTLED_CODES = frozenset({"SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded",
                              "ServiceUnavailable"})
_REFUSED_STATUS = frozenset({403, 404})
_REFUSED_CODES = frozenset({"NoSuchKey", "NoSuchBucket", "AccessDenied", "NotFound", "Forbidden"})


class Refused(ArchiveError):
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
        ConnectionError, TimeoutError, asyncio.TimeoutError, HTTPException, Urllib3Error, aiohttp.ClientError,
        boto.HTTPClientError, boto.ConnectionError, boto.IncompleteReadError, ResponseParserError,
    )


def classify(exc: BaseException, name: str, deadline: Deadline) -> Exception:
    """Sort an exception from botocore, s3fs or fsspec into Transient, Refused, DeadlineError or ArchiveError.

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
            return Refused(f"S3 refused {name}: {label}" if name.startswith("s3://")
                            else f"{name} answered {label}", url=name)
        if status in TRANSIENT_STATUS or code in _TRANSIENT_CODES:
            return Transient(f"{name}: {label}", url=name,
                             throttled=status in THROTTLED_STATUS or code in _THROTTLED_CODES)
        return ArchiveError(f"{name}: the server answered {label}: {bounded(str(cause))}", url=name)
    # asyncio.TimeoutError (fsspec's FSTimeoutError) is the built-in TimeoutError only from Python 3.11 on.
    if deadline.expired() and any(isinstance(cause, (TimeoutError, asyncio.TimeoutError)) for cause in _chain(exc)):
        return deadline.error()
    if any(isinstance(cause, _network_errors()) for cause in _chain(exc)):
        return Transient(f"{name}: {type(exc).__name__}: {bounded(str(exc))}", url=name)
    if isinstance(exc, (FileNotFoundError, PermissionError)):  # s3fs's own 404 after its HEAD and LIST
        label = "404 not found" if isinstance(exc, FileNotFoundError) else "403 access denied"
        return Refused(f"S3 refused {name}: {label}" if name.startswith("s3://") else f"{name}: {label}", url=name)
    return ArchiveError(f"reading {name} failed: {type(exc).__name__}: {bounded(str(exc))}", url=name)


def https_fallback(location: CloudLocation, refusal: Refused, read: Callable[[str], T]) -> T:
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
