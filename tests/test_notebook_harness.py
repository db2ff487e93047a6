"""The notebook harness (conftest.py): it refuses notebooks that would test nothing, and enforces budgets."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]
FRONT = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
{kernel}tutorial:
  budget_seconds:
    live: {budget}
---
"""
KERNEL = "kernelspec:\n  display_name: Python 3\n  language: python\n  name: python3\n"


@pytest.fixture
def harness(pytester):
    pytester.makeconftest((ROOT / "conftest.py").read_text())
    (pytester.path / "notebooks").mkdir()
    return pytester


def _run(harness, name, text):
    (harness.path / "notebooks" / name).write_text(text)
    # live mode starts no local archive; these notebooks make no network calls; -ra shows skip reasons
    return harness.runpytest_subprocess("--archive=live", "--remote-data=any", "-p", "no:cacheprovider", "-ra",
                                        "notebooks", timeout=300)


def test_plain_python_fences_are_refused(harness):
    text = FRONT.format(kernel=KERNEL, budget=60) + "\n# Title\n\n```python\nprint('never run')\n```\n"
    result = _run(harness, "fences.md", text)
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*fences.md has no code cells*"])


def test_a_kernelspec_is_required(harness):
    text = FRONT.format(kernel="", budget=60) + "\n```{code-cell} ipython3\n1 + 1\n```\n"
    result = _run(harness, "nokernel.md", text)
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*needs a kernelspec named python3*"])


def test_cells_run_and_the_budget_is_checked(harness):
    text = FRONT.format(kernel=KERNEL, budget=120) + "\n```{code-cell} ipython3\nx = 6 * 7\n```\n\n" \
        "```{code-cell} ipython3\nassert x == 42\n```\n"
    result = _run(harness, "ok.md", text)
    result.assert_outcomes(passed=3)


def test_a_failing_cell_fails(harness):
    text = FRONT.format(kernel=KERNEL, budget=120) + "\n```{code-cell} ipython3\nraise RuntimeError('boom')\n```\n"
    result = _run(harness, "boom.md", text)
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*RuntimeError*boom*"])


def test_the_budget_is_not_judged_when_a_cell_failed(harness):
    # Over budget too: a notebook that stopped early is no evidence either way, so the budget item
    # neither passes nor fails; it is skipped with the reason (shown by -ra).
    text = FRONT.format(kernel=KERNEL, budget=0.5) + "\n```{code-cell} ipython3\nimport time\ntime.sleep(1)\n```\n\n" \
        "```{code-cell} ipython3\nraise RuntimeError('boom')\n```\n\n```{code-cell} ipython3\nx = 1\n```\n"
    result = _run(harness, "broken.md", text)
    result.assert_outcomes(passed=2, failed=1, skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED [[]1[]] *: notebooks/broken.md: 1 of 3 cells failed: the time (* s) is not "
                                 "comparable with the budget of 0 s"])


def test_the_budget_is_not_judged_when_cells_did_not_run(harness):
    text = FRONT.format(kernel=KERNEL, budget=120) + "".join(f"\n```{{code-cell}} ipython3\nx = {i}\n```\n"
                                                             for i in range(3))
    (harness.path / "notebooks" / "part.md").write_text(text)
    result = harness.runpytest_subprocess("--archive=live", "--remote-data=any", "-p", "no:cacheprovider", "-ra",
                                          "--deselect", "notebooks/part.md::cells::Cell 1", "notebooks", timeout=300)
    result.assert_outcomes(passed=2, skipped=1, deselected=1)
    result.stdout.fnmatch_lines(["SKIPPED [[]1[]] *: notebooks/part.md: 1 of 3 cells did not run: the time (* s) is "
                                 "not comparable with the budget of 120 s"])


def test_over_budget_fails(harness):
    text = FRONT.format(kernel=KERNEL, budget=0.5) + "\n```{code-cell} ipython3\nimport time\ntime.sleep(1)\n```\n"
    result = _run(harness, "slow.md", text)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*slow.md took * s, over its budget of 0 s*"])


def test_a_warning_on_stderr_fails_the_cell_and_a_progress_bar_does_not(harness):
    cells = [
        "import sys, warnings\nfrom tqdm import tqdm\nfor _ in tqdm(range(3), file=sys.stderr):\n    pass",
        "warnings.warn('the cause should be fixed', DeprecationWarning, stacklevel=1)",
        "print('WARNING: astropy-style message', file=sys.stderr)",
    ]
    body = "".join(f"\n```{{code-cell}} ipython3\n{cell}\n```\n" for cell in cells)
    result = _run(harness, "warns.md", FRONT.format(kernel=KERNEL, budget=120) + body)
    # The progress bar's cell passes; the budget is not judged (two cells failed)
    result.assert_outcomes(passed=1, failed=2, skipped=1)
    result.stdout.fnmatch_lines(["*printed a warning on stderr*", "*DeprecationWarning: the cause should be fixed*"])
    result.stdout.fnmatch_lines(["*printed a warning on stderr*", "*WARNING: astropy-style message*"])


