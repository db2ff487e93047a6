"""Binning photon event lists into images."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["bin_events"]

_CHUNK = 1 << 18


def bin_events(
    x: np.ndarray,
    y: np.ndarray,
    bins: int | Sequence[int] = 128,
    range: Sequence[Sequence[float]] | None = None,  # noqa: A002 - numpy's name
) -> tuple[np.ndarray, list[float]]:
    """Bin event positions into a counts image.

    Equal to ``np.histogram2d(x, y, bins, range)[0].T`` (last bin closed on the
    right, as numpy does) but several times faster for 10^7 events, because it
    computes each event's bin index once and counts with ``np.bincount``.

    Parameters
    ----------
    x, y : array_like
        Event positions, e.g. the ``X`` and ``Y`` sky-pixel columns of an events file.
    bins : int or (int, int)
        Number of bins along x and y.
    range : ((xmin, xmax), (ymin, ymax)), optional
        Edges of the image; defaults to the data's minimum and maximum.
        Events outside are dropped.

    Returns
    -------
    image : numpy.ndarray
        Counts of shape ``(ny, nx)``, indexed ``image[y, x]``, for
        ``plt.imshow(image, origin="lower", extent=extent)``.
    extent : list of float
        ``[xmin, xmax, ymin, ymax]``.

    Raises
    ------
    ValueError
        If ``x`` and ``y`` differ in length, ``bins`` is not positive, or a
        range is empty.

    Examples
    --------
    >>> image, extent = bin_events([1, 2, 2, 4], [1, 1, 3, 4], bins=3)
    >>> int(image.sum()), extent
    (4, [1.0, 4.0, 1.0, 4.0])
    """
    x = np.asarray(x)
    y = np.asarray(y)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-d arrays of one length, got shapes {x.shape} and {y.shape}")
    nx, ny = (int(bins), int(bins)) if np.ndim(bins) == 0 else (int(bins[0]), int(bins[1]))
    if nx < 1 or ny < 1:
        raise ValueError(f"bins must be positive, got {bins!r}")
    if range is None:
        if x.size == 0:
            raise ValueError("no events to bin and no range given")
        range = ((float(x.min()), float(x.max())), (float(y.min()), float(y.max())))  # noqa: A001
    (x0, x1), (y0, y1) = ((float(a), float(b)) for a, b in range)
    if not (x1 >= x0 and y1 >= y0):
        raise ValueError(f"empty range {range!r}")
    # numpy widens a zero-width range by 0.5 on each side; so do we.
    if x1 == x0:
        x0, x1 = x0 - 0.5, x1 + 0.5
    if y1 == y0:
        y0, y1 = y0 - 0.5, y1 + 0.5

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


def _bin_index(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin index of each value, -1 outside the edges, exactly as numpy assigns them.

    The index comes from one multiplication and is then corrected against the
    edges, as ``np.histogram`` does for equal bins, instead of a binary search.
    """
    n = edges.size - 1
    lo, hi = edges[0], edges[-1]
    v = values.astype(np.float64, copy=False)
    index = ((v - lo) * (n / (hi - lo))).astype(np.intp)
    np.clip(index, 0, n - 1, out=index)
    index[v < edges[index]] -= 1
    index[(v >= edges[index + 1]) & (index < n - 1)] += 1
    index[(v < lo) | (v > hi)] = -1
    return index
