"""Binning photon event lists into images."""

from __future__ import annotations

import operator
from collections.abc import Sequence

import numpy as np

from .errors import CloudInputError, bounded

__all__ = ["bin_events", "MAX_BINS"]

_CHUNK = 1 << 18
#: Most bins (``nx * ny``) :func:`bin_events` makes: 2**28 bins are 2 GiB of
#: int64 counts (4 GiB while ``np.bincount`` adds a chunk), far past any
#: detector's pixels (a 16384 x 16384 image), so a mistyped ``bins`` is refused
#: instead of exhausting memory.
MAX_BINS = 1 << 28


def bin_events(
    x: np.ndarray,
    y: np.ndarray,
    bins: int | Sequence[int] = 128,
    range: Sequence[Sequence[float] | None] | None = None,  # noqa: A002 - numpy's name
) -> tuple[np.ndarray, list[float]]:
    """Bin event positions into a counts image.

    Equal to ``np.histogram2d(x, y, bins, range)[0].T`` (last bin closed on the
    right, events outside the range, NaN and infinities dropped, as numpy
    does) but several times faster for 10^7 events, because it computes each
    event's bin index once and counts with ``np.bincount``.

    Parameters
    ----------
    x, y : array_like
        Event positions, e.g. the ``X`` and ``Y`` sky-pixel columns of an events file.
    bins : int or (int, int)
        Number of bins along x and y; at most :data:`MAX_BINS` in all.
    range : ((xmin, xmax), (ymin, ymax)), optional
        Edges of the image; defaults to the data's minimum and maximum (an
        axis given as ``None`` is taken from the data too).  Events outside,
        and NaN or infinite positions, are dropped.  A zero-width range is
        widened by 0.5 on each side, as numpy does.

    Returns
    -------
    image : numpy.ndarray
        Counts (int64) of shape ``(ny, nx)``, indexed ``image[y, x]``, for
        ``plt.imshow(image, origin="lower", extent=extent)``.
    extent : list of float
        ``[xmin, xmax, ymin, ymax]``.

    Raises
    ------
    CloudInputError
        (a ValueError) If ``x`` and ``y`` are not numeric 1-d arrays of one
        length, ``bins`` is not one or two positive integers or makes more
        than :data:`MAX_BINS` bins (2**28, 2 GiB of counts), a range is not
        finite or has its maximum below its minimum, or there are no events
        and no range.  Without a range, NaN or infinite positions are an error
        (numpy's "autodetected range ... is not finite"): there is no image
        size to take from them.

    Examples
    --------
    >>> image, extent = bin_events([1, 2, 2, 4], [1, 1, 3, 4], bins=3)
    >>> int(image.sum()), extent
    (4, [1.0, 4.0, 1.0, 4.0])
    >>> image, _ = bin_events([1, 3, float("nan"), 9], [1, 1, 2, 2], bins=2, range=((0, 4), (0, 4)))
    >>> image.tolist()  # the NaN and the event at x=9 are dropped
    [[1, 1], [0, 0]]
    """
    x = _positions(x, "x")
    y = _positions(y, "y")
    if x.shape != y.shape:
        raise CloudInputError(f"x and y must be 1-d arrays of one length, got shapes {x.shape} and {y.shape}")
    nx, ny = _bin_counts(bins)
    x_range, y_range = _ranges(range)
    x0, x1 = _axis_range(x, x_range, "x")
    y0, y1 = _axis_range(y, y_range, "y")

    xedges = np.linspace(x0, x1, nx + 1)
    yedges = np.linspace(y0, y1, ny + 1)
    counts = np.zeros(nx * ny, dtype=np.int64)
    # Chunks that fit in cache are about twice as fast as whole-array passes.
    for start in np.arange(0, x.size, _CHUNK):
        ix = _bin_index(x[start:start + _CHUNK], xedges)
        iy = _bin_index(y[start:start + _CHUNK], yedges)
        keep = (ix >= 0) & (iy >= 0)
        counts += np.bincount(iy[keep] * nx + ix[keep], minlength=nx * ny)
    return counts.reshape(ny, nx), [x0, x1, y0, y1]


