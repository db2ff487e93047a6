"""Serve a recording: recorded answers for recorded requests, the generated holdings for the rest.

A recording is a folder of vcrpy cassettes (:mod:`local_archive.recording`).  Requests reach
the loopback HTTP server as ``http://127.0.0.1:PORT/<host><path>?<query>``
(:mod:`local_archive.redirect`); the recorded ``https://<host><path>?<query>`` stands for the
same request.  A request is answered from the recording when
the method, host (any case), path, query (pairs, in any order), body (a form body as pairs in any
order, a multipart form as its parts in any order, a JSON object in a form field less its random
cache-busting keys, any other body byte for byte) and ``Range`` header all match a recorded one:
the recorded status, headers (less the hop-by-hop ones and, but for HEAD, ``Content-Length``,
which the server writes for the same body) and body, byte for byte, with
``X-Local-Archive-Source: recorded``.  Several recorded answers to one request are given in
turn, the last one repeated.  Anything else, and an exchange whose body the recording
cut (``x-local-archive-truncated``: a whole large file), is answered by the generated archive as
usual, with ``X-Local-Archive-Source: generated``.

Covered: everything through the loopback HTTP server, S3 over its HTTPS endpoints included
(:mod:`local_archive.services.s3_https`), and the requests to the archive's S3 server itself
(``AWS_ENDPOINT_URL_S3``: boto3, s3fs, pyarrow under the local archive).  An S3 request is the same
request as a recorded one when it names the same object, whatever the endpoint's style: the
recording may hold ``https://<bucket>.s3.<region>.amazonaws.com/<key>`` (virtual-hosted, what
botocore sends), ``https://s3.<region>.amazonaws.com/<bucket>/<key>`` (path style) or the legacy
global forms, and the S3 server is asked path style (:func:`s3_object`); the method, the query
(less the signature's parameters, which change with every request) and ``Range`` must match too.
A multipart form body (a TAP upload) matches part by part, whatever its boundary.  Not covered:
pyarrow's native S3 client is answered but never recorded (:mod:`local_archive.recording`).
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from werkzeug.wrappers import Request, Response

__all__ = ["Replay", "load_interactions", "request_key", "s3_object", "SOURCE_HEADER"]

SOURCE_HEADER = "X-Local-Archive-Source"
TRUNCATED_HEADER = "x-local-archive-truncated"  # local_archive.recording.TRUNCATED_HEADER
# RFC 9110 section 7.6.1 (hop-by-hop) and the length the server computes itself for the same body.
_NOT_REPLAYED = frozenset({"connection", "keep-alive", "proxy-connection", "proxy-authenticate",
                           "proxy-authorization", "te", "trailer", "trailers", "transfer-encoding", "upgrade",
                           "content-length", TRUNCATED_HEADER})
_FORM = "application/x-www-form-urlencoded"
# Keys of a JSON form field whose value is random per request, so never part of matching: astroquery's
# MAST portal client puts a uuid4 "cacheBreaker" into every request JSON (astroquery 0.4.11
# astroquery/mast/discovery_portal.py, _prepare_service_request_string).
_RANDOM_JSON_KEYS = ("cacheBreaker",)

Key = tuple[str, str, str, tuple[tuple[str, str], ...], Any, str]
S3Key = tuple[str, str, str, tuple[tuple[str, str], ...], str]

# S3's endpoint names, from the Amazon S3 User Guide, "Virtual hosting of buckets" and "Legacy
# endpoints" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html):
# s3.amazonaws.com, s3.<region>.amazonaws.com, s3-<region>.amazonaws.com, and the dual-stack
# s3.dualstack.<region>.amazonaws.com ("Dual-stack endpoints", dual-stack-endpoints.html).
_S3_ENDPOINT = re.compile(r"^s3(?:[.-](?:dualstack\.)?[a-z0-9-]+)?\.amazonaws\.com$")
# Query parameters that do not name what is asked, never part of matching: a presigned request's, new with
# every request (SigV4 query parameters, https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html),
# and ``x-id``, the operation's name some SDK versions add (``?x-id=GetObject``), which one client sends and
# another does not for the same object.
_SIGNING = frozenset({"x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-expires",
                      "x-amz-signedheaders", "x-amz-signature", "x-amz-security-token", "x-id"})


def load_interactions(directory: str | Path) -> list[tuple[Any, dict[str, Any]]]:
    """Every ``(request, response)`` of the recording's cassettes, file by file, in recorded order.

    ``request`` is a ``vcr.request.Request`` (``method``, ``uri``, ``body``, ``headers``);
    ``response`` vcrpy's dict (``status``, ``headers``, ``body``).
    """
    from vcr.serialize import deserialize
    from vcr.serializers import yamlserializer

    pairs: list[tuple[Any, dict[str, Any]]] = []
    for path in sorted(Path(directory).glob("*.yaml")):
        requests, responses = deserialize(path.read_text(encoding="utf-8"), yamlserializer)
        pairs.extend(zip(requests, responses, strict=True))
    return pairs


def _header(headers: Any, name: str) -> str:
    """One header's value from vcrpy's request headers (a str) or response headers (a list)."""
    for key, value in dict(headers).items():
        if key.lower() == name.lower():
            return value[0] if isinstance(value, list) else str(value)
    return ""


def _body_key(body: bytes | None, content_type: str) -> Any:
    body = body or b""
    kind = content_type.split(";")[0].strip().lower()
    if kind == _FORM:
        pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        return tuple(sorted((name, _without_random_keys(value)) for name, value in pairs))
    if kind == "multipart/form-data":
        return _multipart_key(body, content_type)
    return body


def _multipart_key(body: bytes, content_type: str) -> Any:
    r"""A multipart form (a TAP upload: pyvo, astroquery) as its parts, less the random boundary.

    Each part is ``(field name, file name, content)``, in any order; RFC 7578 makes the boundary
    the sender's free choice (requests draws a random one per request), so it is never matched.

    Examples
    --------
    >>> one = b'--a1\r\nContent-Disposition: form-data; name="QUERY"\r\n\r\nSELECT 1\r\n--a1--\r\n'
    >>> two = one.replace(b"a1", b"zz9")
    >>> a, b = (_multipart_key(one, "multipart/form-data; boundary=a1"),
    ...         _multipart_key(two, "multipart/form-data; boundary=zz9"))
    >>> a == b, a
    (True, ('multipart', (('QUERY', '', 'SELECT 1'),)))
    """
    from email.parser import BytesParser
    from email.policy import HTTP

    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n"
                                                  + body)
    if not message.is_multipart():
        return body
    parts = []
    for part in message.iter_parts():
        content = part.get_payload(decode=True) or b""
        parts.append((part.get_param("name", header="content-disposition") or "",
                      part.get_filename() or "", _without_random_keys(content.decode("utf-8", "replace"))))
    return ("multipart", tuple(sorted(parts)))


def _without_random_keys(value: str) -> str:
    """A form value that is a JSON object, less its random keys, in a canonical form; others unchanged."""
    if not value.startswith("{"):
        return value
    try:
        document = json.loads(value)
    except ValueError:
        return value
    if not isinstance(document, dict):
        return value
    for key in _RANDOM_JSON_KEYS:
        document.pop(key, None)
    return json.dumps(document, sort_keys=True)


def request_key(method: str, url: str, body: bytes | None, content_type: str = "", range_: str = "") -> Key:
    """What two requests must share to be the same request (see the module's docstring).

    Examples
    --------
    >>> request_key("get", "https://IRSA.ipac.caltech.edu/SIA?b=2&a=1", None) == \\
    ...     request_key("GET", "https://irsa.ipac.caltech.edu/SIA?a=1&b=2", b"")
    True
    """
    parts = urlsplit(url)
    query = tuple(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return (method.upper(), (parts.hostname or "").lower(), parts.path or "/", query,
            _body_key(body, content_type), range_.strip())


def s3_object(host: str, path: str) -> tuple[str, str] | None:
    """``(bucket, key)`` that an S3 REST URL names, in any endpoint style; None for other hosts.

    Examples
    --------
    >>> s3_object("nasa-irsa-wise.s3.us-west-2.amazonaws.com", "/wise/a.fits")
    ('nasa-irsa-wise', 'wise/a.fits')
    >>> s3_object("s3.amazonaws.com", "/stpubdata/panstarrs/b.fits")
    ('stpubdata', 'panstarrs/b.fits')
    >>> s3_object("irsa.ipac.caltech.edu", "/SIA") is None
    True
    """
    host = host.lower()
    if _S3_ENDPOINT.match(host):  # path style: the bucket is the path's first segment
        bucket, _, key = unquote(path).lstrip("/").partition("/")
        return (bucket, key) if bucket else None
    bucket, dot, endpoint = host.partition(".s3")
    if dot and bucket and _S3_ENDPOINT.match("s3" + endpoint):  # virtual-hosted style
        return bucket, unquote(path).lstrip("/")
    return None


def s3_key(method: str, bucket: str, key: str, query: str, range_: str = "") -> S3Key:
    """What two S3 requests must share to be the same request: the object, method, unsigned query, Range."""
    pairs = tuple(sorted((name, value) for name, value in parse_qsl(query, keep_blank_values=True)
                         if name.lower() not in _SIGNING))
    return method.upper(), bucket, key, pairs, range_.strip()


def recorded_key(request: Any) -> Key:
    """:func:`request_key` of a recorded vcrpy request."""
    body = request.body
    if isinstance(body, str):
        body = body.encode("utf-8")
    return request_key(request.method, request.uri, body, _header(request.headers, "Content-Type"),
                       _header(request.headers, "Range"))


def is_truncated(response: dict[str, Any]) -> bool:
    """Did the recording keep only the first bytes of this answer's body?"""
    return bool(_header(response.get("headers", {}), TRUNCATED_HEADER))


def response_body(response: dict[str, Any]) -> bytes:
    body = response.get("body", {}).get("string", b"")
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)


