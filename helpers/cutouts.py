"""Cutouts of images in S3 that read only the rows they cover, in bounded time.

For an uncompressed image opened with :func:`helpers.open_fits`,
:func:`cutout` computes the byte range of every row of the cutout and fetches
them in the concurrent ranges that :func:`helpers.ranges.plan_ranges` finds
fastest for the link; tile-compressed images are read through ``hdu.section``.
Inputs are checked first, so that a bad size or position is named as such and
an I/O failure is never reported as "does not overlap".
"""

from __future__ import annotations

import contextlib
import inspect
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
from astropy.io import fits

from . import _upstream, linkmodel
from .deadline import Deadline
from .errors import CloudAccessError, CloudInputError, bounded
from .ranges import Link, plan_ranges
from .reading import bounded_by, file_name, read_ranges
from .s3 import SECTION_BLOCK_SIZE

__all__ = ["cutout", "MAX_SIDE", "MAX_PARTIAL_PIXELS"]

#: Largest cutout side, in pixels, that :func:`cutout` accepts.  A FITS axis is
#: far shorter in practice; past 2**31 astropy's own int64 arithmetic on the size
#: overflows (``OverflowError``) for sizes such as 1e300.
MAX_SIDE = 2**31 - 1
#: Most pixels of a ``mode="partial"`` cutout, whose array has the full requested
#: size whatever the overlap: 2**28 pixels are 2 GiB of float64, so a typo in the
#: size is refused instead of exhausting memory.
MAX_PARTIAL_PIXELS = 2**28
# Cutout2D's documented modes, checked here so a typo never reaches astropy's bare ValueError.
_MODES = ("trim", "partial", "strict")


class _PlannedSection(_upstream.section_class()):
    """``hdu.section`` that reads a 2-D block in planned, concurrent, bounded byte ranges.

    Only for uncompressed, unscaled 2-D images in files opened through fsspec;
    anything else (steps, other dimensions) is left to astropy's ``Section``.
    """

    def __init__(self, hdu: Any, handle: Any, link: Link, deadline: Deadline):
        super().__init__(hdu)
        self._handle, self._link, self._deadline = handle, link, deadline
        self._dtype = _upstream.bitpix_dtype(hdu.header["BITPIX"])

    def __getitem__(self, key: Any) -> np.ndarray:
        ny, nx = self.hdu.shape
        if not (isinstance(key, tuple) and len(key) == 2 and all(isinstance(k, slice) for k in key)):
            return super().__getitem__(key)
        (r0, r1, rstep), (c0, c1, cstep) = key[0].indices(ny), key[1].indices(nx)
        if rstep != 1 or cstep != 1 or r1 <= r0 or c1 <= c0:
            return super().__getitem__(key)
        size = self._dtype.itemsize
        plan = plan_ranges(r0, r1 - r0, nx * size, _upstream.hdu_data_offset(self.hdu) + (r0 * nx + c0) * size,
                           (c1 - c0) * size, self._link)
        # Timed for the next cutout on this file system: its megabytes measure the bandwidth.
        with linkmodel.timed(self._handle.fs) as timing:
            blobs = read_ranges(self._handle, [(p[0], p[1]) for p in plan], self._deadline, cached=False)
            timing.add(*(end - start for start, end, _, _ in plan))
        out = np.empty((r1 - r0, c1 - c0), dtype=self._dtype)
        for (_, _, row0, nrows), blob in zip(plan, blobs, strict=True):
            rows = np.ndarray((nrows, c1 - c0), dtype=self._dtype, buffer=blob, strides=(nx * size, size))
            out[row0 - r0 : row0 - r0 + nrows] = rows
        return out


@contextlib.contextmanager
def _read_ahead(hdu: Any, block_size: int) -> Iterator[None]:
    """Temporarily read ahead at least ``block_size`` bytes per request on the HDU's fsspec file."""
    cache = _upstream.fsspec_cache(_upstream.fsspec_file(hdu))
    old = _upstream.cache_block_size(cache) if cache is not None else None
    if not block_size or old is None or old >= block_size:
        yield
        return
    _upstream.set_cache_block_size(cache, block_size)
    try:
        yield
    finally:
        _upstream.set_cache_block_size(cache, old)


