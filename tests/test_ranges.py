"""helpers.ranges: the cutout read plan."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers.ranges import Link, plan_cost, plan_ranges


@given(rows=st.integers(1, 500), nx=st.integers(1, 20000), width=st.integers(1, 20000), first=st.integers(0, 9999),
       latency=st.floats(0, 0.2), bandwidth=st.floats(1e5, 1e9), concurrency=st.integers(1, 128),
       overhead=st.floats(0, 0.01))
def test_every_needed_byte_is_fetched_once(rows, nx, width, first, latency, bandwidth, concurrency, overhead):
    width = min(width, nx)
    row_bytes, offset = nx * 4, 2880 + first * nx * 4
    plan = plan_ranges(first, rows, row_bytes, offset, width * 4, Link(latency, bandwidth, concurrency, overhead))
    covered = [row for _, _, row0, n in plan for row in range(row0, row0 + n)]
    assert covered == list(range(first, first + rows))
    for start, end, row0, n in plan:
        assert start == offset + (row0 - first) * row_bytes
        assert end - start == (n - 1) * row_bytes + width * 4


def test_extremes():
    no_latency = plan_ranges(0, 100, 16380, 2880, 932, Link(latency=0.0, bandwidth=50e6, concurrency=8, overhead=0))
    assert len(no_latency) == 100  # only the pixels
    far = plan_ranges(0, 100, 16380, 2880, 932, Link(latency=10.0, bandwidth=50e6, concurrency=1))
    assert far == [(2880, 2880 + 99 * 16380 + 932, 0, 100)]  # one span


def test_wise_tile_on_the_default_link_fetches_in_one_round():
    plan = plan_ranges(0, 233, 4095 * 4, 5760, 233 * 4)
    assert 1 < len(plan) <= 64
    best = plan_cost(len(plan), 233, 4095 * 4, 233 * 4, Link())
    assert best < plan_cost(1, 233, 4095 * 4, 233 * 4, Link()) and best < plan_cost(233, 233, 4095 * 4, 233 * 4, Link())


@pytest.mark.parametrize("args", [(0, 0, 100, 0, 10), (0, 5, 100, 0, 0), (0, 5, 10, 0, 100)])
def test_bad_geometry(args):
    with pytest.raises(ValueError, match="bad cutout geometry"):
        plan_ranges(*args)
