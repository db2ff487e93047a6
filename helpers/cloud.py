"""Where an archive's data live in the cloud.

Every NASA archive publishes the S3 location of a file differently:

* IRSA puts a ``cloud_access`` JSON column on each SIA row;
* HEASARC puts ``cloud_access`` in the DataLink result of each row, and its
  bucket ``nasa-heasarc`` mirrors the ``https://heasarc.gsfc.nasa.gov/FTP/`` tree;
* MAST maps a product's ``dataURI`` to a key in ``stpubdata`` through
  ``astroquery.mast.Observations.get_cloud_uris``.

:func:`cloud_uri` hides those differences: one call from any archive result
row to a :class:`CloudLocation`.  Nothing here touches the network at import.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from .errors import CloudAccessError

__all__ = [
    "CloudLocation",
    "parse_cloud_access",
    "https_to_s3",
    "s3_to_location",
    "cloud_uri",
    "normalise_key",
]

ACCESS_VALUES = ("open", "region", "restricted", "none")
MAST_BUCKET = "stpubdata"
MAST_REGION = "us-east-1"

# Buckets whose region is documented by the archive; the rest are us-east-1.
BUCKET_REGIONS = {
    "nasa-irsa-wise": "us-west-2",
    "nasa-irsa-spitzer": "us-west-2",
    "nasa-heasarc": "us-east-1",
    "stpubdata": "us-east-1",
    "nasa-irsa-euclid-q1": "us-east-1",
}

# Archive trees mirrored key for key in a bucket, as the archives document them:
# (scheme-less host, path prefix, bucket, key prefix).
_MIRRORS = (
    ("heasarc.gsfc.nasa.gov", "/FTP/", "nasa-heasarc", ""),
    (
        "irsa.ipac.caltech.edu",
        "/ibe/data/wise/allwise/p3am_cdd/",
        "nasa-irsa-wise",
        "wise/allwise/images/p3am_cdd/",
    ),
)

_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")


@dataclass(frozen=True)
class CloudLocation:
    """One object in a cloud bucket.

    Attributes
    ----------
    bucket : str
        Bucket name, e.g. ``"nasa-heasarc"``.
    key : str
        Object key, normalised (no leading ``/``, no ``//`` runs).
    region : str or None
        AWS region of the bucket, when the archive says it.
    access : str
        ``"open"`` (anyone), ``"region"`` (only from inside the region),
        ``"restricted"`` (credentials needed) or ``"none"``.
    https_url : str or None
        The archive's HTTPS address of the same file, where known: readers fall
        back to it when S3 refuses (403, 404).  Not part of equality.
    """

    bucket: str
    key: str
    region: str | None = None
    access: str = "open"
    https_url: str | None = field(default=None, compare=False)

    @property
    def uri(self) -> str:
        """The ``s3://bucket/key`` URI that s3fs, fsspec and astropy accept."""
        return f"s3://{self.bucket}/{self.key}"

    def __str__(self) -> str:
        return self.uri


def normalise_key(key: str) -> str:
    """Return an S3 key without a leading ``/`` and without ``//`` runs.

    Early HEASARC deployments wrote keys such as ``/FTP/chandra//data``;
    S3 keys never start with ``/`` and the buckets hold single slashes.

    Examples
    --------
    >>> normalise_key("/chandra/data/byobsid/8//15158/primary/x.fits")
    'chandra/data/byobsid/8/15158/primary/x.fits'
    """
    if not isinstance(key, str):
        raise CloudAccessError(f"an S3 key must be a string, got {key!r}")
    return re.sub(r"/{2,}", "/", key.strip()).lstrip("/")


def _is_empty(value: Any) -> bool:
    if value is None or value is np.ma.masked:
        return True
    if isinstance(value, np.ma.MaskedArray) and value.ndim == 0:
        return bool(value.mask)
    if isinstance(value, (bytes, str)):
        return not value.strip()
    return False


def _entry_location(entry: Any, raw: Any) -> CloudLocation | None:
    if not isinstance(entry, dict):
        raise CloudAccessError(f"cloud_access entry is not a JSON object: {raw!r}")
    bucket = entry.get("bucket_name", entry.get("bucket"))
    key = entry.get("key", entry.get("path"))
    if not isinstance(bucket, str) or not isinstance(key, str):
        raise CloudAccessError(f"cloud_access entry needs a bucket_name and a key: {raw!r}")
    bucket = bucket.strip()
    if not _BUCKET_RE.match(bucket):
        raise CloudAccessError(f"cloud_access has an invalid bucket name {bucket!r}: {raw!r}")
    key = normalise_key(key)
    if not key:
        raise CloudAccessError(f"cloud_access has an empty key: {raw!r}")
    # HEASARC's production JSON spells "access" as "policy".
    access = entry.get("access", entry.get("policy", "open"))
    access = str(access).strip().lower() if access is not None else "open"
    if access not in ACCESS_VALUES:
        raise CloudAccessError(
            f"cloud_access has an unknown access value {access!r} "
            f"(expected one of {', '.join(ACCESS_VALUES)}): {raw!r}"
        )
    if access == "none":
        return None
    region = entry.get("region")
    region = region.strip() if isinstance(region, str) and region.strip() else None
    return CloudLocation(bucket, key, region or BUCKET_REGIONS.get(bucket), access)


def parse_cloud_access(value: Any, provider: str = "aws") -> CloudLocation | None:
    """Parse a ``cloud_access`` value into a :class:`CloudLocation`.

    Parameters
    ----------
    value : str, bytes, dict or None
        The JSON text (or the parsed dict) an archive puts in a ``cloud_access``
        column, e.g. ``{"aws": {"bucket_name": ..., "key": ..., "region": ...}}``.
        ``{"aws": [{...}, ...]}`` lists are accepted (the first usable entry wins),
        as is the older ``bucket``/``path`` spelling.
    provider : str
        The cloud provider to look up, case-insensitive (default ``"aws"``).

    Returns
    -------
    CloudLocation or None
        None when the value says "not in the cloud": empty, masked, None,
        no entry for ``provider``, or only entries with ``access`` ``none``.

    Raises
    ------
    CloudAccessError
        When the value is malformed; the message quotes it.

    Examples
    --------
    >>> loc = parse_cloud_access('{"aws": {"bucket_name": "nasa-irsa-wise",'
    ...     ' "key":"wise/allwise/images/x.fits", "region": "us-west-2"}}')
    >>> loc.uri, loc.region
    ('s3://nasa-irsa-wise/wise/allwise/images/x.fits', 'us-west-2')
    """
    if _is_empty(value):
        return None
    raw = value
    if isinstance(value, (bytes, np.bytes_)):
        value = bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, (str, np.str_)):
        try:
            value = json.loads(str(value).strip())
        except json.JSONDecodeError as exc:
            raise CloudAccessError(f"cloud_access is not valid JSON ({exc.msg}): {raw!r}") from None
    if not isinstance(value, dict):
        raise CloudAccessError(f"cloud_access must be a JSON object keyed by provider: {raw!r}")
    entries = {str(k).strip().lower(): v for k, v in value.items()}
    entry = entries.get(provider.strip().lower())
    if entry is None:
        return None
    if isinstance(entry, list):
        for item in entry:
            location = _entry_location(item, raw)
            if location is not None:
                return location
        return None
    return _entry_location(entry, raw)


