"""helpers.ranges: the cutout read plan, and the link it assumes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers.errors import CloudInputError
from helpers.ranges import DEFAULT_LINK, Link, default_link, plan_cost, plan_ranges

ROOT = Path(__file__).resolve().parents[1]
FORMAT = r'expected "latency_s,bandwidth_Bps\[,concurrency\[,overhead_s\]\]"'


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


@pytest.mark.parametrize(
    "args, fragment",
    [
        ((0, 0, 100, 0, 10), "rows=0: at least one row is needed"),
        ((0, 5, 100, 0, 0), "width_bytes=0: at least one byte of each row is needed"),
        ((0, 5, 10, 0, 100), r"width_bytes=100 is wider than a whole row \(row_bytes=10\)"),
        ((-1, 5, 100, 0, 10), "first_row=-1 is negative"),
        ((0, 5, 100, -2880, 10), "offset=-2880 is negative"),
        ((0, 5.5, 100, 0, 10), "rows=5.5 is not an integer"),
        ((0, 5, "100", 0, 10), "row_bytes='100' is not an integer"),
        ((0, 5, 100, None, 10), "offset=None is not an integer"),
        ((-1, 0, 100, 0, 0), "first_row=-1 is negative; rows=0: .*; width_bytes=0: "),
    ],
)
def test_bad_geometry_names_what_is_wrong(args, fragment):
    with pytest.raises(CloudInputError, match="bad cutout geometry: " + fragment) as info:
        plan_ranges(*args, link=Link())
    assert isinstance(info.value, ValueError)


def test_numpy_integers_are_fine():
    assert plan_ranges(np.int64(0), np.int32(4), 1000, np.uint64(2880), 100, Link(concurrency=np.int64(2),
                       overhead=0)) == [(2880, 3980, 0, 2), (4880, 5980, 2, 2)]


# --- the link -------------------------------------------------------------------------------


def test_default_link_is_the_documented_one_without_the_variable(monkeypatch):
    monkeypatch.delenv("HELPERS_LINK", raising=False)
    assert default_link() == DEFAULT_LINK == Link(latency=0.03, bandwidth=50e6, concurrency=64, overhead=0.003)
    monkeypatch.setenv("HELPERS_LINK", "  ")
    assert default_link() == DEFAULT_LINK


@pytest.mark.parametrize(
    "value, expected",
    [
        ("0.08,20e6", Link(0.08, 20e6, 64, 0.003)),
        ("0.08, 20e6, 8", Link(0.08, 20e6, 8, 0.003)),
        ("0,1e12,128,0", Link(0.0, 1e12, 128, 0.0)),
        ("0.02,1e8,16.0,0.001", Link(0.02, 1e8, 16, 0.001)),
    ],
)
def test_helpers_link_is_read_at_each_call(monkeypatch, value, expected):
    monkeypatch.setenv("HELPERS_LINK", value)
    assert default_link() == expected
    assert DEFAULT_LINK == Link()  # the documented defaults do not move


def test_plan_ranges_without_a_link_follows_the_variable(monkeypatch):
    geometry = (0, 100, 16380, 2880, 932)
    monkeypatch.setenv("HELPERS_LINK", "10,50e6,1")  # a far link: one span
    assert plan_ranges(*geometry) == [(2880, 2880 + 99 * 16380 + 932, 0, 100)]
    monkeypatch.setenv("HELPERS_LINK", "0,50e6,8,0")  # no latency, no overhead: only the pixels
    assert len(plan_ranges(*geometry)) == 100
    monkeypatch.delenv("HELPERS_LINK")
    assert plan_ranges(*geometry) == plan_ranges(*geometry, link=Link())


@pytest.mark.parametrize(
    "value, fragment",
    [
        ("abc", r"\(1 comma-separated field, not 2 to 4\)"),
        ("0.03", r"\(1 comma-separated field, not 2 to 4\)"),
        ("0.03,5e7,8,0.001,9", r"\(5 comma-separated fields, not 2 to 4\)"),
        ("0.03,fast", r"could not convert string to float: 'fast'"),
        ("0.03,0", r"bandwidth=0.0 \(must be a finite number > 0\)"),
        ("0.03,-5e7", r"bandwidth=-50000000.0 \(must be a finite number > 0\)"),
        ("0.03,nan", r"bandwidth=nan"),
        ("0.03,inf", r"bandwidth=inf"),
        ("nan,5e7", r"latency=nan \(must be a finite number >= 0\)"),
        ("-0.01,5e7", r"latency=-0.01"),
        ("0.03,5e7,0", r"concurrency=0 \(must be an integer >= 1\)"),
        ("0.03,5e7,2.5", r"concurrency 2.5 is not an integer"),
        ("0.03,5e7,8,-1", r"overhead=-1.0"),
    ],
)
def test_bad_helpers_link_names_the_variable_and_the_value(monkeypatch, value, fragment):
    monkeypatch.setenv("HELPERS_LINK", value)
    quoted = f'HELPERS_LINK="{value}": '.replace(".", r"\.").replace("+", r"\+")
    with pytest.raises(CloudInputError, match=quoted + FORMAT + " .*" + fragment):
        default_link()
    with pytest.raises(CloudInputError, match="HELPERS_LINK="):
        plan_ranges(0, 10, 1000, 2880, 100)
    assert plan_ranges(0, 4, 1000, 2880, 100, Link(concurrency=2, overhead=0)) == [
        (2880, 3980, 0, 2), (4880, 5980, 2, 2)]  # an explicit link does not read the variable


def test_a_long_bad_value_is_cut_in_the_message(monkeypatch):
    monkeypatch.setenv("HELPERS_LINK", "x" * 10_000)
    with pytest.raises(CloudInputError) as info:
        default_link()
    assert len(str(info.value)) < 250 and 'HELPERS_LINK="xxxx' in str(info.value)


def test_import_helpers_works_with_a_bad_variable():
    """It used to fail at import with a bare IndexError; now only the calls that need the link fail, clearly."""
    code = (
        "import helpers, helpers.ranges as r\n"
        "assert r.DEFAULT_LINK == r.Link()\n"
        "try:\n"
        "    r.plan_ranges(0, 10, 1000, 2880, 100)\n"
        "except helpers.CloudAccessError as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    env = {"HELPERS_LINK": "garbage", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith('CloudInputError HELPERS_LINK="garbage": expected "latency_s,bandwidth_Bps')


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"bandwidth": 0}, r"bandwidth=0 \(must be a finite number > 0\)"),
        ({"latency": float("nan")}, "latency=nan"),
        ({"concurrency": 0}, r"concurrency=0 \(must be an integer >= 1\)"),
        ({"concurrency": 8.0}, r"concurrency=8.0 \(must be an integer >= 1\)"),
        ({"overhead": -1, "bandwidth": "fast"}, r"bandwidth='fast' .*, overhead=-1"),
    ],
)
def test_bad_link_is_an_input_error(kwargs, fragment):
    with pytest.raises(CloudInputError, match="bad Link: .*" + fragment):
        Link(**kwargs)


def test_default_link_doctest_leaves_the_environment_alone(monkeypatch):
    import doctest

    import helpers.ranges

    monkeypatch.setenv("HELPERS_LINK", "0.05,1e6")
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for test in finder.find(helpers.ranges.default_link, globs=vars(helpers.ranges)):
        runner.run(test)
    assert runner.failures == 0
    assert os.environ["HELPERS_LINK"] == "0.05,1e6"


@pytest.mark.parametrize("link", ["fast", 0.03, {"latency": 0.03}])
def test_plan_ranges_refuses_a_link_of_another_type(link):
    with pytest.raises(CloudInputError, match="link must be a Link or None, got"):
        plan_ranges(0, 4, 1000, 2880, 100, link)
