"""Fast decompression of Unix ``compress`` (``.Z``, LZW) data.

Older HEASARC missions such as ROSAT archive their FITS files as ``.fits.Z``.
The pure-Python ``unlzw3`` takes seconds on a 10 MB file; the C decompressor of
the PyPI package ``ncompress`` (the reference ``compress`` code) is about 40x
faster and gives byte-identical output.  ``unlzw3`` stays the fallback.
"""

from __future__ import annotations

from .errors import LZWError

__all__ = ["decompress_lzw", "LZW_MAGIC", "FITS_RECORD"]

LZW_MAGIC = b"\x1f\x9d"
FITS_RECORD = 2880  # every FITS file is a whole number of 2880-byte records


def _check_header(data: bytes) -> None:
    if len(data) < 3:
        raise LZWError(f"not Unix-compress (.Z) data: only {len(data)} bytes")
    if data[:2] != LZW_MAGIC:
        raise LZWError(f"not Unix-compress (.Z) data: starts with {bytes(data[:4])!r}, expected {LZW_MAGIC!r}")
    max_bits = data[2] & 0x1F
    if not 9 <= max_bits <= 16:
        raise LZWError(f"corrupt .Z header: maximum code size {max_bits} bits (must be 9 to 16)")


def _decompress(data: bytes) -> bytes:
    try:
        import ncompress
    except ImportError:  # fall back to the pure-Python decompressor
        import unlzw3

        return unlzw3.unlzw(data)
    return ncompress.decompress(data)


def decompress_lzw(data: bytes, *, record_size: int | None = None) -> bytes:
    """Decompress Unix ``compress`` (``.Z``) data.

    Parameters
    ----------
    data : bytes
        The whole compressed file (``.Z`` files cannot be read in parts).
    record_size : int, optional
        Check that the output is a whole number of records of this size;
        pass :data:`FITS_RECORD` (2880) for a ``.fits.Z`` file.  The ``.Z``
        format has no length or checksum, so a file cut short at a code
        boundary decompresses without error: this check catches it.

    Returns
    -------
    bytes
        Byte-identical to ``unlzw3.unlzw(data)`` and to ``uncompress``.

    Raises
    ------
    LZWError
        If the data are not LZW, are corrupt, are empty, or (with
        ``record_size``) are truncated.

    Examples
    --------
    >>> import ncompress
    >>> decompress_lzw(ncompress.compress(b"SIMPLE  =                    T"))
    b'SIMPLE  =                    T'
    """
    data = bytes(data)
    _check_header(data)
    try:
        out = _decompress(data)
    except (ValueError, IndexError, OSError) as exc:
        raise LZWError(f"corrupt or truncated .Z data ({len(data)} bytes): {exc}") from exc
    if record_size and (not out or len(out) % record_size):
        raise LZWError(
            f"decompressed {len(data)} bytes into {len(out)} bytes, not a whole number of "
            f"{record_size}-byte records: the .Z data are truncated or not a FITS file"
        )
    return out
