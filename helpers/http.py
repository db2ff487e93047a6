"""HTTP for DataLink services and HTTPS fallbacks: no credentials, bounded retries, a total deadline.

pyvo and requests wait for ever by default, and requests sends ``~/.netrc``
passwords and honours proxy variables (``trust_env``); a tutorial must do
neither.  :func:`session` is the one shared session (``trust_env`` off, no
urllib3 retries: :func:`fetch` is the only retry layer) and :func:`fetch`
reads one answer whole, checking its status, within a deadline.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import requests

from .deadline import THROTTLED_STATUS, TRANSIENT_STATUS, Deadline, Transient, drain, with_retries
from .errors import ArchiveError, bounded

__all__ = ["session", "fetch", "Answer", "CONNECT_TIMEOUT", "READ_TIMEOUT", "TRANSIENT_STATUS"]

CONNECT_TIMEOUT = 10.0  # seconds
READ_TIMEOUT = 60.0  # seconds between bytes; the whole call is bounded by its Deadline
_CHUNK = 1 << 16


class _NoCredentialsSession(requests.Session):
    """A session that never reads ``~/.netrc`` or proxy variables and always times out."""

    def __init__(self) -> None:
        super().__init__()
        self.trust_env = False  # no ~/.netrc Authorization, no proxies from the environment
        self.max_redirects = 10

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", (CONNECT_TIMEOUT, READ_TIMEOUT))
        return super().request(method, url, *args, **kwargs)


@functools.lru_cache(maxsize=1)
def session() -> requests.Session:
    """The shared session (one connection pool per process; no credentials, no retries of its own).

    Examples
    --------
    >>> session().trust_env
    False
    """
    return _NoCredentialsSession()


@dataclass(frozen=True)
class Answer:
    """A whole HTTP answer: final URL, status, content type and body."""

    url: str
    status: int
    content_type: str
    body: bytes


def fetch(
    url: str,
    *,
    method: str = "GET",
    data: Any = None,
    deadline: Deadline | None = None,
    http: requests.Session | None = None,
) -> Answer:
    """Fetch ``url`` whole, retrying transient failures, within ``deadline``.

    Parameters
    ----------
    url : str
        An ``http://`` or ``https://`` URL.
    method, data
        As for :meth:`requests.Session.request` (POST with form ``data`` for DataLink).
    deadline : helpers.deadline.Deadline, optional
        Total time for every try together (default :data:`helpers.deadline.DEFAULT_TIMEOUT`).
    http : requests.Session, optional
        Defaults to :func:`session`.

    Returns
    -------
    Answer
        Only for status 200.

    Raises
    ------
    ArchiveError
        For any other status (naming it and the URL), a redirect loop, a
        refused connection or a body cut short, after the retries.
    DeadlineError
        When the deadline passes, however slowly the bytes keep coming.

    Examples
    --------
    >>> fetch("https://heasarc.gsfc.nasa.gov/FTP/README").status  # doctest: +SKIP
    200
    """
    deadline = deadline or Deadline(None, f"{method} {bounded(url, 120)}")
    http = http or session()

    def attempt() -> Answer:
        timeout = (deadline.cap(CONNECT_TIMEOUT), deadline.cap(READ_TIMEOUT))
        try:
            response = http.request(method, url, data=data, stream=True, timeout=timeout)
        except requests.TooManyRedirects as exc:
            raise ArchiveError(f"{url} redirects in a loop: {exc}", url=url) from None
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise Transient(f"{url}: {type(exc).__name__}: {bounded(str(exc))}", url=url) from None
        except requests.RequestException as exc:  # invalid URL, missing schema...
            raise ArchiveError(f"could not request {bounded(url)}: {exc}", url=url) from None
        with response:
            if response.status_code in TRANSIENT_STATUS:
                raise Transient(f"{url} answered {response.status_code} {response.reason}", url=url,
                                throttled=response.status_code in THROTTLED_STATUS)
            if response.status_code != 200:
                raise ArchiveError(f"{url} answered {response.status_code} {response.reason}", url=url)
            body = _read(response, url, deadline)
            return Answer(response.url, response.status_code, response.headers.get("Content-Type", ""), body)

    return with_retries(attempt, f"{method} {url}", deadline)


def _read(response: requests.Response, url: str, deadline: Deadline) -> bytes:
    """The body, chunk by chunk as bytes arrive, checking the deadline between chunks."""
    raw = response.raw
    read = getattr(raw, "read1", None) or raw.read  # urllib3 >= 2's read1 returns what has arrived
    got = 0

    def count(chunk: bytes) -> None:
        nonlocal got
        got += len(chunk)

    try:
        # decode_content: requests streams undecoded, so a gzip-encoded answer would come back compressed
        body = drain(lambda: read(_CHUNK, decode_content=True), deadline, count)
    except (requests.RequestException, OSError, ValueError) as exc:
        if isinstance(exc, ArchiveError):
            raise
        raise Transient(f"{url}: the transfer broke after {got} bytes: {bounded(str(exc))}", url=url) from None
    except Exception as exc:  # urllib3's ProtocolError / IncompleteRead are not OSErrors
        raise Transient(f"{url}: the transfer broke after {got} bytes: {bounded(str(exc))}", url=url) from None
    expected = response.headers.get("Content-Length")
    if expected and expected.isdigit() and not response.headers.get("Content-Encoding") and len(body) != int(expected):
        raise Transient(f"{url}: {len(body)} of {expected} bytes arrived", url=url)
    return body
