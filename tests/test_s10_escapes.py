"""Text from the data never sends the terminal an escape sequence, in every command's error
lines (an audit of diagnostics rendering, helper-60, found these printers writing it raw)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_cli import run  # tests/ is on the path: its modules have no package

PLAN = """\
plan "Esc" { currency CNY  period quarter }
metric bookings: money = sum deal.amount where deal.signed_on in period
payout ratio: money = bookings * (bookings / bookings)
"""
ESC_ID = "a\x1b[31mb"


def _folder(tmp_path: Path) -> tuple[str, str]:
    (tmp_path / "plan.kpi").write_text(PLAN, encoding="utf-8")
    data = tmp_path / "data"
    data.mkdir()
    (data / "payees.csv").write_text(f"id,name,role,region,manager\n{ESC_ID},A,AE,east,\n", encoding="utf-8")
    (data / "deals.csv").write_text("id,payee,amount,stage,signed_on,customer,product\n", encoding="utf-8")
    return str(tmp_path / "plan.kpi"), str(data)


@pytest.mark.parametrize("command", ["eval", "diff"])
def test_an_evaluation_error_of_a_payee_named_with_esc_shows_its_picture(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    plan, data = _folder(tmp_path)
    argv = ["eval", plan] if command == "eval" else ["diff", plan, plan]
    code, out, err = run(capsys, *argv, "--data", data, "--period", "2026-Q3")
    assert code == 1
    assert "\x1b" not in out + err
    assert "a\u241b[31mb" in err  # ESC as its picture, the rest as written
    assert "division by zero" in err


def test_validate_shows_a_value_holding_esc_as_its_picture(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan, data = _folder(tmp_path)
    Path(data, "deals.csv").write_text("id,payee,amount,stage,signed_on,customer,product\n"
                                      f"D1,{ESC_ID},12\x1b[2J,won,2026-07-01,c,p\n", encoding="utf-8")
    code, out, err = run(capsys, "validate", "--data", data, "--plan", plan)
    assert code == 1
    assert "\x1b" not in out + err
    assert "12\u241b[2J" in out + err
