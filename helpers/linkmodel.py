"""What a file system's link costs, estimated from the requests already made on it.

:func:`helpers.cutout` plans its byte ranges with a :class:`~helpers.ranges.Link`
(round trip, bandwidth per connection).  Instead of assuming one, it asks
:func:`link_for` here, which takes, in order: ``HELPERS_LINK`` when it is set,
else the estimate from the requests timed on the file's file system
(:func:`record`), else :data:`helpers.ranges.DEFAULT_LINK`.

The estimate (:func:`estimate`):

- **latency**: the quickest small request seen (a HEAD, or a ranged GET of at
  most 128 KiB such as the header's read-ahead block): a round trip plus the
  client's own time.
- **bandwidth**: bytes over transfer time, where a batch's transfer time is its
  wall time less the latency, and its bytes are its largest body (the requests of a
  batch run side by side, one per connection).  Transfers shorter than the
  jitter of a round trip are left out (a 64 KiB header block takes 1.3 ms at
  50 MB/s: it shows only a clearly slower link); the rest are pooled with a
  prior of :data:`_PRIOR_BYTES` moved at the default 50 MB/s, or at a TCP
  window (:data:`_WINDOW_BYTES`) per measured round trip if that is faster:
  a reader next to the bucket, whose round trip is a millisecond or two, is not
  held to a far reader's speed.  A cutout's own megabytes then dominate the
  next estimate.
- both are clamped (:data:`_LATENCY_RANGE`, :data:`_BANDWIDTH_RANGE`);
  concurrency and per-request overhead stay the defaults'.

Observations are kept per file system object, weakly (the last
:data:`_KEEP` batches), so that a file system dropped is forgotten, and a link
that changes (a laptop moving) is followed.  Nothing is patched: the readers
time their requests with :func:`timed`, which records a batch only when no other
timed batch on the same file system overlapped it: requests that share the link, the
client's threads and its interpreter lock with others measure that contention, not
the link (a pool of threads would otherwise see a slow link, plan many small ranges,
and make itself slower still).
"""

from __future__ import annotations

import collections
import contextlib
import os
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from .ranges import DEFAULT_LINK, LINK_VARIABLE, Link, default_link

__all__ = ["record", "timed", "estimate", "link_for"]

#: Batches remembered per file system: enough to smooth the jitter of a few round trips,
#: few enough that a link that changed is followed within a few cutouts.
_KEEP = 16
#: Bytes of the prior: as if 256 KiB had moved at the default bandwidth (5 ms at 50 MB/s).
_PRIOR_BYTES = 256 << 10
#: Clamps: no link is faster than loopback (about 1 GB/s per connection through Python
#: clients) or slower than 100 kB/s that anyone would cut out through; no round trip past 2 s.
_BANDWIDTH_RANGE = (1e5, 1e10)
_LATENCY_RANGE = (0.0, 2.0)
#: A modest TCP window (Linux tunes its receive window up to ``net.ipv4.tcp_rmem``'s 6 MiB):
#: a connection moves at most about this much per round trip.
_WINDOW_BYTES = 2 << 20
#: The jitter of one round trip, as measured through s3fs on loopback with a round trip injected:
#: up to 1 ms, plus 5% of the round trip.  (With none injected, a 64 KiB header read took 0.3-0.8 ms
#: longer than the HEAD before it in ten fresh processes; at 0.5 ms the slowest of them passed for a
#: transfer at 80 MB/s and the cutout split its read for nothing: benchmarks/run.py, 0 ms, 2026-11-25.)
_JITTER_SECONDS = 0.001
_JITTER_SHARE = 0.05
#: Requests with bodies up to this size time the round trip (a HEAD, a FITS header's 64 KiB block).
_SMALL_BYTES = 128 << 10


class _Batch(NamedTuple):
    """Requests sent together: how many, the largest body (bytes) and the wall time (s) to the last byte."""

    requests: int
    largest: int
    seconds: float


_lock = threading.Lock()
_seen: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _key(fs: Any) -> Any:
    """What observations are kept under: the file system object itself (fsspec instances are cached)."""
    return fs


