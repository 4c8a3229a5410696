"""The messy corpus end to end: every row accounted for, every rejection located and named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("openpyxl")

from importcorpus import build

from kpidsl.importer import import_mapping
from kpidsl.importer.run import ImportResult


@pytest.fixture
def imported(tmp_path: Path) -> ImportResult:
    result, problems = import_mapping(build(tmp_path))
    assert problems == [] and result is not None
    return result


def test_every_row_is_accounted_for(imported: ImportResult) -> None:
    by_source = {s.source: s for s in imported.sources}
    deals = by_source["commission.xlsx[合同明细]"]
    assert (deals.rows_read, deals.rows_accepted, deals.rows_rejected) == (9, 5, 4)
    payees = by_source["payees-gbk.csv"]
    assert (payees.rows_read, payees.rows_accepted, payees.rows_rejected) == (3, 3, 0)
    for s in imported.sources:
        assert s.rows_read == s.rows_accepted + s.rows_rejected
    assert imported.tables == {"deals": 5, "payees": 3}


def test_every_rejection_is_named_with_its_location(imported: ImportResult) -> None:
    rejected = {(p.line, p.code, p.column, p.value) for p in imported.problems if p.rejects}
    assert rejected == {
        (8, "KPI0710", "金额 (→ amount)", "12,3O0.00"),
        (9, "KPI0720", "合同编号", "D1"),
        (10, "KPI0721", "销售", "zoe"),
        (11, "KPI0710", "签约日期 (→ signed_on)", "2026/13/1"),
    }
    dup = next(p for p in imported.problems if p.code == "KPI0720")
    assert "first at commission.xlsx[合同明细] row 4" in dup.message
    assert all(p.sheet == "合同明细" for p in imported.problems if p.rejects)


def test_messy_values_are_normalized(imported: ImportResult) -> None:
    text = imported.files["deals.csv"].decode("utf-8")
    lines = text.splitlines()
    assert lines[0] == "id,payee,amount,stage,signed_on,customer"
    assert lines[1:] == [
        "D1,alice,120000.5,won,2026-07-01,上海天诚",   # float cell, slash date
        "D2,alice,12300.00,won,2026-07-01,",          # full-width digits, 年月日; merged cell empty
        "D3,bob,8000.00,lost,2026-07-01,南京启明",     # ¥, trailing spaces, Excel serial
        "D7,alice,1234.560000000001,won,2026-07-05,浮点",
        "D8,mia,9.99,won,2026-07-06,",
    ]
    assert "\r" not in text and not text.startswith("\ufeff")


def test_float_noise_and_encoding_are_warned(imported: ImportResult) -> None:
    warnings = {(p.code, p.line) for p in imported.problems if p.severity == "warning"}
    assert ("KPI0752", 12) in warnings
    assert ("KPI0702", 1) in warnings


def test_report_is_deterministic_json(imported: ImportResult) -> None:
    report = imported.report(complete=False)
    assert json.loads(json.dumps(report)) == report
    assert report["errors"] == 4 and report["ok"] is False
    assert all(s["sha256"].startswith("sha256:") for s in report["sources"])
