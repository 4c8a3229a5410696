"""Three ways an import lost or misreported something silently: a vertically merged cell read
as empty on its later rows, a refused source counted as "read 0 rows", and mapping keys that
do not apply to their source's format ignored without a word."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

openpyxl = pytest.importorskip("openpyxl")

from importcorpus import build  # noqa: E402

from kpidsl.importer import import_mapping, parse_mapping, read_xlsx  # noqa: E402
from kpidsl.importer.report import summary_table  # noqa: E402

HEADER = ["id", "payee", "amount", "stage", "signed_on", "customer"]


def _merged(path: Path, rows: list[list[object]], *merges: str, title: bool = False) -> Path:
    """A sheet `deals` (header on row 1, or row 3 below a merged title block), then ``rows``."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "deals"
    if title:
        ws.append(["华东销售 2026 Q3 提成计算表"])
        ws.append(["制表：财务部"])
    ws.append(HEADER)
    for r in rows:
        ws.append(r)
    for ref in merges:
        ws.merge_cells(ref)
    wb.save(path)
    return path


def _merge_warnings(problems: object) -> list[tuple[int, str, int]]:
    return [(p.line, p.column, p.col) for p in problems  # type: ignore[attr-defined]
            if p.code == "KPI0755"]


# --- 1. vertically merged cells --------------------------------------------------------------

def test_a_cell_left_empty_by_a_vertical_merge_is_warned_at_that_cell(tmp_path: Path) -> None:
    """客户名称 merged over F4:F5: Excel shows 上海天诚 on both rows, the file holds it in F4
    only. Row 5 was read with no customer, silently."""
    result, problems = import_mapping(build(tmp_path))
    assert problems == [] and result is not None
    [w] = [p for p in result.problems if p.code == "KPI0755"]
    assert (w.severity, w.file, w.sheet, w.line, w.column, w.col, w.rejects) == (
        "warning", "commission.xlsx[合同明细]", "合同明细", 5, "客户名称", 6, False)
    assert w.render() == (
        "warning[KPI0755]: commission.xlsx[合同明细] row 5, column F (客户名称): empty: the cell "
        "is part of the merged range F4:F5, whose value 上海天诚 is in row 4; unmerge the range "
        "and fill each row if the value belongs to each")
    # not filled down: whether D2's customer is 上海天诚 is the user's decision
    lines = result.files["deals.csv"].decode("utf-8").splitlines()
    assert "D2,alice,12300.00,won,2026-07-01," in lines


def test_every_later_row_and_mapped_column_of_a_range_is_warned(tmp_path: Path) -> None:
    path = _merged(tmp_path / "x.xlsx", [
        ["D1", "alice", 10, "won", "2026-07-01", "上海天诚"],
        ["D2", "alice", 20, "won", "2026-07-02", None],
        ["D3", "bob", 30, "won", "2026-07-03", None],
        ["D4", "bob", 40, "won", "2026-07-04", "南京启明"],
    ], "F2:F4", "D3:E4")  # a stage and a date spanning two columns and two rows
    table, problems = read_xlsx(path, "deals", "x.xlsx")
    assert table is not None
    assert sorted(_merge_warnings(problems)) == [
        (3, "customer", 6), (4, "customer", 6), (4, "signed_on", 5), (4, "stage", 4)]
    at = {(p.line, p.col): p.message for p in problems}
    assert "merged range F2:F4, whose value 上海天诚 is in row 2;" in at[(4, 6)]
    assert "merged range D3:E4, whose value won is in row 3;" in at[(4, 4)]
    assert "merged range D3:E4, whose value won is in cell D3;" in at[(4, 5)]
    assert [r.cells[5] for r in table.rows] == ["上海天诚", "", "", "南京启明"]  # never filled


