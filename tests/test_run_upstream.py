"""The conformance runner (tools/run_upstream.py): counts, known upstream bugs, the floor, summary.json."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UPSTREAM = ROOT.parent / "shared" / "upstream"
FRONT = "---\njupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\n---\n\n"


def _load_runner():
    spec = importlib.util.spec_from_file_location("run_upstream", ROOT / "tools" / "run_upstream.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


runner = _load_runner()


def _cells(*sources: str) -> str:
    return FRONT + "".join(f"# Step\n\n```{{code-cell}} ipython3\n{source}\n```\n\n" for source in sources)


@pytest.fixture
def source(tmp_path):
    folder = tmp_path / "upstream"
    (folder / "archive_a" / "code_src").mkdir(parents=True)
    # A neighbour module the notebook imports, as the Fornax notebook imports its code_src/.
    (folder / "archive_a" / "code_src" / "tools_a.py").write_text("ANSWER = 42\n")
    (folder / "archive_a" / "code_src" / "not_a_notebook.md").write_text("# helper docs\n")
    (folder / "archive_a" / "first.md").write_text(_cells(
        "from code_src.tools_a import ANSWER\nprint(ANSWER)",
        "open('written_next_to_me.txt', 'w').write('x')",
        "1 / 0",
        "undefined_name_upstream_bug",
        "",
    ))
    (folder / "second.md").write_text(_cells("x = 1", "raise RuntimeError('the archive said no')"))
    (folder / "README.md").write_text("# not a notebook\n")
    folder.chmod(0o555)  # the shared folder is read-only; the runner copies it
    return folder


@pytest.fixture
def bugs(tmp_path, monkeypatch):
    path = tmp_path / "bugs.toml"
    path.write_text('[[bug]]\nnotebook = "archive_a/first.md"\ncell_starts = "undefined_name_upstream_bug"\n'
                    'reason = "a name the notebook never defines"\n')
    monkeypatch.setattr(runner, "KNOWN_BUGS", path)
    return path


def test_finds_notebooks_but_not_readmes_or_code_src(source):
    assert [p.relative_to(source).as_posix() for p in runner.find_notebooks(source)] == [
        "archive_a/first.md", "second.md"]


def test_counts_passing_cells_leaves_known_bugs_out_and_fails_below_the_floor(source, bugs, tmp_path, capsys):
    out = tmp_path / "out"
    status = runner.main([str(source), "--out", str(out), "--floor", "0.7"])
    summary = json.loads((out / "summary.json").read_text())
    first, second = summary["notebooks"]
    assert (first["notebook"], first["ok"], first["counted"], first["code_cells"], first["known_bugs"],
            first["empty"]) == ("archive_a/first.md", 2, 3, 5, 1, 1)
    assert [c["ok"] for c in first["cells"]] == [True, True, False, False, True]
    assert first["cells"][4]["empty"]  # nbclient does not run an empty cell; it is not counted
    assert first["cells"][2]["error"]["ename"] == "ZeroDivisionError"
    assert first["cells"][3]["known_bug"] == "a name the notebook never defines"
    assert (second["ok"], second["counted"]) == (1, 2)
    assert second["cells"][1]["error"] == {"ename": "RuntimeError", "evalue": "the archive said no"}
    assert (summary["ok"], summary["counted"], summary["share"], summary["passed"]) == (3, 5, 0.6, False)
    assert status == 1
    # The notebook ran in (a copy of) its own folder: its neighbour imported, its file written there.
    assert (out / "work" / "archive_a" / "written_next_to_me.txt").read_text() == "x"
    assert not (source / "archive_a" / "written_next_to_me.txt").exists()
    printed = capsys.readouterr().out
    assert "archive_a/first.md: 2/3 cells ok" in printed and "1 known upstream bug(s) not counted" in printed
    assert "total: 3/5 code cells ok (60.0%; floor 70%)" in printed

    assert runner.main([str(source), "--out", str(out), "--floor", "0.6"]) == 0


def test_a_listed_bug_that_no_longer_exists_stops_the_run(source, bugs, tmp_path):
    bugs.write_text('[[bug]]\nnotebook = "second.md"\ncell_starts = "gone()"\nreason = "fixed upstream"\n')
    with pytest.raises(SystemExit, match=r"lists cells that second.md does not have: \['gone\(\)'\]"):
        runner.main([str(source), "--out", str(tmp_path / "out")])


def test_an_entry_without_a_reason_is_refused(tmp_path):
    path = tmp_path / "bugs.toml"
    path.write_text('[[bug]]\nnotebook = "a.md"\ncell_starts = "x"\n')
    with pytest.raises(ValueError, match=r"entry 1 lacks \['reason'\]"):
        runner.load_known_bugs(path)


@pytest.mark.skipif(not UPSTREAM.is_dir(), reason="../shared/upstream is not next to this checkout")
def test_every_listed_upstream_bug_names_one_real_cell():
    import jupytext

    for bug in runner.load_known_bugs():
        notebook = jupytext.read(UPSTREAM / bug.notebook)
        matching = [c for c in notebook.cells if c.cell_type == "code" and c.source.strip().startswith(bug.cell_starts)]
        assert len(matching) == 1, (bug.notebook, bug.cell_starts)


def test_a_stuck_cell_is_interrupted_and_the_notebook_goes_on(tmp_path, monkeypatch):
    folder = tmp_path / "upstream"
    folder.mkdir()
    (folder / "stuck.md").write_text(_cells("import time\ntime.sleep(120)", "print('after')"))
    monkeypatch.setattr(runner, "CELL_TIMEOUT", 3)
    monkeypatch.setattr(runner, "KNOWN_BUGS", tmp_path / "none.toml")
    (tmp_path / "none.toml").write_text("")
    status = runner.main([str(folder), "--out", str(tmp_path / "out"), "--floor", "0.5"])
    (result,) = json.loads((tmp_path / "out" / "summary.json").read_text())["notebooks"]
    assert [c["ok"] for c in result["cells"]] == [False, True]
    assert result["cells"][0]["error"]["ename"] == "KeyboardInterrupt"
    assert result["seconds"] < 60 and status == 0
