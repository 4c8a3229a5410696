"""Audit of the reference reader and binder: inputs that were lost, garbled or mislocated."""

from __future__ import annotations

from pathlib import Path

import attrs
from datahelp import PAYEES, bind_texts, codes_of, make_model, only, table

import kpidsl
from kpidsl.data import codes
from kpidsl.data.bind import bind_result, summarize
from kpidsl.data.csvread import parse_text, read_csv, read_folder, tables_from_records

PAYEES_CN = "id,name,role,region,manager,team\nmia,米娅,manager,east,,华东\nalice,李丽,AE,east,mia,华东\n"


# ---------------------------------------------------------------- periods out of the calendar


def test_a_period_in_year_0000_is_an_invalid_value_not_a_traceback() -> None:
    text = "payee,metric,period,value\nalice,bookings,0000-Q3,100\nbob,bookings,2026-Q3,100\n"
    result = bind_texts({"targets": text})
    diag = only(result.diagnostics, codes.INVALID_VALUE)
    assert (diag.span.file, diag.span.line, diag.span.col) == ("data/targets.csv", 2, 3)
    assert "'0000-Q3'" in diag.message
    assert [t.payee for t in result.dataset.targets] == ["bob"]


def test_a_period_past_year_9999_by_the_fiscal_year_is_an_invalid_value() -> None:
    model = make_model()
    model = attrs.evolve(model, header=attrs.evolve(model.header, fiscal_year_start=4))
    for section, text in [
        ("targets", "payee,metric,period,value\nalice,bookings,9999-Q4,100\n"),
        ("inputs", "payee,name,period,value\nalice,collaboration,9999-Q4,50%\n"),
        ("payments", "payee,component,period,amount\nalice,commission,9999-Q4,1\n"),
    ]:
        result = bind_texts({section: text}, model)
        diag = only(result.diagnostics, codes.INVALID_VALUE)
        assert (diag.span.line, diag.span.col) == (2, 3), section
        assert "'9999-Q4'" in diag.message


# ---------------------------------------------------------------- encodings


def test_utf16_without_a_byte_order_mark_is_refused_not_read_as_garbage(tmp_path: Path) -> None:
    for codec in ("utf-16-le", "utf-16-be"):
        path = tmp_path / "payees.csv"
        path.write_bytes(PAYEES.encode(codec))
        table_, diags = read_csv(path)
        assert table_ is None, codec
        diag = only(diags, codes.UNDECODABLE)
        assert "UTF-16" in diag.message and diag.span.line == 1


def test_a_few_nul_bytes_in_utf8_text_are_not_taken_for_utf16(tmp_path: Path) -> None:
    path = tmp_path / "deals.csv"
    path.write_bytes(b"id,customer\nD1,x\x00y\n")
    table_, diags = read_csv(path)
    assert diags == [] and table_ is not None
    assert table_.rows[0].cells == ("D1", "x\x00y")


def test_the_byte_order_mark_of_a_gb18030_file_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "payees.csv"
    path.write_bytes("\ufeff".encode("gb18030") + PAYEES_CN.encode("gb18030"))
    table_, diags = read_csv(path)
    assert codes_of(diags) == [codes.ENCODING_DETECTED]
    assert table_ is not None and table_.header[0] == "id"
    assert table_.rows[1].cells[1] == "李丽"


# ---------------------------------------------------------------- malformed CSV


def test_a_quote_never_closed_is_located_at_its_row_and_cell_not_the_end_of_file() -> None:
    text = (
        "id,customer,amount\nD1,a,1\n"
        'D2,"multi\nline",2\n'  # lines 3-4
        'D3,"oops,3\nD4,b,4\nD5,c,5\n'  # the quote opened on line 5 swallows the rest
    )
    t, diags = parse_text(text, "deals", "data/deals.csv")
    assert t is not None and [r.ref.line for r in t.rows] == [2, 3]
    diag = only(diags, codes.MALFORMED_CSV)
    assert (diag.span.line, diag.span.col) == (5, 2)
    assert diag.message.startswith("data/deals.csv line 5, column 2 (customer): ")
    assert "(lines 5 to 7) was not read" in diag.message


# ---------------------------------------------------------------- summaries


