"""Point every Python process started under the local archive at it, from interpreter start-up.

:meth:`LocalArchive.environment() <local_archive.archive.LocalArchive.environment>`
puts a folder first on ``PYTHONPATH`` holding a ``sitecustomize.py``
(:data:`SITECUSTOMIZE`).  Python imports it at start-up, so ``python script.py``
under ``python -m local_archive run --``, Jupyter kernels, their child
processes and the worker processes Dask or ``multiprocessing`` spawn all call
:func:`activate` before any of their own code runs: URLs are rewritten to the
archive and the socket guard refuses anything else (see
:mod:`local_archive.redirect`).  A process forked from a guarded one inherits
the guard as it is.

The file shadows any ``sitecustomize`` further down the path (Debian's, a conda
environment's); it runs that one too.  Processes started with ``python -E``,
``-I`` or ``-S`` skip ``PYTHONPATH`` or ``sitecustomize`` and are not covered;
nor is native code (see :mod:`local_archive.redirect`).

This module imports neither ``helpers`` nor the archive's servers (moto,
werkzeug): it runs in every process, the tutorials' kernels included.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from . import redirect

__all__ = ["activate", "write_sitecustomize", "SITECUSTOMIZE"]

# Kept to the standard library until LOCAL_ARCHIVE_URL is known to be set, and never fatal: a
# broken start-up hook must not stop an unrelated Python program from starting.
SITECUSTOMIZE = '''\
"""Written by local_archive (see local_archive.startup): point this process at the local archive."""
import os as _os
import sys as _sys

_MARK = b'"""Written by local_archive'


def _activate():
    if not _os.environ.get("LOCAL_ARCHIVE_URL"):
        return
    try:
        from local_archive.startup import activate
    except ImportError as exc:
        _sys.stderr.write(f"local archive: {exc}: {_sys.executable} is NOT redirected to the local archive "
                          "nor guarded against leaving loopback\\n")
        return
    activate()


def _is_ours(candidate):
    try:
        with open(candidate, "rb") as handle:
            return handle.read(len(_MARK)) == _MARK
    except OSError:
        return False


def _chain():
    # This file shadows the next sitecustomize on sys.path (Debian's, a conda env's): run that one too.
    import importlib.machinery
    import importlib.util

    # Skip every folder holding one of these files, not just this one: a shell that already has
    # another archive's exports (serve's) puts two on PYTHONPATH, which would otherwise run each other.
    path = [entry for entry in _sys.path if not _is_ours(_os.path.join(entry or _os.curdir, "sitecustomize.py"))]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", path)
    if spec is not None and spec.loader is not None:
        spec.loader.exec_module(importlib.util.module_from_spec(spec))


_activate()
try:
    _chain()
except Exception as _exc:  # reported like Python reports a failing sitecustomize, then carry on
    _sys.stderr.write(f"Error in the sitecustomize shadowed by the local archive's: {_exc!r}\\n")
del _activate, _chain, _is_ours, _MARK, _os, _sys
'''


def activate(environ: Mapping[str, str] | None = None) -> bool:
    """Install the URL rewriting and the socket guard when ``LOCAL_ARCHIVE_URL`` is set.

    Parameters
    ----------
    environ : mapping, optional
        Where to read ``LOCAL_ARCHIVE_URL`` (default: ``os.environ``).

    Returns
    -------
    bool
        True when the process is now pointed at the archive and guarded.

    Examples
    --------
    >>> activate({})      # no archive in this environment: nothing changes
    False
    """
    url = (os.environ if environ is None else environ).get("LOCAL_ARCHIVE_URL")
    if not url:
        return False
    redirect.install(url)
    redirect.guard_sockets()
    return True


def write_sitecustomize(folder: Path) -> Path:
    """Write :data:`SITECUSTOMIZE` into ``folder`` (created if needed), for the front of ``PYTHONPATH``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     write_sitecustomize(Path(tmp) / "python").name
    'sitecustomize.py'
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "sitecustomize.py"
    path.write_text(SITECUSTOMIZE)
    return path
