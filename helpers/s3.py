"""Anonymous, unsigned S3 clients shared by every reader in ``helpers``: one try per request, reused.

All NASA archive buckets are public, so requests are never signed and the
user's AWS credentials or profile are never looked up: botocore skips the
credential chain when ``signature_version`` is ``UNSIGNED``, and the sessions
here ignore ``AWS_PROFILE`` and the ``~/.aws`` files.  Endpoints follow
``AWS_ENDPOINT_URL_S3`` (or ``AWS_ENDPOINT_URL``) when set, as botocore, s3fs
and astropy do.

Neither botocore nor s3fs retries anything here (botocore's
``total_max_attempts`` is 1, and :func:`s3_filesystem` makes s3fs try each call
once): :func:`helpers.deadline.with_retries` (see :mod:`helpers.failures`) is the one
retry loop, so a failing request is sent at most
:data:`helpers.deadline.MAX_ATTEMPTS` times.  Left to themselves, botocore
(4 attempts) under s3fs (5 x 5 for SlowDown) sent 100 GETs for one range.

Clients are built once per process, region, endpoint and timeout setting
(building one costs about 0.15 s).
"""

from __future__ import annotations

import functools
import os
import threading
from typing import Any

from .cloud import CloudLocation, s3_to_location

__all__ = [
    "s3_storage_options",
    "s3_client",
    "s3_filesystem",
    "as_location",
    "endpoint_url",
    "CONNECT_TIMEOUT",
    "READ_TIMEOUT",
]

CONNECT_TIMEOUT = 10  # seconds
READ_TIMEOUT = 60  # seconds between bytes, not for the whole transfer (see helpers.deadline)
MAX_CONNECTIONS = 64  # concurrent ranged GETs of a cutout (botocore's default pool is 10)
DEFAULT_REGION = "us-east-1"

# Read-ahead blocks.  s3fs's default 50 MiB block moved 52.4 MB for a 236x236 px
# cutout of a 67 MB image.  Headers need a few 2880-byte records: 64 KiB blocks
# read them in one small request.  Reads through ``hdu.section`` (tile-compressed
# images) go row by row, and 1 MiB blocks keep those to a few requests.
HEADER_BLOCK_SIZE = 64 << 10
SECTION_BLOCK_SIZE = 1 << 20


# Session variables that would make botocore read the user's profile or AWS files.
_NO_USER_CONFIG = {
    "profile": (None, None, None, None),
    "config_file": (None, None, os.devnull, None),
    "credentials_file": (None, None, os.devnull, None),
}

_lock = threading.Lock()
_clients: dict[tuple, Any] = {}
_aio_sessions: dict[int, Any] = {}


def _aio_session() -> Any:
    """One aiobotocore session per process for s3fs, ignoring ``AWS_PROFILE`` and ``~/.aws``.

    Shared, so that botocore loads its service models once per process (a new
    session costs 0.2-0.3 s) and s3fs can reuse its filesystem and connections.
    It holds no credentials and no endpoint: requests are unsigned, and the
    endpoint is passed to every client, so changing the environment later is
    respected whether or not the session was made before.
    """
    from aiobotocore.session import AioSession

    with _lock:
        session = _aio_sessions.get(os.getpid())  # per process: a forked child builds its own
        if session is None:
            session = _aio_sessions[os.getpid()] = AioSession(session_vars=dict(_NO_USER_CONFIG))
        return session


def as_location(target: CloudLocation | str) -> CloudLocation:
    """Accept a :class:`CloudLocation` or an ``s3://`` URI (invalid ones raise CloudInputError).

    Examples
    --------
    >>> as_location("s3://nasa-heasarc/FTP/x.fits").key
    'FTP/x.fits'
    """
    return target if isinstance(target, CloudLocation) else s3_to_location(target)


def endpoint_url() -> str | None:
    """The S3 endpoint from ``AWS_ENDPOINT_URL_S3`` or ``AWS_ENDPOINT_URL``, else None (AWS itself).

    Examples
    --------
    >>> isinstance(endpoint_url(), (str, type(None)))
    True
    """
    return os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or None


