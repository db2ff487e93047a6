"""A stand-in for the NASA archives on 127.0.0.1, for tests, CI and offline workshops.

Test and demo infrastructure only: ``helpers`` and the tutorials never import
it, and it never imports ``helpers``.  It needs the optional dependencies
``nasa-cloud-tutorial-helpers[local]``.  Start it by hand with
``python -m local_archive serve``, or run a command against it with
``python -m local_archive run -- python script.py``.

The package's names are loaded on first use, so that ``local_archive.startup``
and ``local_archive.redirect`` (which every Python process under the archive
imports at start-up) pull in neither moto nor werkzeug.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["LocalArchive", "S3Server", "ObjectStats"]

_LAZY = {"LocalArchive": "archive", "S3Server": "s3server", "ObjectStats": "s3server"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
