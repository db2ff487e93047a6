"""Top-level pytest set-up: a clean astropy environment, and the notebook harness.

Notebooks are MyST markdown files in a folder named ``notebooks`` (``notebooks/``
and ``tests/notebooks/``).  Each is converted with jupytext and run cell by cell
by nbval (lax mode: cells must run without error; outputs are not compared) in a
kernel pointed at the local archive; a cell whose output shows a warning on stderr
fails too (a reader should not see one).  Each notebook is followed by one timing test that
fails when the notebook took longer than the budget in its front matter::

    tutorial:
      budget_seconds: {local: 300, live: 900}
      local_only: false   # true: skipped with --archive=live

``--archive=live`` runs them against the real archives instead (those items are
marked ``remote_data``, so they also need ``--remote-data=any``).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path

import pytest
from nbval.kernel import CURRENT_ENV_KERNEL_NAME, RunningKernel
from nbval.plugin import IPyNbCell, IPyNbFile

ROOT = Path(__file__).parent
_archive = None
_astropy_dirs: Path | None = None
_record_site: Path | None = None  # --record: where the live run's recording sitecustomize is written
_sigterm_handler = None


def pytest_addoption(parser):
    parser.addoption("--archive", choices=("local", "live"), default="local",
                     help="run notebooks against the local archive (default) or the live archives")
    parser.addoption("--site", default=None, metavar="DIR",
                     help="check the built web site in DIR (e.g. _build/html) in headless Chromium (tests/website)")
    parser.addoption("--record", default=None, metavar="DIR",
                     help="record every HTTP(S) exchange of this session and of the notebooks' kernels into DIR "
                          "(local_archive.recording: one vcrpy cassette per process), e.g. with --archive=live")
    parser.addoption("--replay", default=None, metavar="DIR",
                     help="the local archive answers the requests recorded in DIR as recorded, the rest from "
                          "its generated holdings (local_archive.replay)")


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def pytest_configure(config):
    # SIGTERM (kill, a CI runner's cancel) ends the session as Ctrl-C does: pytest tears down, so the
    # kernels and the local archive stop and the session's temporary folders go (by default the process
    # would die on the spot and leave them all).
    global _sigterm_handler
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        _sigterm_handler = signal.signal(signal.SIGTERM, _interrupt)
    # astropy 8 silently falls back to ~/.cache/astropy when these directories do not exist,
    # which would let a test pass on a file an earlier run downloaded.  Set before astropy loads.
    global _astropy_dirs
    root = _astropy_dirs = Path(tempfile.mkdtemp(prefix="astropy-session-"))
    for name in ("ASTROPY_CACHE_DIR", "ASTROPY_CONFIG_DIR"):
        path = root / name.split("_")[1].lower()
        path.mkdir(parents=True, exist_ok=True)
        os.environ[name] = str(path)
    # botocore must never ask the EC2 metadata service (a non-loopback address) for anything.
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    # Offline runs: any lookup of, or connection to, a non-loopback host from this process fails
    # loudly, naming the host (kernels get the same guard from the local archive's startup file).
    if config.getoption("remote_data", "none") == "none" and config.getoption("archive") == "local":
        from local_archive import redirect

        redirect.guard_sockets()
    # --record: this process records from now on; each notebook's kernel gets the same in MystNotebook.setup.
    global _record_site
    if config.getoption("record"):
        from local_archive import recording

        recording.install(config.getoption("record"))
        _record_site = Path(tempfile.mkdtemp(prefix="record-site-"))


def pytest_collect_file(parent, file_path):
    if file_path.suffix == ".md" and file_path.parent.name == "notebooks":
        return MystNotebook.from_parent(parent, path=file_path)
    return None


def pytest_collection_modifyitems(config, items):
    # The browser tests check a built site, and run the tutorials in JupyterLab (tox -e browser);
    # without --site they are deselected, not failed.
    if config.getoption("site") is None:
        kept, browser = [], []
        for item in items:
            (browser if item.path.name in ("test_browser.py", "test_jupyterlab.py") else kept).append(item)
        if browser:
            config.hook.pytest_deselected(items=browser)
            items[:] = kept


def pytest_terminal_summary(terminalreporter, config):
    """With --replay, how many answers came from the recording; with --record, where it went."""
    if config.getoption("record"):
        terminalreporter.write_line(f"recording: every HTTP(S) exchange of this session and its kernels in "
                                    f"{Path(config.getoption('record')).resolve()}, one cassette per process "
                                    "(compare: python -m local_archive diff DIR)")
    replay = _archive.replay if _archive is not None else None
    if replay is not None:
        terminalreporter.write_line(f"replay: {replay.served['recorded']} answers from the recording in "
                                    f"{replay.directory}, {replay.served['generated']} from the generated holdings")
        for missed in replay.missed[:10]:
            terminalreporter.write_line(f"  generated: {missed}")
        if len(replay.missed) > 10:
            terminalreporter.write_line(f"  ... and {len(replay.missed) - 10} more")


def pytest_sessionfinish(session):
    if _archive is not None:
        _archive.stop()  # removes its local-archive-* folder too


def pytest_unconfigure(config):
    # The session's astropy folders go with it, or every run would leave one in /tmp.
    if _astropy_dirs is not None:
        shutil.rmtree(_astropy_dirs, ignore_errors=True)
    if _record_site is not None:
        from local_archive import recording

        recording.uninstall()  # writes this process's cassette
        shutil.rmtree(_record_site, ignore_errors=True)
    if _sigterm_handler is not None:
        signal.signal(signal.SIGTERM, _sigterm_handler)


@pytest.fixture(scope="session")
def local_archive(request):
    """The session's local archive (the one the notebooks run against), registry in production order."""
    return _local_archive(request.config)


