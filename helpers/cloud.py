"""Where an archive's data live in the cloud: pure functions, no I/O.

Every NASA archive publishes the S3 location of a file differently:

* IRSA puts a ``cloud_access`` JSON column on each SIA row (:func:`parse_cloud_access`);
* HEASARC puts ``cloud_access`` in the DataLink result of each row, and its
  bucket ``nasa-heasarc`` mirrors the ``https://heasarc.gsfc.nasa.gov/FTP/`` tree
  (:func:`https_to_s3`);
* MAST maps a product's ``dataURI`` to a key in ``stpubdata`` (:mod:`helpers.mast`).

This module only reads values: :class:`CloudLocation` and the parsers here make
no request.  :func:`helpers.cloud_uri` (in :mod:`helpers.locate`) puts the
places together.  Every bucket name is checked against AWS's naming rules, so
a malformed value is refused here and never sent to a server.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from .errors import CloudInputError, bounded
from .records import is_empty

__all__ = [
    "ACCESS_VALUES",
    "BUCKET_REGIONS",
    "MAST_BUCKET",
    "MAST_REGION",
    "CloudLocation",
    "check_bucket",
    "https_to_s3",
    "is_file_url",
    "is_http_url",
    "mirror_location",
    "normalise_key",
    "parse_cloud_access",
    "s3_to_location",
]

ACCESS_VALUES = ("open", "region", "restricted", "none")
MAST_BUCKET = "stpubdata"
MAST_REGION = "us-east-1"
MAX_KEY_BYTES = 1024  # S3's limit on the UTF-8 length of a key

# Buckets whose region is documented by the archive; the rest are us-east-1.
BUCKET_REGIONS = {
    "nasa-irsa-wise": "us-west-2",
    "nasa-irsa-spitzer": "us-west-2",
    "nasa-heasarc": "us-east-1",
    "stpubdata": "us-east-1",
    "nasa-irsa-euclid-q1": "us-east-1",
}

# Archive trees mirrored key for key in a bucket, as the archives document them:
# (host, path prefix, bucket, key prefix).
_MIRRORS = (
    ("heasarc.gsfc.nasa.gov", "/FTP/", "nasa-heasarc", ""),
    (
        "irsa.ipac.caltech.edu",
        "/ibe/data/wise/allwise/p3am_cdd/",
        "nasa-irsa-wise",
        "wise/allwise/images/p3am_cdd/",
    ),
)

# AWS's rules for general purpose bucket names (docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
_BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]")
_IP_RE = re.compile(r"\d{1,3}(\.\d{1,3}){3}")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
# us-east-1, us-gov-west-1, ap-southeast-3, eu-central-2, ...
_REGION_RE = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")


def _bucket_problem(name: Any) -> str | None:
    """Why ``name`` is not a valid S3 bucket name, or None when it is."""
    if not isinstance(name, str):
        return f"is a {type(name).__name__}, not text"
    if not _BUCKET_RE.fullmatch(name):
        return "must be 3-63 lowercase letters, digits, dots or hyphens, starting and ending with a letter or digit"
    if ".." in name:
        return "must not contain two adjacent dots"
    if _IP_RE.fullmatch(name):
        return "must not be formatted as an IP address"
    if name.startswith(_RESERVED_PREFIXES):
        return f"must not start with {' or '.join(_RESERVED_PREFIXES)} (reserved by AWS)"
    if name.endswith(_RESERVED_SUFFIXES):
        return f"must not end with {' or '.join(_RESERVED_SUFFIXES)} (reserved by AWS)"
    return None


def check_bucket(name: Any) -> str:
    """Return ``name`` if it follows AWS's bucket naming rules, else raise :class:`~helpers.errors.CloudInputError`.

    Examples
    --------
    >>> check_bucket("nasa-heasarc")
    'nasa-heasarc'
    >>> check_bucket("192.168.5.4")
    Traceback (most recent call last):
    ...
    helpers.errors.CloudInputError: invalid S3 bucket name '192.168.5.4': must not be formatted as an IP address
    """
    problem = _bucket_problem(name)
    if problem:
        raise CloudInputError(f"invalid S3 bucket name {bounded(name, 80)}: {problem}")
    return name


def _check_key(key: Any) -> str:
    if not isinstance(key, str):
        raise CloudInputError(f"an S3 key must be text, got {type(key).__name__} {bounded(key, 80)}")
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:  # a lone surrogate such as "\ud800", which JSON's \u escapes allow
        raise CloudInputError(f"an S3 key must be valid Unicode (UTF-8 encodable): {bounded(key)}") from None
    if size > MAX_KEY_BYTES:
        raise CloudInputError(f"an S3 key is at most {MAX_KEY_BYTES} bytes, this one is {size}: {bounded(key)}")
    return key


def _check_region(region: Any) -> str:
    if not isinstance(region, str) or not _REGION_RE.fullmatch(region):
        raise CloudInputError(f"invalid AWS region {bounded(region, 80)} (expected a name such as 'us-east-1')")
    return region


@dataclass(frozen=True)
class CloudLocation:
    """One object in a cloud bucket.

    Construction checks the bucket name against AWS's rules, the key (non-empty,
    UTF-8, at most 1024 bytes), the region, the access value and the
    ``https_url`` (None or an http(s) URL), raising
    :class:`~helpers.errors.CloudInputError`: an invalid location never reaches a server.

    Attributes
    ----------
    bucket : str
        Bucket name, e.g. ``"nasa-heasarc"``.
    key : str
        Object key, normalised (no leading ``/``, no ``//`` runs) by the parsers here.
    region : str or None
        AWS region of the bucket, when the archive says it.
    access : str
        ``"open"`` (anyone), ``"region"`` (only from inside the region),
        ``"restricted"`` (credentials needed) or ``"none"``.
    https_url : str or None
        The archive's HTTPS address of the same file, where known: readers fall
        back to it when S3 refuses (403, 404).  An ``http://`` or ``https://``
        URL with a host, or None.  Not part of equality.

    Examples
    --------
    >>> CloudLocation("nasa-heasarc", "chandra/data/x.fits", "us-east-1").uri
    's3://nasa-heasarc/chandra/data/x.fits'
    """

    bucket: str
    key: str
    region: str | None = None
    access: str = "open"
    https_url: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        check_bucket(self.bucket)
        if not _check_key(self.key):
            raise CloudInputError(f"an S3 key must not be empty (bucket {self.bucket})")
        if self.region is not None:
            _check_region(self.region)
        if self.access not in ACCESS_VALUES:
            raise CloudInputError(f"access must be one of {', '.join(ACCESS_VALUES)}, got {bounded(self.access, 80)}")
        if self.https_url is not None and not is_http_url(self.https_url):
            # Readers fall back to it when S3 refuses: a bad value would fail only then, far from its cause.
            raise CloudInputError(f"https_url must be an http(s):// URL or None, got "
                                  f"{type(self.https_url).__name__} {bounded(self.https_url, 120)}")

    @property
    def uri(self) -> str:
        """The ``s3://bucket/key`` URI that s3fs, fsspec and astropy accept."""
        return f"s3://{self.bucket}/{self.key}"

    def __str__(self) -> str:
        return self.uri


def is_http_url(url: Any) -> bool:
    """Whether ``url`` is text naming an ``http://`` or ``https://`` address with a host.

    Examples
    --------
    >>> is_http_url("https://heasarc.gsfc.nasa.gov/FTP/"), is_http_url("ftp://x/y"), is_http_url("http://h:port/")
    (True, False, False)
    """
    if not isinstance(url, str):
        return False
    try:
        parts = urlsplit(url.strip())
        host, _ = parts.hostname, parts.port  # .port raises for a port that is not a number
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(host)


def normalise_key(key: str) -> str:
    """Return an S3 key without a leading ``/`` and without ``//`` runs.

    Early HEASARC deployments wrote keys such as ``/FTP/chandra//data``;
    S3 keys never start with ``/`` and the buckets hold single slashes.

    Raises
    ------
    CloudInputError
        When ``key`` is not text or cannot be encoded as UTF-8 (a lone surrogate).

    Examples
    --------
    >>> normalise_key("/chandra/data/byobsid/8//15158/primary/x.fits")
    'chandra/data/byobsid/8/15158/primary/x.fits'
    """
    _check_key(key)
    return re.sub(r"/{2,}", "/", key.strip()).lstrip("/")


def _provider(provider: Any) -> str:
    if not isinstance(provider, str) or not provider.strip():
        raise CloudInputError(f"provider must be a cloud provider's name such as 'aws', got {bounded(provider, 80)}")
    return provider.strip().casefold()


def _entry_location(entry: Any, raw: Any) -> CloudLocation | None:
    if not isinstance(entry, dict):
        raise CloudInputError(f"cloud_access entry is not a JSON object: {bounded(raw)}")
    bucket = entry.get("bucket_name", entry.get("bucket"))
    key = entry.get("key", entry.get("path"))
    if not isinstance(bucket, str) or not isinstance(key, str):
        raise CloudInputError(f"cloud_access entry needs a bucket_name and a key: {bounded(raw)}")
    problem = _bucket_problem(bucket.strip())
    if problem:
        raise CloudInputError(f"cloud_access has an invalid bucket name {bounded(bucket, 80)} ({problem}): "
                              f"{bounded(raw)}")
    bucket = bucket.strip()
    key = normalise_key(key)
    if not key:
        raise CloudInputError(f"cloud_access has an empty key: {bounded(raw)}")
    # HEASARC's production JSON spells "access" as "policy".
    access = entry.get("access", entry.get("policy", "open"))
    access = str(access).strip().lower() if access is not None else "open"
    if access not in ACCESS_VALUES:
        raise CloudInputError(
            f"cloud_access has an unknown access value {bounded(access, 80)} "
            f"(expected one of {', '.join(ACCESS_VALUES)}): {bounded(raw)}"
        )
    if access == "none":
        return None
    region = entry.get("region")
    region = region.strip().lower() if isinstance(region, str) and region.strip() else None
    if region is not None and not _REGION_RE.fullmatch(region):
        raise CloudInputError(f"cloud_access has an invalid region {bounded(region, 80)}: {bounded(raw)}")
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
    CloudInputError
        When the value is malformed (not JSON, nested too deeply, an invalid
        bucket name, a key that is not valid Unicode...) or ``provider`` is not
        text; the message quotes the value, cut to a bounded length.

    Examples
    --------
    >>> loc = parse_cloud_access('{"aws": {"bucket_name": "nasa-irsa-wise",'
    ...     ' "key":"wise/allwise/images/x.fits", "region": "us-west-2"}}')
    >>> loc.uri, loc.region
    ('s3://nasa-irsa-wise/wise/allwise/images/x.fits', 'us-west-2')
    """
    wanted = _provider(provider)
    if is_empty(value):
        return None
    raw = value
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError as exc:  # replacing bytes would silently change the key
            raise CloudInputError(f"cloud_access is not UTF-8 text ({exc.reason}): {bounded(raw)}") from None
    if isinstance(value, str):
        try:
            value = json.loads(value.strip())
        except json.JSONDecodeError as exc:
            raise CloudInputError(f"cloud_access is not valid JSON ({exc.msg}): {bounded(raw)}") from None
        except (RecursionError, ValueError) as exc:  # deeply nested arrays; integers past Python's digit limit
            raise CloudInputError(f"cloud_access is not a usable JSON value ({bounded(str(exc), 80)}): "
                                  f"{bounded(raw)}") from None
    if not isinstance(value, dict):
        raise CloudInputError(f"cloud_access must be a JSON object keyed by provider: {bounded(raw)}")
    entries = {str(k).strip().casefold(): v for k, v in value.items()}
    entry = entries.get(wanted)
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

    Raises
    ------
    CloudInputError
        When ``uri`` is not an ``s3://`` URI with a valid bucket name and a key.

    Examples
    --------
    >>> s3_to_location("s3://stpubdata/hst/public/u9o4/u9o40504m/u9o40504m_c3m.fits").region
    'us-east-1'
    """
    if not isinstance(uri, str) or not uri.startswith("s3://"):
        raise CloudInputError(f"not an s3:// URI: {bounded(uri)}")
    bucket, _, key = uri[len("s3://"):].partition("/")
    problem = _bucket_problem(bucket)
    if problem:
        raise CloudInputError(f"an s3:// URI needs a valid bucket name ({problem}): {bounded(uri)}")
    key = normalise_key(key)
    if not key:
        raise CloudInputError(f"an s3:// URI needs a key after the bucket: {bounded(uri)}")
    return CloudLocation(bucket, key, region or BUCKET_REGIONS.get(bucket))


def _tree_path(raw: str) -> str | None:
    """The path of a URL as the file tree names it: percent-decoded, ``.``/``..`` resolved.

    None when the path cannot name a file of the tree: it climbs above the
    root, decodes to invalid UTF-8, hides a ``/`` or NUL in an escape, or
    holds a backslash (``..\\docs``, ``%5c``: a web server may read it as a
    separator, while S3 would take it as part of a literal key).
    A trailing ``/`` (a directory) is kept.
    """
    stack: list[str] = []
    segments = raw.split("/")
    for segment in segments:
        try:
            name = unquote(segment, errors="strict")
        except UnicodeDecodeError:
            return None
        if "/" in name or "\x00" in name or "\\" in name:  # %2F, %00, \ or %5C: no file in the tree is named so
            return None
        if name in ("", "."):
            continue
        if name == "..":
            if not stack:
                return None
            stack.pop()
            continue
        stack.append(name)
    last = unquote(segments[-1], errors="replace")
    directory = last in ("", ".", "..")
    return "/" + "/".join(stack) + ("/" if directory and stack else "")


def mirror_location(url: Any) -> CloudLocation | None:
    """The :class:`CloudLocation` of an archive HTTPS URL in a documented mirror bucket, or None.

    As :func:`https_to_s3`, returning the location (with its region) instead of the URI.

    Examples
    --------
    >>> mirror_location("https://heasarc.gsfc.nasa.gov/FTP/rosat/data/a%20b.fits").key
    'rosat/data/a b.fits'
    """
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url.strip())
        host, _ = parts.hostname, parts.port  # .port raises for a port that is not a number
    except ValueError:  # "https://[bad/..." and other unparseable hosts or ports
        return None
    if parts.scheme.lower() not in ("http", "https") or parts.query:
        return None
    path = _tree_path(parts.path)
    if path is None:
        return None
    if path.endswith("/"):  # a directory: its key ("rosat/") names no object in the bucket
        return None
    for mirror_host, prefix, bucket, key_prefix in _MIRRORS:
        if host == mirror_host and path.startswith(prefix) and len(path) > len(prefix):
            try:
                return CloudLocation(bucket, key_prefix + path[len(prefix):], BUCKET_REGIONS[bucket])
            except CloudInputError:  # e.g. a key past S3's 1024 bytes: no such object in the bucket
                return None
    return None


