"""Send a process's HTTP calls to the local archive, without changing the calling code.

:func:`install` rewrites every non-loopback URL that ``requests`` (pyvo,
astroquery), ``urllib`` (astropy's ``download_file``) and ``aiohttp`` (fsspec's
HTTP filesystem) open into ``<local archive>/<host><path>``.  An HTTPS
interception proxy cannot do this: astropy pins certifi and aiohttp ignores
proxies.  :func:`guard_sockets` then refuses any other non-loopback lookup or
connection with an error that names the host, so a call the archive does not
stand in for fails loudly instead of leaking out.

What the guard covers, and what it cannot
------------------------------------------
Everything that goes through Python's ``socket`` module: name lookups
(``getaddrinfo``, ``gethostbyname``, ``gethostbyname_ex``, ``gethostbyaddr``,
``getnameinfo``), ``create_connection``, and ``connect``, ``connect_ex``,
``sendto`` (UDP) and ``sendmsg`` on ``socket.socket`` and on raw
``_socket.socket`` objects.  These are refused in Python, before the C call,
so not even a DNS query leaves.  An audit hook (:pep:`578`) backs them up for
sockets and functions bound before the guard was installed; it sees the call
just before the system call, which for a numeric address is still before any
packet, but for a host *name* passed to ``connect`` only after CPython has
resolved it.  ``local_archive.startup`` installs the guard at interpreter
start-up (through ``sitecustomize``), before anything else can bind them.

Native code that opens its own sockets is out of reach of any Python-level
guard: pyarrow's S3 filesystem (the AWS C++ SDK), c-ares (aiodns), libcurl,
gRPC, or a C extension calling ``connect(2)``; so are programs that are not
Python.  Only a network namespace with nothing but loopback closes those
(``unshare -rn``, as CI does).
"""

from __future__ import annotations

import _socket
import functools
import ipaddress
import socket
import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

__all__ = ["install", "uninstall", "rewrite", "guard_sockets", "unguard_sockets", "is_guarded", "NonLoopbackError"]

_state: dict[str, Any] = {"base": None, "originals": [], "guard": [], "guarding": False, "audit_hook": False}

# Families that never leave the machine; AF_INET/AF_INET6 are checked by address, any other
# family (AF_PACKET, AF_CAN, AF_VSOCK, ...) is refused outright.
_LOCAL_FAMILIES = frozenset(getattr(socket, name) for name in ("AF_UNIX", "AF_NETLINK", "AF_ALG")
                            if hasattr(socket, name))
_IP_FAMILIES = frozenset({socket.AF_INET, socket.AF_INET6})
_RAW_SOCKET = _socket.socket  # the C socket type, before guard_sockets swaps the module attribute


class NonLoopbackError(ConnectionRefusedError):
    """A lookup of, or connection to, a host other than loopback was attempted under the local archive."""


def _is_loopback(host: Any) -> bool:
    """Is ``host`` loopback (or empty, meaning this machine)?  Anything unrecognised is not."""
    if host is None:
        return True  # relative or unix-socket URLs; getaddrinfo(None, port) for a local bind
    if isinstance(host, (bytes, bytearray)):
        host = bytes(host).decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.strip().strip("[]")
    if not name:
        return True  # "" is INADDR_ANY: this machine
    if name.lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False  # a host name (or a numeric form ipaddress does not read, e.g. "127.1"): refuse
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is loopback; Python < 3.13 says it is not
    return address.is_loopback or address.is_unspecified


def rewrite(url: str) -> str:
    """``https://host/path?q`` -> ``<base>/host/path?q``; loopback URLs stay as they are.

    Examples
    --------
    >>> uninstall()
    >>> rewrite("https://irsa.ipac.caltech.edu/SIA?POS=1,2")  # without install(), URLs are unchanged
    'https://irsa.ipac.caltech.edu/SIA?POS=1,2'
    """
    base = _state["base"]
    parts = urlsplit(url)
    if base is None or parts.scheme not in ("http", "https") or _is_loopback(parts.hostname):
        return url
    local = urlsplit(base)
    return urlunsplit((local.scheme, local.netloc, f"/{parts.hostname}{parts.path or '/'}", parts.query, ""))


