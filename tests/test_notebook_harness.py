"""The notebook harness (conftest.py): it refuses notebooks that would test nothing, and enforces budgets."""

from __future__ import annotations

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
    # live mode starts no local archive; these notebooks make no network calls
    return harness.runpytest_subprocess("--archive=live", "--remote-data=any", "-p", "no:cacheprovider",
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
    result.assert_outcomes(passed=2, failed=2)  # the progress bar's cell and the budget pass
    result.stdout.fnmatch_lines(["*printed a warning on stderr*", "*DeprecationWarning: the cause should be fixed*"])
    result.stdout.fnmatch_lines(["*printed a warning on stderr*", "*WARNING: astropy-style message*"])
