"""``python -m local_archive serve | run -- CMD ...``.

``serve`` starts the local archive and prints the environment to export (for
JupyterLab, say) until Ctrl-C; ``run`` starts it, runs a command with that
environment and stops it, passing on the command's exit status.  Every Python
process started with the environment (``run -- python script.py``, kernels,
their children, Dask workers) rewrites archive URLs to the local archive and
refuses to leave loopback.  Both remove their temporary folder when they stop,
on Ctrl-C and on SIGTERM too.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import subprocess
import sys
import time
from typing import Any


def _interrupt_on_sigterm() -> None:
    # SIGTERM (kill, a CI runner's cancel) takes the same way out as Ctrl-C, so the archive stops and
    # its temporary folder goes.
    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_archive", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="start and print the environment to export; Ctrl-C stops")
    run = sub.add_parser("run", help="run a command against the local archive, e.g. run -- python script.py")
    run.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    cmd = args.cmd[1:] if args.command == "run" and args.cmd[:1] == ["--"] else getattr(args, "cmd", [])
    if args.command == "run" and not cmd:
        parser.error("run needs a command, e.g. run -- python script.py")

    # Imported here so that --help works without the archive's dependencies (pip install ".[local]").
    from .archive import LocalArchive

    _interrupt_on_sigterm()
    try:
        with LocalArchive() as archive:
            env = archive.environment()
            print(f"local archive ready in {archive.startup_seconds:.1f} s", file=sys.stderr)
            if args.command == "serve":
                return _serve(env)
            return subprocess.call(cmd, env={**os.environ, **env})
    except KeyboardInterrupt:
        return 130 if args.command == "run" else 0


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
