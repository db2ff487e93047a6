"""Time ``.Z`` decompression (helpers vs unlzw3) and event binning (helpers vs numpy), in one run.

Part of ``benchmarks/run.py``; alone: ``python benchmarks/decompress.py``.  The inputs are
generated deterministically (an events table like a ROSAT PSPC basic file, ~15 MB).  A third
case times how fast ``decompress_lzw`` refuses a decompression bomb (33 KB of ``.Z`` that
expand to 200 MB) with a 64 MiB ``max_output``.
"""

from __future__ import annotations

import io
import time

import ncompress
import numpy as np
import unlzw3
from astropy.io import fits

from helpers import LZWError, bin_events, decompress_lzw


def _events_file(n: int) -> bytes:
    rng = np.random.default_rng(0)
    columns = [
        fits.Column(name="X", format="J", array=rng.normal(7680, 900, n).astype(np.int32)),
        fits.Column(name="Y", format="J", array=rng.normal(7680, 900, n).astype(np.int32)),
        fits.Column(name="PHA", format="I", array=rng.integers(1, 257, n).astype(np.int16)),
        fits.Column(name="PI", format="I", array=rng.integers(1, 257, n).astype(np.int16)),
        fits.Column(name="TIME", format="D", array=np.sort(rng.uniform(4.6e7, 4.7e7, n))),
        fits.Column(name="DX", format="I", array=rng.integers(1, 8192, n).astype(np.int16)),
        fits.Column(name="DY", format="I", array=rng.integers(1, 8192, n).astype(np.int16)),
    ]
    buffer = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(columns, name="STDEVT")]).writeto(buffer)
    return buffer.getvalue()


def _time(func, *args, **kwargs):
    start = time.perf_counter()
    result = func(*args, **kwargs)
    return time.perf_counter() - start, result


def measure() -> list[dict]:
    """One run of each; records in the benchmark's JSON schema (no requests or bytes here)."""
    raw = _events_file(650_000)
    packed = ncompress.compress(raw)
    t_helper, out_helper = _time(decompress_lzw, packed)
    t_unlzw3, out_unlzw3 = _time(unlzw3.unlzw, packed)
    assert out_helper == out_unlzw3 == raw, "decompressed outputs differ"
    del out_helper, out_unlzw3

    bomb = ncompress.compress(bytes(200_000_000))
    start = time.perf_counter()
    try:
        decompress_lzw(bomb, max_output=64 << 20)
    except LZWError:
        t_bomb = time.perf_counter() - start
    else:
        raise AssertionError("the 200 MB bomb passed a 64 MiB cap")

    rng = np.random.default_rng(1)
    x, y = rng.normal(7680, 900, 10_000_000), rng.normal(7680, 900, 10_000_000)
    t_bin, (image, _) = _time(bin_events, x, y, 512)
    t_np, (reference, _, _) = _time(np.histogram2d, x, y, bins=512)
    assert np.array_equal(image, reference.T), "binned counts differ"

    blank = {"latency_ms": None, "requests": None, "bytes": None, "peak_rss_bytes": None, "bytes_ratio": None}
    return [
        dict(blank, case="lzw", strategy="unlzw3", seconds=round(t_unlzw3, 4), time_ratio=round(t_unlzw3 / t_helper, 1),
             input_bytes=len(packed), output_bytes=len(raw)),
        dict(blank, case="lzw", strategy="helper", seconds=round(t_helper, 4), time_ratio=1.0,
             input_bytes=len(packed), output_bytes=len(raw)),
        dict(blank, case="lzw-bomb", strategy="helper", seconds=round(t_bomb, 4), time_ratio=1.0,
             input_bytes=len(bomb), output_bytes=200_000_000, max_output=64 << 20),
        dict(blank, case="binning", strategy="numpy", seconds=round(t_np, 4), time_ratio=round(t_np / t_bin, 1),
             events=10_000_000),
        dict(blank, case="binning", strategy="helper", seconds=round(t_bin, 4), time_ratio=1.0, events=10_000_000),
    ]


def main() -> None:
    for record in measure():
        print(f"{record['case']:8} {record['strategy']:8} {record['seconds']:.3f} s (x{record['time_ratio']})")


if __name__ == "__main__":
    main()
