"""DataLink: fetching a row's links, and choosing the row's own product among them.

A discovery row reaches its DataLink answer in one of two ways: through its
result's DataLink *service descriptor* (a POST of the row's ID, HEASARC's SIA),
or through an ``access_url`` that is itself a DataLink document (format
``application/x-votable+xml;content=datalink``: HEASARC's production SIA and
SSA, IRSA's planned SIA2).  Both go the same way here: :func:`helpers.http.fetch`
(no credentials, bounded retries, a total deadline), then pyvo's
:class:`~pyvo.dal.adhoc.DatalinkResults` on the bytes.  Anything that is not
a DataLink VOTable (an HTML page, JSON, an empty body, ``QUERY_STATUS=ERROR``)
raises :class:`~helpers.errors.ArchiveError` naming the URL.

HEASARC gives every product of one observation the same DataLink ID, so one
answer lists several ``#this`` links.  :func:`datalink_location` picks the
row's own by the row's ID, access URL, title and format, and refuses to guess
when those cannot tell the links apart.  :func:`iter_datalinks_by_row` pairs
each row with its own answer, asking once per distinct ID.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from astropy.io.votable import parse as parse_votable
from astropy.table import Table
from pyvo.dal import DALFormatError, DALQueryError, DALResults, DALServiceError
from pyvo.dal.adhoc import DATALINK_IVOID, DatalinkQuery, DatalinkResults

from . import _upstream, http
from .cloud import CloudLocation, is_file_url, is_http_url, mirror_location, parse_cloud_access
from .deadline import Deadline
from .errors import ArchiveError, CloudInputError, bounded
from .records import FORMAT_COLUMNS, TITLE_COLUMNS, access_url_of, colnames, column, format_of, text

__all__ = [
    "datalink_location",
    "datalink_of",
    "datalink_url_of",
    "fetch_datalink",
    "is_datalink_format",
    "iter_datalinks_by_row",
]

_VOCABULARY = "http://www.ivoa.net/rdf/datalink/core#"
_COMPRESSION = (".gz", ".z", ".bz2", ".xz")
_FITS_TYPES = {"image/fits", "application/fits", "application/x-fits", "image/x-fits"}


# --- which DataLink a row has ---------------------------------------------------------------------

def is_datalink_format(fmt: Any) -> bool:
    """Whether a MIME type names a DataLink document (``application/x-votable+xml;content=datalink``).

    Spaces, case and quoting of the parameter do not matter.

    Examples
    --------
    >>> is_datalink_format('application/x-votable+xml; content="datalink"'), is_datalink_format("image/fits")
    (True, False)
    """
    value = text(fmt)
    if not value:
        return False
    kind, *params = [part.strip().lower() for part in value.split(";")]
    if kind != "application/x-votable+xml":
        return False
    return any(param.replace(" ", "").replace('"', "") == "content=datalink" for param in params)


def datalink_url_of(record: Any) -> str | None:
    """The row's access URL when its format says the URL is a DataLink document, else None.

    Examples
    --------
    >>> datalink_url_of({"access_url": "https://heasarc.gsfc.nasa.gov/xamin/vo/datalink?id=x",
    ...                  "access_format": "application/x-votable+xml;content=datalink"})
    'https://heasarc.gsfc.nasa.gov/xamin/vo/datalink?id=x'
    """
    url = access_url_of(record)
    return url if url and is_datalink_format(format_of(record)) else None


def _descriptor(results: Any) -> Any:
    """The DataLink service descriptor of a pyvo result, or None."""
    if results is None:
        return None
    try:
        return results.get_adhocservice_by_ivoid(DATALINK_IVOID)
    except (DALServiceError, AttributeError):
        return None


def _id_ref(descriptor: Any) -> str | None:
    """The column (name or FIELD ID) whose value is the DataLink ID."""
    for group in descriptor.groups:
        if group.name == "inputParams":
            for param in group.entries:
                if param.name.upper() == "ID" and param.ref:
                    return param.ref
    return None


def _form_value(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_form_value(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _row_label(record: Any) -> str:
    """How a message names a row: its position in its table, else its ID or access URL, else its columns.

    A dict has no position, and "row None" would not help anyone find it.
    """
    index = _upstream.record_index(record)
    if index is not None:
        return f"row {index}"
    link_id = text(column(record, "ID"))
    if link_id:
        return f"the row with ID {bounded(link_id, 120)}"
    url = access_url_of(record)
    if url:
        return f"the row with access URL {bounded(url, 160)}"
    return f"the row with columns {bounded(colnames(record), 160)}"


@dataclass(frozen=True)
class _Request:
    url: str
    params: dict[str, Any] | None  # POST form for a service descriptor; None: GET the URL itself
    what: str


def _request_for(record: Any) -> _Request | None:
    """How to ask for the row's DataLink answer, or None when it has no DataLink."""
    results = _upstream.record_results(record)
    descriptor = _descriptor(results)
    if descriptor is not None:
        ref = _id_ref(descriptor)
        link_id = text(column(record, ref)) if ref else None
        if link_id or ref is None:
            try:  # pyvo turns the descriptor's input parameters into the query; no request is made here
                query = DatalinkQuery.from_resource(record, descriptor, session=http.session())
            except Exception as exc:  # pyvo raises assorted errors for a broken descriptor
                raise ArchiveError(f"the DataLink service descriptor of {getattr(results, 'queryurl', None)} "
                                   f"is unusable: {bounded(str(exc))}") from exc
            params = {str(k): _form_value(v) for k, v in query.items()}
            what = f"ID {bounded(link_id, 120)}" if link_id else _row_label(record)
            return _Request(query.baseurl, params, what)
    url = datalink_url_of(record)
    if url:
        return _Request(url, None, _row_label(record))
    return None


