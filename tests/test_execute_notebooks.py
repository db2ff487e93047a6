"""tools/execute_notebooks.py: copies run against the local archive say so; copies run live are untouched.

A tiny MyST notebook (a figure saved and shown, an inline figure, a line on stderr) is
executed in real kernels, once per archive mode. The local archive is a stand-in here
(``_FakeArchive``): these tests check what the executor does with its environment and
with the outputs, not the archive (``tox -e buildhtml`` runs the real one).
"""

from __future__ import annotations

import base64
import contextlib
import doctest
import importlib.util
import io
import os
from pathlib import Path

import nbformat
import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


def _load(name: str):
    # tools/ is no package: load the file itself, as `python tools/<name>.py` runs it.
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


execute_notebooks = _load("execute_notebooks")
marks = execute_notebooks.marks  # tools/marks.py, as the executor imported it

TINY = '''\
---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
    format_version: 0.13
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# A tiny notebook

A figure, another figure and a warning.

```{code-cell} ipython3
import os
import sys

import matplotlib.pyplot as plt
from IPython.display import Image, display

fig, ax = plt.subplots(figsize=(4, 3), dpi=100)
ax.plot([0, 1, 2], [0, 1, 4])
fig.savefig("figure.png")  # the bytes the kernel shows, kept to compare with the executed copy
plt.close(fig)
display(Image(filename="figure.png"))
print("archive:", os.environ.get("LOCAL_ARCHIVE_URL"), os.environ.get("HONEST_PROBE"))
```

```{code-cell} ipython3
plt.plot([1, 2, 3])
plt.show()
```

```{code-cell} ipython3
print("careful: this line goes to stderr", file=sys.stderr)
```

```{code-cell} ipython3
for done in (0, 50, 100):  # a progress bar, redrawn in place in separate writes
    sys.stderr.write(f"\\rprogress {done}%")
    sys.stderr.flush()
    print("working", flush=True)
sys.stderr.write("\\n")
```
'''

_FAKE_URL = "http://127.0.0.1:9/"


class _FakeArchive:
    """Stands in for local_archive.LocalArchive: an environment, and a record of start and stop."""

    events: list[str] = []

    def __init__(self):
        self.startup_seconds = 0.0
        self.http = type("Http", (), {"base_url": _FAKE_URL})()

    def __enter__(self):
        self.events.append("start")
        return self

    def __exit__(self, *exc):
        self.events.append("stop")

    def environment(self):
        return {"LOCAL_ARCHIVE_URL": _FAKE_URL, "HONEST_PROBE": "set-by-the-archive"}


def _run(folder: Path, archive: str, source: str = TINY) -> tuple[int, str, nbformat.NotebookNode | None]:
    """Execute ``source`` as ``folder/tiny.md``: the exit status, what was printed, the executed copy."""
    folder.mkdir()
    path = folder / "tiny.md"
    path.write_text(source)
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        status = execute_notebooks.main([str(path), "--out", str(folder / "out"), "--archive", archive])
    target = folder / "out" / "tiny.ipynb"
    notebook = nbformat.read(target, as_version=4) if target.exists() else None
    return status, stdout.getvalue(), notebook


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    import local_archive

    folder = tmp_path_factory.mktemp("nb") / "local"
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("LOCAL_ARCHIVE_URL", raising=False)
        patch.setattr(local_archive, "LocalArchive", _FakeArchive)
        _FakeArchive.events = []
        status, stdout, notebook = _run(folder, "local")
        events, _FakeArchive.events = _FakeArchive.events, []
        leaked = {key for key in ("LOCAL_ARCHIVE_URL", "HONEST_PROBE") if key in os.environ}
    return status, stdout, notebook, folder, events, leaked


@pytest.fixture(scope="module")
def live_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("nb") / "live"
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("LOCAL_ARCHIVE_URL", raising=False)
        status, stdout, notebook = _run(folder, "live")
    return status, stdout, notebook, folder