def test_the_summary_counts_python_records_refused_for_their_values() -> None:
    records = [
        {"payee": "alice", "metric": "bookings", "period": "2026-Q3", "value": "100"},
        {"payee": "bob", "metric": "bookings", "period": "2026-Q3", "value": 1.5},
    ]
    targets, read_diags = tables_from_records("targets", records)
    assert targets is not None
    tables = {"payees": table("payees", PAYEES), "targets": targets}
    model = make_model()
    result = bind_result(model, tables)
    (summary,) = [s for s in summarize(model, tables, result, read_diags) if s.file == "<targets>"]
    assert (summary.rows_read, summary.rows_accepted, summary.rows_rejected) == (2, 1, 1)


# ---------------------------------------------------------------- credit types

CREDIT_PLAN = """
plan "t" {
  currency USD
  period quarter
}
metric bookings: money = sum deal.amount where deal.signed_on in period
metric overlay_bookings: money = sum deal.amount credited overlay where deal.signed_on in period
payout commission: money = bookings * 10% + overlay_bookings * 1%
"""


def _credits(credit_rows: str) -> list[kpidsl.diagnostics.Diagnostic]:
    deals = (
        "id,payee,amount,stage,signed_on,customer,product\n"
        "D1,alice,100,won,2026-07-10,c,p\n"
    )
    tables = {
        "payees": table("payees", PAYEES),
        "deals": table("deals", deals),
        "credits": table("credits", "kind,fact,payee,share,credit_type\n" + credit_rows),
    }
    return list(bind_result(kpidsl.loads(CREDIT_PLAN).model, tables).diagnostics)


def case_warning(diags: list[kpidsl.diagnostics.Diagnostic], at: tuple[str, int, int], written: str,
                 meant: str) -> None:
    """One case-mismatch warning, at ``at`` (file, line, column), naming both spellings."""
    diag = only(diags, codes.CASE_MISMATCH)
    assert diag.severity == "warning"
    assert (diag.span.file, diag.span.line, diag.span.col) == at
    assert f"'{written}'" in diag.message and f"'{meant}'" in diag.message


def test_a_credit_type_differing_from_the_plan_s_only_in_case_is_a_warning() -> None:
    case_warning(_credits("deal,D1,alice,100%,split\ndeal,D1,mia,100%,Overlay\n"), ("data/credits.csv", 3, 5),
                 "Overlay", "overlay")
    assert _credits("deal,D1,alice,100%,split\ndeal,D1,mia,100%,overlay\n") == []


def test_a_split_row_typed_split_in_another_case_is_named_with_the_split_error() -> None:
    diags = _credits("deal,D1,alice,60%,split\ndeal,D1,bob,40%,SPLIT\n")
    assert codes_of(diags).count(codes.SPLIT_NOT_100) == 2
    assert only(diags, codes.CASE_MISMATCH).span.line == 3


# ---------------------------------------------------------------- payee attributes and selectors

SELECTOR_PLAN = """
plan "t" {
  currency USD
  period quarter
}
metric bookings: money = sum deal.amount where deal.signed_on in period
payout commission: money = bookings * 10%
for role SE {
  payout commission: money = bookings * 2%
}
metric west_bonus: money = bookings * 0%
for region west {
  metric west_bonus: money = bookings * 1%
}
"""
DEALS_EMPTY = "id,payee,amount,stage,signed_on,customer,product\n"


def _bind_people(payees: str, history: str | None = None) -> list[kpidsl.diagnostics.Diagnostic]:
    tables = {"payees": table("payees", payees), "deals": table("deals", DEALS_EMPTY)}
    if history is not None:
        tables["payee_history"] = table("payee_history", history)
    return list(bind_result(kpidsl.loads(SELECTOR_PLAN).model, tables).diagnostics)


def test_a_payee_attribute_differing_from_a_selector_only_in_case_is_a_warning() -> None:
    case_warning(_bind_people("id,name,role,region,manager\nmia,Mia,manager,east,\nsam,Sam,se,east,mia\n"),
                 ("data/payees.csv", 3, 3), "se", "SE")
    assert _bind_people("id,name,role,region,manager\nmia,Mia,manager,east,\nsam,Sam,SE,east,mia\n") == []


def test_a_history_value_or_attribute_differing_only_in_case_is_a_warning() -> None:
    payees = "id,name,role,region,manager\nmia,Mia,manager,east,\nsam,Sam,AE,east,mia\n"
    history = (
        "payee,attribute,value,effective_from\n"
        "sam,region,West,2026-08-01\n"  # `for region west`
        "sam,Manager,,2026-09-01\n"  # the manager attribute, in another case
    )
    diags = _bind_people(payees, history)
    found = sorted((d.span.line, d.span.col) for d in diags if d.code == codes.CASE_MISMATCH)
    assert found == [(2, 3), (3, 2)], [d.message for d in diags]
    assert all(d.severity == "warning" for d in diags)