def test_merges_that_hide_no_data_row_value_are_not_warned(tmp_path: Path) -> None:
    """A title block, a header cell spanning into the first data row, a range within one row,
    an empty range, a range over a column the mapping ignores (customer) and one over a column
    without a header hide no data."""
    path = _merged(tmp_path / "x.xlsx", [  # header on row 3, data on rows 4-7
        ["D1", "alice", 10, "won", "2026-07-01", "上海天诚", "note"],
        ["D2", "alice", 20, "won", "2026-07-02", "上海天诚", None],
        ["D3", "bob", None, "won", "2026-07-03", None, None],
        ["D4", "bob", None, "won", "2026-07-04", "青岛众联", None],
    ], "A1:F1", "A2:F2", "B3:B4", "C6:C7", "F5:F6", "G4:G5", "D6:E6", title=True)
    table, problems = read_xlsx(path, "deals", "x.xlsx", header_row=3,
                                only=set(HEADER) - {"customer"})
    assert table is not None and _merge_warnings(problems) == []
    assert [r.ref.line for r in table.rows] == [4, 5, 6, 7]
    table, problems = read_xlsx(path, "deals", "x.xlsx", header_row=3)  # customer mapped
    assert _merge_warnings(problems) == [(6, "customer", 6)]


def test_a_range_spanning_the_header_and_a_data_row_is_not_data(tmp_path: Path) -> None:
    path = _merged(tmp_path / "x.xlsx", [["D1", "alice", 10, "won", "2026-07-01", None]],
                   "F1:F2")
    table, problems = read_xlsx(path, "deals", "x.xlsx")
    assert table is not None and _merge_warnings(problems) == []


# --- 2. a refused source is "not read", not "0 rows" ----------------------------------------

def _write(tmp_path: Path, mapping: str) -> Path:
    (tmp_path / "m.toml").write_text(mapping, encoding="utf-8")
    return tmp_path / "m.toml"


REFUSED = """version = 1

[[source]]
file = "x.csv"
table = "deals"
encoding = "gbk"

[[source]]
file = "empty.csv"
table = "deals"

[[source]]
file = "missing.csv"
table = "deals"
"""


