"""Whole objects in one GET: compressed files (``.gz``, ``.Z``) that cannot be read in parts."""

from __future__ import annotations

import warnings
from typing import Any

from . import _upstream
from .cloud import CloudLocation
from .deadline import Deadline, Transient, drain, run_with_deadline, with_retries
from .errors import CloudAccessError
from .failures import Refused, classify, https_fallback
from .s3 import as_location, s3_client

__all__ = ["fetch_bytes", "PROGRESS_THRESHOLD"]

PROGRESS_THRESHOLD = 8 << 20  # show a progress bar from 8 MiB on
_CHUNK = 1 << 20

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
    except Refused as refusal:
        return https_fallback(location, refusal, lambda url: http.fetch(url, deadline=deadline).body)


def _get_object(client: Any, location: CloudLocation, progress: bool | None, deadline: Deadline) -> bytes:
    """One GET of the whole object, its body read as it arrives and checked against Content-Length."""
    try:
        response = client.get_object(Bucket=location.bucket, Key=location.key)
    except Exception as exc:
        raise classify(exc, location.uri, deadline) from exc
    body = response["Body"]
    try:
        return _read_body(body, response.get("ContentLength"), location.uri, progress, deadline)
    finally:
        body.close()  # after a failure, drops the connection instead of returning it to the pool mid-body


def _read_body(body: Any, size: int | None, name: str, progress: bool | None, deadline: Deadline) -> bytes:
    # urllib3's read1 returns what has arrived, so the deadline is checked between chunks even when
    # the server drips; botocore's read(n) would wait for n bytes.  botocore has no public read1.
    read = _upstream.streaming_read1(body) or body.read
    if progress is None:
        progress = (size or 0) >= PROGRESS_THRESHOLD
    bar = _progress_bar(size, name) if progress else None
    advance = (lambda chunk: bar.update(len(chunk))) if bar is not None else None
    try:
        data = drain(lambda: read(_CHUNK), deadline, advance)
    except CloudAccessError:
        raise
    except Exception as exc:
        raise classify(exc, name, deadline) from exc
    finally:
        if bar is not None:
            bar.close()
    if size is not None and len(data) != size:
        raise Transient(f"{name}: {len(data)} of {size} bytes arrived", url=name)
    return data


def _progress_bar(size: int | None, name: str) -> Any:
    with warnings.catch_warnings():  # without ipywidgets, tqdm.auto warns and falls back to text
        warnings.simplefilter("ignore")
        from tqdm.auto import tqdm

    return tqdm(total=size, unit="B", unit_scale=True, desc=name.rsplit("/", 1)[-1])
