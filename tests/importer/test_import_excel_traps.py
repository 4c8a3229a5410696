"""Workbooks and Parquet files as real exports write them: rows past a stale size tag, Excel
error values, a hidden first sheet, ids shown with leading zeros, the 1904 date system, and
timestamps stored in UTC. Each must come out as shown, or be reported; never silently changed."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import pytest

openpyxl = pytest.importorskip("openpyxl")

from kpidsl.importer import read_xlsx  # noqa: E402
from kpidsl.importer.frames import read_parquet  # noqa: E402


def _book(path: Path, rows: list[list[object]], title: str = "deals") -> object:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for r in rows:
        ws.append(r)
    wb.save(path)
    return wb


def test_rows_past_a_stale_size_tag_are_read(tmp_path: Path) -> None:
    """Some exporters leave the sheet's <dimension> tag at an old size; openpyxl's read-only
    mode stops there unless told otherwise. 29 of 49 rows vanished."""
    path = tmp_path / "x.xlsx"
    _book(path, [["id", "amount"], *([f"D{i:03d}", i] for i in range(1, 50))])
    stale = tmp_path / "stale.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(stale, "w") as out:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data, n = re.subn(rb'<dimension ref="[^"]+"', b'<dimension ref="A1:B20"', data)
                assert n == 1
            out.writestr(item, data)
    table, problems = read_xlsx(stale, "deals", "stale.xlsx")
    assert table is not None and problems == []
    assert [r.cells[0] for r in table.rows] == [f"D{i:03d}" for i in range(1, 50)]


def test_an_excel_error_value_rejects_its_row(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["id", "stage", "customer"])
    ws.append(["D1", "won", "x"])
    ws.append(["D2", "#N/A", "y"])  # the saved result of a failed VLOOKUP (an error cell)
    ws.append(["D3", "won", "#DIV/0!"])
    assert ws["B3"].data_type == ws["C4"].data_type == "e"
    wb.save(path)
    table, problems = read_xlsx(path, "deals", "x.xlsx")
    assert table is not None and [r.cells for r in table.rows] == [("D1", "won", "x")]
    assert [(p.line, p.column, p.value, p.rejects) for p in problems] == [
        (3, "stage", "#N/A", True), (4, "customer", "#DIV/0!", True)]
    assert "the Excel error #N/A" in problems[0].message


def test_a_text_that_reads_like_an_error_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["id", "note"])
    ws.append(["D1", "#N/A"])
    ws["B2"].data_type = "s"  # stored as text ('#N/A typed with a quote), not as an error
    wb.save(path)
    table, problems = read_xlsx(path, "deals", "x.xlsx")
    assert table is not None and problems == [] and table.rows[0].cells == ("D1", "#N/A")


def test_without_a_sheet_name_the_first_visible_sheet_is_read(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    wb = openpyxl.Workbook()
    old = wb.active
    old.title = "旧数据"
    old.append(["id", "amount"])
    old.append(["OLD1", 999])
    old.sheet_state = "hidden"
    new = wb.create_sheet("合同明细")
    new.append(["id", "amount"])
    new.append(["D1", 10])
    wb.save(path)
    table, _ = read_xlsx(path, "deals", "x.xlsx")
    assert table is not None and table.file == "x.xlsx[合同明细]"
    assert [r.cells for r in table.rows] == [("D1", "10")]


def test_an_integer_shown_with_leading_zeros_is_read_as_shown(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["id", "amount"])
    ws.append([123, 5])
    ws.append(["00124", 6])
    ws["A2"].number_format = "00000"
    ws["B2"].number_format = "0.00"
    wb.save(path)
    table, problems = read_xlsx(path, "deals", "x.xlsx")
    assert table is not None and problems == []
    assert [r.cells for r in table.rows] == [("00123", "5"), ("00124", "6")]


def test_a_1904_workbook_is_warned_about(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    wb = openpyxl.Workbook()
    wb.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    ws = wb.active
    ws.append(["id", "signed_on", "serial"])
    ws.append(["D1", dt.date(2026, 7, 1), 44742])
    wb.save(path)
    table, problems = read_xlsx(path, "deals", "x.xlsx")
    assert table is not None and table.rows[0].cells[:2] == ("D1", "2026-07-01")  # a date cell: right
    assert [(p.code, p.severity) for p in problems] == [("KPI0754", "warning")]
    _book(tmp_path / "y.xlsx", [["id"], ["D1"]])
    assert read_xlsx(tmp_path / "y.xlsx", "deals", "y.xlsx")[1] == []  # the 1900 system: nothing to say


def test_a_timestamp_stored_in_utc_is_refused_and_a_local_one_kept(tmp_path: Path) -> None:
    """DuckDB writes TIMESTAMPTZ as an instant in UTC: 2026-07-01 00:00 in Beijing is
    2026-06-30 16:00 UTC, and taking its date moved the deal to the previous quarter."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    instant = dt.datetime(2026, 6, 30, 16, 0, tzinfo=dt.UTC)
    table = pa.table({"id": ["D1", "D2"],
                      "utc": pa.array([instant, instant], type=pa.timestamp("us", tz="UTC")),
                      "local": pa.array([instant, instant], type=pa.timestamp("us", tz="Asia/Shanghai")),
                      "naive": pa.array([dt.datetime(2026, 7, 1, 0, 0)] * 2, type=pa.timestamp("us"))})
    pq.write_table(table, tmp_path / "t.parquet")
    got, problems = read_parquet(tmp_path / "t.parquet", "deals", "t.parquet")
    assert got is not None and got.rows == ()  # both rows refused on their UTC cell
    assert [(p.line, p.column, p.rejects) for p in problems] == [(1, "utc", True), (2, "utc", True)]
    assert "depends on the time zone" in problems[0].message
    pq.write_table(table.drop(["utc"]), tmp_path / "t.parquet")
    got, problems = read_parquet(tmp_path / "t.parquet", "deals", "t.parquet")
    assert problems == [] and got is not None
    assert [r.cells for r in got.rows] == [("D1", "2026-07-01", "2026-07-01")] * 1 + [("D2", "2026-07-01",
                                                                                     "2026-07-01")]