class Replay:
    """The recorded answers of one recording folder, looked up per request.

    Install on a :class:`~local_archive.httpserver.LoopbackHTTPServer` with
    ``server.replay = Replay(folder)`` (what ``LocalArchive(replay=folder)`` does).
    ``served`` counts the answers given, by source (``recorded``/``generated``); ``missed`` lists
    the requests answered by the generated archive.
    """

    def __init__(self, directory: str | Path, interactions: Iterable[tuple[Any, dict[str, Any]]] | None = None):
        self.directory = Path(directory)
        if interactions is None and not self.directory.is_dir():  # a mistyped --replay must not pass unseen
            raise FileNotFoundError(f"no recording folder {self.directory}")
        self._answers: dict[Key, list[dict[str, Any]]] = {}
        self._s3_answers: dict[S3Key, list[dict[str, Any]]] = {}
        self._given: Counter[Any] = Counter()
        self._lock = threading.Lock()
        self.served: Counter[str] = Counter()
        # "<METHOD> <url>", and " (bytes=...)" for a range, of each request the recording did not answer
        self.missed: list[str] = []
        for request, response in (load_interactions(directory) if interactions is None else interactions):
            if not is_truncated(response):  # a cut body is the generated file's to answer
                self._answers.setdefault(recorded_key(request), []).append(response)
                parts = urlsplit(request.uri)
                s3 = s3_object(parts.hostname or "", parts.path)
                if s3 is not None:
                    key = s3_key(request.method, *s3, parts.query, _header(request.headers, "Range"))
                    self._s3_answers.setdefault(key, []).append(response)

    def __len__(self) -> int:
        return sum(len(answers) for answers in self._answers.values())

    def answer(self, request: Request, host: str, path: str) -> Response | None:
        """The recorded answer to ``request`` (for ``https://<host><path>``), or None."""
        body = request.get_data(cache=True)  # cached: the generated handler can still read it
        query = request.query_string.decode("latin-1")
        url = f"https://{host}{path}" + (f"?{query}" if query else "")
        key = request_key(request.method, url, body, request.headers.get("Content-Type", ""),
                          request.headers.get("Range", ""))
        # A request to an S3 endpoint that was not recorded in this very form is the S3 server's to
        # look up by object (answer_s3), and to count: the HTTPS endpoints forward it there.
        forwarded = s3_object(host, path) is not None
        return self._take(self._answers, key, request.method, url, count_miss=not forwarded,
                          range_=request.headers.get("Range", ""))

    def answer_s3(self, method: str, bucket: str, key: str, query: str = "", range_: str = "") -> Response | None:
        """The recorded answer to an S3 request for ``bucket``/``key`` (any endpoint style recorded), or None.

        What the archive's S3 server (:mod:`local_archive.s3server`) asks before answering itself.
        """
        # Named as the recording writes the archive's S3 requests (local_archive.recording._s3_uri).
        url = f"https://{bucket}.s3.amazonaws.com/{quote(key)}" + (f"?{query}" if query else "")
        return self._take(self._s3_answers, s3_key(method, bucket, key, query, range_), method, url, range_=range_)

    def _take(self, answers_by_key: dict[Any, list[dict[str, Any]]], key: Any, method: str,
              url: str, count_miss: bool = True, range_: str = "") -> Response | None:
        with self._lock:
            answers = answers_by_key.get(key)
            if not answers:
                if not count_miss:
                    return None
                self.served["generated"] += 1
                self.missed.append(f"{method} {url}" + (f" ({range_.strip()})" if range_.strip() else ""))
                return None
            recorded = answers[min(self._given[key], len(answers) - 1)]
            self._given[key] += 1
            self.served["recorded"] += 1
        return _response(recorded, head=method.upper() == "HEAD")


def _response(recorded: dict[str, Any], *, head: bool = False) -> Response:
    status = recorded["status"]
    answer = Response(response_body(recorded), status=f"{status['code']} {status.get('message', '')}".strip())
    answer.headers.clear()
    for name, values in recorded.get("headers", {}).items():
        # A HEAD answer's Content-Length is the object's size (S3 metadata), not its empty body's.
        if name.lower() not in _NOT_REPLAYED or (head and name.lower() == "content-length"):
            for value in values if isinstance(values, list) else [values]:
                answer.headers.add(name, value)
    answer.headers[SOURCE_HEADER] = "recorded"
    return answer
