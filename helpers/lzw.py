"""Fast, bounded decompression of Unix ``compress`` (``.Z``, LZW) data.

Older HEASARC missions such as ROSAT archive their FITS files as ``.fits.Z``.
The pure-Python ``unlzw3`` takes seconds on a 10 MB file; the C decompressor of
the PyPI package ``ncompress`` is about 40x faster and gives byte-identical
output for the files ``compress`` writes by default (16-bit codes).

Two things that package does not do are done here:

* **One dialect.**  A ``.Z`` header whose maximum code size is 9 bits is read
  in two incompatible ways.  The original ``compress`` 4.0, ``gzip -d`` and
  ``unlzw3`` widen the codes to 10 bits once the 512-entry table is full;
  ``ncompress`` keeps them at 9 bits and, on a file written the former way,
  returns wrong bytes, often without any error (200,000 zero bytes come
  back as 181,762).  :func:`decompress_lzw` follows
  ``gzip -d`` (the reference for ``.Z`` files in the wild) and sends 9-bit
  files through its own pure-Python decoder, which follows ``gzip``'s
  ``unlzw.c`` code for code.  From 10 to 16 bits both readers agree and the
  C decoder is used.
* **A cap on the output.**  LZW expands up to ~30,000x: a 33 KB ``.Z`` file
  expands to 200 MB and a 122 KB one to 2.1 GB.  The output is streamed into
  one buffer that refuses to grow past ``max_output`` (default
  :data:`MAX_OUTPUT`, 1 GiB), so a hostile or corrupt file costs at most that
  much memory and the time to produce it, then raises :class:`LZWError`.
"""

from __future__ import annotations

import io
import sys
from os import PathLike

import numpy as np

from .errors import CloudInputError, LZWError, bounded

__all__ = ["decompress_lzw", "LZW_MAGIC", "FITS_RECORD", "MAX_OUTPUT"]

LZW_MAGIC = b"\x1f\x9d"
FITS_RECORD = 2880  # every FITS file is a whole number of 2880-byte records

#: Default ``max_output`` of :func:`decompress_lzw`, in bytes (1 GiB).  The
#: largest ``.Z`` files of the HEASARC archive (ROSAT event lists, images)
#: decompress to at most a few hundred MB, so this leaves several times that
#: as headroom, while the memory it lets a bad file take (the output is held
#: in memory once) still fits a small notebook server.
MAX_OUTPUT = 1 << 30

_NINE_BITS_HINT = (
    "; this file has 9-bit codes and fails after its table filled: it may have been written by "
    "ncompress's `compress -b9`, which keeps 9-bit codes where compress 4.0 and gzip widen them "
    "to 10 bits (gzip -dc rejects it too; ncompress.decompress reads it)"
)
_BLOCK_MODE = 0x80  # header flag: code 256 clears the table
_CLEAR = 256
_INIT_BITS = 9
_BATCH = 1 << 16  # codes unpacked at once by the pure-Python decoder (a multiple of 8)


class _OutputLimit(Exception):
    """Raised from the C decompressor's read callback to stop it; never escapes this module."""


class _BadCode(Exception):
    """A code past the end of the table; :func:`_decompress_python` turns it into an LZWError with context."""


class _CappedSink(io.BytesIO):
    """Where ``ncompress`` writes its output (in chunks of at most 1 KiB): stores at most ``limit`` bytes.

    ``write`` must never raise: the C++ stream's destructor flushes its last
    chunk through it, and an exception there aborts the whole process.  So it
    only notes that the cap was passed, drops what is past it, and the input
    side (:class:`_StoppingSource`) stops the decompressor at its next read.
    """

    def __init__(self, limit: int | None):
        super().__init__()
        self._limit = limit
        self.over = False

    def write(self, chunk: bytes) -> int:
        if self.over or (self._limit is not None and self.tell() + len(chunk) > self._limit):
            self.over = True
            return len(chunk)
        return super().write(chunk)


