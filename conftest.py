"""Top-level pytest set-up shared by the unit tests and the notebook runs.

astropy 8 silently falls back to ``~/.cache/astropy`` when its cache or config
directory does not exist, which would let a test pass on a file some earlier
run downloaded.  Every test session therefore gets fresh, existing astropy
cache and config directories, set before astropy is imported.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def pytest_configure(config):
    root = Path(tempfile.mkdtemp(prefix="astropy-session-"))
    for name in ("ASTROPY_CACHE_DIR", "ASTROPY_CONFIG_DIR"):
        path = root / name.split("_")[1].lower()
        path.mkdir(parents=True, exist_ok=True)
        os.environ[name] = str(path)
    # botocore must never ask the EC2 metadata service (a non-loopback address) for anything.
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
