"""Total deadlines and the one bounded retry loop that every network call goes through.

Socket timeouts bound the gap between two bytes, not a whole call: a server
that sends one byte every half second keeps a read alive for ever.  Every
public call that touches the network therefore runs under a wall-clock
deadline (:data:`DEFAULT_TIMEOUT` seconds unless the caller passes
``timeout=``), and the transient failures inside it are retried by
:func:`with_retries` alone (botocore, s3fs and urllib3 are set to try once),
so the number of requests stays bounded: ``MAX_ATTEMPTS`` (4) tries, backing
off 0.25, 0.5, 1 s.  A service that keeps answering 500, 502 or 504 therefore
fails after 1.75 s of pauses plus the four requests' own time (1.8 s in all on
loopback), with an :class:`~helpers.errors.ArchiveError` saying "failed after 4 tries".
Throttling (HTTP 503, S3's ``SlowDown``, 429) asks the client to slow down and
try again, so it gets ``THROTTLED_ATTEMPTS`` (8) tries, the later ones 1 s
apart: six SlowDown answers and then success succeed, and a service that
keeps throttling fails after 5.75 s of pauses (5.8 s on loopback).  Either way
a persistent 5xx fails within 10 s unless each request itself takes seconds.
What each public call sends at most is listed in :mod:`helpers.failures`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from .errors import ArchiveError, CloudInputError, DeadlineError

__all__ = ["DEFAULT_TIMEOUT", "MAX_ATTEMPTS", "THROTTLED_ATTEMPTS", "BACKOFF", "TRANSIENT_STATUS", "THROTTLED_STATUS",
           "Deadline", "Transient", "with_retries", "run_with_deadline", "drain"]

DEFAULT_TIMEOUT = 300.0  # seconds for one whole public call (a 1 GB file at 5 MB/s would not fit: pass timeout=)
MAX_ATTEMPTS = 4  # tries of one request, transient failures only
THROTTLED_ATTEMPTS = 8  # while the service says "slow down" (503 SlowDown, 429): S3 documents retrying these
BACKOFF = (0.25, 0.5, 1.0)  # seconds before the 2nd, 3rd and every later try
# HTTP statuses worth another try, from S3 and HTTPS servers alike; the throttling ones get THROTTLED_ATTEMPTS.
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
THROTTLED_STATUS = frozenset({429, 503})

T = TypeVar("T")


class Transient(Exception):
    """Raised inside a retried function for a failure worth another try (5xx, throttling, a cut body).

    ``url`` names what failed, for the final error; ``throttled`` marks the
    service asking to slow down (503, 429), which is tried more often.
    """

    def __init__(self, message: str, *, url: str | None = None, throttled: bool = False):
        super().__init__(message)
        self.url = url
        self.throttled = throttled


class Deadline:
    """A wall-clock deadline: ``remaining()`` seconds left, ``check()`` raises when none are.

    Examples
    --------
    >>> d = Deadline(5.0, "fetching s3://bucket/key")
    >>> 0 < d.remaining() <= 5.0
    True
    """

    def __init__(self, seconds: float | None = None, what: str = "the call"):
        seconds = DEFAULT_TIMEOUT if seconds is None else seconds
        try:
            seconds = float(seconds)
        except (TypeError, ValueError):
            raise CloudInputError(f"timeout must be a number of seconds, got {seconds!r:.80}") from None
        if not seconds > 0:  # also refuses NaN
            raise CloudInputError(f"timeout must be a positive number of seconds, got {seconds!r}")
        self.seconds = seconds
        self.what = what
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        return self._end - time.monotonic()

    def expired(self) -> bool:
        return self.remaining() <= 0

    def error(self) -> DeadlineError:
        return DeadlineError(f"{self.what} did not finish within its {self.seconds:g} s deadline "
                             f"(pass timeout= for a longer one)")

    def check(self) -> None:
        if self.expired():
            raise self.error()

    def cap(self, seconds: float) -> float:
        """``seconds``, or less if the deadline comes first (never below a millisecond)."""
        return max(min(seconds, self.remaining()), 0.001)


def with_retries(
    fn: Callable[[], T],
    what: str,
    deadline: Deadline,
    *,
    attempts: int = MAX_ATTEMPTS,
    throttled_attempts: int = THROTTLED_ATTEMPTS,
) -> T:
    """``fn()``, tried again with backoff while it raises :class:`Transient`, within ``deadline``.

    At most ``attempts`` tries, or ``throttled_attempts`` while the failures
    are throttling.  Any other exception passes through at once: a missing key
    is not transient.

    Raises
    ------
    ArchiveError
        Naming ``what`` and the last failure, when every try failed.
    DeadlineError
        When the deadline passed first.

    Examples
    --------
    >>> answers = iter([Transient("503 SlowDown", throttled=True)] * 2 + ["data"])
    >>> def get():
    ...     answer = next(answers)
    ...     if isinstance(answer, Exception):
    ...         raise answer
    ...     return answer
    >>> with_retries(get, "GET s3://bucket/key", Deadline(30))
    'data'
    """
    tries = 0
    while True:
        deadline.check()
        try:
            return fn()
        except Transient as exc:
            last = exc
        tries += 1
        if tries >= (throttled_attempts if last.throttled else attempts):
            raise ArchiveError(f"{what} failed after {tries} tries: {last}", url=last.url) from last
        pause = BACKOFF[min(tries - 1, len(BACKOFF) - 1)]
        if deadline.remaining() <= pause:
            raise deadline.error() from last
        time.sleep(pause)


def drain(read: Callable[[], bytes], deadline: Deadline, on_chunk: Callable[[bytes], Any] | None = None) -> bytes:
    """Call ``read()`` until it returns ``b""``, checking ``deadline`` before every call; the chunks joined.

    With a ``read`` that returns what has arrived (urllib3's ``read1``), a server
    that drips one byte at a time meets the deadline; ``on_chunk`` sees each
    chunk (a byte count, a progress bar).  ``read``'s own errors pass through.

    Examples
    --------
    >>> chunks = iter([b"SIMPLE", b"  =", b""])
    >>> drain(lambda: next(chunks), Deadline(5))
    b'SIMPLE  ='
    """
    parts = []
    while True:
        deadline.check()
        chunk = read()
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)
        if on_chunk is not None:
            on_chunk(chunk)


def run_with_deadline(fn: Callable[[], T], deadline: Deadline) -> T:
    """Run ``fn()`` in a daemon thread and wait for it at most until ``deadline``.

    For calls whose I/O happens deep inside a library (fsspec, astropy) where no
    deadline can be passed down: the caller gets :class:`~helpers.errors.DeadlineError`
    on time, and the abandoned thread ends with its socket's own timeout.
    """
    box: dict[str, Any] = {}
    done = threading.Event()

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc
        finally:
            done.set()

    thread = threading.Thread(target=target, name=f"helpers: {deadline.what:.60}", daemon=True)
    thread.start()
    if not done.wait(max(deadline.remaining(), 0.0)):
        raise deadline.error()
    if "error" in box:
        raise box["error"]
    return box["value"]