def https_to_s3(url: str) -> str | None:
    """Map an archive HTTPS URL to the S3 URI of the same file.

    Only mappings the archives document are made: HEASARC's bucket mirrors
    ``https://heasarc.gsfc.nasa.gov/FTP/``, and IRSA documents the AllWISE Atlas
    image tree under ``nasa-irsa-wise``.  The path is percent-decoded (the key
    is the file's own name: ``%20`` is a space, ``%2B`` a ``+``) and its ``.``
    and ``..`` segments resolved (``%2e%2e`` too).  Anything else returns None:
    other hosts, queries, paths that leave the mirrored tree, directories (a
    path ending in ``/``), paths with a backslash (``\\`` or ``%5C``),
    unparseable URLs.

    Examples
    --------
    >>> https_to_s3("https://heasarc.gsfc.nasa.gov/FTP/rosat/data/pspc/processed_data/"
    ...             "900000/rs931315n00/rs931315n00_bas.fits.Z")
    's3://nasa-heasarc/rosat/data/pspc/processed_data/900000/rs931315n00/rs931315n00_bas.fits.Z'
    >>> https_to_s3("https://heasarc.gsfc.nasa.gov/FTP/../docs/archive.html") is None
    True
    """
    location = mirror_location(url)
    return location.uri if location else None


def is_file_url(url: Any) -> bool:
    """Whether ``url`` is an HTTP(S) address of a file itself: no query, not a directory.

    Examples
    --------
    >>> is_file_url("https://heasarc.gsfc.nasa.gov/FTP/x.fits"), is_file_url("https://x/datalink?ID=1")
    (True, False)
    """
    if not isinstance(url, str):
        return False
    try:
        parts = urlsplit(url.strip())
        host, _ = parts.hostname, parts.port
    except ValueError:
        return False
    return (parts.scheme.lower() in ("http", "https") and bool(host) and not parts.query
            and parts.path.strip("/") != "" and not parts.path.endswith("/"))
