"""A real S3 protocol server on loopback: moto's server, plus fast ranged GETs.

moto keeps the buckets, listings, HEAD and metadata.  moto spends about 25 ms
of CPU on every ranged GET of a large object, which would make many-small-reads
strategies look slow for a reason real S3 does not have, so GETs of objects
registered from files on disk are answered straight from the file, with the
headers moto would send (ETag, Last-Modified, Content-Range).

Every request is counted per object (requests and body bytes), so tests and
benchmarks can check how many bytes a read really moved.  Latency and bandwidth
can be injected to make loopback behave like a network link.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from .faults import FaultQueue, drip, reset_response, truncate

__all__ = ["S3Server", "ObjectStats"]

CONTROL = "/__local_archive__/"  # not a valid bucket name, so never an S3 path
_RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
_SEND_CHUNK = 256 << 10


@dataclass
class ObjectStats:
    """What the server sent for one object (or for a bucket-level call)."""

    requests: int = 0
    bytes: int = 0
    ranges: list[str] = field(default_factory=list)
    server_seconds: list[float] = field(default_factory=list)  # CPU time spent serving each request


@dataclass
class _FileObject:
    path: Path
    size: int
    etag: str
    last_modified: str
    content_type: str


class S3Server:
    """moto's S3 server on 127.0.0.1 with counters, file-backed GETs and a link model.

    Parameters
    ----------
    port : int
        0 picks a free port.
    latency : float
        Seconds added before every response (a round trip).
    bandwidth : float or None
        Bytes per second for response bodies; None for unlimited.

    Examples
    --------
    >>> server = S3Server().start()                       # doctest: +SKIP
    >>> server.put_file("nasa-heasarc", "a/b.fits", "b.fits")  # doctest: +SKIP
    >>> os.environ["AWS_ENDPOINT_URL_S3"] = server.endpoint     # doctest: +SKIP
    """

    def __init__(self, port: int = 0, latency: float = 0.0, bandwidth: float | None = None):
        self._port = port
        self.latency = latency
        self.bandwidth = bandwidth
        self._files: dict[tuple[str, str], _FileObject] = {}
        self._stats: dict[tuple[str, str], ObjectStats] = defaultdict(ObjectStats)
        self._lock = threading.Lock()
        self.signed_requests = 0  # requests carrying a signature or credentials, since the last reset
        # Replay hook (local_archive.replay.Replay, set by LocalArchive(replay=...)): recorded answers to
        # requests for an object come first, the rest say "generated" in X-Local-Archive-Source.
        self.replay: Any = None
        self.faults = FaultQueue((*_FAULT_STATUS, "slow", "truncate", "reset", "drip"))
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._client: Any = None

    # --- life cycle -----------------------------------------------------------------

    def start(self) -> S3Server:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        from .httpserver import QuietHandler

        moto_app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(
            "127.0.0.1", self._port, self._wsgi(moto_app), threaded=True, request_handler=QuietHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="s3server")
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> S3Server:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        """``http://127.0.0.1:PORT``, the value for ``AWS_ENDPOINT_URL_S3``."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # --- content --------------------------------------------------------------------

    @property
    def client(self) -> Any:
        """A boto3 client for this server (with dummy keys: moto ignores them)."""
        if self._client is None:
            import boto3

            self._client = boto3.session.Session(
                aws_access_key_id="local-archive", aws_secret_access_key="local-archive"
            ).client("s3", endpoint_url=self.endpoint, region_name="us-east-1")
        return self._client

    def create_bucket(self, bucket: str, region: str = "us-east-1") -> None:
        """Create a public-read bucket (unsigned reads need the ACL on bucket and objects)."""
        kwargs: dict[str, Any] = {"Bucket": bucket, "ACL": "public-read"}
        if region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            self.client.create_bucket(**kwargs)
        except self.client.exceptions.BucketAlreadyOwnedByYou:
            pass

    def put_bytes(self, bucket: str, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        """Store a small object in moto; moto serves its GETs."""
        self.client.put_object(Bucket=bucket, Key=key, Body=data, ACL="public-read", ContentType=content_type)

    def put_file(
        self, bucket: str, key: str, path: str | os.PathLike, content_type: str = "application/octet-stream"
    ) -> None:
        """Store a file's object in moto and serve its GETs from the file."""
        path = Path(path)
        data = path.read_bytes()
        stored = _put_in_process(bucket, key, data, content_type)
        if stored is None:  # not this moto's in-process store: through its S3 API, as any client would
            self.client.put_object(Bucket=bucket, Key=key, Body=data, ACL="public-read", ContentType=content_type)
            head = self.client.head_object(Bucket=bucket, Key=key)
            stored = head["ETag"], head["ResponseMetadata"]["HTTPHeaders"]["last-modified"]
            digest = hashlib.md5(data).hexdigest()  # noqa: S324 - S3's ETag is MD5
            if stored[0].strip('"') != digest:
                raise RuntimeError(f"moto's ETag {stored[0]} for {key} differs from the file's MD5 {digest}")
        etag, modified = stored
        self._files[(bucket, key)] = _FileObject(path, len(data), etag, modified, content_type)

    # --- faults ---------------------------------------------------------------------

    def inject(self, kind: str, *, key: str | None = None, count: int = 1, seconds: float | None = None,
               methods: tuple[str, ...] = ("GET", "HEAD")) -> None:
        """Make the next ``count`` matching requests fail.

        ``kind`` is ``"500"``, ``"502"``, ``"503"`` (S3's SlowDown), ``"504"``,
        ``"403"``, ``"404"``, ``"slow"`` (answer after ``seconds``, default 5),
        ``"truncate"`` (announce the whole body of a GET, send half, then close
        the connection with a FIN), ``"reset"`` (abort the connection with a TCP
        reset before any response byte) or ``"drip"`` (send a GET's body one byte
        every ``seconds``, default 0.5).
        """
        self.faults.add(kind, count, seconds, lambda method, k: method in methods and key in (None, k))

    def clear_faults(self) -> None:
        self.faults.clear()

    # --- counters -------------------------------------------------------------------

    def stats(self, bucket: str, key: str = "") -> ObjectStats:
        """Requests and body bytes served for one object since the last reset."""
        with self._lock:
            found = self._stats.get((bucket, key), ObjectStats())
            return ObjectStats(found.requests, found.bytes, list(found.ranges), list(found.server_seconds))

    def totals(self) -> ObjectStats:
        """Requests and bytes over all objects."""
        with self._lock:
            return ObjectStats(
                sum(s.requests for s in self._stats.values()), sum(s.bytes for s in self._stats.values())
            )

    def reset_stats(self) -> None:
        with self._lock:
            self._stats.clear()
            self.signed_requests = 0

    def _count(self, bucket: str, key: str, nbytes: int, rng: str | None, new_request: bool) -> None:
        with self._lock:
            stats = self._stats[(bucket, key)]
            if new_request:
                stats.requests += 1
                if rng:
                    stats.ranges.append(rng)
            stats.bytes += nbytes

    # --- WSGI -----------------------------------------------------------------------

    def _wsgi(self, moto_app: Any) -> Any:
        def app(environ: dict, start_response: Any) -> Iterable[bytes]:
            cpu_start = time.thread_time()
            if environ.get("PATH_INFO", "").startswith(CONTROL):
                return self._control(environ, start_response)
            bucket, key = self._split_path(environ.get("PATH_INFO", "/"))
            rng = environ.get("HTTP_RANGE")
            self._count(bucket, key, 0, rng, new_request=True)
            if _is_signed(environ):
                with self._lock:
                    self.signed_requests += 1
            if self.latency:
                time.sleep(self.latency)
            fault = self.faults.take(environ["REQUEST_METHOD"], key) if key else None
            kind = fault.kind if fault is not None else None
            if kind in _FAULT_STATUS:
                status, code = _FAULT_STATUS[kind]
                start_response(status, [("Content-Type", "application/xml")])
                injected = _error_xml(code, "injected by the local archive")
                return [] if environ["REQUEST_METHOD"] == "HEAD" else [injected]
            if kind == "reset":
                return reset_response(environ, start_response)
            if kind == "slow":
                time.sleep(fault.seconds)
            if self.replay is not None and bucket:  # replay hook: the recorded answer first, saying which
                recorded = self.replay.answer_s3(environ["REQUEST_METHOD"], bucket, key,
                                                 environ.get("QUERY_STRING", ""), rng or "")
                if recorded is not None:
                    return self._metered(recorded(environ, start_response), bucket, key, cpu_start)
                start_response = _saying_generated(start_response)
            found = self._files.get((bucket, key))
            if environ["REQUEST_METHOD"] == "GET" and found is not None and not environ.get("QUERY_STRING"):
                body = self._serve_file(found, rng, start_response)
            elif environ["REQUEST_METHOD"] == "HEAD" and found is not None and not environ.get("QUERY_STRING"):
                # moto's objects are one store per process: another S3Server in this process (a test's)
                # may have put an object under the same key, so HEAD answers from this server's file too.
                start_response("200 OK", self._file_headers(found) + [("Content-Length", str(found.size))])
                body = []
            else:
                body = moto_app(environ, start_response)
            if kind == "truncate" and environ["REQUEST_METHOD"] == "GET":
                body = truncate(body, environ)
            elif kind == "drip" and environ["REQUEST_METHOD"] == "GET":
                body = drip(body, fault.seconds)
            return self._metered(body, bucket, key, cpu_start)

        return app

    def _control(self, environ: dict, start_response: Any) -> Iterable[bytes]:
        """``/__local_archive__/{stats,reset,link}``: counters and link settings for another process."""
        from urllib.parse import parse_qs

        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        action = environ["PATH_INFO"][len(CONTROL):].strip("/")
        if action == "reset":
            self.reset_stats()
        elif action == "link":
            self.latency = float(query.get("latency", self.latency))
            bandwidth = query.get("bandwidth")
            if bandwidth is not None:
                self.bandwidth = float(bandwidth) or None
        elif action != "stats":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [f"unknown control action {action!r}".encode()]
        stats = self.stats(query.get("bucket", ""), query.get("key", "")) if "bucket" in query else self.totals()
        body = json.dumps({"requests": stats.requests, "bytes": stats.bytes, "ranges": stats.ranges,
                           "latency": self.latency, "bandwidth": self.bandwidth,
                           "signed_requests": self.signed_requests}).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    @staticmethod
    def _split_path(path: str) -> tuple[str, str]:
        bucket, _, key = unquote(path).lstrip("/").partition("/")
        return bucket, key

    @staticmethod
    def _file_headers(obj: _FileObject) -> list[tuple[str, str]]:
        return [
            ("Content-Type", obj.content_type),
            ("ETag", obj.etag),
            ("Last-Modified", obj.last_modified),
            ("Accept-Ranges", "bytes"),
        ]

    def _serve_file(self, obj: _FileObject, rng: str | None, start_response: Any) -> Iterable[bytes]:
        headers = self._file_headers(obj)
        start, end, status = 0, obj.size - 1, "200 OK"
        if rng:
            parsed = _parse_range(rng, obj.size)
            if parsed is None:
                start_response("416 Requested Range Not Satisfiable", [("Content-Type", "application/xml")])
                return [_error_xml("InvalidRange", "The requested range is not satisfiable")]
            start, end = parsed
            status = "206 Partial Content"
            headers.append(("Content-Range", f"bytes {start}-{end}/{obj.size}"))
        headers.append(("Content-Length", str(end - start + 1)))
        start_response(status, headers)
        return _file_chunks(obj.path, start, end - start + 1)

    def _metered(self, body: Iterable[bytes], bucket: str, key: str, cpu_start: float) -> Iterable[bytes]:
        cpu = 0.0
        try:
            for chunk in body:
                cpu += time.thread_time() - cpu_start
                if self.bandwidth:
                    time.sleep(len(chunk) / self.bandwidth)
                self._count(bucket, key, len(chunk), None, new_request=False)
                yield chunk
                cpu_start = time.thread_time()
            cpu += time.thread_time() - cpu_start
            with self._lock:
                self._stats[(bucket, key)].server_seconds.append(cpu)
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()


_FAULT_STATUS = {
    "500": ("500 Internal Server Error", "InternalError"),
    "502": ("502 Bad Gateway", "BadGateway"),
    "503": ("503 Slow Down", "SlowDown"),
    "504": ("504 Gateway Timeout", "GatewayTimeout"),
    "403": ("403 Forbidden", "AccessDenied"),
    "404": ("404 Not Found", "NoSuchKey"),
}


def _put_in_process(bucket: str, key: str, data: bytes, content_type: str) -> tuple[str, str] | None:
    """Store an object straight in moto's in-process S3 backend: ``(ETag, Last-Modified)``, or None.

    What ``PutObject`` with ``ACL=public-read`` and ``Content-Type`` does through moto's server
    (moto 5's ``S3Response._key_response_put``: ``put_object``, then ``set_metadata`` and
    ``set_acl``), without sending the holdings' 1 GB over loopback HTTP: the archive starts in
    a few seconds instead of about fifteen.  None when this moto's backend has another shape
    or the bucket is not there (the caller then uses the S3 API).  Unlike a put through botocore
    (which adds a CRC32 checksum by default since 1.36), the object has no additional checksum, so
    listings show no ``ChecksumAlgorithm``: as for objects uploaded without one (S3 API reference,
    ListObjectsV2, ``ChecksumAlgorithm``: "The algorithm that was used to create a checksum of the
    object"), which the archives' years-old holdings are.
    """
    try:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.s3.models import get_canned_acl, s3_backends

        backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]  # where the server keeps unsigned and dummy-key buckets
        if bucket not in backend.buckets:
            return None
        stored = backend.put_object(bucket, key, data, disable_notification=True)
        stored.set_metadata({"Content-Type": content_type})
        stored.set_acl(get_canned_acl("public-read"))
        return stored.etag, stored.last_modified_RFC1123
    except (ImportError, AttributeError, KeyError, TypeError):
        return None


