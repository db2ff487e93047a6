"""Helpers for the NASA cloud data access tutorials.

One call from any archive result to its cloud copy (:func:`cloud_uri`), reads
that fetch only the bytes needed (:func:`open_fits`, :func:`cutout`), whole-file
fetches for compressed files (:func:`fetch_bytes`), fast ``.Z`` decompression
(:func:`decompress_lzw`) and event binning (:func:`bin_events`).

Errors: :class:`CloudAccessError` is the base of every error raised on purpose;
:class:`CloudInputError` (a ``ValueError``) means the input is wrong,
:class:`ArchiveError` (an ``OSError``) that an archive or the network failed,
:class:`DeadlineError` (a ``TimeoutError``) that a call ran past its deadline.

Importing this package makes no network call.
"""

from .cloud import CloudLocation, https_to_s3, parse_cloud_access
from .cutouts import cutout
from .datalink import datalink_location, iter_datalinks_by_row
from .errors import ArchiveError, CloudAccessError, CloudInputError, DeadlineError, LZWError
from .events import bin_events
from .fetching import fetch_bytes
from .locate import cloud_uri
from .lzw import decompress_lzw
from .reading import open_fits, transfer_stats

__all__ = [
    "ArchiveError",
    "CloudAccessError",
    "CloudInputError",
    "CloudLocation",
    "DeadlineError",
    "LZWError",
    "bin_events",
    "cloud_uri",
    "cutout",
    "datalink_location",
    "decompress_lzw",
    "fetch_bytes",
    "https_to_s3",
    "iter_datalinks_by_row",
    "open_fits",
    "parse_cloud_access",
    "transfer_stats",
]

__version__ = "0.1.0"
