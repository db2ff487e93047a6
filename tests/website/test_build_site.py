"""tools/build_site.py refuses notebooks that would put an unexecuted or failed cell on the site,
or mix copies run against the local archive and the real archives; a built site says which it was.

The last test checks a built site (``--site _build/html``, as ``tox -e browser`` passes; add
``--archive=live`` for a site built with ``tox -e buildhtml -- --archive=live``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import pytest
from site_pages import ROOT, TUTORIALS

_spec = importlib.util.spec_from_file_location("build_site", ROOT / "tools" / "build_site.py")
build_site = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_site)
marks = build_site.marks  # tools/marks.py, as the builder imported it


def _notebook(tmp_path: Path, *cells) -> Path:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title"), *cells])
    path = tmp_path / "nb.ipynb"
    nbformat.write(notebook, path)
    return path


def test_an_executed_notebook_passes(tmp_path):
    cell = nbformat.v4.new_code_cell("1 + 1", execution_count=1,
                                     outputs=[nbformat.v4.new_output("execute_result", {"text/plain": "2"},
                                                                     execution_count=1)])
    build_site._check_executed(_notebook(tmp_path, cell))


def test_an_unexecuted_cell_is_refused_by_number(tmp_path):
    done = nbformat.v4.new_code_cell("a = 1", execution_count=1)
    path = _notebook(tmp_path, done, nbformat.v4.new_code_cell("b = 2"))
    with pytest.raises(SystemExit, match=r"nb.ipynb: code cells \[1\] were not executed"):
        build_site._check_executed(path)


def test_an_error_output_is_refused_naming_the_exception(tmp_path):
    error = nbformat.v4.new_output("error", ename="CloudAccessError", evalue="S3 refused s3://b/k", traceback=[])
    path = _notebook(tmp_path, nbformat.v4.new_code_cell("x", execution_count=1, outputs=[error]))
    with pytest.raises(SystemExit, match=r"code cell 0 raised CloudAccessError: S3 refused s3://b/k"):
        build_site._check_executed(path)


def test_a_missing_executed_notebook_says_how_to_make_it(tmp_path):
    with pytest.raises(SystemExit, match=r"data_access.ipynb is missing: execute the notebooks first"):
        build_site.main(["--no-execute", "--executed", str(tmp_path / "none"), "--src", str(tmp_path / "src"),
                         "--out", str(tmp_path / "html")])


def test_a_copy_run_against_the_local_archive_is_refused_for_the_live_site(tmp_path):
    path = _notebook(tmp_path, marks.notice_cell())
    build_site._check_archive(path, "local")
    with pytest.raises(SystemExit, match=r"nb.ipynb was executed against the local archive, not the real archives"):
        build_site._check_archive(path, "live")


def test_a_copy_without_the_notice_is_refused_for_the_local_site(tmp_path):
    path = _notebook(tmp_path)
    build_site._check_archive(path, "live")
    with pytest.raises(SystemExit, match=r"nb.ipynb carries no local-archive notice"):
        build_site._check_archive(path, "local")


def _figure_metadata(notebook) -> list[dict]:
    return [output.get("metadata", {}) for cell in notebook.cells for output in cell.get("outputs", [])
            if "image/png" in output.get("data", {})]


@pytest.mark.parametrize("page", TUTORIALS)
def test_built_pages_say_which_archive_they_were_executed_against(request, page):
    site = request.config.getoption("--site")
    if site is None:
        pytest.skip("checks a built site: pass --site _build/html (tox -e browser)")
    html = (Path(site) / f"{page}.html").read_text()
    notebook = nbformat.read(Path(site) / "_sources" / f"{page}.ipynb", as_version=4)
    figures = _figure_metadata(notebook)
    sentence = "This copy was executed against the local archive, not against the real archives."
    if request.config.getoption("archive") == "live":
        assert sentence not in html
        assert not marks.has_notice(notebook)
        assert [meta.get("archive") for meta in figures] == [None] * len(figures)
        return
    # The notice, as a warning box, comes before the page's title (its first <section>).
    assert f'<div class="admonition warning">\n<p class="admonition-title">Warning</p>\n<p><strong>{sentence}' in html
    assert html.index(sentence) < html.index("<section")
    assert "run <code" in html and "--archive=live" in html
    assert notebook.cells[0].metadata["tags"] == [marks.NOTICE_TAG]
    assert [meta.get("archive") for meta in figures] == ["local"] * len(figures)