def _local_archive(config):
    """The session's one local archive, started on first use: the notebooks' and tests/local_archive's."""
    global _archive
    if _archive is None:
        from local_archive import LocalArchive

        # A first run generates the holdings (build_holdings prints a line per product family): past
        # pytest's capture, or the session would sit silent for that long.
        capture = config.pluginmanager.getplugin("capturemanager")
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            # Tests measure bytes and requests, not waits: no latency (each notebook gets the in-region link).
            replay = config.getoption("replay")
            _archive = LocalArchive(latency=0.0, bandwidth=None, replay=Path(replay) if replay else None).start()
    return _archive


class MystNotebook(pytest.File):
    """A MyST notebook: its cells (through nbval), then its timing budget."""

    def collect(self):
        import jupytext

        notebook = jupytext.read(self.path)
        code_cells = [c for c in notebook.cells if c.cell_type == "code"]
        kernel = notebook.metadata.get("kernelspec", {}).get("name")
        if not code_cells:
            raise pytest.fail(f"{self.path} has no code cells: use ```{{code-cell}} ipython3 fences", pytrace=False)
        if kernel != "python3":
            raise pytest.fail(f"{self.path} needs a kernelspec named python3 (found {kernel!r})", pytrace=False)
        settings = notebook.metadata.get("tutorial", {})
        budget = settings.get("budget_seconds", {})
        mode = self.config.getoption("archive")
        if mode == "live" and settings.get("local_only"):
            return  # checks of the local archive itself, meaningless against the live archives
        if mode not in budget:
            raise pytest.fail(f"{self.path} declares no tutorial.budget_seconds.{mode} in its front matter",
                              pytrace=False)
        build = ROOT / "_build" / "nbval"
        build.mkdir(parents=True, exist_ok=True)
        ipynb = build / f"{self.path.stem}.ipynb"
        jupytext.write(notebook, ipynb)

        cells = _NotebookCells.from_parent(self, path=ipynb, nodeid=f"{self.nodeid}::cells")
        cells.workdir = self.path.parent
        cells.compare_outputs = False  # nbval's lax mode
        self.cell_count = 0
        for item in cells.collect():
            self.cell_count += 1
            if mode == "live":
                item.add_marker(pytest.mark.remote_data)
            yield item
        timing = NotebookBudget.from_parent(self, name="time budget", budget=float(budget[mode]))
        if mode == "live":
            timing.add_marker(pytest.mark.remote_data)
        yield timing

    def setup(self):
        self._saved = dict(os.environ)
        self.cells_run = self.cells_failed = 0  # counted by _CheckedCell: the budget needs all run and passed
        record = self.config.getoption("record")
        if record:
            from local_archive import recording
        if record and self.config.getoption("archive") == "live":  # the kernels record what the archives answer
            os.environ.update(recording.environment(record, site=_record_site))
        if self.config.getoption("archive") == "local":
            archive = _local_archive(self.config)
            os.environ.update(archive.environment())
            if record:  # the archive's own sitecustomize installs the recorder when this is set
                os.environ.update(recording.environment(record))
            # The archive is shared with tests/local_archive, which expect the production order: for the
            # notebooks the registry answers the other way round, since RegTAP promises no order and a
            # tutorial must choose a service by what it is (its ivoid), never by its place in the list.
            archive.registry_order = "reversed"
            # No fault a test injected and left unused reaches a notebook; a link a notebook sets is undone.
            archive.s3.clear_faults()
            archive.http.clear_faults()
            self._link = archive.s3.latency, archive.s3.bandwidth
            # The tutorials run through the link an in-region reader has, so their timings mean what they say.
            from local_archive.archive import IN_REGION_BANDWIDTH, IN_REGION_LATENCY

            archive.s3.latency, archive.s3.bandwidth = IN_REGION_LATENCY, IN_REGION_BANDWIDTH
        self.started = time.perf_counter()  # the kernel starts next; its start-up counts

    def teardown(self):
        os.environ.clear()
        os.environ.update(self._saved)
        if self.config.getoption("archive") == "local":
            archive = _local_archive(self.config)
            archive.registry_order = "production"
            archive.s3.latency, archive.s3.bandwidth = self._link


