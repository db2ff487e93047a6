"""Reading FITS files from S3 with as few bytes as the file format allows.

Uncompressed images are range-read: :func:`open_fits` opens a file lazily with
small read-ahead blocks and :func:`cutout` reads pixels through ``hdu.section``,
so only the rows of the cutout travel.  ``.gz`` and ``.Z`` files cannot be
range-read; :func:`fetch_bytes` fetches them whole, once, in one GET.
"""

from __future__ import annotations

import contextlib
import io
import time
import warnings
import weakref
from typing import Any

import numpy as np
from astropy.io import fits
from astropy.io.fits.hdu.base import BITPIX2DTYPE
from astropy.io.fits.hdu.image import Section

from .cloud import CloudLocation
from .errors import CloudAccessError, CloudFallbackWarning
from .ranges import DEFAULT_LINK, Link, plan_ranges
from .s3 import MAX_ATTEMPTS, SECTION_BLOCK_SIZE, as_location, s3_client, s3_storage_options

__all__ = ["open_fits", "cutout", "fetch_bytes", "transfer_stats"]

PROGRESS_THRESHOLD = 8 << 20  # show a progress bar from 8 MiB on
_CHUNK = 1 << 20


def open_fits(target: CloudLocation | str, **storage_options: Any) -> fits.HDUList:
    """Open a FITS file in S3 lazily, anonymously, tuned for partial reads.

    Parameters
    ----------
    target : CloudLocation or str
        The file, as returned by :func:`helpers.cloud.cloud_uri`, or an ``s3://`` URI.
    **storage_options
        Override :func:`helpers.s3.s3_storage_options`, e.g. ``block_size=4 << 20``
        (the default 64 KiB read-ahead suits headers; :func:`cutout` plans its own reads).

    Returns
    -------
    astropy.io.fits.HDUList
        Headers are read on access; pixels only when asked for (use
        ``hdu.section`` or :func:`cutout`, not ``hdu.data``, for a part of an image).

    Examples
    --------
    >>> hdul = open_fits("s3://nasa-irsa-wise/wise/allwise/images/p3am_cdd/08/0830/"
    ...                  "0830p227_ac51/0830p227_ac51-w1-int-3.fits")  # doctest: +SKIP
    >>> hdul[0].header["BUNIT"]                                          # doctest: +SKIP
    'DN'
    """
    location = as_location(target)
    options = s3_storage_options(location.region, **storage_options)
    try:
        return fits.open(location.uri, use_fsspec=True, fsspec_kwargs=options, lazy_load_hdus=True)
    except (FileNotFoundError, PermissionError) as exc:
        if not location.https_url:
            raise CloudAccessError(f"S3 refused {location.uri}: {exc}") from exc
        _warn_fallback(location, exc)
        try:
            return fits.open(location.https_url, use_fsspec=True, lazy_load_hdus=True,
                             fsspec_kwargs={"block_size": options["default_block_size"]})
        except (OSError, ValueError) as https_exc:
            raise CloudAccessError(f"could not open {location.https_url} either: {https_exc}") from https_exc
    except (OSError, ValueError) as exc:
        raise CloudAccessError(f"could not open {location.uri} as FITS: {exc}") from exc


def _warn_fallback(location: CloudLocation, cause: Exception) -> None:
    warnings.warn(f"S3 refused {location.uri} ({cause}); reading the archive's HTTPS copy "
                  f"{location.https_url} instead", CloudFallbackWarning, stacklevel=3)


# Bytes and requests of planned range reads, per fsspec file (they bypass the file's cache).
_planned: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def transfer_stats(hdul: fits.HDUList) -> dict[str, int]:
    """How much a file opened by :func:`open_fits` has fetched so far, by fsspec's own counters.

    Returns
    -------
    dict
        ``bytes`` fetched, ``requests`` made (ranged GETs: the cache's misses
        plus the ranges of :func:`cutout`) and the file's ``size``.

    Raises
    ------
    CloudAccessError
        If ``hdul`` was not opened through fsspec.

    Examples
    --------
    >>> transfer_stats(hdul)   # doctest: +SKIP
    {'bytes': 65542, 'requests': 1, 'size': 67080960}
    """
    handle = _fsspec_file(hdul)
    cache = getattr(handle, "cache", None)
    if cache is None or not hasattr(cache, "total_requested_bytes"):
        raise CloudAccessError("transfer_stats needs a file opened with helpers.open_fits (through fsspec)")
    extra_bytes, extra_requests = _planned.get(handle, (0, 0))
    return {
        "bytes": int(cache.total_requested_bytes) + extra_bytes,
        "requests": int(cache.miss_count) + extra_requests,
        "size": int(handle.size),
    }