# --- fetching and reading an answer ---------------------------------------------------------------

def _parse(answer: http.Answer, url: str, fail: str) -> DatalinkResults:
    """pyvo's DataLink result from a whole answer to ``url``, or ArchiveError saying what came instead."""
    body = answer.body
    head = body[:1024].lstrip().lower()
    kind = answer.content_type.split(";")[0].strip().lower()
    if not head:
        raise ArchiveError(f"{fail}: the answer is empty", url=url)
    if kind in ("text/html", "application/xhtml+xml") or head.startswith((b"<!doctype html", b"<html")):
        raise ArchiveError(f"{fail}: it answered an HTML page, not a DataLink VOTable: {bounded(body[:300])}",
                           url=url)
    if kind.endswith("json") or head.startswith((b"{", b"[")):
        raise ArchiveError(f"{fail}: it answered JSON, not a DataLink VOTable: {bounded(body[:300])}",
                           url=url)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # astropy warns about every liberty a service takes with the schema
            votable = parse_votable(io.BytesIO(body), verify="ignore")
    except Exception as exc:  # astropy raises E19, ExpatError, ValueError... for what is not a VOTable
        raise ArchiveError(f"{fail}: the answer is not a VOTable ({bounded(str(exc), 160)}): "
                           f"{bounded(body[:200])}", url=url) from None
    try:
        links = DatalinkResults(votable, url=url, session=http.session())
    except DALQueryError as exc:  # QUERY_STATUS=ERROR
        raise ArchiveError(f"{fail}: the service answered an error: {bounded(str(exc))}", url=url) from None
    except DALFormatError as exc:
        raise ArchiveError(f"{fail}: {bounded(str(exc))}", url=url) from None
    if "semantics" not in links.fieldnames:
        raise ArchiveError(f"{fail}: the VOTable is not a DataLink result (no semantics column; columns "
                           f"{bounded(list(links.fieldnames))})", url=url)
    return links


def _fetch(request: _Request, deadline: Deadline) -> DatalinkResults:
    fail = f"DataLink request for {request.what} to {bounded(request.url, 300)} failed"
    method = "GET" if request.params is None else "POST"
    try:
        answer = http.fetch(request.url, method=method, data=request.params, deadline=deadline)
    except ArchiveError as exc:  # keeps DeadlineError a DeadlineError
        raise type(exc)(f"{fail}: {exc}", url=exc.url or request.url) from exc
    return _parse(answer, request.url, fail)


