"""Errors raised by the helpers, so that callers can catch one family."""

__all__ = ["CloudAccessError", "LZWError", "CloudFallbackWarning"]


class CloudAccessError(ValueError):
    """A cloud location could not be parsed, resolved or read.

    The message names the value, URI or service that failed and why.
    """


class LZWError(ValueError):
    """Data are not valid Unix ``compress`` (``.Z``) data, or are truncated."""


class CloudFallbackWarning(UserWarning):
    """S3 refused a file (403, 404), so it was read from the archive's HTTPS copy instead."""
