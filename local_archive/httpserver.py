"""One loopback HTTP server that answers for many archive hosts.

Requests reach it as ``http://127.0.0.1:PORT/<original host>/<original path>``
(see :mod:`local_archive.redirect`).  Handlers are registered per host
and path prefix and receive a werkzeug ``Request``; a request nobody handles
gets a 404 that names the host and path, so a missing stand-in is obvious.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from .faults import FaultQueue, reset_connection

__all__ = ["LoopbackHTTPServer", "QuietHandler", "Request", "Response"]

Handler = Callable[[Request, str], Response]


class QuietHandler(WSGIRequestHandler):
    """werkzeug's handler without a log line per request."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class LoopbackHTTPServer:
    """A threaded WSGI server on 127.0.0.1 dispatching on ``/<host>/<path>``.

    Examples
    --------
    >>> server = LoopbackHTTPServer().start()     # doctest: +SKIP
    >>> server.route("mast.stsci.edu", "/api/v0.1/path_lookup", handler)  # doctest: +SKIP
    """

    def __init__(self, port: int = 0):
        self._port = port
        self._routes: list[tuple[str, str, Handler]] = []
        self.hits: Counter[str] = Counter()
        self._server: Any = None
        self.faults = FaultQueue(("500", "503", "slow", "reset", "votable-error"))

    def inject(self, kind: str, *, host: str, prefix: str = "/", count: int = 1, seconds: float = 5.0) -> None:
        """Make the next ``count`` requests to ``host`` (paths under ``prefix``) fail.

        ``kind`` is ``"500"``, ``"503"``, ``"slow"`` (answer after ``seconds``),
        ``"reset"`` (close the connection with a TCP reset) or ``"votable-error"``
        (a VOTable with ``INFO name="QUERY_STATUS" value="ERROR"``).
        """
        self.faults.add(kind, count, seconds, lambda h, p: h.lower() == host.lower() and p.startswith(prefix))

    def clear_faults(self) -> None:
        self.faults.clear()

    def route(self, host: str, prefix: str, handler: Handler) -> None:
        """Answer ``host`` requests whose path starts with ``prefix``; longest prefix wins."""
        self._routes.append((host.lower(), prefix, handler))
        self._routes.sort(key=lambda r: -len(r[1]))

    def start(self) -> LoopbackHTTPServer:
        self._server = make_server("127.0.0.1", self._port, self._app, threaded=True, request_handler=QuietHandler)
        threading.Thread(target=self._server.serve_forever, daemon=True, name="httpserver").start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, host: str, path: str) -> str:
        """The loopback URL that stands for ``https://<host><path>``."""
        return f"{self.base_url}/{host}{path}"

    def _app(self, environ: dict, start_response: Any) -> Any:
        request = Request(environ)
        host, _, rest = request.path.lstrip("/").partition("/")
        path = "/" + rest
        self.hits[f"{host}{path}"] += 1
        fault = self.faults.take(host, path)
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.seconds)  # then answer as usual, too late for the client
        elif fault is not None:
            response = _fault_response(fault.kind, environ)
            return [] if response is None else response(environ, start_response)
        for route_host, prefix, handler in self._routes:
            if host.lower() == route_host and path.startswith(prefix):
                try:
                    response = handler(request, path)
                except Exception as exc:  # a broken stand-in must say so, not hang
                    response = Response(f"local archive handler failed: {exc!r}", status=500)
                return response(environ, start_response)
        # The reason phrase names the host too, so urllib's HTTPError message shows it.
        message = f"the local archive does not serve {host}{path}"
        status = f"404 Not served by the local archive: {host}"
        return Response(message, status=status, content_type="text/plain")(environ, start_response)


def _fault_response(kind: str, environ: dict) -> Response | None:
    from .votables import error_votable

    if kind == "reset":
        reset_connection(environ)
        return None
    if kind == "votable-error":
        return Response(error_votable("Injected service failure"), content_type="text/xml")
    return Response(f"injected {kind}", status=int(kind))
