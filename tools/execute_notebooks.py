"""Execute the MyST notebooks and keep the executed copies (with their figures).

Usage: ``python tools/execute_notebooks.py [DIR_OR_FILE ...] [--out _build/executed]``.
Each notebook runs in a fresh ``python3`` kernel whose working directory is the
notebook's own folder; run it under ``python -m local_archive run --``
to use the local archive (that is what ``tox -e notebooks`` does).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    import jupytext
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("paths", nargs="*", default=["notebooks"])
    parser.add_argument("--out", default="_build/executed")
    args = parser.parse_args(argv)

    files = []
    for name in args.paths:
        path = Path(name)
        files.extend(sorted(path.glob("*.md")) if path.is_dir() else [path])
    if not files:
        print(f"no notebooks found in {args.paths}", file=sys.stderr)
        return 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    failed = []
    for path in files:
        notebook = jupytext.read(path)
        began = time.perf_counter()
        client = NotebookClient(notebook, kernel_name="python3", timeout=900,
                                resources={"metadata": {"path": str(path.parent)}})
        try:
            client.execute()
            status = "ok"
        except CellExecutionError as exc:
            failed.append(path)
            status = f"FAILED: {str(exc).strip().splitlines()[-1]}"
        target = out / f"{path.stem}.ipynb"
        jupytext.write(notebook, target)
        figures = sum(1 for cell in notebook.cells if cell.cell_type == "code"
                      for output in cell.get("outputs", []) if "image/png" in output.get("data", {}))
        print(f"{path}: {time.perf_counter() - began:.1f} s, {figures} figures -> {target} [{status}]")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