def _code(notebook) -> list:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def _pngs(notebook) -> list[tuple[bytes, dict]]:
    return [(base64.b64decode(output["data"]["image/png"]), output.get("metadata", {}))
            for cell in notebook.cells for output in cell.get("outputs", []) if "image/png" in output.get("data", {})]


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def test_local_copy_starts_the_archive_and_gives_its_environment_to_the_kernel(local_run):
    status, stdout, notebook, _, events, leaked = local_run
    assert status == 0
    assert events == ["start", "stop"]
    assert leaked == set()  # the archive's environment ends with the run
    printed = _code(notebook)[0].outputs[-1]["text"]
    assert printed == f"archive: {_FAKE_URL} set-by-the-archive\n"
    assert f"executing 1 notebook(s) against the local archive at {_FAKE_URL} (started by this process)" in stdout


def test_local_copy_opens_with_the_notice(local_run):
    notebook = local_run[2]
    nbformat.validate(notebook)
    first = notebook.cells[0]
    assert first.cell_type == "markdown"
    assert first.metadata["tags"] == ["archive-notice"]
    assert first.source == marks.NOTICE
    assert "executed against the local archive" in first.source
    assert "tox -e buildhtml -- --archive=live" in first.source
    assert notebook.cells[1].source.startswith("# A tiny notebook")
    assert sum(marks.NOTICE_TAG in cell.metadata.get("tags", []) for cell in notebook.cells) == 1


def test_live_copy_has_no_notice_and_no_local_archive(live_run):
    status, stdout, notebook, _ = live_run
    assert status == 0
    assert not marks.has_notice(notebook)
    assert notebook.cells[0].source.startswith("# A tiny notebook")
    assert _code(notebook)[0].outputs[-1]["text"] == "archive: None None\n"
    assert "executing 1 notebook(s) against the real archives" in stdout


def test_live_figures_are_the_kernels_bytes(live_run):
    _, _, notebook, folder = live_run
    (saved, saved_meta), (inline, inline_meta) = _pngs(notebook)
    assert saved == (folder / "figure.png").read_bytes()
    assert "archive" not in saved_meta and "archive" not in inline_meta
    assert _pixels(inline).shape[2] == 4


def test_local_figures_differ_only_in_the_stamped_corner(local_run):
    _, _, notebook, folder, _, _ = local_run
    (saved, saved_meta), (inline, inline_meta) = _pngs(notebook)
    assert saved_meta["archive"] == "local" and inline_meta["archive"] == "local"
    original = (folder / "figure.png").read_bytes()
    assert saved != original
    before, after = _pixels(original), _pixels(saved)
    assert before.shape == after.shape == (300, 400, 4)
    left, top, right, bottom = marks.label_box(Image.open(io.BytesIO(original)))
    # Top-left: the bottom corners hold tick labels, and of the two empty top ones, left is preferred.
    assert (left, top, right, bottom) == (4, 4, 142, 21)
    rows, cols = np.nonzero((before != after).any(axis=2))
    assert rows.min() >= top and rows.max() <= bottom and cols.min() >= left and cols.max() <= right
    assert len(rows) > 2 * (right - left + bottom - top)  # the box's outline, and the text in it
    assert tuple(after[top, left]) == (110, 110, 110, 255)  # the outline's grey
    # The text is dark red: some pixel inside the box is mostly red.
    inside = after[top + 2:bottom - 1, left + 2:right - 1].reshape(-1, 4).astype(int)
    assert ((inside[:, 0] > 100) & (inside[:, 1] < 60) & (inside[:, 2] < 60)).sum() > 20


def test_the_stamp_is_deterministic_and_keeps_size_and_mode(local_run):
    notebook = local_run[2]
    png = Image.new("RGB", (640, 480), "white")
    out = io.BytesIO()
    png.save(out, format="PNG", dpi=(100, 100))
    once, twice = marks.stamp_png(out.getvalue()), marks.stamp_png(out.getvalue())
    assert once == twice
    stamped = Image.open(io.BytesIO(once))
    assert (stamped.mode, stamped.size) == ("RGB", (640, 480))
    assert round(stamped.info["dpi"][0]) == 100
    assert marks.mark_notebook(notebook) == 0  # marked already: nothing added
    assert sum(marks.NOTICE_TAG in cell.metadata.get("tags", []) for cell in notebook.cells) == 1


