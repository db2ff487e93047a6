"""Everything the local archive serves: the generated images, event files and catalogs, on disk.

The first run generates them (about 1 GB) into the cache, :func:`~.common.cache_dir`: by default
``~/.cache/nasa-cloud-tutorials/local-archive/<VERSION>``, outside any checkout, so every clone and every
tox environment on the machine shares it (``LOCAL_ARCHIVE_CACHE`` chooses another folder).  Missing
files are made by a pool of worker processes, one per core, and each family of products reports on
stderr when it is done; the bytes are the same whatever the number of workers (each file comes from
its own seed).  ``LOCAL_ARCHIVE_WORKERS=1`` generates them in the calling process.
"""

from __future__ import annotations

import json
import os
import posixpath
import queue
import subprocess
import sys
import threading
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

from .catalogs import allwise_catalog_products
from .chandra import chandra_products
from .common import Product, cache_dir
from .hst import hst_products
from .neowise import neowise_products
from .ps1 import ps1_products
from .rosat import rosat_products
from .spitzer import seip_products
from .swift import swift_products
from .wise import wise_products

__all__ = ["build_holdings"]

# Every family, in the order the services see the products.
_FAMILIES: dict[str, Callable[[], list[Product]]] = {
    "WISE Atlas images": wise_products,
    "AllWISE catalog": allwise_catalog_products,
    "NEOWISE-R catalog": neowise_products,
    "Pan-STARRS stacks": ps1_products,
    "HST": hst_products,
    "Chandra": chandra_products,
    "Swift": swift_products,
    "ROSAT": rosat_products,
    "Spitzer SEIP": seip_products,
}
# How a family's missing files may be shared out among workers: "file" (each file alone: each has its
# own make and seed), "folder" (a folder's files together: Chandra's FITS image and its JPEG share a
# cached counts image), or, for any family not named, all together (the catalogs' makes write many
# files at once).  The heaviest come first so that the small ones fill the gaps at the end.
_SPLIT = {"Pan-STARRS stacks": "file", "WISE Atlas images": "file", "Chandra": "folder"}

_family_cache: dict[str, list[Product]] = {}


def build_holdings(root: Path | None = None, *, workers: int | None = None,
                   log: TextIO | None = None) -> list[Product]:
    """Every product of the local archive, generated into ``root`` if not cached yet.

    Parameters
    ----------
    root : Path, optional
        The cache folder (default :func:`~.common.cache_dir`).
    workers : int, optional
        Processes generating missing files; default ``LOCAL_ARCHIVE_WORKERS`` or else one per
        usable core.  ``1`` generates them in this process.
    log : file, optional
        Where progress goes when anything is missing (default ``sys.stderr``): where the files go,
        then one line per family with its count, size and seconds.

    Returns
    -------
    list of Product
        Every product, its ``path`` set and present on disk.

    Examples
    --------
    >>> products = build_holdings()   # doctest: +SKIP
    local archive: generating 838 files into /home/me/.cache/nasa-cloud-tutorials/local-archive/v6 ...
    local archive: Pan-STARRS stacks: 5 files, 333 MB, 9.4 s of work, done at 5.8 s
    ...
    """
    root = Path(root or cache_dir())
    log = log or sys.stderr
    products, missing = [], defaultdict(list)
    for family, listing in _FAMILIES.items():
        for index, product in enumerate(listing()):
            product.path = root / product.bucket / product.key
            products.append(product)
            if not product.path.exists():
                missing[family].append((index, product))
    if not missing:
        return products

    began = time.perf_counter()
    tasks = _tasks(missing)
    workers = min(_workers(workers), len(tasks))
    count = sum(len(items) for items in missing.values())
    print(f"local archive: generating {count} files into {root} with {workers} processes, once: every later "
          "run, tox environment and clone on this machine reuses them (LOCAL_ARCHIVE_CACHE chooses the folder)",
          file=log, flush=True)
    left = Counter(family for family, _, _ in tasks)
    work: Counter[str] = Counter()
    for family, seconds in _run(tasks, workers, root):
        work[family] += seconds
        left[family] -= 1
        if not left[family]:
            size = sum(product.path.stat().st_size for _, product in missing[family])
            print(f"local archive: {family}: {len(missing[family])} files, {size / 1e6:.0f} MB, "
                  f"{work[family]:.1f} s of work, done at {time.perf_counter() - began:.1f} s", file=log, flush=True)
    print(f"local archive: holdings ready in {time.perf_counter() - began:.1f} s", file=log, flush=True)
    return products


def _workers(requested: int | None) -> int:
    if requested is None:
        requested = int(os.environ.get("LOCAL_ARCHIVE_WORKERS", "0"))
    if requested > 0:
        return requested
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, cores or 1)


