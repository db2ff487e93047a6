"""``python -m local_archive serve | run -- CMD ... | diff DIR``.

``serve`` starts the local archive and prints the environment to export (for
JupyterLab, say) until Ctrl-C; ``run`` starts it, runs a command with that
environment and stops it, passing on the command's exit status.  Every Python
process started with the environment (``run -- python script.py``, kernels,
their children, Dask workers) rewrites archive URLs to the local archive and
refuses to leave loopback.  Both remove their temporary folder when they stop,
on Ctrl-C and on SIGTERM too.  With ``--replay DIR`` both answer the requests
recorded in DIR (``LOCAL_ARCHIVE_RECORD=DIR``, see local_archive.recording) as
recorded and the rest from the generated holdings (local_archive.replay).
``diff DIR`` prints how the generated archive's answers differ from a recording,
one line per difference; exit status 1 when there is any (local_archive.diff).
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

_signals: list[int] = []  # SIGTERMs received (a KeyboardInterrupt without one is Ctrl-C)


def _interrupt_on_sigterm() -> None:
    # SIGTERM (kill, a CI runner's cancel) takes the same way out as Ctrl-C, so the archive stops and
    # its temporary folder goes.
    def handler(signum: int, frame: Any) -> None:
        _signals.append(signum)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_archive", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    # The S3 link: by default what a reader in the bucket's region sees (local_archive.archive.IN_REGION_*).
    link = argparse.ArgumentParser(add_help=False)
    link.add_argument("--latency-ms", type=float, default=None,
                      help="S3 round trip per request in ms (default 20, in-region; 0 for none)")
    link.add_argument("--bandwidth-mbps", type=float, default=None,
                      help="S3 bandwidth per connection in MB/s (default 50; 0 for no limit)")
    sub = parser.add_subparsers(dest="command", required=True)
    # Replay hook: --replay DIR answers recorded requests as recorded (local_archive.replay).
    link.add_argument("--replay", metavar="DIR", default=None,
                      help="answer the requests recorded in DIR as recorded, the rest from the generated holdings")
    sub.add_parser("serve", parents=[link], help="start and print the environment to export; Ctrl-C stops")
    diff = sub.add_parser("diff", help="compare a recording with the generated archive (exit 1 on differences)")
    diff.add_argument("directory", metavar="DIR")
    run = sub.add_parser("run", parents=[link],
                         help="run a command against the local archive, e.g. run -- python script.py")
    run.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    cmd = args.cmd[1:] if args.command == "run" and args.cmd[:1] == ["--"] else getattr(args, "cmd", [])
    if args.command == "run" and not cmd:
        parser.error("run needs a command, e.g. run -- python script.py")

    if args.command == "diff":  # fidelity report (local_archive.diff)
        from .diff import main as diff_main

        return diff_main(args.directory)

    # Imported here so that --help works without the archive's dependencies (pip install ".[local]").
    from .archive import IN_REGION_BANDWIDTH, IN_REGION_LATENCY, LocalArchive

    latency = IN_REGION_LATENCY if args.latency_ms is None else args.latency_ms / 1000
    bandwidth = IN_REGION_BANDWIDTH if args.bandwidth_mbps is None else (args.bandwidth_mbps * 1e6 or None)
    if latency < 0 or (bandwidth is not None and bandwidth < 0):
        parser.error("--latency-ms and --bandwidth-mbps must not be negative")
    _interrupt_on_sigterm()
    try:
        replay = None if args.replay is None else Path(args.replay)
        with LocalArchive(latency=latency, bandwidth=bandwidth, replay=replay) as archive:
            env = archive.environment()
            speed = f"{bandwidth / 1e6:g} MB/s" if bandwidth else "no bandwidth limit"
            print(f"local archive ready in {archive.startup_seconds:.1f} s (S3: {latency * 1000:g} ms per request, "
                  f"{speed} per connection)", file=sys.stderr)
            if args.command == "serve":
                return _serve(env)
            return _run(cmd, {**os.environ, **env})
    except KeyboardInterrupt:
        return 130 if args.command == "run" else 0


def _run(cmd: list[str], env: dict[str, str]) -> int:
    """Run ``cmd``; stopped, stop it first, so that it too can remove what it made (its kernels, folders)."""
    child = subprocess.Popen(cmd, env=env)
    try:
        return child.wait()
    except KeyboardInterrupt:
        if _signals:  # SIGTERM reached only this process: pass it on (Ctrl-C reached the whole group)
            child.terminate()
        try:  # 30 s to clean up, then it is killed
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        raise


def _serve(env: dict[str, str]) -> int:
    # LOCAL_ARCHIVE_URL last: a reader that sees it has the whole environment.
    for key in sorted(env, key=lambda k: k == "LOCAL_ARCHIVE_URL"):
        print(f"export {key}={shlex.quote(env[key])}")
    sys.stdout.flush()
    print("serving; Ctrl-C stops the local archive", file=sys.stderr)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    sys.exit(main())
