"""Readers: Excel sheets, JSON, JSON Lines, Parquet and in-memory frames."""

from __future__ import annotations

import datetime as dt
import importlib.util
from decimal import Decimal
from pathlib import Path

import pytest

from kpidsl.importer import read_json, read_jsonl
from kpidsl.importer.frames import read_frame, read_parquet


def test_xlsx_title_block_merged_cells_dates_and_rows(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    from kpidsl.importer import read_xlsx

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "S"
    ws["A1"] = "标题"
    ws.merge_cells("A1:C1")
    ws.append(["编号", "金额", "日期"])
    ws.append(["A", 1.5, dt.datetime(2026, 7, 1, 8, 0)])
    ws.append([None, None, None])
    ws.append(["B", 7, dt.date(2026, 7, 2)])
    ws.merge_cells("B3:B5")
    wb.save(tmp_path / "x.xlsx")
    table, problems = read_xlsx(tmp_path / "x.xlsx", "deals", "x.xlsx", sheet="S", header_row=2)
    # B5 is empty: it is under the merged range B3:B5, whose value is B3's (the title's
    # merge A1:C1 hides nothing of a data row)
    assert [(p.code, p.line, p.rejects) for p in problems] == [("KPI0755", 5, False)] and table is not None
    assert "B3:B5" in problems[0].message and "金额" in problems[0].message
    assert table.header == ("编号", "金额", "日期")
    assert [(r.ref.line, r.cells) for r in table.rows] == [
        (3, ("A", "1.5", "2026-07-01")), (5, ("B", "", "2026-07-02"))]
    assert table.file == "x.xlsx[S]"


def test_xlsx_missing_sheet_is_reported(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    from kpidsl.importer import read_xlsx

    openpyxl.Workbook().save(tmp_path / "x.xlsx")
    table, problems = read_xlsx(tmp_path / "x.xlsx", "deals", "x.xlsx", sheet="nope")
    assert table is None and problems[0].code == "KPI0751" and "nope" in problems[0].message


def test_json_numbers_are_exact_and_nested_values_rejected(tmp_path: Path) -> None:
    (tmp_path / "d.json").write_text(
        '[{"id": "D1", "amount": 0.30000000000000004}, {"id": "D2", "amount": [1]}, 5]',
        encoding="utf-8")
    table, problems = read_json(tmp_path / "d.json", "deals", "d.json")
    assert table is not None
    assert [r.cells for r in table.rows] == [("D1", "0.30000000000000004")]
    assert {(p.line, p.column) for p in problems if p.rejects} == {(2, "amount"), (3, "")}


def test_jsonl_lines_are_physical(tmp_path: Path) -> None:
    (tmp_path / "d.jsonl").write_text('{"id": "a"}\n\n{"id": true}\n{oops\n', encoding="utf-8")
    table, problems = read_jsonl(tmp_path / "d.jsonl", "deals", "d.jsonl")
    assert table is not None
    assert [(r.ref.line, r.cells) for r in table.rows] == [(1, ("a",)), (3, ("true",))]
    assert [(p.line, p.rejects) for p in problems] == [(4, True)]


def test_parquet_decimal_exact_and_float_columns_refused(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    exact = pa.table({"id": ["D1"], "amount": pa.array([Decimal("12.30")], pa.decimal128(12, 2)),
                      "on": pa.array([dt.date(2026, 7, 1)])})
    pq.write_table(exact, tmp_path / "ok.parquet")
    table, problems = read_parquet(tmp_path / "ok.parquet", "deals", "ok.parquet")
    assert problems == [] and table is not None
    assert table.rows[0].cells == ("D1", "12.30", "2026-07-01")
    floats = pa.table({"id": ["D1", "D2"], "amount": [0.1, 2.5]})  # float-ok
    pq.write_table(floats, tmp_path / "f.parquet")
    table, problems = read_parquet(tmp_path / "f.parquet", "deals", "f.parquet")
    assert table is not None and table.rows == ()
    assert {p.line for p in problems if p.rejects} == {1, 2}
    assert any(p.code == "KPI0753" and p.column == "amount" for p in problems)
    table, problems = read_parquet(tmp_path / "f.parquet", "deals", "f.parquet", floats="convert")
    assert table is not None and [r.cells[1] for r in table.rows] == ["0.1", "2.5"]


def test_arrow_table_in_memory() -> None:
    pa = pytest.importorskip("pyarrow")
    table, problems = read_frame(pa.table({"id": ["x"], "n": [3], "ok": [True]}), "deals")
    assert problems == [] and table is not None
    assert table.rows[0].cells == ("x", "3", "true") and table.file == "<deals>"


@pytest.mark.skipif(importlib.util.find_spec("pandas") is None, reason="pandas not installed")
def test_pandas_frame_with_decimals() -> None:  # pragma: no cover - only where pandas exists
    import pandas as pd

    frame = pd.DataFrame({"id": ["x"], "amount": [Decimal("1.50")]})
    table, problems = read_frame(frame, "deals")
    assert problems == [] and table is not None and table.rows[0].cells == ("x", "1.50")


def test_not_a_frame_is_reported() -> None:
    table, problems = read_frame(object(), "deals")
    assert table is None and problems[0].code == "KPI0751"