class _Timing:
    """One timed batch: the body sizes its caller notes, and whether another batch overlapped it."""

    def __init__(self) -> None:
        self.sizes: list[int] = []
        self.alone = True

    def add(self, *sizes: int) -> None:
        """Note the body sizes of the batch's requests (``0`` for a HEAD)."""
        self.sizes.extend(int(size) for size in sizes)


_running: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # fs -> set of _Timing in progress


@contextlib.contextmanager
def timed(fs: Any) -> Iterator[_Timing]:
    """Time the requests made in the block on ``fs``, and :func:`record` them if they ran alone.

    A batch that overlapped another timed batch on the same file system is not
    recorded (neither of the two is): see the module's description.  Nothing is
    recorded when the block raises, or when the caller noted no sizes.

    Examples
    --------
    >>> class FS:
    ...     pass
    >>> fs = FS()
    >>> with timed(fs) as batch:
    ...     time.sleep(0.01)  # a HEAD's round trip, say
    ...     batch.add(0)
    >>> len(_seen[fs])
    1
    >>> with timed(fs) as first, timed(fs) as second:  # overlapping: neither is kept
    ...     first.add(10); second.add(10)
    >>> len(_seen[fs])
    1
    """
    timing = _Timing()
    try:
        with _lock:
            running = _running.setdefault(_key(fs), set())
            if running:
                timing.alone = False
                for other in running:
                    other.alone = False
            running.add(timing)
    except TypeError:  # not weakly referenceable, or unhashable: time nothing
        yield timing
        return
    began = time.perf_counter()
    try:
        yield timing
    finally:
        elapsed = time.perf_counter() - began
        with _lock:
            _running.get(_key(fs), set()).discard(timing)
    if timing.alone and timing.sizes:
        record(fs, timing.sizes, elapsed)


# No network round trip, not even on loopback, takes under 50 us: such a "request" was a cache hit.
_FROM_CACHE = 50e-6


def record(fs: Any, sizes: Sequence[int], seconds: float) -> None:
    """Note that requests with bodies of ``sizes`` bytes, sent together on ``fs``, took ``seconds``.

    A HEAD is ``sizes=(0,)``.  Nonsense (no requests, a negative or non-finite
    time, a file system that cannot be weakly referenced) is ignored: timing
    must never break a read.

    Examples
    --------
    >>> class FS:  # any object that can be weakly referenced stands for a file system
    ...     pass
    >>> fs = FS()
    >>> record(fs, (0,), 0.031)
    >>> record(fs, (65542,), 0.032)
    >>> len(_seen[fs])
    2
    """
    if not sizes or not (_FROM_CACHE <= seconds < float("inf")):
        return  # faster than any round trip: served from a cache (s3fs's listing cache), not the link
    batch = _Batch(len(sizes), max(int(size) for size in sizes), float(seconds))
    try:
        with _lock:
            seen = _seen.get(_key(fs))
            if seen is None:
                seen = _seen[_key(fs)] = collections.deque(maxlen=_KEEP)
            seen.append(batch)
    except TypeError:  # not weakly referenceable, or unhashable
        return


def _clamp(value: float, bounds: tuple[float, float]) -> float:
    return min(max(value, bounds[0]), bounds[1])


