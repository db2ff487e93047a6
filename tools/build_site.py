"""Build the tutorials' web site from the executed notebooks.

Usage: ``python tools/build_site.py [--executed _build/executed] [--out _build/html]``.
It assembles a Sphinx source folder in ``_build/site_src`` from ``docs/`` (configuration
and landing page), ``README.md`` (the landing page's text) and the executed copies of the
notebooks in ``notebooks/``, then runs ``sphinx-build -W`` (any warning, such as a broken
internal link, fails the build). ``tox -e buildhtml`` executes the notebooks first.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent


def _check_executed(path: Path) -> None:
    """Refuse a notebook that was not executed or that holds an error."""
    notebook = nbformat.read(path, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    unexecuted = [i for i, cell in enumerate(code) if cell.get("execution_count") is None]
    if unexecuted:
        raise SystemExit(f"{path}: code cells {unexecuted[:5]} were not executed; run tools/execute_notebooks.py")
    for i, cell in enumerate(code):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                raise SystemExit(f"{path}: code cell {i} raised {output.get('ename')}: {output.get('evalue')}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--executed", default="_build/executed", help="folder of executed .ipynb files")
    parser.add_argument("--out", default="_build/html")
    parser.add_argument("--src", default="_build/site_src", help="where to assemble the Sphinx sources")
    args = parser.parse_args(argv)

    executed = Path(args.executed)
    src = Path(args.src)
    if src.exists():
        shutil.rmtree(src)
    shutil.copytree(ROOT / "docs", src)
    shutil.copy2(ROOT / "README.md", src / "README.md")
    (src / "notebooks").mkdir()
    for source in sorted((ROOT / "notebooks").glob("*.md")):
        path = executed / f"{source.stem}.ipynb"
        if not path.exists():
            raise SystemExit(f"{path} is missing: execute the notebooks first "
                             f"(python -m local_archive run -- python tools/execute_notebooks.py notebooks)")
        _check_executed(path)
        shutil.copy2(path, src / "notebooks" / path.name)
        # The MyST source beside it (excluded from the build) lets links written for JupyterLab,
        # such as [the advanced tutorial](data_access_advanced.md), resolve to the rendered page.
        shutil.copy2(source, src / "notebooks" / source.name)

    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(src), args.out]
    print(" ".join(command))
    result = subprocess.run(command)
    if result.returncode == 0:
        print(f"site: {Path(args.out).resolve() / 'index.html'}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