def fetch_datalink(url: str, params: dict[str, Any] | None = None, *, timeout: float | None = None
                   ) -> DatalinkResults:
    """Fetch and read one DataLink answer: GET ``url``, or POST ``params`` to it.

    Parameters
    ----------
    url : str
        A DataLink document (GET) or a DataLink service endpoint (POST ``params``).
    params : dict, optional
        Form parameters, e.g. ``{"ID": "ivo://nasa.heasarc/chanmaster?15158/chandra.obs.img"}``.
    timeout : float, optional
        Seconds for the whole call, retries included (default :data:`helpers.deadline.DEFAULT_TIMEOUT`).

    Returns
    -------
    pyvo.dal.adhoc.DatalinkResults

    Raises
    ------
    CloudInputError
        If ``url`` is not an ``http://`` or ``https://`` URL with a host
        (``"not a url"``, ``ftp://...``): no request is made.
    ArchiveError
        Naming the URL, for any status but 200, a redirect loop, a refused
        connection, or an answer that is not a DataLink VOTable (HTML, JSON,
        empty, ``QUERY_STATUS=ERROR`` with the service's message).
    DeadlineError
        When ``timeout`` passes first, however slowly the bytes keep coming.

    Examples
    --------
    >>> links = fetch_datalink("https://heasarc.gsfc.nasa.gov/xamin/vo/datalink?datalink_key&"
    ...                        "id=ivo://nasa.heasarc/chanmaster?7416/chandra.obs.pha")  # doctest: +SKIP
    >>> links.getvalue("access_url", 0)                                                   # doctest: +SKIP
    """
    if not isinstance(url, str) or not url.strip():
        raise CloudInputError(f"a DataLink URL must be text, got {bounded(url, 80)}")
    if not is_http_url(url):  # a typo, not an archive failure: trying again would not help
        raise CloudInputError(f"a DataLink URL must be an http:// or https:// URL with a host, got {bounded(url, 200)}")
    deadline = Deadline(timeout, f"DataLink request to {bounded(url, 120)}")
    return _fetch(_Request(url, params, "a DataLink document" if params is None else "a DataLink service"), deadline)


def datalink_of(record: Any, *, timeout: float | None = None) -> DatalinkResults | None:
    """Fetch the DataLink answer of one discovery row, or None if the row has no DataLink.

    A pyvo record is linked through its result's DataLink service descriptor
    (POST of the row's ID) or through an ``access_url`` whose format is
    DataLink (GET); an astropy row or a dict only through the latter.

    Parameters
    ----------
    record : pyvo record, astropy Row or dict
    timeout : float, optional
        Seconds for the whole request, retries included.

    Raises
    ------
    ArchiveError, DeadlineError
        As :func:`fetch_datalink`.

    Examples
    --------
    >>> datalink_of({"access_url": "https://x/y.fits", "access_format": "image/fits"}) is None
    True
    >>> links = datalink_of(cxo_table[0])            # doctest: +SKIP
    >>> links.to_table()["semantics", "access_url"]  # doctest: +SKIP
    """
    request = _request_for(record)
    if request is None:
        return None
    return _fetch(request, Deadline(timeout, f"DataLink request to {bounded(request.url, 120)}"))


# --- choosing the row's product -------------------------------------------------------------------

def _term(semantics: str | None) -> str:
    """``#this``, ``this`` and the vocabulary URI all name the same term."""
    value = (semantics or "").strip()
    if value.startswith(_VOCABULARY):
        return value[len(_VOCABULARY):]
    return value[1:] if value.startswith("#") else value


def _squash(url: str) -> str:
    return re.sub(r"(?<!:)/{2,}", "/", url.strip()).replace("http://", "https://", 1)


def _file_names(url: str | None) -> set[str]:
    """A link's file name, with and without its compression suffix, case-folded."""
    if not url:
        return set()
    try:
        name = unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]).casefold()
    except ValueError:
        return set()
    names = {name} if name else set()
    for suffix in _COMPRESSION:
        if name.endswith(suffix):
            names.add(name[: -len(suffix)])
    return names


def _mime(value: str | None) -> str | None:
    kind = (value or "").split(";")[0].strip().lower()
    if not kind:
        return None
    return "fits" if kind in _FITS_TYPES else kind


def _ids_in_url(url: str | None) -> set[str]:
    """The ``ID`` parameters of a DataLink URL (HEASARC: ``...datalink?datalink_key&id=ivo://...``)."""
    if not url:
        return set()
    try:
        pairs = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    except ValueError:
        return set()
    return {value.strip().casefold() for name, value in pairs if name.upper() == "ID" and value.strip()}


@dataclass
class _Hints:
    """What a discovery row says about which of its DataLink's links is its own product."""

    ids: set[str] = field(default_factory=set)
    file_url: str | None = None
    names: set[str] = field(default_factory=set)
    formats: set[str] = field(default_factory=set)


