"""docs/testing.md: its worked example passes, and the output it shows is what the runner prints."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kpidsl.testing.cli import main

from .helpers import ROOT

DOC = (ROOT / "docs" / "testing.md").read_text(encoding="utf-8")


def fenced(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC, re.S)


def run_in(folder: Path, text: str, capsys: pytest.CaptureFixture[str],
           monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    (folder / "plan.kpi").write_text(text, encoding="utf-8")
    monkeypatch.chdir(folder)
    code = main(["plan.kpi"])
    return code, capsys.readouterr().out


def test_the_worked_example_passes_as_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (plan,) = fenced("kpi")
    code, out = run_in(tmp_path, plan, capsys, monkeypatch)
    assert code == 0
    assert out == fenced("text")[0]


def test_the_failure_shown_is_the_runners(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (plan,) = fenced("kpi")
    code, out = run_in(tmp_path, plan.replace("5_200.00", "5_400.00"), capsys, monkeypatch)
    shown = fenced("text")[1].splitlines()
    lines = out.splitlines()
    assert code == 1
    assert lines == shown  # the whole failure, explanation included: the doc cannot drift


EXTRA = """
for role SE {
  payout bonus: money = 1_000
}

invariant bonus <= 2_000
invariant commission >= 0
invariant commission is monotonic in bookings
"""


def test_the_invariant_and_coverage_output_shown_is_the_runners(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (plan,) = fenced("kpi")
    code, out = run_in(tmp_path, plan + EXTRA, capsys, monkeypatch)
    assert code == 1
    invariants, coverage = fenced("text")[2:4]
    assert out == invariants
    assert main(["plan.kpi", "--coverage"]) == 1
    assert coverage in capsys.readouterr().out


def test_the_builder_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (plan,) = fenced("kpi")
    (tmp_path / "plan.kpi").write_text(plan, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code = fenced("python")[0]
    exec(compile(code, "docs/testing.md", "exec"), {})  # the doc's own example, asserts inside
