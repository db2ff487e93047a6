"""Benchmark: many cutouts at once, sequentially, with a thread pool and with Dask, beside the link's limit.

Run ``python benchmarks/many.py [--latency-ms 30 0]``.  Sixteen generated
float32 tiles are served by a loopback S3 server in its own process, which
counts requests and bytes and injects a round trip per request and a bandwidth
per connection (as ``benchmarks/run.py`` does).  Sixty-four cutouts, four per
tile, are each one job as a reader writes it (the advanced tutorial's
``one_cutout``): ``helpers.open_fits`` of the tile, then ``helpers.cutout``
with the helper's own link model.  Each strategy runs in a fresh process:

``sequential``
    one job after another, in one thread;
``threads``
    a :class:`concurrent.futures.ThreadPoolExecutor` of ``workers`` threads;
``dask``
    a ``dask.distributed.LocalCluster`` of ``dask_processes`` worker processes
    with ``workers // dask_processes`` threads each (as many jobs in flight as
    the thread pool), ``client.map`` then ``client.gather``.

``seconds`` is the wall time of the 64 jobs alone.  Every strategy first makes
one cutout untimed (botocore loads its service models, astropy its coordinate
machinery: about a second a reader pays once per process); for Dask that
warm-up runs in every worker, and ``startup_seconds`` is the cluster's start
(scheduler, worker processes) plus that warm-up, which a reader pays before
the first batch: ``seconds + startup_seconds`` is a first batch's wait.
``cpu_seconds`` is the CPU the clients used meanwhile (for Dask, the workers'
and the scheduler's).

Why 32 jobs in flight (``workers``).  A job waits three round trips (HEAD,
header, the cutout's ranges together: about 95 ms at 30 ms and 50 MB/s) and
needs about 10 ms of Python (header parsing, WCS, botocore), so about ten jobs
in flight would keep one core busy on paper.  Measured at 30 ms on the 2-core
machine, 64 jobs took 2.0 s with 4 threads, 1.2 s with 8, 0.9 s with 16,
0.74 s with 32 and 0.68 s with 64, against 0.6 s of client CPU: threads
overlap the waiting until the one core that the GIL allows is busy, and 32
comes within a quarter of that floor.  All the threads share the one s3fs
file system of :func:`helpers.s3.s3_filesystem`, whose requests run on
fsspec's single I/O thread through one aiobotocore pool of
``helpers.s3.MAX_CONNECTIONS`` (64) connections; 32 jobs of three ranges can
ask for 96, so the pool, not the thread count, caps the requests in flight
(``connections``), which costs nothing measurable here since the client's CPU
is the limit.  Dask runs 2 processes (one per core) of 16 threads: the same 32
jobs in flight, with two GILs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import requests

ROOT = Path(__file__).resolve().parents[1]
BUCKET = "bench"
PREFIX = "many"  # keys are many/tile-NN.fits, so the tiles can share run.py's bucket
STRATEGIES = ("sequential", "threads", "dask")
TILES = 16
CUTOUTS_PER_TILE = 4
TILE_SHAPE = (2048, 2048)  # (ny, nx) float32: 16 MiB, a quarter of an AllWISE Atlas tile
PIXEL_DEG = 1.375 / 3600  # AllWISE Atlas pixels
SIZE_DEG = 0.05  # the advanced tutorial's cutout: 131 x 131 pixels
CENTRE = (83.63321, 22.01446)  # the Crab
#: Round trips one job waits for one after another: the HEAD of open_fits, the header's GET, then the
#: cutout's ranges (sent together).
ROUND_TRIPS_PER_JOB = 3


# --- tiles and jobs ------------------------------------------------------------------------

def make_tiles(directory: str | os.PathLike, tiles: int = TILES, shape: tuple[int, int] = TILE_SHAPE,
               prefix: str = PREFIX) -> dict[str, str]:
    """Write ``tiles`` float32 FITS images with a TAN WCS, on a square grid around the Crab.

    Each tile's pixels are ``numpy.random.default_rng(index)`` normal deviates,
    so the files are the same on every run; existing files are kept.

    Parameters
    ----------
    directory : path
        Where to write (``tile-NN-<ny>x<nx>.fits``).
    tiles : int
        How many (a square number keeps the grid square; any count works).
    shape : tuple of int
        ``(ny, nx)`` of each tile.
    prefix : str
        The S3 key prefix the tiles will be served under.

    Returns
    -------
    dict
        S3 key (``<prefix>/tile-NN.fits``) to local path, for ``S3Server.put_file``.
    """
    from astropy.io import fits

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    files = {}
    for index in range(tiles):
        path = directory / f"tile-{index:02d}-{shape[0]}x{shape[1]}.fits"
        if not path.exists():
            data = np.random.default_rng(index).standard_normal(shape, dtype=np.float32)
            partial = path.with_suffix(".part")
            fits.PrimaryHDU(data, header=_tile_wcs(index, tiles, shape).to_header()).writeto(partial, overwrite=True)
            partial.rename(path)  # never a half-written tile for the next run to trust
        files[f"{prefix}/tile-{index:02d}.fits"] = str(path)
    return files


def _tile_wcs(index: int, tiles: int, shape: tuple[int, int]) -> Any:
    from astropy.wcs import WCS

    ny, nx = shape
    side = math.ceil(math.sqrt(tiles))
    row, col = divmod(index, side)
    step = max(nx, ny) * PIXEL_DEG * 1.05  # tiles just apart, as survey tiles are laid out
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    dec = CENTRE[1] + (row - (side - 1) / 2) * step
    wcs.wcs.crval = [CENTRE[0] + (col - (side - 1) / 2) * step / math.cos(math.radians(dec)), dec]
    wcs.wcs.crpix = [(nx + 1) / 2, (ny + 1) / 2]
    wcs.wcs.cdelt = [-PIXEL_DEG, PIXEL_DEG]
    return wcs


def make_jobs(files: dict[str, str], bucket: str = BUCKET, per_tile: int = CUTOUTS_PER_TILE) -> list[dict]:
    """The cutouts to make: ``per_tile`` positions in each tile, the centres of a grid of its sub-squares.

    Parameters
    ----------
    files : dict
        From :func:`make_tiles` (the local paths give each tile's WCS and shape).
    bucket : str
        The bucket the tiles are served from.
    per_tile : int
        Cutouts per tile (4: the centres of the tile's quadrants).

    Returns
    -------
    list of dict
        ``uri``, ``ra``, ``dec`` (degrees), ``size_deg``, and the ``path`` of
        the local copy, tile by tile.
    """
    from astropy.io import fits
    from astropy.wcs import WCS

    jobs = []
    for key, path in files.items():
        header = fits.getheader(path)
        wcs, nx, ny = WCS(header), header["NAXIS1"], header["NAXIS2"]
        side = math.ceil(math.sqrt(per_tile))
        for i in range(per_tile):
            row, col = divmod(i, side)
            x, y = (col + 0.5) * nx / side, (row + 0.5) * ny / side
            ra, dec = wcs.pixel_to_world_values(x, y)
            jobs.append({"uri": f"s3://{bucket}/{key}", "ra": float(ra), "dec": float(dec),
                         "size_deg": SIZE_DEG, "path": path})
    return jobs


def one_cutout(job: dict, link: Any = None) -> np.ndarray:
    """One job as a reader writes it: open the tile with ``helpers.open_fits``, cut with ``helpers.cutout``.

    Parameters
    ----------
    job : dict
        From :func:`make_jobs`.
    link : helpers.ranges.Link, optional
        Passed to ``helpers.cutout`` (None: the helper's own choice).

    Returns
    -------
    numpy.ndarray
        The cutout's pixels.
    """
    import astropy.units as u
    from astropy.coordinates import SkyCoord

    from helpers import cutout, open_fits

    with open_fits(job["uri"]) as hdul:
        return cutout(hdul[0], SkyCoord(job["ra"], job["dec"], unit="deg"), job["size_deg"] * u.deg,
                      link=link).data


# --- the server process -----------------------------------------------------------------------

def _serve(files: dict[str, str], bucket: str, conn: Any) -> None:
    from local_archive import S3Server

    server = S3Server().start()
    server.create_bucket(bucket)
    for key, path in files.items():
        server.put_file(bucket, key, path)
    conn.send(server.endpoint)
    conn.recv()  # wait until told to stop
    server.stop()


@contextlib.contextmanager
def serving(files: dict[str, str], bucket: str = BUCKET) -> Iterator[str]:
    """A loopback ``local_archive.S3Server`` in its own process, serving ``files``; yields its endpoint.

    Its own process, so that the server's request handling does not share a GIL
    with the clients being measured.  Set the link with :func:`set_link`.
    """
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(files, bucket, child), daemon=True)
    server.start()
    try:
        yield parent.recv()
    finally:
        parent.send("stop")
        server.join(timeout=30)


def _control(endpoint: str, action: str, **params: Any) -> dict:
    return requests.get(f"{endpoint}/__local_archive__/{action}", params=params, timeout=30).json()


def set_link(endpoint: str, latency: float, bandwidth: float | None) -> None:
    """Make the server at ``endpoint`` wait ``latency`` s per request and send ``bandwidth`` B/s per connection."""
    _control(endpoint, "link", latency=latency, bandwidth=bandwidth or 0)


def served(endpoint: str, bucket: str, keys: list[str]) -> dict[str, int]:
    """Requests and body bytes the server sent for ``keys`` since its counters were last reset."""
    totals = {"requests": 0, "bytes": 0}
    for key in keys:
        stats = _control(endpoint, "stats", bucket=bucket, key=key)
        totals["requests"] += stats["requests"]
        totals["bytes"] += stats["bytes"]
    return totals


# --- one strategy, in the current process ----------------------------------------------------

def run_jobs(jobs: list[dict], strategy: str, *, workers: int = 32, dask_processes: int = 2,
             link: Any = None, endpoint: str | None = None) -> dict:
    """Make every job's cutout with ``strategy`` in this process, after an untimed warm-up cutout.

    Parameters
    ----------
    jobs : list of dict
        From :func:`make_jobs`.
    strategy : {"sequential", "threads", "dask"}
    workers : int
        Jobs in flight at once for ``threads`` and ``dask``.
    dask_processes : int
        Dask worker processes (``workers`` is split evenly between them as threads).
    link : helpers.ranges.Link, optional
        Passed to every ``helpers.cutout`` call.
    endpoint : str, optional
        When given, the server's counters are reset after the warm-up, so that
        they count the timed jobs alone.

    Returns
    -------
    dict
        ``seconds`` (the jobs alone), ``startup_seconds`` (Dask: cluster start
        and warm-up; else None), ``cpu_seconds`` (this process's CPU during the
        jobs, plus the Dask workers'), ``cutouts`` (the arrays, in the order of ``jobs``).
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    startup = client = None
    with contextlib.ExitStack() as stack:
        if strategy == "dask":
            from dask.distributed import Client, LocalCluster

            began = time.perf_counter()
            cluster = stack.enter_context(LocalCluster(
                n_workers=dask_processes, threads_per_worker=max(workers // dask_processes, 1), processes=True,
                host="127.0.0.1", dashboard_address=None))
            client = stack.enter_context(Client(cluster))
            client.wait_for_workers(dask_processes)
            client.run(one_cutout, jobs[0], link)  # in every worker: imports, botocore's models, a connection
            startup = time.perf_counter() - began
        else:
            one_cutout(jobs[0], link)
        if endpoint:
            _control(endpoint, "reset")
        cpu = _cpu_seconds(client)
        began = time.perf_counter()
        if strategy == "sequential":
            cutouts = [one_cutout(job, link) for job in jobs]
        elif strategy == "threads":
            with ThreadPoolExecutor(max_workers=workers) as pool:
                cutouts = list(pool.map(one_cutout, jobs, [link] * len(jobs)))
        else:
            cutouts = client.gather(client.map(one_cutout, jobs, [link] * len(jobs), pure=False))
        seconds = time.perf_counter() - began
        cpu = _cpu_seconds(client) - cpu
    return {"seconds": seconds, "startup_seconds": startup, "cpu_seconds": cpu, "cutouts": cutouts}


def _cpu_seconds(client: Any = None) -> float:
    """CPU seconds used so far by this process and, given a Dask client, by its workers."""
    used = time.process_time()
    if client is not None:
        used += sum(client.run(time.process_time).values())
    return used


def _one(settings: dict) -> dict:
    """The child process's work: :func:`run_jobs`, reduced to what the parent reports."""
    os.environ["AWS_ENDPOINT_URL_S3"] = settings["endpoint"]
    link = None
    if settings.get("link"):
        from helpers.ranges import Link

        link = Link(*settings["link"])
    done = run_jobs(settings["jobs"], settings["strategy"], workers=settings["workers"],
                    dask_processes=settings["dask_processes"], link=link, endpoint=settings["endpoint"])
    cutouts = done.pop("cutouts")
    done["shapes"] = sorted({tuple(c.shape) for c in cutouts})
    done["pixel_bytes"] = sum(c.nbytes for c in cutouts)
    done["checksum"] = float(sum(np.nansum(c, dtype=np.float64) for c in cutouts))
    return done


# --- the driver ----------------------------------------------------------------------------------

def ideal_seconds(requests_: int, nbytes: int, jobs: int, in_flight: int, connections: int,
                  latency: float, bandwidth: float) -> float:
    """The link-limited lower bound on the time of ``jobs`` cutouts, with no CPU time at all.

    The larger of two bounds:

    * the link's throughput: ``connections`` requests at once, each waiting one
      round trip and then sending its body at ``bandwidth`` on its connection,
      ``requests / connections * latency + bytes / (connections * bandwidth)``
      (the model the brief of issue 15 states);
    * each job's chain: a job waits :data:`ROUND_TRIPS_PER_JOB` round trips one
      after another (HEAD, header, ranges), then its bytes arrive at best over
      all its GETs at once, and ``in_flight`` jobs run at once:
      ``ceil(jobs / in_flight) * (ROUND_TRIPS_PER_JOB * latency + job bytes / (job GETs * bandwidth))``.

    With one job at a time the chain bound is the sequential ideal (the
    throughput bound with one connection would exceed what the helper's
    concurrent ranges achieve); with many, the throughput bound shows when the
    connections, not the jobs, are the limit.

    Examples
    --------
    >>> round(ideal_seconds(320, 71_404_160, 64, 1, 3, 0.03, 50e6), 3)   # sequential: 64 chains
    6.117
    >>> round(ideal_seconds(320, 71_404_160, 64, 16, 48, 0.03, 50e6), 3)  # 16 at once: 4 chains
    0.382
    """
    throughput = requests_ / connections * latency + nbytes / (connections * bandwidth)
    gets_per_job = max(requests_ / jobs - 1, 1)  # every job's HEAD carries no body
    chain = math.ceil(jobs / in_flight) * (ROUND_TRIPS_PER_JOB * latency + nbytes / jobs / (gets_per_job * bandwidth))
    return max(throughput, chain)


def many_cutouts(endpoint: str, latency: float, bandwidth: float, *, files: dict[str, str],
                 bucket: str = BUCKET, workers: int = 32, dask_processes: int = 2,
                 strategies: tuple[str, ...] = STRATEGIES, link: Any = None,
                 per_tile: int = CUTOUTS_PER_TILE) -> list[dict]:
    """Time the cutouts of every tile with each strategy, each in a fresh process.

    Parameters
    ----------
    endpoint : str
        An S3 endpoint (``local_archive.S3Server``) serving ``files`` in ``bucket``.
    latency, bandwidth : float
        The link the server was set to (:func:`set_link`): seconds per request
        and bytes per second per connection; they set the ideal, not the link.
    files : dict
        From :func:`make_tiles`: S3 key to local path.
    bucket : str
    workers : int
        Jobs in flight for ``threads`` and ``dask`` (default 32: see the module's docstring).
    dask_processes : int
        Dask worker processes, each with ``workers // dask_processes`` threads.
    strategies : tuple of str
        Any of ``"sequential"``, ``"threads"``, ``"dask"``.
    link : helpers.ranges.Link, optional
        Passed to ``helpers.cutout`` (None: the helper's default, as a reader calls it).
    per_tile : int
        Cutouts per tile.

    Returns
    -------
    list of dict
        One row per strategy: ``case`` ("many"), ``strategy``, ``latency_ms``,
        ``cutouts``, ``seconds`` (the jobs alone, start-up excluded),
        ``startup_seconds`` (Dask's cluster start and warm-up, else None),
        ``seconds_with_startup`` (what a first batch waits),
        ``requests`` and ``bytes`` (served, from the server's counters),
        ``cutouts_per_second``, ``speedup`` (over ``sequential``, when run),
        ``in_flight`` (jobs at once), ``connections`` (requests the clients can
        have in flight: botocore's pool of 64 per process, at most
        ``in_flight`` jobs' worth), ``ideal_seconds`` (:func:`ideal_seconds`),
        ``ideal_cutouts_per_second``, ``ideal_ratio`` (``seconds / ideal_seconds``;
        both None with no latency, where the link sets no limit), ``cpu_seconds``
        (the clients' CPU during the jobs), ``workers`` (a label),
        ``shapes``, ``checksum`` (the sum of all cutout pixels).
    """
    from helpers.s3 import MAX_CONNECTIONS

    jobs = make_jobs(files, bucket, per_tile)
    keys = list(files)
    rows = []
    for strategy in strategies:
        settings = {"endpoint": endpoint, "strategy": strategy, "jobs": jobs, "workers": workers,
                    "dask_processes": dask_processes,
                    "link": [link.latency, link.bandwidth, link.concurrency, link.overhead] if link else None}
        done = subprocess.run([sys.executable, __file__, "--one"], input=json.dumps(settings), capture_output=True,
                              text=True, timeout=600, cwd=ROOT)
        if done.returncode != 0:
            raise RuntimeError(f"many/{strategy} failed:\n{done.stderr[-3000:]}")
        measured = json.loads(done.stdout.strip().splitlines()[-1])
        startup = measured["startup_seconds"]
        counts = served(endpoint, bucket, keys)
        in_flight = 1 if strategy == "sequential" else workers
        processes = dask_processes if strategy == "dask" else 1
        per_job = max(counts["requests"] / len(jobs) - (ROUND_TRIPS_PER_JOB - 1), 1)  # the cutout's own ranges
        connections = min(MAX_CONNECTIONS * processes, math.ceil(in_flight * per_job))
        ideal = ideal_seconds(counts["requests"], counts["bytes"], len(jobs), in_flight, connections,
                              latency, bandwidth)
        label = {"sequential": "1", "threads": f"{workers} threads",
                 "dask": f"{dask_processes} processes x {max(workers // dask_processes, 1)} threads"}[strategy]
        rows.append({
            "case": "many", "strategy": strategy, "latency_ms": round(latency * 1000, 1), "cutouts": len(jobs),
            "workers": label, "seconds": round(measured["seconds"], 4),
            "startup_seconds": None if startup is None else round(startup, 3),
            "seconds_with_startup": round(measured["seconds"] + (startup or 0.0), 4),
            "requests": counts["requests"], "bytes": counts["bytes"],
            "cutouts_per_second": round(len(jobs) / measured["seconds"], 2),
            "in_flight": in_flight, "connections": connections,
            "cpu_seconds": round(measured["cpu_seconds"], 3),
            "ideal_seconds": round(ideal, 4),
            # No latency: loopback, where the link sets no limit that a ratio could be taken to.
            "ideal_cutouts_per_second": round(len(jobs) / ideal, 1) if latency > 0 else None,
            "ideal_ratio": round(measured["seconds"] / ideal, 2) if latency > 0 else None,
            "shapes": measured["shapes"], "checksum": measured["checksum"],
        })
    sequential = next((r for r in rows if r["strategy"] == "sequential"), None)
    for row in rows:
        row["speedup"] = round(sequential["seconds"] / row["seconds"], 2) if sequential else None
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency-ms", type=float, nargs="+", default=[30.0, 0.0])
    parser.add_argument("--bandwidth-mbps", type=float, default=50.0, help="MB/s per connection")
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--dask-processes", type=int, default=2)
    parser.add_argument("--strategies", nargs="+", default=list(STRATEGIES), choices=STRATEGIES)
    parser.add_argument("--out", default=str(ROOT / "_build" / "benchmark_many.json"))
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # settings on stdin
    args = parser.parse_args()
    if args.one:
        print(json.dumps(_one(json.load(sys.stdin))))
        return 0

    bandwidth = args.bandwidth_mbps * 1e6
    files = make_tiles(Path(tempfile.gettempdir()) / "helpers-benchmark-many")
    rows = []
    with serving(files) as endpoint:
        for latency_ms in args.latency_ms:
            latency = latency_ms / 1000
            set_link(endpoint, latency, bandwidth if latency else None)
            # No latency is loopback: no bandwidth limit either, so the ideal is 0 and has no ratio.
            rows += many_cutouts(endpoint, latency, bandwidth if latency else math.inf, files=files,
                                 workers=args.workers, dask_processes=args.dask_processes,
                                 strategies=tuple(args.strategies))
    checksums = {r["latency_ms"]: set() for r in rows}
    for r in rows:
        checksums[r["latency_ms"]].add(r["checksum"])
    assert all(len(v) == 1 for v in checksums.values()), f"strategies disagree on the pixels: {checksums}"
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(rows, indent=1))
    print_table(rows)
    return 0


def print_table(rows: list[dict]) -> None:
    """Print the rows of :func:`many_cutouts` as a table ("–" where a ratio means nothing)."""
    print(f"{'lat ms':>6} {'strategy':10} {'workers':24} {'requests':>8} {'bytes':>12} {'s':>7} {'start s':>7} "
          f"{'cutouts/s':>9} {'x seq':>6} {'cpu s':>6} {'conns':>5} {'ideal s':>7} {'ideal/s':>7} {'/ideal':>6}")
    for r in rows:
        startup = "–" if r["startup_seconds"] is None else f"{r['startup_seconds']:.2f}"
        ratio = "–" if r["ideal_ratio"] is None else f"{r['ideal_ratio']:.2f}"
        speedup = "–" if r["speedup"] is None else f"{r['speedup']:.1f}"
        ideal_rate = "–" if r["ideal_cutouts_per_second"] is None else f"{r['ideal_cutouts_per_second']:.0f}"
        print(f"{r['latency_ms']:6.0f} {r['strategy']:10} {r['workers']:24} {r['requests']:8d} {r['bytes']:12,d} "
              f"{r['seconds']:7.3f} {startup:>7} {r['cutouts_per_second']:9.1f} {speedup:>6} {r['cpu_seconds']:6.2f} "
              f"{r['connections']:5d} {r['ideal_seconds']:7.3f} {ideal_rate:>7} {ratio:>6}")


if __name__ == "__main__":
    sys.exit(main())
