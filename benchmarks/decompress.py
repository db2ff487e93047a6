"""Time ``.Z`` decompression (helpers vs unlzw3) and event binning (helpers vs numpy), in one run.

Run: ``python benchmarks/decompress.py``.  Prints seconds and ratios; the inputs are
generated deterministically (an events table like a ROSAT PSPC basic file, ~10 MB compressed).
"""

from __future__ import annotations

import io
import time

import ncompress
import numpy as np
import unlzw3
from astropy.io import fits

from helpers import bin_events, decompress_lzw


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


def main() -> None:
    raw = _events_file(650_000)
    packed = ncompress.compress(raw)
    t_helper, out_helper = _time(decompress_lzw, packed)
    t_unlzw3, out_unlzw3 = _time(unlzw3.unlzw, packed)
    assert out_helper == out_unlzw3 == raw, "outputs differ"
    print(f".Z decompression of {len(packed) / 1e6:.1f} MB into {len(raw) / 1e6:.1f} MB (identical output)")
    print(f"  unlzw3 {t_unlzw3:.3f} s, helpers.decompress_lzw {t_helper:.3f} s: {t_unlzw3 / t_helper:.0f}x faster")

    rng = np.random.default_rng(1)
    x, y = rng.normal(7680, 900, 10_000_000), rng.normal(7680, 900, 10_000_000)
    t_bin, (image, _) = _time(bin_events, x, y, 512)
    t_np, (reference, _, _) = _time(np.histogram2d, x, y, bins=512)
    assert np.array_equal(image, reference.T)
    print("binning 10^7 events into 512x512 (identical counts)")
    print(f"  numpy.histogram2d {t_np:.3f} s, helpers.bin_events {t_bin:.3f} s: {t_np / t_bin:.1f}x faster")


if __name__ == "__main__":
    main()
