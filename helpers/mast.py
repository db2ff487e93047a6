"""MAST: from a products row's ``dataURI`` (``mast:...``) to its object in ``stpubdata``.

astroquery's ``Observations.get_cloud_uris`` does this, but only after
``Observations.enable_cloud_dataset()``, which changes the shared
``Observations`` object for the rest of the session (every later
``download_products()`` then goes to S3) and builds a boto3 client from the
default session (which reads ``AWS_PROFILE`` and ``~/.aws``, and raises for a
profile that does not exist).  This module asks MAST's ``path_lookup``
service itself, through :func:`helpers.http.fetch`, and checks the object with
an unsigned ``head_object``: no astroquery state, no AWS credentials.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from . import http
from .cloud import MAST_BUCKET, MAST_REGION, CloudLocation, normalise_key
from .deadline import Deadline, run_with_deadline
from .errors import ArchiveError, CloudInputError, bounded
from .records import text_of

__all__ = ["PATH_LOOKUP_URL", "data_uri_of", "mast_key", "mast_location"]

PATH_LOOKUP_URL = "https://mast.stsci.edu/api/v0.1/path_lookup/"


def mast_key(path: str) -> str:
    """The ``stpubdata`` key of a path that MAST's ``path_lookup`` returned.

    MAST answers in two shapes.  With ``use_cloud_path=True`` (astroquery
    0.4.12 sends it) the path is the bucket key with a leading ``/``.  Older
    answers give the archive's relative path, which astroquery 0.4.11 maps:
    ``/ps1/...`` → ``panstarrs/ps1/public/...``, ``/hlsp_local/public/...`` →
    ``mast/...``, GALEX's ``/mast/...`` → without it.  The mappings apply only
    to a path that starts with the old prefix, so a cloud path is never mapped twice.

    Examples
    --------
    >>> mast_key("/hst/public/u9o4/u9o40504m/u9o40504m_c3m.fits")
    'hst/public/u9o4/u9o40504m/u9o40504m_c3m.fits'
    >>> mast_key("/ps1/rings.v3.skycell/1784/059/rings.v3.skycell.1784.059.stk.g.unconv.fits")
    'panstarrs/ps1/public/rings.v3.skycell/1784/059/rings.v3.skycell.1784.059.stk.g.unconv.fits'
    """
    if path.startswith("/ps1/"):
        path = "panstarrs/ps1/public/" + path[len("/ps1/"):]
    elif path.startswith("/hlsp_local/public/"):
        path = "mast/" + path[len("/hlsp_local/public/"):]
    elif path.startswith("/mast/") and "galex" in path:
        path = path[len("/mast/"):]
    return normalise_key(path)


def _lookup(data_uri: str, deadline: Deadline) -> str | None:
    """MAST's path for ``data_uri``, or None when MAST says it has none."""
    # A GET with the URI in the query, as astroquery sends it (and as MAST's path_lookup answers).
    url = f"{PATH_LOOKUP_URL}?{urlencode({'uri': data_uri, 'use_cloud_path': 'True'})}"
    fail = f"MAST path_lookup for {bounded(data_uri, 200)} ({PATH_LOOKUP_URL}) failed"
    try:
        answer = http.fetch(url, deadline=deadline)
    except ArchiveError as exc:  # keeps DeadlineError a DeadlineError
        raise type(exc)(f"{fail}: {exc}", url=exc.url or url) from exc
    try:
        found = json.loads(answer.body)
    except (ValueError, RecursionError):
        raise ArchiveError(f"{fail}: the answer is not JSON: {bounded(answer.body[:300])}", url=url) from None
    entry = found.get(data_uri) if isinstance(found, dict) else None
    if not isinstance(entry, dict):
        raise ArchiveError(f"{fail}: the answer has no entry for it: {bounded(found, 300)}", url=url)
    path = entry.get("path")
    if path is None:
        return None
    if not isinstance(path, str) or not path.strip("/ "):
        raise ArchiveError(f"{fail}: the answer's path is not a path: {bounded(entry, 300)}", url=url)
    return path


def _exists(location: CloudLocation, deadline: Deadline) -> bool:
    """An unsigned ``head_object``: True if the object is there, False on 404."""
    from botocore.exceptions import BotoCoreError, ClientError

    from .s3 import s3_client  # imported here: helpers.s3 is only needed once MAST answered

    def head() -> bool:
        try:
            s3_client(location.region).head_object(Bucket=location.bucket, Key=location.key)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchKey", "NotFound"):
                return False
            raise ArchiveError(f"S3 refused head_object of {location.uri}: {code} {bounded(str(exc))}",
                               url=location.uri) from exc
        except BotoCoreError as exc:
            raise ArchiveError(f"could not reach S3 for {location.uri}: {bounded(str(exc))}",
                               url=location.uri) from exc
        return True

    return run_with_deadline(head, deadline)


def mast_location(data_uri: str, *, check: bool = True, timeout: float | None = None) -> CloudLocation | None:
    """The ``stpubdata`` location of a MAST product, or None when it is not in the cloud.

    Parameters
    ----------
    data_uri : str
        A products row's ``dataURI``, e.g. ``"mast:HST/product/u9o40504m_c3m.fits"``.
    check : bool
        Check with an unsigned ``head_object`` that the object exists (default
        True): MAST knows a path for products that are not in the bucket, and
        astroquery's ``get_cloud_uris`` checks the same way.
    timeout : float, optional
        Seconds for the whole call (default :data:`helpers.deadline.DEFAULT_TIMEOUT`).

    Returns
    -------
    CloudLocation or None
        None when MAST has no path for the product, or the bucket has no such object.

    Raises
    ------
    CloudInputError
        When ``data_uri`` is not a ``mast:`` URI.
    ArchiveError
        When MAST's ``path_lookup`` fails or answers something else than its
        JSON, or S3 refuses the check (other than 404).
    DeadlineError
        When ``timeout`` passes first.

    Examples
    --------
    >>> mast_location("mast:HST/product/u9o40504m_c3m.fits").uri  # doctest: +SKIP
    's3://stpubdata/hst/public/u9o4/u9o40504m/u9o40504m_c3m.fits'
    """
    if not isinstance(data_uri, str) or not data_uri.strip().lower().startswith("mast:"):
        raise CloudInputError(f"a MAST dataURI starts with 'mast:', got {bounded(data_uri, 120)}")
    data_uri = data_uri.strip()
    deadline = Deadline(timeout, f"locating {bounded(data_uri, 120)} at MAST")
    path = _lookup(data_uri, deadline)
    if path is None:
        return None
    try:
        location = CloudLocation(MAST_BUCKET, mast_key(path), MAST_REGION)
    except CloudInputError as exc:
        raise ArchiveError(f"MAST's path for {bounded(data_uri, 120)} is not an S3 key: {exc}") from exc
    if check and not _exists(location, deadline):
        return None
    return location


def data_uri_of(record: Any) -> str | None:
    """The ``mast:`` dataURI of a MAST products row, or None for any other row.

    Examples
    --------
    >>> data_uri_of({"dataURI": "mast:HST/product/u9o40504m_c3m.fits"}), data_uri_of({"obsid": "1"})
    ('mast:HST/product/u9o40504m_c3m.fits', None)
    """
    value = text_of(record, "dataURI")
    return value if value and value.lower().startswith("mast:") else None