def test_a_refused_source_is_reported_as_not_read_with_its_reason(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text("id,customer\nD1,上海天诚\n", encoding="utf-8")
    (tmp_path / "empty.csv").write_text(",".join(HEADER[:5]) + "\n", encoding="utf-8")
    result, problems = import_mapping(_write(tmp_path, REFUSED))
    assert problems == [] and result is not None
    by = {s.source: s for s in result.sources}
    assert [(s.status, s.rows_read) for s in result.sources] == [
        ("not read", 0), ("read", 0), ("not read", 0)]
    assert by["x.csv"].reason.startswith("KPI0751: the file is UTF-8 text, not gbk")
    assert by["missing.csv"].reason.startswith("KPI0751: ")
    assert by["empty.csv"].reason == ""

    report = json.loads(json.dumps(result.report(complete=False)))
    sources = {s["source"]: s for s in report["sources"]}
    refused = sources["x.csv"]
    assert refused["status"] == "not read" and refused["reason"].startswith("KPI0751: ")
    assert (refused["rows_read"], refused["rows_accepted"], refused["rows_rejected"]) == (
        None, None, None)
    empty = sources["empty.csv"]
    assert (empty["status"], empty["reason"], empty["rows_read"]) == ("read", None, 0)
    for s in report["sources"]:
        if s["status"] == "read":
            assert s["rows_read"] == s["rows_accepted"] + s["rows_rejected"]

    text = summary_table(result.sources).splitlines()
    assert text[0].split() == ["source", "read", "accepted", "rejected"]
    assert text[1].split()[:4] == ["x.csv", "-", "-", "-"]
    assert "not read (KPI0751: the file is UTF-8 text, not gbk" in text[1]
    assert text[2].split() == ["empty.csv", "0", "0", "0"]
    assert "not read (KPI0751: " in text[3]


def test_a_workbook_without_its_header_row_is_not_read(tmp_path: Path) -> None:
    _merged(tmp_path / "w.xlsx", [["D1", "alice", 10, "won", "2026-07-01", "x"]])
    result, _ = import_mapping(_write(tmp_path, '[[source]]\nfile = "w.xlsx"\ntable = "deals"\n'
                                      "header_row = 9\n"))
    assert result is not None
    [s] = result.sources
    assert s.status == "not read" and s.reason.startswith("KPI0703: ")


def test_a_source_whose_rows_were_all_rejected_was_read(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text("id,payee\nD1,alice\nD2,bob\n", encoding="utf-8")
    result, _ = import_mapping(_write(tmp_path, '[[source]]\nfile = "x.csv"\ntable = "deals"\n'))
    assert result is not None
    [s] = result.sources  # missing required columns: every row read and rejected
    assert (s.status, s.rows_read, s.rows_accepted, s.rows_rejected) == ("read", 2, 0, 2)


# --- 3. mapping keys that do not apply to the source's format --------------------------------

NO_EFFECT = """version = 1

[[source]]
file = "a.csv"
table = "deals"
sheet = "合同明细"

[[source]]
file = "b.json"
table = "deals"
header_row = 3
encoding = "gbk"

[[source]]
file = "c.xlsx"
table = "deals"
sheet = "S"
header_row = 2
encoding = "gb18030"

[[source]]
file = "d.parquet"
table = "deals"
sheet = "S"
header_row = 2
encoding = "gbk"

[[source]]
file = "e.txt"
format = "tsv"
table = "deals"
header_row = 2
encoding = "utf-16"
"""


def test_keys_without_effect_for_the_format_are_warned_at_their_line() -> None:
    mapping, problems = parse_mapping(NO_EFFECT, "m.toml")
    assert mapping is not None
    assert all((p.code, p.severity, p.file) == ("KPI0756", "warning", "m.toml") for p in problems)
    assert [(p.line, p.column) for p in problems] == [
        (6, "source[0].sheet"),
        (11, "source[1].header_row"), (12, "source[1].encoding"),
        (19, "source[2].encoding"),
        (24, "source[3].sheet"), (25, "source[3].header_row"), (26, "source[3].encoding"),
    ]
    assert problems[0].render() == (
        "warning[KPI0756]: m.toml:6: source[0].sheet: has no effect for a csv source (only a "
        "workbook (xlsx) has sheets); remove it")
    assert "has no effect for a json source" in problems[2].message
    assert "has no effect for a xlsx source" in problems[3].message


def test_keys_that_apply_are_not_warned() -> None:
    text = ('[[source]]\nfile = "a.csv"\ntable = "deals"\nheader_row = 2\nencoding = "gbk"\n'
            '[[source]]\nfile = "c.xlsx"\ntable = "deals"\nsheet = "S"\nheader_row = 2\n'
            '[[source]]\nfile = "d.parquet"\ntable = "deals"\nfloats = "convert"\n')
    mapping, problems = parse_mapping(text, "m.toml")
    assert mapping is not None and problems == []


def test_a_key_without_effect_is_in_the_import_report_and_names_no_sheet(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text(",".join(HEADER[:5]) + "\nD1,alice,10,won,2026-07-01\n",
                                    encoding="utf-8")
    (tmp_path / "payees.csv").write_text("id,name,role,region,manager\nalice,A,AE,east,\n",
                                         encoding="utf-8")
    result, problems = import_mapping(_write(tmp_path, (
        '[[source]]\nfile = "payees.csv"\ntable = "payees"\n'
        '[[source]]\nfile = "a.csv"\ntable = "deals"\nsheet = "合同明细"\n')))
    assert problems == [] and result is not None and result.ok
    [w] = [p for p in result.problems if p.code == "KPI0756"]
    assert (w.file, w.line, w.severity) == ("m.toml", 7, "warning")
    assert [s.source for s in result.sources] == ["payees.csv", "a.csv"]  # not a.csv[合同明细]
    assert result.tables == {"deals": 1, "payees": 1}
