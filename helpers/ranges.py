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
import os
from dataclasses import dataclass

__all__ = ["Link", "DEFAULT_LINK", "plan_ranges", "plan_cost"]


@dataclass(frozen=True)
class Link:
    """What a network link costs.

    Attributes
    ----------
    latency : float
        Seconds per request round trip (S3 from inside its region: 20-50 ms).
    bandwidth : float
        Bytes per second on one connection.
    concurrency : int
        Requests in flight at once.
    overhead : float
        Client CPU seconds per request, which concurrency does not hide
        (measured with s3fs's ``cat_ranges`` on a 2-core machine: 2.7-3.2 ms).
    """

    latency: float = 0.03
    bandwidth: float = 50e6
    concurrency: int = 64
    overhead: float = 0.003


def _default_link() -> Link:
    # HELPERS_LINK="latency_s,bandwidth_Bps[,concurrency[,overhead_s]]" describes another link without code changes.
    text = os.environ.get("HELPERS_LINK")
    if not text:
        return Link()
    parts = [float(v) for v in text.split(",")]
    defaults = Link()
    return Link(parts[0], parts[1], int(parts[2]) if len(parts) > 2 else defaults.concurrency,
                parts[3] if len(parts) > 3 else defaults.overhead)


DEFAULT_LINK = _default_link()


def plan_cost(groups: int, rows: int, row_bytes: int, width_bytes: int, link: Link) -> float:
    """Model time (s) to fetch ``rows`` rows in ``groups`` concurrent ranges of consecutive rows."""
    rows_per_group = math.ceil(rows / groups)
    group_bytes = (rows_per_group - 1) * row_bytes + width_bytes
    rounds = math.ceil(groups / link.concurrency)
    return rounds * (link.latency + group_bytes / link.bandwidth) + groups * link.overhead


def plan_ranges(
    first_row: int,
    rows: int,
    row_bytes: int,
    offset: int,
    width_bytes: int,
    link: Link = DEFAULT_LINK,
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
    link : Link
        The link model.

    Returns
    -------
    list of (start, end, row0, nrows)
        File byte ranges (``end`` exclusive) and the rows each one covers.

    Examples
    --------
    >>> plan_ranges(0, 4, 1000, 2880, 100, Link(latency=0.03, bandwidth=50e6, concurrency=2, overhead=0))
    [(2880, 3980, 0, 2), (4880, 5980, 2, 2)]
    """
    if rows < 1 or width_bytes < 1 or row_bytes < width_bytes:
        raise ValueError(f"bad cutout geometry: rows={rows}, width_bytes={width_bytes}, row_bytes={row_bytes}")
    best = min(range(1, rows + 1), key=lambda k: (plan_cost(k, rows, row_bytes, width_bytes, link), k))
    per_group = math.ceil(rows / best)
    plan = []
    for row0 in range(0, rows, per_group):
        nrows = min(per_group, rows - row0)
        start = offset + row0 * row_bytes
        plan.append((start, start + (nrows - 1) * row_bytes + width_bytes, first_row + row0, nrows))
    return plan
