"""Reading CSV files: encodings, line numbers, ragged rows, headers, folders, records, test tables."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from datahelp import codes_of, only

from kpidsl import ast
from kpidsl.data import codes
from kpidsl.data.csvread import read_csv, read_folder, table_from_test, tables_from_records
from kpidsl.source import Span

DEALS = "id,payee,amount\nD1,alice,10\nD2,bob,20\n"


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_utf8_with_bom_is_read_and_the_bom_dropped(tmp_path: Path) -> None:
    path = write(tmp_path, "deals.csv", b"\xef\xbb\xbf" + DEALS.encode())
    table, diags = read_csv(path, display="data/deals.csv")
    assert diags == []
    assert table is not None
    assert table.header == ("id", "payee", "amount")
    assert table.file == "data/deals.csv"
    assert table.name == "deals"


def test_gb18030_file_is_read_with_a_warning_naming_the_encoding(tmp_path: Path) -> None:
    text = "id,name,role\np1,张伟,销售\np2,李娜,经理\n"
    path = write(tmp_path, "payees.csv", text.encode("gb18030"))
    table, diags = read_csv(path)
    assert table is not None
    assert [r.cells[1] for r in table.rows] == ["张伟", "李娜"]
    diag = only(diags, codes.ENCODING_DETECTED)
    assert diag.severity == "warning"
    assert "GB18030" in diag.message
    assert diag.span.line == 2


def test_undecodable_file_is_refused_naming_the_byte_offset_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "deals.csv", b"id,payee\nD1,al\x80\xffice\n")
    table, diags = read_csv(path, display="data/deals.csv")
    assert table is None
    diag = only(diags, codes.UNDECODABLE)
    assert "byte offset 14" in diag.message and "line 2" in diag.message
    assert (diag.span.line, diag.span.col) == (2, 6)


def test_utf16_file_is_refused_with_a_specific_message(tmp_path: Path) -> None:
    path = write(tmp_path, "deals.csv", DEALS.encode("utf-16"))
    table, diags = read_csv(path)
    assert table is None
    assert "UTF-16" in only(diags, codes.UNDECODABLE).message


def test_blank_lines_are_skipped_but_keep_line_numbers(tmp_path: Path) -> None:
    text = "id,payee,amount\n\nD1,alice,10\n   \n,,\nD2,bob,20\n"
    table, diags = read_csv(write(tmp_path, "deals.csv", text.encode()))
    assert diags == []
    assert table is not None
    assert [r.ref.line for r in table.rows] == [3, 6]


def test_quoted_multiline_cell_counts_its_lines(tmp_path: Path) -> None:
    text = 'id,payee,note\r\nD1,alice,"line one\r\nline two\r\nline three"\r\nD2,bob,x\r\n'
    table, _ = read_csv(write(tmp_path, "deals.csv", text.encode()))
    assert table is not None
    assert [r.ref.line for r in table.rows] == [2, 5]
    assert table.rows[0].cells[2] == "line one\r\nline two\r\nline three"


def test_cells_and_header_names_are_stripped_and_columns_numbered(tmp_path: Path) -> None:
    table, _ = read_csv(write(tmp_path, "d.csv", b" id , payee \n D1 ,  alice \n"))
    assert table is not None
    assert table.header == ("id", "payee")
    assert table.rows[0].cells == ("D1", "alice")
    assert table.rows[0].cols == (1, 2)


def test_rows_with_more_or_fewer_cells_are_rejected_never_truncated(tmp_path: Path) -> None:
    text = "id,payee,amount\nD1,alice,1,234.50\nD2,bob\nD3,bob,5\n"
    table, diags = read_csv(write(tmp_path, "deals.csv", text.encode()), display="data/deals.csv")
    assert table is not None
    assert [r.cells[0] for r in table.rows] == ["D3"]
    ragged = [d for d in diags if d.code == codes.RAGGED_ROW]
    assert [(d.span.line, d.severity) for d in ragged] == [(2, "error"), (3, "error")]
    assert "4 cells" in ragged[0].message and "more" in ragged[0].message
    assert "2 cells" in ragged[1].message and "fewer" in ragged[1].message


def test_duplicate_and_empty_header_names_refuse_the_file(tmp_path: Path) -> None:
    table, diags = read_csv(write(tmp_path, "a.csv", b"id,amount,amount\nD1,1,2\n"))
    assert table is None
    assert "appears twice" in only(diags, codes.DUPLICATE_COLUMN).message
    table, diags = read_csv(write(tmp_path, "b.csv", b"id,,amount\nD1,1,2\n"))
    assert table is None
    assert only(diags, codes.BAD_HEADER).span.col == 2


def test_empty_file_has_no_header(tmp_path: Path) -> None:
    table, diags = read_csv(write(tmp_path, "deals.csv", b"\n\n"))
    assert table is None
    assert codes_of(diags) == [codes.BAD_HEADER]


def test_malformed_quoting_is_reported(tmp_path: Path) -> None:
    _, diags = read_csv(write(tmp_path, "d.csv", b'id,note\nD1,"open\n'))
    assert codes.MALFORMED_CSV in codes_of(diags)


def test_read_folder_reads_sorted_csv_files_keyed_by_stem(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    write(folder, "payees.csv", b"id\nalice\n")
    write(folder, "deals.csv", DEALS.encode())
    write(folder, ".DS_Store", b"hidden files are skipped")
    tables, diags = read_folder(folder)
    assert diags == []
    assert list(tables) == ["deals", "payees"]
    assert tables["deals"].rows[0].ref.file == "data/deals.csv"


def test_read_folder_missing() -> None:
    tables, diags = read_folder(Path("/nonexistent/kpidsl-data"))
    assert tables == {}
    assert codes_of(diags) == [codes.FOLDER_NOT_FOUND]


def test_records_are_turned_into_canonical_text() -> None:
    records = [
        {"id": "D1", "amount": Decimal("1E+3"), "signed_on": dt.date(2026, 7, 1), "won": True},
        {"id": "D2", "amount": 5, "won": False, "customer": None},
    ]
    table, diags = tables_from_records("deals", records)
    assert diags == []
    assert table is not None
    assert table.header == ("id", "amount", "signed_on", "won", "customer")
    assert table.rows[0].cells == ("D1", "1000", "2026-07-01", "true", "")
    assert table.rows[1].cells == ("D2", "5", "", "false", "")
    assert [r.ref.line for r in table.rows] == [1, 2]


def test_records_refuse_floats_and_datetimes() -> None:
    records = [
        {"id": "D1", "amount": 0.1},
        {"id": "D2", "amount": dt.datetime(2026, 1, 1)},
        {"id": "D3", "amount": "0.1"},
    ]
    table, diags = tables_from_records("deals", records)
    assert table is not None
    assert [r.cells[0] for r in table.rows] == ["D3"]
    assert codes_of(diags) == [codes.UNSUPPORTED_PYTHON_VALUE] * 2
    assert "use Decimal or str" in diags[0].message
    assert "record 1" in diags[0].message


def _cell(text: str, line: int, col: int, quoted: bool = False) -> ast.Cell:
    return ast.Cell(text, quoted, span=Span("plan.kpi", line, col, line, col + len(text)))


def test_inline_test_table_keeps_plan_lines_and_dash_is_empty() -> None:
    header = (_cell("id", 10, 5), _cell("role", 10, 12), _cell("manager", 10, 18))
    rows = (
        (_cell("alice", 11, 5), _cell("AE", 11, 12), _cell("-", 11, 18)),
        (_cell("bob", 12, 5), _cell("AE", 12, 12), _cell("-", 12, 18, quoted=True)),
    )
    table = table_from_test(ast.TestTable("payees", header, rows), "plan.kpi")
    assert table.header == ("id", "role", "manager")
    assert table.header_line == 10
    assert [r.ref.line for r in table.rows] == [11, 12]
    assert table.rows[0].cells == ("alice", "AE", "")
    assert table.rows[1].cells == ("bob", "AE", "-")
    assert table.rows[0].cols == (5, 12, 18)


def test_headerless_targets_take_the_test_period() -> None:
    rows = (
        (_cell("alice", 3, 13), _cell("bookings", 3, 19), _cell("100_000", 3, 28)),
        (_cell("bob", 4, 13), _cell("bookings", 4, 19), _cell("5", 4, 28), _cell("2026-Q2", 4, 30)),
    )
    table = table_from_test(ast.TestTable("targets", (), rows), "plan.kpi", period="2026-Q3")
    assert table.header == ("payee", "metric", "value", "period")
    assert table.rows[0].cells == ("alice", "bookings", "100_000", "2026-Q3")
    assert table.rows[1].cells[3] == "2026-Q2"


def test_other_files_in_a_data_folder_are_reported(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    write(folder, "deals.xlsx", b"PK")
    write(folder, "notes.txt", b"hello")
    (folder / "payees.csv").mkdir()
    (folder / "archive").mkdir()
    tables, diags = read_folder(folder)
    assert tables == {} and tables.folder == "data"
    found = {d.span.file: d for d in diags}
    assert set(found) == {"data/deals.xlsx", "data/notes.txt", "data/payees.csv", "data/archive"}
    assert all(d.code == codes.NOT_READ for d in diags)
    assert found["data/payees.csv"].severity == "error"
    assert "is a folder, not a CSV file" in found["data/payees.csv"].message
    xlsx = found["data/deals.xlsx"]
    assert xlsx.severity == "warning"
    assert xlsx.message == (
        "data/deals.xlsx was not read: kpidsl reads .csv files from a data folder; "
        "convert it with `kpidsl import`"
    )
    assert found["data/archive"].severity == "warning"


def test_trailing_unnamed_empty_columns_are_dropped_with_a_warning(tmp_path: Path) -> None:
    data = b"id,payee,amount,,\nD1,alice,10,,\nD2,bob,20,\n"
    table, diags = read_csv(write(tmp_path, "deals.csv", data), display="data/deals.csv")
    assert table is not None
    assert table.header == ("id", "payee", "amount")
    assert [r.cells for r in table.rows] == [("D1", "alice", "10"), ("D2", "bob", "20")]
    warn = only(diags, codes.EXTRA_COLUMNS)
    assert warn.severity == "warning" and "column(s) 4, 5" in warn.message
    assert (warn.span.line, warn.span.col) == (1, 4)


def test_a_value_under_an_unnamed_column_still_refuses_the_file(tmp_path: Path) -> None:
    data = b"id,payee,amount,,\nD1,alice,10,,\nD2,bob,20,x,\n"
    table, diags = read_csv(write(tmp_path, "deals.csv", data))
    assert table is None
    assert codes_of(diags) == [codes.BAD_HEADER, codes.BAD_HEADER]
