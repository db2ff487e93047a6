"""Planning the byte ranges of an image cutout: few bytes *and* few round trips.

A cutout of an uncompressed FITS image needs one run of bytes per image row.
Fetching each row separately moves the fewest bytes but pays a round trip per
request; one read over all the rows pays one round trip but moves the full
width of every row.  Knowing the geometry before reading, :func:`plan_ranges`
groups consecutive rows into ``k`` ranges fetched concurrently, and picks the
``k`` that a simple model of the link (round-trip time, bandwidth per
connection, connections at once) says is fastest.
"""

from __future__ import annotations

import math
import numbers
import operator
import os
from dataclasses import dataclass

from .errors import CloudInputError, bounded

__all__ = ["Link", "DEFAULT_LINK", "LINK_VARIABLE", "default_link", "plan_ranges", "plan_cost"]

#: The environment variable that describes another link without code changes, read by :func:`default_link`.
LINK_VARIABLE = "HELPERS_LINK"
_LINK_FORMAT = "latency_s,bandwidth_Bps[,concurrency[,overhead_s]]"


@dataclass(frozen=True)
class Link:
    """What a network link costs.

    Attributes
    ----------
    latency : float
        Seconds per request round trip (S3 from inside its region: 20-50 ms); 0 or more.
    bandwidth : float
        Bytes per second on one connection; more than 0.
    concurrency : int
        Requests in flight at once; 1 or more.
    overhead : float
        Client CPU seconds per request, which concurrency does not hide
        (measured with s3fs's ``cat_ranges`` on a 2-core machine: 2.7-3.2 ms); 0 or more.

    Raises
    ------
    CloudInputError
        If a value is out of its range, NaN or infinite: the cost model would
        divide by zero or compare NaN.

    Examples
    --------
    >>> Link(latency=0.08, bandwidth=20e6)
    Link(latency=0.08, bandwidth=20000000.0, concurrency=64, overhead=0.003)
    """

    latency: float = 0.03
    bandwidth: float = 50e6
    concurrency: int = 64
    overhead: float = 0.003

    def __post_init__(self) -> None:
        problems = [
            f"{name}={bounded(value, 40)} (must be {rule})"
            for name, value, rule, ok in (
                ("latency", self.latency, "a finite number >= 0", _finite(self.latency) and self.latency >= 0),
                ("bandwidth", self.bandwidth, "a finite number > 0", _finite(self.bandwidth) and self.bandwidth > 0),
                ("concurrency", self.concurrency, "an integer >= 1", _count(self.concurrency)),
                ("overhead", self.overhead, "a finite number >= 0", _finite(self.overhead) and self.overhead >= 0),
            )
            if not ok
        ]
        if problems:
            raise CloudInputError("bad Link: " + ", ".join(problems))


