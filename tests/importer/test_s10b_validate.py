"""`kpidsl validate`: every problem with its column and value, notes and help kept, a
ragged deal row's key remembered (KPI0722 names the rejected row), on both engines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from linked_deal_plan import PAYEES, PLAN  # tests/ is on the path: its modules have no package

from kpidsl.cli import main

# D2 has one cell too many (KPI0705); D3 a bad amount (KPI0710)
DEALS = ("id,payee,amount,stage,signed_on,product\nD1,ann,4000,won,2026-07-10,X\n"
         "D2,ann,9000,won,2026-07-11,Y,extra\nD3,ann,25x0,won,2026-08-01,X\n")
COLLECTIONS = ("id,deal,payee,amount,received_on\nC1,D1,ann,1000,2026-08-02\n"
               "C2,D2,ann,5000,2026-08-03\nC3,D3,ann,700,2026-09-02\nC4,D9,ann,10,2026-09-03\n")


def _folder(tmp_path: Path, deals: str = DEALS, collections: str = COLLECTIONS) -> tuple[Path, Path]:
    data = tmp_path / "data"
    data.mkdir()
    (data / "payees.csv").write_text(PAYEES, encoding="utf-8")
    (data / "deals.csv").write_text(deals, encoding="utf-8")
    (data / "collections.csv").write_text(collections, encoding="utf-8")
    plan = tmp_path / "plan.kpi"
    plan.write_text(PLAN, encoding="utf-8")
    return data, plan


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, object]]:
    code = main(["validate", *args, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def _problems(report: dict[str, object]) -> list[dict[str, object]]:
    problems = report["problems"]
    assert isinstance(problems, list)
    return problems


ENGINES = ["reference", pytest.param("columnar", marks=pytest.mark.skipif(
    not __import__("importlib").util.find_spec("duckdb"), reason="needs duckdb"))]


@pytest.mark.parametrize("engine", ENGINES)
def test_json_names_the_column_and_value_of_every_cell_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], engine: str
) -> None:
    data, plan = _folder(tmp_path)
    code, report = _json(capsys, "--data", str(data), "--plan", str(plan), "--engine", engine)
    assert code == 1
    got = {(p["code"], p["line"], p["column"], p["value"]) for p in _problems(report)}
    assert got == {
        ("KPI0722", 3, "deal", "D2"), ("KPI0722", 4, "deal", "D3"), ("KPI0722", 5, "deal", "D9"),
        ("KPI0705", 3, "", ""),  # a row, not a cell
        ("KPI0710", 4, "amount", "25x0"),
    }


def test_json_column_and_value_for_payee_and_duplicate_and_empty_cells(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deals = ("id,payee,amount,stage,signed_on,product\nD1,ann,4000,won,2026-07-10,X\n"
             "D1,ann,5,won,2026-07-10,X\nD4,zoe,5,won,2026-07-10,X\nD5,ann,,won,2026-07-10,X\n")
    data, plan = _folder(tmp_path, deals, "id,deal,payee,amount,received_on\n")
    _, report = _json(capsys, "--data", str(data), "--plan", str(plan))
    got = {(p["code"], p["line"], p["column"], p["value"]) for p in _problems(report)}
    assert got == {("KPI0720", 3, "id", "D1"), ("KPI0721", 4, "payee", "zoe"),
                   ("KPI0711", 5, "amount", "")}


def test_json_without_a_plan_names_column_and_value_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, _ = _folder(tmp_path)
    code, report = _json(capsys, "--data", str(data))
    assert code == 1
    got = {(p["code"], p["line"], p["column"], p["value"]) for p in _problems(report)}
    assert ("KPI0710", 4, "amount", "25x0") in got
    assert ("KPI0722", 5, "deal", "D9") in got


def test_text_output_prints_notes_and_help(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """KPI0722 for references to a deals file that could not be read: one diagnostic whose
    note lists every row; validate printed the one line and lost the rows."""
    data, plan = _folder(tmp_path, DEALS.replace("amount", "amout"))
    assert main(["validate", "--data", str(data), "--plan", str(plan)]) == 1
    out = capsys.readouterr().out
    assert "  = note: the rows: data/collections.csv lines 2-5" in out
    assert "  = help: mend data/deals.csv (its error says what is wrong) and run again" in out
    _, report = _json(capsys, "--data", str(data), "--plan", str(plan))
    [p] = [p for p in _problems(report) if p["code"] == "KPI0722"]
    notes = p["notes"]
    assert isinstance(notes, list) and notes[0] == "the rows: data/collections.csv lines 2-5"
    assert p["help"] == "mend data/deals.csv (its error says what is wrong) and run again"


def test_text_output_prints_related_places(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    payees = "id,name,role,region,manager\nann,Ann,AE,east,bob\nbob,Bob,AE,east,ann\n"
    data, plan = _folder(tmp_path, "id,payee,amount,stage,signed_on,product\n",
                         "id,deal,payee,amount,received_on\n")
    (data / "payees.csv").write_text(payees, encoding="utf-8")
    assert main(["validate", "--data", str(data), "--plan", str(plan)]) == 1
    out = capsys.readouterr().out
    assert "  = data/payees.csv:3:5: bob's manager is ann" in out


@pytest.mark.parametrize("engine", ENGINES)
def test_a_reference_to_a_ragged_deal_row_names_that_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], engine: str
) -> None:
    data, plan = _folder(tmp_path)
    _, report = _json(capsys, "--data", str(data), "--plan", str(plan), "--engine", engine)
    by_line = {p["line"]: p["message"] for p in _problems(report) if p["code"] == "KPI0722"}
    assert by_line[3] == ("collection 'C2' in data/collections.csv line 3, column deal refers to "
                          "deal 'D2': that deal was rejected (data/deals.csv line 3)")
    assert str(by_line[4]).endswith("that deal was rejected (data/deals.csv line 4)")
    assert str(by_line[5]).endswith("no deal has this key")


@pytest.mark.parametrize("engine", ENGINES)
def test_without_a_plan_a_reference_to_a_rejected_deal_names_its_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], engine: str
) -> None:
    data, _ = _folder(tmp_path)
    _, report = _json(capsys, "--data", str(data), "--engine", engine)
    by_line = {p["line"]: p["message"] for p in _problems(report) if p["code"] == "KPI0722"}
    assert by_line == {
        3: "deal 'D2' is not in deals: its row was rejected (data/deals.csv line 3)",
        4: "deal 'D3' is not in deals: its row was rejected (data/deals.csv line 4)",
        5: "deal 'D9' is not in deals",
    }


@pytest.mark.parametrize("engine", ENGINES)
def test_bad_deals_without_ragged_rows_agree_on_both_engines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], engine: str
) -> None:
    """No ragged row: the columnar engine checks the file itself and words only the
    flagged rows; the report is the reference's."""
    data, plan = _folder(tmp_path, DEALS.replace(",extra", ""))
    reports = []
    for e in ("reference", engine):
        reports.append(_json(capsys, "--data", str(data), "--plan", str(plan), "--engine", e))
        reports.append(_json(capsys, "--data", str(data), "--engine", e))
    assert reports[0] == reports[2] and reports[1] == reports[3]
    messages = [p["message"] for p in _problems(reports[0][1]) if p["code"] == "KPI0722"]
    assert any(str(m).endswith("that deal was rejected (data/deals.csv line 4)") for m in messages)