def _fsspec_file(obj: Any) -> Any:
    """The fsspec file behind an HDUList or HDU opened through fsspec, else None."""
    return getattr(getattr(obj, "_file", None), "_file", None)  # astropy's _File wraps it


class _PlannedSection(Section):
    """``hdu.section`` that reads a 2-D block in planned, concurrent byte ranges.

    Only for uncompressed, unscaled 2-D images in files opened through fsspec;
    anything else (steps, other dimensions) is left to astropy's ``Section``.
    """

    def __init__(self, hdu: Any, handle: Any, link: Link):
        super().__init__(hdu)
        self._handle, self._link = handle, link
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
        fs, path = self._handle.fs, self._handle.path
        blobs = fs.cat_ranges([path] * len(plan), [p[0] for p in plan], [p[1] for p in plan])
        out = np.empty((r1 - r0, c1 - c0), dtype=self._dtype)
        for (start, _, row0, nrows), blob in zip(plan, blobs, strict=True):
            if isinstance(blob, Exception) or len(blob) != (nrows - 1) * nx * size + (c1 - c0) * size:
                raise CloudAccessError(f"short or failed range read of {path} at byte {start}: {blob!r:.200}")
            rows = np.ndarray((nrows, c1 - c0), dtype=self._dtype, buffer=blob, strides=(nx * size, size))
            out[row0 - r0 : row0 - r0 + nrows] = rows
        done_bytes, done_requests = _planned.get(self._handle, (0, 0))
        _planned[self._handle] = (done_bytes + sum(p[1] - p[0] for p in plan), done_requests + len(plan))
        return out


@contextlib.contextmanager
def _read_ahead(hdu: Any, block_size: int) -> Any:
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


def _planned_section(hdu: Any, link: Link) -> Any:
    """A :class:`_PlannedSection` where the HDU allows it, else astropy's own section."""
    handle = _fsspec_file(hdu)
    header = hdu.header
    eligible = (
        handle is not None
        and hasattr(handle, "fs") and hasattr(handle.fs, "cat_ranges")
        and isinstance(hdu, (fits.PrimaryHDU, fits.ImageHDU))
        and not isinstance(hdu, fits.CompImageHDU)  # a subclass of ImageHDU in astropy 8
        and header.get("NAXIS") == 2
        and header.get("BSCALE", 1) == 1 and header.get("BZERO", 0) == 0
        and getattr(hdu, "_data_offset", None) is not None
        and not hdu._data_loaded
    )
    return _PlannedSection(hdu, handle, link) if eligible else hdu.section


def cutout(hdu: Any, position: Any, size: Any, wcs: Any = None, *, link: Link | None = None, **kwargs: Any) -> Any:
    """Cut a region out of an image HDU, reading only the rows it covers.

    ``Cutout2D(hdu.data, ...)`` reads the whole image first.  For an
    uncompressed image opened with :func:`open_fits`, this computes the byte
    range of every row of the cutout and fetches them in the concurrent ranges
    that :func:`helpers.ranges.plan_ranges` finds fastest for ``link``; for
    tile-compressed images it reads through ``hdu.section``, which decompresses
    only the tiles the cutout touches.  The result equals ``Cutout2D(hdu.data, ...)``.

    Parameters
    ----------
    hdu : astropy.io.fits.ImageHDU, PrimaryHDU or CompImageHDU
        An image HDU, typically of a file from :func:`open_fits`.
    position : astropy.coordinates.SkyCoord or tuple
        Centre of the cutout (pixel tuples are ``(x, y)``).
    size : astropy.units.Quantity, int or tuple
        Size of the cutout, as for :class:`astropy.nddata.Cutout2D`.
    wcs : astropy.wcs.WCS, optional
        Defaults to the WCS of ``hdu.header``.
    link : helpers.ranges.Link, optional
        Round trip, bandwidth and concurrency of the link (default
        :data:`helpers.ranges.DEFAULT_LINK`: 30 ms, 50 MB/s, 64 at once).
    **kwargs
        Passed to :class:`~astropy.nddata.Cutout2D` (``mode``, ``fill_value``...).

    Returns
    -------
    astropy.nddata.Cutout2D
        With ``.data`` and the cutout's own ``.wcs``.

    Raises
    ------
    CloudAccessError
        If the position lies outside the image.

    Examples
    --------
    >>> c = cutout(hdul[0], SkyCoord(83.63321, 22.01446, unit="deg"), 0.0889 * u.deg)  # doctest: +SKIP
    >>> c.data.shape                                                               # doctest: +SKIP
    (233, 233)
    """
    from astropy.nddata import Cutout2D, NoOverlapError
    from astropy.wcs import WCS

    if wcs is None:
        wcs = WCS(hdu.header)
    try:
        data = _planned_section(hdu, link or DEFAULT_LINK)
        with _read_ahead(hdu, SECTION_BLOCK_SIZE if not isinstance(data, _PlannedSection) else 0):
            return Cutout2D(data, position=position, size=size, wcs=wcs, **kwargs)
    except (NoOverlapError, ValueError) as exc:  # ValueError: off the projection (NaN pixels)
        raise CloudAccessError(f"the cutout at {position} does not overlap the image: {exc}") from exc


