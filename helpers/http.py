"""HTTP calls with a timeout and a bounded retry: DataLink services and HTTPS fallbacks.

pyvo and requests wait forever by default; a tutorial must not.  The session
here retries connection errors and 5xx/429 answers a few times with backoff
(for POST too: DataLink and TAP queries are read-only) and gives every request
a timeout.
"""

from __future__ import annotations

import functools
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

__all__ = ["session", "CONNECT_TIMEOUT", "READ_TIMEOUT", "RETRIES"]

CONNECT_TIMEOUT = 10.0  # seconds
READ_TIMEOUT = 60.0  # seconds between bytes
RETRIES = 3


class _TimeoutSession(requests.Session):
    """A requests session whose requests time out unless told otherwise."""

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", (CONNECT_TIMEOUT, READ_TIMEOUT))
        return super().request(method, url, *args, **kwargs)


@functools.lru_cache(maxsize=1)
def session() -> requests.Session:
    """The shared session (one connection pool per process).

    Examples
    --------
    >>> session().get("https://heasarc.gsfc.nasa.gov/FTP/", stream=True)  # doctest: +SKIP
    """
    retry = Retry(total=RETRIES, connect=RETRIES, read=RETRIES, status=RETRIES, backoff_factor=0.3,
                  status_forcelist=(429, 500, 502, 503, 504), allowed_methods=None, raise_on_status=False)
    http = _TimeoutSession()
    adapter = HTTPAdapter(max_retries=retry)
    http.mount("http://", adapter)
    http.mount("https://", adapter)
    return http