def _botocore_config(region: str | None) -> dict[str, Any]:
    return {
        "connect_timeout": CONNECT_TIMEOUT,
        "read_timeout": READ_TIMEOUT,
        # One attempt: helpers.deadline.with_retries decides what is tried again.  An explicit
        # total_max_attempts also wins over AWS_MAX_ATTEMPTS and ~/.aws/config.
        "retries": {"total_max_attempts": 1, "mode": "standard"},
        "max_pool_connections": MAX_CONNECTIONS,
        "region_name": region or DEFAULT_REGION,
    }


def s3_storage_options(
    region: str | None = None,
    *,
    block_size: int = HEADER_BLOCK_SIZE,
    cache_type: str = "readahead",
) -> dict[str, Any]:
    """fsspec/s3fs options for anonymous range reads, for code that calls fsspec itself.

    s3fs names its cache settings ``default_block_size`` and
    ``default_cache_type``; ``block_size=``/``cache_type=`` raise TypeError.
    botocore does not retry with these options, but s3fs's own loop still does
    (it cannot be set through options); :func:`s3_filesystem` is the filesystem
    that tries once, as :mod:`helpers.reading` and :mod:`helpers.cutouts` use it.

    Examples
    --------
    >>> opts = s3_storage_options("us-west-2")
    >>> opts["anon"], opts["default_block_size"]
    (True, 65536)
    """
    config = _botocore_config(region)
    client_kwargs = {"region_name": config.pop("region_name")}
    # Named here so that s3fs's cached filesystems are per endpoint, not just per region.
    endpoint = endpoint_url()
    if endpoint:
        client_kwargs["endpoint_url"] = endpoint
    return {
        "anon": True,
        "session": _aio_session(),
        "default_block_size": block_size,
        "default_cache_type": cache_type,
        "client_kwargs": client_kwargs,
        "config_kwargs": config,
    }


@functools.lru_cache(maxsize=1)
def _single_try_class() -> type:
    from s3fs import S3FileSystem

    class SingleTryS3FileSystem(S3FileSystem):
        """s3fs that sends each request once: s3fs's own loop (``retries``) would
        otherwise retry SlowDown 5 times at two nested levels (25 GETs per range)."""

        retries = 1

    return SingleTryS3FileSystem


def s3_filesystem(region: str | None = None) -> Any:
    """The anonymous s3fs filesystem that :mod:`helpers.reading` uses: one try per request.

    fsspec keeps one instance per process and set of options (region, endpoint,
    timeouts), so connections are reused across files.

    Examples
    --------
    >>> fs = s3_filesystem("us-west-2")
    >>> fs.retries, fs is s3_filesystem("us-west-2")
    (1, True)
    """
    options = s3_storage_options(region)
    del options["default_cache_type"], options["default_block_size"]  # chosen per file by the readers
    return _single_try_class()(**options)


def s3_client(region: str | None = None) -> Any:
    """The botocore S3 client for ``region``: unsigned, no credentials read, one try per request.

    One client per process, region, endpoint and timeout setting is built and
    then reused (clients are thread-safe; building one takes about 0.15 s).

    Examples
    --------
    >>> client = s3_client("us-west-2")
    >>> client is s3_client("us-west-2"), client.meta.region_name
    (True, 'us-west-2')
    """
    settings = _botocore_config(region)
    endpoint = endpoint_url()
    key = (os.getpid(), settings["region_name"], endpoint, CONNECT_TIMEOUT, READ_TIMEOUT)
    with _lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = _new_client(settings, endpoint)
        return client


def _new_client(settings: dict[str, Any], endpoint: str | None) -> Any:
    import botocore.session
    from botocore import UNSIGNED
    from botocore.config import Config

    region_name = settings.pop("region_name")
    config = Config(signature_version=UNSIGNED, **settings)
    core = botocore.session.Session(session_vars=dict(_NO_USER_CONFIG))
    return core.create_client("s3", region_name=region_name, endpoint_url=endpoint, config=config)
