"""DataLink: from a discovery row to its own links, and from links to the cloud.

HEASARC gives every product of one observation the same DataLink ID.  pyvo's
batched ``iter_datalinks()`` maps link results back to rows through that ID,
so with shared IDs each result is paired with the wrong row (the last row with
that ID).  :func:`iter_datalinks_by_row` pairs each row with its own links and
asks the service once per distinct ID.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from pyvo.dal import DALServiceError
from pyvo.dal.adhoc import DATALINK_IVOID, DATALINK_MIME_TYPE, DatalinkQuery, DatalinkResults
from pyvo.dal.exceptions import DALAccessError

from . import http
from .cloud import CloudLocation, _as_text, _column, _mirror_location, parse_cloud_access
from .errors import CloudAccessError

__all__ = ["datalink_of", "datalink_location", "iter_datalinks_by_row"]


def _descriptor(results: Any) -> Any:
    """The DataLink service descriptor of a pyvo result, or None."""
    try:
        return results.get_adhocservice_by_ivoid(DATALINK_IVOID)
    except (DALServiceError, AttributeError):
        return None


def _id_ref(descriptor: Any) -> str | None:
    """The name of the column whose value is the DataLink ID."""
    for group in descriptor.groups:
        if group.name == "inputParams":
            for param in group.entries:
                if param.name.upper() == "ID" and param.ref:
                    return param.ref
    return None


def _execute(query: DatalinkQuery, what: str) -> DatalinkResults:
    try:
        return query.execute(post=True)
    except DALAccessError as exc:  # HTTP failures and QUERY_STATUS=ERROR answers alike
        raise CloudAccessError(f"DataLink request for {what} to {query.baseurl} failed: {exc}") from exc


def datalink_of(record: Any, *, session: Any = None) -> DatalinkResults | None:
    """Fetch the DataLink result of one discovery row, or None if it has none.

    A pyvo record is linked either through its result's DataLink service
    descriptor or through an ``access_url`` whose format is DataLink; an astropy
    row only through the latter.

    Examples
    --------
    >>> links = datalink_of(cxo_table[0])            # doctest: +SKIP
    >>> links.to_table()["semantics", "access_url"]  # doctest: +SKIP
    """
    session = session or http.session()
    results = getattr(record, "_results", None)
    descriptor = _descriptor(results) if results is not None else None
    if descriptor is not None:
        query = DatalinkQuery.from_resource(record, descriptor, session=session)
        return _execute(query, f"row {getattr(record, '_index', '?')}")
    fmt = _as_text(_column(record, "access_format")) or ""
    url = _as_text(_column(record, "access_url"))
    if url and fmt.replace(" ", "").lower() == DATALINK_MIME_TYPE:
        try:
            return DatalinkResults.from_result_url(url, session=session)
        except DALAccessError as exc:
            raise CloudAccessError(f"DataLink request to {url} failed: {exc}") from exc
    return None


def _term(semantics: str) -> str:
    """``#this``, ``this`` and the vocabulary URI all name the same term."""
    text = semantics.strip()
    if text.startswith("http://www.ivoa.net/rdf/datalink/core#"):
        return text.split("#", 1)[1]
    return text[1:] if text.startswith("#") else text


def _same_url(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    squash = lambda u: re.sub(r"(?<!:)/{2,}", "/", u.strip()).replace("http://", "https://", 1)  # noqa: E731
    return squash(a) == squash(b)


def datalink_location(
    links: Any,
    *,
    access_url: str | None = None,
    provider: str = "aws",
    semantics: str = "#this",
) -> CloudLocation | None:
    """Choose the cloud location of one product from its DataLink result.

    Parameters
    ----------
    links : pyvo.dal.adhoc.DatalinkResults or astropy Table
        The DataLink result of one row.
    access_url : str, optional
        The discovery row's own access URL; where several links carry the
        wanted semantics, the one with this ``access_url`` is chosen.
    provider, semantics : str
        As in :func:`helpers.cloud.cloud_uri`.

    Returns
    -------
    CloudLocation or None

    Raises
    ------
    CloudAccessError
        If the chosen link has an ``error_message``, or several links match
        and none can be told apart by ``access_url``.

    Examples
    --------
    >>> datalink_location(links, access_url=row["access_url"]).uri  # doctest: +SKIP
    's3://nasa-heasarc/chandra/data/byobsid/8/15158/primary/acisf15158N003_cntr_img2.fits.gz'
    """
    table = links.to_table() if hasattr(links, "to_table") else links
    if "semantics" not in table.colnames:
        raise CloudAccessError(f"not a DataLink result: no semantics column in {table.colnames}")
    wanted = _term(semantics)
    rows = [row for row in table if _term(_as_text(row["semantics"]) or "") == wanted]
    if not rows:
        return None
    errors = [_as_text(_column(row, "error_message")) for row in rows]
    if all(errors):
        ids = sorted({_as_text(_column(row, "ID")) or "?" for row in rows})
        raise CloudAccessError(f"DataLink error for {', '.join(ids)}: {'; '.join(dict.fromkeys(errors))}")
    if len(rows) > 1:
        matching = [row for row in rows if _same_url(_as_text(_column(row, "access_url")), access_url)]
        if len(matching) != 1:
            urls = [_as_text(_column(row, "access_url")) for row in rows]
            raise CloudAccessError(
                f"{len(rows)} DataLink rows have semantics {semantics!r} and "
                f"{'none' if not matching else 'several'} match the access URL {access_url!r}: {urls}"
            )
        rows = matching
    row = rows[0]
    error = _as_text(_column(row, "error_message"))
    if error:
        raise CloudAccessError(f"DataLink error for {_as_text(_column(row, 'ID'))}: {error}")
    url = _as_text(_column(row, "access_url"))
    location = parse_cloud_access(_column(row, "cloud_access"), provider) or _mirror_location(url)
    if location is not None and url and location.https_url is None:
        location = replace(location, https_url=url)
    return location


def iter_datalinks_by_row(results: Any, *, session: Any = None) -> Iterator[tuple[Any, DatalinkResults]]:
    """Yield ``(row, links)`` for every row of a pyvo result, each row with its own links.

    Rows that share a DataLink ID (as all products of one HEASARC observation
    do) share one request; distinct IDs are asked for one at a time, so the
    pairing never depends on the order the service answers in.

    Parameters
    ----------
    results : pyvo.dal.DALResults
        An SIA, ObsCore or TAP result with a DataLink service descriptor, or
        whose rows' access URLs are DataLink documents.
    session : requests.Session, optional
        Defaults to :func:`helpers.http.session` (timeouts, bounded retries).

    Examples
    --------
    >>> for row, links in iter_datalinks_by_row(cxo_table):  # doctest: +SKIP
    ...     if row["obs_title"] == "Center Image":
    ...         print(datalink_location(links, access_url=row["access_url"]))
    """
    session = session or http.session()
    descriptor = _descriptor(results)
    ref = _id_ref(descriptor) if descriptor is not None else None
    cache: dict[str, DatalinkResults] = {}
    for row in results:
        if ref is None:
            links = datalink_of(row, session=session)
            if links is None:
                raise CloudAccessError(f"row {row._index} has no DataLink service or DataLink access URL")
            yield row, links
            continue
        key = _as_text(row[ref]) or ""
        if key not in cache:
            query = DatalinkQuery.from_resource(row, descriptor, session=session)
            cache[key] = _execute(query, f"ID {key!r}")
        yield row, cache[key]