def _saying_generated(start_response: Any) -> Any:
    """``start_response`` that adds ``X-Local-Archive-Source: generated`` (local_archive.replay.SOURCE_HEADER)."""
    def start(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
        return start_response(status, [*headers, ("X-Local-Archive-Source", "generated")], *args)

    return start


def _is_signed(environ: dict) -> bool:
    query = environ.get("QUERY_STRING", "")
    return bool(
        environ.get("HTTP_AUTHORIZATION")
        or environ.get("HTTP_X_AMZ_SECURITY_TOKEN")
        or "X-Amz-Signature=" in query
        or "X-Amz-Credential=" in query
    )


def _parse_range(header: str, size: int) -> tuple[int, int] | None:
    match = _RANGE_RE.match(header.strip())
    if not match or size == 0:
        return None
    first, last = match.groups()
    if first == "":
        if last == "" or int(last) == 0:
            return None
        return max(size - int(last), 0), size - 1
    start = int(first)
    end = size - 1 if last == "" else min(int(last), size - 1)
    if start >= size or end < start:
        return None
    return start, end


def _file_chunks(path: Path, start: int, length: int) -> Iterable[bytes]:
    with open(path, "rb") as handle:
        handle.seek(start)
        while length > 0:
            chunk = handle.read(min(_SEND_CHUNK, length))
            if not chunk:
                return
            length -= len(chunk)
            yield chunk


def _error_xml(code: str, message: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
        f"<Message>{message}</Message></Error>"
    ).encode()
