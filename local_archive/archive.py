"""The local archive: every archive service and bucket the tutorials use, on 127.0.0.1."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from . import redirect
from .data import Product, build_holdings
from .files import FileTree
from .heasarc import HeasarcChandra, heasarc_tap
from .httpserver import LoopbackHTTPServer
from .irsa import IrsaSia
from .irsa_sia2 import IrsaSia2
from .mast import MastPortal
from .names import register_names
from .registry import obscore_service, registry_service
from .s3server import S3Server

__all__ = ["LocalArchive", "BUCKET_REGIONS"]

BUCKET_REGIONS = {"nasa-irsa-wise": "us-west-2", "stpubdata": "us-east-1", "nasa-heasarc": "us-east-1"}

# Run in every kernel (through IPYTHONDIR) so notebooks reach the local archive unchanged.
STARTUP = '''\
import os as _os
if _os.environ.get("LOCAL_ARCHIVE_URL"):
    from local_archive import redirect as _redirect
    _redirect.install(_os.environ["LOCAL_ARCHIVE_URL"])
    _redirect.guard_sockets()
    del _redirect
del _os
'''


class LocalArchive:
    """Start the S3 server and the HTTP services over the generated holdings.

    Examples
    --------
    >>> with LocalArchive() as archive:          # doctest: +SKIP
    ...     env = archive.environment()           # export these for a kernel or a shell
    """

    def __init__(self, cache: Path | None = None, *, latency: float = 0.0, bandwidth: float | None = None):
        self._cache = cache
        self.s3 = S3Server(latency=latency, bandwidth=bandwidth)
        self.http = LoopbackHTTPServer()
        self.products: list[Product] = []
        self.startup_seconds = 0.0
        self._workdir: Path | None = None

    def start(self) -> LocalArchive:
        began = time.perf_counter()
        self.products = build_holdings(self._cache)
        self.s3.start()
        for bucket, region in BUCKET_REGIONS.items():
            self.s3.create_bucket(bucket, region)
        for product in self.products:
            self.s3.put_file(product.bucket, product.key, product.path, product.content_type)
        self.http.start()
        services = (IrsaSia(self.products), IrsaSia2(self.products), HeasarcChandra(self.products),
                    MastPortal(self.products), registry_service(), obscore_service(self.products),
                    heasarc_tap(self.products), FileTree(self.products))
        for service in services:
            service.register(self.http)
        register_names(self.http)
        self.s3.reset_stats()
        self.startup_seconds = time.perf_counter() - began
        return self

    def stop(self) -> None:
        self.http.stop()
        self.s3.stop()

    def __enter__(self) -> LocalArchive:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def environment(self) -> dict[str, str]:
        """Variables that point a process (and the kernels it starts) at this archive.

        Includes an ``IPYTHONDIR`` whose startup file installs the URL rewriting and
        the socket guard, and fresh, existing astropy cache and config directories.
        """
        if self._workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix="local-archive-"))
            startup = self._workdir / "ipython" / "profile_default" / "startup"
            startup.mkdir(parents=True)
            (startup / "00-local-archive.py").write_text(STARTUP)
            for name in ("astropy-cache", "astropy-config"):
                (self._workdir / name).mkdir()
        return {
            "LOCAL_ARCHIVE_URL": self.http.base_url,
            "AWS_ENDPOINT_URL_S3": self.s3.endpoint,
            "AWS_EC2_METADATA_DISABLED": "true",
            "IPYTHONDIR": str(self._workdir / "ipython"),
            "ASTROPY_CACHE_DIR": str(self._workdir / "astropy-cache"),
            "ASTROPY_CONFIG_DIR": str(self._workdir / "astropy-config"),
        }

    def activate(self) -> None:
        """Point this process at the archive: environment, URL rewriting and socket guard."""
        os.environ.update(self.environment())
        redirect.install(self.http.base_url)
