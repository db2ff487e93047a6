"""helpers.bin_events equals numpy's histogram2d, transposed for imshow."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import bin_events
from helpers.errors import CloudInputError


@pytest.fixture(scope="module")
def events():
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.normal(7680, 600, 200_000), rng.uniform(1, 15360, 50_000)])
    y = np.concatenate([rng.normal(7000, 900, 200_000), rng.uniform(1, 15360, 50_000)])
    return x, y


def test_equals_histogram2d_default_range(events):
    x, y = events
    image, extent = bin_events(x, y, 128)
    reference, xedges, yedges = np.histogram2d(x, y, bins=128)
    np.testing.assert_array_equal(image, reference.T)
    assert extent == [xedges[0], xedges[-1], yedges[0], yedges[-1]]
    assert image.sum() == x.size


def test_equals_histogram2d_with_range_and_rectangular_bins(events):
    x, y = events
    rng = ((5000.0, 10000.0), (4000.0, 9000.0))
    image, extent = bin_events(x, y, (100, 64), range=rng)
    reference = np.histogram2d(x, y, bins=(100, 64), range=rng)[0]
    assert image.shape == (64, 100)
    np.testing.assert_array_equal(image, reference.T)
    assert extent == [5000.0, 10000.0, 4000.0, 9000.0]


def test_integer_columns_and_events_on_the_last_edge():
    x = np.array([0, 1, 2, 3, 4, 4, 4], dtype=np.int32)
    y = np.array([0, 0, 0, 0, 0, 4, 4], dtype=np.int32)
    image, extent = bin_events(x, y, 4)
    np.testing.assert_array_equal(image, np.histogram2d(x, y, bins=4)[0].T)
    assert image[3, 3] == 2  # x == y == 4 lands in the last, closed bin
    assert extent == [0.0, 4.0, 0.0, 4.0]


def test_single_valued_input_is_widened_like_numpy():
    image, extent = bin_events([5.0, 5.0], [2.0, 2.0], 3)
    np.testing.assert_array_equal(image, np.histogram2d([5.0, 5.0], [2.0, 2.0], bins=3)[0].T)
    assert extent == [4.5, 5.5, 1.5, 2.5]


def with_bad_values(values: np.ndarray, seed: int) -> np.ndarray:
    """A copy with NaN, +inf and -inf at random places (about 1% each)."""
    rng = np.random.default_rng(seed)
    out = values.astype(np.float64, copy=True)
    for bad in (np.nan, np.inf, -np.inf):
        out[rng.random(out.size) < 0.01] = bad
    return out


@pytest.mark.parametrize("where", ["x", "y", "both"])
@pytest.mark.parametrize("rng_", [((5000.0, 10000.0), (4000.0, 9000.0)), ((1.0, 15360.0), (1.0, 15360.0))])
def test_nan_and_inf_are_dropped_as_numpy_drops_them(events, where, rng_):
    x, y = events
    if where in ("x", "both"):
        x = with_bad_values(x, 1)
    if where in ("y", "both"):
        y = with_bad_values(y, 2)
    image, extent = bin_events(x, y, (96, 80), range=rng_)
    reference, xedges, yedges = np.histogram2d(x, y, bins=(96, 80), range=rng_)
    np.testing.assert_array_equal(image, reference.T)
    assert extent == [xedges[0], xedges[-1], yedges[0], yedges[-1]]
    finite = np.isfinite(x) & np.isfinite(y)
    assert finite.sum() <= x.size - 5000  # there were NaN/inf events, and none of them is counted:
    (x0, x1), (y0, y1) = rng_
    assert image.sum() == np.count_nonzero(finite & (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))


def test_nan_in_x_with_the_y_range_from_the_data(events):
    x, y = with_bad_values(events[0], 3), events[1]
    image, extent = bin_events(x, y, 64, range=((1.0, 15360.0), None))
    reference, _, yedges = np.histogram2d(x, y, bins=64, range=((1.0, 15360.0), None))
    np.testing.assert_array_equal(image, reference.T)
    assert extent[2:] == [y.min(), y.max()] == [yedges[0], yedges[-1]]
    assert image.sum() == np.count_nonzero(np.isfinite(x))


def test_nan_used_to_land_in_the_first_bin():
    image, _ = bin_events([np.nan, 0.5, np.nan], [np.nan, 0.5, 0.2], 2, range=((0, 2), (0, 2)))
    assert image.tolist() == [[1, 0], [0, 0]]
    np.testing.assert_array_equal(image, np.histogram2d([np.nan, 0.5, np.nan], [np.nan, 0.5, 0.2], 2,
                                                        range=((0, 2), (0, 2)))[0].T)


def test_events_exactly_on_the_range_edges():
    x = np.array([0.0, 2.0, 2.0 + 1e-12, -1e-12, 1.0])
    image, _ = bin_events(x, np.ones_like(x), 2, range=((0, 2), (0, 2)))
    np.testing.assert_array_equal(image, np.histogram2d(x, np.ones_like(x), 2, range=((0, 2), (0, 2)))[0].T)
    assert image.sum() == 3


@pytest.mark.parametrize(
    "x, fragment",
    [
        ([1.0, np.nan, 3.0], r"autodetected range of x, \[nan, nan\], is not finite: 1 of the 3 events"),
        ([1.0, np.inf, 3.0], r"autodetected range of x, \[1.0, inf\], is not finite"),
        ([np.nan, np.nan], r"\[nan, nan\]"),
    ],
)
def test_nan_or_inf_without_a_range_is_an_error_as_in_numpy(x, fragment):
    with pytest.raises(ValueError, match="autodetected range of .* is not finite"):
        np.histogram2d(np.array(x), np.ones(len(x)), bins=2)
    with pytest.raises(CloudInputError, match=fragment):
        bin_events(x, np.ones(len(x)), 2)
    with pytest.raises(CloudInputError, match=fragment.replace("x", "y", 1)):
        bin_events(np.ones(len(x)), x, 2)


def test_one_axis_range_from_the_data_as_numpy_does():
    x, y = [1.0, 2.0, 3.0, 9.0], [5.0, 6.0, 7.0, 8.0]
    image, extent = bin_events(x, y, 2, range=((0, 4), None))
    reference, xedges, yedges = np.histogram2d(x, y, 2, range=((0, 4), None))
    np.testing.assert_array_equal(image, reference.T)
    assert extent == [0.0, 4.0, 5.0, 8.0] == [xedges[0], xedges[-1], yedges[0], yedges[-1]]


def test_empty_with_a_range_is_an_empty_image():
    image, extent = bin_events([], [], (3, 2), range=((0, 1), (0, 1)))
    assert image.shape == (2, 3) and image.sum() == 0
    assert extent == [0.0, 1.0, 0.0, 1.0]


@pytest.mark.parametrize(
    "args, kwargs, fragment",
    [
        (([1, 2], [1]), {}, r"one length, got shapes \(2,\) and \(1,\)"),
        (([[1, 2]], [[1, 2]]), {}, r"x must be a 1-d array .* shape \(1, 2\)"),
        ((["a", "b"], [1, 2]), {}, "x must be numeric, got dtype <U1"),
        (([1, 2], [1, 2], 0), {}, "bins must be positive, got 0"),
        (([1, 2], [1, 2], (4, -1)), {}, r"bins must be positive, got \(4, -1\)"),
        (([1, 2], [1, 2], 2.5), {}, "bins must be a positive integer or a pair of them, got 2.5"),
        (([1, 2], [1, 2], (1, 2, 3)), {}, "bins must be a positive integer or a pair"),
        (([], []), {}, "no events to bin and no range given for x"),
        (([1, 2], [1, 2], 2), {"range": ((3, 1), (0, 1))}, "empty range of x: maximum 1.0 is below minimum 3.0"),
        (([1, 2], [1, 2], 2), {"range": ((0, 1), (0, np.inf))}, r"the range of y, \[0.0, inf\], is not finite"),
        (([1, 2], [1, 2], 2), {"range": ((0, np.nan), (0, 1))}, "the range of x, .* is not finite"),
        (([1, 2], [1, 2], 2), {"range": (0, 1)}, r"the range of x must be \(min, max\), got 0"),
        (([1, 2], [1, 2], 2), {"range": 5}, r"range must be \(\(xmin, xmax\), \(ymin, ymax\)\), got 5"),
    ],
)
def test_bad_input_is_a_clear_input_error(args, kwargs, fragment):
    with pytest.raises(CloudInputError, match=fragment) as info:
        bin_events(*args, **kwargs)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("bins", [10**12, (2**14 + 1, 2**14), (1, 2**28 + 1)])
def test_too_many_bins_is_an_input_error_not_a_memory_error(bins):
    from helpers.events import MAX_BINS

    with pytest.raises(CloudInputError, match=f"more than MAX_BINS = {MAX_BINS:,}"):
        bin_events([1, 2], [1, 2], bins)


def test_the_largest_image_under_the_cap_is_made():
    image, _ = bin_events([1, 2], [1, 2], (2**14, 2**12), range=((0, 4), (0, 4)))
    assert image.shape == (2**12, 2**14) and image.sum() == 2