def _hints(row: Any, access_url: str | None) -> _Hints:
    hints = _Hints()
    if row is not None:
        descriptor = _descriptor(_upstream.record_results(row))
        ref = _id_ref(descriptor) if descriptor is not None else None
        link_id = text(column(row, ref)) if ref else None
        if link_id:
            hints.ids.add(link_id.casefold())
        hints.ids |= _ids_in_url(datalink_url_of(row))
        hints.names = {name.casefold() for name in (text(column(row, c)) for c in TITLE_COLUMNS) if name}
        hints.formats = {_mime(f) for f in (text(column(row, c)) for c in FORMAT_COLUMNS)
                         if f and not is_datalink_format(f)} - {None}
        if access_url is None and datalink_url_of(row) is None:
            access_url = access_url_of(row)
    if access_url and is_file_url(access_url):
        hints.file_url = access_url
    return hints


def _choose(links: list[Any], hints: _Hints) -> tuple[list[Any], list[str]]:
    """Narrow several links of the wanted semantics to the row's own, hint by hint, strongest first.

    A hint that matches no link tells nothing and is passed over.  Returns the
    remaining links and, for the error message, what each hint matched.
    """
    steps = (
        ("its DataLink ID", hints.ids,
         lambda link: (text(column(link, "ID")) or "").casefold() in hints.ids),
        ("its file URL", hints.file_url,
         lambda link: _squash(text(column(link, "access_url")) or "") == _squash(hints.file_url)),
        ("its title or file name", hints.names,
         lambda link: bool(({(text(column(link, "description")) or "").casefold()}
                            | _file_names(text(column(link, "access_url")))) & hints.names)),
        ("its format", hints.formats,
         lambda link: _mime(text(column(link, "content_type"))) in hints.formats),
    )
    notes = []
    for label, hint, keep in steps:
        if len(links) > 1 and hint:
            kept = [link for link in links if keep(link)]
            value = sorted(hint) if isinstance(hint, set) else hint
            notes.append(f"{label} {bounded(value, 200)} matches {len(kept) if kept else 'none'} of {len(links)}")
            links = kept or links
    return links, notes


def _link_location(link: Any, provider: str) -> CloudLocation | None:
    url = text(column(link, "access_url"))
    location = parse_cloud_access(column(link, "cloud_access"), provider) or mirror_location(url)
    if location is not None and is_file_url(url):
        location = replace(location, https_url=url)
    return location


def datalink_location(
    links: Any,
    *,
    row: Any = None,
    access_url: str | None = None,
    provider: str = "aws",
    semantics: str = "#this",
) -> CloudLocation | None:
    """Choose the cloud location of one row's product from its DataLink answer.

    The links with ``semantics`` are the candidates.  Where there are several
    (HEASARC lists every product of an observation under one ID), the row's own
    is chosen by what the row says, in this order, each step used only when it
    matches some link:

    1. the row's DataLink ID (its descriptor's ID column, or the ``ID`` parameter
       of its DataLink access URL), against the links' ``ID``;
    2. the row's own file URL, when its access URL is a file (not when it is the
       DataLink document itself, as at HEASARC in production), against ``access_url``;
    3. the row's title or file name (``obs_title``, ``SIA_title``, ...), against the
       links' ``description`` or file name;
    4. the row's format, against ``content_type`` (``image/fits`` = ``application/fits``).

    Parameters
    ----------
    links : pyvo.dal.adhoc.DatalinkResults or astropy Table
        The DataLink answer of the row.
    row : pyvo record, astropy Row or dict, optional
        The discovery row, whose ID, access URL, title and format choose among several links.
    access_url : str, optional
        The row's own file URL, when no ``row`` is given (or to override it).
    provider : str
        Cloud provider key in ``cloud_access`` (default ``"aws"``).
    semantics : str
        DataLink semantics of the wanted link: ``"#this"``, ``"this"`` or the vocabulary URI.

    Returns
    -------
    CloudLocation or None
        From the chosen link's ``cloud_access``, else from its URL where the
        archive documents a mirror (:func:`helpers.cloud.https_to_s3`); its
        ``https_url`` is the link's file URL.  None when no link has the
        semantics, or the chosen product is not in the cloud.

    Raises
    ------
    ArchiveError
        When a link that may be the row's product carries an ``error_message``
        (the message is quoted): the archive could not serve it.
    CloudInputError
        When ``links`` is not a DataLink result, ``provider`` or ``semantics`` is
        not text, or several links remain that lead to different places: the
        row does not say which product it is, and guessing would silently
        return another file.  Pass the discovery ``row`` (or its file
        ``access_url``), or choose the link yourself.

    Examples
    --------
    >>> from astropy.table import Table
    >>> links = Table({"ID": ["ivo://x?1", "ivo://x?1"], "semantics": ["#this", "#this"],
    ...     "description": ["Center Image", "Full Image"],
    ...     "access_url": ["https://heasarc.gsfc.nasa.gov/FTP/c/cntr.fits.gz",
    ...                    "https://heasarc.gsfc.nasa.gov/FTP/c/full.fits.gz"]})
    >>> datalink_location(links, row={"obs_title": "Full Image"}).uri
    's3://nasa-heasarc/c/full.fits.gz'
    """
    if not isinstance(semantics, str) or not _term(semantics):
        raise CloudInputError(f"semantics must be a DataLink term such as '#this', got {bounded(semantics, 80)}")
    if not isinstance(provider, str) or not provider.strip():
        raise CloudInputError(f"provider must be a cloud provider's name such as 'aws', got {bounded(provider, 80)}")
    table = links.to_table() if hasattr(links, "to_table") else links
    names = colnames(table)
    if "semantics" not in names:
        raise CloudInputError(f"not a DataLink result: no semantics column in {bounded(names)}")
    wanted = _term(semantics)
    candidates = [link for link in table if _term(text(column(link, "semantics"))) == wanted]
    if not candidates:
        return None
    candidates, notes = _choose(candidates, _hints(row, access_url))

    failed = [(text(column(link, "ID")) or "?", text(column(link, "error_message"))) for link in candidates]
    failed = [(link_id, message) for link_id, message in failed if message]
    if failed:
        ids = ", ".join(dict.fromkeys(link_id for link_id, _ in failed))
        messages = "; ".join(dict.fromkeys(message for _, message in failed))
        raise ArchiveError(f"DataLink error for {bounded(ids, 300)}: {bounded(messages, 500)}",
                           url=getattr(links, "queryurl", None))

    locations = [_link_location(link, provider) for link in candidates]
    if len(set(locations)) > 1:
        described = [f"{text(column(link, 'description')) or '?'} <{text(column(link, 'access_url'))}>"
                     for link in candidates]
        said = "; ".join(notes) if notes else "the row gives no ID, file URL, title or format to choose by"
        raise CloudInputError(
            f"{len(candidates)} DataLink rows have semantics {bounded(semantics, 80)} and the row does not "
            f"single out one ({said}): {bounded(described, 600)}; pass the discovery row, or choose the link yourself"
        )
    return locations[0]


