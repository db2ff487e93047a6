"""The GitHub workflows: the offline CI on pull requests and the weekly recorded live run.

Read as YAML only (no network, nothing run); `tox -e lint` checks them with actionlint.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")

_WORKFLOWS = Path(__file__).resolve().parent.parent / ".github" / "workflows"


def _load(name: str) -> dict:
    text = (_WORKFLOWS / name).read_text()
    # YAML 1.1 reads the key `on` as the boolean True; GitHub reads it as the string "on".
    data = yaml.safe_load(text)
    if True in data:
        data["on"] = data.pop(True)
    return data


def _steps(workflow: dict, job: str) -> list[dict]:
    return workflow["jobs"][job]["steps"]


@pytest.fixture(scope="module")
def ci() -> dict:
    return _load("ci.yml")


@pytest.fixture(scope="module")
def live() -> dict:
    return _load("live.yml")


def test_pull_requests_run_the_offline_ci(ci: dict) -> None:
    assert "pull_request" in ci["on"]
    (job,) = ci["jobs"]
    assert ci["jobs"][job]["runs-on"] == "ubuntu-latest"
    runs = [step["run"].strip() for step in _steps(ci, job) if "run" in step]
    assert runs[-1] == "bash .ci/run"
    uses = [step["uses"] for step in _steps(ci, job) if "uses" in step]
    assert uses[0].startswith("actions/checkout@v")
    assert any(use.startswith("actions/setup-python@v") for use in uses)


def test_live_run_is_weekly_and_on_demand(live: dict) -> None:
    assert set(live["on"]) == {"schedule", "workflow_dispatch"}
    (entry,) = live["on"]["schedule"]
    minute, hour, day_of_month, month, day_of_week = entry["cron"].split()
    # Once a week: a fixed minute, hour and weekday, every month.
    assert (day_of_month, month) == ("*", "*")
    assert minute.isdigit() and hour.isdigit() and day_of_week.isdigit()


def test_live_matrix_is_two_systems_by_oldest_and_newest_python(live: dict) -> None:
    (job,) = live["jobs"]
    matrix = live["jobs"][job]["strategy"]["matrix"]
    assert matrix["os"] == ["ubuntu-latest", "macos-latest"]
    assert matrix["python"] == ["3.11", "3.14"]
    assert live["jobs"][job]["strategy"]["fail-fast"] is False


def test_live_run_records_and_uploads_recording_and_budget_report(live: dict) -> None:
    (job,) = live["jobs"]
    steps = _steps(live, job)
    (tox,) = [step["run"] for step in steps if "tox -e live" in step.get("run", "")]
    assert tox == "python -m tox -e live -- --record recording/ --junitxml=budget-report.xml"
    uploads = [step for step in steps if step.get("uses", "").startswith("actions/upload-artifact@v")]
    assert sorted(step["with"]["path"] for step in uploads) == ["budget-report.xml", "recording/"]
    for step in uploads:
        assert step["if"] == "always()"
        # Unique per matrix cell, or the cells' uploads would collide.
        assert "${{ matrix.os }}" in step["with"]["name"]
        assert "${{ matrix.python }}" in step["with"]["name"]


@pytest.mark.parametrize("name", ["ci.yml", "live.yml"])
def test_workflows_are_read_only_bounded_and_use_no_secrets(name: str) -> None:
    workflow = _load(name)
    assert workflow["permissions"] == {"contents": "read"}
    assert "group" in workflow["concurrency"]
    for job in workflow["jobs"].values():
        assert 0 < job["timeout-minutes"] <= 180
    # The archives are read anonymously: no expression may read a secret (the token included).
    expressions = re.findall(r"\$\{\{(.*?)\}\}", (_WORKFLOWS / name).read_text())
    assert expressions
    assert not [expression for expression in expressions if re.search(r"\b(secrets|github\.token)\b", expression)]
