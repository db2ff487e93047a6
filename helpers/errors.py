"""Errors raised by the helpers, so that callers can catch one family."""

__all__ = ["CloudAccessError", "LZWError"]


class CloudAccessError(ValueError):
    """A cloud location could not be parsed, resolved or read.

    The message names the value, URI or service that failed and why.
    """


class LZWError(ValueError):
    """Data are not valid Unix ``compress`` (``.Z``) data, or are truncated."""
