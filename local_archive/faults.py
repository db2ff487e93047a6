"""Faults queued for the local archive's servers to play on the requests they match."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Fault", "FaultQueue", "reset_connection"]


@dataclass
class Fault:
    """One kind of failure, for the next ``count`` requests that ``matches`` accepts."""

    kind: str
    count: int
    seconds: float
    matches: Callable[..., bool]


class FaultQueue:
    """Thread-safe: servers ``take`` the first live fault that matches a request."""

    def __init__(self, kinds: tuple[str, ...]):
        self.kinds = kinds
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, kind: str, count: int, seconds: float, matches: Callable[..., bool]) -> None:
        if kind not in self.kinds:
            raise ValueError(f"unknown fault {kind!r} (known: {', '.join(self.kinds)})")
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


def reset_connection(environ: dict) -> None:
    """Close a WSGI request's connection with a TCP reset (SO_LINGER 0), before any response."""
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
