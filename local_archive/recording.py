"""Record a process's HTTP(S) exchanges into a recording folder, one vcrpy cassette per process.

A *recording* is a folder of vcrpy YAML cassettes (vcrpy's own format, version 1,
https://vcrpy.readthedocs.io/en/latest/advanced.html), one file per recorded process,
named ``<pid>-<ns>.yaml``.  Each holds ``interactions``; each interaction is::

    request:  {method, uri, body, headers}          # uri: https://<host><path>?<query>
    response: {status: {code, message}, headers: {name: [values]}, body: {string: <bytes>}}

What vcrpy sees is every exchange made through ``http.client``, ``urllib3``
(``requests``, ``botocore``/``boto3``), ``aiohttp`` (fsspec's HTTP filesystem,
``s3fs``), ``httpx`` and friends: method, URL, request body, status, headers and
body, so for S3 over HTTPS each HEAD (an object's metadata) and each ranged GET
(``Range`` request header, ``206`` answer with ``Content-Range``) is one
interaction.  ``Authorization`` and ``Cookie`` request headers are not kept.

Large bodies are kept as ranges, not whole files: a body over :data:`LARGE_BODY`
bytes is cut to its first :data:`KEPT_PREFIX` bytes (enough for a FITS primary
header, for the diff) and the response gets the header ``x-local-archive-truncated:
length=<bytes>; sha256=<hex>; kept=<bytes>``.  Replay does not answer such an
exchange; the generated file answers it (:mod:`local_archive.replay`).

Run under the local archive (``LOCAL_ARCHIVE_URL`` set), URLs rewritten to
``http://127.0.0.1:PORT/<host><path>`` are written back as ``https://<host><path>``,
and path-style requests to the archive's S3 server (``AWS_ENDPOINT_URL_S3``) as
``https://<bucket>.s3.amazonaws.com/<key>``, so a recording made against the local
archive looks like one made against the real services.  Other loopback traffic
(Jupyter, Dask) is not recorded.

Turning a recording into a fixture: copy the folder (or the cassettes you need)
under ``/work/shared/fixtures/`` or ``tests/``, and serve it with
``LocalArchive(replay=FOLDER)`` or ``python -m local_archive serve --replay FOLDER``;
a single body can be taken out with ``yaml.safe_load`` (``!!binary`` bodies load as bytes).

Not covered: processes that end with ``os._exit`` or a signal (a ``multiprocessing``
fork child, a killed kernel) lose the exchanges of their last second (the cassette
is written at most once a second and at exit); pyarrow's native S3 client and any
non-Python program are not seen at all.
"""

from __future__ import annotations

import atexit
import copy
import hashlib
import os
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

__all__ = ["install", "uninstall", "environment", "RECORD_ENV", "LARGE_BODY", "KEPT_PREFIX", "TRUNCATED_HEADER"]

RECORD_ENV = "LOCAL_ARCHIVE_RECORD"
LARGE_BODY = 4 << 20  # bodies over 4 MiB are kept as their first KEPT_PREFIX bytes
KEPT_PREFIX = 64 << 10  # 64 KiB: 22 FITS header blocks, so the diff still reads the primary header
TRUNCATED_HEADER = "x-local-archive-truncated"
_FILTERED = ("authorization", "cookie", "x-amz-security-token")
_SAVE_EVERY = 1.0  # seconds between writes of the cassette while the process runs

_state: dict[str, Any] = {"context": None, "cassette": None, "saved": 0.0, "lock": threading.Lock()}


def environment(directory: str | os.PathLike[str], site: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """The variables that make every Python process started with them record into ``directory``.

    Under the local archive its ``sitecustomize`` (:mod:`local_archive.startup`, first on the
    archive's ``PYTHONPATH``) calls :func:`install` when ``LOCAL_ARCHIVE_RECORD`` is set.  For a
    live run, pass ``site``, a folder to write that ``sitecustomize.py`` into: the result then puts
    it first on ``PYTHONPATH`` too (it redirects nothing without ``LOCAL_ARCHIVE_URL``).
    """
    env = {RECORD_ENV: str(Path(directory).resolve())}
    if site is not None:
        from .startup import write_sitecustomize

        folder = str(write_sitecustomize(Path(site)).parent)
        rest = [entry for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep) if entry and entry != folder]
        env["PYTHONPATH"] = os.pathsep.join([folder, *rest])
    return env


