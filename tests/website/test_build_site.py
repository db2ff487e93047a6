"""tools/build_site.py refuses notebooks that would put an unexecuted or failed cell on the site."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import pytest
from site_pages import ROOT

_spec = importlib.util.spec_from_file_location("build_site", ROOT / "tools" / "build_site.py")
build_site = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_site)


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
        build_site.main(["--executed", str(tmp_path / "none"), "--src", str(tmp_path / "src"),
                         "--out", str(tmp_path / "html")])
