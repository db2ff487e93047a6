"""Anonymous, unsigned S3 access settings shared by every reader in ``helpers``.

All NASA archive buckets are public, so requests are never signed and the
user's AWS credentials or profile are never looked up: botocore skips the
credential chain when ``signature_version`` is ``UNSIGNED``, and the sessions
here ignore ``AWS_PROFILE`` and the ``~/.aws`` files.  Endpoints follow
``AWS_ENDPOINT_URL_S3`` when it is set, as botocore, s3fs and astropy do.
"""

from __future__ import annotations

import functools
import os
from typing import Any

from .cloud import CloudLocation, s3_to_location

__all__ = ["s3_storage_options", "s3_client", "as_location", "CONNECT_TIMEOUT", "READ_TIMEOUT"]

CONNECT_TIMEOUT = 10  # seconds
READ_TIMEOUT = 60  # seconds between bytes, not for the whole transfer
MAX_ATTEMPTS = 4  # botocore's standard retry mode: 5xx, throttling, resets
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


@functools.lru_cache(maxsize=1)
def _aio_session() -> Any:
    """One aiobotocore session for s3fs that ignores ``AWS_PROFILE`` and ``~/.aws``.

    Shared, so that botocore loads its service models once per process (a new
    session costs 0.2-0.3 s) and s3fs can reuse its filesystem and connections.
    """
    from aiobotocore.session import AioSession

    return AioSession(session_vars=dict(_NO_USER_CONFIG))


def as_location(target: CloudLocation | str) -> CloudLocation:
    """Accept a :class:`CloudLocation` or an ``s3://`` URI."""
    return target if isinstance(target, CloudLocation) else s3_to_location(target)


def _botocore_config(region: str | None) -> dict[str, Any]:
    return {
        "connect_timeout": CONNECT_TIMEOUT,
        "read_timeout": READ_TIMEOUT,
        "retries": {"max_attempts": MAX_ATTEMPTS, "mode": "standard"},
        "max_pool_connections": MAX_CONNECTIONS,
        "region_name": region or DEFAULT_REGION,
    }


def s3_storage_options(
    region: str | None = None,
    *,
    block_size: int = HEADER_BLOCK_SIZE,
    cache_type: str = "readahead",
) -> dict[str, Any]:
    """fsspec/s3fs options for anonymous range reads.

    s3fs names its cache settings ``default_block_size`` and
    ``default_cache_type``; ``block_size=``/``cache_type=`` raise TypeError.

    Examples
    --------
    >>> opts = s3_storage_options("us-west-2")
    >>> opts["anon"], opts["default_block_size"]
    (True, 65536)
    """
    config = _botocore_config(region)
    client_kwargs = {"region_name": config.pop("region_name")}
    # Named here so that s3fs's cached filesystems are per endpoint, not just per region.
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3")
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


def s3_client(region: str | None = None) -> Any:
    """A boto3 S3 client that never signs requests nor reads credentials."""
    import boto3
    import botocore.session
    from botocore import UNSIGNED
    from botocore.config import Config

    settings = _botocore_config(region)
    region_name = settings.pop("region_name")
    config = Config(signature_version=UNSIGNED, **settings)
    core = botocore.session.Session(session_vars=dict(_NO_USER_CONFIG))
    return boto3.session.Session(botocore_session=core).client("s3", region_name=region_name, config=config)
