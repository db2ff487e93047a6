"""The built web site, as a reader sees it in headless Chromium.

Run after ``tox -e buildhtml`` with ``pytest tests/website --site _build/html`` (``tox -e browser``).
The pages are served from 127.0.0.1; the browser may fetch nothing from anywhere else.
Screenshots of every page go to ``--site``'s parent folder, ``screenshots/``.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import nbformat
import pytest
from site_pages import TUTORIALS  # tests/website is on sys.path (rootdir-relative imports)

PAGES = ["index", *TUTORIALS]

# Chromium must not reach out on its own (updates, safe browsing, DNS prefetch): these
# flags, plus a resolver that knows no host, keep every connection on loopback.
_CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-default-apps",
    "--no-proxy-server", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]


def _chromium() -> str:
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        path = name and shutil.which(name)
        if path:
            return path
    pytest.fail("no Chromium found: install Debian's `chromium` package or set CHROMIUM=/path/to/chrome")


@pytest.fixture(scope="module")
def site(request) -> Path:
    # Without --site the root conftest deselects this module's tests.
    path = Path(request.config.getoption("--site"))
    if not (path / "index.html").exists():
        pytest.fail(f"{path}/index.html does not exist: build the site first with tox -e buildhtml")
    return path


@pytest.fixture(scope="module")
def screenshots(site: Path) -> Path:
    path = site.parent / "screenshots"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="module")
def base_url(site: Path):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@contextlib.contextmanager
def headless_chromium():
    """Chromium driven by playwright (skips when playwright is not installed); test_jupyterlab uses it too."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=_chromium(), args=_CHROMIUM_ARGS, timeout=60_000)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def browser(site: Path):
    with headless_chromium() as browser:
        yield browser


class Reader:
    """One browser tab, recording what a reader would not want to see."""

    def __init__(self, browser, base_url: str):
        self.base_url = base_url
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url.rstrip("/"))
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._only_loopback)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        self.page.on("console", lambda msg: msg.type == "error" and self.errors.append(f"console: {msg.text}"))

    def _only_loopback(self, route) -> None:
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def open(self, page: str):
        response = self.page.goto(self.base_url + page + ".html", wait_until="load")
        assert response is not None and response.status == 200, f"{page}.html: {response and response.status}"
        return self.page


@pytest.fixture
def reader(browser, base_url):
    reader = Reader(browser, base_url)
    yield reader
    reader.context.close()


def _notebook(site: Path, page: str):
    # Sphinx keeps the source of each page; for a notebook, that is the executed .ipynb.
    return nbformat.read(site / "_sources" / f"{page}.ipynb", as_version=4)


def _figures_in(notebook) -> int:
    return sum("image/png" in output.get("data", {}) for cell in notebook.cells if cell.cell_type == "code"
               for output in cell.get("outputs", []))


@pytest.mark.parametrize("page", PAGES)
def test_page_loads_only_from_loopback_without_errors(reader, page, screenshots):
    view = reader.open(page)
    view.wait_for_load_state("networkidle")
    view.screenshot(path=str(screenshots / f"{page.replace('/', '_')}.png"), full_page=True)
    assert reader.outside == [], f"{page} asked for resources outside loopback: {reader.outside}"
    assert reader.errors == []
    assert (screenshots / f"{page.replace('/', '_')}.png").stat().st_size > 10_000


@pytest.mark.parametrize("page", TUTORIALS)
def test_every_figure_is_present_and_loaded(reader, site, page):
    expected = _figures_in(_notebook(site, page))
    assert expected > 0, f"{page} has no figures in its executed notebook"
    view = reader.open(page)
    images = view.locator("div.cell_output img")
    assert images.count() == expected
    for i in range(expected):
        image = images.nth(i)
        image.scroll_into_view_if_needed()
        view.wait_for_function("img => img.complete", arg=image.element_handle())
        width, height = image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
        assert width > 0 and height > 0, f"figure {i} of {page} did not load: {image.get_attribute('src')}"


