"""Strict cells of a data folder: ASCII digits only, and cells within the CSV module's limit.

A data folder is the exact format (``kpidsl import`` is where spreadsheets are
cleaned): a number, date, boolean or period cell written with full-width
(``１２３``) or other non-ASCII digits is a rejected row with a hint, and a cell
longer than the CSV module's 131,072-character limit is a located error that
says the rest of the file was not read.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest
from datahelp import bind_texts, codes_of, only

import kpidsl
from kpidsl.data import codes
from kpidsl.data.csvread import parse_text, read_csv
from kpidsl.data.values import (
    ValueProblem,
    parse_bool,
    parse_count,
    parse_date,
    parse_decimal,
    parse_percent,
    parse_period_text,
    parse_value,
)
from kpidsl.diagnostics import has_errors

DEAL_HEADER = "id,payee,amount,stage,signed_on,customer,product,new_customer\n"
IMPORT = "convert the spreadsheet with `kpidsl import`"
LIMIT = 131_072


PLAN = """plan "strict" {
  currency USD
  period quarter
}

metric bookings: money = sum deal.amount where deal.stage == "won" and deal.signed_on in period
metric collected: money = sum collection.amount where collection.received_on in period
payout commission: money = bookings * 10% + collected * 1%
"""

FOLDER = {
    "payees.csv": "id,name,role,region,manager\na,A,AE,west,\nb,B,AE,east,a\n",
    "deals.csv": "id,payee,amount,stage,signed_on,customer,product\n"
    "D1,a,100.05,won,2026-07-01,x,P1\nD2,a,200.15,won,2026-09-30,y,P3\nD3,b,0.01,won,2026-08-02,x,P2\n",
    "collections.csv": "id,deal,payee,amount,received_on\nC1,D1,a,-10.05,2026-07-01\n",
}


def deals(*rows: str) -> dict[str, str]:
    return {"deals": DEAL_HEADER + "".join(r + "\n" for r in rows)}


def folder(path: Path, deal_lines: Callable[[list[str]], None]) -> Path:
    """The small data folder, with ``deal_lines`` changing the lines of deals.csv (0 = header)."""
    path.mkdir()
    for name, text in FOLDER.items():
        (path / name).write_text(text, encoding="utf-8")
    lines = FOLDER["deals.csv"].split("\n")
    deal_lines(lines)
    (path / "deals.csv").write_text("\n".join(lines), encoding="utf-8")
    return path


# ---------------------------------------------------------------- ASCII digits


@pytest.mark.parametrize(
    ("parse", "text", "ascii_text"),
    [
        (parse_decimal, "１２３", "123"),
        (parse_decimal, "-１,２３４.５０", "-1,234.50"),
        (parse_decimal, "1２3", "123"),  # one full-width digit among ASCII ones
        (parse_percent, "９０%", "90%"),
        (parse_percent, "０.９", "0.9"),
        (parse_count, "３", "3"),
        (parse_date, "２０２６-０７-０１", "2026-07-01"),
        (parse_bool, "１", "1"),
        (parse_period_text, "２０２６-Ｑ３", "2026-Q3"),
    ],
)
def test_full_width_digits_are_refused_with_the_ascii_spelling_and_the_importer(
    parse: Callable[[str], object], text: str, ascii_text: str
) -> None:
    with pytest.raises(ValueProblem) as exc:
        parse(text)
    reason = str(exc.value)
    assert reason.startswith("full-width digits")
    assert f"write {ascii_text}," in reason and IMPORT in reason
    parse(ascii_text)  # the spelling the hint suggests is accepted


@pytest.mark.parametrize(
    ("type_", "text", "ascii_text"),
    [
        ("money", "١٢٣", "123"),  # Arabic-Indic
        ("number", "۱۲.۵", "12.5"),  # Extended Arabic-Indic (Persian)
        ("count", "४२", "42"),  # Devanagari
        ("date", "٢٠٢٦-٠٧-٠١", "2026-07-01"),
        ("period", "٢٠٢٦-٠٣", "2026-03"),
    ],
)
def test_other_non_ascii_digits_are_refused(type_: str, text: str, ascii_text: str) -> None:
    with pytest.raises(ValueProblem, match=f"^digits other than ASCII 0-9 \\(write {ascii_text}\\)$"):
        parse_value(type_, text)


def test_the_hint_does_not_suggest_a_spelling_that_is_itself_refused() -> None:
    with pytest.raises(ValueProblem) as exc:
        parse_decimal("１e5")
    assert "write it with ASCII digits" in str(exc.value) and "1e5" not in str(exc.value)
    with pytest.raises(ValueProblem) as exc:
        parse_date("２０２６/０７/０１")
    assert "write it with ASCII digits" in str(exc.value)


def test_text_cells_keep_full_width_digits() -> None:
    assert parse_value("text", "订单００１") == "订单００１"


def test_a_full_width_amount_is_a_rejected_row_located_with_value_and_hint() -> None:
    result = bind_texts(
        deals("D1,alice,10,won,2026-07-10,c,p,no", "D2,alice,１２３,won,2026-07-10,c,p,no")
    )
    diag = only(result.diagnostics, codes.INVALID_VALUE)
    assert diag.severity == "error"
    assert diag.message == (
        "invalid amount '１２３' in data/deals.csv line 3, column amount: full-width digits: "
        f"a data folder takes ASCII digits 0-9 only (write 123, or {IMPORT})"
    )
    assert (diag.span.file, diag.span.line, diag.span.col) == ("data/deals.csv", 3, 3)
    assert [f.key for f in result.dataset.facts["deal"]] == ["D1"]
    assert len(result.rejected) == 1


def test_full_width_dates_periods_and_target_values_are_rejected_rows() -> None:
    files = {
        **deals("D1,alice,10,won,２０２６-０７-１０,c,p,no"),
        "targets": "payee,metric,period,value\nalice,bookings,２０２６-Ｑ３,100\nbob,bookings,2026-Q3,１００\n",
        "payee_history": "payee,attribute,value,effective_from\nbob,role,SE,２０２６-０８-０１\n",
    }
    result = bind_texts(files)
    bad = sorted((d.span.file, d.span.line, d.message.split(" in ")[0]) for d in result.diagnostics)
    assert bad == [
        ("data/deals.csv", 2, "invalid signed_on '２０２６-０７-１０'"),
        ("data/payee_history.csv", 2, "invalid effective_from '２０２６-０８-０１'"),
        ("data/targets.csv", 2, "invalid period '２０２６-Ｑ３'"),
        ("data/targets.csv", 3, "invalid value '１００'"),
    ]
    assert all("full-width digits" in d.message for d in result.diagnostics)
    assert set(codes_of(result.diagnostics)) == {codes.INVALID_VALUE}
    assert result.dataset.facts["deal"] == () and result.dataset.targets == ()
    assert len(result.rejected) == 4


def test_both_engines_reject_a_full_width_amount_in_a_data_folder(tmp_path: Path) -> None:
    pytest.importorskip("duckdb")
    from kpidsl.columnar import load_folder

    def full_width(lines: list[str]) -> None:
        assert lines[1].startswith("D1,a,100.05,")
        lines[1] = lines[1].replace("100.05", "１００.０５")

    plan = kpidsl.loads(PLAN)
    clean = folder(tmp_path / "clean", lambda lines: None)
    assert load_folder(plan.model, clean).engine == "columnar"  # the stage takes the folder as given
    data = folder(tmp_path / "data", full_width)
    for engine in ("columnar", "reference"):
        loaded = load_folder(plan.model, data, engine=engine)
        # the columnar stage hands that row to the reference binder, which words it
        assert loaded.engine == "reference" or {r.line for r in loaded.worded} == {2}
        diag = only(list(loaded.diagnostics), codes.INVALID_VALUE)
        assert diag.message == (
            f"invalid amount '１００.０５' in {data.name}/deals.csv line 2, column amount: "
            f"full-width digits: a data folder takes ASCII digits 0-9 only (write 100.05, or {IMPORT})"
        )
        assert (diag.span.line, diag.span.col) == (2, 3)
        assert "D1" not in {f.key for f in loaded.dataset.facts["deal"]}
    result = plan.evaluate(data, "2026-Q3", engine="columnar")
    assert result.evaluation is None  # nothing is paid
    assert codes.INVALID_VALUE in codes_of(result.data_diagnostics)


# ---------------------------------------------------------------- over-long cells


def _read(text: str) -> tuple[list[int] | None, list[tuple[str, str, str | None, int, int]]]:
    table, diags = parse_text(text, "deals", "data/deals.csv")
    lines = None if table is None else [r.ref.line for r in table.rows]
    return lines, [(d.code, d.message, d.help, d.span.line, d.span.col) for d in diags]


def test_a_cell_over_the_limit_is_located_and_the_rows_before_it_are_read() -> None:
    text = "id,customer,amount\nD1,a,1\nD2," + "z" * 200_000 + ",2\nD3,b,3\n"
    lines, diags = _read(text)
    assert lines == [2]
    ((code, message, hint, line, col),) = diags
    assert (code, line, col) == (codes.MALFORMED_CSV, 3, 2)
    assert message == (
        "data/deals.csv line 3, column 2 (customer): a cell of more than 131,072 characters "
        "(the limit for one cell); the rest of the file (lines 3 to 4) was not read"
    )
    assert hint is not None and "never closed" not in hint


def test_an_unclosed_quote_that_swallows_the_file_is_named_in_the_hint() -> None:
    text = 'id,customer,amount\nD1,a,1\nD2,"oops,2\n' + "D3,b,3\n" * 30_000
    lines, diags = _read(text)
    assert lines == [2]
    ((code, message, hint, line, col),) = diags
    assert (code, line, col) == (codes.MALFORMED_CSV, 3, 2)
    # the CSV module gives up 131,072 characters (18,724 lines of 7) into the cell
    assert message == (
        "data/deals.csv line 3, column 2 (customer): a quoted cell is still open on line 18727, "
        "after more than 131,072 characters (the limit for one cell); the rest of the file "
        "(lines 3 to 30003) was not read"
    )
    assert hint is not None and 'the `"` that opens this cell is probably never closed' in hint


def test_the_row_line_and_column_follow_quoted_line_breaks_and_doubled_quotes() -> None:
    # D1 spans lines 2-3; D2 starts on line 4, its amount cell (column 3) on line 5
    text = 'id,customer,amount\r\nD1,"a\r\nb",1\r\nD2,"x,""y""\r\n",' + "9" * (LIMIT + 1) + "\r\n"
    lines, diags = _read(text)
    assert lines == [2]
    ((code, message, _, line, col),) = diags
    assert (code, line, col) == (codes.MALFORMED_CSV, 4, 3)
    assert message.startswith("data/deals.csv line 4, column 3 (amount): a cell of more than")
    assert message.endswith("(lines 4 to 5) was not read")


def test_a_quoted_cell_over_the_limit_on_one_line_is_not_called_a_broken_quote() -> None:
    text = 'id,customer\nD1,"' + 'q""' * 70_000 + '"\nD2,b\n'
    _, diags = _read(text)
    ((_, message, hint, line, col),) = diags
    assert (line, col) == (2, 2)
    assert "a cell of more than 131,072 characters" in message
    assert hint is not None and "never closed" not in hint


def test_a_cell_of_exactly_the_limit_is_read() -> None:
    lines, diags = _read("id,customer\nD1," + "z" * LIMIT + "\nD2,b\n")
    assert (lines, diags) == ([2, 3], [])


def test_an_over_long_header_cell_refuses_the_file_with_one_error() -> None:
    lines, diags = _read("id," + "h" * 140_000 + "\nD1,a\n")
    assert lines is None
    assert [(c, line, col) for c, _, _, line, col in diags] == [(codes.MALFORMED_CSV, 1, 2)]
    assert "(lines 1 to 2) was not read" in diags[0][1]


def test_the_field_limit_is_kept_and_not_changed_by_reading(tmp_path: Path) -> None:
    before = csv.field_size_limit()
    path = tmp_path / "deals.csv"
    path.write_text("id,customer\nD1," + "z" * 200_000 + "\n", encoding="utf-8")
    table, diags = read_csv(path)
    assert csv.field_size_limit() == before
    assert table is not None and table.rows == ()
    assert codes_of(diags) == [codes.MALFORMED_CSV] and has_errors(diags)


def test_an_over_long_cell_in_a_data_folder_means_nothing_is_paid(tmp_path: Path) -> None:
    def long_customer(lines: list[str]) -> None:
        lines[2] = lines[2].replace(",y,", ",y" + "y" * 200_000 + ",")

    data = folder(tmp_path / "data", long_customer)
    plan = kpidsl.loads(PLAN)
    result = plan.evaluate(kpidsl.load_data(data), "2026-Q3")
    assert result.evaluation is None
    diag = only(list(result.data_diagnostics), codes.MALFORMED_CSV)
    assert diag.severity == "error"
    assert (diag.span.file, diag.span.line, diag.span.col) == (f"{data.name}/deals.csv", 3, 6)
    assert "column 6 (customer)" in diag.message and "131,072" in diag.message
    assert "(lines 3 to 4) was not read" in diag.message