class _StoppingSource(io.BytesIO):
    """The compressed data for ``ncompress``; raises from ``read`` once the sink has passed its cap.

    An exception from ``read`` unwinds the C++ decompressor cleanly.  It reads
    8 KiB of input at a time, so past the cap it may still decode up to that
    much input, whose output the sink drops: time (at most some 300 MB of a
    hostile file's output, a fraction of a second), no memory.
    """

    def __init__(self, data: bytes, sink: _CappedSink):
        super().__init__(data)  # shares the bytes object, no copy
        self._sink = sink

    def read(self, size: int | None = -1) -> bytes:
        if self._sink.over:
            raise _OutputLimit
        return super().read(size)


def _as_bytes(data: object) -> bytes:
    """The bytes of ``data``, refusing anything that is not bytes-like before any allocation.

    Not ``bytes(data)``: for an int that allocates that many zero bytes (``bytes(10**9)`` is a gigabyte).
    """
    if isinstance(data, bytes):
        return data
    try:
        view = memoryview(data)  # bytearray, memoryview, a uint8 numpy array...; TypeError for str, int, None
    except TypeError:
        hint = " (read the file first, e.g. Path(name).read_bytes())" if isinstance(data, (str, PathLike)) else ""
        got = f"{type(data).__name__} {bounded(data, 80)}"
        raise LZWError(f"expected the bytes of a .Z file, got {got}{hint}") from None
    return view.tobytes()


def _check_limit(max_output: object) -> int | None:
    if max_output is None:
        return None
    if isinstance(max_output, bool) or not isinstance(max_output, (int, np.integer)) or max_output < 0:
        raise CloudInputError(f"max_output must be a number of bytes >= 0 or None, got {bounded(max_output, 80)}")
    return int(max_output)


def _check_record_size(record_size: object) -> int | None:
    # Checked before decompressing, so a bad value costs no work and is never a TypeError from ``%``.
    if record_size is None:
        return None
    if isinstance(record_size, bool) or not isinstance(record_size, (int, np.integer)) or record_size < 1:
        raise CloudInputError(f"record_size must be a number of bytes >= 1 (e.g. FITS_RECORD, 2880) or None, "
                              f"got {bounded(record_size, 80)}")
    return int(record_size)


def _check_header(data: bytes) -> int:
    """The maximum code size in bits, after checking the magic number and the header."""
    if len(data) < 3:
        raise LZWError(f"not Unix-compress (.Z) data: only {len(data)} bytes")
    if data[:2] != LZW_MAGIC:
        raise LZWError(f"not Unix-compress (.Z) data: starts with {bytes(data[:4])!r}, expected {LZW_MAGIC!r}")
    max_bits = data[2] & 0x1F
    if not 9 <= max_bits <= 16:
        raise LZWError(f"corrupt .Z header: maximum code size {max_bits} bits (must be 9 to 16)")
    return max_bits


def _too_large(limit: int, size: int) -> LZWError:
    return LZWError(
        f"the .Z data ({size:,} bytes) decompress to more than max_output={limit:,} bytes: a corrupt or "
        f"hostile file, or a genuine one larger than the cap (then pass a larger max_output, or None)"
    )


def _decompress_c(data: bytes, limit: int | None) -> bytes:
    import ncompress

    sink = _CappedSink(limit)
    try:
        ncompress.decompress(_StoppingSource(data, sink), sink)
    except _OutputLimit:
        raise _too_large(limit, len(data)) from None
    except (ValueError, IndexError, OSError, RuntimeError) as exc:
        raise LZWError(f"corrupt or truncated .Z data ({len(data)} bytes): {exc}") from exc
    if sink.over:  # passed the cap while decoding the last input, after the last read
        raise _too_large(limit, len(data))
    return sink.getvalue()