def iter_datalinks_by_row(results: Any, *, timeout: float | None = None) -> Iterator[tuple[Any, DatalinkResults]]:
    """Yield ``(row, links)`` for every row of a pyvo result, each row with its own DataLink answer.

    pyvo's batched ``results.iter_datalinks()`` maps answers back to rows by
    DataLink ID, so where rows share an ID (all products of one HEASARC
    observation do) every answer is paired with the last row of that ID.
    ``iter_datalinks(preserve_order=True)`` pairs correctly at one request per
    row; this asks once per distinct ID and pairs by position, so the pairing
    never depends on the order the service answers in.

    Parameters
    ----------
    results : pyvo.dal.DALResults or astropy.table.Table
        An SIA, ObsCore or TAP result with a DataLink service descriptor, or
        whose rows' access URLs are DataLink documents (the only way for a Table).
    timeout : float, optional
        Seconds for each request, retries included.

    Raises
    ------
    CloudInputError
        At the call, when ``results`` is neither a pyvo result nor an astropy
        Table; during the iteration, for a row with no DataLink at all.
    ArchiveError, DeadlineError
        As :func:`fetch_datalink`.

    Examples
    --------
    >>> for row, links in iter_datalinks_by_row(cxo_table):  # doctest: +SKIP
    ...     if row["obs_title"] == "Center Image":
    ...         print(datalink_location(links, row=row))
    """
    if not isinstance(results, (DALResults, Table)):  # checked now, not at the first next()
        raise CloudInputError(f"iter_datalinks_by_row needs a pyvo result (DALResults) or an astropy Table, "
                              f"got {type(results).__name__} {bounded(results, 80)}")
    return _iter_datalinks(results, timeout)


def _iter_datalinks(results: Any, timeout: float | None) -> Iterator[tuple[Any, DatalinkResults]]:
    descriptor = _descriptor(results)
    ref = _id_ref(descriptor) if descriptor is not None else None
    cache: dict[str, DatalinkResults] = {}
    for row in results:
        key = text(column(row, ref)) if ref else None
        if key is not None and key in cache:
            yield row, cache[key]
            continue
        links = datalink_of(row, timeout=timeout)
        if links is None:
            raise CloudInputError(f"{_row_label(row)} has no DataLink service or DataLink access URL")
        if key is not None:
            cache[key] = links
        yield row, links