def s3_to_location(uri: str, region: str | None = None) -> CloudLocation:
    """Split an ``s3://bucket/key`` URI into a :class:`CloudLocation`.

    Examples
    --------
    >>> s3_to_location("s3://stpubdata/hst/public/u9o4/u9o40504m/u9o40504m_c3m.fits").region
    'us-east-1'
    """
    if not isinstance(uri, str) or not uri.startswith("s3://"):
        raise CloudAccessError(f"not an s3:// URI: {uri!r}")
    bucket, _, key = uri[len("s3://"):].partition("/")
    if not _BUCKET_RE.match(bucket) or not normalise_key(key):
        raise CloudAccessError(f"an s3:// URI needs a valid bucket and a key: {uri!r}")
    return CloudLocation(bucket, normalise_key(key), region or BUCKET_REGIONS.get(bucket))


def https_to_s3(url: str) -> str | None:
    """Map an archive HTTPS URL to the S3 URI of the same file.

    Only mappings the archives document are made: HEASARC's bucket mirrors
    ``https://heasarc.gsfc.nasa.gov/FTP/``, and IRSA documents the AllWISE Atlas
    image tree under ``nasa-irsa-wise``.  Anything else returns None.

    Examples
    --------
    >>> https_to_s3("https://heasarc.gsfc.nasa.gov/FTP/rosat/data/pspc/processed_data/"
    ...             "900000/rs931315n00/rs931315n00_bas.fits.Z")
    's3://nasa-heasarc/rosat/data/pspc/processed_data/900000/rs931315n00/rs931315n00_bas.fits.Z'
    """
    location = _mirror_location(url)
    return location.uri if location else None


def _mirror_location(url: Any) -> CloudLocation | None:
    if not isinstance(url, str):
        return None
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or parts.query:
        return None
    path = re.sub(r"/{2,}", "/", parts.path)
    for host, prefix, bucket, key_prefix in _MIRRORS:
        if parts.hostname == host and path.startswith(prefix) and len(path) > len(prefix):
            return CloudLocation(bucket, key_prefix + path[len(prefix):], BUCKET_REGIONS[bucket])
    return None


