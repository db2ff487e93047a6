"""helpers.decompress_lzw: byte-identical to ``gzip -dc`` and unlzw3, bounded, clear errors on bad input."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import time

import ncompress
import numpy as np
import pytest
import unlzw3
from astropy.io import fits
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import LZWError, decompress_lzw
from helpers.errors import CloudInputError
from helpers.lzw import FITS_RECORD, MAX_OUTPUT

GZIP = shutil.which("gzip")  # gzip -dc reads .Z files: the reference decoder
needs_gzip = pytest.mark.skipif(GZIP is None, reason="gzip is not installed")


def compress40(data: bytes, max_bits: int = 16, *, clear_when_full: bool = False, widen_at_nine: bool = True) -> bytes:
    """A small LZW encoder that writes ``.Z`` data as Unix compress 4.0 does (what gzip and unlzw3 read).

    After each code it checks whether the table has outgrown the code width and,
    if so, pads to the end of the current group of ``n_bits`` bytes and widens
    the codes by one bit: with ``max_bits=9`` that happens once the 512-entry
    table is full, so the rest of the file has 10-bit codes.  ``widen_at_nine=False``
    writes what ncompress's ``compress -b9`` writes instead (9-bit codes throughout).
    ``clear_when_full`` emits a CLEAR code each time the table fills.
    """
    table_size = 1 << max_bits
    out = bytearray(b"\x1f\x9d" + bytes([max_bits | 0x80]))
    state = {"acc": 0, "nacc": 0, "run": 0, "n_bits": 9}
    # compress 4.0 starts (and restarts after a CLEAR) at max_code 511 even when max_bits is 9; ncompress does not.
    initial_max_code = table_size if (max_bits == 9 and not widen_at_nine) else 511
    max_code = initial_max_code

    def put(code: int, n_bits: int) -> None:
        state["acc"] |= code << state["nacc"]
        state["nacc"] += n_bits
        state["run"] += n_bits
        while state["nacc"] >= 8:
            out.append(state["acc"] & 0xFF)
            state["acc"] >>= 8
            state["nacc"] -= 8

    def output(code: int, free: int, clear: bool = False) -> None:
        nonlocal max_code
        put(code, state["n_bits"])
        if free > max_code or clear:
            put(0, -state["run"] % (state["n_bits"] * 8))  # pad to the end of the group
            state["run"] = 0
            if clear:
                state["n_bits"], max_code = 9, initial_max_code
            else:
                state["n_bits"] += 1
                max_code = table_size if state["n_bits"] == max_bits else (1 << state["n_bits"]) - 1

    if not data:
        return bytes(out)
    table: dict[tuple[int, int], int] = {}
    free, ent = 257, data[0]
    for c in data[1:]:
        if (ent, c) in table:
            ent = table[ent, c]
            continue
        output(ent, free)
        if free < table_size:
            table[ent, c] = free
            free += 1
        elif clear_when_full:
            table.clear()
            free = 257
            output(256, free, clear=True)
        ent = c
    output(ent, free)
    if state["nacc"]:
        out.append(state["acc"] & 0xFF)
    return bytes(out)


def gunzip(data: bytes) -> bytes | None:
    """What ``gzip -dc`` makes of ``data``: its output, or None if it reports an error."""
    done = subprocess.run([GZIP, "-dc"], input=data, capture_output=True, timeout=60)
    return done.stdout if done.returncode == 0 else None


def letters(n: int, seed: int = 0) -> bytes:
    """Compressible bytes (8 letters at random), so the LZW table fills and widens."""
    return bytes(np.random.default_rng(seed).integers(0, 8, n, dtype=np.uint8) + 65)


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


# --- the 9-bit dialects --------------------------------------------------------------------


@needs_gzip
@pytest.mark.parametrize("clear_when_full", [False, True])
@pytest.mark.parametrize("max_bits", range(9, 17))
def test_the_test_encoder_writes_what_gzip_and_unlzw3_read(max_bits, clear_when_full):
    data = letters(50_000, max_bits)
    packed = compress40(data, max_bits, clear_when_full=clear_when_full)
    assert packed[2] == 0x80 | max_bits
    assert gunzip(packed) == data
    assert unlzw3.unlzw(packed) == data
    assert decompress_lzw(packed) == data


def fits_like(n_records: int) -> bytes:
    """A FITS primary header and a zero-filled data unit, ``n_records`` 2880-byte records in all."""
    header = fits.Header([("SIMPLE", True), ("BITPIX", 16), ("NAXIS", 1), ("NAXIS1", (n_records - 1) * 1440)])
    return header.tostring().encode() + bytes((n_records - 1) * FITS_RECORD)


@needs_gzip
@pytest.mark.parametrize("data", [bytes(200_000), fits_like(70)], ids=["zeros", "fits"])
def test_nine_bit_file_that_ncompress_gets_wrong_without_error(data):
    """The bug: ncompress reads max_bits=9 files in its own dialect and returns wrong bytes, no error."""
    packed = compress40(data, 9)
    assert gunzip(packed) == data and unlzw3.unlzw(packed) == data
    wrong = ncompress.decompress(packed)  # what decompress_lzw returned before: no error, too few bytes
    assert len(wrong) < len(data)
    assert decompress_lzw(packed) == data
    if len(data) % FITS_RECORD == 0:
        assert decompress_lzw(packed, record_size=FITS_RECORD) == data


@pytest.mark.parametrize("batch", [8, 64, 1 << 16])
@pytest.mark.parametrize("max_bits", [9, 12, 16])
def test_python_decoder_across_batches_of_codes(monkeypatch, batch, max_bits):
    """The pure-Python decoder unpacks codes in batches: a batch boundary must not look like a width change."""
    import helpers.lzw

    monkeypatch.setattr(helpers.lzw, "_BATCH", batch)
    monkeypatch.setitem(sys.modules, "ncompress", None)
    data = letters(120_000, 5) + bytes(20_000) + letters(30_000, 6)
    for clear_when_full in (False, True):
        assert decompress_lzw(compress40(data, max_bits, clear_when_full=clear_when_full)) == data


def test_nine_bit_file_shorter_than_the_table_is_read_alike_by_both_dialects():
    data = b"SIMPLE  =                    T" * 4
    packed = compress40(data, 9)
    assert ncompress.decompress(packed) == decompress_lzw(packed) == data


@needs_gzip
def test_nine_bit_file_in_the_ncompress_dialect_is_an_error_as_in_gzip():
    """9-bit codes throughout (ncompress's ``compress -b9``): gzip and unlzw3 reject it, and so do we, saying why."""
    data = letters(200_000)
    packed = compress40(data, 9, widen_at_nine=False)
    assert ncompress.decompress(packed) == data
    assert gunzip(packed) is None
    with pytest.raises(ValueError):
        unlzw3.unlzw(packed)
    with pytest.raises(LZWError, match=r"refers past the table .*ncompress's `compress -b9`"):
        decompress_lzw(packed)


@needs_gzip
@settings(max_examples=150, deadline=None)
@given(st.data())
def test_python_decoder_equals_gzip_on_mutated_and_cut_streams(data):
    """Fuzz the pure-Python path (9-bit files) against gzip -dc: the same bytes, or both refuse."""
    packed = bytearray(compress40(letters(data.draw(st.integers(0, 6000))), 9,
                                  clear_when_full=data.draw(st.booleans())))
    for _ in range(data.draw(st.integers(0, 4))):
        if len(packed) > 3:
            packed[data.draw(st.integers(3, len(packed) - 1))] = data.draw(st.integers(0, 255))
    packed = bytes(packed[: data.draw(st.integers(3, len(packed)))])
    expected = gunzip(packed)
    if expected is None:
        with pytest.raises(LZWError):
            decompress_lzw(packed)
    else:
        assert decompress_lzw(packed) == expected


@pytest.mark.parametrize("max_bits", [9, 12, 16])
def test_without_ncompress_the_python_decoder_gives_the_same_bytes(monkeypatch, events_fits, max_bits):
    monkeypatch.setitem(sys.modules, "ncompress", None)  # import ncompress raises ImportError
    packed = compress40(events_fits[:30_000], max_bits, clear_when_full=True)
    assert decompress_lzw(packed) == events_fits[:30_000]
    assert decompress_lzw(ncompress_packed_zeros(100_000)) == bytes(100_000)


def ncompress_packed_zeros(n: int) -> bytes:
    return _ZEROS_PACKED.setdefault(n, ncompress.compress(bytes(n)))


_ZEROS_PACKED: dict[int, bytes] = {}


# --- the output cap ------------------------------------------------------------------------


def test_default_cap_is_one_gib_and_a_real_file_passes_it(events_fits):
    assert MAX_OUTPUT == 1 << 30
    assert decompress_lzw(ncompress.compress(events_fits), max_output=len(events_fits)) == events_fits


@pytest.mark.parametrize("nine_bits", [False, True])
def test_cap_is_exact_and_named_in_the_error(nine_bits):
    size = 100_000
    packed = compress40(bytes(size), 9) if nine_bits else ncompress_packed_zeros(size)
    assert decompress_lzw(packed, max_output=size) == bytes(size)
    assert decompress_lzw(packed, max_output=None) == bytes(size)
    with pytest.raises(LZWError, match=r"more than max_output=99,999 bytes"):
        decompress_lzw(packed, max_output=size - 1)
    with pytest.raises(LZWError, match=r"more than max_output=0 bytes"):
        decompress_lzw(packed, max_output=0)


def test_any_cap_near_the_end_is_an_error_not_a_crash(events_fits):
    """The C decompressor flushes its last chunk from a destructor: the cap must be enforced without raising there."""
    packed = ncompress.compress(events_fits)
    size = len(events_fits)
    for limit in [*range(size - 5000, size, 331), size - 1]:
        with pytest.raises(LZWError, match=f"max_output={limit:,} bytes"):
            decompress_lzw(packed, max_output=limit)
    assert decompress_lzw(packed, max_output=size) == events_fits


def test_a_bomb_stops_at_the_cap_without_expanding_whole():
    """33 KB of .Z that expand to 200 MB: with a 1 MB cap, refused with about 1 MB of memory.

    Measured in a child process: tracemalloc counts every thread of a process, and this test
    session's own local archive serves requests from threads of its own.  (No wall-clock
    assertion: a loaded CI machine makes those flaky; the benchmark measures speed.)
    """
    packed = ncompress_packed_zeros(200_000_000)
    assert len(packed) < 40_000
    code = (
        "import sys, tracemalloc\n"
        "from helpers.lzw import decompress_lzw\n"
        "from helpers.errors import LZWError\n"
        "packed = sys.stdin.buffer.read()\n"
        "tracemalloc.start()\n"
        "try:\n"
        "    decompress_lzw(packed, max_output=1_000_000)\n"
        "except LZWError as exc:\n"
        "    message = str(exc)\n"
        "peak = tracemalloc.get_traced_memory()[1]\n"
        "print(peak, message)\n"
    )
    child = subprocess.run([sys.executable, "-c", code], input=packed, capture_output=True, timeout=120)
    assert child.returncode == 0, child.stderr.decode()
    peak, message = child.stdout.decode().split(" ", 1)
    assert "more than max_output=1,000,000 bytes" in message
    assert int(peak) < 4_000_000, f"peak {int(peak):,} bytes"


@pytest.mark.parametrize("value", [-1, 1.5, "1 GB", True])
def test_bad_cap_is_an_input_error(value):
    with pytest.raises(CloudInputError, match="max_output must be"):
        decompress_lzw(ncompress_packed_zeros(10), max_output=value)


# --- what is passed in ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, fragment",
    [
        (10**12, "got int 1000000000000"),  # bytes(10**12) would try to allocate a terabyte
        ("rp900176n00_bas.fits.Z", r"got str .*read the file first"),
        (None, "got NoneType"),
        ([31, 157, 144], "got list"),
    ],
)
def test_non_bytes_input_is_refused_at_once(value, fragment):
    began = time.perf_counter()
    with pytest.raises(LZWError, match=fragment):
        decompress_lzw(value)
    assert time.perf_counter() - began < 1.0  # a terabyte allocation would take far longer, or fail


def test_accepts_a_uint8_array(events_fits):
    packed = np.frombuffer(ncompress.compress(events_fits), dtype=np.uint8)
    assert decompress_lzw(packed) == events_fits


@pytest.mark.parametrize("record_size", ["x", "2880", 0, -2880, True, 2.5, [2880]])
def test_bad_record_size_is_an_input_error_naming_it(record_size):
    with pytest.raises(CloudInputError, match="record_size must be a number of bytes >= 1") as info:
        decompress_lzw(ncompress.compress(bytes(2880)), record_size=record_size)
    assert not isinstance(info.value, LZWError)  # the argument is wrong, not the data


def test_record_size_may_be_a_numpy_integer():
    assert decompress_lzw(ncompress.compress(bytes(2880)), record_size=np.int64(2880)) == bytes(2880)
