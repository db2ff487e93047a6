"""Faults queued for the local archive's servers to play on the requests they match.

The connection-level faults act on the real TCP socket under werkzeug:

* :func:`reset_connection` aborts it with a TCP reset (RST) before any response
  byte, so the client sees ``ECONNRESET``, never an HTTP status;
* :func:`close_connection` ends it with an orderly FIN, e.g. after half of an
  announced body, so the client sees a body shorter than its ``Content-Length``;
* :func:`drip` sends a body one byte at a time, which no per-read socket
  timeout ever catches: only a total deadline does.
"""

from __future__ import annotations

import os
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Fault", "FaultQueue", "reset_connection", "close_connection", "reset_response", "truncate", "drip",
    "DEFAULT_SECONDS",
]

# What ``seconds`` means per kind when the caller does not say: the delay of a
# "slow" answer, the pause between two bytes of a "drip".
DEFAULT_SECONDS = {"slow": 5.0, "drip": 0.5}


@dataclass
class Fault:
    """One kind of failure, for the next ``count`` requests that ``matches`` accepts."""

    kind: str
    count: int
    seconds: float
    matches: Callable[..., bool]


class FaultQueue:
    """Thread-safe: servers ``take`` the first live fault that matches a request.

    Examples
    --------
    >>> queue = FaultQueue(("503", "drip"))
    >>> queue.add("drip", 1, None, lambda key: key == "a.fits")
    >>> queue.take("b.fits"), queue.take("a.fits").seconds, queue.take("a.fits")
    (None, 0.5, None)
    """

    def __init__(self, kinds: tuple[str, ...]):
        self.kinds = kinds
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, kind: str, count: int, seconds: float | None, matches: Callable[..., bool]) -> None:
        if kind not in self.kinds:
            raise ValueError(f"unknown fault {kind!r} (known: {', '.join(self.kinds)})")
        if seconds is None:
            seconds = DEFAULT_SECONDS.get(kind, 5.0)
        with self._lock:
            self._faults.append(Fault(kind, count, seconds, matches))

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, *request: Any) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.count > 0 and fault.matches(*request):
                    fault.count -= 1
                    return fault
        return None


def _detach(sock: socket.socket) -> None:
    """Drop the process's only reference to the connection behind ``sock``'s descriptor.

    ``sock.close()`` is not enough: werkzeug's rfile/wfile hold the socket open
    (``makefile`` references), and werkzeug would then still write a 500 on it.
    Pointing the descriptor at one end of a dead socket pair closes the TCP
    connection in the kernel at once, while werkzeug's later writes fail with
    EPIPE (a dropped connection it handles quietly) instead of landing on a
    descriptor number reused by another connection.
    """
    spare, peer = socket.socketpair()
    peer.close()
    try:
        os.dup2(spare.fileno(), sock.fileno())
    finally:
        spare.close()


def reset_connection(environ: dict) -> None:
    """Abort a WSGI request's connection with a TCP reset (SO_LINGER 0), before any response byte."""
    sock = environ.get("werkzeug.socket")
    if sock is None:
        return
    try:
        # With a zero linger time, closing the last reference sends RST instead of FIN.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        _detach(sock)
    except OSError:
        pass  # the client already went away


def close_connection(environ: dict) -> None:
    """End a WSGI request's connection with an orderly FIN, whatever was announced."""
    sock = environ.get("werkzeug.socket")
    if sock is None:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
        _detach(sock)
    except OSError:
        pass


def reset_response(environ: dict, start_response: Any) -> Iterable[bytes]:
    """A WSGI answer that resets the connection: werkzeug's own writes then fail as a dropped connection."""
    reset_connection(environ)
    start_response("500 Connection Reset", [("Content-Length", "0")])  # never reaches the client
    return []


def drip(body: Iterable[bytes], seconds: float) -> Iterator[bytes]:
    """Yield ``body`` one byte every ``seconds``, until it ends or the client goes away.

    Examples
    --------
    >>> list(drip([b"ab", b"c"], 0))
    [b'a', b'b', b'c']
    """
    try:
        for chunk in body:
            for i in range(len(chunk)):
                time.sleep(seconds)
                yield chunk[i : i + 1]
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()


def truncate(body: Iterable[bytes], environ: dict) -> Iterator[bytes]:
    """Send about half of a body whose full length was announced, then close the connection (FIN)."""
    try:
        data = b"".join(body)
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()
    yield data[: len(data) // 2]
    close_connection(environ)