def _finite(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _count(value: object) -> bool:
    if isinstance(value, bool):
        return False
    try:
        return operator.index(value) >= 1  # an int or a numpy integer, not a float
    except TypeError:
        return False


#: The documented default link (30 ms, 50 MB/s, 64 requests at once, 3 ms per request), whatever
#: the environment says; :func:`default_link` is what the helpers use when given no link.
DEFAULT_LINK = Link()


def default_link() -> Link:
    """The link the helpers assume when given none: :data:`DEFAULT_LINK`, or what ``HELPERS_LINK`` says.

    ``HELPERS_LINK="latency_s,bandwidth_Bps[,concurrency[,overhead_s]]"``
    describes another link without code changes (e.g. ``0.08,20e6`` for a
    laptop far from the bucket's region).  It is read at each call, not at
    import, so a bad value breaks only the calls that need it, with a clear error.

    Returns
    -------
    Link

    Raises
    ------
    CloudInputError
        If ``HELPERS_LINK`` is set but malformed or out of range; the message
        quotes the variable and its value.

    Examples
    --------
    In a shell, ``export HELPERS_LINK=0.08,20e6`` before starting Python; the
    value is parsed as :func:`_parse_link` shows (the examples leave the
    environment of the running process alone):

    >>> _parse_link("0.08,20e6")
    Link(latency=0.08, bandwidth=20000000.0, concurrency=64, overhead=0.003)
    >>> _parse_link("fast")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    helpers.errors.CloudInputError: HELPERS_LINK="fast": expected "latency_s,bandwidth_Bps[,concurrency...
    >>> _parse_link("") == DEFAULT_LINK
    True
    """
    return _parse_link(os.environ.get(LINK_VARIABLE, ""))


def _parse_link(text: str) -> Link:
    """The :class:`Link` a ``HELPERS_LINK`` value describes (:data:`DEFAULT_LINK` when blank)."""
    if not text.strip():
        return DEFAULT_LINK
    quoted = f'{LINK_VARIABLE}="{text if len(text) <= 80 else text[:77] + "..."}"'  # as a shell would show it
    parts = [part.strip() for part in text.split(",")]
    try:
        if not 2 <= len(parts) <= 4:
            raise ValueError(f"{len(parts)} comma-separated field{'s' * (len(parts) != 1)}, not 2 to 4")
        values = [float(part) for part in parts]
        if len(values) > 2 and not values[2].is_integer():
            raise ValueError(f"concurrency {parts[2]} is not an integer")
        names = ("latency", "bandwidth", "concurrency", "overhead")[: len(values)]
        fields = dict(zip(names, values, strict=True))
        if "concurrency" in fields:
            fields["concurrency"] = int(fields["concurrency"])
        return Link(**fields)
    except (ValueError, OverflowError) as exc:  # CloudInputError from Link is a ValueError too
        raise CloudInputError(f'{quoted}: expected "{_LINK_FORMAT}" ({exc})') from None


def plan_cost(groups: int, rows: int, row_bytes: int, width_bytes: int, link: Link) -> float:
    """Model time (s) to fetch ``rows`` rows in ``groups`` concurrent ranges of consecutive rows.

    Examples
    --------
    >>> round(plan_cost(1, 100, 16380, 932, Link(latency=0.03, bandwidth=50e6, overhead=0)), 4)
    0.0625
    """
    rows_per_group = math.ceil(rows / groups)
    group_bytes = (rows_per_group - 1) * row_bytes + width_bytes
    rounds = math.ceil(groups / link.concurrency)
    return rounds * (link.latency + group_bytes / link.bandwidth) + groups * link.overhead


def _check_geometry(first_row: object, rows: object, row_bytes: object, offset: object, width_bytes: object) -> None:
    """Raise CloudInputError naming every value of a cutout's geometry that cannot be planned."""
    values = {"first_row": first_row, "rows": rows, "row_bytes": row_bytes, "offset": offset,
              "width_bytes": width_bytes}
    problems = [f"{name}={bounded(value, 40)} is not an integer" for name, value in values.items()
                if isinstance(value, bool) or not isinstance(value, numbers.Integral)]
    if not problems:
        problems = [f"{name}={value} is negative" for name, value in values.items()
                    if name in ("first_row", "offset") and value < 0]
        if rows < 1:
            problems.append(f"rows={rows}: at least one row is needed")
        if width_bytes < 1:
            problems.append(f"width_bytes={width_bytes}: at least one byte of each row is needed")
        elif row_bytes < width_bytes:
            problems.append(f"width_bytes={width_bytes} is wider than a whole row (row_bytes={row_bytes})")
    if problems:
        raise CloudInputError("bad cutout geometry: " + "; ".join(problems))


def plan_ranges(
    first_row: int,
    rows: int,
    row_bytes: int,
    offset: int,
    width_bytes: int,
    link: Link | None = None,
) -> list[tuple[int, int, int, int]]:
    """Byte ranges that fetch a block of image rows fastest under ``link``.

    Parameters
    ----------
    first_row, rows : int
        The first image row (0-based) and how many consecutive rows are needed.
    row_bytes : int
        Bytes in one full image row.
    offset : int
        Byte offset, in the file, of the first needed byte of ``first_row``.
    width_bytes : int
        Needed bytes in each row.
    link : Link, optional
        The link model; by default :func:`default_link` (``HELPERS_LINK``, or
        :data:`DEFAULT_LINK`).

    Returns
    -------
    list of (start, end, row0, nrows)
        File byte ranges (``end`` exclusive) and the rows each one covers.

    Raises
    ------
    CloudInputError
        (a ValueError) If the geometry is impossible (no rows, a width of zero
        or wider than a row, a negative offset, a value that is not an
        integer), naming each bad value; if ``link`` is not a :class:`Link`;
        or if ``HELPERS_LINK`` is malformed.

    Examples
    --------
    >>> plan_ranges(0, 4, 1000, 2880, 100, Link(latency=0.03, bandwidth=50e6, concurrency=2, overhead=0))
    [(2880, 3980, 0, 2), (4880, 5980, 2, 2)]
    """
    _check_geometry(first_row, rows, row_bytes, offset, width_bytes)
    if link is not None and not isinstance(link, Link):  # else an AttributeError deep in plan_cost
        raise CloudInputError(f"link must be a Link or None, got {type(link).__name__} {bounded(link, 80)}")
    link = default_link() if link is None else link
    best = min(range(1, rows + 1), key=lambda k: (plan_cost(k, rows, row_bytes, width_bytes, link), k))
    per_group = math.ceil(rows / best)
    plan = []
    for row0 in range(0, rows, per_group):
        nrows = min(per_group, rows - row0)
        start = offset + row0 * row_bytes
        plan.append((start, start + (nrows - 1) * row_bytes + width_bytes, first_row + row0, nrows))
    return plan