def _planned_section(hdu: Any, link: Link, deadline: Deadline) -> Any:
    """A :class:`_PlannedSection` where the HDU allows it, else astropy's own section, else the data in memory."""
    if not _upstream.hdu_has_file(hdu) or _upstream.hdu_data_loaded(hdu):
        return hdu.data  # nothing to read (astropy's section of an HDU without a file fails)
    handle = _upstream.fsspec_file(hdu)
    header = hdu.header
    eligible = (
        handle is not None
        and hasattr(handle, "fs") and _upstream.async_cat_file(handle.fs) is not None
        and isinstance(hdu, (fits.PrimaryHDU, fits.ImageHDU))
        and not isinstance(hdu, fits.CompImageHDU)  # a subclass of ImageHDU in astropy 8
        and header.get("BSCALE", 1) == 1 and header.get("BZERO", 0) == 0
        and _upstream.hdu_data_offset(hdu) is not None
        and not _upstream.hdu_data_loaded(hdu)
    )
    return _PlannedSection(hdu, handle, link, deadline) if eligible else hdu.section


_BITPIX = (8, 16, 32, 64, -32, -64)


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _check_image(hdu: Any) -> tuple[int, int]:
    """``(ny, nx)`` of a 2-D image HDU, or CloudInputError saying what the HDU is instead."""
    if not isinstance(hdu, (fits.PrimaryHDU, fits.ImageHDU, fits.CompImageHDU)):
        table = isinstance(hdu, (fits.BinTableHDU, fits.TableHDU))
        raise CloudInputError(
            f"cutout needs an image HDU (PrimaryHDU, ImageHDU or CompImageHDU), got {type(hdu).__name__}"
            + (f" {hdu.name!r}, a table" if table else ""))
    header = hdu.header
    bitpix = header.get("BITPIX")
    if not _is_int(bitpix) or bitpix not in _BITPIX:
        raise CloudInputError(f"the HDU's header has BITPIX = {bounded(bitpix, 40)}, not one of "
                              f"{', '.join(map(str, _BITPIX))}: the pixels cannot be read")
    naxis = header.get("NAXIS")
    if not _is_int(naxis):
        raise CloudInputError(f"the HDU's header has NAXIS = {bounded(naxis, 40)}, not an integer")
    if naxis != 2:
        hint = "; cut a plane out of a cube with astropy's Cutout2D(hdu.section[plane], ...)" if naxis > 2 else ""
        raise CloudInputError(f"cutout needs a 2-D image, but this HDU has NAXIS = {naxis}{hint}")
    shape = []
    for axis in (2, 1):
        length = header.get(f"NAXIS{axis}")
        if not _is_int(length) or length < 1:
            raise CloudInputError(f"the HDU's header has NAXIS{axis} = {bounded(length, 40)}, not a positive integer")
        shape.append(int(length))
    return shape[0], shape[1]


