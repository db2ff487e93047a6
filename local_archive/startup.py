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

pyarrow's own S3 client
-----------------------
``pyarrow.fs.S3FileSystem(...)`` does not read the endpoint variables the
archive exports: pyarrow 26.0.1 honours ``AWS_ENDPOINT_URL_S3`` and
``AWS_ENDPOINT_URL`` only in ``FileSystem.from_uri("s3://...")`` (apache/arrow
PR #39160; the constructor ignoring them is apache/arrow issue #49643, and
shared/notes/service_formats.md §11, measured).  So :func:`activate` also
arranges that, when ``pyarrow._s3fs`` is first imported, its ``S3FileSystem``
becomes a subclass that fills in ``endpoint_override`` from those variables,
in Arrow's own order, whenever the caller gives none; an explicit
``endpoint_override`` is kept.  pyarrow itself is never imported here.

This module imports neither ``helpers`` nor the archive's servers (moto,
werkzeug): it runs in every process, the tutorials' kernels included.
"""

from __future__ import annotations

import importlib.abc
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import redirect

__all__ = ["activate", "write_sitecustomize", "s3_endpoint", "SITECUSTOMIZE"]

_S3FS_MODULE = "pyarrow._s3fs"

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


def _record():
    # Recording hook (local_archive.recording): LOCAL_ARCHIVE_RECORD=DIR records this process's
    # HTTP(S) exchanges into DIR, with or without the local archive (a live run).
    folder = _os.environ.get("LOCAL_ARCHIVE_RECORD")
    if not folder:
        return
    try:
        from local_archive.recording import install
        install(folder)
    except Exception as exc:
        _sys.stderr.write(f"local archive: {_sys.executable} is NOT recorded: {exc!r}\\n")


_activate()
_record()
try:
    _chain()
except Exception as _exc:  # reported like Python reports a failing sitecustomize, then carry on
    _sys.stderr.write(f"Error in the sitecustomize shadowed by the local archive's: {_exc!r}\\n")
del _activate, _record, _chain, _is_ours, _MARK, _os, _sys
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
    _point_pyarrow_s3()
    return True


def s3_endpoint(environ: Mapping[str, str] | None = None) -> str | None:
    """The S3 endpoint the AWS variables name, in Arrow's order; None when neither is set.

    Arrow reads ``AWS_ENDPOINT_URL_S3`` first, then ``AWS_ENDPOINT_URL``
    (apache/arrow PR #39160, "prefer service-specific endpoint url over global
    endpoint url"), as the AWS SDKs do.

    Examples
    --------
    >>> s3_endpoint({"AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:2"})
    'http://127.0.0.1:2'
    >>> s3_endpoint({}) is None
    True
    """
    environ = os.environ if environ is None else environ
    return environ.get("AWS_ENDPOINT_URL_S3") or environ.get("AWS_ENDPOINT_URL") or None


def _point_pyarrow_s3() -> None:
    """Patch ``pyarrow._s3fs`` now if it is loaded, else as soon as something imports it."""
    module = sys.modules.get(_S3FS_MODULE)
    if module is not None:
        _patch_s3fs(module)
        fs = sys.modules.get("pyarrow.fs")
        if fs is not None and hasattr(fs, "S3FileSystem"):
            fs.S3FileSystem = module.S3FileSystem  # bound when pyarrow.fs was imported, before us
    elif not any(isinstance(finder, _S3fsFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _S3fsFinder())


class _S3fsFinder(importlib.abc.MetaPathFinder):
    """Finds ``pyarrow._s3fs`` as the other finders would, with a loader that patches it once loaded."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != _S3FS_MODULE:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _PatchingLoader(spec.loader)
                return spec
        return None


class _PatchingLoader(importlib.abc.Loader):
    """Loads as ``loader`` does, then patches the module before its importer (pyarrow.fs) sees it."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self._loader.exec_module(module)
        _patch_s3fs(module)


def _patch_s3fs(module: Any) -> None:
    """Replace ``module.S3FileSystem`` by a subclass taking its endpoint from the environment."""
    original = module.S3FileSystem
    if getattr(original, "_local_archive_original", None) is not None:
        return  # already ours

    class _Meta(type(original)):
        # Instances pyarrow builds itself (FileSystem.from_uri, a dataset's .filesystem) may be of
        # the original class: they are still S3FileSystems to isinstance and issubclass.
        def __instancecheck__(cls, obj: Any) -> bool:
            return isinstance(obj, original)

        def __subclasscheck__(cls, sub: Any) -> bool:
            return issubclass(sub, original)

    class S3FileSystem(original, metaclass=_Meta):
        __doc__ = original.__doc__
        _local_archive_original = original

        def __init__(self, *args: Any, endpoint_override: Any = None, **kwargs: Any) -> None:
            # "" is what a pickled filesystem without an override carries: treat it as none given.
            super().__init__(*args, endpoint_override=endpoint_override or s3_endpoint(), **kwargs)

        def __reduce__(self) -> Any:
            # pyarrow's own reduce names the original class, which no longer sits at
            # pyarrow._s3fs.S3FileSystem; rebuild through this one (same keywords, explicit endpoint),
            # which pickles by that name and so unpickles in any process, patched or not.
            return (type(self)._reconstruct, original.__reduce__(self)[1])

    S3FileSystem.__module__ = original.__module__
    S3FileSystem.__qualname__ = original.__qualname__
    module.S3FileSystem = S3FileSystem


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
