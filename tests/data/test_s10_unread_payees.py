"""A payees file that is there but could not be read is not "missing" (found by the docs
audit, helper-64): its own error (KPI0701) says why, and the rows naming payees get one
error saying they could not be checked, on both engines."""

from __future__ import annotations

from pathlib import Path

import pytest

import kpidsl

PLAN = """\
plan "P" { currency CNY  period quarter }
metric bookings: money = sum deal.amount where deal.signed_on in period
payout commission: money = bookings * 1%
"""


@pytest.mark.parametrize("engine", ["reference", "columnar"])
def test_an_unreadable_payees_file_is_not_called_missing(tmp_path: Path, engine: str) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "payees.csv").write_bytes("id,name,role,region,manager\na,A,AE,east,\n".encode("utf-16"))
    (data / "deals.csv").write_text("id,payee,amount,stage,signed_on,customer,product\n"
                                    "D1,a,10.00,won,2026-07-01,c,p\nD2,a,5.00,won,2026-07-02,c,p\n", encoding="utf-8")
    result = kpidsl.loads(PLAN).evaluate(data, "2026-Q3", engine=engine)
    assert result.evaluation is None  # nothing is paid
    messages = {d.code: d.message for d in result.data_diagnostics}
    assert "KPI0714" not in messages, messages  # it said "data/payees.csv is missing"
    assert "UTF-16" in messages["KPI0701"]
    assert messages["KPI0721"] == ("data/payees.csv was not read (see its error): 2 row(s) name payees, "
                                   "whom it defines; the rows were rejected")
