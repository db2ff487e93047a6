"""Reading FITS files from S3 with as few bytes as the file format allows.

Uncompressed images are range-read: :func:`open_fits` opens a file lazily with
small read-ahead blocks and :func:`cutout` reads pixels through ``hdu.section``,
so only the rows of the cutout travel.  ``.gz`` and ``.Z`` files cannot be
range-read; :func:`fetch_bytes` fetches them whole, once, in one GET.
"""

from __future__ import annotations

import io
import time
from typing import Any

from astropy.io import fits

from .cloud import CloudLocation
from .errors import CloudAccessError
from .s3 import MAX_ATTEMPTS, as_location, s3_client, s3_storage_options

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
        Override :func:`helpers.s3.s3_storage_options`, e.g. ``block_size=4 << 20``.

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
    except (OSError, ValueError) as exc:
        raise CloudAccessError(f"could not open {location.uri} as FITS: {exc}") from exc


def transfer_stats(hdul: fits.HDUList) -> dict[str, int]:
    """How much a file opened by :func:`open_fits` has fetched so far, by fsspec's own counters.

    Returns
    -------
    dict
        ``bytes`` fetched, ``requests`` made (cache misses, one ranged GET each
        with the default read-ahead cache) and the file's ``size``.

    Raises
    ------
    CloudAccessError
        If ``hdul`` was not opened through fsspec.

    Examples
    --------
    >>> transfer_stats(hdul)   # doctest: +SKIP
    {'bytes': 5246614, 'requests': 5, 'size': 67080960}
    """
    handle = getattr(getattr(hdul, "_file", None), "_file", None)  # astropy's _File wraps the fsspec file
    cache = getattr(handle, "cache", None)
    if cache is None or not hasattr(cache, "total_requested_bytes"):
        raise CloudAccessError("transfer_stats needs a file opened with helpers.open_fits (through fsspec)")
    return {"bytes": int(cache.total_requested_bytes), "requests": int(cache.miss_count), "size": int(handle.size)}


def cutout(hdu: Any, position: Any, size: Any, wcs: Any = None, **kwargs: Any) -> Any:
    """Cut a region out of an image HDU, reading only the rows it covers.

    ``Cutout2D(hdu.data, ...)`` reads the whole image first; this reads
    through ``hdu.section``, which astropy fetches row by row.

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
        return Cutout2D(hdu.section, position=position, size=size, wcs=wcs, **kwargs)
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
        Naming the URI, when the object is missing, refused, or the transfer
        keeps failing after the retries.

    Examples
    --------
    >>> raw = fetch_bytes("s3://nasa-heasarc/rosat/data/pspc/processed_data/900000/"
    ...                   "rs931315n00/rs931315n00_bas.fits.Z")   # doctest: +SKIP
    """
    from botocore.exceptions import BotoCoreError, ClientError

    location = as_location(target)
    client = s3_client(location.region)
    last_error: Exception | None = None
    for attempt in range(MAX_ATTEMPTS):
        try:
            response = client.get_object(Bucket=location.bucket, Key=location.key)
            return _read_body(response, location, progress)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "?")
            raise CloudAccessError(f"S3 refused {location.uri}: {code} {exc}") from exc
        except BotoCoreError as exc:  # truncated body, reset connection, timeout
            last_error = exc
            time.sleep(min(0.2 * 2**attempt, 2.0))
    raise CloudAccessError(f"could not fetch {location.uri} after {MAX_ATTEMPTS} tries: {last_error}")


def _read_body(response: dict, location: CloudLocation, progress: bool | None) -> bytes:
    size = int(response.get("ContentLength") or 0)
    body = response["Body"]
    if progress is None:
        progress = size >= PROGRESS_THRESHOLD
    buffer = io.BytesIO()
    if not progress:
        buffer.write(body.read())
    else:
        import warnings

        with warnings.catch_warnings():  # without ipywidgets, tqdm.auto warns and falls back to text
            warnings.simplefilter("ignore")
            from tqdm.auto import tqdm

        with tqdm(total=size, unit="B", unit_scale=True, desc=location.key.rsplit("/", 1)[-1]) as bar:
            for chunk in body.iter_chunks(_CHUNK):
                buffer.write(chunk)
                bar.update(len(chunk))
    data = buffer.getvalue()
    if size and len(data) != size:
        from botocore.exceptions import IncompleteReadError

        raise IncompleteReadError(actual_bytes=len(data), expected_bytes=size)
    return data
