"""``kpidsl test``: one line per test, the summary as the last line, exit codes, JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kpidsl.testing.cli import main

from .helpers import FIXTURES, ROOT, block, write_plan


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def test_all_passing_exits_0_with_a_line_per_test(capsys: pytest.CaptureFixture[str]) -> None:
    code, lines, _ = run(capsys, str(FIXTURES))
    shown = (FIXTURES / "plan.kpi").as_posix()
    assert code == 0
    assert lines == [
        f"PASS {shown}::a won deal pays ten percent",
        f"PASS {shown}::no deals: the average is a division by zero",
        f"PASS {shown}::the gap fixture is rejected",
        "3 passed, 0 failed",
    ]


def test_a_failure_exits_1_and_shows_the_details(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_plan(tmp_path, block("good", "expect alice.commission == 1_200"),
                      block("bad", "expect bob.commission == 301"))
    code, lines, _ = run(capsys, str(path))
    assert code == 1
    assert lines[0] == f"PASS {path.as_posix()}::good"
    assert lines[1] == f"FAIL {path.as_posix()}::bad"
    text = "\n".join(lines)
    assert "expected: bob.commission == 301" in text
    assert "actual:   300.00" in text
    assert "explanation:" in text and "commission = 300.00" in text
    assert lines[-1] == "1 passed, 1 failed"


def test_keyword_filters_and_counts_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_plan(tmp_path, block("good", "expect alice.commission == 1_200"),
                      block("bad", "expect bob.commission == 301"))
    code, lines, _ = run(capsys, str(path), "-k", "GOO")
    assert code == 0
    assert lines == [f"PASS {path.as_posix()}::good", "1 passed, 0 failed, 1 skipped"]


def test_a_plan_without_tests_is_exit_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "plan.kpi").write_text('plan "t" {\n  currency CNY\n}\n', encoding="utf-8")
    code, lines, _ = run(capsys, str(tmp_path))
    assert (code, lines) == (0, ["0 passed, 0 failed"])


def test_a_folder_without_plans_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines, err = run(capsys, str(tmp_path))
    assert (code, lines) == (1, [])
    assert "no .kpi files found" in err


def test_a_missing_path_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, lines, err = run(capsys, "no/such/plan.kpi")
    assert code == 2 and lines == []
    assert "no such file or directory: no/such/plan.kpi" in err


def test_a_bad_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([str(FIXTURES), "--format", "xml"])
    assert exc.value.code == 2


def test_json_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_plan(tmp_path, block("good"), block("bad", "expect bob.commission == 301"))
    code = main([str(path), "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    assert (data["passed"], data["failed"], data["skipped"]) == (1, 1, 0)
    assert data["summary"] == "1 passed, 1 failed"
    good, bad = data["tests"]
    assert (good["name"], good["status"], good["failures"]) == ("good", "passed", [])
    assert bad["id"] == f"{path.as_posix()}::bad"
    (failure,) = bad["failures"]
    assert failure["expected"] == "bob.commission == 301"
    assert failure["actual"] == "300.00"
    assert "commission = 300.00" in failure["explanation"]


def test_the_examples_pass(capsys: pytest.CaptureFixture[str]) -> None:
    # invariants run too (a short search here; CI's `kpidsl test examples/` uses the default 50)
    code, lines, _ = run(capsys, str(ROOT / "examples"), "--invariant-examples", "5")
    assert code == 0, "\n".join(lines)
    assert lines[-1].endswith(" passed, 0 failed")
    assert all(line.startswith("PASS ") for line in lines[:-1])
