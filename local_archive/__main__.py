"""``python -m local_archive serve | run CMD ...``.

``serve`` starts the local archive and prints the environment to export (for
JupyterLab, say); ``run`` starts it, runs a command with that environment and
stops it, passing on the command's exit status.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time

from .archive import LocalArchive


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_archive", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="start and print the environment to export; Ctrl-C stops")
    run = sub.add_parser("run", help="run a command against the local archive")
    run.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)

    with LocalArchive() as archive:
        env = archive.environment()
        print(f"local archive ready in {archive.startup_seconds:.1f} s", file=sys.stderr)
        if args.command == "serve":
            for key, value in env.items():
                print(f"export {key}={shlex.quote(value)}")
            sys.stdout.flush()
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                return 0
        cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
        if not cmd:
            parser.error("run needs a command")
        return subprocess.call(cmd, env={**os.environ, **env})


if __name__ == "__main__":
    sys.exit(main())
