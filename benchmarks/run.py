"""Benchmark: cutout strategies against the physical limit, ``.Z`` decompression, event binning.

Run ``tox -e benchmark`` (or ``python benchmarks/run.py``).  A loopback S3 server
in its own process serves the images, counts requests and bytes, and injects a
round trip per request and a bandwidth per connection: 0, 5, 30 and 100 ms, at
50 MB/s (at 0 ms the bandwidth is loopback's own, as at the local archive).
Each strategy runs in fresh processes (``--repeats``, the run with the median
time is kept), so its peak memory is its own and nothing it learnt carries
over; the helper gets no ``link=`` and plans with the link it estimates.
The table and ``_build/benchmark.json`` give, for each case, strategy and
latency: requests, bytes served, wall time, peak RSS, and the ratios to the
physical limits: bytes / pixel bytes, and time / (one round trip + pixel
bytes / bandwidth), which is None (printed "–") at 0 ms, where the limit is
only loopback's speed.

``seconds`` is what a reader waits: open the file, parse its header, cut out.
``read_seconds`` is the cut-out alone, with the header already parsed: that
is what the physical limit describes, so ``time_ratio`` uses it (opening costs
every strategy two more round trips, a HEAD and the header's GET).  Strategies
are compared on ``seconds``.  ``bytes`` and ``requests`` count everything the
server sent for the file, header included.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/many.py, however this file is run
import many  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BUCKET = "bench"
CRAB = (83.63321, 22.01446)
SIZE_DEG = 0.0889
LATENCIES_MS = (0.0, 5.0, 30.0, 100.0)
MANY_LATENCIES_MS = (0, 30)  # the many-cutouts case (benchmarks/many.py) runs at these only
STRATEGIES = ("data", "section-default", "section-1mib", "rows-concurrent", "span", "helper")
CASES = {  # name: (nx, ny) of a float32 image at 1.375"/px centred on the Crab
    "wise": (4095, 4095),  # an AllWISE Atlas tile
    "mosaic": (19200, 1600),  # a strip of a Euclid MER-like mosaic: rows of 75 KiB
}


# --- the server process ---------------------------------------------------------------

def _serve(files: dict[str, str], conn) -> None:
    from local_archive import S3Server

    server = S3Server().start()
    server.create_bucket(BUCKET)
    server.put_bytes(BUCKET, "warmup", b"warm-up object: loads the client before timing")
    for key, path in files.items():
        server.put_file(BUCKET, key, path)
    conn.send(server.endpoint)
    conn.recv()  # wait until told to stop
    server.stop()


def _control(endpoint: str, action: str, **params) -> dict:
    return requests.get(f"{endpoint}/__local_archive__/{action}", params=params, timeout=30).json()


def _make_image(case: str, directory: Path) -> Path:
    from astropy.io import fits
    from astropy.wcs import WCS

    nx, ny = CASES[case]
    path = directory / f"{case}.fits"
    if path.exists():
        return path
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [CRAB[0] - 0.05, CRAB[1] + 0.03]
    wcs.wcs.crpix = [nx / 2, ny / 2]
    wcs.wcs.cdelt = [-1.375 / 3600, 1.375 / 3600]
    data = np.random.default_rng(0).standard_normal((ny, nx), dtype=np.float32)
    fits.PrimaryHDU(data, header=wcs.to_header()).writeto(path)
    return path


# --- one strategy, in its own process -----------------------------------------------------

def _one(case: str, strategy: str, endpoint: str, latency: float, bandwidth: float) -> dict:
    os.environ["AWS_ENDPOINT_URL_S3"] = endpoint
    import astropy.units as u
    import s3fs
    from astropy.coordinates import SkyCoord
    from astropy.io import fits
    from astropy.nddata import Cutout2D
    from astropy.wcs import WCS

    from helpers import cutout, open_fits

    uri = f"s3://{BUCKET}/{case}.fits"
    position, size = SkyCoord(*CRAB, unit="deg"), SIZE_DEG * u.deg
    from helpers.s3 import s3_filesystem

    plain = {"anon": True}
    options = {
        "section-1mib": dict(plain, default_block_size=1 << 20),
        "rows-concurrent": dict(plain, config_kwargs={"max_pool_connections": 64}),
        "span": dict(plain, config_kwargs={"max_pool_connections": 64}),
    }.get(strategy, plain)
    # Create the strategy's own client before timing (botocore loads its models once per process, 0.2-0.3 s,
    # and a client costs 30-50 ms more), and warm astropy's coordinate machinery; neither touches the case's
    # file.  The helper's client is helpers.s3's file system: its HEAD of another object is a request the
    # helper may learn the round trip from, as any earlier call of a session would be.
    (s3_filesystem() if strategy == "helper" else s3fs.S3FileSystem(**options)).info(f"{BUCKET}/warmup")
    celestial = WCS(naxis=2)
    celestial.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    celestial.world_to_pixel(position)
    began = time.perf_counter()
    if strategy in ("data", "section-default", "section-1mib"):
        with fits.open(uri, use_fsspec=True, fsspec_kwargs=options) as hdul:
            hdu = hdul[0]
            wcs = WCS(hdu.header)
            opened = time.perf_counter()
            array = hdu.data if strategy == "data" else hdu.section
            result = Cutout2D(array, position, size, wcs=wcs).data
    elif strategy == "helper":  # no link=: it plans with what it measured
        with open_fits(uri) as hdul:
            wcs = WCS(hdul[0].header)
            opened = time.perf_counter()
            result = cutout(hdul[0], position, size, wcs=wcs).data
    else:  # rows-concurrent, span: the exact rows, by hand
        fs = s3fs.S3FileSystem(**options)
        with fs.open(uri, "rb", block_size=64 << 10) as handle:
            header = fits.Header.fromfile(handle)
            offset = handle.tell()
        nx, ny = header["NAXIS1"], header["NAXIS2"]
        wcs = WCS(header)
        opened = time.perf_counter()
        shape = Cutout2D(np.broadcast_to(np.float32(0), (ny, nx)), position, size, wcs=wcs).slices_original
        rows, cols = shape
        starts = [offset + (r * nx + cols.start) * 4 for r in range(rows.start, rows.stop)]
        width = (cols.stop - cols.start) * 4
        if strategy == "rows-concurrent":
            blobs = fs.cat_ranges([uri] * len(starts), starts, [s + width for s in starts], batch_size=64)
            result = np.frombuffer(b"".join(blobs), dtype=">f4").reshape(len(starts), -1)
        else:
            blob = fs.cat_file(uri, start=starts[0], end=starts[-1] + width)
            whole = np.frombuffer(blob + bytes(nx * 4 - width), dtype=">f4").reshape(len(starts), nx)
            result = whole[:, : cols.stop - cols.start]
    done = time.perf_counter()
    return {"seconds": done - began, "read_seconds": done - opened, "pixel_bytes": int(result.nbytes),
            "shape": list(result.shape),
            "checksum": float(np.nansum(result, dtype=np.float64)),
            "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}


# --- the driver ---------------------------------------------------------------------------

def _run_once(case, strategy, endpoint, latency, bandwidth) -> dict:
    _control(endpoint, "reset")
    done = subprocess.run([sys.executable, __file__, "--one", case, strategy, endpoint, str(latency), str(bandwidth)],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"{case}/{strategy} failed:\n{done.stderr[-2000:]}")
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    measured["served"] = _control(endpoint, "stats", bucket=BUCKET, key=f"{case}.fits")
    return measured


def _run_strategy(case, strategy, endpoint, latency, bandwidth, repeats) -> dict:
    """The row of one strategy: of ``repeats`` fresh processes, the one with the median time."""
    runs = sorted((_run_once(case, strategy, endpoint, latency, bandwidth) for _ in range(repeats)),
                  key=lambda run: run["seconds"])
    measured = runs[len(runs) // 2]
    served = measured["served"]
    # At 0 ms the limit is loopback's speed, not a link's: the ratio would mean nothing.
    limit = latency + measured["pixel_bytes"] / bandwidth if latency else None
    return {
        "case": case, "strategy": strategy, "latency_ms": round(latency * 1000, 1),
        "requests": served["requests"], "bytes": served["bytes"], "seconds": round(measured["seconds"], 4),
        "read_seconds": round(measured["read_seconds"], 4),
        "seconds_runs": [round(run["seconds"], 4) for run in runs],
        "peak_rss_bytes": measured["peak_rss_bytes"],
        "bytes_ratio": round(served["bytes"] / measured["pixel_bytes"], 2),
        "time_ratio": round(measured["read_seconds"] / limit, 2) if limit else None,
        "checksum": measured["checksum"],
    }


def _decompression_and_binning() -> list[dict]:
    sys.path.insert(0, str(Path(__file__).parent))
    from decompress import measure

    return measure()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latencies-ms", default=",".join(f"{v:g}" for v in LATENCIES_MS),
                        help="round trips per request to run, comma-separated (0: loopback, no bandwidth limit)")
    parser.add_argument("--bandwidth-mbps", type=float, default=50.0, help="MB/s per connection")
    parser.add_argument("--repeats", type=int, default=3, help="fresh processes per strategy (median kept)")
    parser.add_argument("--out", default=str(ROOT / "_build" / "benchmark.json"))
    parser.add_argument("--one", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        case, strategy, endpoint, latency, bandwidth = args.one
        print(json.dumps(_one(case, strategy, endpoint, float(latency), float(bandwidth))))
        return 0

    began = time.perf_counter()
    latencies = [float(value) / 1000 for value in args.latencies_ms.split(",")]
    bandwidth = args.bandwidth_mbps * 1e6
    workdir = Path(tempfile.gettempdir()) / "helpers-benchmark"
    workdir.mkdir(exist_ok=True)
    files = {f"{case}.fits": str(_make_image(case, workdir)) for case in CASES}
    many_files = many.make_tiles(workdir / "many")  # 16 tiles for the many-cutouts case, same server
    files.update(many_files)
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(files, child), daemon=True)
    server.start()
    endpoint = parent.recv()
    results = []
    try:
        for latency in latencies:
            _control(endpoint, "link", latency=latency, bandwidth=bandwidth if latency else 0)
            link_bw = bandwidth if latency else float("inf")
            for case in CASES:
                for strategy in STRATEGIES:
                    results.append(_run_strategy(case, strategy, endpoint, latency, link_bw, args.repeats))
            if round(latency * 1000) in MANY_LATENCIES_MS:
                results.extend(many.many_cutouts(endpoint, latency, link_bw, files=many_files, bucket=BUCKET))
    finally:
        parent.send("stop")
        server.join(timeout=30)
    checksums = {(r["case"], r["latency_ms"]): set() for r in results}
    for r in results:
        checksums[(r["case"], r["latency_ms"])].add(r.pop("checksum"))
    assert all(len(v) == 1 for v in checksums.values()), f"strategies disagree on the pixels: {checksums}"
    # Other benchmarks add their rows here (each row: case, strategy, seconds, ...).
    results.extend(_decompression_and_binning())
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1))
    _print([r for r in results if r["case"] != "many"])
    many_rows = [r for r in results if r["case"] == "many"]
    if many_rows:
        print()
        many.print_table(many_rows)
        _print_many_target(many_rows)
    print(f"\n(the whole run took {time.perf_counter() - began:.0f} s)")
    return 0


def _print_many_target(rows: list[dict]) -> None:
    """The many-cutouts target: a thread pool at least 6x faster than one cutout after another, at 30 ms."""
    at = {r["strategy"]: r for r in rows if r["latency_ms"] == 30}
    if {"sequential", "threads"} <= set(at):
        ratio = at["sequential"]["seconds"] / at["threads"]["seconds"]
        ideal = at["threads"]["ideal_ratio"]
        print(f"  30 ms many: threads/sequential {ratio:.1f}x (>= 6) {'ok' if ratio >= 6 else 'MISSED'}; "
              f"threads {at['threads']['cutouts_per_second']:.0f} cutouts/s, "
              f"{_ratio(ideal, 0).strip()}x the link-limited ideal for {at['threads']['connections']} connections")


def _ratio(value: float | None, width: int) -> str:
    """A ratio for the table, or "–" where it means nothing."""
    return f"{value:{width}.2f}" if value is not None else f"{'–':>{width}}"


def _print(results: list[dict]) -> None:
    print(f"{'case':8} {'strategy':16} {'lat ms':>6} {'requests':>8} {'bytes':>12} {'total s':>7} {'read s':>7} "
          f"{'peak RSS MB':>11} {'bytes/px':>9} {'time/limit':>10}")
    for r in results:
        if r.get("requests") is None:
            continue
        print(f"{r['case']:8} {r['strategy']:16} {r['latency_ms']:6.0f} {r['requests']:8d} {r['bytes']:12,d} "
              f"{r['seconds']:7.3f} {r['read_seconds']:7.3f} {r['peak_rss_bytes'] / 1e6:11.0f} {r['bytes_ratio']:9.2f} "
              f"{_ratio(r['time_ratio'], 10)}")
    for r in results:
        if r.get("requests") is None:
            print(f"{r['case']:8} {r['strategy']:16} {r['seconds']:8.3f} s")
    print("\nTargets (ratios from this run; strategies compared on total seconds):")
    for latency_ms in sorted({r["latency_ms"] for r in results if r.get("requests") is not None}):
        for case in CASES:
            rows = {r["strategy"]: r for r in results if r["case"] == case and r.get("latency_ms") == latency_ms}
            if "helper" not in rows:
                continue
            helper = rows["helper"]
            best_name = min((name for name in rows if name != "helper"), key=lambda name: rows[name]["seconds"])
            ratio = helper["seconds"] / rows[best_name]["seconds"]
            line = (f"  {latency_ms:5.0f} ms {case:7}: helper/best fixed ({best_name}) {ratio:.2f} (<= 1.25) "
                    f"{'ok' if ratio <= 1.25 else 'MISSED'}")
            if case == "wise" and latency_ms >= 30:
                limit = helper["time_ratio"]
                line += f"; helper time/limit {limit:.2f} (<= 2.0) {'ok' if limit <= 2.0 else 'MISSED'}"
            line += (f"; data/helper {rows['data']['seconds'] / helper['seconds']:.1f}, "
                     f"helper bytes/span bytes {helper['bytes'] / rows['span']['bytes']:.2f}")
            print(line)
    lzw = {r["strategy"]: r for r in results if r["case"] == "lzw"}
    if lzw:
        ratio = lzw["unlzw3"]["seconds"] / lzw["helper"]["seconds"]
        print(f"  .Z: unlzw3/helper {ratio:.0f}x (>= 20) {'ok' if ratio >= 20 else 'MISSED'}")


if __name__ == "__main__":
    sys.exit(main())