@pytest.mark.parametrize("jsonl", [False, True])
def test_a_json_record_giving_a_key_twice_is_rejected(tmp_path: Path, jsonl: bool) -> None:
    from kpidsl.importer import read_json, read_jsonl

    records = ['{"id": "D1", "amount": 10}', '{"id": "D2", "amount": 10, "amount": 99}',
               '{"id": "D3", "amount": 5, " amount": 7}']
    path = tmp_path / "x.json"
    path.write_text("\n".join(records) if jsonl else "[" + ",\n".join(records) + "]", encoding="utf-8")
    table, problems = (read_jsonl if jsonl else read_json)(path, "deals", "x.json")
    assert table is not None and [r.cells for r in table.rows] == [("D1", "10")]
    assert [(p.line, p.column, p.rejects) for p in problems] == [(2, "amount", True), (3, "amount", True)]
    assert "given more than once" in problems[0].message


def test_the_import_report_beside_the_tables_is_not_a_file_not_read(tmp_path: Path) -> None:
    """`kpidsl import` writes import-report.json with the tables; reading the folder (CSV, or
    Parquet through the columnar sources) used to warn on every imported folder that it was
    not read (KPI0715), burying real warnings."""
    from kpidsl.columnar.sources import find_sources, unread
    from kpidsl.data.csvread import read_folder

    (tmp_path / "payees.csv").write_text("id,name,role,region,manager\na,A,AE,west,\n", encoding="utf-8")
    (tmp_path / "import-report.json").write_text("{}", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    _, diags = read_folder(tmp_path)
    assert [d.message.split(" ")[0] for d in diags] == [f"{tmp_path.name}/notes.txt"]
    assert [d.message.split(" ")[0] for d in unread(tmp_path, find_sources(tmp_path))] == \
        [f"{tmp_path.name}/notes.txt"]