def _patch(owner: Any, name: str, make: Callable[[Any], Any], kind: str = "originals") -> None:
    original = getattr(owner, name)
    # Undoing must delete an override of an inherited method (socket.socket inherits connect from
    # _socket.socket) rather than copy the C method onto the subclass.
    inherited = isinstance(owner, type) and name not in vars(owner)
    _state[kind].append((owner, name, original, inherited))
    setattr(owner, name, make(original))


def _undo(kind: str) -> None:
    while _state[kind]:
        owner, name, original, inherited = _state[kind].pop()
        if inherited:
            delattr(owner, name)
        else:
            setattr(owner, name, original)


def install(base_url: str) -> None:
    """Rewrite non-loopback URLs of requests, urllib and aiohttp to ``base_url``.

    Libraries that are not installed are skipped (an interpreter without
    ``requests`` still gets urllib rewritten).

    Examples
    --------
    >>> install("http://127.0.0.1:8765")   # doctest: +SKIP
    """
    if _state["base"] == base_url.rstrip("/") and _state["originals"]:
        # Already pointed there (a kernel's IPython start-up file after sitecustomize): leave the
        # patches as they are, since undoing them would also drop whatever wrapped them since
        # (the recorder's, local_archive.recording), which then records no aiohttp (s3fs) traffic.
        return
    uninstall()
    _state["base"] = base_url.rstrip("/")

    import urllib.request

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
        import requests.adapters
    except ImportError:
        pass
    else:

        def make_send(original: Any) -> Any:
            def send(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
                request.url = rewrite(request.url)
                return original(self, request, *args, **kwargs)

            return send

        _patch(requests.adapters.HTTPAdapter, "send", make_send)

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
    _undo("originals")
    _state["base"] = None


def _refuse(what: str, host: Any) -> NonLoopbackError:
    return NonLoopbackError(f"the local archive refuses {what} non-loopback host {host!r}")


def _check_address(family: Any, address: Any, what: str) -> None:
    """Raise :class:`NonLoopbackError` when ``address`` (of a socket of ``family``) leaves the machine."""
    if family in _IP_FAMILIES:
        if isinstance(address, (tuple, list)) and address and not _is_loopback(address[0]):
            raise _refuse(what, address[0])
    elif family not in _LOCAL_FAMILIES:
        raise NonLoopbackError(f"the local archive refuses {what} {address!r}: socket family {family!r} is not local")


def _check_host(host: Any) -> None:
    if not _is_loopback(host):
        raise _refuse("a lookup of", host)


# Guarded versions of the socket methods that take a destination address.
def _guard_connect(original: Any) -> Any:
    @functools.wraps(original)
    def connect(self: Any, address: Any) -> Any:
        _check_address(self.family, address, "a connection to")
        return original(self, address)

    return connect


def _guard_sendto(original: Any) -> Any:
    @functools.wraps(original)
    def sendto(self: Any, data: Any, *args: Any) -> Any:  # sendto(data, address) or sendto(data, flags, address)
        if args:
            _check_address(self.family, args[-1], "a datagram to")
        return original(self, data, *args)

    return sendto


def _guard_sendmsg(original: Any) -> Any:
    @functools.wraps(original)
    def sendmsg(self: Any, buffers: Any, *args: Any) -> Any:  # sendmsg(buffers, ancdata, flags, address)
        if len(args) >= 3 and args[2] is not None:
            _check_address(self.family, args[2], "a message to")
        return original(self, buffers, *args)

    return sendmsg


_METHOD_GUARDS = {"connect": _guard_connect, "connect_ex": _guard_connect,
                  "sendto": _guard_sendto, "sendmsg": _guard_sendmsg}


class _GuardedRawSocket(_RAW_SOCKET):
    """``_socket.socket`` refusing non-loopback addresses, for code that bypasses ``socket.socket``."""

    __slots__ = ()


for _name, _make in _METHOD_GUARDS.items():
    if hasattr(_RAW_SOCKET, _name):  # sendmsg is missing on some platforms
        setattr(_GuardedRawSocket, _name, _make(getattr(_RAW_SOCKET, _name)))
del _name, _make


def _guard_lookup(original: Any, host_of: Callable[..., Any]) -> Any:
    @functools.wraps(original)
    def lookup(*args: Any, **kwargs: Any) -> Any:
        _check_host(host_of(*args, **kwargs))
        return original(*args, **kwargs)

    return lookup


def _first(host: Any = None, *args: Any, **kwargs: Any) -> Any:
    return host


def _sockaddr_host(sockaddr: Any = None, *args: Any, **kwargs: Any) -> Any:
    return sockaddr[0] if isinstance(sockaddr, (tuple, list)) and sockaddr else sockaddr


def _guard_create_connection(original: Any) -> Any:
    @functools.wraps(original)
    def create_connection(address: Any, *args: Any, **kwargs: Any) -> Any:
        _check_address(socket.AF_INET, address, "a connection to")
        return original(address, *args, **kwargs)

    return create_connection


_LOOKUPS = {"getaddrinfo": _first, "gethostbyname": _first, "gethostbyname_ex": _first,
            "gethostbyaddr": _first, "getnameinfo": _sockaddr_host}

# Audit events (PEP 578) raised by CPython's socket module just before the system call.
_AUDITED_SENDS = {"socket.connect": "a connection to", "socket.sendto": "a datagram to",
                  "socket.sendmsg": "a message to"}
_AUDITED_LOOKUPS = frozenset({"socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr",
                              "socket.getnameinfo"})


def _audit(event: str, args: tuple) -> None:
    """The backstop: refuse what reached CPython's socket module around the Python-level guard."""
    if not event.startswith("socket.") or not _state["guarding"]:
        return
    if event in _AUDITED_SENDS:
        sock, address = args
        if address is not None:
            _check_address(sock.family, address, _AUDITED_SENDS[event])
    elif event in _AUDITED_LOOKUPS:
        host = args[0]
        # gethostbyname(_ex) and gethostbyaddr pass their argument tuple, getnameinfo its sockaddr.
        if isinstance(host, tuple):
            host = host[0] if host else None
        _check_host(host)


def is_guarded() -> bool:
    """Is :func:`guard_sockets` in force in this process?"""
    return _state["guarding"]


def guard_sockets() -> None:
    """Refuse lookups of, and connections or datagrams to, anything but loopback, naming the host.

    Idempotent; :func:`unguard_sockets` undoes it.  See the module's notes for
    what a Python-level guard cannot cover.

    Examples
    --------
    >>> guard_sockets()                                  # doctest: +SKIP
    >>> socket.getaddrinfo("archive.example.invalid", 443)   # doctest: +SKIP
    Traceback (most recent call last):
    NonLoopbackError: the local archive refuses a lookup of non-loopback host 'archive.example.invalid'
    """
    if _state["guarding"]:
        return
    for module in (socket, _socket):
        for name, host_of in _LOOKUPS.items():
            if hasattr(module, name):
                _patch(module, name, functools.partial(_guard_lookup, host_of=host_of), "guard")
    _patch(socket, "create_connection", _guard_create_connection, "guard")
    for name, make in _METHOD_GUARDS.items():
        if hasattr(socket.socket, name):
            _patch(socket.socket, name, make, "guard")
    # Code that builds sockets from the C type itself gets the guarded subclass.  socket.socket keeps
    # its base class, and SocketType (the name isinstance checks use) stays the C type, so every
    # socket made before or after is still an instance of it.
    _patch(_socket, "socket", lambda original: _GuardedRawSocket, "guard")
    if not _state["audit_hook"]:
        sys.addaudithook(_audit)  # cannot be removed: unguard_sockets makes it a no-op instead
        _state["audit_hook"] = True
    _state["guarding"] = True


def unguard_sockets() -> None:
    """Undo :func:`guard_sockets`."""
    _state["guarding"] = False
    _undo("guard")