def _check_size(size: Any, wcs: Any, mode: str) -> bool:
    """Refuse sizes that are not one or two positive, finite sizes of at least a pixel; True if any is an angle.

    The pixel counts are computed as :class:`astropy.nddata.Cutout2D` computes
    them, which silently makes an empty cutout of a size that rounds to 0.
    Text is refused even when it reads as a number ("3"): Cutout2D cannot
    round it and fails with a bare TypeError.  Sides past :data:`MAX_SIDE`,
    and partial cutouts past :data:`MAX_PARTIAL_PIXELS`, are refused too.
    """
    import astropy.units as u

    several = isinstance(size, (tuple, list)) or (np.ndim(size) > 0 and not isinstance(size, str))
    items = list(size) if several else [size]
    if len(items) not in (1, 2):
        raise CloudInputError(f"cutout size must be one size or (ny, nx), got {bounded(size)}")
    angular = False
    pixels = []
    for axis, item in enumerate(items * (3 - len(items))):
        value, unit = (item.value, item.unit) if isinstance(item, u.Quantity) else (item, None)
        if isinstance(value, (str, bytes)):
            raise CloudInputError(f"cutout size must be numbers or Quantities, got {bounded(size)}")
        if unit is not None and unit != u.pixel and unit.physical_type != "angle":
            raise CloudInputError(f"cutout size must be in pixels or an angle, not {unit}: {bounded(size)}")
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise CloudInputError(f"cutout size must be numbers or Quantities, got {bounded(size)}") from None
        if not math.isfinite(value) or value <= 0:
            raise CloudInputError(f"cutout size must be positive and finite, got {bounded(size)}")
        if unit is not None and unit != u.pixel:
            angular = True
            if wcs is None or not wcs.has_celestial:
                continue  # _check_position says what is missing
            try:
                from astropy.wcs.utils import proj_plane_pixel_scales

                value = float((item / u.Quantity(proj_plane_pixel_scales(wcs), wcs.wcs.cunit[axis])[axis]).decompose())
            except Exception as exc:  # a WCS without usable pixel scales
                raise CloudInputError(f"the angular size {bounded(size)} cannot be turned into pixels with "
                                      f"the HDU's WCS: {type(exc).__name__}: {bounded(str(exc))}") from None
        pixels.append(value)
    if any(value > MAX_SIDE for value in pixels):  # checked before round(), which overflows at 1e309
        raise CloudInputError(f"the cutout size {bounded(size)} is more than {MAX_SIDE:,} pixels on a side")
    if any(round(value) < 1 for value in pixels):
        raise CloudInputError(f"the cutout size {bounded(size)} is less than one pixel")
    if mode == "partial" and len(pixels) == 2 and round(pixels[0]) * round(pixels[1]) > MAX_PARTIAL_PIXELS:
        raise CloudInputError(f"the cutout size {bounded(size)} is {round(pixels[0]) * round(pixels[1]):,} pixels, "
                              f"more than {MAX_PARTIAL_PIXELS:,}: a mode='partial' cutout holds all of them "
                              f"in memory")
    return angular


def _check_position(position: Any, wcs: Any, angular: bool) -> None:
    """Refuse positions that are NaN, not one position, or on the sky for an HDU without celestial WCS."""
    from astropy.coordinates import SkyCoord

    celestial = wcs is not None and wcs.has_celestial
    if angular and not celestial:
        raise CloudInputError("an angular cutout size needs a celestial WCS, and the HDU's header has none: "
                              "give the size in pixels, or pass wcs=")
    if isinstance(position, SkyCoord):
        if not position.isscalar:
            raise CloudInputError(f"cutout needs one position, got {len(position)}")
        spherical = position.spherical
        if not (np.isfinite(spherical.lon.deg) and np.isfinite(spherical.lat.deg)):
            raise CloudInputError(f"the cutout position is not finite: {bounded(position)}")
        if not celestial:
            raise CloudInputError("a sky position needs a celestial WCS, and the HDU's header has none: "
                                  "give the position in pixels (x, y), or pass wcs=")
        try:
            pixel = wcs.world_to_pixel(position)
        except Exception as exc:  # astropy raises assorted errors for positions its projection cannot take
            raise CloudInputError(f"the position {bounded(position)} cannot be placed on the image: "
                                  f"{type(exc).__name__}: {bounded(str(exc))}") from None
        if not np.all(np.isfinite(pixel)):
            raise CloudInputError(f"the cutout at {bounded(position)} does not overlap the image: "
                                  f"it lies off the image's projection")
        return
    try:
        x, y = (float(v) for v in position)
    except (TypeError, ValueError):
        raise CloudInputError(f"the cutout position must be a SkyCoord or pixels (x, y), "
                              f"got {bounded(position)}") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise CloudInputError(f"the cutout position is not finite: {bounded(position)}")