@pytest.mark.parametrize("page", TUTORIALS)
def test_no_cell_shows_an_error(reader, site, page):
    notebook = _notebook(site, page)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    view = reader.open(page)
    assert view.locator("div.cell").count() == len(code_cells)
    assert view.locator("div.output.traceback, div.output.error").count() == 0
    outputs = "\n".join(view.locator("div.cell_output").all_inner_texts())
    assert "Traceback (most recent call last)" not in outputs
    raised = re.findall(r"^\w*(?:Error|Exception): .*$", outputs, flags=re.MULTILINE)
    assert raised == [], f"{page} shows {raised}"


def test_collapsed_sections_expand_on_click(reader, screenshots):
    view = reader.open(TUTORIALS[0])
    dropdown = view.locator("details.sd-dropdown").first
    body = dropdown.locator(".sd-summary-content")
    assert dropdown.get_attribute("open") is None
    assert not body.is_visible()
    dropdown.locator("summary").click()
    body.wait_for(state="visible")
    assert "ObsTAP" in body.inner_text()
    # The code cells of the alternative method are hidden too, behind a "Show code cell content" toggle.
    hidden = view.locator("div.tag_hide-cell details")
    assert hidden.count() > 0
    first = hidden.first
    assert not first.locator("div.cell_input").is_visible()
    first.locator("summary").click()
    first.locator("div.cell_input").wait_for(state="visible")
    assert "regsearch" in first.locator("div.cell_input").inner_text()
    dropdown.screenshot(path=str(screenshots / "data_access_dropdown_expanded.png"))


def test_copy_button_copies_the_code(reader, site):
    view = reader.open(TUTORIALS[0])
    cell = view.locator("div.cell:not(.tag_hide-cell) div.cell_input").first
    cell.hover()
    button = cell.locator("button.copybtn")
    button.click()
    copied = view.evaluate("navigator.clipboard.readText()")
    code = [cell for cell in _notebook(site, TUTORIALS[0]).cells if cell.cell_type == "code"]
    first_shown = next(cell.source for cell in code if "hide-cell" not in cell.metadata.get("tags", []))
    assert copied.strip() == first_shown.strip()
    assert view.locator("button.copybtn").count() >= len(code)


def _title(notebook) -> str:
    # The first markdown cell after the local archive's notice (tools/marks.py), which has no title.
    first = next(cell.source for cell in notebook.cells
                 if cell.cell_type == "markdown" and "archive-notice" not in cell.metadata.get("tags", []))
    return re.search(r"^# (.+)$", first, flags=re.MULTILINE).group(1).strip()


def test_navigation_between_the_tutorials(reader, site):
    view = reader.open("index")
    titles = [title.strip() for title in view.locator("nav.bd-docs-nav a").all_inner_texts()]
    assert titles == [_title(_notebook(site, page)) for page in TUTORIALS]
    view.locator("a.right-next").click()
    view.wait_for_url(re.compile(r"notebooks/data_access\.html"))
    view.locator("a.right-next").click()
    view.wait_for_url(re.compile(r"notebooks/data_access_advanced\.html"))
    view.locator("a.left-prev").click()
    view.wait_for_url(re.compile(r"notebooks/data_access\.html"))


def test_internal_links_resolve(reader, base_url):
    checked: dict[str, str] = {}
    missing = []
    for page in PAGES:
        view = reader.open(page)
        hrefs = view.eval_on_selector_all("article a[href], nav a[href]", "links => links.map(a => a.href)")
        for href in hrefs:
            if not href.startswith(base_url):
                continue
            url, fragment = urldefrag(href)
            if url not in checked:
                response = reader.context.request.get(url)
                checked[url] = response.text() if response.status == 200 else ""
                if response.status != 200:
                    missing.append(f"{page}: {href} -> HTTP {response.status}")
            if fragment and checked[url] and f'id="{fragment}"' not in checked[url]:
                missing.append(f"{page}: {href} -> no element with id {fragment!r}")
    assert missing == []
    assert urljoin(base_url, "notebooks/data_access_advanced.html") in checked