def _positions(values: object, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise CloudInputError(f"{name} must be a 1-d array of event positions, got shape {array.shape}")
    if array.dtype.kind not in "biuf":
        raise CloudInputError(f"{name} must be numeric, got dtype {array.dtype} ({bounded(array[:3], 80)}...)")
    return array


def _bin_counts(bins: object) -> tuple[int, int]:
    """(nx, ny) from ``bins``: one positive integer, or two."""
    try:
        pair = (bins, bins) if np.ndim(bins) == 0 else tuple(bins)
        nx, ny = (operator.index(n) for n in pair)
    except (TypeError, ValueError):  # a float, a string, edges arrays, three numbers...
        raise CloudInputError(f"bins must be a positive integer or a pair of them, got {bounded(bins, 80)}") from None
    if nx < 1 or ny < 1:
        raise CloudInputError(f"bins must be positive, got {bounded(bins, 80)}")
    if nx * ny > MAX_BINS:
        raise CloudInputError(f"bins={bounded(bins, 80)} makes {nx * ny:,} bins, more than MAX_BINS = {MAX_BINS:,} "
                              f"({MAX_BINS * 8 >> 30} GiB of counts)")
    return nx, ny


def _ranges(range: object) -> tuple[object, object]:  # noqa: A002 - numpy's name
    if range is None:
        return None, None
    try:
        x_range, y_range = range
    except (TypeError, ValueError):
        raise CloudInputError(f"range must be ((xmin, xmax), (ymin, ymax)), got {bounded(range, 80)}") from None
    return x_range, y_range


def _axis_range(values: np.ndarray, given: object, name: str) -> tuple[float, float]:
    """The edges of one axis, checked and widened exactly as ``np.histogramdd`` does."""
    if given is None:
        if values.size == 0:
            raise CloudInputError(f"no events to bin and no range given for {name}")
        lo, hi = float(values.min()), float(values.max())
        if not (np.isfinite(lo) and np.isfinite(hi)):
            bad = int(np.count_nonzero(~np.isfinite(values)))
            raise CloudInputError(
                f"autodetected range of {name}, [{lo}, {hi}], is not finite: {bad:,} of the {values.size:,} "
                f"events have NaN or infinite {name}; drop them or pass range=((xmin, xmax), (ymin, ymax))"
            )
    else:
        try:
            lo, hi = (float(v) for v in given)
        except (TypeError, ValueError):
            raise CloudInputError(f"the range of {name} must be (min, max), got {bounded(given, 80)}") from None
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise CloudInputError(f"the range of {name}, [{lo}, {hi}], is not finite")
        if hi < lo:
            raise CloudInputError(f"empty range of {name}: maximum {hi} is below minimum {lo}")
    if lo == hi:  # numpy widens a zero-width range by 0.5 on each side; so do we.
        lo, hi = lo - 0.5, hi + 0.5
    return lo, hi


def _bin_index(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin index of each value, -1 outside the edges or NaN, exactly as numpy assigns them.

    The index comes from one multiplication and is then corrected against the
    edges, as ``np.histogram`` does for equal bins, instead of a binary search.
    """
    n = edges.size - 1
    lo, hi = edges[0], edges[-1]
    v = values.astype(np.float64, copy=False)
    with np.errstate(invalid="ignore"):  # NaN and inf cast to garbage indices, discarded below
        index = ((v - lo) * (n / (hi - lo))).astype(np.intp)
    np.clip(index, 0, n - 1, out=index)
    index[v < edges[index]] -= 1
    index[(v >= edges[index + 1]) & (index < n - 1)] += 1
    # Written so that NaN, which fails every comparison, counts as outside.
    index[~((v >= lo) & (v <= hi))] = -1
    return index
