"""Four ways `kpidsl import` read a workbook or a column otherwise than its user sees it:
rows and columns hidden in Excel imported without a word, a bare ``60`` in a ``percent = true``
column read as 6000%, a value stored under a merged range (Excel does not show it) read
silently, and ``validate --plan`` given a folder said "no such plan file"."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

openpyxl = pytest.importorskip("openpyxl")

from kpidsl.cli import main  # noqa: E402
from kpidsl.importer import import_mapping, read_xlsx  # noqa: E402

HEADER = ["id", "payee", "amount", "stage", "signed_on", "customer"]


def _deal(i: int, customer: object = "c") -> list[object]:
    return [f"D{i}", "alice", 10 * i, "won", f"2026-07-{i:02d}", customer]


def _import(tmp_path: Path, sources: str) -> object:
    (tmp_path / "p.csv").write_text("id\nalice\n", encoding="utf-8")
    (tmp_path / "m.toml").write_text('version = 1\n\n[[source]]\nfile = "p.csv"\n'
                                     'table = "payees"\n\n' + sources, encoding="utf-8")
    result, problems = import_mapping(tmp_path / "m.toml")
    assert result is not None, problems
    for s in result.sources:
        assert s.rows_read == s.rows_accepted + s.rows_rejected
    return result


def _codes(problems: object, code: str) -> list[tuple[int, str, int]]:
    return [(p.line, p.column, p.col) for p in problems  # type: ignore[attr-defined]
            if p.code == code]


# --- 1. hidden rows and columns ---------------------------------------------------------------

def _hidden_book(path: Path) -> Path:
    """Title block (row 1 hidden too), header on row 2, deals on rows 3-9: rows 4-5 hidden,
    row 6 visible, row 7 hidden and empty, row 8 hidden; column F (customer) hidden, column G
    (a helper column the mapping ignores) hidden, column H (mapped, empty) hidden."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "deals"
    ws.append(["华东销售 2026 Q3"])
    ws.append([*HEADER, "helper", "note"])
    for i in (1, 2, 3, 4):
        ws.append([*_deal(i), "x", None])
    ws.append([])
    for i in (5, 6):
        ws.append([*_deal(i), "x", None])
    for n in (1, 4, 5, 7, 8):
        ws.row_dimensions[n].hidden = True
    for letter in "FGH":
        ws.column_dimensions[letter].hidden = True
    wb.save(path)
    return path


def test_hidden_rows_are_read_with_a_warning_per_run(tmp_path: Path) -> None:
    """Rows hidden in Excel (often old or cancelled deals) were imported without a word."""
    path = _hidden_book(tmp_path / "x.xlsx")
    table, problems = read_xlsx(path, "deals", "x.xlsx", header_row=2,
                                only={*HEADER, "note"})
    assert table is not None
    assert [r.ref.line for r in table.rows] == [3, 4, 5, 6, 8, 9]  # none skipped
    rows = [p for p in problems if p.code == "KPI0757" and not p.column]
    assert [(p.severity, p.line, p.rejects) for p in rows] == [
        ("warning", 4, False), ("warning", 8, False)]
    assert rows[0].render() == (
        "warning[KPI0757]: x.xlsx[deals] rows 4-5: hidden in Excel (hidden, or left out by a filter) "
        "(2 data rows); read like the visible rows, not skipped: if they are not to be imported "
        "(old or cancelled rows), delete them from the sheet")
    assert rows[1].message.startswith("x.xlsx[deals] row 8: hidden in Excel (hidden, or left "
                                      "out by a filter); read like")


def test_a_hidden_mapped_column_with_values_is_warned(tmp_path: Path) -> None:
    path = _hidden_book(tmp_path / "x.xlsx")
    table, problems = read_xlsx(path, "deals", "x.xlsx", header_row=2,
                                only={*HEADER, "note"})
    # customer (F) is mapped and holds values; helper (G) is ignored; note (H) is empty
    assert _codes([p for p in problems if p.column], "KPI0757") == [(2, "customer", 6)]
    [w] = [p for p in problems if p.column]
    assert w.message == ("x.xlsx[deals] column F (customer): hidden in Excel; its values are read "
                         "like those of the visible columns: check them in the workbook "
                         "(unhide the column)")
    assert table is not None and {r.cells[5] for r in table.rows} == {"c"}


