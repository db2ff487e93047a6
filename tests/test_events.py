"""helpers.bin_events equals numpy's histogram2d, transposed for imshow."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import bin_events


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


@pytest.mark.parametrize(
    "args, kwargs, fragment",
    [
        (([1, 2], [1]), {}, "one length"),
        (([1, 2], [1, 2], 0), {}, "bins must be positive"),
        (([], []), {}, "no events"),
        (([1, 2], [1, 2], 2), {"range": ((3, 1), (0, 1))}, "empty range"),
    ],
)
def test_bad_input(args, kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        bin_events(*args, **kwargs)
