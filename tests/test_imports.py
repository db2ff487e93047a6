"""Importing helpers makes no network call (a notebook must import it offline)."""

from __future__ import annotations

import subprocess
import sys

GUARDED_IMPORT = """
import socket
def refuse(*args, **kwargs):
    raise AssertionError(f"network access at import time: {args!r}")
socket.getaddrinfo = refuse
socket.socket.connect = refuse
socket.create_connection = refuse
import helpers, helpers.cloud, helpers.datalink, helpers.reading, helpers.lzw, helpers.events, helpers.s3
import local_archive
print("ok", sorted(helpers.__all__)[:3])
"""


def test_import_makes_no_network_call():
    done = subprocess.run([sys.executable, "-c", GUARDED_IMPORT], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok ['CloudAccessError', 'CloudLocation', 'LZWError']")


def test_tutorial_code_never_imports_the_local_archive():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "helpers"
    offenders = [
        str(path.relative_to(root))
        for path in root.glob("*.py")
        if "local_archive" in path.read_text()
    ]
    assert offenders == []
