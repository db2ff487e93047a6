"""Execute the tutorials and build their web site from the executed copies.

Usage: ``python tools/build_site.py [--archive local|live] [--no-execute] [--executed _build/executed]
[--out _build/html]`` (``tox -e buildhtml [-- --archive=live]``).
First it executes ``notebooks/`` with tools/execute_notebooks.py into ``--executed``:
against the local archive (``--archive=local``, the default; each page then opens
with a notice saying so, and each figure is labelled synthetic) or the real archives
(``--archive=live``; no marks). ``--no-execute`` takes the executed copies as they are.
Then it assembles a Sphinx source folder in ``_build/site_src`` from ``docs/``
(configuration and landing page), ``README.md`` (the landing page's text) and the
executed copies, and runs ``sphinx-build -W`` (any warning, such as a broken internal
link, fails the build). A copy executed against the other archive than ``--archive``
names is refused, so a site never mixes the two or drops the marks.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))  # tools/marks.py, however this file is run
import marks  # noqa: E402


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


def _check_archive(path: Path, archive: str) -> None:
    """Refuse a copy executed against another archive than ``archive`` (the notice tells them apart)."""
    marked = marks.has_notice(nbformat.read(path, as_version=4))
    if archive == "live" and marked:
        raise SystemExit(f"{path} was executed against the local archive, not the real archives: "
                         "execute it with --archive=live (or leave out --no-execute)")
    if archive == "local" and not marked:
        raise SystemExit(f"{path} carries no local-archive notice: execute it with tools/execute_notebooks.py "
                         "--archive=local, or build with --archive=live if it ran against the real archives")


def _execute(executed: Path, archive: str) -> None:
    command = [sys.executable, str(ROOT / "tools" / "execute_notebooks.py"), str(ROOT / "notebooks"),
               "--out", str(executed), "--archive", archive]
    print(" ".join(command), flush=True)
    if subprocess.run(command).returncode != 0:
        raise SystemExit("executing the notebooks failed (see above); the site was not built")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--executed", default="_build/executed", help="folder of executed .ipynb files")
    parser.add_argument("--out", default="_build/html")
    parser.add_argument("--src", default="_build/site_src", help="where to assemble the Sphinx sources")
    parser.add_argument("--archive", choices=("local", "live"), default="local",
                        help="execute against the local archive (default; pages are marked) or the real archives")
    parser.add_argument("--no-execute", action="store_true",
                        help="build from the executed copies in --executed as they are")
    args = parser.parse_args(argv)

    executed = Path(args.executed)
    if not args.no_execute:
        _execute(executed, args.archive)
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
                             f"(python tools/execute_notebooks.py notebooks --archive={args.archive})")
        _check_executed(path)
        _check_archive(path, args.archive)
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