def test_a_payees_column_named_like_a_known_column_but_for_case_is_a_warning() -> None:
    # "Manager" is read as a custom attribute: without a word, nobody would have a manager
    diags = _bind_people("id,Name,role,region,Manager\nmia,Mia,manager,east,\nsam,Sam,AE,east,mia\n")
    diag = only(diags, codes.EXTRA_COLUMNS)
    assert diag.severity == "warning" and (diag.span.line, diag.span.col) == (1, 2)
    assert "'Name' is not 'name'" in diag.message and "'Manager' is not 'manager'" in diag.message


def test_the_line_of_the_first_non_utf8_byte_counts_lone_cr_line_ends(tmp_path: Path) -> None:
    text = "id,name,role,region,manager\rmia,Mia,manager,east,\ralice,李丽,AE,east,mia\r"
    for end in ("\r", "\r\n", "\n"):
        path = tmp_path / "payees.csv"
        path.write_bytes(text.replace("\r", end).encode("gb18030"))
        _, diags = read_csv(path)
        diag = only(diags, codes.ENCODING_DETECTED)
        assert (diag.span.line, diag.span.col) == (3, 7), repr(end)
        assert "line 3" in diag.message
        path.write_bytes(text.replace("\r", end).encode("utf-8").replace(b"\xe6\x9d\x8e", b"\xff"))
        _, diags = read_csv(path)
        diag = only(diags, codes.UNDECODABLE)
        assert (diag.span.line, diag.span.col) == (3, 7) and ", line 3)" in diag.message


# ---------------------------------------------------------------- two files of one table


def test_a_second_file_of_the_same_table_is_an_error_not_silently_passed_over(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "deals.csv").write_text("id,payee\nD1,alice\n", encoding="utf-8")
    (data / "deals.CSV").write_text("id,payee\nD2,bob\n", encoding="utf-8")  # a Linux folder holds both
    tables, diags = read_folder(data)
    assert [r.cells for r in tables["deals"].rows] == [("D1", "alice")]
    diag = only(diags, codes.NOT_READ)
    assert diag.severity == "error" and diag.span.file == "data/deals.CSV"
    assert "data/deals.csv" in diag.message and "not read" in diag.message


# ---------------------------------------------------------------- table keys

TABLE_PLAN = """
plan "t" {
  currency USD
  period quarter
}
table spiff_by_product by deal.product {
  "CloudSuite" : 800
  else         : 300
}
payout spiff: money = sum spiff_by_product(deal.product) where deal.signed_on in period
"""


def test_a_value_differing_from_a_table_key_only_in_case_is_a_warning() -> None:
    # `cloudsuite` silently took the `else` rate (300, not 800)
    deals = (
        "id,payee,amount,stage,signed_on,customer,product\n"
        "D1,alice,100,won,2026-07-10,c,CloudSuite\n"
        "D2,alice,100,won,2026-07-10,c,cloudsuite\n"
    )
    tables = {"payees": table("payees", PAYEES), "deals": table("deals", deals)}
    diags = bind_result(kpidsl.loads(TABLE_PLAN).model, tables).diagnostics
    diag = only(diags, codes.CASE_MISMATCH)
    assert diag.severity == "warning"
    assert (diag.span.file, diag.span.line, diag.span.col) == ("data/deals.csv", 3, 7)
    assert "'cloudsuite' is not 'CloudSuite'" in diag.message


def test_a_fact_file_there_but_unreadable_is_not_also_reported_missing(tmp_path: Path) -> None:
    """An empty (or undecodable) deals.csv gets its own error; "deals.csv is missing"
    (KPI0714) beside it would send the user looking for a file that is there. Both engines."""
    import shutil

    example = Path(__file__).resolve().parents[2] / "examples" / "east-china-2026"
    data = tmp_path / "data"
    shutil.copytree(example / "data", data)
    (data / "deals.csv").write_bytes(b"")
    plan = kpidsl.load(example / "plan.kpi")
    for engine in ("reference", "columnar"):
        found = plan.evaluate(data, "2026-Q3", engine=engine).data_diagnostics
        about_deals = [(d.code, d.message) for d in found if d.span.file == "data/deals.csv"]
        assert about_deals and all(code != codes.MISSING_FILE for code, _ in about_deals), (engine, about_deals)
    (data / "deals.csv").unlink()  # and a file that is not there is still missing
    found = plan.evaluate(data, "2026-Q3", engine="reference").data_diagnostics
    assert codes.MISSING_FILE in {d.code for d in found}
