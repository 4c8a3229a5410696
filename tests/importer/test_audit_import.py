"""Import audit: inputs that were silently altered, dropped or miscounted, or that ended in a
traceback. Each test failed before its fix; see docs/migration.md for the behaviour."""

from __future__ import annotations

import datetime as dt
import re
import warnings
import zipfile
from pathlib import Path

import pytest

from kpidsl.data.values import ValueProblem
from kpidsl.importer import import_mapping, parse_mapping, read_csv, read_json, read_jsonl
from kpidsl.importer.cells import parse_date

openpyxl = pytest.importorskip("openpyxl")

from kpidsl.importer import read_xlsx  # noqa: E402

HEADER = ["id", "payee", "amount", "stage", "signed_on"]
DEALS = "[[source]]\nfile = \"{file}\"\ntable = \"deals\"\n"
MAPPED = ('[source.columns]\nid = "id"\npayee = "payee"\namount = "amount"\nstage = "stage"\n'
          'signed_on = "signed_on"\n')


def _book(path: Path, rows: list[list[object]]) -> object:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "deals"
    for r in rows:
        ws.append(r)
    wb.save(path)
    return wb


def _sheet_xml(path: Path, change: object) -> None:
    """Rewrite the first sheet's XML of a saved workbook in place."""
    data = path.read_bytes()
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    with zipfile.ZipFile(tmp) as src, zipfile.ZipFile(path, "w") as out:
        for item in src.infolist():
            body = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                body = change(body)  # type: ignore[operator]
            out.writestr(item, body)
    tmp.unlink()


def _import(tmp_path: Path, mapping: str) -> object:
    (tmp_path / "m.toml").write_text(mapping, encoding="utf-8")
    result, problems = import_mapping(tmp_path / "m.toml")
    assert result is not None, problems
    for s in result.sources:
        assert s.rows_read == s.rows_accepted + s.rows_rejected
    return result


# --- Excel ---------------------------------------------------------------------------------

def test_a_formula_without_a_saved_value_is_not_an_empty_cell(tmp_path: Path) -> None:
    """A workbook written by a program (openpyxl, an exporter) and never opened in Excel has
    formulas without saved values; openpyxl reads them as empty cells: an optional column
    (customer) silently became empty, a required one was 'empty'. A formula whose saved
    value is empty text (=IF(...,"",...), t="str") stays an empty cell."""
    path = tmp_path / "x.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([*HEADER, "customer", "note"])
    ws.append(["D1", "a", 1, "won", "2026-07-01", "=VLOOKUP(A2,Sheet2!A:B,2,FALSE)", "x"])
    ws.append(["D2", "a", 2, "won", "2026-07-01", "c", '=""'])
    wb.save(path)
    _sheet_xml(path, lambda b: b.replace(b'<c r="G3"><f>""</f><v /></c>',
                                         b'<c r="G3" t="str"><f>""</f><v></v></c>'))
    table, problems = read_xlsx(path, "deals", "x.xlsx")
    assert table is not None
    assert [r.cells for r in table.rows] == [("D2", "a", "2", "won", "2026-07-01", "c", "")]
    assert [(p.line, p.column, p.value, p.rejects) for p in problems] == [
        (2, "customer", "=VLOOKUP(A2,Sheet2!A:B,2,FALSE)", True)]
    assert "no saved value" in problems[0].message


def test_a_number_beyond_excels_15_digits_is_rejected(tmp_path: Path) -> None:
    """An 18-digit id number typed as a number keeps only 15 digits in Excel; the importer
    wrote 110101199003071200 as if it were the id."""
    path = tmp_path / "x.xlsx"
    _book(path, [["id", "amount"], [110101199003071234, 5], ["D2", 123456789012.34]])
    table, problems = read_xlsx(path, "deals", "x.xlsx")
    assert table is not None and [r.cells for r in table.rows] == [("D2", "123456789012.34")]
    assert [(p.line, p.column, p.rejects) for p in problems] == [(2, "id", True)]
    assert "15 significant digits" in problems[0].message


