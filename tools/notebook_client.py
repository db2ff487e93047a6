"""nbclient's notebook client, with its waits for a kernel's reply looked at again every second.

Seen here (2026-11-26, nbclient 0.11.0, jupyter_client 8.10.0, pyzmq 27.3.0, with ipykernel 7.4.0
and 6.31.0 alike): now and then the reply to a cell's ``execute_request`` reaches the client's
socket, yet the client's one long wait for it (``get_msg(timeout=<the cell timeout>)`` on
``zmq.asyncio``) is not woken, and returns that reply only when its timeout runs out.  The cell had
finished in a second (its ``status: idle`` had arrived); the run then sat idle for the whole cell
timeout (300 s in ``tools/run_upstream.py``, seen in one Fornax notebook run in four to six; 900 s
in ``tools/execute_notebooks.py``).  The same class of lost wake-up on zmq's edge-triggered file
descriptor is described in zeromq/pyzmq#1865 (an asyncio poll returning its event only at the
timeout) and ipython/ipykernel#1554.

:class:`NotebookClient` waits in slices of :data:`SLICE_SECONDS` up to the same total: every slice
that ends polls the socket anew, so a reply is picked up within a second, and a cell that really
runs long still gets its whole timeout.  Nothing else changes.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from queue import Empty
from typing import Any

import nbclient

__all__ = ["NotebookClient", "SLICE_SECONDS"]

SLICE_SECONDS = 1.0


class NotebookClient(nbclient.NotebookClient):
    """:class:`nbclient.NotebookClient` whose waits for shell replies poll again every second."""

    async def async_start_new_kernel_client(self) -> Any:
        client = await super().async_start_new_kernel_client()
        channel = client.shell_channel
        channel.get_msg = _in_slices(channel.get_msg)
        return client


def _in_slices(get_msg: Callable[..., Awaitable[dict]]) -> Callable[..., Awaitable[dict]]:
    """``get_msg(timeout=T)`` as repeated waits of at most :data:`SLICE_SECONDS`, ``Empty`` after T in all."""

    async def get(timeout: float | None = None) -> dict:
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            left = SLICE_SECONDS if end is None else max(0.0, min(SLICE_SECONDS, end - time.monotonic()))
            try:
                return await get_msg(timeout=left)
            except Empty:
                if end is not None and time.monotonic() >= end:
                    raise

    return get