# --- Stopping: a session, or `python -m local_archive run`, leaves no temporary folder behind ----------

SLOW_TEST = '''
import time
from pathlib import Path

import conftest
from local_archive import LocalArchive


def test_waits():
    archive = LocalArchive()
    archive.http.start()  # the servers, not the holdings: enough for its local-archive-* folder
    archive.s3.start()
    archive.environment()
    conftest._archive = archive  # the session's archive, as the notebooks' first use makes it
    Path("started").write_text(str(archive.workdir))
    time.sleep(120)
'''


def test_sigterm_ends_a_session_as_ctrl_c_does_and_leaves_no_folder(harness, tmp_path):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    (harness.path / "test_wait.py").write_text(SLOW_TEST)
    env = {**os.environ, "TMPDIR": str(scratch)}  # where tempfile.mkdtemp makes the session's folders
    session = subprocess.Popen([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "test_wait.py"],
                               cwd=harness.path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        started = harness.path / "started"
        deadline = time.monotonic() + 120
        while not started.exists() and session.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert started.exists(), session.communicate(timeout=30)[0] if session.poll() is not None else "no start"
        workdir = Path(started.read_text())
        assert workdir.parent == scratch and workdir.exists()
        assert len(list(scratch.glob("astropy-session-*"))) == 1
        session.send_signal(signal.SIGTERM)
        output = session.communicate(timeout=60)[0]
    finally:
        session.kill()
    assert session.returncode == 2, output  # pytest's "interrupted"
    assert "KeyboardInterrupt" in output
    assert not workdir.exists() and sorted(scratch.iterdir()) == [], output


def test_run_passes_sigterm_on_to_its_command_then_stops(tmp_path):
    from local_archive import __main__ as cli

    marker = tmp_path / "terminated"
    child = ("import pathlib, signal, sys, time\n"
             f"signal.signal(signal.SIGTERM, lambda *a: (pathlib.Path({str(marker)!r}).write_text('SIGTERM'), "
             "sys.exit(143)))\n"
             f"pathlib.Path({str(tmp_path / 'ready')!r}).touch()\ntime.sleep(60)\n")
    before = signal.getsignal(signal.SIGTERM)
    cli._interrupt_on_sigterm()

    def terminate_when_ready():
        while not (tmp_path / "ready").exists():
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=terminate_when_ready, daemon=True).start()
    began = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            cli._run([sys.executable, "-c", child], dict(os.environ))
    finally:
        signal.signal(signal.SIGTERM, before)
        cli._signals.clear()
    assert marker.read_text() == "SIGTERM" and time.monotonic() - began < 30


def test_a_recording_kernel_keeps_the_exchanges_of_its_last_cell(harness, s3, tmp_path, monkeypatch):
    """--record: the kernel is shut down as Jupyter does, so the cassette it writes at exit holds every
    exchange; killed (nbval's way), it lost what came after its last periodic write (at most one a second)."""
    pytest.importorskip("vcr")
    from local_archive.replay import load_interactions

    s3.create_bucket("nasa-heasarc")
    s3.put_bytes("nasa-heasarc", "harness/first.txt", b"first")
    s3.put_bytes("nasa-heasarc", "harness/second.txt", b"second")
    # Live mode starts no archive; the recorder writes requests to AWS_ENDPOINT_URL_S3 as the bucket's
    # production URL (local_archive.recording.public_uri), so a loopback S3 server stands in.
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3.endpoint)
    last = ("import os, requests\n"
            "base = os.environ['AWS_ENDPOINT_URL_S3'] + '/nasa-heasarc/harness/'\n"
            "assert [requests.get(base + name, timeout=10).text for name in ('first.txt', 'second.txt')] == "
            "['first', 'second']\n")
    text = FRONT.format(kernel=KERNEL, budget=120) + f"\n```{{code-cell}} ipython3\n{last}```\n"
    (harness.path / "notebooks" / "recorded.md").write_text(text)
    folder = tmp_path / "recording"
    result = harness.runpytest_subprocess("--archive=live", "--remote-data=any", "-p", "no:cacheprovider",
                                          "--record", str(folder), "notebooks", timeout=300)
    result.assert_outcomes(passed=2)
    urls = [request.uri for request, _ in load_interactions(folder)]
    assert urls == ["https://nasa-heasarc.s3.amazonaws.com/harness/first.txt",
                    "https://nasa-heasarc.s3.amazonaws.com/harness/second.txt"]