def _unpack(data: bytes, start: int, n_bits: int, count: int) -> np.ndarray:
    """``count`` codes of ``n_bits`` bits packed LSB first from byte ``start`` on (``count`` must fit)."""
    nbytes = (count * n_bits + 7) // 8
    window = np.zeros(nbytes + 2, dtype=np.uint32)  # two spare bytes: every code is read from three
    window[:nbytes] = np.frombuffer(data, dtype=np.uint8, count=nbytes, offset=start)
    bit = np.arange(count, dtype=np.int64) * n_bits
    byte = bit >> 3
    words = window[byte] | (window[byte + 1] << 8) | (window[byte + 2] << 16)
    return (words >> (bit & 7).astype(np.uint32)) & ((1 << n_bits) - 1)


def _expand(codes: list[int], table: list[bytes], free: int, prev: bytes, out: bytearray, limit: int,
            size: int) -> tuple[int, bytes]:
    """Append the strings of ``codes`` (no CLEAR among them) to ``out``; return the new ``free`` and ``prev``.

    The hot loop of the pure-Python decoder, with everything in locals.
    """
    table_size = len(table)
    for code in codes:
        if code < free:
            entry = table[code]
        elif code == free:  # the KwKwK case: the code being defined by this very step
            entry = prev + prev[:1]
        else:
            raise _BadCode(code, free)
        out += entry
        if len(out) > limit:
            raise _too_large(limit, size)
        if free < table_size:
            table[free] = prev + entry[:1]
            free += 1
        prev = entry
    return free, prev


