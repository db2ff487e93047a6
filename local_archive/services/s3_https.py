"""S3's HTTPS REST endpoints for the public buckets, answered by the archive's own S3 server.

The open buckets are readable over plain HTTPS without any AWS library, as archives' tutorials do
(HEASARC's ``https://nasa-heasarc.s3.amazonaws.com/exosat/data/me/spectra/...`` with ``urlretrieve``,
HEASARC/heasarc-tutorials a5cbc57 ``pyxspec-basics.md``; IRSA's
``https://{BUCKET_NAME}.s3.amazonaws.com/{key}``, Caltech-IPAC/irsa-tutorials 496ec11
``OpenUniverse2024Preview_Firefly.md``).  Every request is forwarded, unsigned, to the S3 server
(:mod:`local_archive.s3server`) as a path-style request, so bytes, ``ETag``, ``Content-Length``,
``Last-Modified``, ``Accept-Ranges``, Range answers (206/416), HEAD, ``NoSuchKey`` and the bucket
listings are the S3 server's, and its latency, bandwidth, counters and faults apply: there is one
copy of every object.

Endpoints served, as the Amazon S3 User Guide documents them
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html):

* virtual-hosted style ``https://<bucket>.s3.<region>.amazonaws.com/<key>``;
* path style ``https://s3.<region>.amazonaws.com/<bucket>/<key>``;
* the legacy global endpoint ``s3.amazonaws.com`` in both styles;
* the legacy dash form ``s3-<region>`` where documented (``s3-us-west-2``).

Only the known buckets have virtual hosts (the loopback server routes exact host names); an
unknown bucket named in a path-style URL gets ``NoSuchBucket``.
"""

from __future__ import annotations

import base64
import http.client
import secrets
from collections.abc import Iterator, Mapping
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from ..httpserver import Request, Response

__all__ = ["S3Https", "virtual_hosts", "path_hosts"]