def test_hidden_rows_reach_the_data_folder_and_the_report(tmp_path: Path) -> None:
    _hidden_book(tmp_path / "x.xlsx")
    result = _import(tmp_path, '[[source]]\nfile = "x.xlsx"\ntable = "deals"\nheader_row = 2\n'
                     '[source.columns]\nid = "id"\npayee = "payee"\namount = "amount"\n'
                     'stage = "stage"\nsigned_on = "signed_on"\n')
    lines = result.files["deals.csv"].decode().splitlines()  # type: ignore[attr-defined]
    assert [line.split(",")[0] for line in lines[1:]] == ["D1", "D2", "D3", "D4", "D5", "D6"]
    hidden = [p for p in result.problems if p.code == "KPI0757"]  # type: ignore[attr-defined]
    assert [(p.sheet, p.line) for p in hidden] == [("deals", 4), ("deals", 8)]
    assert result.ok  # type: ignore[attr-defined]


def test_a_sheet_without_hidden_rows_gets_no_warning(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append(_deal(1))
    ws.row_dimensions[2].height = 30  # a row with other attributes is not hidden
    ws.column_dimensions["F"].width = 40
    wb.save(tmp_path / "x.xlsx")
    table, problems = read_xlsx(tmp_path / "x.xlsx", "deals", "x.xlsx")
    assert table is not None and problems == []


# --- 2. bare numbers in a percent column ---------------------------------------------------------

PERCENT = ('[[source]]\nfile = "{file}"\ntable = "deals"\n'
           '[source.numbers.rate]\npercent = true\n')


def test_a_bare_number_in_a_percent_column_rejects_its_row(tmp_path: Path) -> None:
    """`12.5%` was 0.125 but a bare `60` in the same column was 60 (6000%), silently."""
    (tmp_path / "d.csv").write_text(
        "id,payee,amount,stage,signed_on,rate\n"
        "D1,alice,1,won,2026-07-01,12.5%\n"
        "D2,alice,1,won,2026-07-01,60\n"
        "D3,alice,1,won,2026-07-01,0.6\n"
        "D4,alice,1,won,2026-07-01,0\n"
        "D5,alice,1,won,2026-07-01,６０％\n"
        "D6,alice,1,won,2026-07-01,\n", encoding="utf-8")
    result = _import(tmp_path, PERCENT.format(file="d.csv"))
    bad = [p for p in result.problems if p.severity == "error"]  # type: ignore[attr-defined]
    assert [(p.code, p.file, p.line, p.column, p.value, p.rejects) for p in bad] == [
        ("KPI0759", "d.csv", 3, "rate", "60", True), ("KPI0759", "d.csv", 4, "rate", "0.6", True)]
    assert bad[0].render() == (
        "error[KPI0759]: d.csv line 3, column rate: invalid rate '60': a number without a % "
        "sign in a percent column (numbers.rate: percent = true) is ambiguous: 60% or 6000%? "
        "Write it with its sign (60% or 6000%); a workbook number formatted as a percentage is "
        "read as stored. If the column holds only ratios (0.6 for 60%), remove percent = true; "
        "the row was rejected")
    assert "(0.6% or 60%)" in bad[1].message
    lines = result.files["deals.csv"].decode().splitlines()  # type: ignore[attr-defined]
    assert lines[1:] == ["D1,alice,1,won,2026-07-01,0.125", "D4,alice,1,won,2026-07-01,0",
                         "D5,alice,1,won,2026-07-01,0.60", "D6,alice,1,won,2026-07-01,"]


def test_a_workbook_number_formatted_as_a_percentage_is_read_as_stored(tmp_path: Path) -> None:
    """60% in Excel is 0.6 in the file: the one number without a sign that is not ambiguous
    (100% is stored as the integer 1). A plain 60 in the same column is ambiguous."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([*HEADER[:5], "rate"])
    ws.append(["D1", "alice", 1, "won", "2026-07-01", 0.6])
    ws.append(["D2", "alice", 1, "won", "2026-07-01", 1])
    ws.append(["D3", "alice", 1, "won", "2026-07-01", 0.125])
    ws.append(["D4", "alice", 1, "won", "2026-07-01", 60])  # General format: a bare 60
    ws.append(["D5", "alice", 1, "won", "2026-07-01", "60%"])  # text with its sign
    for ref in ("F2", "F3"):
        ws[ref].number_format = "0%"
    ws["F4"].number_format = "0.0%"
    wb.save(tmp_path / "x.xlsx")
    result = _import(tmp_path, PERCENT.format(file="x.xlsx"))
    bad = [p for p in result.problems if p.severity == "error"]  # type: ignore[attr-defined]
    assert [(p.code, p.line, p.value) for p in bad] == [("KPI0759", 5, "60")]
    assert [p.code for p in result.problems] == ["KPI0759"]  # type: ignore[attr-defined]
    lines = result.files["deals.csv"].decode().splitlines()  # type: ignore[attr-defined]
    assert [line.rsplit(",", 1)[1] for line in lines[1:]] == ["0.6", "1", "0.125", "0.60"]


def test_a_default_in_a_percent_column_is_a_target_value(tmp_path: Path) -> None:
    """A default is a data-folder value: the ratio 0.05 is accepted; 5 (5% or 500%?) is
    ambiguous as in a data folder (KPI0712)."""
    (tmp_path / "d.csv").write_text("id,payee,amount,stage,signed_on,rate\n"
                                    "D1,alice,1,won,2026-07-01,\n", encoding="utf-8")
    ok = _import(tmp_path, PERCENT.format(file="d.csv") + '[source.defaults]\nrate = "0.05"\n')
    assert ok.files["deals.csv"].decode().endswith(",0.05\n")  # type: ignore[attr-defined]
    bad = _import(tmp_path, PERCENT.format(file="d.csv") + '[source.defaults]\nrate = "5"\n')
    assert [p.code for p in bad.problems] == ["KPI0712"]  # type: ignore[attr-defined]


# --- 3. a value hidden under a merged range ------------------------------------------------------

def _with_merges(path: Path, rows: list[list[object]], *refs: str) -> Path:
    """A sheet whose ``<mergeCells>`` are added to the XML as another program writes them:
    the cells under each range keep their values (Excel, merging, would have cleared them)."""
    plain = path.with_name("plain.xlsx")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "deals"
    ws.append(HEADER)
    for r in rows:
        ws.append(r)
    wb.save(plain)
    cells = "".join(f'<mergeCell ref="{ref}"/>' for ref in refs)
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w") as out:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data, n = re.subn(rb"</sheetData>", f'</sheetData><mergeCells count="{len(refs)}">'
                                  f"{cells}</mergeCells>".encode(), data)
                assert n == 1
            out.writestr(item, data)
    return path


def test_a_value_under_a_merged_range_is_read_with_a_warning(tmp_path: Path) -> None:
    """F2:F3 shows 上海天诚 on both rows; the file also holds 南京启明 in F3, which Excel does
    not show: it was imported as row 3's customer without a word."""
    path = _with_merges(tmp_path / "x.xlsx", [
        _deal(1, "上海天诚"), _deal(2, "南京启明"), _deal(3, None),
        ["D4", "alice", 40, "won", "2026-07-04", "青岛众联"],
    ], "F2:F3", "C4:D4", "F4:F5")
    table, problems = read_xlsx(path, "deals", "x.xlsx")
    assert table is not None
    assert [r.cells[5] for r in table.rows] == ["上海天诚", "南京启明", "", "青岛众联"]
    assert [r.cells[3] for r in table.rows] == ["won"] * 4  # read as stored
    hidden = [p for p in problems if p.code == "KPI0758"]
    assert [(p.severity, p.line, p.column, p.col, p.value, p.rejects) for p in hidden] == [
        ("warning", 3, "customer", 6, "南京启明", False), ("warning", 4, "stage", 4, "won", False),
        ("warning", 5, "customer", 6, "青岛众联", False)]
    assert hidden[0].render() == (
        "warning[KPI0758]: x.xlsx[deals] row 3, column F (customer): holds 南京启明, which "
        "Excel does not show: the cell is under the merged range F2:F3, which shows the value "
        "上海天诚 of F2; it was read as stored: unmerge the range to see it, then keep or clear "
        "it")
    assert "merged range F4:F5, which shows nothing (its first cell F4 is empty)" in (
        hidden[2].message)
    assert _codes(problems, "KPI0755") == []  # no cell of these ranges was left empty


def test_a_hidden_value_in_an_ignored_column_is_not_warned(tmp_path: Path) -> None:
    path = _with_merges(tmp_path / "x.xlsx", [_deal(1, "a"), _deal(2, "b")], "F2:F3")
    table, problems = read_xlsx(path, "deals", "x.xlsx", only=set(HEADER) - {"customer"})
    assert table is not None and problems == []


# --- 5. validate --plan given a folder ------------------------------------------------------------

def test_validate_with_a_folder_for_the_plan_says_so(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "payees.csv").write_text("id\nalice\n", encoding="utf-8")
    assert main(["validate", "--data", str(data), "--plan", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"error: a folder, not a plan file: {tmp_path}\n"
    assert main(["validate", "--data", str(data), "--plan", str(tmp_path / "nope.kpi")]) == 2
    assert capsys.readouterr().err == f"error: no such plan file: {tmp_path / 'nope.kpi'}\n"