def fetch_bytes(target: CloudLocation | str, *, progress: bool | None = None) -> bytes:
    """Fetch a whole object in one GET, with a progress bar when it is large.

    For compressed files (``.gz``, ``.Z``), which cannot be read in parts:
    small range reads would fetch them many times over.

    Parameters
    ----------
    target : CloudLocation or str
        The object, or its ``s3://`` URI.
    progress : bool, optional
        Show a tqdm progress bar; by default only from 8 MiB on.

    Returns
    -------
    bytes

    Raises
    ------
    CloudAccessError
        Naming the URI, when the object is missing or refused (and there is no
        HTTPS copy to fall back to), or the transfer keeps failing after the retries.

    Warns
    -----
    CloudFallbackWarning
        When S3 refused the object (403, 404) and its ``https_url`` was read instead.

    Examples
    --------
    >>> raw = fetch_bytes("s3://nasa-heasarc/rosat/data/pspc/processed_data/900000/"
    ...                   "rs931315n00/rs931315n00_bas.fits.Z")   # doctest: +SKIP
    """
    from botocore.exceptions import BotoCoreError, ClientError

    location = as_location(target)
    client = s3_client(location.region)

    def get() -> bytes:
        response = client.get_object(Bucket=location.bucket, Key=location.key)
        return _read_body(response, location.key, progress)

    try:
        # truncated bodies, reset connections and timeouts are tried again
        return _with_retries(get, location.uri, (BotoCoreError, _ShortBody))
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "?")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status in (403, 404) and location.https_url:
            _warn_fallback(location, exc)
            return _fetch_https(location.https_url, progress)
        raise CloudAccessError(f"S3 refused {location.uri}: {code} {exc}") from exc


def _with_retries(get: Any, what: str, transient: tuple[type[Exception], ...]) -> bytes:
    """``get()``, tried up to MAX_ATTEMPTS times with backoff while it fails with a ``transient`` error."""
    last_error: Exception | None = None
    for attempt in range(MAX_ATTEMPTS):
        try:
            return get()
        except transient as exc:
            last_error = exc
            time.sleep(min(0.2 * 2**attempt, 2.0))
    raise CloudAccessError(f"could not fetch {what} after {MAX_ATTEMPTS} tries: {last_error}")


def _fetch_https(url: str, progress: bool | None) -> bytes:
    import requests

    from . import http

    def get() -> bytes:
        with http.session().get(url, stream=True) as response:
            if response.status_code != 200:
                raise CloudAccessError(f"{url} answered {response.status_code} {response.reason}")
            body = {"ContentLength": response.headers.get("Content-Length"), "Body": _StreamingBody(response)}
            return _read_body(body, url, progress)

    return _with_retries(get, url, (requests.RequestException, _ShortBody))


class _ShortBody(Exception):
    """A body shorter than its Content-Length: the transfer was cut."""


class _StreamingBody:
    """botocore's StreamingBody interface over a requests response."""

    def __init__(self, response: Any):
        self._response = response

    def read(self) -> bytes:
        return self._response.content

    def iter_chunks(self, size: int) -> Any:
        return self._response.iter_content(size)


def _read_body(response: dict, name: str, progress: bool | None) -> bytes:
    size = int(response.get("ContentLength") or 0)
    body = response["Body"]
    if progress is None:
        progress = size >= PROGRESS_THRESHOLD
    buffer = io.BytesIO()
    if not progress:
        buffer.write(body.read())
    else:
        with warnings.catch_warnings():  # without ipywidgets, tqdm.auto warns and falls back to text
            warnings.simplefilter("ignore")
            from tqdm.auto import tqdm

        with tqdm(total=size, unit="B", unit_scale=True, desc=name.rsplit("/", 1)[-1]) as bar:
            for chunk in body.iter_chunks(_CHUNK):
                buffer.write(chunk)
                bar.update(len(chunk))
    data = buffer.getvalue()
    if size and len(data) != size:
        raise _ShortBody(f"{name}: {len(data)} of {size} bytes")
    return data
