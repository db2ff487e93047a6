"""The tutorials run in JupyterLab as a reader runs them, against the local archive, without an error.

A copy of ``notebooks/`` (with ``requirements_data_access.txt`` and ``jupytext.toml``, as in a clone)
is served by JupyterLab on 127.0.0.1, with the local archive's environment so that its kernels
read from the local archive.  In headless Chromium each tutorial's ``.md`` file is opened the way
jupytext's documentation tells a reader to: right click in the file browser, **Open With → Jupytext
Notebook** (jupytext keeps the text editor as the default viewer of ``.md`` files).  Then **Run → Run
All Cells**; when every code cell has an execution count and the kernel is idle, the cells' outputs are
read from the notebook model: none may be an error, and none may show a warning on stderr (a
progress bar, which tqdm writes to stderr when ipywidgets is not installed, is not one; the same rule
as the notebook harness in conftest.py).

Runs with ``tox -e browser`` (``--site`` given), always against the local archive (``--archive=live``
too); screenshots go to ``--site``'s parent folder, ``screenshots/jupyterlab_*.png``.  Measured
2026-11-25: about 30 s to start the archive (cache warm) and JupyterLab, then 10-30 s per tutorial.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from jupyterlab_session import NOTEBOOK_STATE, SCROLL_TO_CELL, JupyterLab  # tests/website is on sys.path
from site_pages import ROOT, TUTORIALS
from test_browser import headless_chromium

# What a reader's clone has next to the notebooks: the requirements the install cell names, and
# the jupytext configuration (pairing with .ipynb), so JupyterLab behaves as it does in a clone.
_CLONE_FILES = ("requirements_data_access.txt", "jupytext.toml")
_RUN_TIMEOUT = 15 * 60  # seconds per tutorial, kernel start included; they take 1.5-3 minutes
_POLL = 2.0


@pytest.fixture(scope="module")
def screenshots(request) -> Path:
    site = request.config.getoption("--site")
    if site is None:
        # The browser tests run with --site (tox -e browser); the tox -e test run has no playwright.
        pytest.skip("JupyterLab in headless Chromium runs with --site (tox -e browser)")
    path = Path(site).parent / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def workdir(screenshots):
    path = Path(tempfile.mkdtemp(prefix="jupyterlab-test-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def lab_root(workdir) -> Path:
    """A copy of the repository's reader-facing files: saves and pairing never write into the checkout."""
    root = workdir / "clone"
    shutil.copytree(ROOT / "notebooks", root / "notebooks",
                    ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints", "__pycache__"))
    for name in _CLONE_FILES:
        shutil.copy2(ROOT / name, root / name)
    return root


@pytest.fixture(scope="module")
def archive(screenshots):
    from local_archive import LocalArchive

    archive = LocalArchive().start()
    yield archive
    archive.stop()


@pytest.fixture(scope="module")
def lab(lab_root, workdir, archive):
    server_dir = workdir / "server"
    server_dir.mkdir()
    # The archive's environment: every Python process the server starts, kernels and their Dask
    # workers included, reads from the archive and refuses to leave loopback.
    server = JupyterLab(lab_root, server_dir, archive.environment()).start()
    yield server
    killed = server.stop()
    assert killed == [], f"processes left running after JupyterLab stopped, killed: {killed}"


@pytest.fixture(scope="module")
def browser(screenshots):
    with headless_chromium() as browser:
        yield browser


class LabReader:
    """One JupyterLab tab, recording any request that would leave loopback."""

    def __init__(self, browser, lab: JupyterLab):
        self.lab = lab
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.outside: list[str] = []
        self.console: list[str] = []  # why an extension did not load, when a menu item is missing
        self.context.route("**/*", self._only_loopback)
        self.page = self.context.new_page()
        self.page.set_default_timeout(60_000)
        self.page.on("pageerror", lambda exc: self.console.append(f"page error: {exc}"))
        self.page.on("console", lambda msg: msg.type == "error" and self.console.append(f"console: {msg.text}"))

    def _only_loopback(self, route) -> None:
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def open_as_notebook(self, path: str) -> None:
        """Right click ``path`` in the file browser, Open With → Jupytext Notebook."""
        folder, _, name = path.rpartition("/")
        self.page.goto(self.lab.url(f"lab/tree/{folder}"), wait_until="load")
        self.page.wait_for_function("() => window.jupyterapp && window.jupyterapp.started")
        listing = self.page.locator(".jp-DirListing-content")
        item = listing.locator(".jp-DirListing-item").filter(
            has=self.page.locator(".jp-DirListing-itemText").get_by_text(name, exact=True))
        item.click(button="right")
        menu = self.page.locator(".lm-Menu")
        menu.locator(".lm-Menu-item").filter(has_text=re.compile(r"^Open With$")).hover()
        choice = menu.locator(".lm-Menu-item").filter(has_text=re.compile(r"^Jupytext Notebook$"))
        try:
            choice.wait_for(state="visible", timeout=30_000)
        except Exception as exc:  # playwright's TimeoutError; playwright is imported only in tox -e browser
            offered = menu.locator(".lm-Menu-itemLabel").all_inner_texts()
            raise AssertionError(f"{path}: Open With offers {offered}, no Jupytext Notebook (is jupytext's "
                                 f"JupyterLab extension loaded?)\n" + "\n".join(self.console[-10:])) from exc
        choice.click()
        self.page.wait_for_function(
            "path => { const w = window.jupyterapp.shell.currentWidget;"
            " return w && w.context && w.context.path === path && w.content && w.content.model"
            " && w.sessionContext && w.sessionContext.isReady; }",
            arg=path, timeout=120_000)

    def run_all_cells(self) -> None:
        """Run → Run All Cells, from the menu bar."""
        self.page.locator(".lm-MenuBar-item").filter(has_text=re.compile(r"^Run$")).click()
        self.page.locator(".lm-Menu .lm-Menu-item").filter(has_text=re.compile(r"^Run All Cells")).click()

    def state(self) -> dict:
        return self.page.evaluate(NOTEBOOK_STATE)

    def wait_until_run(self, path: str, timeout: float) -> dict:
        """The notebook's state once every code cell ran, or once the run stopped at an error."""
        deadline = time.monotonic() + timeout
        idle_since = None
        while True:
            state = self.state()
            cells = state["cells"]
            running = [cell for cell in cells if cell["state"] == "running"]
            pending = [cell for cell in cells if cell["count"] is None]
            if state["kernel"] == "dead":
                raise AssertionError(f"{path}: the kernel died; cells not run: {_names(pending)}\n"
                                     f"{self.lab.log_tail()}")
            if state["kernel"] == "idle" and not running:
                if not pending or _errors(cells):
                    return state  # all ran, or the run stopped at the error to report
                # Idle with cells not run and no error: give the queue a moment, then call it stuck.
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since > 60:
                    raise AssertionError(f"{path}: the kernel is idle but these cells never ran: {_names(pending)}")
            else:
                idle_since = None
            if time.monotonic() > deadline:
                where = running or pending
                raise AssertionError(f"{path}: not finished after {timeout / 60:.0f} min; still running or "
                                     f"waiting: {_names(where)}\n{self.lab.log_tail()}")
            time.sleep(_POLL)

    def shut_down_kernel(self) -> None:
        self.page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")


def _names(cells: list[dict], most: int = 3) -> str:
    """Code cells by number and first line, as the reader sees them."""
    if not cells:
        return "none"
    shown = [f"code cell {cell['index']} ({(cell['source'].strip().splitlines() or [''])[0][:80]!r})"
             for cell in cells[:most]]
    return ", ".join(shown) + (f" and {len(cells) - most} more" if len(cells) > most else "")


def _errors(cells: list[dict]) -> list[str]:
    return [f"code cell {cell['index']} raised {output['ename']}: {output['evalue']}"
            for cell in cells for output in cell["outputs"] if output["type"] == "error"]


# Python's and astropy's warning formats, as conftest.py's notebook harness matches them.
_WARNING = re.compile(r"\b\w*Warning\b|^WARNING\b", re.MULTILINE)


def _stderr(cells: list[dict]) -> list[str]:
    return [f"code cell {cell['index']}: {output['text'].strip()}"
            for cell in cells for output in cell["outputs"]
            if output["type"] == "stream" and output["name"] == "stderr"]


def _warnings(cells: list[dict]) -> list[str]:
    return [line for line in _stderr(cells) if _WARNING.search(line)]


@pytest.fixture
def reader(browser, lab):
    reader = LabReader(browser, lab)
    yield reader
    reader.context.close()


@pytest.mark.parametrize("page", TUTORIALS)
def test_the_tutorial_runs_in_jupyterlab_without_errors(reader, page, screenshots, request):
    path = f"{page}.md"
    began = time.perf_counter()
    reader.open_as_notebook(path)
    opened = reader.state()
    assert opened["kernelName"] == "python3", f"{path} opened with kernel {opened['kernelName']!r}"
    assert opened["cells"] and all(cell["count"] is None for cell in opened["cells"])
    reader.run_all_cells()
    state = reader.wait_until_run(path, _RUN_TIMEOUT)
    spent = time.perf_counter() - began
    failed = [cell for cell in state["cells"] if any(output["type"] == "error" for output in cell["outputs"])]
    if failed:  # the screenshot shows the first error rather than the notebook's end
        reader.page.evaluate(SCROLL_TO_CELL, failed[0]["position"])
        reader.page.wait_for_timeout(500)
    reader.page.screenshot(path=str(screenshots / f"jupyterlab_{page.replace('/', '_')}.png"))
    reader.shut_down_kernel()
    request.node.user_properties.append(("jupyterlab_seconds", round(spent, 1)))
    print(f"{path} in JupyterLab: {len(state['cells'])} code cells in {spent:.1f} s")
    for line in _stderr(state["cells"]):
        print(f"stderr in {path}: {line}")

    assert _errors(state["cells"]) == [], f"{path} in JupyterLab:\n" + "\n".join(_errors(state["cells"]))
    assert [cell for cell in state["cells"] if cell["count"] is None] == []
    assert _warnings(state["cells"]) == [], f"{path} warned on stderr:\n" + "\n".join(_warnings(state["cells"]))
    assert reader.outside == [], f"JupyterLab asked for resources outside loopback: {reader.outside}"
