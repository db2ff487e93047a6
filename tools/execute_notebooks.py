"""Execute the MyST notebooks and keep the executed copies (with their figures).

Usage: ``python tools/execute_notebooks.py [DIR_OR_FILE ...] [--out _build/executed] [--archive local|live]``.
Each notebook runs in a fresh ``python3`` kernel whose working directory is the
notebook's own folder.

``--archive=local`` (the default) runs the kernels against the local archive: the
one this process was started under (``python -m local_archive run -- ...`` sets
``LOCAL_ARCHIVE_URL``), or else one it starts itself. Every executed copy then says
so in a notice as its first cell, and every figure carries a "synthetic data" label
(tools/marks.py). ``--archive=live`` runs them against the real archives, adds
nothing, and skips notebooks whose front matter says ``tutorial: {local_only: true}``.

For each notebook it prints the time taken, the figures, and every stderr output and
error output (the first line of each). It exits with 1 when a cell raised.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tools/marks.py and notebook_client.py
import marks  # noqa: E402


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


class ArchiveError(Exception):
    """The archive asked for cannot be used from this process."""


@contextlib.contextmanager
def archive(mode: str) -> Iterator[str]:
    """Point the kernels started in this block at the archive ``mode`` names.

    Parameters
    ----------
    mode : {"local", "live"}
        ``local``: the local archive this process runs under, or else a new one
        whose environment is set in ``os.environ`` (kernels inherit it) until
        the block ends. ``live``: the real archives, as the environment is.

    Yields
    ------
    str
        What the kernels will reach, for the log.

    Raises
    ------
    ArchiveError
        ``live`` with ``LOCAL_ARCHIVE_URL`` set: the kernels would inherit the local
        archive's environment and never reach the real archives.
    """
    running = os.environ.get("LOCAL_ARCHIVE_URL")
    if mode == "live":
        if running:
            raise ArchiveError(
                f"--archive=live, but LOCAL_ARCHIVE_URL is set ({running}): this process runs under the local "
                "archive (python -m local_archive run/serve), so the kernels would inherit its environment and "
                "read the local archive, not the real archives. Run it outside the local archive "
                "(tox -e buildhtml -- --archive=live does).")
        yield "the real archives"
        return
    if running:
        yield f"the local archive at {running}"
        return
    from local_archive import LocalArchive  # only here: --archive=live needs none of its dependencies

    # SIGTERM (a CI runner's cancel) leaves as Ctrl-C does, so the archive stops and removes its folder,
    # as under `python -m local_archive run`.
    handler = signal.signal(signal.SIGTERM, _interrupt)
    saved = dict(os.environ)
    try:
        with LocalArchive() as local:
            os.environ.update(local.environment())
            print(f"local archive started in {local.startup_seconds:.1f} s", flush=True)
            yield f"the local archive at {local.http.base_url} (started by this process)"
    finally:
        os.environ.clear()
        os.environ.update(saved)
        signal.signal(signal.SIGTERM, handler)


def _first_line(text: str) -> str:
    """The first non-blank line of ``text``, each line as a terminal leaves it (after its last ``\\r``)."""
    lines = [line.rsplit("\r", 1)[-1].strip() for line in text.split("\n")]  # not splitlines: it splits at \r
    return next((line for line in lines if line), "")


def _outputs(notebook) -> tuple[list[str], list[str]]:
    """The code cells that wrote to stderr and the error outputs, each as "code cell N: first line"."""
    stderr, errors = [], []
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    for i, cell in enumerate(code):
        # A cell's stderr arrives in pieces (a progress bar redraws with \r): one entry per cell.
        text = "".join(output.get("text", "") for output in cell.get("outputs", [])
                       if output.get("output_type") == "stream" and output.get("name") == "stderr")
        if text:
            stderr.append(f"code cell {i}: {_first_line(text)}")
        errors += [f"code cell {i}: {output.get('ename')}: {_first_line(output.get('evalue', ''))}"
                   for output in cell.get("outputs", []) if output.get("output_type") == "error"]
    return stderr, errors


def report(notebook) -> list[str]:
    """Lines naming each stderr output and error output of an executed notebook.

    Parameters
    ----------
    notebook : nbformat.NotebookNode
        The executed notebook.

    Returns
    -------
    list of str
        For each kind found, a count line, then one line per code cell that
        wrote to stderr and per error output: the code cell's number (from 0,
        as tools/build_site.py counts) and the first non-blank line.
    """
    stderr, errors = _outputs(notebook)
    lines = []
    if stderr:
        lines += [f"  stderr from {len(stderr)} cell(s):", *(f"    {line}" for line in stderr)]
    if errors:
        lines += [f"  {len(errors)} error output(s):", *(f"    {line}" for line in errors)]
    return lines


def _execute(path: Path, out: Path, mode: str) -> bool:
    """Execute one notebook into ``out``; True when no cell raised."""
    import jupytext
    from nbclient.exceptions import CellExecutionError
    from notebook_client import NotebookClient  # nbclient's, with waits that cannot miss a reply

    notebook = jupytext.read(path)
    if mode == "live" and notebook.metadata.get("tutorial", {}).get("local_only"):
        print(f"{path}: skipped (local_only: it checks the local archive itself)")
        return True
    began = time.perf_counter()
    client = NotebookClient(notebook, kernel_name="python3", timeout=900,
                            resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute()
        status = "ok"
    except CellExecutionError as exc:
        status = f"FAILED: {str(exc).strip().splitlines()[-1]}"
    spent = time.perf_counter() - began
    errors = _outputs(notebook)[1]
    if errors:  # a cell tagged raises-exception too: tools/build_site.py refuses any error output
        status = f"FAILED: {errors[0]}"
    figures = sum(1 for cell in notebook.cells for output in cell.get("outputs", [])
                  if "image/png" in output.get("data", {}))
    if mode == "local":
        stamped = marks.mark_notebook(notebook)
        figures_text = f"{figures} figures ({stamped} marked synthetic)"
    else:
        figures_text = f"{figures} figures"
    target = out / f"{path.stem}.ipynb"
    jupytext.write(notebook, target)
    print(f"{path}: {spent:.1f} s, {figures_text} -> {target} [{status}]")
    for line in report(notebook):
        print(line)
    sys.stdout.flush()
    return status == "ok"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", default=["notebooks"])
    parser.add_argument("--out", default="_build/executed")
    parser.add_argument("--archive", choices=("local", "live"), default="local",
                        help="run against the local archive (default; copies are marked) or the real archives")
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
    try:
        with archive(args.archive) as where:
            print(f"executing {len(files)} notebook(s) against {where}", flush=True)
            failed = [path for path in files if not _execute(path, out, args.archive)]
    except ArchiveError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if failed:
        print(f"{len(failed)} notebook(s) failed: {', '.join(map(str, failed))}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
