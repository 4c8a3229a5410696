"""Every command names the path that is wrong and says why: missing, a folder where a plan
file is expected (or a file where a data folder is), or not readable."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_cli import EAST, run  # tests/ is on the path: its modules have no package

import kpidsl.paths

PLAN, DATA = str(EAST / "plan.kpi"), str(EAST / "data")
Q = ("--period", "2026-Q3")
WHATIF = ("--payee", "chenjing", "--metric", "bookings", "--next-tier")


def _commands(plan: str, data: str) -> list[list[str]]:
    """Each command that takes a plan file and a data folder, with ``plan`` and ``data``."""
    return [
        ["eval", plan, "--data", data, *Q],
        ["explain", plan, "--data", data, *Q, "--payee", "chenjing"],
        ["diff", plan, PLAN, "--data", data, *Q],
        ["diff", PLAN, plan, "--data", data, *Q],
        ["what-it-takes", plan, "--data", data, *Q, *WHATIF],
        # the report is never written: the paths are checked first
        ["report", plan, "--data", data, *Q, "--out", "never-written.html"],
        ["validate", "--data", data, "--plan", plan],
    ]


@pytest.mark.parametrize("argv", _commands(str(EAST), DATA), ids=lambda a: a[0])
def test_a_folder_given_as_the_plan_is_called_a_folder(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, *argv)
    assert (code, out, err) == (2, "", f"error: a folder, not a plan file: {EAST}\n")


@pytest.mark.parametrize("argv", _commands(PLAN, PLAN), ids=lambda a: a[0])
def test_a_file_given_as_the_data_is_called_a_file(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, *argv)
    assert (code, out, err) == (2, "", f"error: a file, not a data folder: {PLAN}\n")


@pytest.mark.parametrize("argv", _commands("nope.kpi", "no-data"), ids=lambda a: a[0])
def test_every_missing_path_is_named_on_its_own_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert err == "error: no such plan file: nope.kpi\nerror: no such data folder: no-data\n"


def test_what_it_takes_says_which_of_plan_and_data_is_wrong(capsys: pytest.CaptureFixture[str]) -> None:
    # it said "no such plan file or data folder: PLAN, DATA" for a plan that was there
    code, _, err = run(capsys, "what-it-takes", PLAN, "--data", "no-data", *Q, *WHATIF)
    assert (code, err) == (2, "error: no such data folder: no-data\n")


def test_diff_names_the_old_or_the_new_plan_by_its_path(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "diff", PLAN, str(EAST), "--data", DATA, *Q)
    assert (code, err) == (2, f"error: a folder, not a plan file: {EAST}\n")


def test_a_path_through_a_file_is_missing(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "eval", f"{PLAN}/plan.kpi", "--data", DATA, *Q)
    assert (code, err) == (2, f"error: no such plan file: {PLAN}/plan.kpi\n")


def test_a_device_is_not_a_plan_file(capsys: pytest.CaptureFixture[str]) -> None:
    if not Path(os.devnull).exists() or Path(os.devnull).is_file():
        pytest.skip("no device file here")
    code, _, err = run(capsys, "diff", os.devnull, PLAN, "--data", DATA, *Q)
    assert (code, err) == (2, f"error: a device, not a plan file: {os.devnull}\n")


def test_a_symlink_loop_cannot_be_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    loop = tmp_path / "plan.kpi"
    loop.symlink_to(loop)
    code, _, err = run(capsys, "what-it-takes", str(loop), "--data", DATA, *Q, *WHATIF)
    assert code == 2
    assert err == f"error: the plan file cannot be read (too many levels of symbolic links): {loop}\n"


def test_an_unreadable_plan_file_says_so_not_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = tmp_path / "plan.kpi"
    plan.write_text((EAST / "plan.kpi").read_text(encoding="utf-8"), encoding="utf-8")

    def denied(path: str, mode: str = "r") -> object:
        if str(path) == str(plan):
            raise PermissionError(13, "Permission denied", path)
        return open(path, mode)

    monkeypatch.setattr(kpidsl.paths, "open", denied, raising=False)  # as chmod 000 does for non-root
    for argv in _commands(str(plan), DATA):
        code, _, err = run(capsys, *argv)
        assert (code, err) == (2, f"error: the plan file cannot be read (permission denied): {plan}\n"), argv


def test_an_unreadable_data_folder_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = os.scandir

    def denied(path: str) -> object:
        if str(path) == DATA:
            raise PermissionError(13, "Permission denied", path)
        return real(path)

    monkeypatch.setattr(os, "scandir", denied)
    code, _, err = run(capsys, "what-it-takes", PLAN, "--data", DATA, *Q, *WHATIF)
    assert (code, err) == (2, f"error: the data folder cannot be read (permission denied): {DATA}\n")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads any file")
def test_a_plan_file_without_read_permission(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = tmp_path / "plan.kpi"
    plan.write_text("", encoding="utf-8")
    plan.chmod(0)
    try:
        code, _, err = run(capsys, "diff", str(plan), PLAN, "--data", DATA, *Q)
    finally:
        plan.chmod(0o644)
    assert (code, err) == (2, f"error: the plan file cannot be read (permission denied): {plan}\n")


def test_a_pipe_is_not_a_plan_file_nor_a_data_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes here")
    pipe = tmp_path / "plan.kpi"
    os.mkfifo(pipe)
    code, _, err = run(capsys, "what-it-takes", str(pipe), "--data", str(pipe), *Q, *WHATIF)
    assert (code, err) == (2, f"error: a pipe, not a plan file: {pipe}\nerror: a pipe, not a data folder: {pipe}\n")


def test_a_good_plan_and_folder_have_no_problem() -> None:
    assert kpidsl.paths.path_problem(PLAN, kpidsl.paths.PLAN_FILE) is None
    assert kpidsl.paths.path_problem(DATA, kpidsl.paths.DATA_FOLDER) is None


def test_diff_of_one_folder_twice_says_it_once(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "diff", str(EAST), str(EAST), "--data", DATA, *Q)
    assert (code, err) == (2, f"error: a folder, not a plan file: {EAST}\n")