class _NotebookCells(IPyNbFile):
    """nbval's notebook collector, with the kernel started in the MyST file's folder."""

    workdir: Path

    def collect(self):
        for cell in super().collect():
            # nbval builds its own item class; hooks in this conftest do not reach items whose path is
            # under _build/, so the stderr check lives in a subclass.
            cell.__class__ = _CheckedCell
            yield cell

    def setup(self):
        # A kernel that fails to start errors every cell; none of them runs, and the budget says so.
        self.kernel = RunningKernel(CURRENT_ENV_KERNEL_NAME, cwd=str(self.workdir),
                                    startup_timeout=self.config.option.nbval_kernel_startup_timeout)
        self.setup_sanitize_files()

    def teardown(self):
        # nbval kills the kernel (shutdown_kernel(now=True)): no exit handlers run, and a recording kernel
        # would lose its last second of exchanges (local_archive.recording writes at most once a second,
        # and at exit).  When recording, it is asked to shut down as Jupyter does, and its cassette is written.
        kernel = getattr(self, "kernel", None)
        if self.config.getoption("record") and kernel is not None and kernel.is_alive():
            kernel.kc.stop_channels()
            kernel.km.shutdown_kernel(now=False)
        super().teardown()


# Python's and astropy's warning formats; a progress bar (tqdm also writes to stderr) is not a warning.
_WARNING = re.compile(r"\b\w*Warning\b|^WARNING\b", re.MULTILINE)


class _CheckedCell(IPyNbCell):
    """An nbval cell that also fails when its output shows a warning on stderr."""

    def runtest(self):
        notebook = self.parent.parent
        notebook.cells_run += 1
        try:
            super().runtest()
            stderr = "".join(out.get("text", "") for out in self.test_outputs or ()
                             if out.get("output_type") == "stream" and out.get("name") == "stderr")
            if _WARNING.search(stderr):
                raise AssertionError("the cell printed a warning on stderr (fix its cause, or filter that one "
                                     f"warning where it arises, with a comment):\n{stderr.strip()}")
        except pytest.skip.Exception:
            raise
        except BaseException:
            notebook.cells_failed += 1
            raise


class NotebookBudget(pytest.Item):
    """Fails when the notebook's cells (with kernel start-up) took longer than its budget.

    Skipped, with the reason, when not every cell ran and passed: a notebook that stopped early
    takes less time, and a pass would hide the regression.
    """

    def __init__(self, *, budget: float, **kwargs):
        super().__init__(**kwargs)
        self.budget = budget

    def runtest(self):
        spent = time.perf_counter() - self.parent.started
        notebook, total = self.parent, self.parent.cell_count
        if notebook.cells_failed:
            pytest.skip(f"{notebook.nodeid}: {notebook.cells_failed} of {total} cells failed: the time "
                        f"({spent:.0f} s) is not comparable with the budget of {self.budget:.0f} s")
        if notebook.cells_run < total:
            pytest.skip(f"{notebook.nodeid}: {total - notebook.cells_run} of {total} cells did not run: the time "
                        f"({spent:.0f} s) is not comparable with the budget of {self.budget:.0f} s")
        self.user_properties.append(("notebook_seconds", round(spent, 1)))
        print(f"{self.parent.nodeid}: {spent:.1f} s (budget {self.budget:.0f} s)")
        if spent > self.budget:
            raise AssertionError(f"{self.parent.nodeid} took {spent:.0f} s, over its budget of {self.budget:.0f} s")

    def reportinfo(self):
        return self.path, None, f"{self.path.name}: time budget {self.budget:.0f} s"
