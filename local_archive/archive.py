"""The local archive: every archive service and bucket the tutorials use, on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from . import redirect, startup
from .holdings import build_holdings
from .holdings.common import Product
from .httpserver import LoopbackHTTPServer
from .replay import Replay
from .s3server import S3Server
from .services.cosmos import CosmosAtlas
from .services.files import FileTree
from .services.heasarc import HeasarcChandra, heasarc_tap
from .services.heasarc_ssa import HeasarcSsa
from .services.irsa_sia import IrsaSia
from .services.irsa_sia2 import IrsaSia2
from .services.irsa_tap import IrsaTap
from .services.mast import MastPortal
from .services.names import register_names
from .services.registry import obscore_service, registry_service
from .services.s3_https import S3Https
from .services.skyview import SkyViewService
from .services.twomass import TwoMassAtlas

__all__ = ["LocalArchive", "BUCKET_REGIONS", "IN_REGION_LATENCY", "IN_REGION_BANDWIDTH"]

BUCKET_REGIONS = {  # where each public bucket lives (the Registry of Open Data on AWS)
    "nasa-irsa-wise": "us-west-2",
    "nasa-irsa-spitzer": "us-west-2",
    "stpubdata": "us-east-1",
    "nasa-heasarc": "us-east-1",
}

# The S3 link the archive serves through unless told otherwise: what a reader in the bucket's region
# sees, so that the tutorials' timings and comparisons mean what their text says (tests set 0).
# Latency: AWS's S3 performance guide says requests under 512 KB have "median latencies often in the tens
# of milliseconds" (Best Practices Design Patterns: Optimizing Amazon S3 Performance, "Timeouts and
# Retries for Latency-Sensitive Applications"): 20 ms per request.  Bandwidth: no per-connection figure
# is published; 50 MB/s per connection is the benchmark's figure (benchmarks/README.md), well inside
# EC2's 5 Gbit/s limit for one flow (Amazon EC2 User Guide, "Amazon EC2 instance network bandwidth").
IN_REGION_LATENCY = 0.020
IN_REGION_BANDWIDTH = 50e6

# Run in every kernel (through IPYTHONDIR).  sitecustomize (local_archive.startup) already does the
# same in every Python process; this covers a kernel whose start-up skips PYTHONPATH (python -E/-I).
STARTUP = '''\
from local_archive.startup import activate as _activate
_activate()
del _activate
'''


class LocalArchive:
    """Start the S3 server and the HTTP services over the generated holdings.

    Examples
    --------
    >>> with LocalArchive() as archive:          # doctest: +SKIP
    ...     env = archive.environment()           # export these for a kernel or a shell
    """

    def __init__(self, cache: Path | None = None, *, latency: float = IN_REGION_LATENCY,
                 bandwidth: float | None = IN_REGION_BANDWIDTH, registry_order: str = "production",
                 replay: Path | None = None):
        self._cache = cache
        self._registry_order = registry_order  # "reversed": RegTAP promises no order (registry_service)
        self._registry = None
        self.s3 = S3Server(latency=latency, bandwidth=bandwidth)
        self.http = LoopbackHTTPServer()
        self.products: list[Product] = []
        self.startup_seconds = 0.0
        self._workdir: Path | None = None
        self._replay = replay  # a recording folder answered first (local_archive.replay)

    def start(self) -> LocalArchive:
        try:
            return self._start()
        except BaseException:  # Ctrl-C or a failure half-way: stop what did start
            self.stop()
            raise

    def _start(self) -> LocalArchive:
        began = time.perf_counter()
        self.products = build_holdings(self._cache)
        self.s3.start()
        for bucket, region in BUCKET_REGIONS.items():
            self.s3.create_bucket(bucket, region)
        for product in self.products:
            self.s3.put_file(product.bucket, product.key, product.path, product.content_type)
        if self._replay is not None:  # replay hook: recorded answers in front of the services
            self.replay = self._replay
        self.http.start()
        self._registry = registry_service(self._registry_order)
        services = (
            IrsaSia(self.products),
            IrsaSia2(self.products),
            IrsaTap(self.products),
            HeasarcChandra(self.products),
            HeasarcSsa(self.products),
            heasarc_tap(self.products),
            MastPortal(self.products),
            obscore_service(self.products),
            self._registry,
            SkyViewService(),
            TwoMassAtlas(),
            CosmosAtlas(),
            FileTree(self.products),
            S3Https(self.s3.endpoint, BUCKET_REGIONS),
        )
        for service in services:
            service.register(self.http)
        register_names(self.http)
        self.s3.reset_stats()
        self.startup_seconds = time.perf_counter() - began
        return self

    @property
    def registry_order(self) -> str:
        """RegTAP's order without ORDER BY: "production" or "reversed" (registry_service); settable while running."""
        return self._registry_order

    @registry_order.setter
    def registry_order(self, order: str) -> None:
        if order not in ("production", "reversed"):
            raise ValueError(f"registry order must be 'production' or 'reversed', got {order!r}")
        self._registry_order = order
        if self._registry is not None:
            self._registry.reverse = order == "reversed"

    @property
    def replay(self) -> Replay | None:
        """The recording answered first (:mod:`local_archive.replay`), or None; settable while running.

        Set a recording folder (or a :class:`~local_archive.replay.Replay`) to answer its recorded
        requests on both servers, the HTTP one and the S3 one, and None to answer from the generated
        holdings alone again.
        """
        return self.http.replay

    @replay.setter
    def replay(self, recording: Path | str | Replay | None) -> None:
        if recording is not None and not isinstance(recording, Replay):
            recording = Replay(recording)
        self.http.replay = self.s3.replay = recording

    def stop(self) -> None:
        """Stop both servers and remove the folder :meth:`environment` made."""
        try:
            self.http.stop()
            self.s3.stop()
        finally:
            if self._workdir is not None:
                shutil.rmtree(self._workdir, ignore_errors=True)
                self._workdir = None

    def __enter__(self) -> LocalArchive:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def environment(self) -> dict[str, str]:
        """Variables that point a process (and every Python process it starts) at this archive.

        ``PYTHONPATH`` starts with a folder whose ``sitecustomize.py`` installs the
        URL rewriting and the socket guard in every Python process, child
        processes and Dask workers included (:mod:`local_archive.startup`);
        ``IPYTHONDIR`` has a startup file doing the same for kernels; the astropy
        cache and config directories are fresh and exist.  All of it lives in one
        ``local-archive-*`` temporary folder that :meth:`stop` removes.
        """
        workdir = self._ensure_workdir()
        site = str(workdir / "python")
        # Keep whatever PYTHONPATH the caller had, behind ours (without ours twice when applied again).
        rest = [entry for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep) if entry and entry != site]
        return {
            "LOCAL_ARCHIVE_URL": self.http.base_url,
            "AWS_ENDPOINT_URL_S3": self.s3.endpoint,
            "AWS_EC2_METADATA_DISABLED": "true",
            "PYTHONPATH": os.pathsep.join([site, *rest]),
            "IPYTHONDIR": str(workdir / "ipython"),
            "ASTROPY_CACHE_DIR": str(workdir / "astropy-cache"),
            "ASTROPY_CONFIG_DIR": str(workdir / "astropy-config"),
        }

    @property
    def workdir(self) -> Path | None:
        """The temporary folder behind :meth:`environment`, until :meth:`stop` removes it."""
        return self._workdir

    def _ensure_workdir(self) -> Path:
        if self._workdir is None:
            workdir = Path(tempfile.mkdtemp(prefix="local-archive-"))
            ipython = workdir / "ipython" / "profile_default" / "startup"
            ipython.mkdir(parents=True)
            (ipython / "00-local-archive.py").write_text(STARTUP)
            startup.write_sitecustomize(workdir / "python")
            for name in ("astropy-cache", "astropy-config"):
                (workdir / name).mkdir()
            self._workdir = workdir
        return self._workdir

    def activate(self) -> None:
        """Point this process at the archive: environment, URL rewriting and socket guard.

        The processes it starts get the same from the environment (see :meth:`environment`).
        """
        os.environ.update(self.environment())
        redirect.install(self.http.base_url)
        redirect.guard_sockets()
