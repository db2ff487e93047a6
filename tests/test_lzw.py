"""helpers.decompress_lzw: byte-identical to unlzw3, clear errors on bad or truncated input."""

from __future__ import annotations

import io

import ncompress
import numpy as np
import pytest
import unlzw3
from astropy.io import fits
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import LZWError, decompress_lzw
from helpers.lzw import FITS_RECORD


@pytest.fixture(scope="module")
def events_fits() -> bytes:
    """A small events file as FITS bytes (compressible, like a real one)."""
    rng = np.random.default_rng(7)
    n = 20_000
    columns = [
        fits.Column(name="X", format="J", array=rng.normal(7680, 800, n).astype(np.int32)),
        fits.Column(name="Y", format="J", array=rng.normal(7680, 800, n).astype(np.int32)),
        fits.Column(name="PI", format="I", array=rng.integers(1, 257, n).astype(np.int16)),
        fits.Column(name="TIME", format="D", array=np.sort(rng.uniform(0, 1e4, n))),
    ]
    buffer = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(columns, name="STDEVT")]).writeto(buffer)
    return buffer.getvalue()


def test_identical_to_unlzw3(events_fits):
    packed = ncompress.compress(events_fits)
    assert packed[:2] == b"\x1f\x9d"
    out = decompress_lzw(packed, record_size=FITS_RECORD)
    assert out == events_fits
    assert out == unlzw3.unlzw(packed)
    with fits.open(io.BytesIO(out)) as hdul:
        assert hdul["STDEVT"].columns.names == ["X", "Y", "PI", "TIME"]


def test_accepts_bytearray_and_memoryview(events_fits):
    packed = ncompress.compress(events_fits)
    assert decompress_lzw(bytearray(packed)) == events_fits
    assert decompress_lzw(memoryview(packed)) == events_fits


@pytest.mark.parametrize(
    "data, fragment",
    [
        (b"", "only 0 bytes"),
        (b"\x1f", "only 1 bytes"),
        (b"SIMPLE  =                    T", "not Unix-compress"),
        (b"\x1f\x8b\x08\x00gzip data here", "not Unix-compress"),
        (b"\x1f\x9d\x08abc", "maximum code size 8 bits"),
        (b"\x1f\x9d\x11abc", "maximum code size 17 bits"),
        (b"\x1f\x9d\x90" + b"\xff" * 64, "corrupt or truncated"),
    ],
)
def test_bad_input_is_a_clear_error(data, fragment):
    with pytest.raises(LZWError, match=fragment):
        decompress_lzw(data)


def test_truncated_fits_is_caught_by_the_record_check(events_fits):
    packed = ncompress.compress(events_fits)
    cut = packed[: len(packed) // 2]
    with pytest.raises(LZWError, match="not a whole number of 2880-byte records"):
        decompress_lzw(cut, record_size=FITS_RECORD)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mutated_input_only_ever_raises_lzw_error(events_fits, data):
    """Fuzz: flipped bytes and cuts give bytes or LZWError, never another exception."""
    packed = bytearray(ncompress.compress(events_fits[:20000]))
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, len(packed) - 1))
        packed[position] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(packed)))
    try:
        out = decompress_lzw(bytes(packed[:cut]), record_size=data.draw(st.sampled_from([None, FITS_RECORD])))
    except LZWError:
        return
    assert isinstance(out, bytes)