def test_stderr_outputs_are_reported_without_failing(local_run, live_run):
    for status, stdout in (local_run[:2], live_run[:2]):
        assert status == 0
        lines = stdout.splitlines()
        at = lines.index("  stderr from 2 cell(s):")
        assert lines[at + 1:at + 3] == ["    code cell 2: careful: this line goes to stderr",
                                        "    code cell 3: progress 100%"]
    assert "2 figures (2 marked synthetic)" in local_run[1]
    assert "2 figures ->" in live_run[1]


def test_live_refuses_to_run_under_the_local_archive(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LOCAL_ARCHIVE_URL", "http://127.0.0.1:8/")
    (tmp_path / "tiny.md").write_text(TINY)
    assert execute_notebooks.main([str(tmp_path / "tiny.md"), "--out", str(tmp_path / "out"),
                                   "--archive", "live"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: --archive=live, but LOCAL_ARCHIVE_URL is set (http://127.0.0.1:8/)")
    assert "not the real archives" in error
    assert not (tmp_path / "out" / "tiny.ipynb").exists()


def test_local_uses_the_archive_it_runs_under(monkeypatch):
    monkeypatch.setenv("LOCAL_ARCHIVE_URL", "http://127.0.0.1:7/")

    class Refuse:
        def __init__(self):
            raise AssertionError("started a second local archive")

    import local_archive

    monkeypatch.setattr(local_archive, "LocalArchive", Refuse)
    with execute_notebooks.archive("local") as where:
        assert where == "the local archive at http://127.0.0.1:7/"


def test_an_error_output_fails_the_run_and_is_reported(tmp_path, monkeypatch):
    monkeypatch.delenv("LOCAL_ARCHIVE_URL", raising=False)
    cell = "```{code-cell} ipython3\nraise ValueError('no such file\\nsecond line')\n```\n"
    source = TINY.split("```{code-cell}")[0] + cell
    status, stdout, notebook = _run(tmp_path / "failing", "live", source)
    assert status == 1
    assert "[FAILED: code cell 0: ValueError: no such file]" in stdout
    lines = stdout.splitlines()
    at = lines.index("  1 error output(s):")
    assert lines[at + 1] == "    code cell 0: ValueError: no such file"
    assert notebook is not None  # the executed copy is kept, to look at



def test_the_examples_in_marks_hold():
    # tools/ is outside the doctest run (pyproject's testpaths), so its examples run here.
    results = doctest.testmod(marks)
    assert results.failed == 0 and results.attempted >= 5


def test_a_shell_reply_wait_polls_again_every_second_and_keeps_its_whole_timeout(monkeypatch):
    """tools/notebook_client.py: a wait of T seconds is made of short waits (1 s; 0.05 s here); a reply in
    any of them returns, and Empty comes after T in all."""
    import asyncio
    from queue import Empty

    import notebook_client

    assert notebook_client.SLICE_SECONDS == 1.0
    monkeypatch.setattr(notebook_client, "SLICE_SECONDS", 0.05)

    asked = []

    async def get_msg(timeout=None):
        asked.append(timeout)
        if len(asked) < 3:
            raise Empty
        return {"msg_type": "execute_reply"}

    assert asyncio.run(notebook_client._in_slices(get_msg)(timeout=300)) == {"msg_type": "execute_reply"}
    assert asked == [0.05, 0.05, 0.05]

    async def never(timeout=None):
        asked.append(timeout)
        await asyncio.sleep(timeout)
        raise Empty

    asked.clear()
    with pytest.raises(Empty):
        asyncio.run(notebook_client._in_slices(never)(timeout=0.125))
    assert len(asked) == 3 and asked[:2] == [0.05, 0.05] and 0.0 < asked[2] <= 0.025