@pytest.mark.parametrize("plan", [True, False], ids=["plan", "generic"])
def test_a_file_that_could_not_be_read_is_listed_not_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], plan: bool
) -> None:
    data, plan_file = _folder(tmp_path)
    (data / "deals.csv").write_bytes(b"id,payee,amount\nD1,ann,4\xff\xfe\x00\n")  # neither UTF-8 nor GB18030
    args = ["--data", str(data), *(["--plan", str(plan_file)] if plan else [])]
    assert main(["validate", *args]) == 1
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("data/deals.csv"))
    assert line.split()[1:4] == ["-", "-", "-"] and "not read (KPI0701: data/deals.csv is not UTF-8" in line
    code, report = _json(capsys, *args)
    assert code == 1
    files = report["files"]
    assert isinstance(files, list) and "data/deals.csv" not in {f["source"] for f in files}
    assert report["not_read"] == [{"source": "data/deals.csv", "reason": (
        "KPI0701: data/deals.csv is not UTF-8 text (byte 0xff at byte offset 24, line 2) nor "
        "GB18030; save it as UTF-8")}]


@pytest.mark.parametrize("plan", [True, False], ids=["plan", "generic"])
def test_the_malformed_record_that_stopped_a_read_counts_as_read_and_rejected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], plan: bool
) -> None:
    """As `kpidsl import` counts it: read = accepted + rejected holds with the row in it."""
    deals = ("id,payee,amount,stage,signed_on,product\nD1,ann,4000,won,2026-07-10,X\n"
             'D2,ann,"9000,won,2026-07-11,Y\nD3,ann,250,won,2026-08-01,X\n')
    data, plan_file = _folder(tmp_path, deals)
    args = ["--data", str(data), *(["--plan", str(plan_file)] if plan else [])]
    _, report = _json(capsys, *args)
    files = report["files"]
    assert isinstance(files, list)
    assert {"source": "data/deals.csv", "rows_read": 2, "rows_accepted": 1, "rows_rejected": 1} in files
    [p] = [p for p in _problems(report) if p["code"] == "KPI0713"]
    assert p["row_rejected"] is True and p["line"] == 3