def test_a_damaged_sheet_is_reported_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    _book(path, [HEADER, ["D1", "a", 1, "won", "2026-07-01"]])
    _sheet_xml(path, lambda b: b[: len(b) // 2])
    table, problems = read_xlsx(path, "deals", "x.xlsx")
    assert table is None and [p.code for p in problems] == ["KPI0751"]
    assert "damaged sheet" in problems[0].message


def test_a_percentage_cell_is_not_float_noise(tmp_path: Path) -> None:
    """12.5% is stored as 0.125: three decimals of its own, warned as float noise."""
    path = tmp_path / "x.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["id", "rate", "amount"])
    ws.append(["a", 0.125, 0.125])
    ws.append(["b", 0.0525, 1.5])
    ws["B2"].number_format = ws["B3"].number_format = "0.00%"
    wb.save(path)
    table, problems = read_xlsx(path, "inputs", "x.xlsx")
    assert table is not None and [r.cells for r in table.rows] == [
        ("a", "0.125", "0.125"), ("b", "0.0525", "1.5")]
    assert [(p.code, p.column) for p in problems] == [("KPI0752", "amount")]


def test_cells_of_columns_the_mapping_ignores_reject_nothing(tmp_path: Path) -> None:
    """A helper column the mapping leaves out (a lookup showing #N/A, a twice-used 备注
    header) rejected rows or the whole sheet while the report said it was ignored."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([*HEADER, "辅助", "备注", "备注"])
    ws.append(["D1", "a", 1, "won", "2026-07-01", "#N/A", "x", "y"])
    ws.append(["D2", "a", 2, "won", "2026-07-01", "=A3&B3", None, None])
    ws.append([None, None, None, None, None, None, "合计", None])
    wb.save(tmp_path / "x.xlsx")
    result = _import(tmp_path, DEALS.format(file="x.xlsx") + MAPPED)
    assert [(s.rows_read, s.rows_accepted) for s in result.sources] == [(3, 2)]  # type: ignore[attr-defined]
    assert [(p.code, p.line) for p in result.problems] == [  # type: ignore[attr-defined]
        ("KPI0707", 1), ("KPI0711", 4), ("KPI0711", 4), ("KPI0711", 4), ("KPI0711", 4),
        ("KPI0711", 4)]


def test_ignored_columns_of_json_and_parquet_reject_nothing(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    (tmp_path / "d.json").write_text(
        '[{"id": "D1", "payee": "a", "amount": 1, "stage": "won", "signed_on": "2026-07-01",'
        ' "meta": {"crm": 7}}]', encoding="utf-8")
    pq.write_table(pa.table({"id": ["D2"], "payee": ["a"], "amount": ["2.50"], "stage": ["won"],
                             "signed_on": ["2026-07-01"], "score": [0.1]}), tmp_path / "d.parquet")
    result = _import(tmp_path, DEALS.format(file="d.json") + MAPPED
                     + DEALS.format(file="d.parquet") + MAPPED)
    assert result.ok, result.problems  # type: ignore[attr-defined]
    assert result.files["deals.csv"].decode().splitlines()[1:] == [  # type: ignore[attr-defined]
        "D1,a,1,won,2026-07-01", "D2,a,2.50,won,2026-07-01"]


def test_frame_columns_sharing_a_name_are_refused(tmp_path: Path) -> None:
    """Rows as dicts by name: the first 'amount' silently took the second one's values."""
    pa = pytest.importorskip("pyarrow")
    from kpidsl.importer.frames import read_frame

    t = pa.Table.from_arrays([pa.array(["D1"]), pa.array(["1"]), pa.array(["2"])],
                             names=["id", "amount", " amount"])
    table, problems = read_frame(t, "deals")
    assert table is None and [(p.code, p.column) for p in problems] == [("KPI0704", "amount")]
    t = pa.Table.from_arrays([pa.array(["D1"]), pa.array(["1"]), pa.array(["2"])],
                             names=["id", "amount", "amount2"])
    table, _ = read_frame(t, "deals")
    assert table is not None and table.rows[0].cells == ("D1", "1", "2")


# --- CSV -----------------------------------------------------------------------------------

def test_a_declared_encoding_that_would_garble_utf8_text_is_refused(tmp_path: Path) -> None:
    """GBK decodes most UTF-8 Chinese without an error: 上海 was imported as 涓婃捣."""
    (tmp_path / "x.csv").write_text("id,customer\nD1,上海天诚\n", encoding="utf-8")
    table, problems = read_csv(tmp_path / "x.csv", "deals", "x.csv", encoding="gbk")
    assert table is None and [p.code for p in problems] == ["KPI0751"]
    assert "UTF-8" in problems[0].message and "涓婃捣" in problems[0].message
    (tmp_path / "y.csv").write_bytes("id,customer\nD1,上海天诚\n".encode("gbk"))
    table, problems = read_csv(tmp_path / "y.csv", "deals", "y.csv", encoding="gbk")
    assert problems == [] and table is not None and table.rows[0].cells == ("D1", "上海天诚")
    (tmp_path / "z.csv").write_bytes("id,customer\nD1,芦苇\n".encode("gbk"))  # valid UTF-8 too
    table, problems = read_csv(tmp_path / "z.csv", "deals", "z.csv", encoding="gbk")
    assert problems == [] and table is not None and table.rows[0].cells == ("D1", "芦苇")


def test_utf16_without_byte_order_mark_is_named(tmp_path: Path) -> None:
    """UTF-16 without a BOM is valid UTF-8 full of NUL characters: every header missed."""
    (tmp_path / "x.csv").write_bytes("id,customer\nD1,上海\n".encode("utf-16-le"))
    table, problems = read_csv(tmp_path / "x.csv", "deals", "x.csv")
    assert table is None and 'encoding = "utf-16-le"' in problems[0].message
    table, problems = read_csv(tmp_path / "x.csv", "deals", "x.csv", encoding="utf-16-le")
    assert problems == [] and table is not None and table.rows[0].cells == ("D1", "上海")
    # Excel's "Unicode Text": UTF-16 with a byte-order mark, tab-separated
    (tmp_path / "u.txt").write_bytes("id\tcustomer\nD1\t上海\n".encode("utf-16"))
    table, problems = read_csv(tmp_path / "u.txt", "deals", "u.txt")
    assert table is None and 'encoding = "utf-16" and format = "tsv"' in problems[0].message
    table, problems = read_csv(tmp_path / "u.txt", "deals", "u.txt", encoding="utf-16",
                               delimiter="\t")
    assert problems == [] and table is not None and table.rows[0].cells == ("D1", "上海")


def test_a_nul_character_in_a_cell_rejects_its_row(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_bytes(b"id,payee,amount,stage,signed_on,customer\n"
                                     b"D1,a,1,won,2026-07-01,ab\x00c\nD2,a,2,won,2026-07-01,x\n")
    result = _import(tmp_path, DEALS.format(file="x.csv"))
    assert [(p.line, p.column, p.rejects) for p in result.problems] == [  # type: ignore[attr-defined]
        (2, "customer", True)]
    assert "\x00" not in result.problems[0].message  # type: ignore[attr-defined]
    assert b"\x00" not in result.files["deals.csv"]  # type: ignore[attr-defined]


def test_header_row_counts_lines_as_the_csv_reader_does(tmp_path: Path) -> None:
    """A form feed or U+2028 in the title block counted as a line end: the header was taken
    from the title, and every row was rejected."""
    for odd in ("\x0c", "\u2028"):
        (tmp_path / "x.csv").write_text(f"标题{odd}续\nid,amount\nD1,1\nD2,2\n", encoding="utf-8")
        table, problems = read_csv(tmp_path / "x.csv", "deals", "x.csv", header_row=2)
        assert problems == [] and table is not None and table.header == ("id", "amount")
        assert [r.ref.line for r in table.rows] == [3, 4]


def test_header_row_past_the_end_of_the_file_says_so(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text("id,amount\nD1,1\n", encoding="utf-8")
    table, problems = read_csv(tmp_path / "x.csv", "deals", "x.csv", header_row=3)
    assert table is None and "header_row = 3, but the file has only 2 line(s)" in problems[0].message


def test_a_truncated_last_record_is_counted_as_read_and_rejected(tmp_path: Path) -> None:
    """An export cut off inside a quoted cell: the row was reported but not counted."""
    (tmp_path / "x.csv").write_text('id,payee,amount,stage,signed_on\nD1,a,1,won,2026-07-01\n'
                                    'D2,a,"2,won', encoding="utf-8")
    result = _import(tmp_path, DEALS.format(file="x.csv"))
    s = result.sources[0]  # type: ignore[attr-defined]
    assert (s.rows_read, s.rows_accepted, s.rows_rejected) == (2, 1, 1)
    assert [(p.code, p.line, p.rejects) for p in result.problems] == [  # type: ignore[attr-defined]
        ("KPI0713", 3, True)]


def test_tsv_files_are_read_tab_separated(tmp_path: Path) -> None:
    """.tsv was documented as read, but was read comma-separated: every row rejected."""
    (tmp_path / "x.tsv").write_text('id\tpayee\tamount\tstage\tsigned_on\tcustomer\n'
                                    'D1\ta\t1,234.50\twon\t2026-07-01\t"a\tb"\n\n'
                                    'D2\ta\t5\twon\t2026-07-01\t"x\ny"\nD3\ta\tx\twon\t2026-07-01\t\n',
                                    encoding="utf-8")
    result = _import(tmp_path, DEALS.format(file="x.tsv"))
    assert result.files["deals.csv"].decode() == (  # type: ignore[attr-defined]
        'id,payee,amount,stage,signed_on,customer\n'
        'D1,a,1234.50,won,2026-07-01,a\tb\nD2,a,5,won,2026-07-01,"x\ny"\n')
    assert [(p.line, p.column) for p in result.problems] == [(6, "amount")]  # type: ignore[attr-defined]


# --- JSON ----------------------------------------------------------------------------------

def test_json_that_python_cannot_parse_is_reported_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    (tmp_path / "big.json").write_text('[{"id": "D1", "amount": ' + "9" * 5000 + "}]",
                                       encoding="utf-8")
    (tmp_path / "x.jsonl").write_text('{"id": "D1", "amount": ' + "9" * 5000 + "}\n"
                                      + "[" * 100_000 + "\n" + '{"id": "D2"}\n', encoding="utf-8")
    for name in ("deep.json", "big.json"):
        table, problems = read_json(tmp_path / name, "deals", name)
        assert table is None and [p.code for p in problems] == ["KPI0751"]
    table, problems = read_jsonl(tmp_path / "x.jsonl", "deals", "x.jsonl")
    assert table is not None and [r.cells for r in table.rows] == [("D2",)]
    assert [(p.line, p.rejects) for p in problems] == [(1, True), (2, True)]


def test_json_nan_is_named_as_such(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text('[{"id": "D1", "amount": NaN}]', encoding="utf-8")
    _, problems = read_json(tmp_path / "x.json", "deals", "x.json")
    assert "NaN is not a finite number" in problems[0].message


# --- cells ---------------------------------------------------------------------------------

def test_a_compact_date_without_zero_padding_is_ambiguous() -> None:
    """strptime read 2026111 as %Y%m%d silently as 1 November (or 11 January?)."""
    assert parse_date("20260111", ["%Y%m%d"]) == dt.date(2026, 1, 11)
    assert parse_date("2026/1/11", ["%Y/%m/%d"]) == dt.date(2026, 1, 11)
    with pytest.raises(ValueProblem, match="ambiguous"):
        parse_date("2026111", ["%Y%m%d"])


# --- the mapping ---------------------------------------------------------------------------

def test_mapping_schema_errors_carry_their_line_and_name_unknown_keys() -> None:
    text = ('version = 1\n\n[[source]]\nfile = "a.csv"\ntable = "deals"\n'
            '[source.numbers.amount]\nthousands = "xx"\n\n'
            '[[source]]\nfile = "b.csv"\ntable = "deals"\nheader = 2\n'
            '[[source]]\nfile = "c.csv"\n')
    _, problems = parse_mapping(text, "m.toml")
    assert [(p.line, p.column) for p in problems] == [
        (7, "source[0].numbers.amount.thousands"), (12, "source[1].header"), (13, "source[2].table")]
    assert problems[1].message == ("m.toml:12: source[1].header: unknown key "
                                   "(did you mean `header_row`?)")
    _, problems = parse_mapping("version = 1\n[[source]\n", "m.toml")
    assert problems[0].message.startswith("m.toml:2:")


def test_a_nul_in_a_source_path_is_a_mapping_error(tmp_path: Path) -> None:
    (tmp_path / "m.toml").write_text('[[source]]\nfile = "x\\u0000.csv"\ntable = "deals"\n',
                                     encoding="utf-8")
    result, problems = import_mapping(tmp_path / "m.toml")
    assert result is None and [(p.code, p.column) for p in problems] == [("KPI0750", "source[0].file")]


def test_problem_messages_show_control_characters_escaped(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_bytes(b'id,payee,amount,stage,signed_on\nD1,a,"1\n2",won,2026-07-01\n')
    result = _import(tmp_path, DEALS.format(file="x.csv"))
    message = result.problems[0].message  # type: ignore[attr-defined]
    assert "\n" not in message and re.search(r"'1\\x0a2'", message)


def test_a_bare_share_beyond_one_is_an_ambiguous_percent(tmp_path: Path) -> None:
    """Shares 60 and 40 were read as 6000% and 4000%: "split shares sum to 10000%"."""
    (tmp_path / "p.csv").write_text("id\na\nb\n", encoding="utf-8")
    (tmp_path / "d.csv").write_text("id,payee,amount,stage,signed_on\nD1,a,1,won,2026-07-01\n"
                                    "D2,a,1,won,2026-07-01\n", encoding="utf-8")
    (tmp_path / "c.csv").write_text("kind,fact,payee,share\ndeal,D1,a,60\ndeal,D1,b,40\n"
                                    "deal,D2,a,60%\ndeal,D2,b,0.4\n", encoding="utf-8")
    result = _import(tmp_path, '[[source]]\nfile = "p.csv"\ntable = "payees"\n'
                     + DEALS.format(file="d.csv")
                     + '[[source]]\nfile = "c.csv"\ntable = "credits"\n')
    assert [(p.code, p.line) for p in result.problems] == [  # type: ignore[attr-defined]
        ("KPI0712", 2), ("KPI0712", 3)]
    assert "write 60% or the ratio 0.60" in result.problems[0].message  # type: ignore[attr-defined]
    assert result.files["credits.csv"].decode() == (  # type: ignore[attr-defined]
        "kind,fact,payee,share\ndeal,D2,a,0.60\ndeal,D2,b,0.4\n")


def test_a_value_map_for_no_column_of_the_source_is_an_error(tmp_path: Path) -> None:
    """Without `columns` a misspelt [source.values.stge] was never applied: 赢单 went into the
    data folder as the stage, and a plan filtering stage == "won" silently paid nothing."""
    (tmp_path / "x.csv").write_text("id,payee,amount,stage,signed_on\nD1,a,1,赢单,2026-07-01\n",
                                    encoding="utf-8")
    result = _import(tmp_path, DEALS.format(file="x.csv") + '[source.values.stge]\n"赢单" = "won"\n')
    assert [(p.code, p.line, p.rejects) for p in result.problems] == [  # type: ignore[attr-defined]
        ("KPI0750", 1, True)]
    assert "values.stge: not a column of this source" in result.problems[0].message  # type: ignore[attr-defined]
    assert result.sources[0].rows_rejected == 1  # type: ignore[attr-defined]


def test_a_header_with_a_line_break_is_shown_escaped_and_suggested(tmp_path: Path) -> None:
    """金额 + Alt+Enter + （元） in a header cell: the error message broke over two lines and did
    not say why '金额(元)' was not found."""
    _book(tmp_path / "x.xlsx", [["id", "payee", "金额\n（元）", "stage", "signed_on"],
                                ["D1", "a", 1, "won", "2026-07-01"]])
    result = _import(tmp_path, DEALS.format(file="x.xlsx") + MAPPED.replace(
        'amount = "amount"', '"金额(元)" = "amount"'))
    (problem,) = result.problems  # type: ignore[attr-defined]
    assert "\n" not in problem.message
    assert "'金额(元)' (→ amount) (the header has '金额\\x0a（元）')" in problem.message


def test_a_date_cell_beyond_excels_dates_is_named_as_such(tmp_path: Path) -> None:
    """openpyxl turns it into #VALUE! with a UserWarning on stderr: the reason given was "the
    Excel error #VALUE! (a formula that failed)"."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["id", "signed_on"])
    ws.append(["D1", 99999999])
    ws.append(["D2", 60])  # Excel's 1900-02-29 (its leap-year bug): openpyxl said 1900-02-28
    ws.append(["D3", 61])
    ws["B2"].number_format = ws["B3"].number_format = ws["B4"].number_format = "yyyy-mm-dd"
    wb.save(tmp_path / "x.xlsx")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        table, problems = read_xlsx(tmp_path / "x.xlsx", "deals", "x.xlsx")
    assert seen == []
    assert table is not None and [r.cells for r in table.rows] == [("D3", "1900-03-01")]
    assert [(p.line, p.value) for p in problems] == [(2, "99999999"), (3, "60")]
    assert "a date cell holding 99999999, which is no calendar date" in problems[0].message


def test_key_is_for_a_plans_own_kind_only() -> None:
    """key = ["contract"] on deals (no such column) rejected every row after the first as a
    "duplicate deals key" (of ''); another real column would dedupe unlike binding does."""
    _, problems = parse_mapping('[[source]]\nfile = "x.csv"\ntable = "deals"\nkey = ["contract"]\n',
                                "m.toml")
    assert [(p.code, p.line) for p in problems] == [("KPI0750", 1)]
    assert "deals is keyed by id" in problems[0].message
    mapping, problems = parse_mapping('[[source]]\nfile = "x.csv"\ntable = "activities"\n'
                                      'key = ["code"]\n', "m.toml")
    assert mapping is not None and problems == []


def test_a_date_format_must_read_and_name_a_whole_date() -> None:
    """%m/%d read 7/1 as 1900-07-01 (strptime's default year), %Y-%m made every date the
    1st, and a bad directive (%Q) passed the mapping check."""
    for fmt, reason in (("%m/%d", "does not name a whole date"),
                        ("%Y-%m", "does not name a whole date"), ("%Y/%Q", "bad directive")):
        _, problems = parse_mapping('[[source]]\nfile = "a.csv"\ntable = "deals"\n'
                                    f'[source.dates]\nsigned_on = "{fmt}"\n', "m.toml")
        assert [p.column for p in problems] == ["source[0]"] and reason in problems[0].message
        assert "dates.signed_on: date format" in problems[0].message
    for fmt in ("%Y/%m/%d", "%d.%m.%y", "%Y年%m月%d日", "%Y%j"):
        mapping, _ = parse_mapping('[[source]]\nfile = "a.csv"\ntable = "deals"\n'
                                   f'[source.dates]\nsigned_on = "{fmt}"\n', "m.toml")
        assert mapping is not None, fmt


def test_a_json_key_without_a_name_is_not_written_as_a_column(tmp_path: Path) -> None:
    """A key " " became a data-folder column without a name: the written deals.csv could
    not be read back (KPI0703), every row lost at evaluation."""
    from kpidsl.data.csvread import read_folder

    (tmp_path / "x.json").write_text('[{"id": "D1", "payee": "a", "amount": 1, "stage": "won",'
                                     ' "signed_on": "2026-07-01", " ": "x"}]', encoding="utf-8")
    result = _import(tmp_path, DEALS.format(file="x.json"))
    assert [(p.code, p.severity) for p in result.problems] == [  # type: ignore[attr-defined]
        ("KPI0707", "warning")]
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "deals.csv").write_bytes(result.files["deals.csv"])  # type: ignore[attr-defined]
    tables, diags = read_folder(tmp_path / "out")
    assert diags == [] and [r.cells for r in tables["deals"].rows] == [
        ("D1", "a", "1", "won", "2026-07-01")]


def test_a_file_mixing_utf8_and_gbk_lines_is_refused(tmp_path: Path) -> None:
    """Two exports pasted together: the file is not UTF-8, so all of it was read as GB18030
    and the UTF-8 line came out as 涓婃捣澶╄瘹, with only the usual encoding warning."""
    (tmp_path / "x.csv").write_bytes("id,customer\nD1,上海天诚\n".encode()
                                     + "D2,南京启明\n".encode("gbk"))
    table, problems = read_csv(tmp_path / "x.csv", "deals", "x.csv")
    assert table is None and [(p.code, p.line) for p in problems] == [("KPI0751", 2)]
    assert "mixes UTF-8 and GB18030" in problems[0].message
    (tmp_path / "y.csv").write_bytes("id,customer\nD1,上海天诚\nD2,芦苇\n".encode("gbk"))
    table, problems = read_csv(tmp_path / "y.csv", "deals", "y.csv")
    assert table is not None and [r.cells[1] for r in table.rows] == ["上海天诚", "芦苇"]
    assert [p.code for p in problems] == ["KPI0702"]


def test_a_timestamp_in_utc_under_another_name_is_rejected_too() -> None:
    """Only the names UTC, Etc/UTC, GMT... were known: a column in "Zulu" or "Etc/Universal"
    gave 2026-06-30 for 04:00 on 1 July in Beijing, silently."""
    pa = pytest.importorskip("pyarrow")
    from kpidsl.importer.frames import read_frame

    for tz in ("Zulu", "Etc/Universal", "GMT0", "UCT"):
        t = pa.table({"id": ["D1"], "ts": pa.array([dt.datetime(2026, 6, 30, 20, 0)],
                                                   type=pa.timestamp("s", tz=tz))})
        table, problems = read_frame(t, "deals")
        assert table is not None and table.rows == () and "stored in UTC" in problems[0].message
    t = pa.table({"id": ["D1"], "ts": pa.array([dt.datetime(2026, 6, 30, 20, 0)],
                                               type=pa.timestamp("s", tz="Asia/Shanghai"))})
    table, problems = read_frame(t, "deals")
    assert problems == [] and table is not None and table.rows[0].cells == ("D1", "2026-07-01")


def test_no_thousands_separator_means_a_comma_is_not_one() -> None:
    """thousands = "" (a column whose numbers have no separator, or a decimal comma:
    1,234 = 1.234) still read 1,234 as 1234."""
    from kpidsl.importer.cells import parse_number

    assert str(parse_number("1234.50", thousands="")) == "1234.50"
    with pytest.raises(ValueProblem, match="no thousands separator"):
        parse_number("1,234", thousands="")
    assert str(parse_number("1,234", thousands=",")) == "1234"


def test_a_target_column_needs_a_name() -> None:
    """"编号" = "" wrote a column without a name: a data folder that cannot be read back."""
    _, problems = parse_mapping('[[source]]\nfile = "a.csv"\ntable = "deals"\n'
                                '[source.columns]\n"编号" = ""\n', "m.toml")
    assert [(p.line, p.column) for p in problems] == [(4, "source[0].columns")]
