"""Errors raised by the helpers: one family, split by what the caller can do about it.

* :class:`CloudAccessError` is the base: ``except CloudAccessError`` catches
  everything the helpers raise on purpose.
* :class:`CloudInputError` (also a :class:`ValueError`): the value passed in is
  wrong (a malformed ``cloud_access``, an invalid bucket name, a cutout size of
  zero).  Trying again will not help; fix the input.
* :class:`ArchiveError` (also an :class:`OSError`): the archive or the network
  failed (S3 refused the key, a DataLink service answered HTML, the retries ran
  out).  The message names the URL or key; trying later may help.
* :class:`DeadlineError` (also a :class:`TimeoutError`): a call ran past its
  total deadline, however slowly the bytes kept arriving.

Examples
--------
>>> issubclass(CloudInputError, ValueError), issubclass(ArchiveError, OSError)
(True, True)
"""

from __future__ import annotations

__all__ = [
    "CloudAccessError",
    "CloudInputError",
    "ArchiveError",
    "DeadlineError",
    "LZWError",
    "CloudFallbackWarning",
    "bounded",
]

MAX_QUOTED = 200  # characters of a caller's value quoted in a message
MAX_MESSAGE = 2000  # characters of a whole message: URLs built from a caller's values are quoted whole


def bounded(value: object, limit: int = MAX_QUOTED) -> str:
    """``repr(value)``, cut to ``limit`` characters so a message never quotes a huge value whole.

    Examples
    --------
    >>> bounded("x" * 1000, 12)
    "'xxxxxxxx..."
    """
    try:
        text = repr(value)
    except Exception:  # a broken __repr__ must not hide the real error
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: max(limit - 3, 0)] + "..."


def _clip(message: str, limit: int = MAX_MESSAGE) -> str:
    """``message`` with its middle cut out when longer than ``limit``: start and end say the most."""
    if len(message) <= limit:
        return message
    note = f" ... [{len(message) - limit} characters cut] ... "
    head = (limit - len(note)) * 3 // 4
    return message[:head] + note + message[len(message) - (limit - len(note) - head):]


class CloudAccessError(Exception):
    """Base of every error the helpers raise on purpose; its message is at most :data:`MAX_MESSAGE` characters.

    Examples
    --------
    >>> len(str(CloudAccessError("https://x/" + "a" * 10**6))) <= MAX_MESSAGE
    True
    """

    def __init__(self, message: object = "", *args: object):
        super().__init__(_clip(str(message)), *args)


class CloudInputError(CloudAccessError, ValueError):
    """The value passed in is malformed or unusable; the message says which and why."""


class ArchiveError(CloudAccessError, OSError):
    """An archive service, a bucket or the network failed; the message names the URL or key."""

    def __init__(self, message: str, *, url: str | None = None):
        super().__init__(message)
        self.url = url

    def __str__(self) -> str:  # OSError's own __str__ would print the args tuple
        return str(self.args[0]) if self.args else ""


class DeadlineError(ArchiveError, TimeoutError):
    """A call took longer than its total deadline (see :mod:`helpers.deadline`)."""


class LZWError(CloudInputError):
    """Data are not valid Unix ``compress`` (``.Z``) data, are truncated, or expand past the cap."""


class CloudFallbackWarning(UserWarning):
    """S3 refused a file (403, 404), so it was read from the archive's HTTPS copy instead."""