def _tasks(missing: dict[str, list[tuple[int, Product]]]) -> list[tuple[str, list[int], list[str]]]:
    """``(family, indices, keys)`` work units, heaviest families first (:data:`_SPLIT`)."""
    order = [*_SPLIT, *(family for family in _FAMILIES if family not in _SPLIT)]
    tasks = []
    for family in sorted(missing, key=order.index):
        split = _SPLIT.get(family)
        groups: dict[object, list[tuple[int, Product]]] = defaultdict(list)
        for index, product in missing[family]:
            key = {"file": id(product.make), "folder": posixpath.dirname(product.key)}.get(split, family)
            groups[key].append((index, product))
        tasks += [(family, [i for i, _ in group], [p.key for _, p in group]) for group in groups.values()]
    return tasks


def _run(tasks: list, workers: int, root: Path) -> Iterator[tuple[str, float]]:
    """Run the tasks, yielding ``(family, seconds)`` as each finishes."""
    if workers <= 1:
        for task in tasks:
            yield _make(*task, str(root))
        return
    # Worker processes of our own, not multiprocessing: its spawn and forkserver methods run the
    # caller's __main__ again in each worker (a script starting the archive at its top level would
    # start it again there), and fork is unsafe in a process with threads (a pytest session's servers).
    todo: queue.SimpleQueue = queue.SimpleQueue()
    for task in tasks:
        todo.put(task)
    done: queue.SimpleQueue = queue.SimpleQueue()
    # Their own session: Ctrl-C reaches this process, which stops them, not each of them with a traceback.
    processes = [subprocess.Popen([sys.executable, "-c", _WORKER, str(root), json.dumps(sys.path)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, start_new_session=True)
                 for _ in range(workers)]
    for process in processes:
        threading.Thread(target=_feed, args=(process, todo, done), daemon=True).start()
    try:
        for _ in tasks:
            answer = done.get()
            if isinstance(answer, BaseException):
                raise answer
            yield answer
    except BaseException:  # Ctrl-C, SIGTERM made KeyboardInterrupt, a failing make: no orphans, no litter
        for process in processes:
            process.kill()
        for process in processes:
            process.wait()
            for tmp in root.rglob(f".*.{process.pid}.tmp"):  # half-written files (common._write_atomic's names)
                tmp.unlink(missing_ok=True)
        raise
    for process in processes:
        process.wait()


_WORKER = "import json, sys; sys.path[:] = json.loads(sys.argv[2]); import local_archive.holdings as h; h._serve()"


def _feed(process: subprocess.Popen, todo: queue.SimpleQueue, done: queue.SimpleQueue) -> None:
    """Hand one worker tasks until none is left; pass on its answers (or its death) to ``done``."""
    while True:
        try:
            task = todo.get_nowait()
        except queue.Empty:
            process.stdin.close()  # the worker ends
            return
        try:
            process.stdin.write(json.dumps(task) + "\n")
            process.stdin.flush()
            line = process.stdout.readline()
        except OSError:
            line = ""
        if not line:
            done.put(RuntimeError(f"a worker generating the holdings died (exit status {process.poll()})"))
            return
        answer = json.loads(line)
        done.put(RuntimeError(f"generating {task[0]} failed:\n{answer['error']}") if "error" in answer
                 else (answer["family"], answer["seconds"]))


def _serve() -> None:
    """A worker's loop: make each task read from stdin, answer one JSON line on stdout."""
    root = sys.argv[1]
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # whatever a make prints goes to stderr, never into the answers
    sys.stdout = sys.stderr
    for line in sys.stdin:
        family, indices, keys = json.loads(line)
        try:
            answer = dict(zip(("family", "seconds"), _make(family, indices, keys, root), strict=True))
        except Exception:
            answer = {"error": traceback.format_exc()}
        print(json.dumps(answer), file=answers, flush=True)


def _make(family: str, indices: list[int], keys: list[str], root: str) -> tuple[str, float]:
    """Make the missing files among ``indices`` of ``family`` (in a worker, from a fresh listing)."""
    began = time.perf_counter()
    if family not in _family_cache:
        _family_cache[family] = _FAMILIES[family]()
    listing = _family_cache[family]
    for index, key in zip(indices, keys, strict=True):
        product = listing[index]
        if product.key != key:  # the listing must be the same in every process
            raise RuntimeError(f"{family}: product {index} is {product.key}, expected {key}")
        path = Path(root) / product.bucket / product.key
        if not path.exists():  # a make that writes several files may have written this one
            product.make(path)
    return family, time.perf_counter() - began