def _check_options(wcs: Any, link: Any, options: dict[str, Any]) -> str:
    """Refuse a ``wcs``, ``link`` or Cutout2D keyword that Cutout2D would fail on; return the mode.

    The keywords are checked against Cutout2D's own signature, so that a typo
    is named before any read instead of surfacing as astropy's bare TypeError.
    """
    from astropy.nddata import Cutout2D
    from astropy.wcs import WCS

    if wcs is not None and not isinstance(wcs, WCS):
        raise CloudInputError(f"wcs must be an astropy.wcs.WCS or None, got {type(wcs).__name__} {bounded(wcs, 80)}")
    if link is not None and not isinstance(link, Link):
        raise CloudInputError(f"link must be a helpers.ranges.Link or None, got {type(link).__name__} "
                              f"{bounded(link, 80)}")
    accepted = [name for name, parameter in inspect.signature(Cutout2D).parameters.items()
                if name not in ("self", "data", "position", "size", "wcs")
                and parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise CloudInputError(f"cutout got unknown keyword argument{'s' * (len(unknown) > 1)} "
                              f"{', '.join(bounded(name, 40) for name in unknown)}; "
                              f"Cutout2D accepts {', '.join(accepted)}")
    mode = options.get("mode", "trim")
    if not isinstance(mode, str) or mode not in _MODES:
        raise CloudInputError(f"cutout mode must be one of {', '.join(map(repr, _MODES))}, got {bounded(mode, 80)}")
    return mode


def _raised_reading(exc: BaseException, data: Any) -> bool:
    """Whether ``exc`` was raised while reading pixels of ``data`` (one of its methods is in the traceback)."""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_locals.get("self") is data:
            return True
        tb = tb.tb_next
    return False


def _wcs_of(hdu: Any, position: Any) -> Any:
    """The header's WCS, or None when it cannot be read and the position is in pixels anyway."""
    from astropy.coordinates import SkyCoord
    from astropy.wcs import WCS

    try:
        return WCS(hdu.header)
    except Exception as exc:  # astropy raises assorted errors for malformed WCS keywords
        if isinstance(position, SkyCoord):
            raise CloudInputError(f"the HDU's WCS cannot be read ({type(exc).__name__}: {bounded(str(exc))}), "
                                  f"so a sky position cannot be placed: pass wcs= or pixels") from None
        return None


def cutout(
    hdu: Any,
    position: Any,
    size: Any,
    wcs: Any = None,
    *,
    link: Link | None = None,
    timeout: float | None = None,
    **kwargs: Any,
) -> Any:
    """Cut a region out of an image HDU, reading only the rows it covers, in bounded time.

    ``Cutout2D(hdu.data, ...)`` reads the whole image first.  For an
    uncompressed image opened with :func:`open_fits`, this computes the byte
    range of every row of the cutout and fetches them in the concurrent ranges
    that :func:`helpers.ranges.plan_ranges` finds fastest for ``link``; for
    tile-compressed images it reads through ``hdu.section``, which decompresses
    only the tiles the cutout touches.  The result equals ``Cutout2D(hdu.data, ...)``.

    Parameters
    ----------
    hdu : astropy.io.fits.ImageHDU, PrimaryHDU or CompImageHDU
        A 2-D image HDU, typically of a file from :func:`open_fits`.
    position : astropy.coordinates.SkyCoord or tuple
        Centre of the cutout (pixel tuples are ``(x, y)``).
    size : astropy.units.Quantity, int or tuple
        Size of the cutout, as for :class:`astropy.nddata.Cutout2D`: positive.
    wcs : astropy.wcs.WCS, optional
        Defaults to the WCS of ``hdu.header``.
    link : helpers.ranges.Link, optional
        Round trip, bandwidth and concurrency of the link.  By default
        (:func:`helpers.linkmodel.link_for`): ``HELPERS_LINK`` if set; else
        the link that the requests already timed on the file's file system
        show (latency: the quickest request, such as the header's; bandwidth:
        bytes over transfer time, pooled with 256 KiB at the default 50 MB/s so
        that one 64 KiB header read moves it only on a clearly slow link, while a
        previous cutout's megabytes settle it); else
        :data:`helpers.ranges.DEFAULT_LINK` (30 ms, 50 MB/s, 64 at once).
    timeout : float, optional
        Seconds for the whole cutout, all tries included (default
        :data:`helpers.deadline.DEFAULT_TIMEOUT`, 300 s).
    **kwargs
        Passed to :class:`~astropy.nddata.Cutout2D`: ``mode`` (``"trim"``,
        ``"partial"`` or ``"strict"``), ``fill_value``, ``copy``,
        ``limit_rounding_method``; any other name is refused.

    Returns
    -------
    astropy.nddata.Cutout2D
        With ``.data`` and the cutout's own ``.wcs``.

    Raises
    ------
    CloudInputError
        Before any read, saying what is wrong: not a 2-D image HDU (a table, a
        cube), a malformed header (BITPIX, NAXISn), a size that is not positive
        or is text, a side past :data:`MAX_SIDE` pixels, a ``mode="partial"``
        cutout past :data:`MAX_PARTIAL_PIXELS`, a NaN position, a sky position
        without a celestial WCS, a ``wcs`` that is not an astropy WCS, a
        ``link`` that is not a :class:`~helpers.ranges.Link`, an unknown
        ``mode`` or keyword argument; or the position lies outside the image
        ("does not overlap"), or Cutout2D refuses another argument (a
        ``fill_value`` the image's type cannot hold).
    ArchiveError
        Naming the URI, when the reads keep failing after the retries (never
        reported as "does not overlap").
    DeadlineError
        When ``timeout`` passed first.

    Examples
    --------
    >>> import numpy as np
    >>> from astropy.io import fits
    >>> hdu = fits.PrimaryHDU(np.arange(100.0).reshape(10, 10))
    >>> cutout(hdu, (4, 5), (3, 2)).data.tolist()
    [[43.0, 44.0], [53.0, 54.0], [63.0, 64.0]]
    >>> cutout(hdu, (4, 5), 0)
    Traceback (most recent call last):
    ...
    helpers.errors.CloudInputError: cutout size must be positive and finite, got 0
    """
    from astropy.nddata import Cutout2D, NoOverlapError, PartialOverlapError

    shape = _check_image(hdu)
    mode = _check_options(wcs, link, kwargs)
    if wcs is None:
        wcs = _wcs_of(hdu, position)
    _check_position(position, wcs, _check_size(size, wcs, mode))
    handle = _upstream.fsspec_file(hdu)
    name = file_name(handle) if hasattr(handle, "fs") else "the image"
    deadline = Deadline(timeout, f"cutout of {name}")
    if link is None:  # HELPERS_LINK, else what the reads on this file system measured, else DEFAULT_LINK
        link = linkmodel.link_for(getattr(handle, "fs", None))
    data = _planned_section(hdu, link, deadline)
    try:
        with bounded_by(handle, deadline), \
                _read_ahead(hdu, SECTION_BLOCK_SIZE if not isinstance(data, _PlannedSection) else 0):
            return Cutout2D(data, position=position, size=size, wcs=wcs, **kwargs)
    except CloudAccessError:  # a read failure (ArchiveError, DeadlineError) stays what it is
        raise
    except NoOverlapError as exc:  # only geometry: read failures are ArchiveErrors and pass through
        raise CloudInputError(f"the cutout at {bounded(position)} does not overlap the image "
                              f"({shape[1]} x {shape[0]} pixels): {exc}") from None
    except PartialOverlapError as exc:  # mode="strict"
        raise CloudInputError(f"the cutout at {bounded(position)} is not wholly inside the image "
                              f"({shape[1]} x {shape[0]} pixels) and mode='strict': {exc}") from None
    except (TypeError, ValueError) as exc:
        if _raised_reading(exc, data):  # not the caller's arguments: let it show as it is
            raise
        # What the checks above do not cover, e.g. a fill_value the image's type cannot hold.
        detail = str(exc) if len(str(exc)) <= 300 else str(exc)[:297] + "..."  # bounded(), without repr's escapes
        raise CloudInputError(f"Cutout2D refused the arguments of the cutout at {bounded(position)}: "
                              f"{type(exc).__name__}: {detail}") from exc
