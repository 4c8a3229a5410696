"""``fmt_paths``: rewrite in place, ``--check``, ``--diff``, directories, bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from kpidsl.fmt import fmt_paths

MESSY = "target   bookings=1_000\n\n\n\ntarget new_logos =6\n"
CLEAN = "target bookings = 1_000\n\ntarget new_logos = 6\n"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_formats_files_in_place(tmp_path: Path) -> None:
    plan = _write(tmp_path / "plan.kpi", MESSY)
    code, out = fmt_paths([plan])
    assert code == 0
    assert plan.read_text(encoding="utf-8") == CLEAN
    assert out == f"reformatted {plan}\n"


def test_check_lists_files_that_would_change_without_writing(tmp_path: Path) -> None:
    messy = _write(tmp_path / "a.kpi", MESSY)
    clean = _write(tmp_path / "b.kpi", CLEAN)
    code, out = fmt_paths([messy, clean], check=True)
    assert code == 1
    assert out == f"would reformat {messy}\n"
    assert messy.read_text(encoding="utf-8") == MESSY


def test_check_passes_when_everything_is_formatted(tmp_path: Path) -> None:
    clean = _write(tmp_path / "b.kpi", CLEAN)
    assert fmt_paths([clean], check=True) == (0, "")


def test_diff_prints_a_unified_diff_without_writing(tmp_path: Path) -> None:
    messy = _write(tmp_path / "a.kpi", MESSY)
    code, out = fmt_paths([messy], diff=True)
    assert code == 0
    assert f"--- {messy} (original)" in out
    assert "-target   bookings=1_000\n+target bookings = 1_000\n" in out
    assert messy.read_text(encoding="utf-8") == MESSY


def test_directories_recurse_into_kpi_files_in_sorted_order(tmp_path: Path) -> None:
    b = _write(tmp_path / "z" / "b.kpi", MESSY)
    a = _write(tmp_path / "a.kpi", MESSY)
    other = _write(tmp_path / "notes.txt", MESSY)
    code, out = fmt_paths([tmp_path], check=True)
    assert code == 1
    assert out == f"would reformat {a}\nwould reformat {b}\n"
    assert other.read_text(encoding="utf-8") == MESSY


def test_a_file_with_syntax_errors_is_reported_and_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = _write(tmp_path / "bad.kpi", "metric x: money = 1 +\n")
    good = _write(tmp_path / "good.kpi", MESSY)
    code, out = fmt_paths([bad, good])
    assert code == 2
    err = capsys.readouterr().err  # diagnostics go to standard error
    assert "error[KPI0003]" in err or "error[KPI0001]" in err
    assert out == f"reformatted {good}\n"
    assert bad.read_text(encoding="utf-8") == "metric x: money = 1 +\n"
    assert good.read_text(encoding="utf-8") == CLEAN


def test_a_missing_file_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = fmt_paths([tmp_path / "missing.kpi"])
    assert code == 2
    assert out == ""
    assert capsys.readouterr().err.startswith("error: cannot read")