_GLOBAL = "s3.amazonaws.com"
# "Some older Amazon S3 Regions support endpoints that contain a dash (-) between s3 and the Region
# code (for example, s3-us-west-2)" (VirtualHosting.html, "Legacy endpoints"); us-east-1's legacy names
# are the global endpoint and s3-external-1, not s3-us-east-1, so only us-west-2 gets the dash form.
_DASH_REGIONS = frozenset({"us-west-2"})
# Request headers S3 acts on for GET/HEAD of an object (GetObject's Range and conditional headers,
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html).  Nothing else is sent on:
# in particular no Authorization, no security token (the buckets are read anonymously).
_FORWARDED = ("Range", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since")
# Query parameters that carry a signature or credentials (SigV4 and SigV2 presigned URLs); dropped.
_SIGNING_PARAMS = frozenset({"x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-expires",
                             "x-amz-signedheaders", "x-amz-signature", "x-amz-security-token",
                             "awsaccesskeyid", "signature", "expires"})
# Hop-by-hop headers stay with their hop; Server and Date are written again by the loopback server.
_NOT_PASSED = frozenset({"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade", "te",
                         "trailer", "server", "date"})
_CHUNK = 256 << 10


def virtual_hosts(bucket: str, regions: set[str] | frozenset[str]) -> dict[str, str | None]:
    """The virtual-hosted-style host names of ``bucket``, each with the region it names (None: global)."""
    hosts: dict[str, str | None] = {f"{bucket}.{_GLOBAL}": None}
    for region in regions:
        hosts[f"{bucket}.s3.{region}.amazonaws.com"] = region
        if region in _DASH_REGIONS:
            hosts[f"{bucket}.s3-{region}.amazonaws.com"] = region
    return hosts


def path_hosts(regions: set[str] | frozenset[str]) -> dict[str, str | None]:
    """The path-style endpoints, each with the region it names (None: the legacy global endpoint)."""
    hosts: dict[str, str | None] = {_GLOBAL: None}
    for region in regions:
        hosts[f"s3.{region}.amazonaws.com"] = region
        if region in _DASH_REGIONS:
            hosts[f"s3-{region}.amazonaws.com"] = region
    return hosts


def _ids() -> list[tuple[str, str]]:
    # Every S3 error body ends with RequestId and HostId (ErrorResponses.html, "REST error responses").
    return [("RequestId", secrets.token_hex(8).upper()),
            ("HostId", base64.b64encode(secrets.token_bytes(48)).decode())]


def _error(status: str, code: str, message: str, fields: list[tuple[str, str]], method: str,
           headers: list[tuple[str, str]] | None = None) -> Response:
    """An S3 REST error: ``application/xml``, an ``<Error>`` with ``Code`` and ``Message`` first.

    Shape: https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html ("REST error
    responses").  A HEAD answer has the status and headers but no body, as for any HEAD.
    """
    from xml.sax.saxutils import escape

    parts = [f"<Code>{code}</Code>", f"<Message>{escape(message)}</Message>"]
    parts += [f"<{name}>{escape(value)}</{name}>" for name, value in [*fields, *_ids()]]
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error>' + "".join(parts) + "</Error>").encode()
    answer = Response(b"" if method == "HEAD" else body, status=status, content_type="application/xml",
                      headers=headers or [])
    answer.headers["Content-Length"] = str(len(body))
    return answer


class _Passthrough(Response):
    """The S3 server's answer as it is: no default Content-Type and no recomputed Content-Length."""

    default_mimetype = None
    automatically_set_content_length = False


class S3Https:
    """Answers S3's HTTPS REST endpoints for the public buckets by forwarding to the S3 server.

    Parameters
    ----------
    s3_endpoint : str
        The S3 server's ``http://127.0.0.1:PORT`` (:attr:`local_archive.s3server.S3Server.endpoint`).
    bucket_regions : Mapping[str, str]
        Each public bucket and its region (``local_archive.archive.BUCKET_REGIONS``).

    Examples
    --------
    >>> S3Https(archive.s3.endpoint, BUCKET_REGIONS).register(archive.http)   # doctest: +SKIP
    """

    def __init__(self, s3_endpoint: str, bucket_regions: Mapping[str, str]):
        parts = urlsplit(s3_endpoint)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._regions = dict(bucket_regions)

    def register(self, server) -> None:
        regions = frozenset(self._regions.values())
        for bucket in self._regions:
            for host, region in virtual_hosts(bucket, regions).items():
                server.route(host, "/", self._virtual(bucket, region))
        for host, region in path_hosts(regions).items():
            server.route(host, "/", self._path_style(region))

    # --- the two addressing styles ----------------------------------------------------

    def _virtual(self, bucket: str, region: str | None):
        def handle(request: Request, path: str) -> Response:
            # The legacy global endpoint reaches any bucket of a Region launched before 2019-03-20: DNS
            # routes ``<bucket>.s3.amazonaws.com`` to the bucket's Region ("Instead of using the
            # Region-specific endpoint, you can also use the US East (N. Virginia) Region endpoint no
            # matter what Region the bucket resides in", awsdocs/amazon-s3-developer-guide VirtualHosting.md).
            if region is not None and region != self._regions[bucket]:
                return self._wrong_region(bucket, request.method)
            return self._answer(request, bucket, self._raw_path(request, path))

        return handle

    def _path_style(self, region: str | None):
        def handle(request: Request, path: str) -> Response:
            raw = self._raw_path(request, path)
            bucket, _, rest = raw.lstrip("/").partition("/")
            if not bucket:
                # ListBuckets without credentials: there is no anonymous account to list.
                return _error("403 Forbidden", "AccessDenied", "Access Denied", [], request.method)
            if bucket not in self._regions:
                # ErrorResponses.html: NoSuchBucket, 404, "The specified bucket does not exist."
                return _error("404 Not Found", "NoSuchBucket", "The specified bucket does not exist",
                              [("BucketName", bucket)], request.method)
            # "Permanent redirects occur if you use a path-style request to access a bucket that was
            # created using <CreateBucketConfiguration>" (a bucket outside us-east-1) at another endpoint
            # (awsdocs/amazon-s3-developer-guide Redirects.md, "Permanent Request Redirection").
            if (region or "us-east-1") != self._regions[bucket]:
                return self._wrong_region(bucket, request.method)
            return self._answer(request, bucket, "/" + rest)

        return handle

    @staticmethod
    def _raw_path(request: Request, path: str) -> str:
        """The request path as the client encoded it (the server hands handlers a decoded one).

        ``RAW_URI`` is ``/<host>/<path>?<query>`` (local_archive.redirect): keys with spaces, ``+``
        or ``%`` must reach the S3 server with their original encoding.
        """
        raw = request.environ.get("RAW_URI")
        if not raw:
            return quote(path, safe="/~")
        raw = raw.split("?", 1)[0]
        host_part = "/" + request.path.lstrip("/").split("/", 1)[0]
        return raw[len(host_part):] if raw.lower().startswith(host_part.lower()) else quote(path, safe="/~")

    # --- answers ----------------------------------------------------------------------

    def _wrong_region(self, bucket: str, method: str) -> Response:
        """301 ``PermanentRedirect`` naming the bucket's endpoint, without a Location header.

        Code and status: ErrorResponses.html / userguide ErrorCodeBilling.html ("301 Moved Permanently,
        PermanentRedirect: The bucket that you are attempting to access must be addressed using the
        specified endpoint. Send all future requests to this endpoint.").  No Location: "this type of
        redirect does not contain a Location HTTP header ... Consult the resulting XML error document"
        (Redirects.md).  Body elements (Endpoint, Bucket) and the ``x-amz-bucket-region`` header as a
        production answer carries them (a botocore debug log of a real 301, public code in the search
        index id 44004851333: ``<Endpoint>s3.amazonaws.com</Endpoint>`` for a us-east-1 bucket);
        a bucket elsewhere is named ``<bucket>.s3.<region>.amazonaws.com`` (boto's PermanentRedirect
        test fixture, index id 214948087).
        """
        region = self._regions[bucket]
        endpoint = _GLOBAL if region == "us-east-1" else f"{bucket}.s3.{region}.amazonaws.com"
        return _error("301 Moved Permanently", "PermanentRedirect",
                      "The bucket you are attempting to access must be addressed using the specified endpoint. "
                      "Please send all future requests to this endpoint.",
                      [("Endpoint", endpoint), ("Bucket", bucket)], method,
                      headers=[("x-amz-bucket-region", region)])

    def _answer(self, request: Request, bucket: str, key_path: str) -> Response:
        if request.method not in ("GET", "HEAD"):
            # A public bucket grants anonymous reads only; any write is AccessDenied, 403 (ErrorResponses.html).
            return _error("403 Forbidden", "AccessDenied", "Access Denied", [], request.method)
        query = [(name, value) for name, value in parse_qsl(request.query_string.decode(), keep_blank_values=True)
                 if name.lower() not in _SIGNING_PARAMS]
        target = f"/{bucket}{key_path or '/'}" + (f"?{urlencode(query, quote_via=quote, safe='/~')}" if query else "")
        headers = {name: request.headers[name] for name in _FORWARDED if name in request.headers}
        connection = http.client.HTTPConnection(*self._upstream, timeout=300)
        try:
            connection.request(request.method, target, headers=headers)
            upstream = connection.getresponse()
        except BaseException:
            connection.close()
            raise
        status = f"{upstream.status} {upstream.reason}"
        passed = [(name, value) for name, value in upstream.getheaders() if name.lower() not in _NOT_PASSED]
        if request.method == "HEAD":
            upstream.read()
            connection.close()
            return _Passthrough(b"", status=status, headers=passed)
        return _Passthrough(_stream(connection, upstream), status=status, headers=passed, direct_passthrough=True)


def _stream(connection: http.client.HTTPConnection, upstream: http.client.HTTPResponse) -> Iterator[bytes]:
    try:
        while chunk := upstream.read1(_CHUNK):
            yield chunk
    finally:
        connection.close()
