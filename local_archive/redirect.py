"""Send a process's HTTP calls to the local archive, without changing the calling code.

:func:`install` rewrites every non-loopback URL that ``requests`` (pyvo,
astroquery), ``urllib`` (astropy's ``download_file``) and ``aiohttp`` (fsspec's
HTTP filesystem) open into ``<local archive>/<host><path>``.  An HTTPS
interception proxy cannot do this: astropy pins certifi and aiohttp ignores
proxies.  :func:`guard_sockets` then refuses any other non-loopback connection
with an error that names the host, so a call the archive does not stand in for
fails loudly instead of leaking out.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit, urlunsplit

__all__ = ["install", "uninstall", "rewrite", "guard_sockets", "unguard_sockets", "NonLoopbackError"]

_state: dict[str, Any] = {"base": None, "originals": [], "guard": []}


class NonLoopbackError(ConnectionRefusedError):
    """A connection to a host other than loopback was attempted under the local archive."""


def _is_loopback(host: str | None) -> bool:
    if not host:
        return True  # relative or unix-socket URLs
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def rewrite(url: str) -> str:
    """``https://host/path?q`` -> ``<base>/host/path?q``; loopback URLs stay as they are."""
    base = _state["base"]
    parts = urlsplit(url)
    if base is None or parts.scheme not in ("http", "https") or _is_loopback(parts.hostname):
        return url
    local = urlsplit(base)
    return urlunsplit((local.scheme, local.netloc, f"/{parts.hostname}{parts.path or '/'}", parts.query, ""))


def _patch(owner: Any, name: str, make: Any, kind: str = "originals") -> None:
    original = getattr(owner, name)
    _state[kind].append((owner, name, original))
    setattr(owner, name, make(original))


def install(base_url: str) -> None:
    """Rewrite non-loopback URLs of requests, urllib and aiohttp to ``base_url``.

    Examples
    --------
    >>> install("http://127.0.0.1:8765")   # doctest: +SKIP
    """
    uninstall()
    _state["base"] = base_url.rstrip("/")

    import urllib.request

    import requests.adapters

    def make_send(original: Any) -> Any:
        def send(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
            request.url = rewrite(request.url)
            return original(self, request, *args, **kwargs)

        return send

    _patch(requests.adapters.HTTPAdapter, "send", make_send)

    def make_open(original: Any) -> Any:
        def open_(self: Any, fullurl: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(fullurl, str):
                fullurl = rewrite(fullurl)
            else:
                fullurl.full_url = rewrite(fullurl.full_url)
            return original(self, fullurl, *args, **kwargs)

        return open_

    _patch(urllib.request.OpenerDirector, "open", make_open)

    try:
        import aiohttp
    except ImportError:
        return

    def make_request(original: Any) -> Any:
        async def _request(self: Any, method: str, str_or_url: Any, *args: Any, **kwargs: Any) -> Any:
            return await original(self, method, rewrite(str(str_or_url)), *args, **kwargs)

        return _request

    _patch(aiohttp.ClientSession, "_request", make_request)


def uninstall() -> None:
    """Undo :func:`install` (the socket guard stays; see :func:`unguard_sockets`)."""
    while _state["originals"]:
        owner, name, original = _state["originals"].pop()
        setattr(owner, name, original)
    _state["base"] = None


def unguard_sockets() -> None:
    """Undo :func:`guard_sockets`."""
    while _state["guard"]:
        owner, name, original = _state["guard"].pop()
        setattr(owner, name, original)


def guard_sockets() -> None:
    """Refuse DNS lookups and connections to anything but loopback, naming the host."""

    def make_getaddrinfo(original: Any) -> Any:
        def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            name = host.decode() if isinstance(host, bytes) else host
            if name is not None and not _is_loopback(str(name)):
                raise NonLoopbackError(f"the local archive refuses a lookup of non-loopback host {name!r}")
            return original(host, *args, **kwargs)

        return getaddrinfo

    def make_connect(original: Any) -> Any:
        def connect(self: Any, address: Any) -> Any:
            if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(str(address[0])):
                raise NonLoopbackError(f"the local archive refuses a connection to non-loopback host {address[0]!r}")
            return original(self, address)

        return connect

    if _state["guard"]:
        return  # already guarded
    _patch(socket, "getaddrinfo", make_getaddrinfo, "guard")
    _patch(socket.socket, "connect", make_connect, "guard")
    _patch(socket.socket, "connect_ex", make_connect, "guard")
