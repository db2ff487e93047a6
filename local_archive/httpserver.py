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

from .faults import FaultQueue, drip, reset_response, truncate

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
        self.authorized_requests = 0  # requests that carried an Authorization header (e.g. from ~/.netrc)
        self._lock = threading.Lock()
        self._server: Any = None
        # Replay hook (local_archive.replay.Replay, set by LocalArchive(replay=...)): answers recorded
        # requests before the generated services; its answers and theirs then carry X-Local-Archive-Source.
        self.replay: Any = None
        self.faults = FaultQueue(("500", "502", "503", "504", "slow", "reset", "truncate", "drip", "votable-error"))

    def inject(self, kind: str, *, host: str, prefix: str = "/", count: int = 1, seconds: float | None = None) -> None:
        """Make the next ``count`` requests to ``host`` (paths under ``prefix``) fail.

        ``kind`` is ``"500"``, ``"502"``, ``"503"``, ``"504"``, ``"slow"`` (answer
        after ``seconds``, default 5), ``"reset"`` (abort the connection with a
        TCP reset before any response byte), ``"truncate"`` (the usual answer,
        cut after half its announced body by closing the connection), ``"drip"``
        (the usual answer, its body one byte every ``seconds``, default 0.5) or
        ``"votable-error"`` (a VOTable with ``INFO name="QUERY_STATUS" value="ERROR"``).
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
        with self._lock:
            self.hits[f"{host}{path}"] += 1
            if environ.get("HTTP_AUTHORIZATION"):
                self.authorized_requests += 1
        fault = self.faults.take(host, path)
        kind = fault.kind if fault is not None else None
        if kind == "slow":
            time.sleep(fault.seconds)  # then answer as usual, too late for the client
        elif kind == "reset":
            return reset_response(environ, start_response)
        elif kind == "votable-error":
            from .votables import error_votable

            return Response(error_votable("Injected service failure"), content_type="text/xml")(environ, start_response)
        elif kind is not None and kind not in ("drip", "truncate"):
            return Response(f"injected {kind}", status=int(kind))(environ, start_response)
        body = self._dispatch(request, host, path)(environ, start_response)
        if kind == "drip":
            return drip(body, fault.seconds)
        return truncate(body, environ) if kind == "truncate" else body

    def _dispatch(self, request: Request, host: str, path: str) -> Response:
        if self.replay is not None:  # replay hook: recorded answer first, else generated, saying which
            recorded = self.replay.answer(request, host, path)
            answer = recorded if recorded is not None else self._generated(request, host, path)
            answer.headers.setdefault("X-Local-Archive-Source", "generated")
            return answer
        return self._generated(request, host, path)

    def _generated(self, request: Request, host: str, path: str) -> Response:
        for route_host, prefix, handler in self._routes:
            if host.lower() == route_host and path.startswith(prefix):
                try:
                    return handler(request, path)
                except Exception as exc:  # a broken stand-in must say so, not hang
                    return Response(f"local archive handler failed: {exc!r}", status=500)
        # The reason phrase names the host too, so urllib's HTTPError message shows it.
        message = f"the local archive does not serve {host}{path}"
        status = f"404 Not served by the local archive: {host}"
        return Response(message, status=status, content_type="text/plain")