def _decompress_python(data: bytes, limit: int | None) -> bytes:
    """Decode as gzip's ``unlzw.c`` does, code for code, with the output cap checked after every code.

    The codes of one width are packed in groups of ``n_bits`` bytes; when the
    width changes (the table outgrows it, or a CLEAR code resets it) the rest of
    the group is skipped.  So the codes are unpacked a run at a time, a run
    being as many codes as can come before the next width change (at most
    :data:`_BATCH`, which keeps the unpacked codes small).
    """
    max_bits, block_mode = data[2] & 0x1F, bool(data[2] & _BLOCK_MODE)
    table_size = 1 << max_bits  # gzip's maxmaxcode: entries stop being added there
    table = [bytes((i,)) for i in range(256)] + [b""] * (table_size - 256)
    limit = sys.maxsize if limit is None else limit
    out = bytearray()
    # gzip's initial maxcode is 511 whatever max_bits is: with max_bits 9 it therefore widens to
    # 10 bits when the table fills (ncompress does not; this is where the two dialects part).
    n_bits, max_code = _INIT_BITS, (1 << _INIT_BITS) - 1
    free = _CLEAR + 1 if block_mode else _CLEAR
    prev = b""  # the previous code's string (gzip's oldcode); empty before the first code
    mark = 3  # byte at which the current run of n_bits-bit codes began
    while True:
        if free > max_code:  # the table outgrew n_bits: skip to the next group, one bit wider
            n_bits += 1
            max_code = table_size if n_bits == max_bits else (1 << n_bits) - 1
        available = max(0, (len(data) - mark) * 8 // n_bits)
        until_wider = max_code + 1 - free + (not prev)  # the first code adds no entry
        count = available if max_code >= table_size else min(available, until_wider)
        # A batch is whole groups of 8 codes, so stopping after one skips nothing.
        count = min(count, _BATCH)
        if count == 0:
            break
        codes = _unpack(data, mark, n_bits, count)
        clears = np.flatnonzero(codes == _CLEAR) if block_mode else ()
        used = int(clears[0]) + 1 if len(clears) else count
        run = codes[: used - 1 if len(clears) else used].tolist()
        if not prev:
            if codes[0] >= _CLEAR:  # CLEAR included, as gzip has it
                raise LZWError(f"corrupt .Z data: the first code, {codes[0]}, is not a literal byte")
            prev = table[run[0]]
            out += prev
            run = run[1:]
        try:
            free, prev = _expand(run, table, free, prev, out, limit, len(data))
        except _BadCode as bad:
            code, free = bad.args
            raise LZWError(f"corrupt .Z data: code {code} ({n_bits} bits) refers past the table "
                           f"(next free entry {free}) after {len(out):,} bytes of output"
                           + (_NINE_BITS_HINT if max_bits == _INIT_BITS and n_bits > max_bits else "")) from None
        mark += -(-used * n_bits // (n_bits * 8)) * n_bits  # skip the rest of the group
        if len(clears):
            # gzip keeps oldcode across a CLEAR: the next code adds a (never used) entry 256.
            n_bits, max_code, free = _INIT_BITS, (1 << _INIT_BITS) - 1, _CLEAR
        elif count == available:
            break  # the data ran out
    if len(out) > limit:  # the first code is not checked in the loop
        raise _too_large(limit, len(data))
    return bytes(out)


def decompress_lzw(
    data: bytes | bytearray | memoryview,
    *,
    record_size: int | None = None,
    max_output: int | None = MAX_OUTPUT,
) -> bytes:
    """Decompress Unix ``compress`` (``.Z``) data, as ``gzip -dc`` does, into at most ``max_output`` bytes.

    Parameters
    ----------
    data : bytes, bytearray or memoryview
        The whole compressed file (``.Z`` files cannot be read in parts).
        Anything else (a path, a number) raises :class:`LZWError` at once.
    record_size : int, optional
        A positive number of bytes.  Check that the output is a whole number of records of this size;
        pass :data:`FITS_RECORD` (2880) for a ``.fits.Z`` file.  The ``.Z``
        format has no length or checksum, so a file cut short at a code
        boundary decompresses without error: this check catches it.
    max_output : int or None, optional
        Most bytes of output allowed (default :data:`MAX_OUTPUT`, 1 GiB, a
        few times the largest real archive file); ``None`` for no cap.
        Decompression stops as soon as the output passes it, so a bad file
        costs at most this much memory.

    Returns
    -------
    bytes
        Byte-identical to ``gzip -dc`` (and to ``unlzw3.unlzw``).  Files with
        16-bit codes (what ``compress`` writes) go through the C decompressor
        of ``ncompress``; files with 9-bit codes, which ``ncompress`` reads
        differently from ``gzip``, go through a slower pure-Python decoder, as
        does everything when ``ncompress`` is not installed.

    Raises
    ------
    LZWError
        If ``data`` is not bytes-like or not LZW data, is corrupt, empty, or
        (with ``record_size``) truncated, or expands past ``max_output``.
    CloudInputError
        If ``max_output`` is not a non-negative integer or None, or
        ``record_size`` is not a positive integer or None (``True``, ``0``,
        ``-1`` and ``"2880"`` are refused, naming ``record_size``).

    Examples
    --------
    >>> import ncompress
    >>> decompress_lzw(ncompress.compress(b"SIMPLE  =                    T"))
    b'SIMPLE  =                    T'
    >>> decompress_lzw(ncompress.compress(bytes(10_000)), max_output=1000)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    helpers.errors.LZWError: the .Z data (...) decompress to more than max_output=1,000 bytes: ...
    """
    data = _as_bytes(data)
    limit = _check_limit(max_output)
    record_size = _check_record_size(record_size)
    max_bits = _check_header(data)
    try:
        import ncompress  # noqa: F401 - only whether it is there
    except ImportError:
        has_c = False
    else:
        has_c = True
    out = _decompress_c(data, limit) if has_c and max_bits > _INIT_BITS else _decompress_python(data, limit)
    if record_size and (not out or len(out) % record_size):
        raise LZWError(
            f"decompressed {len(data)} bytes into {len(out)} bytes, not a whole number of "
            f"{record_size}-byte records: the .Z data are truncated or not a FITS file"
        )
    return out
