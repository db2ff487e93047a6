"""Conformance run: notebooks the archives' own teams wrote, unchanged, against the local archive.

Usage (what ``tox -e upstream`` runs)::

    python -m local_archive run -- python tools/run_upstream.py ../shared/upstream \\
        --out _build/upstream --floor 0.95

Every MyST notebook under the source folder (``code_src/`` folders excepted) is
copied with its folder into ``<out>/work/`` (the source may be read-only, and
notebooks write next to themselves) and runs there in a fresh ``python3`` kernel
whose working directory is the notebook's folder: every cell, errors allowed.
A code cell passes when it produces no error output.  Cells listed in
``tools/upstream_known_bugs.toml`` fail against the real archives as well; they are
left out of the count (so are empty cells, which run nothing), and a listed cell
that no longer exists is an error (the list must not go stale).  The run prints
cells ok / code cells per notebook and in total, writes ``<out>/summary.json`` and
the executed notebooks, and exits 1 when the share of passing cells is below
``--floor``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import tomllib  # Python 3.11+, as every tox environment here

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tools/notebook_client.py, however this file is run

KNOWN_BUGS = Path(__file__).with_name("upstream_known_bugs.toml")
# Seconds per cell; the slowest upstream cell reads a catalog for about a minute live.  A cell past it
# is interrupted and counted as failed, and the notebook goes on, so one stuck request cannot stall the run.
CELL_TIMEOUT = 300


@dataclass(frozen=True)
class KnownBug:
    notebook: str  # path relative to the source folder
    cell_starts: str  # the cell's source, stripped, starts with this
    reason: str


def load_known_bugs(path: Path | None = None) -> list[KnownBug]:
    """The listed upstream bugs (default ``tools/upstream_known_bugs.toml``): notebook, cell and reason each."""
    path = path or KNOWN_BUGS
    entries = tomllib.loads(path.read_text()).get("bug", [])
    bugs = []
    for number, entry in enumerate(entries, start=1):
        missing = {"notebook", "cell_starts", "reason"} - entry.keys()
        if missing:
            raise ValueError(f"{path}: entry {number} lacks {sorted(missing)}")
        bugs.append(KnownBug(entry["notebook"], entry["cell_starts"], entry["reason"]))
    return bugs


def find_notebooks(source: Path) -> list[Path]:
    """MyST notebooks under ``source``, the helper modules' folders (``code_src``) and READMEs excepted."""
    return sorted(path for path in source.rglob("*.md")
                  if path.name.lower() != "readme.md" and "code_src" not in path.relative_to(source).parts)


def _error_of(cell) -> dict | None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return {"ename": output.get("ename", ""), "evalue": str(output.get("evalue", ""))[:500]}
    return None


def run_notebook(path: Path, bugs: list[KnownBug], relative: str) -> dict:
    """Execute one notebook in its folder; the per-cell record of what passed."""
    import jupytext
    from notebook_client import NotebookClient  # nbclient's, with waits that cannot miss a reply

    notebook = jupytext.read(path)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    began = time.perf_counter()
    client = NotebookClient(notebook, kernel_name="python3", timeout=CELL_TIMEOUT, allow_errors=True,
                            interrupt_on_timeout=True, resources={"metadata": {"path": str(path.parent)}})
    stopped = None
    try:
        client.execute()
    except Exception as exc:  # a dead kernel or a cell past its timeout: the rest counts as failed
        stopped = f"{type(exc).__name__}: {str(exc).strip()[:300]}"
    seconds = time.perf_counter() - began
    jupytext.write(notebook, path.with_suffix(".ipynb"))

    mine = [bug for bug in bugs if bug.notebook == relative]
    cells, used = [], set()
    for index, cell in enumerate(c for c in notebook.cells if c.cell_type == "code"):
        source = cell.source.strip()
        bug = next((b for b in mine if source.startswith(b.cell_starts)), None)
        if bug is not None:
            used.add(bug)
        error = _error_of(cell)
        if error is None and source and cell.get("execution_count") is None:  # the run stopped before it
            error = {"ename": "NotExecuted", "evalue": stopped or ""}
        cells.append({"index": index, "first_line": source.splitlines()[0][:120] if source else "",
                      "empty": not source, "ok": error is None, "error": error,
                      "known_bug": bug.reason if bug else None})
    stale = [bug.cell_starts for bug in mine if bug not in used]
    if stale:
        raise SystemExit(f"tools/upstream_known_bugs.toml lists cells that {relative} does not have: {stale}")
    # An empty cell runs nothing and tests nothing: it is not counted either way.
    counted = [cell for cell in cells if cell["known_bug"] is None and not cell["empty"]]
    return {"notebook": relative, "ok": sum(cell["ok"] for cell in counted), "counted": len(counted),
            "code_cells": len(cells), "known_bugs": sum(cell["known_bug"] is not None for cell in cells),
            "empty": sum(cell["empty"] for cell in cells), "seconds": round(seconds, 1),
            "stopped": stopped, "cells": cells}


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("astropy", "astroquery", "pyvo", "pyarrow", "s3fs", "fsspec", "pandas", "numpy"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="folder of upstream notebooks (e.g. ../shared/upstream)")
    parser.add_argument("--out", type=Path, default=Path("_build/upstream"))
    parser.add_argument("--floor", type=float, default=0.95, help="least share of counted cells that must pass")
    args = parser.parse_args(argv)

    if not args.source.is_dir():
        print(f"no folder of upstream notebooks at {args.source}", file=sys.stderr)
        return 2
    notebooks = find_notebooks(args.source)
    if not notebooks:
        print(f"no notebooks under {args.source}", file=sys.stderr)
        return 2
    bugs = load_known_bugs()
    names = {path.relative_to(args.source).as_posix() for path in notebooks}
    absent = sorted({bug.notebook for bug in bugs} - names)
    if absent:  # another folder of notebooks (the held-back ones): those entries do not apply
        print(f"note: {KNOWN_BUGS.name} entries for notebooks not under {args.source}: {absent}")
    work = args.out / "work"
    shutil.rmtree(work, ignore_errors=True)
    # Copy the whole tree: notebooks import their neighbours (code_src/) and read their requirement files.
    shutil.copytree(args.source, work, ignore=shutil.ignore_patterns("*.ipynb", "__pycache__"))
    for path in work.rglob("*"):
        path.chmod(path.stat().st_mode | 0o200)

    results = []
    for source_path in notebooks:
        relative = source_path.relative_to(args.source).as_posix()
        result = run_notebook(work / relative, bugs, relative)
        results.append(result)
        note = f", {result['known_bugs']} known upstream bug(s) not counted" if result["known_bugs"] else ""
        print(f"{relative}: {result['ok']}/{result['counted']} cells ok in {result['seconds']:.0f} s{note}", flush=True)
        for cell in result["cells"]:
            if not cell["ok"] and cell["known_bug"] is None:
                error = cell["error"]
                print(f"    cell {cell['index']}: {error['ename']}: {error['evalue'][:160]!r}  [{cell['first_line']}]")

    ok = sum(result["ok"] for result in results)
    counted = sum(result["counted"] for result in results)
    share = ok / counted if counted else 0.0
    summary = {"source": str(args.source), "ok": ok, "counted": counted, "share": round(share, 4),
               "floor": args.floor, "passed": share >= args.floor, "versions": _versions(), "notebooks": results}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(f"total: {ok}/{counted} code cells ok ({share:.1%}; floor {args.floor:.0%}); "
          f"summary in {args.out / 'summary.json'}")
    return 0 if share >= args.floor else 1


if __name__ == "__main__":
    sys.exit(main())
