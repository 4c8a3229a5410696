"""Every command names a plan's files as ``kpidsl check`` does: from the current folder
(``nest/plans/季度.kpi``), not from the plan's folder (``季度.kpi``); imported files too."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from kpidsl.cli import main

EAST = Path(__file__).resolve().parents[2] / "examples" / "east-china-2026"
Q = ("--period", "2026-Q3")
PLAN = "nest/plans/季度.kpi"


@pytest.fixture
def nest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "nest" / "plans" / "lib").mkdir(parents=True)
    shutil.copytree(EAST / "data", tmp_path / "nest" / "data")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out + err


def _broken(nest: Path) -> None:
    """A plan whose imported file has an error (reported in the imported file)."""
    (nest / PLAN).write_text('plan "Q" {\n  currency CNY\n}\n\nimport "lib/common.kpi"\n', encoding="utf-8")
    (nest / "nest/plans/lib/common.kpi").write_text("metric m: money = sum deal.nope\n", encoding="utf-8")


COMMANDS = [
    ["eval", PLAN, "--data", "nest/data", *Q],
    ["explain", PLAN, "--data", "nest/data", *Q, "--payee", "chenjing"],
    ["report", PLAN, "--data", "nest/data", *Q, "--out", "never-written.html"],
    ["diff", PLAN, str(EAST / "plan.kpi"), "--data", "nest/data", *Q],
    ["what-it-takes", PLAN, "--data", "nest/data", *Q, "--payee", "chenjing", "--metric", "bookings",
     "--next-tier"],
]


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: a[0])
def test_load_errors_name_the_files_as_check_does(
    argv: list[str], nest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _broken(nest)
    check_code, checked = _run(capsys, "check", PLAN)
    assert check_code == 1 and " --> nest/plans/lib/common.kpi:1:" in checked
    code, told = _run(capsys, *argv)
    assert code == 1
    assert " --> nest/plans/lib/common.kpi:1:" in told, told
    assert checked.split("\n", 1)[1] in told  # the same excerpt, caret and help
    assert " --> lib/common.kpi" not in told


def test_a_plan_named_through_a_link_to_another_folder_is_named_as_given(
    nest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A link to a plan elsewhere was named ``nest/plans/nest/plans/link.kpi`` by check."""
    (nest / "elsewhere").mkdir()
    (nest / "elsewhere/x.kpi").write_text('plan "Q" {\n  currency CNY\n}\nmetric x: money = 1 +\n',
                                          encoding="utf-8")
    try:
        os.symlink(nest / "elsewhere/x.kpi", nest / "nest/plans/link.kpi")
    except OSError:
        pytest.skip("symlinks not available")
    for argv in (["check", "nest/plans/link.kpi"], ["eval", "nest/plans/link.kpi", "--data", "nest/data", *Q]):
        code, told = _run(capsys, *argv)
        assert code == 1 and " --> nest/plans/link.kpi:4:" in told, told


@pytest.mark.parametrize("argv", COMMANDS[:2], ids=lambda a: a[0])
def test_evaluation_errors_name_the_plan_file_from_here(
    argv: list[str], nest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (EAST / "plan.kpi").read_text(encoding="utf-8")
    (nest / PLAN).write_text(text + '\nimport "lib/common.kpi"\n', encoding="utf-8")
    (nest / "nest/plans/lib/common.kpi").write_text(
        "input zero: number default 0\npayout extra: money = bookings / zero\n", encoding="utf-8")
    code, told = _run(capsys, *argv)
    assert code == 1
    assert "division by zero in `bookings / zero` (`zero` is 0) (nest/plans/lib/common.kpi:2:23)" in told, told