# --- reading columns from pyvo records and astropy rows alike -----------------

def _column(record: Any, name: str) -> Any:
    """Return ``record[name]``, or None where the record has no such column."""
    names = getattr(record, "colnames", None)
    if names is None:
        try:
            names = list(record.keys())
        except AttributeError:
            return None
    if name not in names:
        return None
    value = record[name]
    return None if _is_empty(value) else value


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (bytes, np.bytes_)):
        value = bytes(value).decode("utf-8", errors="replace")
    return str(value).strip() or None


def access_url_of(record: Any) -> str | None:
    """The access URL of a discovery record (SIA 1/2, ObsCore, TAP row or astropy row)."""
    for name in ("access_url", "sia_url", "accref", "SIA_reference", "SSA_reference", "dataURL"):
        value = _as_text(_column(record, name))
        if value:
            return value
    getdataurl = getattr(record, "getdataurl", None)
    if getdataurl is not None:
        try:
            return _as_text(getdataurl())
        except Exception:  # pyvo raises assorted errors when no URL column exists
            return None
    return None


def cloud_uri(
    record: Any,
    provider: str = "aws",
    semantics: str = "#this",
    *,
    session: Any = None,
) -> CloudLocation | None:
    """Return the cloud copy of the product an archive result row describes.

    The places tried, in order:

    1. the row's own ``cloud_access`` column (IRSA today);
    2. a MAST products row (``dataURI`` column): astroquery's
       ``Observations.get_cloud_uris``, which checks that the object exists;
    3. the row's DataLink (HEASARC today): rows with ``semantics``; where several
       match, the one whose ``access_url`` equals the row's own access URL;
    4. :func:`https_to_s3` of the row's access URL.

    Parameters
    ----------
    record : pyvo record or astropy Row
        A row of an SIA (v1 or v2), ObsCore, TAP or MAST products result.
    provider : str
        Cloud provider key in ``cloud_access`` (default ``"aws"``).
    semantics : str
        DataLink semantics of the wanted link (default ``"#this"``).
    session : requests.Session, optional
        Session for the DataLink request.

    Returns
    -------
    CloudLocation or None
        None when the archive says the product is not in the cloud.

    Raises
    ------
    CloudAccessError
        For malformed cloud information, a DataLink ``error_message``, an
        ambiguous DataLink result, or a service that could not be reached.

    Examples
    --------
    >>> from astropy.table import Table
    >>> row = Table({"cloud_access": ['{"aws": {"bucket_name": "nasa-irsa-wise", '
    ...     '"key": "wise/x.fits", "region": "us-west-2"}}']})[0]
    >>> cloud_uri(row).uri
    's3://nasa-irsa-wise/wise/x.fits'
    """
    url = access_url_of(record)
    location = _resolve(record, url, provider, semantics, session)
    if location is not None and location.https_url is None and url and _is_file_url(url):
        location = replace(location, https_url=url)
    return location


def _is_file_url(url: str) -> bool:
    """An HTTPS address that serves the file itself, not a service answer."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and not parts.query and not parts.path.endswith("/")


def _resolve(record: Any, url: str | None, provider: str, semantics: str, session: Any) -> CloudLocation | None:
    location = parse_cloud_access(_column(record, "cloud_access"), provider)
    if location is not None:
        return location

    data_uri = _as_text(_column(record, "dataURI"))
    if data_uri and data_uri.lower().startswith("mast:"):
        return _mast_location(data_uri)

    from .datalink import datalink_location, datalink_of

    links = datalink_of(record, session=session)
    if links is not None:
        location = datalink_location(links, access_url=url, provider=provider, semantics=semantics)
        if location is not None:
            return location

    return _mirror_location(url)


def _mast_location(data_uri: str) -> CloudLocation | None:
    # astroquery is imported here, not at module level, so importing helpers
    # stays cheap and never configures astroquery behind the reader's back.
    from astroquery.mast import Observations

    try:
        if getattr(Observations, "_cloud_connection", None) is None:
            Observations.enable_cloud_dataset(provider="AWS", verbose=False)
        uri_map = Observations.get_cloud_uris([data_uri], return_uri_map=True, verbose=False)
    except Exception as exc:
        raise CloudAccessError(f"MAST could not resolve {data_uri!r} to a cloud URI: {exc}") from exc
    uri = (uri_map or {}).get(data_uri)
    return s3_to_location(uri, MAST_REGION) if uri else None
