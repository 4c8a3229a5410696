"""Data folders against a plan: missing, misnamed and unread files; missing payees; case slips."""

from __future__ import annotations

from pathlib import Path

import attrs
from datahelp import PAYEES, bind_texts, codes_of, make_model, only

from kpidsl import ast
from kpidsl.data import codes
from kpidsl.data.bind import bind_result
from kpidsl.data.csvread import read_folder

DEAL_HEADER = "id,payee,amount,stage,signed_on,customer,product,new_customer\n"
ACTIVITIES = "id,payee,minutes,happened_on,deal\n"


def folder(tmp_path: Path, **files: str) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    for name, text in files.items():
        (path / name.replace("_csv", ".csv")).write_text(text, encoding="utf-8")
    return path


def test_a_missing_fact_file_the_plan_reads_is_an_error(tmp_path: Path) -> None:
    tables, _ = read_folder(folder(tmp_path, payees_csv=PAYEES, activities_csv=ACTIVITIES))
    result = bind_result(make_model(), tables)
    err = only(result.diagnostics, codes.MISSING_FILE)
    assert err.severity == "error" and err.span.file == "data/deals.csv"
    assert err.message == (
        "data/deals.csv is missing: the plan's metrics read deal facts; "
        "if there are none, give the file with its header line only"
    )


def test_a_header_only_file_declares_no_facts(tmp_path: Path) -> None:
    files = {"payees_csv": PAYEES, "deals_csv": DEAL_HEADER, "activities_csv": ACTIVITIES}
    tables, diags = read_folder(folder(tmp_path, **files))
    assert diags == [] and bind_result(make_model(), tables).diagnostics == ()


def test_tables_from_python_or_tests_may_leave_fact_tables_out() -> None:
    assert bind_texts({}).diagnostics == ()


def test_a_file_differing_only_in_case_is_an_error_with_a_did_you_mean(tmp_path: Path) -> None:
    row = "D1,alice,10,won,2026-07-01,,,no\n"
    files = {"payees_csv": PAYEES, "Deals_csv": DEAL_HEADER + row, "activities_csv": ACTIVITIES}
    tables, _ = read_folder(folder(tmp_path, **files))
    result = bind_result(make_model(), tables)
    err = only(result.diagnostics, codes.MISNAMED_FILE)
    assert err.severity == "error" and "did you mean deals.csv?" in err.message
    assert codes.MISSING_FILE not in codes_of(result.diagnostics)
    assert codes.UNUSED_TABLE not in codes_of(result.diagnostics)
    assert result.dataset.facts["deal"] == ()


def test_a_missing_payees_file_is_one_error_not_one_per_row(tmp_path: Path) -> None:
    rows = "D1,alice,10,won,2026-07-01,,,no\nD2,bob,10,won,2026-07-01,,,no\n"
    tables, _ = read_folder(folder(tmp_path, deals_csv=DEAL_HEADER + rows, activities_csv=ACTIVITIES))
    result = bind_result(make_model(), tables)
    assert codes_of(result.diagnostics) == [codes.MISSING_FILE]
    err = result.diagnostics[0]
    assert err.severity == "error" and err.message.startswith("data/payees.csv is missing: 2 row(s)")
    assert err.secondary[0].message.startswith("data/deals.csv:2:2:")
    assert result.dataset.facts["deal"] == ()  # still rejected: nothing is paid


def test_references_to_a_kind_without_a_table_are_summarized_once() -> None:
    rows = "A1,alice,5,2026-07-01,D1\nA2,bob,5,2026-07-01,D2\n"
    result = bind_texts({"activities": ACTIVITIES + rows})
    diag = only(result.diagnostics, codes.DANGLING_REFERENCE)
    assert diag.severity == "warning"
    assert diag.message.startswith("2 activity row(s) refer to deal facts through column deal")


def test_an_input_name_when_the_plan_declares_none() -> None:
    model = make_model()
    base = {k: v for k, v in model.base.items() if not isinstance(v, ast.InputDecl)}
    text = "payee,name,period,value\nalice,collab,2026-Q3,50%\n"
    result = bind_texts({"inputs": text}, attrs.evolve(model, base=base))
    assert only(result.diagnostics, codes.UNKNOWN_INPUT).message.endswith(
        "column name: the plan declares no inputs"
    )


def _stage_model() -> ast.Definition:
    stage = ast.Field("deal", ("stage",))
    won = ast.Binary("==", stage, ast.String("won"))
    amount = ast.Field("deal", ("amount",))
    return ast.Metric("won", "money", ast.Aggregate("sum", "deal", amount, where=won))


def test_a_text_value_differing_only_in_case_from_a_compared_literal_warns() -> None:
    model = make_model()
    model = attrs.evolve(model, base={**model.base, "won": _stage_model()})
    rows = "D7,alice,10,Won,2026-07-01,,,no\nD8,bob,10,won,2026-07-01,,,no\nD9,bob,1,lost,2026-07-01,,,no\n"
    result = bind_texts({"deals": DEAL_HEADER + rows}, model)
    warn = only(result.diagnostics, codes.CASE_MISMATCH)
    assert warn.severity == "warning" and warn.span.line == 2
    assert warn.message.startswith("deal D7 stage 'Won' is not 'won': values are compared exactly")


def test_the_overlay_note_only_when_a_fact_has_only_overlay_rows() -> None:
    deals = DEAL_HEADER + "D1,alice,100,won,2026-07-10,c,p,no\n"
    header = "kind,fact,payee,share,type\n"
    split = header + "deal,D1,alice,60%,split\ndeal,D1,bob,39.99%,split\n"
    result = bind_texts({"deals": deals, "credits": split})
    errs = [d for d in result.diagnostics if d.code == codes.SPLIT_NOT_100]
    assert len(errs) == 2 and all(e.notes == () for e in errs)
    assert errs[0].secondary[0].message == "data/credits.csv:3:4: split 39.99% for bob"
    overlay = header + "deal,D1,bob,50%,overlay\n"
    err = only(bind_texts({"deals": deals, "credits": overlay}).diagnostics, codes.SPLIT_NOT_100)
    assert "has only overlay rows" in err.notes[0]