def _estimate(batches: Sequence[_Batch], prior: Link = DEFAULT_LINK) -> Link:
    """The link that ``batches`` suggest, pooled with ``_PRIOR_BYTES`` at ``prior``'s bandwidth.

    Without a small request (a HEAD, a header's block) the round trip is
    unknown: the bandwidth is then computed as if it were 0 (a lower bound:
    plans err towards more, smaller ranges), and the latency reported is
    the prior's, or the quickest batch's if that is quicker.

    Examples
    --------
    A HEAD and a 64 KiB header read at 30 ms: the latency is measured, the
    bandwidth is the prior's (the transfer is within the jitter), here a 2 MiB
    window per round trip; next to the bucket (1.5 ms), the prior is faster:

    >>> link = _estimate([_Batch(1, 0, 0.0312), _Batch(1, 65542, 0.0321)])
    >>> round(link.latency, 4), round(link.bandwidth / 1e6)
    (0.0312, 67)
    >>> round(_estimate([_Batch(1, 0, 0.0015), _Batch(1, 65542, 0.0020)]).bandwidth / 1e6)
    1398

    On a slow link even 64 KiB shows it, and a cutout's 2 MB settle it:

    >>> slow = [_Batch(1, 0, 0.1), _Batch(1, 65542, 0.1 + 65542 / 2e6)]
    >>> round(_estimate(slow).bandwidth / 1e6, 1)
    8.6
    >>> round(_estimate(slow + [_Batch(8, 2_000_000, 0.1 + 1.0)]).bandwidth / 1e6, 1)
    2.2

    A cutout's batch alone (0.25 MB per range, 0.1 s) bounds the bandwidth from below:

    >>> link = _estimate([_Batch(8, 250_000, 0.1)])
    >>> link.latency, round(link.bandwidth / 1e6, 1)
    (0.03, 4.9)
    """
    small = [batch.seconds for batch in batches if batch.largest <= _SMALL_BYTES]
    quickest = min(batch.seconds for batch in batches)
    latency = min(small) if small else 0.0
    fastest = _BANDWIDTH_RANGE[1]
    # A short round trip allows a fast connection (at most a TCP window per round trip), so the prior
    # is the default bandwidth or a window per round trip, whichever is faster.
    expected = prior.bandwidth
    if small:
        expected = max(expected, _WINDOW_BYTES / latency if latency * fastest > _WINDOW_BYTES else fastest)
    # A transfer shorter than a round trip's jitter says nothing about the bandwidth (a 64 KiB header
    # block takes 1.3 ms at 50 MB/s): only the resolved ones are pooled with the prior.
    jitter = _JITTER_SECONDS + _JITTER_SHARE * latency
    resolved = [(batch.largest, batch.seconds - latency) for batch in batches
                if batch.largest and batch.seconds - latency > jitter]
    moved = _PRIOR_BYTES + sum(nbytes for nbytes, _ in resolved)
    took = _PRIOR_BYTES / expected + sum(seconds for _, seconds in resolved)
    return Link(latency=_clamp(latency if small else min(prior.latency, quickest), _LATENCY_RANGE),
                bandwidth=_clamp(moved / took, _BANDWIDTH_RANGE),
                concurrency=prior.concurrency, overhead=prior.overhead)


def estimate(fs: Any) -> Link | None:
    """The link of ``fs`` as its recorded requests show it, or None when none were recorded.

    Parameters
    ----------
    fs : fsspec.AbstractFileSystem
        The file system that :func:`record` was told about.

    Returns
    -------
    Link or None
        Measured latency and bandwidth (see the module's description); the
        default concurrency and per-request overhead.

    Examples
    --------
    >>> class FS:
    ...     pass
    >>> fs = FS()
    >>> estimate(fs) is None
    True
    >>> record(fs, (0,), 0.1)
    >>> record(fs, (4_000_000,), 0.1 + 4_000_000 / 20e6)
    >>> link = estimate(fs)
    >>> round(link.latency, 3), round(link.bandwidth / 1e6)
    (0.1, 21)
    """
    try:
        with _lock:
            batches = list(_seen.get(_key(fs), ()))
    except TypeError:
        return None
    return _estimate(batches) if batches else None


def link_for(fs: Any) -> Link:
    """The link to plan reads on ``fs`` with: ``HELPERS_LINK`` if set, else :func:`estimate`, else the default.

    Parameters
    ----------
    fs : fsspec.AbstractFileSystem or None
        The file system of the file to read (None: nothing to estimate from).

    Returns
    -------
    Link

    Raises
    ------
    CloudInputError
        If ``HELPERS_LINK`` is set but malformed (see :func:`helpers.ranges.default_link`).

    Examples
    --------
    >>> class FS:
    ...     pass
    >>> link_for(FS()) == default_link()  # nothing recorded: HELPERS_LINK or DEFAULT_LINK
    True
    """
    if fs is None or os.environ.get(LINK_VARIABLE, "").strip():
        return default_link()
    return estimate(fs) or default_link()
