"""One call from any archive result row to the cloud copy of its product.

:func:`cloud_uri` tries the places the archives publish a location, in this
order, and stops at the first that gives one:

1. the row's own ``cloud_access`` column (IRSA today);
2. the row's DataLink: its result's service descriptor, or an access URL that is
   itself a DataLink document (HEASARC): :mod:`helpers.datalink`;
3. a MAST products row's ``dataURI``: MAST's ``path_lookup`` (:mod:`helpers.mast`);
4. the row's access URL, where the archive documents a mirror bucket
   (:func:`helpers.cloud.https_to_s3`).

Data flow one way: this module calls :mod:`helpers.records`, :mod:`helpers.cloud`,
:mod:`helpers.datalink` and :mod:`helpers.mast`; none of them calls back.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .cloud import CloudLocation, is_file_url, mirror_location, parse_cloud_access
from .datalink import datalink_location, datalink_of, datalink_url_of
from .deadline import Deadline
from .errors import CloudInputError, bounded
from .mast import data_uri_of, mast_location
from .records import access_url_of, column

__all__ = ["cloud_uri"]


def _left(deadline: Deadline) -> float:
    """Seconds left for the next step; DeadlineError when none are."""
    deadline.check()
    return deadline.cap(deadline.remaining())


def cloud_uri(
    record: Any,
    provider: str = "aws",
    semantics: str = "#this",
    *,
    timeout: float | None = None,
) -> CloudLocation | None:
    """Return the cloud copy of the product an archive result row describes.

    The places tried, in order: the row's ``cloud_access`` column; its DataLink
    (service descriptor, or a DataLink access URL), choosing the row's own
    product among the links (see :func:`helpers.datalink.datalink_location`);
    a MAST products row's ``dataURI`` through MAST's ``path_lookup`` (checked
    with an unsigned ``head_object``); and the documented HTTPS mirrors of the
    row's access URL.

    Parameters
    ----------
    record : pyvo record, astropy Row or dict
        A row of an SIA (v1 or v2), SSA, ObsCore, TAP or MAST products result.
    provider : str
        Cloud provider key in ``cloud_access`` (default ``"aws"``).
    semantics : str
        DataLink semantics of the wanted link (default ``"#this"``).
    timeout : float, optional
        Seconds for the whole call, every request and retry included
        (default :data:`helpers.deadline.DEFAULT_TIMEOUT`).

    Returns
    -------
    CloudLocation or None
        None when the archive says the product is not in the cloud.  Its
        ``https_url`` is the archive's HTTPS copy of the file (the row's own
        access URL when that is a file, else the DataLink link's), which readers
        fall back to when S3 refuses.

    Raises
    ------
    CloudInputError
        For malformed cloud information, ``provider`` or ``semantics`` that is
        not text, or a DataLink answer whose links the row cannot tell apart.
    ArchiveError
        When a service fails or answers something unusable (the message names
        the URL), or a DataLink link carries an ``error_message``.
    DeadlineError
        When ``timeout`` passes first.

    Examples
    --------
    >>> from astropy.table import Table
    >>> row = Table({"cloud_access": ['{"aws": {"bucket_name": "nasa-irsa-wise", '
    ...     '"key": "wise/x.fits", "region": "us-west-2"}}']})[0]
    >>> cloud_uri(row).uri
    's3://nasa-irsa-wise/wise/x.fits'
    >>> cloud_uri({"access_url": "https://heasarc.gsfc.nasa.gov/FTP/rosat/data/x.fits"}).uri
    's3://nasa-heasarc/rosat/data/x.fits'
    """
    if not isinstance(provider, str) or not provider.strip():
        raise CloudInputError(f"provider must be a cloud provider's name such as 'aws', got {bounded(provider, 80)}")
    if not isinstance(semantics, str) or not semantics.strip():
        raise CloudInputError(f"semantics must be a DataLink term such as '#this', got {bounded(semantics, 80)}")
    deadline = Deadline(timeout, "locating a row's product in the cloud")
    url = access_url_of(record)
    location = _resolve(record, url, provider, semantics, deadline)
    own_file = url if is_file_url(url) and datalink_url_of(record) is None else None
    if location is not None and own_file:  # the row's own file is the HTTPS copy, as the archive lists it
        location = replace(location, https_url=own_file)
    return location


def _resolve(record: Any, url: str | None, provider: str, semantics: str, deadline: Deadline
             ) -> CloudLocation | None:
    location = parse_cloud_access(column(record, "cloud_access"), provider)
    if location is not None:
        return location

    links = datalink_of(record, timeout=_left(deadline))
    if links is not None:
        location = datalink_location(links, row=record, provider=provider, semantics=semantics)
        if location is not None:
            return location

    data_uri = data_uri_of(record)
    if data_uri:
        return mast_location(data_uri, timeout=_left(deadline))

    return mirror_location(url)