def install(directory: str | os.PathLike[str]) -> Path:
    """Record every HTTP(S) exchange of this process into a new cassette in ``directory``.

    Returns the cassette's path; it is written at most once a second while the
    process runs, and at exit (or :func:`uninstall`).
    """
    import vcr  # the maintained recorder: pip install vcrpy (the "local" extra)

    if _state["context"] is not None:
        return Path(_state["context"]._args_getter()["path"])
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{os.getpid()}-{time.time_ns()}.yaml"
    recorder = vcr.VCR(
        serializer="yaml",
        record_mode="all",  # always the real service: never answered from the cassette
        filter_headers=_FILTERED,
        before_record_request=_before_request,
        before_record_response=_before_response,
        # The client gets vcrpy's stub of the response, which cannot decode a gzip body the way urllib3
        # does: record it decoded (without Content-Encoding), so the client reads what it would have read.
        decode_compressed_response=True,
    )
    _accept_urllib3_arguments()
    context = recorder.use_cassette(str(path))
    cassette = context.__enter__()
    original_append = cassette.append

    def append(request: Any, response: Any) -> None:
        original_append(request, response)
        with _state["lock"]:
            if time.monotonic() - _state["saved"] > _SAVE_EVERY:
                _save()

    cassette.append = append
    _state.update(context=context, cassette=cassette, saved=time.monotonic())
    atexit.register(uninstall)
    return path


def _accept_urllib3_arguments() -> None:
    """Let vcrpy's response stub take urllib3's ``read``/``read1`` keywords, as the real response does.

    vcrpy 9.4's ``VCRHTTPResponse.read1(*args, **kwargs)`` hands ``decode_content=`` on to
    ``BytesIO.read1``, which refuses keywords: a client that streams with urllib3 2's
    ``read1(amt, decode_content=True)`` (helpers.http does) would fail only while recording.
    The body is already decoded (``decode_compressed_response``), so the keywords can go.
    """
    from vcr.stubs import VCRHTTPResponse

    for name in ("read", "read1"):
        original = getattr(VCRHTTPResponse, name)
        if getattr(original, "_accepts_urllib3", False):
            continue

        def method(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> bytes:
            kwargs.pop("decode_content", None)
            kwargs.pop("cache_content", None)
            return _original(self, *args, **kwargs)

        method._accepts_urllib3 = True  # type: ignore[attr-defined]
        setattr(VCRHTTPResponse, name, method)


def uninstall() -> None:
    """Write the cassette and stop recording (at exit, or by hand)."""
    context = _state["context"]
    if context is None:
        return
    with _state["lock"]:
        _state.update(context=None, cassette=None)
        context.__exit__(None, None, None)


def _save() -> None:
    cassette = _state["cassette"]
    if cassette is not None and cassette.dirty:
        cassette._save()  # vcrpy's own writer (RecordMode.ALL: every interaction so far)
    _state["saved"] = time.monotonic()


def _before_request(request: Any) -> Any:
    """Write loopback URLs of the local archive back as the real service's; drop other loopback traffic."""
    uri = public_uri(request.uri, os.environ)
    if uri is None:
        return None
    request = copy.copy(request)
    request.uri = uri
    return request


def public_uri(uri: str, environ: Any) -> str | None:
    """The production URL an exchange stands for; None for loopback traffic that is not the archive's.

    Examples
    --------
    >>> env = {"LOCAL_ARCHIVE_URL": "http://127.0.0.1:9", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:8"}
    >>> public_uri("http://127.0.0.1:9/irsa.ipac.caltech.edu/SIA?POS=1,2", env)
    'https://irsa.ipac.caltech.edu/SIA?POS=1,2'
    >>> public_uri("http://127.0.0.1:8/nasa-heasarc/a.fits", env)
    'https://nasa-heasarc.s3.amazonaws.com/a.fits'
    >>> public_uri("http://127.0.0.1:7/api/kernels", env) is None
    True
    """
    parts = urlsplit(uri)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        return uri  # a real service (a live run)
    for variable, rebuild in (("LOCAL_ARCHIVE_URL", _archive_uri), ("AWS_ENDPOINT_URL_S3", _s3_uri)):
        base = environ.get(variable)
        if base and urlsplit(base).netloc == parts.netloc:
            return rebuild(parts)
    return None


def _archive_uri(parts: Any) -> str:
    host, _, rest = parts.path.lstrip("/").partition("/")
    return urlunsplit(("https", host, "/" + rest, parts.query, ""))


def _s3_uri(parts: Any) -> str:
    # The archive's S3 server is path style (local_archive.s3server).  Written as the bucket's
    # legacy global virtual host, which S3 answers for a bucket of any region (s3_https, "legacy
    # global endpoint"), where path style on s3.amazonaws.com is a PermanentRedirect outside us-east-1.
    bucket, _, key = parts.path.lstrip("/").partition("/")
    return urlunsplit(("https", f"{bucket}.s3.amazonaws.com", "/" + key, parts.query, ""))


def _before_response(response: dict[str, Any]) -> dict[str, Any]:
    """Cut a large body to its first bytes, saying how long it was and its hash."""
    body = response.get("body", {}).get("string", b"")
    if isinstance(body, str):
        body = body.encode("utf-8")
    if len(body) > LARGE_BODY:
        digest = hashlib.sha256(body).hexdigest()
        response["headers"][TRUNCATED_HEADER] = [f"length={len(body)}; sha256={digest}; kept={KEPT_PREFIX}"]
        response["body"]["string"] = body[:KEPT_PREFIX]
    return response
